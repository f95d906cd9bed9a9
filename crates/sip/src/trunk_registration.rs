//! Switchboard as a client of its provider (RFC 3261 §10.2): a REGISTER kept fresh
//! before it expires, the provider's digest challenges answered (401 and 407, MD5 or
//! SHA-256), refusals and silences retried after a growing pause, an OPTIONS keep-alive
//! that holds the NAT binding open and measures the round trip, and the address the
//! provider saw us from (Via `received`/`rport`) learned and registered as our Contact.
//! A trunk without registration (trusted by its addresses) uses the keep-alive alone,
//! for its status.
//!
//! Sans-IO: the caller sends what [`TrunkLink::poll_request`] gives in a client
//! transaction, and hands back the final answer or its absence with the
//! [`Purpose`] it was sent for.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rsip::{Header, Method};

use crate::auth::authorization;
use crate::dialog::build_request;
use crate::header::NameAddr;
use crate::message::{header_value, header_values, top_via};
use crate::transaction::Transport;

/// The first pause after a failure; each failure in a row doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(30);
/// The longest pause between attempts (RFC 5626 §4.5 uses the same bound).
const LONGEST_RETRY: Duration = Duration::from_secs(1800);
/// A registration is renewed this long before it runs out, at the latest…
const RENEW_MARGIN: Duration = Duration::from_secs(30);
/// …and never later than this share of its lifetime.
const RENEW_SHARE: (u32, u32) = (17, 20);

/// How Switchboard reaches one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// The provider's domain: the host of our address of record and of the
    /// REGISTER's Request-URI.
    pub domain: String,
    /// Registration, when the provider knows the office by an account; none for a
    /// trunk trusted by its addresses.
    pub account: Option<Account>,
    /// How often an OPTIONS goes out while the link is up; none: never.
    pub keepalive: Option<Duration>,
}

/// The office's account at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user part of the address of record.
    pub user: String,
    /// The name the provider's challenges are answered with (often the same user).
    pub auth_user: String,
    pub password: String,
    /// The registration's lifetime asked for, in seconds.
    pub expires: u32,
}

/// Where Switchboard sends from: what goes in Via and Contact until the provider tells
/// us the address it really sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    pub addr: SocketAddr,
    pub transport: Transport,
}

/// What a request was sent for; hand it back with its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Register,
    /// A REGISTER with `Expires: 0`, sent when the link stops.
    Unregister,
    KeepAlive {
        sent: Instant,
    },
}

/// Where a link stands, as the wallboard and the API show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Not known yet: the first REGISTER or OPTIONS is on its way.
    Starting,
    /// The provider holds our registration for `expires` seconds.
    Registered { expires: u32 },
    /// A trunk without registration answers its keep-alive.
    Reachable,
    /// A trunk with neither registration nor keep-alive: its calls are taken from its
    /// addresses, but nothing tells whether it is up.
    Unwatched,
    /// The provider refused, with its status and reason.
    Refused { code: u16, reason: String },
    /// The provider did not answer at all.
    Unreachable,
    /// The link was stopped (the trunk was removed or Switchboard is shutting down).
    Stopped,
}

/// A link's state with what the office wants to know next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    pub state: LinkState,
    /// When the state last changed.
    pub since: Instant,
    /// The last keep-alive's round trip.
    pub round_trip: Option<Duration>,
    /// The address the provider sees the office at, when it said so.
    pub public: Option<SocketAddr>,
    /// When the next attempt goes out after a failure.
    pub retry_at: Option<Instant>,
}

/// The identifiers one link keeps for its whole life (RFC 3261 §10.2.4: refreshes
/// reuse the Call-ID), chosen unguessable by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkIds {
    pub call_id: String,
    pub from_tag: String,
}

/// A challenge being answered, and how many times its nonce was used.
#[derive(Debug, Clone)]
struct Answering {
    /// `Authorization` or `Proxy-Authorization`.
    header: &'static str,
    challenge: String,
    uses: u32,
}

#[derive(Debug)]
pub struct TrunkLink {
    config: LinkConfig,
    ids: LinkIds,
    local: Local,
    cseq: u32,
    status: LinkStatus,
    failures: u32,
    /// The registration or keep-alive due, and when.
    register_at: Option<Instant>,
    keepalive_at: Option<Instant>,
    unregister: bool,
    /// A REGISTER is out and not answered yet (one at a time).
    registering: bool,
    answering: Option<Answering>,
    /// How many times the last REGISTER's nonce had been used (1: its first answer to
    /// a challenge); none when it carried no credentials.
    sent_nonce_use: Option<u32>,
    /// The Contact address the last REGISTER gave.
    sent_contact: Option<SocketAddr>,
}

