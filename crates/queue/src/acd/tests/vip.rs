//! VIP queues take over a busy agent: warning, delay, hold, and back.

use super::*;
use crate::model::VipPolicy;

/// Sales with agents 0 and 1 (agent 0 in a 10-minute wrap-up-free call with caller 1,
/// agent 1 free), and a VIP queue served by agent 0 alone.
fn busy_agent_and_vip_queue(delay: Duration) -> (Harness, QueueId) {
    let mut h = Harness::new(quiet(Strategy::Linear), 2);
    let mut config = quiet(Strategy::Linear);
    config.name = "Key accounts".into();
    config.vip = Some(VipPolicy { delay });
    let vip = h.acd.add_queue(config);
    h.acd.set_member(vip, h.agents[0], Membership::default());
    h.join(1, 0);
    h.answer(0);
    h.take();
    (h, vip)
}

#[test]
fn a_vip_takes_over_a_busy_agent_after_the_warning_and_gives_them_back() {
    let (mut h, vip) = busy_agent_and_vip_queue(S(60));
    let agent = h.agents[0];
    h.join_queue(vip, 9, 0);
    assert_eq!(
        h.take(),
        [Action::WarnAgent {
            agent,
            vip: CallId(9),
            after: S(60)
        }]
    );
    h.advance(S(59));
    assert!(h.take().is_empty(), "the agent may finish first");
    h.advance(S(1));
    assert_eq!(
        h.take(),
        [Action::Preempt {
            agent,
            held: CallId(1),
            vip: CallId(9)
        }]
    );
    assert_eq!(
        h.state(0),
        AgentState::WithVip {
            vip: CallId(9),
            held: CallId(1)
        }
    );
    assert!(h.events_of(9).contains(&EventKind::Connect {
        waited: S(60),
        vip: true
    }));
    h.advance(S(120));
    h.hang_up(9, Party::Caller);
    assert_eq!(
        h.take(),
        [Action::Resume {
            agent,
            held: CallId(1)
        }]
    );
    assert_eq!(h.state(0), AgentState::InCall { call: CallId(1) });
    let kinds: Vec<_> = h.events.iter().map(|e| e.kind.clone()).collect();
    assert!(kinds.contains(&EventKind::Preempt {
        vip: CallId(9),
        held: CallId(1)
    }));
    assert!(kinds.contains(&EventKind::Resume { held: CallId(1) }));
    // The original call then ends as any other.
    h.hang_up(1, Party::Caller);
    assert_eq!(h.state(0), AgentState::Idle);
}

#[test]
fn an_agent_who_hangs_up_on_the_vip_is_offered_the_held_caller_first() {
    let (mut h, vip) = busy_agent_and_vip_queue(S(0));
    h.join_queue(vip, 9, 0);
    assert!(
        h.take().iter().any(|a| matches!(a, Action::Preempt { .. })),
        "no delay"
    );
    h.hang_up(9, Party::Agent);
    // Agent 1 is free too, but the held caller goes back to agent 0.
    assert_eq!(h.offers(), [(1, 0)]);
    assert!(h.events_of(1).contains(&EventKind::OfferedBack));
}

#[test]
fn an_agent_who_finishes_during_the_delay_gets_the_vip_at_once() {
    let (mut h, vip) = busy_agent_and_vip_queue(S(600));
    h.join_queue(vip, 9, 0);
    h.take();
    h.advance(S(30));
    h.hang_up(1, Party::Caller);
    assert_eq!(h.offers(), [(9, 0)]);
    h.answer(0);
    h.advance(S(600));
    assert!(
        !h.take().iter().any(|a| matches!(a, Action::Preempt { .. })),
        "nobody to preempt any more"
    );
}

#[test]
fn a_vip_who_hangs_up_during_the_delay_leaves_the_agent_alone() {
    let (mut h, vip) = busy_agent_and_vip_queue(S(60));
    h.join_queue(vip, 9, 0);
    h.take();
    h.advance(S(10));
    h.hang_up(9, Party::Caller);
    assert_eq!(h.state(0), AgentState::InCall { call: CallId(1) });
    h.advance(S(60));
    assert!(h.take().is_empty());
}

#[test]
fn a_held_caller_who_hangs_up_is_logged_and_the_vip_call_goes_on() {
    let (mut h, vip) = busy_agent_and_vip_queue(S(0));
    h.join_queue(vip, 9, 0);
    h.take();
    h.advance(S(20));
    h.hang_up(1, Party::Caller);
    assert_eq!(h.state(0), AgentState::InCall { call: CallId(9) });
    assert!(h.events_of(1).contains(&EventKind::Abandon {
        waited: S(20),
        position: 0
    }));
    h.hang_up(9, Party::Caller);
    assert_eq!(h.state(0), AgentState::Idle, "no one is held any more");
}

#[test]
fn a_vip_put_through_by_a_freed_agent_releases_the_warned_one() {
    let (mut h, vip) = busy_agent_and_vip_queue(S(60));
    // Agent 1 serves the VIP queue too, but is busy with caller 2 when the VIP comes.
    h.acd.set_member(vip, h.agents[1], Membership::default());
    h.join(2, 0);
    h.answer(1);
    h.join_queue(vip, 9, 0);
    let warned = h
        .agents
        .iter()
        .position(|a| matches!(h.acd.agent_state(*a), AgentState::Warned { .. }));
    let warned = warned.expect("one agent warned");
    let other = 1 - warned;
    // The other agent's call ends first: the VIP rings them and they answer.
    let their_call = if other == 0 { 1 } else { 2 };
    h.hang_up(their_call, Party::Caller);
    h.answer(other);
    assert!(
        matches!(h.state(warned), AgentState::InCall { .. }),
        "the warned agent carries on undisturbed: {:?}",
        h.state(warned)
    );
    h.take();
    h.advance(S(60));
    assert!(!h.take().iter().any(|a| matches!(a, Action::Preempt { .. })));
}
