//! Dialogs (RFC 3261 §12) as a back-to-back user agent keeps them: enough state to
//! send in-dialog requests (BYE, ACK, INFO, re-INVITE) on either leg, and a builder for
//! requests that starts a new one.
//!
//! Requests go to the address the dialog's peer spoke from (a NATed phone's real
//! address, or the provider's proxy) with the remote Contact as Request-URI, and carry
//! the route set the proxies in between asked for with Record-Route (RFC 3261 §12.1),
//! which they loose-route (`;lr`) on.

use rsip::{Header, Headers, Method};

use crate::header::NameAddr;
use crate::message::header_value;
use crate::transaction::Peer;

/// A request ready to go, or the reason it could not be built.
pub type Built = Result<rsip::Request, BuildError>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("cannot route to URI {0}")]
    Uri(String),
    #[error("the request lacks a usable {0} header")]
    Header(&'static str),
}

/// Our side of one dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    /// Our From (UAC) or To (UAS) value, with our tag.
    pub local: String,
    pub local_tag: String,
    /// The other side's address with its tag.
    pub remote: String,
    pub remote_target: String,
    pub local_cseq: u32,
    pub peer: Peer,
    /// Route header values for requests inside the dialog, first hop first.
    pub route_set: Vec<String>,
}

impl Dialog {
    /// The dialog a UAS creates by answering `invite` with `local_tag`.
    pub fn as_uas(
        invite: &rsip::Request,
        local_tag: &str,
        peer: Peer,
    ) -> Result<Dialog, BuildError> {
        let to = header_value(&invite.headers, "To").ok_or(BuildError::Header("To"))?;
        Ok(Dialog {
            call_id: header_value(&invite.headers, "Call-ID")
                .ok_or(BuildError::Header("Call-ID"))?
                .to_string(),
            local: format!("{to};tag={local_tag}"),
            local_tag: local_tag.to_string(),
            remote: header_value(&invite.headers, "From")
                .ok_or(BuildError::Header("From"))?
                .to_string(),
            remote_target: contact_uri(&invite.headers).ok_or(BuildError::Header("Contact"))?,
            local_cseq: 0,
            peer,
            route_set: record_routes(&invite.headers),
        })
    }

    /// The dialog a UAC holds after `response` (1xx with tag or 2xx) to its `invite`.
    pub fn as_uac(
        invite: &rsip::Request,
        response: &rsip::Response,
        peer: Peer,
    ) -> Result<Dialog, BuildError> {
        let from = header_value(&invite.headers, "From").ok_or(BuildError::Header("From"))?;
        let local_tag = NameAddr::parse(from, "From")
            .ok()
            .and_then(|n| n.tag().map(str::to_string))
            .ok_or(BuildError::Header("From"))?;
        Ok(Dialog {
            call_id: header_value(&invite.headers, "Call-ID")
                .ok_or(BuildError::Header("Call-ID"))?
                .to_string(),
            local: from.to_string(),
            local_tag,
            remote: header_value(&response.headers, "To")
                .ok_or(BuildError::Header("To"))?
                .to_string(),
            remote_target: contact_uri(&response.headers).unwrap_or_else(|| invite.uri.to_string()),
            local_cseq: crate::header::CSeq::parse(
                header_value(&invite.headers, "CSeq").ok_or(BuildError::Header("CSeq"))?,
            )
            .map_err(|_| BuildError::Header("CSeq"))?
            .seq,
            peer,
            route_set: record_routes(&response.headers).into_iter().rev().collect(),
        })
    }

    /// A new in-dialog request (not ACK): the next CSeq, a fresh Via from `via`.
    pub fn request(
        &mut self,
        method: Method,
        via: &str,
        extra: Vec<Header>,
        body: Body<'_>,
    ) -> Built {
        self.local_cseq += 1;
        let cseq = self.local_cseq;
        self.request_with_cseq(method, cseq, via, extra, body)
    }

    /// The ACK to a 2xx for the INVITE sent with `cseq` (RFC 3261 §13.2.2.4).
    pub fn ack(&self, cseq: u32, via: &str) -> Built {
        self.request_with_cseq(Method::Ack, cseq, via, Vec::new(), None)
    }

