//! The normalising front-end every SIP message passes before rsip sees it.
//!
//! rsip 0.4 fails a whole message on folded header lines, compact header names, bare-LF
//! line ends and unknown methods, and it never checks `Content-Length`. This module
//! splits the head itself, unfolds and expands it, frames the body by `Content-Length`,
//! checks the headers a transaction cannot live without, and only then hands rsip a
//! canonical message to tokenize. A request it rejects keeps enough of its head
//! ([`RawHead`]) for the caller to answer it with the right status instead of silence.

use std::borrow::Cow;

use rsip::headers::UntypedHeader;
use rsip::{Header, Headers, Method, StatusCode};

use crate::header::{BadHeader, CSeq, NameAddr, Via};

/// Largest message accepted on any transport; a datagram or frame past it is refused.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A request or response the front-end accepted.
pub type Message = rsip::SipMessage;

/// Why a message was refused, and how to answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a SIP message we can read at all (binary garbage, no start line): drop it.
    #[error("unreadable message: {0}")]
    Unreadable(&'static str),
    /// A request whose head was readable but wrong: answer 400 naming the problem.
    #[error("bad request: {reason}")]
    BadRequest { reason: String, head: RawHead },
    /// A method this server does not know (RFC 3261 §8.2.1): answer 501.
    #[error("unknown method {method}")]
    UnknownMethod { method: String, head: RawHead },
    /// Anything other than SIP/2.0 (RFC 3261 §8.2.1): answer 505.
    #[error("unsupported version {version}")]
    VersionNotSupported { version: String, head: RawHead },
    /// A malformed response: nobody to answer, drop it.
    #[error("bad response: {0}")]
    BadResponse(String),
}

impl ParseError {
    /// The stateless answer this error deserves, when the request can be answered at all.
    pub fn reply(&self) -> Option<Vec<u8>> {
        let (code, reason, head) = match self {
            ParseError::BadRequest { reason, head } => (400, reason.clone(), head),
            ParseError::UnknownMethod { head, .. } => (501, "Not Implemented".into(), head),
            ParseError::VersionNotSupported { head, .. } => {
                (505, "Version Not Supported".into(), head)
            }
            ParseError::Unreadable(_) | ParseError::BadResponse(_) => return None,
        };
        head.reply(code, &reason)
    }
}

/// The unfolded, expanded head of a message: start line and `(name, value)` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHead {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
}

impl RawHead {
    fn get(&self, name: &str) -> Option<&str> {
        lookup(&self.headers, name)
    }

    /// A response copying the headers that identify the transaction (RFC 3261 §8.2.6),
    /// those of them that are present; `None` without a Via (nothing could route the
    /// answer) or for an ACK, which is never answered.
    pub fn reply(&self, code: u16, reason: &str) -> Option<Vec<u8>> {
        if self.start_line.starts_with("ACK ") {
            return None;
        }
        let mut out = format!("SIP/2.0 {code} {}\r\n", sanitize_reason(reason));
        let mut has_via = false;
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("Via") {
                has_via = true;
                out.push_str(&format!("Via: {value}\r\n"));
            }
        }
        if !has_via {
            return None;
        }
        for name in ["From", "To", "Call-ID", "CSeq"] {
            let Some(value) = self.get(name) else {
                continue;
            };
            let tag = if name == "To" && !value.contains("tag=") {
                ";tag=sb-err"
            } else {
                ""
            };
            out.push_str(&format!("{name}: {value}{tag}\r\n"));
        }
        out.push_str("Content-Length: 0\r\n\r\n");
        Some(out.into_bytes())
    }
}

/// The head as [`read_head`] finds it, borrowed from the message: a value is copied
/// only when folded lines had to be joined. Owned ([`RawHead`]) only for an error.
struct Head<'a> {
    start_line: &'a str,
    headers: Vec<(&'a str, Cow<'a, str>)>,
}