impl TrunkLink {
    /// A link that starts at once: a REGISTER (or an OPTIONS without an account) is
    /// the first request polled. A link with neither account nor keep-alive sends
    /// nothing, and says so ([`LinkState::Unwatched`]).
    pub fn new(now: Instant, config: LinkConfig, ids: LinkIds, local: Local) -> Self {
        let register = config.account.is_some();
        let watch = !register && config.keepalive.is_some();
        TrunkLink {
            config,
            ids,
            local,
            cseq: 0,
            status: LinkStatus {
                state: if register || watch {
                    LinkState::Starting
                } else {
                    LinkState::Unwatched
                },
                since: now,
                round_trip: None,
                public: None,
                retry_at: None,
            },
            failures: 0,
            register_at: register.then_some(now),
            keepalive_at: watch.then_some(now),
            unregister: false,
            registering: false,
            answering: None,
            sent_nonce_use: None,
            sent_contact: None,
        }
    }

    pub fn status(&self) -> &LinkStatus {
        &self.status
    }

    /// Removes the registration: a REGISTER with `Expires: 0` when one is held.
    pub fn stop(&mut self, now: Instant) {
        self.unregister = matches!(self.status.state, LinkState::Registered { .. });
        self.register_at = None;
        self.keepalive_at = None;
        self.set_state(now, LinkState::Stopped);
    }

    /// The next moment something is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.register_at, self.keepalive_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next request to send, if one is due at `now`; `fresh` gives unguessable
    /// tokens (branches, client nonces).
    pub fn poll_request(
        &mut self,
        now: Instant,
        fresh: &mut dyn FnMut() -> String,
    ) -> Option<(rsip::Request, Purpose)> {
        if self.unregister {
            self.unregister = false;
            let request = self.register(0, fresh)?;
            return Some((request, Purpose::Unregister));
        }
        if self.register_at.is_some_and(|at| at <= now) && !self.registering {
            self.register_at = None;
            let expires = self.config.account.as_ref()?.expires;
            let request = self.register(expires, fresh)?;
            self.registering = true;
            return Some((request, Purpose::Register));
        }
        if self.keepalive_at.is_some_and(|at| at <= now) {
            self.keepalive_at = None;
            let request = self.options(fresh)?;
            return Some((request, Purpose::KeepAlive { sent: now }));
        }
        None
    }

    /// The final answer to a request sent for `purpose`.
    pub fn handle_response(&mut self, now: Instant, purpose: Purpose, response: &rsip::Response) {
        let code = response.status_code.code();
        if code < 200 {
            return;
        }
        match purpose {
            Purpose::Unregister => {}
            Purpose::KeepAlive { sent } => self.kept_alive(now, sent),
            Purpose::Register => {
                self.registering = false;
                self.registered(now, code, response);
            }
        }
    }

    /// The request sent for `purpose` was never answered (the transaction timed out).
    pub fn handle_no_answer(&mut self, now: Instant, purpose: Purpose) {
        match purpose {
            Purpose::Unregister => {}
            Purpose::Register => {
                self.registering = false;
                self.fail(now, LinkState::Unreachable);
            }
            Purpose::KeepAlive { .. } if self.status.state == LinkState::Stopped => {}
            Purpose::KeepAlive { .. } => match self.config.account {
                // The provider may have lost us with its NAT binding: register anew.
                Some(_) => {
                    self.set_state(now, LinkState::Unreachable);
                    self.register_at = Some(now);
                }
                None => self.fail(now, LinkState::Unreachable),
            },
        }
    }

    fn kept_alive(&mut self, now: Instant, sent: Instant) {
        self.status.round_trip = Some(now.saturating_duration_since(sent));
        if self.status.state == LinkState::Stopped {
            return;
        }
        if self.config.account.is_none() {
            self.failures = 0;
            self.status.retry_at = None;
            self.set_state(now, LinkState::Reachable);
        }
        self.keepalive_at = self.config.keepalive.map(|every| now + every);
    }

