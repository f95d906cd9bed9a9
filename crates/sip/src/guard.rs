//! Brute-force, flood and scanner protection, on by default, in the spirit of
//! Kamailio's pike module and fail2ban.
//!
//! Bans follow behaviour, never what a single packet claims (a UDP source address is
//! trivially forged, so a ban on one packet would let anyone ban the office's phones):
//! - failed digest authentications: too many from one address within a window ban it.
//!   A success does not wipe the count (a phone with its own password could otherwise
//!   guess another extension's between its own registrations), and an extension that
//!   has collected that many failures from anywhere bans each further address that
//!   fails on it at once (guessing spread over many addresses);
//! - request rate: an address over its rate is answered 503 with Retry-After, and one
//!   that keeps flooding is banned.
//!
//! Requests from known scanners (by User-Agent) get no answer at all, but ban only over
//! TCP, whose source address a handshake has proved. Trusted networks (the office LAN)
//! are never banned nor limited. The ban table has a cap: past it, the ban ending
//! soonest gives way. Bans are reported as [`BanChange`]s so they can be kept across
//! restarts, and can be lifted. Time is passed in like everywhere else.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// User-Agent fragments of SIP scanners and toll-fraud tools, matched case-insensitively.
const SCANNERS: &[&str] = &[
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "sip-scan",
    "sundayddr",
    "iWar",
    "VaxSIPUserAgent",
    "pplsip",
    "smap",
];

/// Sources whose request rate is followed at once; past it, new sources go unmetered
/// until idle ones are forgotten (a flood from forged addresses must not grow memory).
const MAX_METERED: usize = 65_536;

/// Refused requests (in seconds' worth of the allowed rate) that turn a limit into a
/// ban, unless the source goes quiet long enough for its bucket to fill up first.
const FLOOD_SECONDS: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardConfig {
    /// Failed authentications from one address (or on one extension) that trigger a
    /// ban (0 turns bans for failures off).
    pub max_auth_failures: u32,
    /// How far back failures count.
    pub failure_window: Duration,
    /// How long a ban lasts.
    pub ban: Duration,
    /// Requests a second one address may send on average (twice that in a burst);
    /// 0 turns the limit off.
    pub max_request_rate: u32,
    /// Bans kept at once.
    pub max_bans: usize,
    /// Networks never banned nor limited.
    pub trusted: Vec<IpNet>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            max_auth_failures: 10,
            failure_window: Duration::from_secs(300),
            ban: Duration::from_secs(900),
            max_request_rate: 100,
            max_bans: 10_000,
            trusted: Vec::new(),
        }
    }
}

/// Whether a User-Agent belongs to a known scanner.
pub fn is_scanner(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    SCANNERS
        .iter()
        .any(|s| ua.contains(&s.to_ascii_lowercase()))
}

/// Why an address was banned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanReason {
    FailedAuthentication,
    Flood,
    Scanner,
}

impl BanReason {
    pub fn name(self) -> &'static str {
        match self {
            BanReason::FailedAuthentication => "failed-authentication",
            BanReason::Flood => "flood",
            BanReason::Scanner => "scanner",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::FailedAuthentication, Self::Flood, Self::Scanner]
            .into_iter()
            .find(|r| r.name() == name)
    }
}

/// A ban as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ban {
    pub ip: IpAddr,
    pub until: Instant,
    pub reason: BanReason,
}

/// A change to keep across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanChange {
    Banned(Ban),
    Lifted(IpAddr),
}

/// What to do with a message from a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Pass,
    /// Over its rate: a request is answered 503 with Retry-After, anything else dropped.
    Limit,
    /// Banned: dropped unanswered.
    Drop,
}

/// A failure count within a window that started at `since`.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// A token bucket: `tokens` at `at`; `refused` counts requests refused since it was
/// last full.
#[derive(Debug, Clone, Copy)]
struct Meter {
    tokens: f32,
    at: Instant,
    refused: u32,
}

