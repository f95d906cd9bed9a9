//! Switchboard's SIP endpoint: the front-end, the transaction layer, digest
//! authentication and the registrar behind one sans-IO loop.
//!
//! Feed it with `handle_datagram` / `handle_timeout`, then drain `poll_transmit`,
//! `poll_binding_change`, `poll_event` and read `poll_timeout` for the next wake-up.
//! REGISTER and OPTIONS are answered here; every other request, and the responses to
//! requests its user sent, come out of `poll_event` for the call logic to handle.

use std::collections::{HashMap, VecDeque};
use std::time::{Instant, SystemTime};

use rsip::{Header, Method};
use sha2::{Digest, Sha256};

use crate::auth::{AccountSecrets, AuthConfig, DigestAuthenticator, Verdict};
use crate::guard::{Admission, Ban, BanChange, Guard, GuardConfig, is_scanner};
use crate::header::NameAddr;
use crate::message::{self, Message, header_value, method_name};
use crate::registrar::{BindingChange, Registrar, RegistrarConfig};
use crate::transaction::{
    ClientId, Peer, ServerId, TimerConfig, TransactionEvent, TransactionLayer, Transmit, Transport,
};

/// Methods Switchboard accepts, for Allow headers.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, SUBSCRIBE, REFER";
pub const SERVER: &str = "Switchboard";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub realm: String,
    pub timers: TimerConfig,
    pub registrar: RegistrarConfig,
    pub auth: AuthConfig,
    pub guard: GuardConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            realm: "switchboard".into(),
            timers: TimerConfig::default(),
            registrar: RegistrarConfig::default(),
            auth: AuthConfig::default(),
            guard: GuardConfig::default(),
        }
    }
}

/// An extension's credentials as the endpoint needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub secrets: AccountSecrets,
    pub enabled: bool,
    /// Whether its phone must use SIP over TLS and SRTP.
    pub encryption: Encryption,
}

/// An extension's encryption policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encryption {
    /// TLS and SRTP when its phone offers them; plain UDP, TCP and RTP otherwise.
    #[default]
    Allow,
    /// Registration and calls over TLS only, audio in SRTP only.
    Require,
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
    /// Messages dropped from banned sources and scanners.
    pub blocked: u64,
    /// Requests answered 503 because their source sent too many.
    pub limited: u64,
}

#[derive(Debug)]
pub struct Service {
    layer: TransactionLayer,
    registrar: Registrar,
    auth: DigestAuthenticator,
    guard: Guard,
    accounts: HashMap<String, Account>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TransactionEvent>,
    stats: Stats,
    tags: u64,
    /// Keys the To tags of answers to requests that match no dialog.
    tag_key: [u8; 32],
    /// Wall-clock time at `mono`, for the `Date` header desk phones set their clocks by:
    /// told with every input, since a sleeping PC stops the monotonic clock.
    wall: SystemTime,
    mono: Instant,
}

