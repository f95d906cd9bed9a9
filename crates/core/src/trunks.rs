//! The office's trunks to its providers: each one's link (registration and
//! keep-alive, [`TrunkLink`]) and the address its requests go to. Office-wide state, not
//! a call's: the engine sends what the links want and hands them their answers.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use ipnet::IpNet;
use switchboard_sip::header::NameAddr;
use switchboard_sip::message::header_value;
use switchboard_sip::service::Service;
use switchboard_sip::transaction::{ClientId, Peer};
use switchboard_sip::trunk_registration::{
    LinkConfig, LinkIds, LinkState, Local, Purpose, TrunkLink,
};

use switchboard_sip::ids::Ids;

/// One trunk as the configuration gives it, its provider's address resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkSetup {
    pub name: String,
    pub link: LinkConfig,
    /// Where its requests go: the provider, or the outbound proxy before it.
    pub peer: Peer,
    pub calls_in: CallsIn,
    /// Encryption and codecs its calls must have.
    pub media: crate::legs::TrunkMedia,
    /// Calls out through it at once (the provider's channels); none: no limit.
    pub max_calls_out: Option<u32>,
}

/// How calls from a trunk are recognised and read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallsIn {
    /// Where the provider's calls come from: a call is from this trunk when it comes
    /// from one of these addresses and ports (the provider's host), or from anywhere in
    /// one of `networks`; never because of what it says about itself.
    pub hosts: Vec<SocketAddr>,
    pub networks: Vec<IpNet>,
    pub called: CalledFrom,
    pub caller: CallerFrom,
    /// The scenario a call to a number that is no inbound number follows; none: 404.
    pub unknown_number: Option<String>,
}

/// Where the number the customer dialled (the DID) is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CalledFrom {
    #[default]
    RequestUri,
    To,
    /// `P-Called-Party-ID` (RFC 3455), falling back to the Request-URI.
    CalledPartyId,
    /// The first `Diversion` (RFC 5806), falling back to the Request-URI.
    Diversion,
}

/// Where the caller's number is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallerFrom {
    /// `P-Asserted-Identity`, else `Remote-Party-ID`, else From: what the provider
    /// vouches for first.
    #[default]
    Asserted,
    From,
}

pub(crate) use crate::numbers::ANONYMOUS;

/// A trunk's status, as the wallboard, `/health` and the API show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkStatus {
    pub name: String,
    pub state: LinkState,
    /// When the state last changed.
    pub since: SystemTime,
    pub round_trip: Option<Duration>,
    pub public: Option<std::net::SocketAddr>,
    pub retry_at: Option<SystemTime>,
}

#[derive(Debug)]
struct Trunk {
    setup: TrunkSetup,
    link: TrunkLink,
}

#[derive(Debug, Default)]
pub(crate) struct Trunks {
    /// By a number that outlives configuration changes, so a late answer never
    /// reaches another trunk.
    trunks: BTreeMap<u64, Trunk>,
    /// Removed trunks still to say goodbye (their unregistration).
    leaving: Vec<Trunk>,
    sent: HashMap<ClientId, (u64, Purpose)>,
    next: u64,
}

impl Trunks {
    /// Takes the configuration's trunks: one whose setup is unchanged keeps its link
    /// (and registration); a changed one starts afresh; a removed one unregisters.
    /// Each setup comes with where Switchboard is for that trunk.
    pub fn set(&mut self, now: Instant, setups: Vec<(TrunkSetup, Local)>, ids: &mut Ids) {
        let mut old = std::mem::take(&mut self.trunks);
        for (setup, local) in setups {
            let kept = old
                .iter()
                .find(|(_, t)| t.setup == setup)
                .map(|(&key, _)| key);
            match kept.and_then(|key| Some((key, old.remove(&key)?))) {
                Some((key, trunk)) => {
                    self.trunks.insert(key, trunk);
                }
                None => {
                    let link = TrunkLink::new(
                        now,
                        setup.link.clone(),
                        LinkIds {
                            call_id: ids.token(),
                            from_tag: ids.token(),
                        },
                        local,
                    );
                    self.next += 1;
                    self.trunks.insert(self.next, Trunk { setup, link });
                }
            }
        }
        for mut gone in old.into_values() {
            gone.link.stop(now);
            self.leaving.push(gone);
        }
        let trunks = &self.trunks;
        self.sent.retain(|_, (key, _)| trunks.contains_key(key));
    }

