//! The SIP endpoint Switchboard runs today: the front-end, the transaction layer, digest
//! authentication and the registrar behind one sans-IO loop.
//!
//! Feed it with `handle_datagram` / `handle_timeout`, then drain `poll_transmit`,
//! `poll_binding_change` and read `poll_timeout` for the next wake-up.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use rsip::{Header, Method};

use crate::auth::{AccountSecrets, AuthConfig, DigestAuthenticator, Verdict};
use crate::header::NameAddr;
use crate::message::{self, header_value, Message};
use crate::registrar::{BindingChange, Registrar, RegistrarConfig};
use crate::transaction::{Peer, ServerId, TimerConfig, TransactionEvent, TransactionLayer, Transmit};

/// Methods the endpoint answers itself; the rest of the known ones get 405.
const ALLOW: &str = "REGISTER, OPTIONS";
const SERVER: &str = "Switchboard";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub realm: String,
    pub timers: TimerConfig,
    pub registrar: RegistrarConfig,
    pub auth: AuthConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            realm: "switchboard".into(),
            timers: TimerConfig::default(),
            registrar: RegistrarConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

/// An extension's credentials as the endpoint needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub secrets: AccountSecrets,
    pub enabled: bool,
}

/// Counters an operator watches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams or frames dropped because they were not readable SIP.
    pub dropped: u64,
    /// Requests refused by the front-end with 400/501/505.
    pub rejected: u64,
    pub auth_failures: u64,
    pub registrations: u64,
}

#[derive(Debug)]
pub struct Service {
    layer: TransactionLayer,
    registrar: Registrar,
    auth: DigestAuthenticator,
    accounts: HashMap<String, Account>,
    transmits: VecDeque<Transmit>,
    stats: Stats,
    tags: u64,
}

impl Service {
    /// `secret` keys the digest nonces; give it fresh random bytes at each start.
    pub fn new(config: ServiceConfig, secret: [u8; 32], now: Instant) -> Self {
        Service {
            layer: TransactionLayer::new(config.timers),
            registrar: Registrar::new(config.registrar),
            auth: DigestAuthenticator::new(&config.realm, secret, now, config.auth),
            accounts: HashMap::new(),
            transmits: VecDeque::new(),
            stats: Stats::default(),
            tags: 0,
        }
    }

    // --- getters

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    pub fn realm(&self) -> &str {
        self.auth.realm()
    }

    // --- handle_*

    /// One UDP datagram, or one frame cut from a stream.
    pub fn handle_datagram(&mut self, now: Instant, peer: Peer, bytes: &[u8]) {
        match message::parse(bytes) {
            Ok(Message::Request(mut request)) => {
                stamp_top_via(&mut request, peer);
                self.layer.handle_request(now, request, peer);
            }
            Ok(Message::Response(response)) => self.layer.handle_response(now, response),
            Err(err) => match err.reply() {
                Some(reply) => {
                    self.stats.rejected += 1;
                    self.transmits.push_back(Transmit { peer, bytes: reply });
                }
                None => self.stats.dropped += 1,
            },
        }
        self.drain_events(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        self.registrar.handle_timeout(now);
        self.drain_events(now);
    }

    /// A frame the stream framer could not cut: counted like an unreadable datagram.
    pub fn note_dropped(&mut self) {
        self.stats.dropped += 1;
    }

    // --- mutators

    /// Replaces the accounts, after start-up or a configuration import.
    pub fn set_accounts(&mut self, accounts: HashMap<String, Account>) {
        self.accounts = accounts;
    }

    pub fn registrar_mut(&mut self) -> &mut Registrar {
        &mut self.registrar
    }

    // --- poll_*

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front().or_else(|| self.layer.poll_transmit())
    }

