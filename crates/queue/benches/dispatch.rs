//! One dispatch decision at scale: an agent frees while 10,000 callers wait for 1,000
//! agents (the agent is offered the next caller), and a caller joins a queue of 1,000
//! free agents (the strategy ranks all of them). Only the decision is timed; putting
//! the state back between iterations is not.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_queue::{
    Acd, Action, AgentConfig, AgentId, AgentState, AgentStatus, CallId, Membership, Party,
    Priority, QueueConfig, QueueId, Strategy,
};

const AGENTS: u32 = 1_000;
const CALLERS: u64 = 10_000;

fn office(strategy: Strategy, now: Instant) -> (Acd, QueueId) {
    let mut acd = Acd::new(1);
    let mut config = QueueConfig::new("Sales", strategy);
    config.wrap_up = Duration::ZERO;
    let queue = acd.add_queue(config);
    for i in 0..AGENTS {
        let agent = acd.add_agent(now, AgentConfig::new(&format!("{}", 1000 + i)));
        acd.set_member(
            queue,
            agent,
            Membership {
                tier: 0,
                weight: 1 + i % 5,
            },
        );
        acd.handle_status(now, agent, AgentStatus::Available);
    }
    (acd, queue)
}

/// Answers every offer made; returns (agent, call) for each.
fn answer_all(acd: &mut Acd, now: Instant) -> Vec<(AgentId, CallId)> {
    let mut put_through = Vec::new();
    while let Some(action) = acd.poll_action() {
        if let Action::Offer { offer, call, agent } = action {
            acd.handle_offer_answered(now, offer);
            // Under ring-all the first answer cancels the offers queued behind it.
            if acd.agent_state(agent) == (AgentState::InCall { call }) {
                put_through.push((agent, call));
            }
        }
    }
    while acd.poll_event().is_some() {}
    put_through
}

fn agent_frees(c: &mut Criterion) {
    let mut group = c.benchmark_group("agent frees, 10,000 callers waiting for 1,000 agents");
    for strategy in [
        Strategy::LongestIdle,
        Strategy::WeightedRandom,
        Strategy::RingAll,
    ] {
        let now = Instant::now();
        let (mut acd, queue) = office(strategy, now);
        let mut on_call = Vec::new();
        let mut next = 1u64;
        while next <= CALLERS + u64::from(AGENTS) {
            acd.handle_join(now, queue, CallId(next), "+48225550000", Priority(0));
            next += 1;
            on_call.extend(answer_all(&mut acd, now));
        }
        assert_eq!(on_call.len(), AGENTS as usize);
        group.bench_function(strategy.name(), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let (_, call) = on_call.remove(0);
                    let start = Instant::now();
                    acd.handle_hangup(now, black_box(call), Party::Agent);
                    timed += start.elapsed();
                    on_call.extend(answer_all(&mut acd, now));
                    acd.handle_join(now, queue, CallId(next), "+48225550000", Priority(0));
                    next += 1;
                    while acd.poll_action().is_some() {}
                }
                timed
            });
        });
    }
    group.finish();
}

fn caller_joins(c: &mut Criterion) {
    let mut group = c.benchmark_group("caller joins 1,000 free agents");
    for strategy in [Strategy::LongestIdle, Strategy::WeightedRandom] {
        let now = Instant::now();
        let (mut acd, queue) = office(strategy, now);
        let mut next = 1u64;
        group.bench_function(strategy.name(), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let call = CallId(next);
                    next += 1;
                    let start = Instant::now();
                    acd.handle_join(now, queue, black_box(call), "+48225550000", Priority(0));
                    timed += start.elapsed();
                    while acd.poll_action().is_some() {}
                    acd.handle_hangup(now, call, Party::Caller);
                    while acd.poll_action().is_some() {}
                    while acd.poll_event().is_some() {}
                }
                timed
            });
        });
    }
    group.finish();
}

criterion_group!(benches, agent_frees, caller_joins);
criterion_main!(benches);
