//! Properties under any input: no caller lost or served twice, one offer per agent at
//! a time, wrap-up respected, callbacks keep their place, first come first served.

use std::collections::{HashMap, HashSet};

use proptest::prelude::{ProptestConfig, any, prop, prop_assert, prop_oneof, proptest};
use proptest::strategy::Strategy as Generate;

use super::*;
use crate::model::CallbackPolicy;

#[derive(Debug, Clone)]
enum Input {
    Join {
        call: u64,
        queue: usize,
        priority: i32,
    },
    HangUp {
        call: u64,
        agent_side: bool,
    },
    Answer {
        agent: usize,
    },
    Fail {
        agent: usize,
        declined: bool,
    },
    Key {
        call: u64,
        key: char,
    },
    Status {
        agent: usize,
        status: u8,
    },
    Callback {
        call: u64,
        result: u8,
    },
    Wait {
        seconds: u64,
    },
}

fn input() -> impl Generate<Value = Input> {
    prop_oneof![
        (1..30u64, 0..2usize, 0..2i32).prop_map(|(call, queue, priority)| Input::Join {
            call,
            queue,
            priority
        }),
        (1..30u64, any::<bool>()).prop_map(|(call, agent_side)| Input::HangUp { call, agent_side }),
        (0..4usize).prop_map(|agent| Input::Answer { agent }),
        (0..4usize, any::<bool>()).prop_map(|(agent, declined)| Input::Fail { agent, declined }),
        (1..30u64, prop::sample::select(vec!['0', '1', '5']))
            .prop_map(|(call, key)| Input::Key { call, key }),
        (0..4usize, 0..3u8).prop_map(|(agent, status)| Input::Status { agent, status }),
        (1..30u64, 0..3u8).prop_map(|(call, result)| Input::Callback { call, result }),
        (1..40u64).prop_map(|seconds| Input::Wait { seconds }),
    ]
}

const STRATEGIES: [Strategy; 4] = [
    Strategy::RingAll,
    Strategy::Linear,
    Strategy::LongestIdle,
    Strategy::RingProgressive {
        every: Duration::from_secs(3),
    },
];

