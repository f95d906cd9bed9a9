//! The estimated wait told to a caller.
//!
//! A caller at position `p` is served when an agent frees for the `p`-th time. Each
//! staffed agent (available, whatever they are doing) frees after what is left of their
//! current work: nothing when idle or ringing, the rest of the wrap-up, or the rest of
//! an average handle time on a call (at least a tenth of it: a call past its average
//! is likely to end soon, not now). From then on every caller ahead keeps an agent for
//! one average handle time (talk plus wrap-up). Playing that forward, always giving
//! the next caller to the agent who frees first, finds when the `p`-th agent frees.
//!
//! The average handle time is an exponentially weighted mean of the queue's recent
//! calls (each call counts for a fifth), so it follows a change in the kind of calls
//! within a few of them. A queue-wide moving average of past waits, the usual
//! alternative, ignores how many agents are staffed now and how far into their calls
//! they are. The simulation in `acd/tests/estimate.rs` (90 % load, lognormal calls of
//! 120 s mean, 3,000 callers) measures both: mean absolute error 140 s against 204 s
//! with 2 agents, 56 s against 75 s with 5, 32 s against 39 s with 10.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

/// Assumed until a queue has handled a call.
pub const DEFAULT_HANDLE_TIME: Duration = Duration::from_secs(180);

/// The weight of the newest call in the average.
const NEWEST_WEIGHT: f64 = 0.2;

/// A queue's recent handle times.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HandleTimes {
    mean_secs: Option<f64>,
}

impl HandleTimes {
    pub fn record(&mut self, handle: Duration) {
        let secs = handle.as_secs_f64();
        self.mean_secs = Some(match self.mean_secs {
            None => secs,
            Some(mean) => mean + NEWEST_WEIGHT * (secs - mean),
        });
    }

    pub fn average(&self) -> Duration {
        self.mean_secs
            .map_or(DEFAULT_HANDLE_TIME, Duration::from_secs_f64)
    }
}

/// What a staffed agent is doing, for the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Idle or ringing: free now.
    Free,
    /// On a call that has lasted this long.
    OnCall(Duration),
    /// Wrapping up for this much longer.
    WrappingUp(Duration),
}

/// How long the caller at `position` (1 is next) will wait, or None with nobody staffed.
pub fn wait_for(position: usize, staffed: &[Work], handle: Duration) -> Option<Duration> {
    if staffed.is_empty() || position == 0 {
        return None;
    }
    let mut frees: BinaryHeap<Reverse<Duration>> = staffed
        .iter()
        .map(|w| {
            Reverse(match *w {
                Work::Free => Duration::ZERO,
                Work::OnCall(elapsed) => handle.saturating_sub(elapsed).max(handle / 10),
                Work::WrappingUp(left) => left,
            })
        })
        .collect();
    for _ in 1..position {
        let Reverse(at) = frees.pop()?;
        frees.push(Reverse(at + handle));
    }
    frees.pop().map(|Reverse(at)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_next_caller_waits_for_the_first_agent_to_free() {
        let staffed = [
            Work::OnCall(S(100)),
            Work::OnCall(S(20)),
            Work::WrappingUp(S(30)),
        ];
        assert_eq!(wait_for(1, &staffed, S(120)), Some(S(20)));
        assert_eq!(
            wait_for(1, &[Work::Free, Work::OnCall(S(1))], S(120)),
            Some(S(0))
        );
    }

    #[test]
    fn later_positions_queue_behind_whole_handle_times() {
        // Two agents free in 20 s and 30 s, calls last 120 s: positions free at
        // 20, 30, 140, 150, 260…
        let staffed = [Work::OnCall(S(100)), Work::WrappingUp(S(30))];
        let waits: Vec<_> = (1..=5)
            .map(|p| wait_for(p, &staffed, S(120)).unwrap())
            .collect();
        assert_eq!(waits, [S(20), S(30), S(140), S(150), S(260)]);
    }

    #[test]
    fn a_call_past_its_average_still_takes_a_little_longer() {
        assert_eq!(wait_for(1, &[Work::OnCall(S(500))], S(100)), Some(S(10)));
    }

    #[test]
    fn nobody_staffed_means_no_estimate() {
        assert_eq!(wait_for(1, &[], S(100)), None);
    }

    #[test]
    fn the_average_follows_recent_calls() {
        let mut h = HandleTimes::default();
        assert_eq!(h.average(), DEFAULT_HANDLE_TIME);
        h.record(S(100));
        assert_eq!(h.average(), S(100));
        for _ in 0..20 {
            h.record(S(300));
        }
        assert!(h.average() > S(295), "{:?}", h.average());
    }
}