    fn request_with_cseq(
        &self,
        method: Method,
        cseq: u32,
        via: &str,
        extra: Vec<Header>,
        body: Body<'_>,
    ) -> Built {
        let mut headers = vec![
            Header::Via(via.into()),
            Header::MaxForwards("70".into()),
            Header::From(self.local.clone().into()),
            Header::To(self.remote.clone().into()),
            Header::CallId(self.call_id.clone().into()),
            Header::CSeq(format!("{cseq} {method}").into()),
        ];
        headers.extend(
            self.route_set
                .iter()
                .map(|r| Header::Route(r.clone().into())),
        );
        headers.extend(extra);
        build_request(method, &self.remote_target, headers, body)
    }
}

/// A body with its content type.
pub type Body<'a> = Option<(&'a str, Vec<u8>)>;

/// A request with `headers` in order, then Content-Type when there is a body.
pub fn build_request(method: Method, uri: &str, mut headers: Vec<Header>, body: Body<'_>) -> Built {
    let uri = rsip::Uri::try_from(uri).map_err(|_| BuildError::Uri(uri.to_string()))?;
    let body = match body {
        Some((content_type, bytes)) => {
            headers.push(Header::ContentType(content_type.into()));
            bytes
        }
        None => Vec::new(),
    };
    Ok(rsip::Request {
        method,
        uri,
        version: rsip::Version::V2,
        headers: Headers::from(headers),
        body,
    })
}

/// The CANCEL for an INVITE we sent (RFC 3261 §9.1): same Request-URI, top Via, From,
/// To, Call-ID and CSeq number.
pub fn cancel_for(invite: &rsip::Request) -> Built {
    let mut headers = Vec::new();
    for h in invite.headers.iter() {
        match h {
            Header::Via(_) if !headers.iter().any(|h| matches!(h, Header::Via(_))) => {
                headers.push(h.clone())
            }
            Header::From(_) | Header::To(_) | Header::CallId(_) => headers.push(h.clone()),
            Header::CSeq(_) => {
                let cseq =
                    crate::header::CSeq::parse(header_value(&invite.headers, "CSeq").unwrap_or(""))
                        .map_err(|_| BuildError::Header("CSeq"))?;
                headers.push(Header::CSeq(format!("{} CANCEL", cseq.seq).into()));
            }
            _ => {}
        }
    }
    headers.push(Header::MaxForwards("70".into()));
    build_request(Method::Cancel, &invite.uri.to_string(), headers, None)
}

/// Every Record-Route value, top first.
fn record_routes(headers: &Headers) -> Vec<String> {
    crate::message::header_values(headers, "Record-Route")
        .flat_map(crate::header::split_list)
        .map(|r| r.trim().to_string())
        .collect()
}