    fn registered(&mut self, now: Instant, code: u16, response: &rsip::Response) {
        if self.status.state == LinkState::Stopped {
            return;
        }
        // rsip prints the code before the phrase.
        let status = response.status_code.to_string();
        let reason = status
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim()
            .to_string();
        match code {
            200..=299 => {
                self.failures = 0;
                self.status.retry_at = None;
                if let Some(public) = seen_at(response) {
                    self.status.public = Some(public);
                }
                let contact = self.contact_addr();
                if self.sent_contact != Some(contact) {
                    // The provider sees us at another address than the Contact it holds
                    // (NAT): register again with the address it sees.
                    self.register_at = Some(now);
                    return;
                }
                let asked = self.config.account.as_ref().map_or(0, |a| a.expires);
                let expires = granted_expires(response, contact).unwrap_or(asked);
                self.set_state(now, LinkState::Registered { expires });
                self.register_at = Some(now + renew_after(expires));
                if self.keepalive_at.is_none() {
                    self.keepalive_at = self.config.keepalive.map(|every| now + every);
                }
            }
            401 | 407 => {
                let header = if code == 401 {
                    "WWW-Authenticate"
                } else {
                    "Proxy-Authenticate"
                };
                let offered = best_challenge(response, header);
                let stale = offered
                    .as_deref()
                    .and_then(|c| challenge_param(c, "stale"))
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                // Credentials answering a challenge for the first time and refused: the
                // provider does not accept them. A nonce used again (on a renewal) may
                // simply have expired, so its refusal is answered afresh.
                let refused = self.sent_nonce_use == Some(1) && !stale;
                match offered.filter(|_| !refused) {
                    Some(challenge) => {
                        self.answering = Some(Answering {
                            header: if code == 401 {
                                "Authorization"
                            } else {
                                "Proxy-Authorization"
                            },
                            challenge,
                            uses: 0,
                        });
                        self.register_at = Some(now);
                    }
                    None => {
                        self.answering = None;
                        self.fail(now, LinkState::Refused { code, reason });
                    }
                }
            }
            423 => match header_value(&response.headers, "Min-Expires")
                .and_then(|v| v.trim().parse::<u32>().ok())
            {
                Some(min)
                    if self
                        .config
                        .account
                        .as_ref()
                        .is_some_and(|a| a.expires < min) =>
                {
                    if let Some(account) = self.config.account.as_mut() {
                        account.expires = min;
                    }
                    self.register_at = Some(now);
                }
                _ => self.fail(now, LinkState::Refused { code, reason }),
            },
            _ => self.fail(now, LinkState::Refused { code, reason }),
        }
    }

    fn fail(&mut self, now: Instant, state: LinkState) {
        self.failures += 1;
        let pause = FIRST_RETRY
            .saturating_mul(1 << (self.failures - 1).min(10))
            .min(LONGEST_RETRY);
        let retry = now + pause;
        self.status.retry_at = Some(retry);
        match self.config.account {
            Some(_) => {
                self.register_at = Some(retry);
                self.keepalive_at = None;
            }
            None => self.keepalive_at = Some(retry),
        }
        self.set_state(now, state);
    }

    fn set_state(&mut self, now: Instant, state: LinkState) {
        if self.status.state != state {
            self.status.state = state;
            self.status.since = now;
        }
    }

    /// Our Contact: over UDP the address the provider sees, once it said, else our own.
    /// Over TCP or TLS the port it sees is our end of the connection, not a listening
    /// one: the provider reaches us there through that connection, or at our own.
    fn contact_addr(&self) -> SocketAddr {
        match self.local.transport {
            Transport::Udp => self.status.public.unwrap_or(self.local.addr),
            Transport::Tcp | Transport::Tls => self.local.addr,
        }
    }

    fn register(
        &mut self,
        expires: u32,
        fresh: &mut dyn FnMut() -> String,
    ) -> Option<rsip::Request> {
        let account = self.config.account.clone()?;
        let domain = &self.config.domain;
        let uri = format!("sip:{domain}");
        let transport = match self.local.transport {
            Transport::Udp => String::new(),
            other => format!(";transport={}", other.via_name().to_ascii_lowercase()),
        };
        let contact_addr = self.contact_addr();
        let previous = self
            .sent_contact
            .replace(contact_addr)
            .filter(|old| *old != contact_addr);
        let contact = |addr| format!("<sip:{}@{addr}{transport}>", account.user);
        let mut headers = self.common(Method::Register, &account.user, fresh);
        headers.push(Header::Contact(contact(contact_addr).into()));
        // The Contact the provider held before (NAT learned since) is taken back, so
        // its calls do not fork to an address that leads nowhere.
        if let Some(old) = previous.filter(|_| expires > 0) {
            headers.push(Header::Contact(
                format!("{};expires=0", contact(old)).into(),
            ));
        }
        headers.push(Header::Expires(expires.to_string().into()));
        self.sent_nonce_use = None;
        if let Some(answering) = self.answering.as_mut() {
            answering.uses += 1;
            self.sent_nonce_use = Some(answering.uses);
            let value = authorization(
                &answering.challenge,
                "REGISTER",
                &uri,
                &account.auth_user,
                &account.password,
                answering.uses,
                &fresh(),
            )?;
            headers.push(Header::Other(answering.header.into(), value));
        }
        build_request(Method::Register, &uri, headers, None).ok()
    }