impl Head<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        lookup(&self.headers, name)
    }

    fn to_raw(&self) -> RawHead {
        RawHead {
            start_line: self.start_line.to_string(),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// The first value of the named header among `(name, value)` pairs.
fn lookup<'h>(headers: &'h [(impl AsRef<str>, impl AsRef<str>)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

fn sanitize_reason(reason: &str) -> String {
    reason
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect()
}

/// RFC 3261 §7.3.3 and the registries since: compact forms and their full names.
fn expand_compact(name: &str) -> &str {
    if name.len() != 1 {
        return name;
    }
    match name.to_ascii_lowercase().as_str() {
        "a" => "Accept-Contact",
        "b" => "Referred-By",
        "c" => "Content-Type",
        "d" => "Request-Disposition",
        "e" => "Content-Encoding",
        "f" => "From",
        "i" => "Call-ID",
        "j" => "Reject-Contact",
        "k" => "Supported",
        "l" => "Content-Length",
        "m" => "Contact",
        "o" => "Event",
        "r" => "Refer-To",
        "s" => "Subject",
        "t" => "To",
        "u" => "Allow-Events",
        "v" => "Via",
        "x" => "Session-Expires",
        "y" => "Identity",
        _ => name,
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Splits bytes into head text and body at the first empty line.
fn split_head(bytes: &[u8]) -> Result<(&str, &[u8]), ParseError> {
    let (head_end, body_start) = match find(bytes, b"\r\n\r\n") {
        Some(i) => (i, i + 4),
        None => match find(bytes, b"\n\n") {
            Some(i) => (i, i + 2),
            // A datagram may end right after its last header without the empty line.
            None => (bytes.len(), bytes.len()),
        },
    };
    let head = std::str::from_utf8(&bytes[..head_end])
        .map_err(|_| ParseError::Unreadable("head is not UTF-8"))?;
    Ok((head, &bytes[body_start..]))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn read_head(head: &str) -> Result<Head<'_>, ParseError> {
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start_line = lines
        .by_ref()
        .find(|l| !l.trim().is_empty())
        .ok_or(ParseError::Unreadable("empty message"))?
        .trim();
    if start_line.bytes().any(|b| b.is_ascii_control()) {
        return Err(ParseError::Unreadable("control characters in start line"));
    }
    let mut headers: Vec<(&str, Cow<str>)> = Vec::with_capacity(16);
    let mut broken: Option<String> = None;
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // RFC 3261 §7.3.1: a folded line continues the previous header value.
            match headers.last_mut() {
                Some((_, value)) => {
                    let value = value.to_mut();
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => {
                    broken.get_or_insert_with(|| "Folded line before any header".into());
                }
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if is_token(name.trim()) => {
                headers.push((expand_compact(name.trim()), Cow::Borrowed(value.trim())));
            }
            _ => {
                broken.get_or_insert_with(|| "Malformed header line".into());
            }
        }
    }
    let head = Head {
        start_line,
        headers,
    };
    match broken {
        Some(reason) if !head.start_line.starts_with("SIP/") => Err(ParseError::BadRequest {
            reason,
            head: head.to_raw(),
        }),
        Some(reason) => Err(ParseError::BadResponse(reason)),
        None => Ok(head),
    }
}

/// Parses one SIP message from a datagram or a frame cut by [`crate::framing`].
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(ParseError::Unreadable("message too large"));
    }
    let (head_text, body) = split_head(bytes)?;
    let head = read_head(head_text)?;
    let is_request = !head.start_line.starts_with("SIP/");
    let fail = |reason: String, head: &Head| {
        if is_request {
            ParseError::BadRequest {
                reason,
                head: head.to_raw(),
            }
        } else {
            ParseError::BadResponse(reason)
        }
    };

    if is_request {
        check_request_line(&head)?;
    } else if !head.start_line.starts_with("SIP/2.0 ") {
        return Err(ParseError::BadResponse("unsupported version".into()));
    }

    let body = match head.get("Content-Length") {
        Some(v) => {
            let len: usize = v
                .trim()
                .parse()
                .map_err(|_| fail("Malformed Content-Length header".into(), &head))?;
            if len > body.len() {
                return Err(fail(
                    "Content-Length exceeds the body received".into(),
                    &head,
                ));
            }
            &body[..len]
        }
        None => body,
    };

    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if head.get(name).is_none_or(|v| v.is_empty()) {
            return Err(fail(format!("Missing {name} header"), &head));
        }
    }
    check_typed_headers(&head).map_err(|e| fail(capitalized(&e), &head))?;

    let mut canonical = Vec::with_capacity(head_text.len() + body.len() + 64);
    canonical.extend_from_slice(head.start_line.as_bytes());
    canonical.extend_from_slice(b"\r\n");
    for (name, value) in &head.headers {
        canonical.extend_from_slice(name.as_bytes());
        canonical.extend_from_slice(b": ");
        canonical.extend_from_slice(value.as_bytes());
        canonical.extend_from_slice(b"\r\n");
    }
    canonical.extend_from_slice(b"\r\n");
    canonical.extend_from_slice(body);
    // The start line already told which it is. Asking rsip for the right type directly
    // spares it a failed attempt whose error message copies the whole datagram.
    let message = if is_request {
        rsip::Request::try_from(canonical.as_slice()).map(Message::Request)
    } else {
        rsip::Response::try_from(canonical.as_slice()).map(Message::Response)
    }
    .map_err(|_| fail("Malformed Request-URI".into(), &head))?;

    if let Message::Request(request) = &message {
        let cseq = CSeq::parse(head.get("CSeq").unwrap_or_default())
            .map_err(|e| fail(capitalized(&e), &head))?;
        if !cseq
            .method
            .eq_ignore_ascii_case(method_name(request.method))
        {
            return Err(fail("CSeq method does not match the request".into(), &head));
        }
    }
    Ok(message)
}

/// Every method rsip knows, by its name on the wire.
const METHODS: [(Method, &str); 14] = [
    (Method::Ack, "ACK"),
    (Method::Bye, "BYE"),
    (Method::Cancel, "CANCEL"),
    (Method::Info, "INFO"),
    (Method::Invite, "INVITE"),
    (Method::Message, "MESSAGE"),
    (Method::Notify, "NOTIFY"),
    (Method::Options, "OPTIONS"),
    (Method::PRack, "PRACK"),
    (Method::Publish, "PUBLISH"),
    (Method::Refer, "REFER"),
    (Method::Register, "REGISTER"),
    (Method::Subscribe, "SUBSCRIBE"),
    (Method::Update, "UPDATE"),
];

/// A method's name on the wire. rsip's `Display` builds a new upper-cased `String`
/// each time, and every message asks several times.
pub fn method_name(method: Method) -> &'static str {
    METHODS
        .iter()
        .find(|(m, _)| *m == method)
        .map_or("", |(_, name)| name)
}

/// The method a request line names (methods are case-sensitive, RFC 3261 §7.1).
fn method_named(name: &str) -> Option<Method> {
    METHODS.iter().find(|(_, n)| *n == name).map(|(m, _)| *m)
}

fn capitalized(e: &BadHeader) -> String {
    format!("Malformed {} header", e.header)
}

fn check_request_line(head: &Head) -> Result<(), ParseError> {
    let mut parts = head.start_line.split(' ');
    let (method, uri, version) = (parts.next(), parts.next(), parts.next());
    let bad = |reason: &str| ParseError::BadRequest {
        reason: reason.into(),
        head: head.to_raw(),
    };
    let (Some(method), Some(uri), Some(version)) = (method, uri, version) else {
        return Err(bad("Malformed request line"));
    };
    if parts.next().is_some() || !is_token(method) || uri.is_empty() {
        return Err(bad("Malformed request line"));
    }
    if version != "SIP/2.0" {
        return Err(ParseError::VersionNotSupported {
            version: version.into(),
            head: head.to_raw(),
        });
    }
    // rsip 0.4 can neither parse nor print an IPv6 reference as a URI host; until the
    // Request-URI has a type of ours, say so plainly. IPv6 in Via and Contact works.
    if uri.contains('[') {
        return Err(bad("IPv6 Request-URI not supported"));
    }
    if method_named(method).is_none() {
        return Err(ParseError::UnknownMethod {
            method: method.into(),
            head: head.to_raw(),
        });
    }
    Ok(())
}

fn check_typed_headers(head: &Head) -> Result<(), BadHeader> {
    for (name, value) in &head.headers {
        if name.eq_ignore_ascii_case("Via") {
            for via in crate::header::split_list(value) {
                Via::parse(via)?;
            }
        }
    }
    NameAddr::parse(head.get("From").unwrap_or_default(), "From")?;
    NameAddr::parse(head.get("To").unwrap_or_default(), "To")?;
    CSeq::parse(head.get("CSeq").unwrap_or_default())?;
    Ok(())
}

/// The value of an rsip header as the front-end stored it, with its full name. Every
/// variant is listed so that no header is silently invisible to lookups.
fn name_and_value(header: &Header) -> (&str, &str) {
    match header {
        Header::Accept(h) => ("Accept", h.value()),
        Header::AcceptEncoding(h) => ("Accept-Encoding", h.value()),
        Header::AcceptLanguage(h) => ("Accept-Language", h.value()),
        Header::AlertInfo(h) => ("Alert-Info", h.value()),
        Header::Allow(h) => ("Allow", h.value()),
        Header::AuthenticationInfo(h) => ("Authentication-Info", h.value()),
        Header::Authorization(h) => ("Authorization", h.value()),
        Header::CSeq(h) => ("CSeq", h.value()),
        Header::CallId(h) => ("Call-ID", h.value()),
        Header::CallInfo(h) => ("Call-Info", h.value()),
        Header::Contact(h) => ("Contact", h.value()),
        Header::ContentDisposition(h) => ("Content-Disposition", h.value()),
        Header::ContentEncoding(h) => ("Content-Encoding", h.value()),
        Header::ContentLanguage(h) => ("Content-Language", h.value()),
        Header::ContentLength(h) => ("Content-Length", h.value()),
        Header::ContentType(h) => ("Content-Type", h.value()),
        Header::Date(h) => ("Date", h.value()),
        Header::ErrorInfo(h) => ("Error-Info", h.value()),
        Header::Event(h) => ("Event", h.value()),
        Header::Expires(h) => ("Expires", h.value()),
        Header::From(h) => ("From", h.value()),
        Header::InReplyTo(h) => ("In-Reply-To", h.value()),
        Header::MaxForwards(h) => ("Max-Forwards", h.value()),
        Header::MimeVersion(h) => ("MIME-Version", h.value()),
        Header::MinExpires(h) => ("Min-Expires", h.value()),
        Header::Organization(h) => ("Organization", h.value()),
        Header::Priority(h) => ("Priority", h.value()),
        Header::ProxyAuthenticate(h) => ("Proxy-Authenticate", h.value()),
        Header::ProxyAuthorization(h) => ("Proxy-Authorization", h.value()),
        Header::ProxyRequire(h) => ("Proxy-Require", h.value()),
        Header::RecordRoute(h) => ("Record-Route", h.value()),
        Header::ReplyTo(h) => ("Reply-To", h.value()),
        Header::Require(h) => ("Require", h.value()),
        Header::RetryAfter(h) => ("Retry-After", h.value()),
        Header::Route(h) => ("Route", h.value()),
        Header::Server(h) => ("Server", h.value()),
        Header::Subject(h) => ("Subject", h.value()),
        Header::SubscriptionState(h) => ("Subscription-State", h.value()),
        Header::Supported(h) => ("Supported", h.value()),
        Header::Timestamp(h) => ("Timestamp", h.value()),
        Header::To(h) => ("To", h.value()),
        Header::Unsupported(h) => ("Unsupported", h.value()),
        Header::UserAgent(h) => ("User-Agent", h.value()),
        Header::Via(h) => ("Via", h.value()),
        Header::Warning(h) => ("Warning", h.value()),
        Header::WwwAuthenticate(h) => ("WWW-Authenticate", h.value()),
        Header::Other(name, value) => (name.as_str(), value.as_str()),
    }
}

/// Every value of the named header, in message order.
pub fn header_values<'a>(headers: &'a Headers, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers.iter().filter_map(move |h| {
        let (n, v) = name_and_value(h);
        n.eq_ignore_ascii_case(name).then_some(v)
    })
}

