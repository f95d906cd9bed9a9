//! Counters the engine publishes for the health endpoint, without a lock on the hot path.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use switchboard_sip::service::Service;

#[derive(Debug, Default)]
pub struct Metrics {
    bindings: AtomicU64,
    registrations: AtomicU64,
    auth_failures: AtomicU64,
    rejected: AtomicU64,
    dropped: AtomicU64,
    blocked: AtomicU64,
    banned: AtomicU64,
}

/// A point-in-time copy, as `/health` reports it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Snapshot {
    pub bindings: u64,
    pub registrations: u64,
    pub auth_failures: u64,
    pub rejected_requests: u64,
    pub dropped_messages: u64,
    /// Messages ignored from banned addresses and scanners.
    pub blocked_messages: u64,
    pub banned_sources: u64,
}

impl Metrics {
    pub fn update(&self, service: &Service) {
        let s = service.stats();
        self.bindings.store(
            service.registrar().binding_count() as u64,
            Ordering::Relaxed,
        );
        self.registrations.store(s.registrations, Ordering::Relaxed);
        self.auth_failures.store(s.auth_failures, Ordering::Relaxed);
        self.rejected.store(s.rejected, Ordering::Relaxed);
        self.dropped.store(s.dropped, Ordering::Relaxed);
        self.blocked.store(s.blocked, Ordering::Relaxed);
        self.banned
            .store(service.banned_sources() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            bindings: self.bindings.load(Ordering::Relaxed),
            registrations: self.registrations.load(Ordering::Relaxed),
            auth_failures: self.auth_failures.load(Ordering::Relaxed),
            rejected_requests: self.rejected.load(Ordering::Relaxed),
            dropped_messages: self.dropped.load(Ordering::Relaxed),
            blocked_messages: self.blocked.load(Ordering::Relaxed),
            banned_sources: self.banned.load(Ordering::Relaxed),
        }
    }
}