/// Two queues sharing four agents at two tiers, wrap-up 7 s, callbacks on.
fn office(strategies: (usize, usize)) -> Harness {
    let mut config = quiet(STRATEGIES[strategies.0]);
    config.wrap_up = S(7);
    config.max_missed = Some(2);
    config.callback = Some(CallbackPolicy {
        attempts: 2,
        retry_after: S(20),
    });
    let mut h = Harness::new(config.clone(), 4);
    config.name = "Support".into();
    config.strategy = STRATEGIES[strategies.1];
    config.weight = 5;
    let support = h.acd.add_queue(config);
    for (i, agent) in h.agents.clone().into_iter().enumerate().skip(1) {
        h.acd.set_member(
            support,
            agent,
            Membership {
                tier: (i % 2) as u8,
                weight: 1,
            },
        );
    }
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_caller_is_lost_or_served_twice_and_no_agent_rings_twice(
        strategies in (0..4usize, 0..4usize),
        inputs in prop::collection::vec(input(), 1..120),
    ) {
        let mut h = office(strategies);
        let mut joined: HashSet<u64> = HashSet::new();
        let mut gone: HashSet<u64> = HashSet::new();
        let mut connected: HashSet<u64> = HashSet::new();
        let mut ringing: HashMap<AgentId, OfferId> = HashMap::new();
        for input in inputs {
            let before: Vec<AgentState> = (0..4).map(|i| h.state(i)).collect();
            let callback_places: Vec<(u64, usize)> = joined
                .iter()
                .filter(|c| !gone.contains(c) && !connected.contains(c))
                .filter_map(|&c| h.acd.position(CallId(c)).map(|p| (c, p)))
                .collect();
            let mut higher_priority_joined = false;
            match input {
                Input::Join { call, queue, priority } => {
                    if !joined.contains(&call) {
                        joined.insert(call);
                        higher_priority_joined = true;
                        h.join_queue(QueueId(queue as u32), call, priority);
                    }
                }
                Input::HangUp { call, agent_side } => {
                    let by = if agent_side { Party::Agent } else { Party::Caller };
                    if joined.contains(&call) && !gone.contains(&call) {
                        h.hang_up(call, by);
                        if h.acd.position(CallId(call)).is_none() {
                            gone.insert(call);
                        }
                    }
                }
                Input::Answer { agent } => {
                    ringing.remove(&h.agents[agent]);
                    if let AgentState::Ringing { .. } = h.state(agent) {
                        h.answer(agent);
                    }
                }
                Input::Fail { agent, declined } => {
                    ringing.remove(&h.agents[agent]);
                    if let AgentState::Ringing { .. } = h.state(agent) {
                        let why = if declined { OfferFailure::Declined } else { OfferFailure::NoAnswer };
                        h.fail(agent, why);
                    }
                }
                Input::Key { call, key } => h.key(call, key),
                Input::Status { agent, status } => {
                    let status = match status {
                        0 => AgentStatus::Available,
                        1 => AgentStatus::OnBreak { reason: "break".into() },
                        _ => AgentStatus::LoggedOut,
                    };
                    let agent = h.agents[agent];
                    h.acd.handle_status(h.now, agent, status);
                    h.drain();
                }
                Input::Callback { call, result } => {
                    let result = [
                        CallbackResult::Connected,
                        CallbackResult::AgentMissed,
                        CallbackResult::CustomerMissed,
                    ][result as usize];
                    h.acd.handle_callback_result(h.now, CallId(call), result);
                    h.drain();
                }
                Input::Wait { seconds } => h.advance(S(seconds)),
            }
            for action in h.take() {
                match action {
                    Action::Offer { offer, call, agent } => {
                        prop_assert!(!ringing.contains_key(&agent), "{agent:?} offered twice");
                        prop_assert!(!connected.contains(&call.0), "offered after connecting");
                        let i = h.agents.iter().position(|a| *a == agent).unwrap();
                        if let AgentState::WrapUp { until } = before[i] {
                            prop_assert!(until <= h.now, "offered during wrap-up");
                        }
                        ringing.insert(agent, offer);
                    }
                    Action::CancelOffer { agent, .. } => {
                        ringing.remove(&agent);
                    }
                    Action::Connect { call, agent, .. } => {
                        prop_assert!(connected.insert(call.0), "call {} put through twice", call.0);
                        ringing.remove(&agent);
                    }
                    Action::PlaceCallback { call, .. } => {
                        prop_assert!(!connected.contains(&call.0));
                    }
                    Action::Leave { call, .. } => {
                        gone.insert(call.0);
                    }
                    _ => {}
                }
            }
            // Offers that failed or were answered no longer ring.
            ringing.retain(|agent, _| {
                let i = h.agents.iter().position(|a| a == agent).unwrap();
                matches!(h.state(i), AgentState::Ringing { .. })
            });
            for e in &h.events {
                if let (Some(call), EventKind::CallbackCompleted) = (e.call, &e.kind) {
                    connected.insert(call.0);
                }
                if let (Some(call), EventKind::CallbackFailed { .. }) = (e.call, &e.kind) {
                    gone.insert(call.0);
                }
            }
            // A waiting caller (callback or not) never falls back in line except behind
            // a newcomer of higher priority.
            if !higher_priority_joined {
                for (call, place) in callback_places {
                    if let Some(now) = h.acd.position(CallId(call)) {
                        prop_assert!(now <= place, "call {call} fell from {place} to {now}");
                    }
                }
            }
        }
        for call in joined {
            let accounted = gone.contains(&call)
                || connected.contains(&call)
                || h.acd.position(CallId(call)).is_some();
            prop_assert!(accounted, "call {call} was lost");
        }
    }

    #[test]
    fn equal_priority_callers_are_served_in_arrival_order(
        priorities in prop::collection::vec(0..3i32, 1..25),
        talk in prop::collection::vec(1..90u64, 1..25),
    ) {
        let mut h = Harness::new(quiet(Strategy::LongestIdle), 2);
        let mut busy: Vec<u64> = Vec::new();
        let mut served: Vec<u64> = Vec::new();
        for (i, &p) in priorities.iter().enumerate() {
            h.join(i as u64 + 1, p);
            let answered = h.answer_all();
            busy.extend(&answered);
            served.extend(answered);
            h.advance(S(1));
        }
        let mut t = 0;
        while served.len() < priorities.len() {
            h.advance(S(talk[t % talk.len()]));
            t += 1;
            let call = busy.remove(0);
            h.hang_up(call, Party::Caller);
            let answered = h.answer_all();
            busy.extend(&answered);
            served.extend(answered);
        }
        // The first two took the free agents on arrival; after them, priority then
        // arrival order.
        let rest = &served[2.min(served.len())..];
        for pair in rest.windows(2) {
            let (a, b) = (pair[0] as usize - 1, pair[1] as usize - 1);
            let (pa, pb) = (priorities[a], priorities[b]);
            prop_assert!(pa > pb || (pa == pb && a < b), "{served:?} with {priorities:?}");
        }
    }
}