    /// Sends every request a link wants now.
    pub fn send_due(&mut self, now: Instant, sip: &mut Service, ids: &mut Ids) {
        let mut fresh = || ids.token();
        for (&key, trunk) in &mut self.trunks {
            while let Some((request, purpose)) = trunk.link.poll_request(now, &mut fresh) {
                if let Some(id) = sip.send_request(now, request, trunk.setup.peer) {
                    self.sent.insert(id, (key, purpose));
                }
            }
        }
        for mut gone in std::mem::take(&mut self.leaving) {
            while let Some((request, _)) = gone.link.poll_request(now, &mut fresh) {
                // The provider's answer to a goodbye changes nothing here.
                let _ = sip.send_request(now, request, gone.setup.peer);
            }
        }
    }

    /// A response to one of the trunks' requests; false when `id` is none of theirs.
    pub fn answered(&mut self, now: Instant, id: ClientId, response: &rsip::Response) -> bool {
        if response.status_code.code() < 200 {
            return self.sent.contains_key(&id);
        }
        let Some((key, purpose)) = self.sent.remove(&id) else {
            return false;
        };
        if let Some(trunk) = self.trunks.get_mut(&key) {
            trunk.link.handle_response(now, purpose, response);
        }
        true
    }

    /// A trunk's request that was never answered; false when `id` is none of theirs.
    pub fn timed_out(&mut self, now: Instant, id: ClientId) -> bool {
        let Some((key, purpose)) = self.sent.remove(&id) else {
            return false;
        };
        if let Some(trunk) = self.trunks.get_mut(&key) {
            trunk.link.handle_no_answer(now, purpose);
        }
        true
    }

    /// The trunk called `name`.
    pub fn setup(&self, name: &str) -> Option<&TrunkSetup> {
        self.trunks
            .values()
            .map(|t| &t.setup)
            .find(|s| s.name == name)
    }

    /// The trunk a request from `source` comes from, if any. Over TCP or TLS the host
    /// alone counts: a provider opens connections from any port.
    pub fn calling_from(&self, source: Peer) -> Option<&TrunkSetup> {
        let ip = source.addr.ip();
        self.trunks.values().map(|t| &t.setup).find(|s| {
            let calls_in = &s.calls_in;
            let from_host = if source.transport.is_reliable() {
                source.transport == s.peer.transport && calls_in.hosts.iter().any(|h| h.ip() == ip)
            } else {
                calls_in.hosts.contains(&source.addr)
            };
            from_host || calls_in.networks.iter().any(|n| n.contains(&ip))
        })
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.trunks
            .values()
            .filter_map(|t| t.link.poll_timeout())
            .min()
    }

    pub fn statuses(&self, wall: impl Fn(Instant) -> SystemTime) -> Vec<TrunkStatus> {
        self.trunks
            .values()
            .map(|t| {
                let s = t.link.status();
                TrunkStatus {
                    name: t.setup.name.clone(),
                    state: s.state.clone(),
                    since: wall(s.since),
                    round_trip: s.round_trip,
                    public: s.public,
                    retry_at: s.retry_at.map(&wall),
                }
            })
            .collect()
    }
}

/// The number a call from a trunk was made to, as `from` says to read it.
pub(crate) fn called_number(invite: &rsip::Request, from: CalledFrom) -> Option<String> {
    let request_uri = || uri_number(&invite.uri.to_string());
    let header = |name| {
        header_value(&invite.headers, name)
            .and_then(|v| NameAddr::parse(v, "number").ok())
            .and_then(|n| uri_number(&n.uri))
    };
    match from {
        CalledFrom::RequestUri => request_uri(),
        CalledFrom::To => header("To"),
        CalledFrom::CalledPartyId => header("P-Called-Party-ID").or_else(request_uri),
        CalledFrom::Diversion => header("Diversion").or_else(request_uri),
    }
}

