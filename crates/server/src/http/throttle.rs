//! Password guessing over HTTP: an address whose logins keep failing is refused for a
//! while, like a SIP source that fails digest authentication.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins from one address before it is refused for [`LOCKOUT`].
const MAX_FAILURES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginThrottle {
    pub fn locked_out(&self, ip: IpAddr, now: Instant) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, since)| now.duration_since(*since) < LOCKOUT);
        failures.get(&ip).is_some_and(|(n, _)| *n >= MAX_FAILURES)
    }

    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures.entry(ip).or_insert((0, now));
        *entry = (entry.0 + 1, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_an_address_out_for_five_minutes() {
        let throttle = LoginThrottle::default();
        let (ip, other): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(!throttle.locked_out(ip, t0));
            throttle.failed(ip, t0);
        }
        assert!(throttle.locked_out(ip, t0));
        assert!(!throttle.locked_out(other, t0));
        assert!(!throttle.locked_out(ip, t0 + LOCKOUT));
    }
}
