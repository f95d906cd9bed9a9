//! Typed readings of the header values the registrar and transaction layer need.
//!
//! rsip 0.4 keeps every header as an untyped string, which is what we use it for. Its
//! typed layer fails on values that real phones send every day: a `Contact` carrying
//! `+sip.instance="<urn:uuid:…>"` (baresip, Linphone, PJSIP, Yealink), several contacts in
//! one header line, IPv6 `sent-by` in `Via`, and digest credentials with
//! `algorithm=SHA-256`. This module reads those values itself, with one tokenizer for
//! comma lists and `;param` lists that respects quoted strings and `<…>` brackets.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Splits a header value at top-level separators: not inside `"…"` or `<…>`.
fn split_top_level(value: &str, separator: u8) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut in_angle, mut escaped) = (false, false, false);
    let mut start = 0;
    // Bytes, not chars: every byte the split looks for is ASCII, and no byte of a
    // multi-byte UTF-8 sequence is, so the cut points stay on char boundaries.
    for (i, &b) in value.as_bytes().iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if in_quotes => escaped = true,
            b'"' => in_quotes = !in_quotes,
            b'<' if !in_quotes => in_angle = true,
            b'>' if !in_quotes => in_angle = false,
            b if b == separator && !in_quotes && !in_angle => {
                parts.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value[start..].trim());
    parts
}

/// Splits a comma-separated header value (`Via`, `Contact`) into its elements.
pub fn split_list(value: &str) -> Vec<&str> {
    split_top_level(value, b',')
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect()
}

/// `;name=value` parameters in the order they appeared; names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Option<String>)>);

impl Params {
    fn parse(text: &str) -> Self {
        Params(
            split_top_level(text, b';')
                .into_iter()
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
                    None => (p.to_string(), None),
                })
                .collect(),
        )
    }

    /// `Some(None)` for a flag parameter such as `;rport`, `Some(Some(v))` for `;name=v`.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    pub fn set(&mut self, name: &str, value: Option<String>) {
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.0 {
            match value {
                Some(v) => write!(f, ";{name}={v}")?,
                None => write!(f, ";{name}")?,
            }
        }
        Ok(())
    }
}

/// A header value that failed to read, named so a 400 can say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {header} header")]
pub struct BadHeader {
    pub header: &'static str,
}

/// Host and optional port, with IPv6 references in brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: Option<u16>,
}

impl HostPort {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (v6, after) = rest.split_once(']')?;
            v6.parse::<std::net::Ipv6Addr>().ok()?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse().ok()?),
                None if after.is_empty() => None,
                None => return None,
            };
            (format!("[{v6}]"), port)
        } else {
            match text.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
                None => (text.to_string(), None),
            }
        };
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.[]:_".contains(c));
        valid.then_some(HostPort { host, port })
    }

    /// The IP address, when the host is a literal rather than a name.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// One `Via` element: `SIP/2.0/UDP host:port;branch=…;rport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    pub transport: String,
    pub sent_by: HostPort,
    pub params: Params,
}

impl Via {
    pub fn parse(value: &str) -> Result<Self, BadHeader> {
        let bad = BadHeader { header: "Via" };
        let (protocol, rest) = value
            .trim()
            .split_once(char::is_whitespace)
            .ok_or(bad.clone())?;
        let mut parts = protocol.split('/');
        let (name, version, transport) = (parts.next(), parts.next(), parts.next());
        if !name.is_some_and(|n| n.eq_ignore_ascii_case("SIP"))
            || version != Some("2.0")
            || parts.next().is_some()
        {
            return Err(bad);
        }
        let transport = transport.filter(|t| !t.is_empty()).ok_or(bad.clone())?;
        let rest = rest.trim();
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (&rest[..i], Params::parse(&rest[i + 1..])),
            None => (rest, Params::default()),
        };
        Ok(Via {
            transport: transport.to_ascii_uppercase(),
            sent_by: HostPort::parse(sent_by).ok_or(bad)?,
            params,
        })
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// RFC 3581 and RFC 3261 §18.2.1: note where the request really came from, so the
    /// response finds its way back through NAT. Returns whether anything was added.
    pub fn stamp_source(&mut self, source: SocketAddr) -> bool {
        let rport = self.params.get("rport").is_some();
        if self.sent_by.ip() == Some(source.ip()) && !rport {
            return false;
        }
        self.params.set("received", Some(source.ip().to_string()));
        if rport {
            self.params.set("rport", Some(source.port().to_string()));
        }
        true
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SIP/2.0/{} {}{}",
            self.transport, self.sent_by, self.params
        )
    }
}

/// `"Display" <uri>;params` or a bare `uri;params` (From, To, Contact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: String,
    pub params: Params,
}

