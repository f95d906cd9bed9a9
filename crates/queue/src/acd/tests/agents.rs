//! Agents: wrap-up, rests after declining, pausing after missed calls, calls outside
//! the queue, status against state, following the registration.

use super::*;

#[test]
fn wrap_up_keeps_the_agent_from_the_next_call_for_its_time() {
    let mut config = quiet(Strategy::Linear);
    config.wrap_up = S(30);
    let mut h = Harness::new(config, 1);
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.take();
    h.advance(S(60));
    h.hang_up(1, Party::Caller);
    assert!(matches!(h.state(0), AgentState::WrapUp { .. }));
    h.advance(S(29));
    assert_eq!(h.offers(), []);
    h.advance(S(1));
    assert_eq!(h.offers(), [(2, 0)]);
}

#[test]
fn an_agents_own_wrap_up_and_ring_timeout_override_the_queues() {
    let mut config = quiet(Strategy::Linear);
    config.wrap_up = S(30);
    let mut h = Harness::new(config, 0);
    let quick = h.acd.add_agent(
        h.now,
        AgentConfig {
            wrap_up: Some(S(5)),
            ring_timeout: Some(S(3)),
            ..AgentConfig::new("200")
        },
    );
    h.agents.push(quick);
    h.acd.set_member(h.queue, quick, Membership::default());
    h.login(quick);
    h.join(1, 0);
    h.offers();
    h.advance(S(3));
    assert!(
        h.take().contains(&Action::CancelOffer {
            offer: OfferId(1),
            agent: quick
        }),
        "rang out after the agent's 3 s"
    );
    h.advance(S(5));
    h.answer(0);
    h.hang_up(1, Party::Caller);
    h.join(2, 0);
    h.take();
    h.advance(S(5));
    assert_eq!(h.offers(), [(2, 0)], "back after the agent's 5 s wrap-up");
}

#[test]
fn an_agent_who_declines_rests_before_the_next_offer() {
    let mut config = quiet(Strategy::Linear);
    config.reject_delay = S(20);
    let mut h = Harness::new(config, 2);
    h.join(1, 0);
    assert_eq!(h.offers(), [(1, 0)]);
    h.fail(0, OfferFailure::Declined);
    assert_eq!(h.offers(), [(1, 1)], "the next agent rings at once");
    h.fail(1, OfferFailure::NoAnswer);
    // Agent 1 is free again but was tried; agent 0 rests; the round ends.
    h.advance(S(5));
    assert_eq!(h.offers(), [(1, 1)]);
    h.fail(1, OfferFailure::NoAnswer);
    // Agent 1 alone rings again after the pause; agent 0 only once its rest is over.
    h.advance(S(15));
    assert_eq!(h.offers(), [(1, 1), (1, 0)]);
    assert!(h.events_of(1).contains(&EventKind::Declined));
}

#[test]
fn missed_calls_in_a_row_pause_the_agent_with_a_reason() {
    let mut config = quiet(Strategy::Linear);
    config.max_missed = Some(2);
    let mut h = Harness::new(config, 2);
    h.join(1, 0);
    h.offers();
    h.advance(S(10));
    h.advance(S(10));
    h.advance(S(5));
    h.advance(S(10));
    let status = h.acd.agent_status(h.agents[0]).clone();
    assert_eq!(
        status,
        AgentStatus::OnBreak {
            reason: "missed 2 calls in a row".into()
        }
    );
    assert!(h.events.iter().any(|e| e.agent == Some(h.agents[0])
        && matches!(&e.kind, EventKind::Pause { reason } if reason.contains("missed"))));
    // Paused agents get no offers; agent 1 (also missed twice) too.
    h.take();
    h.advance(S(60));
    assert_eq!(h.offers(), []);
    h.login(h.agents[0]);
    // Unpaused, the agent rings again once the pause between rounds is over: they
    // missed this caller in the current round.
    assert_eq!(h.offers(), []);
    h.advance(S(5));
    assert_eq!(h.offers(), [(1, 0)]);
}

#[test]
fn agents_on_other_calls_are_skipped_unless_the_queue_allows_it() {
    let mut h = Harness::new(quiet(Strategy::Linear), 2);
    h.acd.handle_agent_busy(h.now, h.agents[0], true);
    h.join(1, 0);
    assert_eq!(h.offers(), [(1, 1)]);
    let mut config = quiet(Strategy::Linear);
    config.ring_busy_agents = true;
    let mut allowed = Harness::new(config, 2);
    allowed
        .acd
        .handle_agent_busy(allowed.now, allowed.agents[0], true);
    allowed.join(1, 0);
    assert_eq!(allowed.offers(), [(1, 0)]);
}

#[test]
fn status_is_the_persons_and_state_is_the_engines() {
    let mut h = Harness::new(quiet(Strategy::Linear), 1);
    let agent = h.agents[0];
    h.join(1, 0);
    h.answer(0);
    // Going on a break mid-call ends no call: the state stays "in call".
    h.acd.handle_status(
        h.now,
        agent,
        AgentStatus::OnBreak {
            reason: "lunch".into(),
        },
    );
    h.drain();
    assert!(matches!(h.state(0), AgentState::InCall { .. }));
    h.hang_up(1, Party::Caller);
    h.take();
    h.join(2, 0);
    assert_eq!(h.offers(), [], "on a break: no offers");
    h.acd.handle_status(h.now, agent, AgentStatus::LoggedOut);
    h.drain();
    let kinds: Vec<_> = h
        .events
        .iter()
        .filter(|e| e.agent == Some(agent) && e.call.is_none())
        .map(|e| e.kind.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::Login,
            EventKind::Pause {
                reason: "lunch".into()
            },
            EventKind::Logout
        ]
    );
}

#[test]
fn an_agent_can_follow_their_phones_registration() {
    let mut h = Harness::new(quiet(Strategy::Linear), 0);
    let follows = h.acd.add_agent(
        h.now,
        AgentConfig {
            follows_registration: true,
            ..AgentConfig::new("200")
        },
    );
    let manual = h.agent("201");
    h.agents.insert(0, follows);
    for a in [follows, manual] {
        h.acd.set_member(h.queue, a, Membership::default());
    }
    h.acd.handle_registration(h.now, follows, true);
    h.acd.handle_registration(h.now, manual, true);
    h.drain();
    assert_eq!(h.acd.agent_status(follows), &AgentStatus::Available);
    assert_eq!(h.acd.agent_status(manual), &AgentStatus::LoggedOut);
    h.acd.handle_registration(h.now, follows, false);
    h.drain();
    assert_eq!(h.acd.agent_status(follows), &AgentStatus::LoggedOut);
}

#[test]
fn a_ringing_agent_who_logs_out_stops_ringing_and_the_next_rings() {
    let mut h = Harness::new(quiet(Strategy::Linear), 2);
    h.join(1, 0);
    h.offers();
    h.acd
        .handle_status(h.now, h.agents[0], AgentStatus::LoggedOut);
    h.drain();
    let actions = h.take();
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::CancelOffer { agent, .. } if *agent == h.agents[0]))
    );
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Offer { agent, .. } if *agent == h.agents[1]))
    );
}