/// The first value of the named header.
pub fn header_value<'a>(headers: &'a Headers, name: &'a str) -> Option<&'a str> {
    header_values(headers, name).next()
}

/// Every `Via` element in order, across header lines and comma lists. The front-end
/// checked them all, so this cannot fail on an accepted message.
pub fn vias(headers: &Headers) -> Vec<Via> {
    header_values(headers, "Via")
        .flat_map(crate::header::split_list)
        .filter_map(|v| Via::parse(v).ok())
        .collect()
}

/// The top `Via`, which every accepted message has.
pub fn top_via(headers: &Headers) -> Option<Via> {
    header_values(headers, "Via")
        .flat_map(crate::header::split_list)
        .next()
        .and_then(|v| Via::parse(v).ok())
}

/// A response to `request` (RFC 3261 §8.2.6): its Vias, From, To, Call-ID and CSeq,
/// with `to_tag` added to To when the request had none; one that makes a dialog of an
/// INVITE (101–299) carries its Record-Route too (§12.1.1).
pub fn response_to(
    request: &rsip::Request,
    code: u16,
    reason: &str,
    to_tag: &str,
) -> rsip::Response {
    let mut headers = Headers::default();
    let makes_dialog = request.method == Method::Invite && (101..300).contains(&code);
    for h in request.headers.iter() {
        match h {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                headers.push(h.clone())
            }
            h if makes_dialog && name_and_value(h).0.eq_ignore_ascii_case("Record-Route") => {
                headers.push(h.clone())
            }
            Header::To(to) if !to.value().contains("tag=") => headers.push(Header::To(
                rsip::headers::To::new(format!("{};tag={to_tag}", to.value())),
            )),
            Header::To(_) => headers.push(h.clone()),
            _ => {}
        }
    }
    rsip::Response {
        status_code: StatusCode::Other(code, sanitize_reason(reason)),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}

