use crate::header::{CSeq, NameAddr};
use crate::message::{header_value, method_name, top_via};

/// RFC 3261 branches start with this cookie; anything else is an RFC 2543 peer.
const MAGIC_COOKIE: &str = "z9hG4bK";

/// What identifies a transaction (RFC 3261 §17.1.3 and §17.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionKey {
    /// Branch with the magic cookie, sent-by, and method (ACK folded into INVITE).
    Branch {
        branch: String,
        sent_by: String,
        method: String,
    },
    /// RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number and top Via.
    Legacy {
        request_uri: String,
        from_tag: String,
        call_id: String,
        cseq: u32,
        top_via: String,
        method: String,
    },
}

impl TransactionKey {
    /// The key of the server transaction a request belongs to. An ACK maps onto its
    /// INVITE, a CANCEL gets its own transaction (§9.2).
    pub fn for_request(request: &rsip::Request) -> Option<Self> {
        let via = top_via(&request.headers)?;
        let method = match request.method {
            rsip::Method::Ack => "INVITE".to_string(),
            m => method_name(m).to_string(),
        };
        match via.branch() {
            Some(b) if b.starts_with(MAGIC_COOKIE) => Some(TransactionKey::Branch {
                branch: b.to_string(),
                sent_by: via.sent_by.to_string().to_ascii_lowercase(),
                method,
            }),
            _ => {
                let from = NameAddr::parse(header_value(&request.headers, "From")?, "From").ok()?;
                let cseq = CSeq::parse(header_value(&request.headers, "CSeq")?).ok()?;
                Some(TransactionKey::Legacy {
                    request_uri: request.uri.to_string(),
                    from_tag: from.tag().unwrap_or_default().to_string(),
                    call_id: header_value(&request.headers, "Call-ID")?.to_string(),
                    cseq: cseq.seq,
                    top_via: via.to_string(),
                    method,
                })
            }
        }
    }

    /// The key of the client transaction a response answers: our branch and CSeq method.
    pub fn for_response(response: &rsip::Response) -> Option<Self> {
        let via = top_via(&response.headers)?;
        let cseq = CSeq::parse(header_value(&response.headers, "CSeq")?).ok()?;
        Some(TransactionKey::Branch {
            branch: via.branch()?.to_string(),
            sent_by: via.sent_by.to_string().to_ascii_lowercase(),
            method: cseq.method,
        })
    }
}
