//! The order agents ring in, per strategy, as the call logic sees it.

use super::*;

/// Joins one caller nobody answers and lists (second, agent) for every offer made in
/// the first `seconds`.
fn offers_over_time(strategy: Strategy, agents: usize, seconds: u64) -> Vec<(u64, usize)> {
    let mut h = Harness::new(quiet(strategy), agents);
    h.join(1, 0);
    let mut seen: Vec<(u64, usize)> = h.offers().into_iter().map(|(_, a)| (0, a)).collect();
    for second in 1..=seconds {
        h.advance(S(1));
        seen.extend(h.offers().into_iter().map(|(_, a)| (second, a)));
    }
    seen
}

#[test]
fn linear_rings_one_at_a_time_in_order_then_pauses_and_starts_over() {
    assert_eq!(
        offers_over_time(Strategy::Linear, 3, 40),
        [(0, 0), (10, 1), (20, 2), (35, 0)]
    );
}

#[test]
fn ring_all_rings_everyone_together_each_round() {
    assert_eq!(
        offers_over_time(Strategy::RingAll, 3, 16),
        [(0, 0), (0, 1), (0, 2), (15, 0), (15, 1), (15, 2)]
    );
}

#[test]
fn ring_progressive_adds_an_agent_every_step_while_the_others_ring() {
    let every = S(4);
    let mut h = Harness::new(quiet(Strategy::RingProgressive { every }), 3);
    h.join(1, 0);
    assert_eq!(h.offers(), [(1, 0)]);
    h.advance(S(4));
    assert_eq!(h.offers(), [(1, 1)]);
    assert!(
        matches!(h.state(0), AgentState::Ringing { .. }),
        "the first still rings"
    );
    h.advance(S(4));
    assert_eq!(h.offers(), [(1, 2)]);
    // The second answers: the first and third stop ringing.
    h.answer(1);
    let cancelled: Vec<AgentId> = h
        .take()
        .into_iter()
        .filter_map(|a| match a {
            Action::CancelOffer { agent, .. } => Some(agent),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, [h.agents[0], h.agents[2]]);
    assert_eq!(h.state(0), AgentState::Idle);
}

/// Serves `callers` one after another, each answered by whoever rings first and hung
/// up after `talk[i]` seconds; returns who answered each.
fn serve_in_turn(h: &mut Harness, callers: u64, talk: &[u64]) -> Vec<usize> {
    let mut answered = Vec::new();
    for call in 1..=callers {
        h.join(call, 0);
        let (_, agent) = h.offers()[0];
        h.answer(agent);
        h.advance(S(talk[(call as usize - 1) % talk.len()]));
        h.hang_up(call, Party::Caller);
        h.take();
        answered.push(agent);
    }
    answered
}

#[test]
fn round_robin_remembers_where_it_stopped() {
    let mut h = Harness::new(quiet(Strategy::RoundRobin), 3);
    assert_eq!(serve_in_turn(&mut h, 5, &[30]), [0, 1, 2, 0, 1]);
    let mut linear = Harness::new(quiet(Strategy::Linear), 3);
    assert_eq!(serve_in_turn(&mut linear, 3, &[30]), [0, 0, 0]);
}

#[test]
fn longest_idle_picks_who_has_waited_longest_for_a_call() {
    let mut h = Harness::new(quiet(Strategy::LongestIdle), 3);
    // Agent 0 takes the first call; 1 and 2 have been idle since login.
    assert_eq!(serve_in_turn(&mut h, 4, &[60]), [0, 1, 2, 0]);
}

#[test]
fn fewest_calls_and_least_talk_time_balance_the_load() {
    let mut h = Harness::new(quiet(Strategy::FewestCalls), 3);
    assert_eq!(serve_in_turn(&mut h, 6, &[10]), [0, 1, 2, 0, 1, 2]);
    // Talk times 100, 10, 50 s: the next calls go to the least talked first.
    let mut t = Harness::new(quiet(Strategy::LeastTalkTime), 3);
    assert_eq!(serve_in_turn(&mut t, 3, &[100, 10, 50]), [0, 1, 2]);
    assert_eq!(serve_in_turn(&mut t, 2, &[1]), [1, 1]);
    assert_eq!(serve_in_turn(&mut t, 1, &[200]), [1]);
    assert_eq!(serve_in_turn(&mut t, 1, &[1]), [2]);
}

#[test]
fn random_reaches_everyone_and_weighted_random_follows_weights() {
    let mut h = Harness::new(quiet(Strategy::Random), 4);
    let firsts = serve_in_turn(&mut h, 200, &[1]);
    for agent in 0..4 {
        let n = firsts.iter().filter(|&&a| a == agent).count();
        assert!(
            (30..70).contains(&n),
            "agent {agent} first {n} times of 200"
        );
    }
    let mut w = Harness::new(quiet(Strategy::WeightedRandom), 0);
    for (i, weight) in [1, 3].into_iter().enumerate() {
        let agent = w.agent(&format!("30{i}"));
        w.acd
            .set_member(w.queue, agent, Membership { tier: 0, weight });
        w.login(agent);
    }
    let firsts = serve_in_turn(&mut w, 400, &[1]);
    let heavy = firsts.iter().filter(|&&a| a == 1).count();
    assert!(
        (270..330).contains(&heavy),
        "weight 3 of 4 took {heavy} of 400"
    );
}

/// Agent 0 in tier 0, agent 1 in tier 1, both logged in.
fn two_tiers(h: &mut Harness) {
    for (i, tier) in [0u8, 1].into_iter().enumerate() {
        let agent = h.agent(&format!("20{i}"));
        h.acd
            .set_member(h.queue, agent, Membership { tier, weight: 1 });
        h.login(agent);
    }
}

#[test]
fn a_lower_tier_rings_only_when_the_upper_tier_is_busy() {
    let mut h = Harness::new(quiet(Strategy::Linear), 0);
    two_tiers(&mut h);
    h.join(1, 0);
    assert_eq!(h.offers(), [(1, 0)]);
    h.answer(0);
    h.join(2, 0);
    assert_eq!(h.offers(), [(2, 1)], "tier 0 is busy: tier 1 rings");
}

#[test]
fn a_lower_tier_can_wait_until_the_caller_has_waited() {
    let mut config = quiet(Strategy::Linear);
    config.tier_wait = Some(S(30));
    let mut h = Harness::new(config, 0);
    two_tiers(&mut h);
    h.join(1, 0);
    h.answer(0);
    h.take();
    h.join(2, 0);
    assert_eq!(h.offers(), []);
    h.advance(S(29));
    assert_eq!(h.offers(), []);
    h.advance(S(1));
    assert_eq!(h.offers(), [(2, 1)], "after 30 s tier 1 opens");
}

#[test]
fn an_agent_in_two_queues_serves_the_heavier_queue_first() {
    let mut h = Harness::new(quiet(Strategy::Linear), 1);
    let mut vip = quiet(Strategy::Linear);
    vip.name = "Key accounts".into();
    vip.weight = 10;
    let key_accounts = h.acd.add_queue(vip);
    h.acd
        .set_member(key_accounts, h.agents[0], Membership::default());
    // Busy the agent, queue one caller in each, free the agent.
    h.join(1, 0);
    h.answer(0);
    h.join(2, 0);
    h.join_queue(key_accounts, 3, 0);
    h.take();
    h.hang_up(1, Party::Agent);
    assert_eq!(h.offers(), [(3, 0)], "the weight-10 queue's caller first");
}