/// The caller's number of a call from a trunk, as `from` says to read it; [`ANONYMOUS`]
/// when the caller withheld it (RFC 3323 privacy, or an anonymous URI).
pub(crate) fn caller_number(invite: &rsip::Request, from: CallerFrom) -> String {
    let read = |name| {
        let value = header_value(&invite.headers, name)?;
        let first = switchboard_sip::header::split_list(value)
            .into_iter()
            .next()?;
        NameAddr::parse(first, "identity").ok()
    };
    let withheld = header_value(&invite.headers, "Privacy").is_some_and(|p| {
        p.split(';')
            .any(|v| matches!(v.trim(), "id" | "user" | "header"))
    });
    let identity = match from {
        CallerFrom::Asserted => read("P-Asserted-Identity")
            .or_else(|| read("Remote-Party-ID"))
            .or_else(|| read("From")),
        CallerFrom::From => read("From"),
    };
    match identity {
        Some(id) if !withheld && !is_anonymous(&id) => {
            uri_number(&id.uri).unwrap_or_else(|| ANONYMOUS.to_string())
        }
        _ => ANONYMOUS.to_string(),
    }
}

fn is_anonymous(id: &NameAddr) -> bool {
    let user = id.user().unwrap_or_default().to_ascii_lowercase();
    user == "anonymous"
        || id.uri.to_ascii_lowercase().contains("anonymous.invalid")
        || id
            .display
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("anonymous"))
}

/// The number in a `sip:`, `sips:` or `tel:` URI: its user part, parameters dropped.
fn uri_number(uri: &str) -> Option<String> {
    let user = switchboard_sip::header::uri_user(uri)?;
    let number = user.split(';').next().unwrap_or(user);
    (!number.is_empty()).then(|| number.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(headers: &str) -> rsip::Request {
        let text = format!(
            "INVITE sip:48225550100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bKx\r\n\
             To: <sip:+48225550199@voip.example>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{headers}Content-Length: 0\r\n\r\n"
        );
        match switchboard_sip::message::parse(text.as_bytes()).unwrap() {
            switchboard_sip::message::Message::Request(r) => r,
            _ => unreachable!(),
        }
    }

    const FROM: &str = "From: \"Jan\" <sip:0601000000@voip.example>;tag=1\r\n";

    #[test]
    fn the_caller_is_who_the_provider_vouches_for_unless_they_withheld_it() {
        let asserted = invite(&format!(
            "{FROM}P-Asserted-Identity: <tel:+48601000000>\r\n"
        ));
        assert_eq!(
            caller_number(&asserted, CallerFrom::Asserted),
            "+48601000000"
        );
        assert_eq!(caller_number(&asserted, CallerFrom::From), "0601000000");
        let rpid = invite(&format!(
            "{FROM}Remote-Party-ID: \"Jan\" <sip:+48601000001@voip.example>;party=calling\r\n"
        ));
        assert_eq!(caller_number(&rpid, CallerFrom::Asserted), "+48601000001");
        let plain = invite(FROM);
        assert_eq!(caller_number(&plain, CallerFrom::Asserted), "0601000000");
        for withheld in [
            format!(
                "{FROM}P-Asserted-Identity: <sip:+48601000000@voip.example>\r\nPrivacy: id\r\n"
            ),
            "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n".to_string(),
            "From: <sip:anonymous@voip.example>;tag=1\r\n".to_string(),
        ] {
            assert_eq!(
                caller_number(&invite(&withheld), CallerFrom::Asserted),
                ANONYMOUS,
                "{withheld}"
            );
        }
    }

    #[test]
    fn the_number_dialled_is_read_where_the_trunk_puts_it() {
        let request = invite(&format!(
            "{FROM}P-Called-Party-ID: <sip:+48225550111@voip.example>\r\n\
             Diversion: <sip:+48225550122;user=phone@voip.example>;reason=unconditional\r\n"
        ));
        let read = |from| called_number(&request, from);
        assert_eq!(read(CalledFrom::RequestUri).as_deref(), Some("48225550100"));
        assert_eq!(read(CalledFrom::To).as_deref(), Some("+48225550199"));
        assert_eq!(
            read(CalledFrom::CalledPartyId).as_deref(),
            Some("+48225550111")
        );
        assert_eq!(read(CalledFrom::Diversion).as_deref(), Some("+48225550122"));
        let bare = invite(FROM);
        assert_eq!(
            called_number(&bare, CalledFrom::CalledPartyId).as_deref(),
            Some("48225550100"),
            "falls back to the Request-URI"
        );
    }
}
