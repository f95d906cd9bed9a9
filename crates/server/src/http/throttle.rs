//! Password guessing over HTTP: failed logins are counted per account and address, so
//! that someone guessing one account from a shared address (an office behind one NAT)
//! does not lock everyone else there out. After a few failures each further attempt on
//! that pair must wait, twice as long after every failure (up to [`MAX_DELAY`]): no
//! hard wall the real owner cannot get through, but guessing slows to a crawl.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Failed logins on one account from one address that go unhindered.
const FREE_FAILURES: u32 = 5;
const MAX_DELAY: Duration = Duration::from_secs(900);
/// A pair with no failure for this long starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Pairs followed at once; account names are the guesser's choice, so memory is capped.
const MAX_PAIRS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// When the next attempt may be made.
    fn next_attempt(&self) -> Instant {
        if self.count < FREE_FAILURES {
            return self.last;
        }
        let doublings = (self.count - FREE_FAILURES).min(20);
        self.last + Duration::from_secs(1u64 << doublings).min(MAX_DELAY)
    }
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<(String, IpAddr), Failures>>,
}

impl LoginThrottle {
    /// How long a login on `account` from `ip` must wait yet, if at all.
    pub fn wait(&self, account: &str, ip: IpAddr, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let next = failures.get(&key(account, ip))?.next_attempt();
        (next > now).then(|| next - now)
    }

    pub fn failed(&self, account: &str, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_PAIRS {
            failures.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
            if failures.len() >= MAX_PAIRS
                && let Some(oldest) = failures
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(key(account, ip)).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    /// The right password: this pair starts afresh.
    pub fn succeeded(&self, account: &str, ip: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&key(account, ip));
    }
}

/// The answer to a login that must wait: 429 with the seconds left in Retry-After.
pub fn locked_out(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "locked-out",
        format!("too many failed logins on this account from here; try again in {seconds} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn key(account: &str, ip: IpAddr) -> (String, IpAddr) {
    (account.trim().to_lowercase(), ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_slow_one_account_from_one_address_and_nobody_else() {
        let throttle = LoginThrottle::default();
        let (ip, other): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.wait("admin", ip, t0), None);
            throttle.failed("admin", ip, t0);
        }
        assert_eq!(throttle.wait("Admin", ip, t0), Some(Duration::from_secs(1)));
        assert_eq!(throttle.wait("101", ip, t0), None, "another account there");
        assert_eq!(
            throttle.wait("admin", other, t0),
            None,
            "the account elsewhere"
        );
        // Each further failure doubles the wait, up to fifteen minutes.
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..14 {
            now += throttle.wait("admin", ip, now).unwrap_or_default();
            throttle.failed("admin", ip, now);
            waits.push(throttle.wait("admin", ip, now).unwrap().as_secs());
        }
        assert_eq!(
            waits,
            [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900, 900]
        );
        throttle.succeeded("admin", ip);
        assert_eq!(throttle.wait("admin", ip, now), None);
    }
}
