//! A generated call log, for tests and benchmarks of what reads it (reports): calls in,
//! out and between extensions spread over a period, to two queues or none, answered by
//! three agents or lost, from a fixed seed.

use switchboard_core::{CallRecord, Direction, HangupBy, Outcome, unix_ms};
use switchboard_queue::Priority;

/// `n` calls started between `from` and `to` (unix ms), the same for the same `seed`.
pub fn call_log(n: usize, from: i64, to: i64, mut seed: u64) -> Vec<CallRecord> {
    // A linear congruential generator (Knuth's MMIX constants): no dependency, and the
    // same log on every machine.
    let mut next = move |below: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % below.max(1)
    };
    (0..n)
        .map(|i| {
            let started = from + next((to - from) as u64) as i64;
            let wait = next(90_000) as i64;
            let answered = next(10) < 7;
            let talk = next(600_000) as i64;
            let queue = ["600", "601", ""][next(3) as usize];
            let direction =
                [Direction::Inbound, Direction::Outbound, Direction::Internal][next(3) as usize];
            CallRecord {
                call_id: format!("gen-{i}"),
                caller: format!("+4860100{:04}", next(300)),
                callee: queue.to_string(),
                direction,
                trunk: (direction != Direction::Internal).then(|| "provider".into()),
                started: unix_ms::to(started),
                answered: answered.then(|| unix_ms::to(started + wait)),
                ended: unix_ms::to(started + wait + if answered { talk } else { 0 }),
                outcome: if answered {
                    Outcome::Answered
                } else {
                    [Outcome::Cancelled, Outcome::NoAnswer, Outcome::Busy][next(3) as usize]
                },
                hangup_by: HangupBy::Caller,
                caller_codec: None,
                callee_codec: None,
                sip_code: 200,
                reason: String::new(),
                queue: (!queue.is_empty()).then(|| queue.to_string()),
                answered_by: answered.then(|| ["101", "102", "103"][next(3) as usize].into()),
                priority: Priority(0),
                preempted: false,
                scenario_path: None,
                history: None,
                recording: None,
            }
        })
        .collect()
}
