//! A generated call log and queue log, for tests and benchmarks of what reads them
//! (reports): calls in, out and between extensions spread over a period, to two queues
//! or none, answered by three agents or lost; the agents' offers, calls, breaks and
//! logins; from a fixed seed.

use switchboard_core::{CallRecord, Direction, HangupBy, Outcome, unix_ms};
use switchboard_queue::Priority;

/// Numbers below a bound, the same for the same seed: a linear congruential generator
/// (Knuth's MMIX constants), no dependency, and the same log on every machine.
fn numbers(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |below: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % below.max(1)
    }
}

/// `n` queue events of agents 101 to 103 between `from` and `to` (unix ms), in time
/// order: offers answered, missed or declined in queues 600, 601 and the VIP queue
/// 700, calls completed, logins, logouts and breaks, in no particular story.
pub fn queue_log(n: usize, from: i64, to: i64, seed: u64) -> Vec<crate::QueueEventRow> {
    let mut next = numbers(seed);
    let mut rows: Vec<crate::QueueEventRow> = (0..n)
        .map(|i| {
            let at = from + next((to - from) as u64) as i64;
            let agent = ["101", "102", "103"][next(3) as usize];
            let event = [
                "connect",
                "ring-no-answer",
                "declined",
                "complete",
                "login",
                "logout",
                "pause",
                "unpause",
            ][next(8) as usize];
            let call = matches!(
                event,
                "connect" | "ring-no-answer" | "declined" | "complete"
            );
            let queue = call.then(|| ["600", "601", "700"][next(3) as usize].to_string());
            crate::QueueEventRow {
                at,
                vip: queue.as_deref() == Some("700"),
                queue,
                call_id: call.then(|| format!("gen-{i}")),
                agent: Some(agent.into()),
                event: event.into(),
                waited_ms: None,
                talk_ms: (event == "complete").then(|| next(600_000) as i64),
                detail: String::new(),
            }
        })
        .collect();
    rows.sort_by_key(|r| r.at);
    rows
}

/// `n` calls started between `from` and `to` (unix ms), the same for the same `seed`.
pub fn call_log(n: usize, from: i64, to: i64, seed: u64) -> Vec<CallRecord> {
    let mut next = numbers(seed);
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