    fn options(&mut self, fresh: &mut dyn FnMut() -> String) -> Option<rsip::Request> {
        let user = self
            .config
            .account
            .as_ref()
            .map_or_else(|| "switchboard".to_string(), |a| a.user.clone());
        let uri = format!("sip:{}", self.config.domain);
        let headers = self.common(Method::Options, &user, fresh);
        build_request(Method::Options, &uri, headers, None).ok()
    }

    /// Via, Max-Forwards, From, To, Call-ID and CSeq of a request from `user`.
    fn common(
        &mut self,
        method: Method,
        user: &str,
        fresh: &mut dyn FnMut() -> String,
    ) -> Vec<Header> {
        self.cseq += 1;
        let domain = &self.config.domain;
        let aor = format!("<sip:{user}@{domain}>");
        vec![
            Header::Via(
                format!(
                    "SIP/2.0/{} {};branch=z9hG4bK{};rport",
                    self.local.transport.via_name(),
                    self.local.addr,
                    fresh()
                )
                .into(),
            ),
            Header::MaxForwards("70".into()),
            Header::From(format!("{aor};tag={}", self.ids.from_tag).into()),
            Header::To(aor.into()),
            Header::CallId(self.ids.call_id.clone().into()),
            Header::CSeq(format!("{} {method}", self.cseq).into()),
            Header::UserAgent("Switchboard".into()),
        ]
    }
}

/// When to renew a registration granted for `expires` seconds.
fn renew_after(expires: u32) -> Duration {
    let lifetime = Duration::from_secs(u64::from(expires));
    let share = lifetime * RENEW_SHARE.0 / RENEW_SHARE.1;
    lifetime
        .saturating_sub(RENEW_MARGIN)
        .min(share)
        .max(Duration::from_secs(1))
}

/// The address the provider saw the request come from: the top Via's `received` and
/// `rport` (RFC 3581), when it stamped them.
fn seen_at(response: &rsip::Response) -> Option<SocketAddr> {
    let via = top_via(&response.headers)?;
    let ip = via.params.value("received")?.parse().ok()?;
    let port = via
        .params
        .value("rport")
        .and_then(|p| p.parse().ok())
        .or(via.sent_by.port)
        .unwrap_or(5060);
    Some(SocketAddr::new(ip, port))
}

/// The lifetime the provider granted our Contact (`contact`): its `expires`
/// parameter in the 200's Contact list, else the Expires header.
fn granted_expires(response: &rsip::Response, contact: SocketAddr) -> Option<u32> {
    let ours = header_values(&response.headers, "Contact")
        .flat_map(crate::header::split_list)
        .filter_map(|c| NameAddr::parse(c, "Contact").ok())
        .find(|c| c.uri.contains(&contact.to_string()));
    ours.and_then(|c| c.params.value("expires").and_then(|e| e.parse().ok()))
        .or_else(|| header_value(&response.headers, "Expires").and_then(|e| e.trim().parse().ok()))
}

/// The digest challenge in `header` to answer, SHA-256 first (RFC 8760 §2.4).
pub fn best_challenge(response: &rsip::Response, header: &str) -> Option<String> {
    let digests: Vec<&str> = header_values(&response.headers, header)
        .filter(|c| c.trim_start().to_ascii_lowercase().starts_with("digest"))
        .collect();
    digests
        .iter()
        .find(|c| {
            challenge_param(c, "algorithm").is_some_and(|a| a.eq_ignore_ascii_case("SHA-256"))
        })
        .or(digests.first())
        .map(|c| c.to_string())
}

/// The `Authorization` or `Proxy-Authorization` answering `response`'s challenge to a
/// `method` request for `uri`, once (nonce count 1).
pub fn answer_challenge(
    response: &rsip::Response,
    method: &str,
    uri: &str,
    account: &Account,
    cnonce: &str,
) -> Option<Header> {
    let (asked, answer) = match response.status_code.code() {
        401 => ("WWW-Authenticate", "Authorization"),
        _ => ("Proxy-Authenticate", "Proxy-Authorization"),
    };
    let challenge = best_challenge(response, asked)?;
    let value = authorization(
        &challenge,
        method,
        uri,
        &account.auth_user,
        &account.password,
        1,
        cnonce,
    )?;
    Some(Header::Other(answer.into(), value))
}

/// One parameter of a digest challenge, unquoted.
fn challenge_param<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = challenge.trim_start();
    rest = rest.get(rest.find(char::is_whitespace)?..)?;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            }
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(value);
        }
        rest = next;
    }
}

#[cfg(test)]
mod tests;
