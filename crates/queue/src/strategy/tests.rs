use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::*;

fn candidates(now: Instant) -> Vec<Candidate> {
    // Position, weight, idle for (s), calls, talk time (s).
    [
        (0, 1, 10, 5, 300),
        (1, 1, 50, 2, 900),
        (2, 3, 30, 2, 100),
        (3, 0, 5, 9, 50),
    ]
    .into_iter()
    .map(|(position, weight, idle, calls, talk)| Candidate {
        agent: AgentId(position as u32 + 100),
        position,
        weight,
        idle_since: now - Duration::from_secs(idle),
        stats: AgentStats {
            calls,
            talk_time: Duration::from_secs(talk),
        },
    })
    .collect()
}

fn order(strategy: Strategy, memory: RankMemory, seed: u64) -> Vec<usize> {
    let now = Instant::now() + Duration::from_secs(100);
    let mut c = candidates(now);
    let all = c.len();
    strategy.rank(&mut c, all, &memory, &mut SmallRng::seed_from_u64(seed));
    c.iter().map(|c| c.position).collect()
}

#[test]
fn deterministic_strategies_order_by_their_measure() {
    let none = RankMemory::default();
    assert_eq!(order(Strategy::Linear, none, 0), [0, 1, 2, 3]);
    assert_eq!(order(Strategy::RingAll, none, 0), [0, 1, 2, 3]);
    let progressive = Strategy::RingProgressive {
        every: Duration::from_secs(5),
    };
    assert_eq!(order(progressive, none, 0), [0, 1, 2, 3]);
    assert_eq!(order(Strategy::LongestIdle, none, 0), [1, 2, 0, 3]);
    // Two calls each for 1 and 2: the longer idle (1) first.
    assert_eq!(order(Strategy::FewestCalls, none, 0), [1, 2, 0, 3]);
    assert_eq!(order(Strategy::LeastTalkTime, none, 0), [3, 2, 0, 1]);
}

#[test]
fn round_robin_starts_after_the_last_offered() {
    let after = |p| RankMemory {
        last_offered: Some(p),
    };
    assert_eq!(
        order(Strategy::RoundRobin, RankMemory::default(), 0),
        [0, 1, 2, 3]
    );
    assert_eq!(order(Strategy::RoundRobin, after(1), 0), [2, 3, 0, 1]);
    assert_eq!(order(Strategy::RoundRobin, after(3), 0), [0, 1, 2, 3]);
}

#[test]
fn random_orders_differ_and_cover_everyone() {
    let orders: std::collections::HashSet<Vec<usize>> = (0..50)
        .map(|seed| order(Strategy::Random, RankMemory::default(), seed))
        .collect();
    assert!(orders.len() > 10, "{orders:?}");
    assert!(orders.iter().all(|o| {
        let mut s = o.clone();
        s.sort();
        s == [0, 1, 2, 3]
    }));
}

#[test]
fn weighted_random_follows_the_weights() {
    let mut firsts = [0u32; 4];
    for seed in 0..6000 {
        firsts[order(Strategy::WeightedRandom, RankMemory::default(), seed)[0]] += 1;
    }
    // Weights 1, 1, 3, 0: shares of 1/5, 1/5, 3/5, never.
    assert_eq!(firsts[3], 0, "{firsts:?}");
    let share = |i: usize| f64::from(firsts[i]) / 6000.0;
    assert!((share(2) - 0.6).abs() < 0.03, "{firsts:?}");
    assert!((share(0) - 0.2).abs() < 0.03, "{firsts:?}");
    // Weight 0 still comes last rather than never.
    assert_eq!(
        order(Strategy::WeightedRandom, RankMemory::default(), 7)[3],
        3
    );
}

#[test]
fn ranking_only_the_best_puts_the_same_agent_first() {
    let now = Instant::now() + Duration::from_secs(100);
    let none = RankMemory::default();
    for strategy in [
        Strategy::Linear,
        Strategy::RoundRobin,
        Strategy::LongestIdle,
        Strategy::FewestCalls,
        Strategy::LeastTalkTime,
    ] {
        let mut one = candidates(now);
        strategy.rank(&mut one, 1, &none, &mut SmallRng::seed_from_u64(0));
        assert_eq!(one[0].position, order(strategy, none, 0)[0], "{strategy:?}");
    }
    // Drawing one by weight follows the weights as the full order does.
    let mut firsts = [0u32; 4];
    let mut rng = SmallRng::seed_from_u64(3);
    for _ in 0..6000 {
        let mut one = candidates(now);
        Strategy::WeightedRandom.rank(&mut one, 1, &none, &mut rng);
        firsts[one[0].position] += 1;
    }
    assert_eq!(firsts[3], 0, "{firsts:?}");
    assert!(
        (f64::from(firsts[2]) / 6000.0 - 0.6).abs() < 0.03,
        "{firsts:?}"
    );
}