impl Service {
    /// `secret` keys the digest nonces; give it fresh random bytes at each start. `wall`
    /// is the wall-clock time at `now`; later wall times are derived from it.
    pub fn new(config: ServiceConfig, secret: [u8; 32], now: Instant, wall: SystemTime) -> Self {
        Service {
            layer: TransactionLayer::new(config.timers),
            registrar: Registrar::new(config.registrar),
            auth: DigestAuthenticator::new(&config.realm, secret, now, config.auth),
            guard: Guard::new(config.guard),
            accounts: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            tags: 0,
            tag_key: Sha256::new()
                .chain_update(b"switchboard stateless to-tag")
                .chain_update(secret)
                .finalize()
                .into(),
            wall,
            mono: now,
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

    /// Sources banned right now.
    pub fn banned_sources(&self) -> usize {
        self.guard.banned_count()
    }

    /// The bans in force, ending soonest first.
    pub fn bans(&self) -> impl Iterator<Item = &Ban> {
        self.guard.bans()
    }

    // --- handle_*

    /// One UDP datagram, or one frame cut from a stream.
    pub fn handle_datagram(&mut self, now: Instant, peer: Peer, bytes: &[u8]) {
        match self.guard.admit(peer.addr.ip(), now) {
            Admission::Pass => {}
            Admission::Drop => {
                self.stats.blocked += 1;
                return;
            }
            Admission::Limit => return self.refuse_flood(peer, bytes),
        }
        match message::parse(bytes) {
            Ok(Message::Request(request))
                if header_value(&request.headers, "User-Agent").is_some_and(is_scanner) =>
            {
                // A UDP source address is easily forged: only a proved one is banned.
                if peer.transport.is_connected() {
                    self.guard.scanner_seen(peer.addr.ip(), now);
                }
                self.stats.blocked += 1;
            }
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

    /// Lifts the ban on `ip`; false when there was none.
    pub fn lift_ban(&mut self, ip: std::net::IpAddr) -> bool {
        self.guard.lift(ip)
    }

    /// Takes up a ban kept from before a restart.
    pub fn restore_ban(&mut self, ban: Ban) {
        self.guard.restore(ban);
    }

    /// The wall-clock time now (`mono` is the monotonic time of the same moment), given
    /// before each input.
    pub fn handle_wall_clock(&mut self, mono: Instant, wall: SystemTime) {
        self.mono = mono;
        self.wall = wall;
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        self.registrar.handle_timeout(now);
        self.guard.handle_timeout(now);
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

    pub fn account(&self, user: &str) -> Option<&Account> {
        self.accounts.get(user)
    }

    /// Whether `password` is enabled extension `user`'s SIP password, for logins
    /// outside SIP (the voicemail API). Only hashes are compared.
    pub fn check_password(&self, user: &str, password: &str) -> bool {
        self.account(user).is_some_and(|a| {
            a.enabled
                && crate::auth::AccountSecrets::from_password(user, self.realm(), password)
                    .ha1_sha256
                    == a.secrets.ha1_sha256
        })
    }

    /// Answers a request that came out of `poll_event`.
    pub fn respond(&mut self, now: Instant, id: ServerId, response: &rsip::Response) {
        self.layer.respond(now, id, response);
    }

    /// Sends a request in a new client transaction; see [`TransactionLayer::send_request`].
    pub fn send_request(
        &mut self,
        now: Instant,
        request: rsip::Request,
        peer: Peer,
    ) -> Option<ClientId> {
        self.layer.send_request(now, request, peer)
    }

    /// Bytes outside any transaction: the ACK to a 2xx and 2xx retransmissions, which
    /// RFC 3261 §13 leaves to the dialog's user.
    pub fn send_raw(&mut self, peer: Peer, bytes: Vec<u8>) {
        self.transmits.push_back(Transmit { peer, bytes });
    }

    /// The INVITE server transaction a CANCEL aims at (RFC 3261 §9.2).
    pub fn invite_cancelled_by(&self, cancel: &rsip::Request) -> Option<ServerId> {
        self.layer.invite_cancelled_by(cancel)
    }

    /// Checks a request's `Proxy-Authorization` (RFC 3261 §22.3) and returns the
    /// extension it proves, or the 407 challenge to answer with.
    pub fn authenticate(
        &mut self,
        now: Instant,
        request: &rsip::Request,
        peer: Peer,
    ) -> Result<String, rsip::Response> {
        self.check_credentials(now, request, peer, Challenge::Proxy)
    }

    /// A response with Switchboard's Server header; `to_tag` is used when To has none.
    pub fn response(
        &self,
        request: &rsip::Request,
        code: u16,
        reason: &str,
        to_tag: &str,
    ) -> rsip::Response {
        let mut r = message::response_to(request, code, reason, to_tag);
        r.headers.push(Header::Server(SERVER.into()));
        r
    }

    /// The To tag for an answer that creates no dialog (a request matching nothing, a
    /// refusal): a keyed hash of the request's Call-ID and From tag, so a retransmission
    /// gets the same tag and the answer reveals nothing of the identifiers Switchboard
    /// hands out for real dialogs.
    pub fn stateless_tag(&self, request: &rsip::Request) -> String {
        let call_id = header_value(&request.headers, "Call-ID").unwrap_or_default();
        let from_tag = header_value(&request.headers, "From")
            .and_then(|from| NameAddr::parse(from, "From").ok())
            .and_then(|from| from.tag().map(str::to_string))
            .unwrap_or_default();
        let digest = Sha256::new()
            .chain_update(self.tag_key)
            .chain_update(call_id.as_bytes())
            .chain_update([0])
            .chain_update(from_tag.as_bytes())
            .finalize();
        hex::encode(&digest[..8])
    }

    // --- poll_*

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits
            .pop_front()
            .or_else(|| self.layer.poll_transmit())
    }

    /// Bans started or lifted, to keep across restarts.
    pub fn poll_ban_change(&mut self) -> Option<BanChange> {
        self.guard.poll_change()
    }

    pub fn poll_binding_change(&mut self) -> Option<BindingChange> {
        self.registrar.poll_change()
    }

    /// Requests other than REGISTER and OPTIONS, end-to-end ACKs, responses to our
    /// requests and transaction timeouts, for the call logic.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.layer.poll_timeout(),
            self.registrar.poll_timeout(),
            self.guard.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // --- internals

    fn drain_events(&mut self, now: Instant) {
        while let Some(event) = self.layer.poll_event() {
            match event {
                TransactionEvent::Request { id, request, peer }
                    if matches!(request.method, Method::Register | Method::Options) =>
                {
                    self.handle_request(now, id, &request, peer)
                }
                TransactionEvent::Request { id, request, peer } => {
                    if !self.refuse_unsupported(now, id, &request) {
                        self.events
                            .push_back(TransactionEvent::Request { id, request, peer });
                    }
                }
                other => self.events.push_back(other),
            }
        }
    }

    /// Answers 420 when the request requires extensions we lack; true if it did.
    fn refuse_unsupported(&mut self, now: Instant, id: ServerId, request: &rsip::Request) -> bool {
        let Some(unsupported) = unsupported_extensions(request) else {
            return false;
        };
        let mut response = self.fresh_response(request, 420, "Bad Extension");
        response
            .headers
            .push(Header::Other("Unsupported".into(), unsupported));
        self.layer.respond(now, id, &response);
        true
    }

    fn handle_request(&mut self, now: Instant, id: ServerId, request: &rsip::Request, peer: Peer) {
        if self.refuse_unsupported(now, id, request) {
            return;
        }
        let response = if request.method == Method::Register {
            self.register(now, request, peer)
        } else {
            let mut r = self.fresh_response(request, 200, "OK");
            r.headers.push(Header::Allow(ALLOW.into()));
            r.headers.push(Header::Accept("application/sdp".into()));
            r
        };
        // Challenges and OPTIONS answers are recomputed harmlessly if the request comes
        // again, so they keep no transaction: scanners and keep-alive floods cost no
        // memory. Anything that changed state stays transactional to absorb retransmits.
        if response.status_code.code() == 401 || request.method == Method::Options {
            self.layer.respond_statelessly(id, &response);
        } else {
            self.layer.respond(now, id, &response);
        }
    }

    fn register(&mut self, now: Instant, request: &rsip::Request, peer: Peer) -> rsip::Response {
        let to = header_value(&request.headers, "To").and_then(|v| NameAddr::parse(v, "To").ok());
        let Some(aor) = to.as_ref().and_then(NameAddr::user).map(str::to_string) else {
            return self.fresh_response(request, 400, "To header has no user part");
        };
        let username = match self.check_credentials(now, request, peer, Challenge::Registrar) {
            Ok(username) => username,
            Err(challenge) => return challenge,
        };
        if username != aor {
            return self.fresh_response(request, 403, "Username does not match To");
        }
        let Some(account) = self.accounts.get(&aor).filter(|a| a.enabled) else {
            return self.fresh_response(request, 403, "Extension disabled");
        };
        if account.encryption == Encryption::Require && peer.transport != Transport::Tls {
            return self.fresh_response(request, 403, "This extension registers over TLS only");
        }
        match self.registrar.handle_register(now, &aor, request, peer) {
            Ok(bindings) => {
                self.stats.registrations += 1;
                let mut r = self.fresh_response(request, 200, "OK");
                // RFC 3261 §20.17: simple phones take their clock from this.
                let wall = self.wall + now.saturating_duration_since(self.mono);
                r.headers
                    .push(Header::Date(httpdate::fmt_http_date(wall).into()));
                for b in bindings {
                    let secs = b.remaining(now).as_secs();
                    r.headers.push(Header::Contact(
                        format!("<{}>;expires={secs}", b.uri).into(),
                    ));
                }
                r
            }
            Err(err) => {
                let (code, reason) = err.status();
                let mut r = self.fresh_response(request, code, &reason);
                if let crate::registrar::RegisterError::IntervalTooBrief { min } = err {
                    r.headers.push(Header::MinExpires(min.to_string().into()));
                }
                r
            }
        }
    }

    /// The user a request's credentials prove, or the challenge to send. Failures count
    /// towards the source's ban; a request without credentials is simply challenged.
    fn check_credentials(
        &mut self,
        now: Instant,
        request: &rsip::Request,
        peer: Peer,
        kind: Challenge,
    ) -> Result<String, rsip::Response> {
        let verdict = match header_value(&request.headers, kind.credentials_header()) {
            Some(credentials) => {
                let accounts = &self.accounts;
                self.auth
                    .verify(now, method_name(request.method), credentials, |user| {
                        accounts.get(user).map(|a| &a.secrets)
                    })
            }
            None => Verdict::Rejected("no credentials"),
        };
        match verdict {
            Verdict::Authenticated { username } => Ok(username),
            Verdict::Stale => Err(self.challenge(now, request, peer, true, kind)),
            Verdict::Rejected(reason) => {
                if reason != "no credentials" {
                    self.stats.auth_failures += 1;
                    let claimed = header_value(&request.headers, kind.credentials_header())
                        .and_then(crate::auth::claimed_user)
                        .filter(|user| self.accounts.contains_key(*user));
                    self.guard.record_failure(peer.addr.ip(), claimed, now);
                }
                Err(self.challenge(now, request, peer, false, kind))
            }
        }
    }

    /// A 401/407 that depends only on the request, so a retransmission is answered
    /// identically although no transaction remembers it.
    fn challenge(
        &self,
        now: Instant,
        request: &rsip::Request,
        peer: Peer,
        stale: bool,
        kind: Challenge,
    ) -> rsip::Response {
        let id = format!(
            "{}|{}|{}|{}",
            message::top_via(&request.headers)
                .and_then(|v| v.branch().map(str::to_string))
                .unwrap_or_default(),
            header_value(&request.headers, "Call-ID").unwrap_or_default(),
            header_value(&request.headers, "CSeq").unwrap_or_default(),
            peer.addr
        );
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&id, &mut hasher);
        let tag = format!("sb{:x}", std::hash::Hasher::finish(&hasher));
        let mut r = match kind {
            Challenge::Registrar => self.response(request, 401, "Unauthorized", &tag),
            Challenge::Proxy => self.response(request, 407, "Proxy Authentication Required", &tag),
        };
        for value in self.auth.challenge(now, stale, id.as_bytes()) {
            r.headers.push(match kind {
                Challenge::Registrar => Header::WwwAuthenticate(value.into()),
                Challenge::Proxy => Header::ProxyAuthenticate(value.into()),
            });
        }
        r
    }

    /// A response with a fresh To tag.
    /// Answers a request from a source over its rate with 503 and Retry-After (RFC 3261
    /// §21.5.4); anything else from it is dropped.
    fn refuse_flood(&mut self, peer: Peer, bytes: &[u8]) {
        self.stats.limited += 1;
        let Ok(Message::Request(request)) = message::parse(bytes) else {
            return;
        };
        if request.method == Method::Ack {
            return;
        }
        let mut response = self.fresh_response(&request, 503, "Service Unavailable");
        response
            .headers
            .push(Header::Other("Retry-After".into(), "5".into()));
        self.transmits.push_back(Transmit {
            peer,
            bytes: message::response_bytes(&response),
        });
    }

    fn fresh_response(
        &mut self,
        request: &rsip::Request,
        code: u16,
        reason: &str,
    ) -> rsip::Response {
        self.tags += 1;
        let tag = format!("sb{:x}", self.tags);
        self.response(request, code, reason, &tag)
    }
}

/// Which digest exchange a request takes part in (RFC 3261 §22.2 and §22.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Challenge {
    Registrar,
    Proxy,
}

impl Challenge {
    fn credentials_header(self) -> &'static str {
        match self {
            Challenge::Registrar => "Authorization",
            Challenge::Proxy => "Proxy-Authorization",
        }
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
            let mut elements: Vec<String> = crate::header::split_list(via.value())
                .into_iter()
                .map(str::to_string)
                .collect();
            if let Some(top) = elements.first_mut()
                && let Ok(mut parsed) = crate::header::Via::parse(top)
                && parsed.stamp_source(peer.addr)
            {
                *top = parsed.to_string();
                *via = elements.join(", ").into();
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::authorization;
    use crate::transaction::Transport;

    const PHONE: Peer = Peer {
        transport: Transport::Udp,
        addr: std::net::SocketAddr::V4(std::net::SocketAddrV4::new(
            std::net::Ipv4Addr::new(192, 0, 2, 7),
            5062,
        )),
    };

    fn service(t0: Instant) -> Service {
        Service::new(
            ServiceConfig::default(),
            [1; 32],
            t0,
            std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        )
    }

    fn register(user: &str, cseq: u32, auth: Option<String>) -> Vec<u8> {
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKr{cseq};rport\r\n\
             From: <sip:{user}@pbx>;tag=ft\r\nTo: <sip:{user}@pbx>\r\nCall-ID: reg-1\r\nCSeq: {cseq} REGISTER\r\n\
             Contact: <sip:{user}@192.0.2.7:5062>\r\nExpires: 120\r\n{auth}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    /// The phone's answer to the challenge line of a 401.
    fn answer(challenge_line: &str, user: &str, password: &str, nc: u32) -> String {
        let challenge = challenge_line
            .trim_start_matches("WWW-Authenticate:")
            .trim();
        authorization(challenge, "REGISTER", "sip:pbx", user, password, nc, "cn").unwrap()
    }

    fn replies(s: &mut Service) -> Vec<String> {
        std::iter::from_fn(|| s.poll_transmit())
            .map(|t| String::from_utf8(t.bytes).unwrap())
            .collect()
    }

    fn with_passwords(s: &mut Service) {
        let account = |user: &str, enabled| Account {
            encryption: Encryption::Allow,
            secrets: AccountSecrets::from_password(user, "switchboard", "pw-123456789"),
            enabled,
        };
        s.set_accounts(HashMap::from([
            ("100".to_string(), account("100", true)),
            ("101".to_string(), account("101", false)),
        ]));
    }

    #[test]
    fn challenge_then_register_then_absorb_retransmission_then_expire() {
        let t0 = Instant::now();
        let mut s = service(t0);
        with_passwords(&mut s);
        s.handle_datagram(t0, PHONE, &register("100", 1, None));
        let out = replies(&mut s);
        assert!(out[0].starts_with("SIP/2.0 401 Unauthorized\r\n"));
        assert!(
            out[0].contains("rport=5062;received=192.0.2.7"),
            "{}",
            out[0]
        );
        let challenge = out[0]
            .lines()
            .find(|l| l.starts_with("WWW-Authenticate"))
            .unwrap()
            .to_string();

        let request = register("100", 2, Some(answer(&challenge, "100", "pw-123456789", 1)));
        s.handle_datagram(t0, PHONE, &request);
        let out = replies(&mut s);
        assert!(out[0].starts_with("SIP/2.0 200 OK\r\n"), "{}", out[0]);
        assert!(out[0].contains("Contact: <sip:100@192.0.2.7:5062>;expires=120\r\n"));
        assert!(
            out[0].contains("Date: Wed, 18 Nov 2026 11:06:40 GMT\r\n"),
            "{}",
            out[0]
        );
        assert!(matches!(
            s.poll_binding_change(),
            Some(BindingChange::Upsert { .. })
        ));

        // The same request again (lost 200): answered from the transaction, not re-run.
        s.handle_datagram(t0 + Duration::from_millis(500), PHONE, &request);
        assert!(replies(&mut s)[0].starts_with("SIP/2.0 200 OK\r\n"));
        assert_eq!(s.stats().registrations, 1);

        let mut now = t0;
        while let Some(at) = s.poll_timeout() {
            now = at;
            s.handle_timeout(now);
        }
        assert_eq!(now, t0 + Duration::from_secs(120));
        assert_eq!(s.registrar().binding_count(), 0);
        assert!(matches!(
            s.poll_binding_change(),
            Some(BindingChange::Remove { .. })
        ));
    }

    #[test]
    fn a_retransmitted_register_gets_the_identical_challenge_without_a_transaction() {
        let t0 = Instant::now();
        let mut s = service(t0);
        with_passwords(&mut s);
        s.handle_datagram(t0, PHONE, &register("100", 1, None));
        let first = replies(&mut s);
        s.handle_datagram(
            t0 + Duration::from_millis(500),
            PHONE,
            &register("100", 1, None),
        );
        assert_eq!(replies(&mut s), first);
        assert_eq!(s.poll_timeout(), None, "nothing kept for a challenge");
        s.handle_datagram(t0, PHONE, &register("100", 2, None));
        assert_ne!(replies(&mut s), first, "another request, another nonce");
    }

    #[test]
    fn someone_elses_credentials_or_a_disabled_extension_get_403() {
        let t0 = Instant::now();
        let mut s = service(t0);
        with_passwords(&mut s);
        s.handle_datagram(t0, PHONE, &register("100", 1, None));
        let challenge = replies(&mut s)[0]
            .lines()
            .find(|l| l.starts_with("WWW-Authenticate"))
            .unwrap()
            .to_string();
        // 101's credentials used for 100's binding.
        let mut forged = String::from_utf8(register(
            "100",
            2,
            Some(answer(&challenge, "101", "pw-123456789", 1)),
        ))
        .unwrap();
        forged = forged.replace("branch=z9hG4bKr2", "branch=z9hG4bKforged");
        s.handle_datagram(t0, PHONE, forged.as_bytes());
        assert!(replies(&mut s)[0].starts_with("SIP/2.0 403 Username does not match To\r\n"));
        s.handle_datagram(
            t0,
            PHONE,
            &register("101", 3, Some(answer(&challenge, "101", "pw-123456789", 2))),
        );
        assert!(replies(&mut s)[0].starts_with("SIP/2.0 403 Extension disabled\r\n"));
        assert_eq!(s.registrar().binding_count(), 0);
    }

    #[test]
    fn options_is_answered_without_credentials() {
        let t0 = Instant::now();
        let mut s = service(t0);
        let options = "OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKo\r\n\
                       From: <sip:100@pbx>;tag=a\r\nTo: <sip:pbx>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n\r\n";
        s.handle_datagram(t0, PHONE, options.as_bytes());
        let out = replies(&mut s);
        assert!(out[0].starts_with("SIP/2.0 200 OK\r\n"));
        assert!(out[0].contains(&format!("Allow: {ALLOW}\r\n")));
    }

    #[test]
    fn invites_go_to_the_call_logic_and_a_proxy_challenge_uses_407() {
        let t0 = Instant::now();
        let mut s = service(t0);
        with_passwords(&mut s);
        let invite = "INVITE sip:101@pbx SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKi1\r\n\
                      From: <sip:100@pbx>;tag=a\r\nTo: <sip:101@pbx>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n";
        s.handle_datagram(t0, PHONE, invite.as_bytes());
        assert!(
            replies(&mut s).is_empty(),
            "the service does not answer INVITE itself"
        );
        let Some(TransactionEvent::Request { id, request, peer }) = s.poll_event() else {
            panic!("no event");
        };
        let challenge = s.authenticate(t0, &request, peer).unwrap_err();
        s.respond(t0, id, &challenge);
        let out = replies(&mut s);
        assert!(out[0].starts_with("SIP/2.0 407 Proxy Authentication Required\r\n"));
        assert!(
            out[0].contains("Proxy-Authenticate: Digest realm=\"switchboard\""),
            "{}",
            out[0]
        );
        let cancel = invite
            .replace("INVITE sip", "CANCEL sip")
            .replace("1 INVITE", "1 CANCEL");
        s.handle_datagram(t0, PHONE, cancel.as_bytes());
        let Some(TransactionEvent::Request {
            request: cancel, ..
        }) = s.poll_event()
        else {
            panic!("no CANCEL event");
        };
        assert_eq!(s.invite_cancelled_by(&cancel), Some(id));
    }

    #[test]
    fn guessing_passwords_gets_the_source_banned_and_scanners_are_ignored() {
        let t0 = Instant::now();
        let mut s = service(t0);
        with_passwords(&mut s);
        for cseq in 1..=10 {
            s.handle_datagram(t0, PHONE, &register("100", cseq, None));
            let challenge = replies(&mut s)[0]
                .lines()
                .find(|l| l.starts_with("WWW-Authenticate"))
                .unwrap()
                .to_string();
            s.handle_datagram(
                t0,
                PHONE,
                &register(
                    "100",
                    100 + cseq,
                    Some(answer(&challenge, "100", "guess", 1)),
                ),
            );
            assert!(replies(&mut s)[0].starts_with("SIP/2.0 401 "));
        }
        s.handle_datagram(t0, PHONE, &register("100", 50, None));
        assert!(
            replies(&mut s).is_empty(),
            "banned after ten wrong passwords"
        );
        assert_eq!(s.stats().blocked, 1);

        let other = Peer {
            addr: "192.0.2.99:5060".parse().unwrap(),
            ..PHONE
        };
        let scan = String::from_utf8(register("100", 1, None))
            .unwrap()
            .replace(
                "Expires: 120",
                "User-Agent: friendly-scanner\r\nExpires: 120",
            );
        s.handle_datagram(t0, other, scan.as_bytes());
        assert!(replies(&mut s).is_empty(), "a scanner gets no answer");
        // Over UDP anyone could have sent that in the name of `other`'s address: the
        // phone there is not banned for it.
        s.handle_datagram(t0, other, &register("100", 2, None));
        assert!(replies(&mut s)[0].starts_with("SIP/2.0 401 "));
        // Over TCP the address is proved, and banned.
        let connected = Peer {
            transport: Transport::Tcp,
            ..other
        };
        s.handle_datagram(t0, connected, scan.as_bytes());
        s.handle_datagram(t0, connected, &register("100", 3, None));
        assert!(
            replies(&mut s).is_empty(),
            "the scanner's address stays banned"
        );
        assert_eq!(s.banned_sources(), 2);
    }

    #[test]
    fn a_source_over_its_rate_is_answered_503_with_retry_after() {
        let t0 = Instant::now();
        let mut s = service(t0);
        let options = |n: u32| {
            format!(
                "OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKo{n}\r\n\
                 From: <sip:x@pbx>;tag=f\r\nTo: <sip:pbx>\r\nCall-ID: o{n}\r\nCSeq: 1 OPTIONS\r\n\
                 Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let mut answers = Vec::new();
        for n in 0..201 {
            s.handle_datagram(t0, PHONE, options(n).as_bytes());
            answers.extend(replies(&mut s));
        }
        assert!(answers[..200].iter().all(|a| a.starts_with("SIP/2.0 200 ")));
        assert!(answers[200].starts_with("SIP/2.0 503 "), "{}", answers[200]);
        assert!(answers[200].contains("Retry-After: 5\r\n"));
        assert_eq!(s.stats().limited, 1);
        // A second later the source has its rate again.
        s.handle_datagram(t0 + Duration::from_secs(1), PHONE, options(999).as_bytes());
        assert!(replies(&mut s)[0].starts_with("SIP/2.0 200 "));
    }

    #[test]
    fn garbage_is_counted_not_answered() {
        let t0 = Instant::now();
        let mut s = service(t0);
        s.handle_datagram(t0, PHONE, b"\x16\x03\x01 not sip");
        assert!(replies(&mut s).is_empty());
        assert_eq!(s.stats().dropped, 1);
    }
}