    pub fn poll_binding_change(&mut self) -> Option<BindingChange> {
        self.registrar.poll_change()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.layer.poll_timeout(), self.registrar.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // --- internals

    fn drain_events(&mut self, now: Instant) {
        while let Some(event) = self.layer.poll_event() {
            if let TransactionEvent::Request { id, request, peer } = event {
                self.handle_request(now, id, &request, peer);
            }
        }
    }

    fn handle_request(&mut self, now: Instant, id: ServerId, request: &rsip::Request, peer: Peer) {
        if let Some(unsupported) = unsupported_extensions(request) {
            let mut response = self.response(request, 420, "Bad Extension");
            response.headers.push(Header::Other("Unsupported".into(), unsupported));
            return self.layer.respond(now, id, &response);
        }
        let response = match request.method {
            Method::Register => self.register(now, request, peer),
            Method::Options => {
                let mut r = self.response(request, 200, "OK");
                r.headers.push(Header::Allow(ALLOW.into()));
                r.headers.push(Header::Accept("application/sdp".into()));
                r
            }
            Method::Cancel | Method::Bye => self.response(request, 481, "Call/Transaction Does Not Exist"),
            _ => {
                let mut r = self.response(request, 405, "Method Not Allowed");
                r.headers.push(Header::Allow(ALLOW.into()));
                r
            }
        };
        self.layer.respond(now, id, &response);
    }

    fn register(&mut self, now: Instant, request: &rsip::Request, peer: Peer) -> rsip::Response {
        let to = header_value(&request.headers, "To").and_then(|v| NameAddr::parse(v, "To").ok());
        let Some(aor) = to.as_ref().and_then(NameAddr::user).map(str::to_string) else {
            return self.response(request, 400, "To header has no user part");
        };
        let verdict = match header_value(&request.headers, "Authorization") {
            Some(credentials) => {
                let accounts = &self.accounts;
                self.auth.verify(now, "REGISTER", credentials, |user| {
                    accounts.get(user).map(|a| a.secrets.clone())
                })
            }
            None => Verdict::Rejected("no credentials"),
        };
        let username = match verdict {
            Verdict::Authenticated { username } => username,
            Verdict::Stale => return self.challenge(now, request, true),
            Verdict::Rejected(reason) => {
                if reason != "no credentials" {
                    self.stats.auth_failures += 1;
                }
                return self.challenge(now, request, false);
            }
        };
        if username != aor {
            return self.response(request, 403, "Username does not match To");
        }
        if !self.accounts.get(&aor).is_some_and(|a| a.enabled) {
            return self.response(request, 403, "Extension disabled");
        }
        match self.registrar.handle_register(now, &aor, request, peer) {
            Ok(bindings) => {
                self.stats.registrations += 1;
                let mut r = self.response(request, 200, "OK");
                for b in bindings {
                    let secs = b.remaining(now).as_secs();
                    r.headers.push(Header::Contact(format!("<{}>;expires={secs}", b.uri).into()));
                }
                r
            }
            Err(err) => {
                let (code, reason) = err.status();
                let mut r = self.response(request, code, &reason);
                if let crate::registrar::RegisterError::IntervalTooBrief { min } = err {
                    r.headers.push(Header::MinExpires(min.to_string().into()));
                }
                r
            }
        }
    }

    fn challenge(&mut self, now: Instant, request: &rsip::Request, stale: bool) -> rsip::Response {
        let mut r = self.response(request, 401, "Unauthorized");
        for value in self.auth.challenge(now, stale) {
            r.headers.push(Header::WwwAuthenticate(value.into()));
        }
        r
    }

    fn response(&mut self, request: &rsip::Request, code: u16, reason: &str) -> rsip::Response {
        self.tags += 1;
        let mut r = message::response_to(request, code, reason, &format!("sb{:x}", self.tags));
        r.headers.push(Header::Server(SERVER.into()));
        r
    }
}

/// `Require`/`Proxy-Require` options we do not support (we support none yet).
fn unsupported_extensions(request: &rsip::Request) -> Option<String> {
    let options: Vec<&str> = ["Require", "Proxy-Require"]
        .iter()
        .flat_map(|name| message::header_values(&request.headers, name))
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .collect();
    (!options.is_empty() && request.method != Method::Cancel && request.method != Method::Ack)
        .then(|| options.join(", "))
}

/// Adds `received`/`rport` to the top Via (RFC 3261 §18.2.1, RFC 3581).
fn stamp_top_via(request: &mut rsip::Request, peer: Peer) {
    use rsip::headers::UntypedHeader;
    for h in request.headers.iter_mut() {
        if let Header::Via(via) = h {
            let mut elements: Vec<String> = crate::header::split_list(via.value()).into_iter().map(str::to_string).collect();
            if let Some(top) = elements.first_mut() {
                if let Ok(mut parsed) = crate::header::Via::parse(top) {
                    parsed.stamp_source(peer.addr);
                    *top = parsed.to_string();
                }
            }
            *via = elements.join(", ").into();
            return;
        }
    }
}