/// Serialises a message with a correct `Content-Length`, the body byte for byte.
pub fn to_bytes(message: &Message) -> Vec<u8> {
    match message {
        Message::Request(r) => request_bytes(r),
        Message::Response(r) => response_bytes(r),
    }
}

/// [`to_bytes`] for a request one keeps: no copy of it is made first.
pub fn request_bytes(r: &rsip::Request) -> Vec<u8> {
    let start = format_args!("{} {} {}", method_name(r.method), r.uri, r.version);
    write_message(start, &r.headers, &r.body)
}

/// [`to_bytes`] for a response one keeps: no copy of it is made first.
pub fn response_bytes(r: &rsip::Response) -> Vec<u8> {
    let start = format_args!("{} {}", r.version, r.status_code);
    write_message(start, &r.headers, &r.body)
}

fn write_message(start: std::fmt::Arguments, headers: &Headers, body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(512 + body.len());
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{start}\r\n");
    // Names and values are copied as they are: formatting each header through
    // `Display` was a good part of the cost of every response.
    for h in headers.iter() {
        if !matches!(h, Header::ContentLength(_)) {
            let (name, value) = name_and_value(h);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = "REGISTER sip:192.0.2.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK776;rport\r\n\
        From: <sip:100@192.0.2.1>;tag=a1\r\n\
        To: <sip:100@192.0.2.1>\r\n\
        Call-ID: c1@192.0.2.9\r\n\
        CSeq: 1 REGISTER\r\n\
        Contact: <sip:100@192.0.2.9:5070>\r\n\
        Content-Length: 0\r\n\r\n";

    fn request(text: &str) -> rsip::Request {
        match parse(text.as_bytes()).expect("parses") {
            Message::Request(r) => r,
            Message::Response(_) => panic!("request expected"),
        }
    }

    fn bad_reason(text: &str) -> String {
        match parse(text.as_bytes()) {
            Err(ParseError::BadRequest { reason, .. }) => reason,
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn plain_register() {
        let r = request(REGISTER);
        assert_eq!(r.method, Method::Register);
        assert_eq!(header_value(&r.headers, "call-id"), Some("c1@192.0.2.9"));
    }

    #[test]
    fn compact_header_names_are_expanded() {
        let text = REGISTER
            .replace("Via:", "v:")
            .replace("From:", "f:")
            .replace("To:", "t:")
            .replace("Call-ID:", "i:")
            .replace("Contact:", "m:")
            .replace("Content-Length:", "l:");
        let r = request(&text);
        assert_eq!(top_via(&r.headers).unwrap().branch(), Some("z9hG4bK776"));
        assert_eq!(
            header_value(&r.headers, "Contact"),
            Some("<sip:100@192.0.2.9:5070>")
        );
    }

    #[test]
    fn folded_lines_are_unfolded() {
        let text = REGISTER.replace(
            "From: <sip:100@192.0.2.1>;tag=a1",
            "From:\r\n  <sip:100@192.0.2.1>\r\n\t;tag=a1",
        );
        let r = request(&text);
        assert_eq!(
            header_value(&r.headers, "From"),
            Some("<sip:100@192.0.2.1> ;tag=a1")
        );
        assert_eq!(
            NameAddr::parse(header_value(&r.headers, "From").unwrap(), "From")
                .unwrap()
                .tag(),
            Some("a1")
        );
    }

    #[test]
    fn bare_line_feeds_are_accepted() {
        let r = request(&REGISTER.replace("\r\n", "\n"));
        assert_eq!(r.method, Method::Register);
    }

    #[test]
    fn unknown_method_is_answered_501() {
        let text = REGISTER
            .replace("REGISTER sip", "FROBNICATE sip")
            .replace("1 REGISTER", "1 FROBNICATE");
        let err = parse(text.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ParseError::UnknownMethod { ref method, .. } if method == "FROBNICATE")
        );
        let reply = String::from_utf8(err.reply().unwrap()).unwrap();
        assert!(
            reply.starts_with("SIP/2.0 501 Not Implemented\r\n"),
            "{reply}"
        );
        assert!(reply.contains("To: <sip:100@192.0.2.1>;tag="));
        assert!(reply.contains("CSeq: 1 FROBNICATE\r\n"));
    }

    #[test]
    fn missing_and_broken_headers_are_named() {
        assert_eq!(
            bad_reason(&REGISTER.replace("Call-ID: c1@192.0.2.9\r\n", "")),
            "Missing Call-ID header"
        );
        assert_eq!(
            bad_reason(&REGISTER.replace("CSeq: 1 REGISTER", "CSeq: one REGISTER")),
            "Malformed CSeq header"
        );
        assert_eq!(
            bad_reason(&REGISTER.replace("SIP/2.0/UDP 192.0.2.9:5070", "SIP/2.0 192.0.2.9")),
            "Malformed Via header"
        );
        assert_eq!(
            bad_reason(&REGISTER.replace("CSeq: 1 REGISTER", "CSeq: 1 INVITE")),
            "CSeq method does not match the request"
        );
        assert_eq!(
            bad_reason(&REGISTER.replace("Content-Length: 0", "Content-Length: 40")),
            "Content-Length exceeds the body received"
        );
        assert_eq!(
            bad_reason(&REGISTER.replace("Content-Length: 0", "Content Length 0")),
            "Malformed header line"
        );
    }

    #[test]
    fn wrong_version_is_505() {
        let err = parse(REGISTER.replace(" SIP/2.0\r\n", " SIP/3.0\r\n").as_bytes()).unwrap_err();
        assert!(
            String::from_utf8(err.reply().unwrap())
                .unwrap()
                .starts_with("SIP/2.0 505 ")
        );
    }

    #[test]
    fn garbage_is_unreadable_and_gets_no_reply() {
        for junk in [&b"\xff\xfe\x00garbage"[..], b"", b"\r\n\r\n", b"hello"] {
            let err = parse(junk).unwrap_err();
            assert!(err.reply().is_none(), "{err:?}");
        }
    }

    #[test]
    fn tel_and_ipv6_contacts_pass_the_front_end() {
        let text = REGISTER
            .replace("From: <sip:100@192.0.2.1>", "From: <tel:+4812345>")
            .replace("<sip:100@192.0.2.9:5070>", "<sip:100@[2001:db8::5]:5070>")
            .replace("UDP 192.0.2.9:5070", "UDP [2001:db8::5]:5070");
        let r = request(&text);
        assert_eq!(top_via(&r.headers).unwrap().sent_by.host, "[2001:db8::5]");
    }

    #[test]
    fn ipv6_request_uri_is_refused_by_name() {
        let text = REGISTER.replace(
            "REGISTER sip:192.0.2.1 ",
            "REGISTER sip:[2001:db8::1]:5060 ",
        );
        assert_eq!(bad_reason(&text), "IPv6 Request-URI not supported");
    }

    #[test]
    fn body_is_cut_at_content_length() {
        let text = REGISTER.replace("Content-Length: 0", "Content-Length: 3") + "abcdef";
        assert_eq!(request(&text).body, b"abc");
    }

    #[test]
    fn bodies_are_written_byte_for_byte() {
        let text = REGISTER.replace("Content-Length: 0", "Content-Length: 3");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&[0xff, 0x00, 0x80]);
        let message = parse(&bytes).unwrap();
        let out = to_bytes(&message);
        assert!(out.ends_with(b"Content-Length: 3\r\n\r\n\xff\x00\x80"));
    }

    #[test]
    fn response_copies_dialog_headers_and_adds_to_tag() {
        let r = request(REGISTER);
        let resp = response_to(&r, 200, "OK", "t9");
        let text = String::from_utf8(to_bytes(&resp.into())).unwrap();
        assert!(text.starts_with("SIP/2.0 200 OK\r\n"));
        assert!(text.contains("To: <sip:100@192.0.2.1>;tag=t9\r\n"));
        assert!(text.contains("Content-Length: 0\r\n"));
    }
}
