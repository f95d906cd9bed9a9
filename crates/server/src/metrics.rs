//! Counters the engine publishes for the health endpoint, without a lock on the hot path.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use switchboard_core::Pbx;

#[derive(Debug, Default)]
pub struct Metrics {
    bindings: AtomicU64,
    registrations: AtomicU64,
    auth_failures: AtomicU64,
    rejected: AtomicU64,
    dropped: AtomicU64,
    blocked: AtomicU64,
    banned: AtomicU64,
    active_calls: AtomicU64,
    rtp_forwarded: AtomicU64,
    rtp_dropped: AtomicU64,
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
    pub active_calls: u64,
    pub rtp_forwarded: u64,
    /// RTP packets dropped: malformed, from strangers, foreign streams, unknown payloads.
    pub rtp_dropped: u64,
}

impl Metrics {
    pub fn update(&self, pbx: &Pbx) {
        let service = pbx.service();
        let s = service.stats();
        self.active_calls
            .store(pbx.active_calls() as u64, Ordering::Relaxed);
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
            active_calls: self.active_calls.load(Ordering::Relaxed),
            rtp_forwarded: self.rtp_forwarded.load(Ordering::Relaxed),
            rtp_dropped: self.rtp_dropped.load(Ordering::Relaxed),
        }
    }

    pub fn add_rtp(&self, forwarded: u64, dropped: u64) {
        self.rtp_forwarded.fetch_add(forwarded, Ordering::Relaxed);
        self.rtp_dropped.fetch_add(dropped, Ordering::Relaxed);
    }
}