impl NameAddr {
    pub fn parse(value: &str, header: &'static str) -> Result<Self, BadHeader> {
        let bad = BadHeader { header };
        let value = value.trim();
        let (display, uri, params) = match find_unquoted(value, '<') {
            Some(open) => {
                let close = value[open..].find('>').ok_or(bad.clone())? + open;
                let display = value[..open].trim().trim_matches('"').trim();
                let rest = value[close + 1..].trim();
                let params = match rest.strip_prefix(';') {
                    Some(p) => Params::parse(p),
                    None if rest.is_empty() => Params::default(),
                    None => return Err(bad),
                };
                let display = (!display.is_empty()).then(|| display.to_string());
                (display, value[open + 1..close].trim(), params)
            }
            // addr-spec without brackets: its parameters belong to the header (RFC 3261 §20).
            None => match value.split_once(';') {
                Some((uri, p)) => (None, uri.trim(), Params::parse(p)),
                None => (None, value, Params::default()),
            },
        };
        if !is_plausible_uri(uri) {
            return Err(bad);
        }
        Ok(NameAddr {
            display,
            uri: uri.to_string(),
            params,
        })
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// The user part of a `sip:`/`sips:` URI, or the number of a `tel:` URI.
    pub fn user(&self) -> Option<&str> {
        uri_user(&self.uri)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "\"{d}\" ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

fn find_unquoted(value: &str, wanted: char) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            c if c == wanted && !in_quotes => return Some(i),
            _ => {}
        }
    }
    None
}

fn is_plausible_uri(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest
                    .chars()
                    .any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

/// The user part of a `sip:`/`sips:` URI, or the number of a `tel:` URI.
pub fn uri_user(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    if scheme.eq_ignore_ascii_case("tel") {
        return rest.split(';').next();
    }
    if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
        return None;
    }
    let (userinfo, _) = rest.split_once('@')?;
    userinfo.split([':', ';']).next().filter(|u| !u.is_empty())
}

/// One element of a `Contact` header: a binding address, or `*` to remove them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Wildcard,
    Address(NameAddr),
}

impl Contact {
    /// Reads every contact of one `Contact` header value.
    pub fn parse_list(value: &str) -> Result<Vec<Self>, BadHeader> {
        if value.trim() == "*" {
            return Ok(vec![Contact::Wildcard]);
        }
        split_list(value)
            .into_iter()
            .map(|c| NameAddr::parse(c, "Contact").map(Contact::Address))
            .collect()
    }
}

/// `CSeq: 42 REGISTER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: String,
}

impl CSeq {
    pub fn parse(value: &str) -> Result<Self, BadHeader> {
        let bad = BadHeader { header: "CSeq" };
        let mut parts = value.split_whitespace();
        let seq = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or(bad.clone())?;
        let method = parts.next().ok_or(bad.clone())?.to_string();
        if parts.next().is_some() {
            return Err(bad);
        }
        Ok(CSeq { seq, method })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_with_instance_id_and_several_params() {
        let c = Contact::parse_list(
            "<sip:100@10.0.0.5:5070;transport=udp>;+sip.instance=\"<urn:uuid:1-2>\";reg-id=1;expires=600",
        )
        .unwrap();
        let Contact::Address(a) = &c[0] else {
            panic!("wildcard")
        };
        assert_eq!(a.uri, "sip:100@10.0.0.5:5070;transport=udp");
        assert_eq!(a.params.value("+sip.instance"), Some("\"<urn:uuid:1-2>\""));
        assert_eq!(a.params.value("expires"), Some("600"));
    }

    #[test]
    fn several_contacts_on_one_line_with_quoted_commas() {
        let c = Contact::parse_list("\"Desk, front\" <sip:100@h1>, sip:100@h2;expires=5").unwrap();
        assert_eq!(c.len(), 2);
        let Contact::Address(second) = &c[1] else {
            panic!()
        };
        assert_eq!(second.uri, "sip:100@h2");
        assert_eq!(second.params.value("expires"), Some("5"));
        let Contact::Address(first) = &c[0] else {
            panic!()
        };
        assert_eq!(first.display.as_deref(), Some("Desk, front"));
    }

    #[test]
    fn wildcard_contact() {
        assert_eq!(Contact::parse_list(" * ").unwrap(), vec![Contact::Wildcard]);
    }

    #[test]
    fn via_ipv6_sent_by_and_rport_stamping() {
        let mut via = Via::parse("SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bKx;rport").unwrap();
        assert_eq!(via.sent_by.port, Some(5062));
        assert_eq!(via.branch(), Some("z9hG4bKx"));
        via.stamp_source("192.0.2.4:40000".parse().unwrap());
        assert_eq!(
            via.to_string(),
            "SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bKx;rport=40000;received=192.0.2.4"
        );
    }

    #[test]
    fn via_same_address_without_rport_is_left_alone() {
        let mut via = Via::parse("SIP/2.0/tcp 192.0.2.4:5060 ;branch=z9hG4bKy").unwrap();
        via.stamp_source("192.0.2.4:5060".parse().unwrap());
        assert_eq!(
            via.to_string(),
            "SIP/2.0/TCP 192.0.2.4:5060;branch=z9hG4bKy"
        );
    }

    #[test]
    fn malformed_values_name_their_header() {
        assert_eq!(Via::parse("SIP/2.0 host").unwrap_err().header, "Via");
        assert_eq!(Via::parse("SIP/2.0/UDP [::1").unwrap_err().header, "Via");
        assert_eq!(
            NameAddr::parse("<sip:a@b", "From").unwrap_err().header,
            "From"
        );
        assert!(CSeq::parse("x REGISTER").is_err());
        assert!(CSeq::parse("1 REGISTER extra").is_err());
    }

    #[test]
    fn tel_uri_and_user_parts() {
        let to = NameAddr::parse("<tel:+15551234;phone-context=x>;tag=9", "To").unwrap();
        assert_eq!(to.user(), Some("+15551234"));
        assert_eq!(to.tag(), Some("9"));
        assert_eq!(uri_user("sip:101:secret@host"), Some("101"));
        assert_eq!(uri_user("sip:host"), None);
    }
}