#[derive(Debug, Default)]
pub struct Guard {
    config: GuardConfig,
    by_address: HashMap<IpAddr, Failures>,
    by_extension: HashMap<String, Failures>,
    meters: HashMap<IpAddr, Meter>,
    bans: HashMap<IpAddr, Ban>,
    /// Every ban's end, to forget it on time and to find the one ending soonest.
    ends: BTreeSet<(Instant, IpAddr)>,
    changes: VecDeque<BanChange>,
}

impl Guard {
    pub fn new(config: GuardConfig) -> Self {
        Guard {
            config,
            ..Default::default()
        }
    }

    // --- getters

    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.bans.get(&ip).is_some_and(|b| b.until > now)
    }

    pub fn banned_count(&self) -> usize {
        self.bans.len()
    }

    /// The bans in force, ending soonest first.
    pub fn bans(&self) -> impl Iterator<Item = &Ban> {
        self.ends.iter().filter_map(|(_, ip)| self.bans.get(ip))
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.config.trusted.iter().any(|net| net.contains(&ip))
    }

    // --- handle_*

    /// A message arrived from `ip`: whether it may go on, counting it against the
    /// source's rate.
    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> Admission {
        if self.is_banned(ip, now) {
            return Admission::Drop;
        }
        let rate = self.config.max_request_rate;
        if rate == 0 || self.is_trusted(ip) {
            return Admission::Pass;
        }
        let burst = 2.0 * rate as f32;
        if self.meters.len() >= MAX_METERED && !self.meters.contains_key(&ip) {
            // Forget sources whose bucket has filled up again: they were idle.
            let full_after = Duration::from_secs_f32(burst / rate as f32);
            self.meters
                .retain(|_, m| now.saturating_duration_since(m.at) < full_after);
            if self.meters.len() >= MAX_METERED {
                return Admission::Pass;
            }
        }
        let meter = self.meters.entry(ip).or_insert(Meter {
            tokens: burst,
            at: now,
            refused: 0,
        });
        let refill = now.saturating_duration_since(meter.at).as_secs_f32() * rate as f32;
        meter.tokens = (meter.tokens + refill).min(burst);
        meter.at = now;
        if meter.tokens >= burst {
            // Quiet long enough to fill up again: what it was refused is forgiven.
            meter.refused = 0;
        }
        if meter.tokens >= 1.0 {
            meter.tokens -= 1.0;
            return Admission::Pass;
        }
        meter.refused += 1;
        if meter.refused >= FLOOD_SECONDS * rate {
            self.meters.remove(&ip);
            self.ban(ip, now, BanReason::Flood);
            return Admission::Drop;
        }
        Admission::Limit
    }

    /// A failed authentication from `ip`, claiming `extension` when it names one that
    /// exists; true when it starts a ban.
    pub fn record_failure(&mut self, ip: IpAddr, extension: Option<&str>, now: Instant) -> bool {
        let max = self.config.max_auth_failures;
        if max == 0 || self.is_trusted(ip) || self.is_banned(ip, now) {
            return false;
        }
        let window = self.config.failure_window;
        let count = |failures: &mut Failures| {
            if now.saturating_duration_since(failures.since) > window {
                *failures = Failures {
                    count: 0,
                    since: now,
                };
            }
            failures.count += 1;
            failures.count
        };
        let fresh = Failures {
            count: 0,
            since: now,
        };
        let from_address = count(self.by_address.entry(ip).or_insert(fresh));
        // Only existing extensions are followed, so made-up names cannot grow the map.
        let on_extension = extension.map_or(0, |e| {
            count(self.by_extension.entry(e.to_string()).or_insert(fresh))
        });
        if from_address >= max || on_extension > max {
            self.by_address.remove(&ip);
            self.ban(ip, now, BanReason::FailedAuthentication);
            return true;
        }
        false
    }

    /// A scanner spoke over a connection whose address is proved (TCP).
    pub fn scanner_seen(&mut self, ip: IpAddr, now: Instant) {
        if !self.is_trusted(ip) {
            self.ban(ip, now, BanReason::Scanner);
        }
    }

    /// Takes up bans kept from before a restart.
    pub fn restore(&mut self, ban: Ban) {
        if !self.is_trusted(ban.ip) {
            self.insert(ban);
        }
    }

    /// Lifts the ban on `ip`; false when there was none.
    pub fn lift(&mut self, ip: IpAddr) -> bool {
        let Some(ban) = self.bans.remove(&ip) else {
            return false;
        };
        self.ends.remove(&(ban.until, ip));
        self.by_address.remove(&ip);
        self.changes.push_back(BanChange::Lifted(ip));
        true
    }

    /// Forgets bans and failure windows that have run out.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, ip)) = self.ends.first() {
            if at > now {
                break;
            }
            self.ends.pop_first();
            self.bans.remove(&ip);
        }
        let window = self.config.failure_window;
        let current = |f: &Failures| now.saturating_duration_since(f.since) <= window;
        if self.by_address.len() + self.by_extension.len() > 1024 {
            self.by_address.retain(|_, f| current(f));
            self.by_extension.retain(|_, f| current(f));
        }
    }

    // --- poll_*

    pub fn poll_change(&mut self) -> Option<BanChange> {
        self.changes.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.ends.first().map(|(at, _)| *at)
    }

    // --- internals

    fn ban(&mut self, ip: IpAddr, now: Instant, reason: BanReason) {
        let ban = Ban {
            ip,
            until: now + self.config.ban,
            reason,
        };
        self.insert(ban);
        self.changes.push_back(BanChange::Banned(ban));
    }

    fn insert(&mut self, ban: Ban) {
        if let Some(old) = self.bans.remove(&ban.ip) {
            self.ends.remove(&(old.until, ban.ip));
        }
        while self.bans.len() >= self.config.max_bans.max(1) {
            let Some((_, soonest)) = self.ends.pop_first() else {
                break;
            };
            self.bans.remove(&soonest);
        }
        self.bans.insert(ban.ip, ban);
        self.ends.insert((ban.until, ban.ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));

    fn ip(n: u8) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, n))
    }

    #[test]
    fn tenth_failure_in_the_window_bans_until_the_ban_ends() {
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        for i in 0..9 {
            assert!(!guard.record_failure(ATTACKER, None, t0 + Duration::from_secs(i)));
        }
        assert!(!guard.is_banned(ATTACKER, t0 + Duration::from_secs(9)));
        assert!(guard.record_failure(ATTACKER, None, t0 + Duration::from_secs(9)));
        assert!(guard.is_banned(ATTACKER, t0 + Duration::from_secs(10)));
        assert_eq!(
            guard.poll_change(),
            Some(BanChange::Banned(Ban {
                ip: ATTACKER,
                until: t0 + Duration::from_secs(9 + 900),
                reason: BanReason::FailedAuthentication
            }))
        );
        let mut now = t0;
        while let Some(at) = guard.poll_timeout() {
            now = at;
            guard.handle_timeout(now);
        }
        assert_eq!(now, t0 + Duration::from_secs(9 + 900));
        assert!(!guard.is_banned(ATTACKER, now));
        assert_eq!(guard.banned_count(), 0);
    }

    #[test]
    fn slow_guessing_is_not_banned() {
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        // One guess every 40 s: never ten within five minutes.
        for i in 0..30 {
            assert!(!guard.record_failure(ATTACKER, None, t0 + Duration::from_secs(40 * i)));
        }
    }

    #[test]
    fn a_success_between_guesses_does_not_wipe_them() {
        // There is no way to report a success: an insider's phone that registers as
        // itself between guesses at another extension is banned all the same.
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        let banned = (0..10)
            .any(|i| guard.record_failure(ATTACKER, Some("101"), t0 + Duration::from_millis(i)));
        assert!(banned);
    }

    #[test]
    fn guessing_one_extension_from_many_addresses_is_banned_address_by_address() {
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        // Three guesses from each address stay under the per-address count...
        let mut banned = Vec::new();
        for n in 0..10 {
            for _ in 0..3 {
                if guard.record_failure(ip(n), Some("101"), t0) {
                    banned.push(n);
                }
            }
        }
        // ...but once 101 has seen ten failures, every address failing on it is out.
        assert_eq!(banned, (3..10).collect::<Vec<u8>>());
        assert!(!guard.record_failure(ip(200), Some("102"), t0));
    }

    #[test]
    fn a_flood_is_answered_503_then_banned_and_a_phone_within_its_rate_never_is() {
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        let admitted: Vec<Admission> = (0..200 + 5 * 100)
            .map(|_| guard.admit(ATTACKER, t0))
            .collect();
        assert!(
            admitted[..200].iter().all(|a| *a == Admission::Pass),
            "the burst"
        );
        assert!(admitted[200..699].iter().all(|a| *a == Admission::Limit));
        assert_eq!(admitted[699], Admission::Drop);
        assert!(guard.is_banned(ATTACKER, t0));
        // A phone sending 50 a second for a minute is never held back.
        let phone = ip(7);
        assert!((0..3000).all(|i| {
            guard.admit(phone, t0 + Duration::from_millis(20 * i)) == Admission::Pass
        }));
    }

    #[test]
    fn trusted_networks_are_neither_banned_nor_limited() {
        let mut guard = Guard::new(GuardConfig {
            trusted: vec!["198.51.100.0/24".parse().unwrap()],
            ..GuardConfig::default()
        });
        let t0 = Instant::now();
        assert!((0..50).all(|_| !guard.record_failure(ip(3), Some("101"), t0)));
        assert!((0..5000).all(|_| guard.admit(ip(3), t0) == Admission::Pass));
        guard.scanner_seen(ip(3), t0);
        assert!(!guard.is_banned(ip(3), t0));
        assert!((0..10).any(|_| guard.record_failure(ATTACKER, None, t0)));
    }

    #[test]
    fn the_ban_table_has_a_cap_and_the_soonest_ending_ban_gives_way() {
        let mut guard = Guard::new(GuardConfig {
            max_bans: 3,
            ..GuardConfig::default()
        });
        let t0 = Instant::now();
        for n in 0..5u8 {
            guard.scanner_seen(ip(n), t0 + Duration::from_secs(n.into()));
        }
        assert_eq!(guard.banned_count(), 3);
        let kept: Vec<IpAddr> = guard.bans().map(|b| b.ip).collect();
        assert_eq!(kept, [ip(2), ip(3), ip(4)]);
    }

    #[test]
    fn a_ban_can_be_lifted_and_restored() {
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        guard.scanner_seen(ATTACKER, t0);
        let Some(BanChange::Banned(ban)) = guard.poll_change() else {
            panic!("a ban is reported");
        };
        assert!(guard.lift(ATTACKER));
        assert_eq!(guard.poll_change(), Some(BanChange::Lifted(ATTACKER)));
        assert!(!guard.is_banned(ATTACKER, t0));
        assert!(!guard.lift(ATTACKER));
        let mut after_restart = Guard::new(GuardConfig::default());
        after_restart.restore(ban);
        assert!(after_restart.is_banned(ATTACKER, t0));
        assert_eq!(after_restart.poll_change(), None, "nothing new to keep");
    }

    #[test]
    fn zero_turns_failure_bans_off() {
        let mut guard = Guard::new(GuardConfig {
            max_auth_failures: 0,
            ..Default::default()
        });
        let t0 = Instant::now();
        assert!((0..100).all(|_| !guard.record_failure(ATTACKER, None, t0)));
        assert_eq!(guard.poll_timeout(), None);
    }

    #[test]
    fn scanners_are_recognised_and_phones_are_not() {
        assert!(is_scanner("friendly-scanner"));
        assert!(is_scanner("sipvicious 0.3.4"));
        assert!(is_scanner("VaxSIPUserAgent/3.1"));
        for phone in [
            "Yealink SIP-T46S 66.86.0.15",
            "baresip v1.0.0 (x86_64/linux)",
            "PJSUA v2.15",
            "Linphone/5.1.65",
            "SIPp",
        ] {
            assert!(!is_scanner(phone), "{phone}");
        }
    }
}
