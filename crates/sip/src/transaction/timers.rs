use std::time::{Duration, Instant};

/// RFC 3261 base intervals; Table 4 derives every timer from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip estimate (500 ms by default).
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses (4 s).
    pub t2: Duration,
    /// Longest time a message stays in the network (5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: how long any transaction waits for its peer before giving up.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}

/// The timers of RFC 3261 §17 and RFC 6026 (L and M).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// INVITE client retransmit.
    A,
    /// INVITE client timeout.
    B,
    /// INVITE client wait for response retransmits after a failure.
    D,
    /// Non-INVITE client retransmit.
    E,
    /// Non-INVITE client timeout.
    F,
    /// INVITE server final-response retransmit.
    G,
    /// INVITE server wait for ACK.
    H,
    /// INVITE server wait for ACK retransmits.
    I,
    /// Non-INVITE server wait for request retransmits.
    J,
    /// Non-INVITE client wait for response retransmits.
    K,
    /// INVITE server wait for INVITE retransmits after a 2xx.
    L,
    /// INVITE client wait for 2xx retransmits.
    M,
}

const TIMERS: [Timer; 12] = [
    Timer::A,
    Timer::B,
    Timer::D,
    Timer::E,
    Timer::F,
    Timer::G,
    Timer::H,
    Timer::I,
    Timer::J,
    Timer::K,
    Timer::L,
    Timer::M,
];

/// One transaction's armed timers; the next deadline is the earliest.
#[derive(Debug, Default, Clone)]
pub(crate) struct TimerTable([Option<Instant>; 12]);

impl TimerTable {
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer as usize] = Some(at);
    }

    pub fn clear(&mut self, timer: Timer) {
        self.0[timer as usize] = None;
    }

    pub fn clear_all(&mut self) {
        self.0 = [None; 12];
    }

    pub fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Disarms and returns every timer due at `now`, earliest first.
    pub fn expired(&mut self, now: Instant) -> Vec<Timer> {
        let mut due: Vec<(Instant, Timer)> = TIMERS
            .iter()
            .filter_map(|t| {
                self.0[*t as usize]
                    .filter(|at| *at <= now)
                    .map(|at| (at, *t))
            })
            .collect();
        due.sort();
        for (_, t) in &due {
            self.clear(*t);
        }
        due.into_iter().map(|(_, t)| t).collect()
    }
}