/// The URI of the first Contact.
pub fn contact_uri(headers: &Headers) -> Option<String> {
    let value = header_value(headers, "Contact")?;
    let first = crate::header::split_list(value).into_iter().next()?;
    NameAddr::parse(first, "Contact").ok().map(|n| n.uri)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Message, parse, to_bytes};
    use crate::transaction::Transport;

    const PEER: Peer = Peer {
        transport: Transport::Udp,
        addr: std::net::SocketAddr::V4(std::net::SocketAddrV4::new(
            std::net::Ipv4Addr::new(192, 0, 2, 7),
            5062,
        )),
    };

    fn request(text: &str) -> rsip::Request {
        match parse(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("not a request"),
        }
    }

    fn response(text: &str) -> rsip::Response {
        match parse(text.as_bytes()).unwrap() {
            Message::Response(r) => r,
            Message::Request(_) => panic!("not a response"),
        }
    }

    const INVITE: &str = "INVITE sip:101@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKi1\r\n\
        From: \"Anna\" <sip:100@pbx>;tag=a1\r\nTo: <sip:101@pbx>\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\n\
        Contact: <sip:100@192.0.2.7:5062>\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn uas_dialog_sends_bye_to_the_callers_contact_with_tags_swapped() {
        let mut d = Dialog::as_uas(&request(INVITE), "sb1", PEER).unwrap();
        let bye = d
            .request(
                Method::Bye,
                "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb",
                vec![],
                None,
            )
            .unwrap();
        let text = String::from_utf8(to_bytes(&bye.into())).unwrap();
        assert!(
            text.starts_with("BYE sip:100@192.0.2.7:5062 SIP/2.0\r\n"),
            "{text}"
        );
        assert!(text.contains("From: <sip:101@pbx>;tag=sb1\r\n"), "{text}");
        assert!(
            text.contains("To: \"Anna\" <sip:100@pbx>;tag=a1\r\n"),
            "{text}"
        );
        assert!(text.contains("CSeq: 1 BYE\r\n"), "{text}");
    }

    #[test]
    fn uac_dialog_acks_with_the_invites_cseq_and_cancel_mirrors_the_invite() {
        let invite = request(INVITE);
        let ok = response(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKi1\r\n\
             From: \"Anna\" <sip:100@pbx>;tag=a1\r\nTo: <sip:101@pbx>;tag=b9\r\nCall-ID: c1\r\n\
             CSeq: 7 INVITE\r\nContact: <sip:101@192.0.2.8:5070>\r\nContent-Length: 0\r\n\r\n",
        );
        let mut d = Dialog::as_uac(&invite, &ok, PEER).unwrap();
        let ack = d
            .ack(7, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa")
            .unwrap();
        let text = String::from_utf8(to_bytes(&ack.into())).unwrap();
        assert!(
            text.starts_with("ACK sip:101@192.0.2.8:5070 SIP/2.0\r\n"),
            "{text}"
        );
        assert!(text.contains("CSeq: 7 ACK\r\n"));
        assert!(text.contains("To: <sip:101@pbx>;tag=b9\r\n"));
        let bye = d
            .request(Method::Bye, "SIP/2.0/UDP h;branch=z9hG4bKc", vec![], None)
            .unwrap();
        assert!(
            String::from_utf8(to_bytes(&bye.into()))
                .unwrap()
                .contains("CSeq: 8 BYE\r\n")
        );
        let cancel = String::from_utf8(to_bytes(&cancel_for(&invite).unwrap().into())).unwrap();
        assert!(
            cancel.starts_with("CANCEL sip:101@pbx SIP/2.0\r\n"),
            "{cancel}"
        );
        assert!(cancel.contains("Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKi1\r\n"));
        assert!(cancel.contains("CSeq: 7 CANCEL\r\n"));
        assert!(cancel.contains("To: <sip:101@pbx>\r\n"));
    }

    #[test]
    fn the_route_set_proxies_asked_for_is_followed_both_ways() {
        let routed = INVITE.replace(
            "Contact:",
            "Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\nRecord-Route: <sip:p3.example;lr>\r\nContact:",
        );
        let invite = request(&routed);
        let mut uas = Dialog::as_uas(&invite, "sb1", PEER).unwrap();
        let bye = uas
            .request(Method::Bye, "SIP/2.0/UDP h;branch=z9hG4bKr", vec![], None)
            .unwrap();
        let text = String::from_utf8(to_bytes(&bye.into())).unwrap();
        let routes: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("Route: "))
            .collect();
        assert_eq!(
            routes,
            [
                "<sip:p1.example;lr>",
                "<sip:p2.example;lr>",
                "<sip:p3.example;lr>"
            ]
        );
        // The answer that makes the dialog carries the Record-Route back; a refusal does not.
        let ok = crate::message::response_to(&invite, 200, "OK", "sb1");
        let ok = String::from_utf8(to_bytes(&ok.into())).unwrap();
        assert!(
            ok.contains("Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"),
            "{ok}"
        );
        let busy = crate::message::response_to(&invite, 486, "Busy Here", "sb1");
        assert!(
            !String::from_utf8(to_bytes(&busy.into()))
                .unwrap()
                .contains("Record-Route")
        );

        // As the caller, the route set is the 200's Record-Route, reversed.
        let answer = response(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKi1\r\n\
             Record-Route: <sip:far.example;lr>, <sip:near.example;lr>\r\n\
             From: \"Anna\" <sip:100@pbx>;tag=a1\r\nTo: <sip:101@pbx>;tag=b9\r\nCall-ID: c1\r\n\
             CSeq: 7 INVITE\r\nContact: <sip:101@192.0.2.8:5070>\r\nContent-Length: 0\r\n\r\n",
        );
        let uac = Dialog::as_uac(&request(INVITE), &answer, PEER).unwrap();
        assert_eq!(
            uac.route_set,
            ["<sip:near.example;lr>", "<sip:far.example;lr>"]
        );
    }
}
