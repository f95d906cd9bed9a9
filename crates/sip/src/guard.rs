//! Brute-force and scanner protection, on by default.
//!
//! A source address that fails digest authentication too often within a window is
//! banned for a while: its datagrams are dropped unanswered, as fail2ban would do but
//! without log scraping. Requests from well-known SIP scanners (by their User-Agent)
//! are dropped and ban their source at once: an answer would only confirm a PBX lives
//! here. Time is passed in like everywhere else.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardConfig {
    /// Failed authentications from one address that trigger a ban (0 turns bans off).
    pub max_auth_failures: u32,
    /// How far back failures count.
    pub failure_window: Duration,
    /// How long a ban lasts.
    pub ban: Duration,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            max_auth_failures: 10,
            failure_window: Duration::from_secs(300),
            ban: Duration::from_secs(900),
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

#[derive(Debug, Default)]
pub struct Guard {
    config: GuardConfig,
    /// Failures in the current window, and when the window started.
    failures: HashMap<IpAddr, (u32, Instant)>,
    bans: HashMap<IpAddr, Instant>,
    /// Every ban and failure window's end, to forget them on time.
    deadlines: BTreeSet<(Instant, IpAddr)>,
}

impl Guard {
    pub fn new(config: GuardConfig) -> Self {
        Guard {
            config,
            ..Default::default()
        }
    }

    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        self.bans.get(&ip).is_some_and(|until| *until > now)
    }

    pub fn banned_count(&self) -> usize {
        self.bans.len()
    }

    /// Notes a failed authentication; returns true when it starts a ban.
    pub fn record_failure(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.config.max_auth_failures == 0 {
            return false;
        }
        let window = self.config.failure_window;
        let entry = self.failures.entry(ip).or_insert((0, now));
        if now.saturating_duration_since(entry.1) > window {
            *entry = (0, now);
        }
        entry.0 += 1;
        if entry.0 == 1 {
            self.deadlines.insert((now + window, ip));
        }
        if entry.0 >= self.config.max_auth_failures {
            self.failures.remove(&ip);
            self.ban(ip, now);
            return true;
        }
        false
    }

    /// A source that authenticated correctly starts from a clean slate.
    pub fn record_success(&mut self, ip: IpAddr) {
        self.failures.remove(&ip);
    }

    /// Bans a source at once (scanners).
    pub fn ban(&mut self, ip: IpAddr, now: Instant) {
        let until = now + self.config.ban;
        self.bans.insert(ip, until);
        self.deadlines.insert((until, ip));
    }

    /// Forgets bans and failure windows that have run out.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, ip)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            if self.bans.get(&ip).is_some_and(|until| *until <= now) {
                self.bans.remove(&ip);
            }
            if self.failures.get(&ip).is_some_and(|(_, start)| {
                now.saturating_duration_since(*start) >= self.config.failure_window
            }) {
                self.failures.remove(&ip);
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 9));

    #[test]
    fn tenth_failure_in_the_window_bans_until_the_ban_ends() {
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        for i in 0..9 {
            assert!(!guard.record_failure(ATTACKER, t0 + Duration::from_secs(i)));
        }
        assert!(!guard.is_banned(ATTACKER, t0 + Duration::from_secs(9)));
        assert!(guard.record_failure(ATTACKER, t0 + Duration::from_secs(9)));
        assert!(guard.is_banned(ATTACKER, t0 + Duration::from_secs(10)));
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
    fn slow_guessing_and_a_success_reset_the_count() {
        let mut guard = Guard::new(GuardConfig::default());
        let t0 = Instant::now();
        // One guess every 40 s: never ten within five minutes.
        for i in 0..30 {
            assert!(!guard.record_failure(ATTACKER, t0 + Duration::from_secs(40 * i)));
        }
        let later = t0 + Duration::from_secs(2000);
        for _ in 0..9 {
            guard.record_failure(ATTACKER, later);
        }
        guard.record_success(ATTACKER);
        assert!(!guard.record_failure(ATTACKER, later));
        assert!(!guard.is_banned(ATTACKER, later));
    }

    #[test]
    fn zero_turns_bans_off() {
        let mut guard = Guard::new(GuardConfig {
            max_auth_failures: 0,
            ..Default::default()
        });
        let t0 = Instant::now();
        assert!((0..100).all(|_| !guard.record_failure(ATTACKER, t0)));
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
