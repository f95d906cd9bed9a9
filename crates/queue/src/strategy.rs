//! How a queue chooses among the agents free to take a caller. Every strategy ranks
//! the same candidates with one method; how many of the ranked agents ring at once
//! is [`Strategy::fanout`]. Each strategy lives in its own file.

use std::time::{Duration, Instant};

use rand::rngs::SmallRng;

use crate::agent::AgentStats;
use crate::model::AgentId;

mod fewest_calls;
mod least_talk_time;
mod linear;
mod longest_idle;
mod random;
mod ring_all;
mod ring_progressive;
mod round_robin;
mod weighted_random;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every free agent rings at once; the first to answer takes the call.
    RingAll,
    /// Agents in their configured order, one at a time.
    Linear,
    /// One at a time, starting after the agent offered the previous caller.
    RoundRobin,
    /// The agent free for longest first.
    LongestIdle,
    /// The agent who took fewest calls first.
    FewestCalls,
    /// The agent with least time on calls first.
    LeastTalkTime,
    Random,
    /// Random, each agent chosen in proportion to their membership weight.
    WeightedRandom,
    /// In order, adding the next agent every `every` while earlier ones keep ringing.
    RingProgressive {
        every: Duration,
    },
}

/// How many ranked agents ring for one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fanout {
    All,
    One,
    AddEvery(Duration),
}

/// A free agent as strategies see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub agent: AgentId,
    /// The agent's place in the queue's member list.
    pub position: usize,
    pub weight: u32,
    pub idle_since: Instant,
    pub stats: AgentStats,
}

/// What a queue remembers between callers for the strategies that need it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RankMemory {
    /// The member position offered last (round robin).
    pub last_offered: Option<usize>,
}

impl Strategy {
    /// Puts the best `count` candidates first, best first; the rest stay in any order.
    /// Dispatch usually wants one agent of many, which takes linear time, not a sort.
    pub fn rank(
        &self,
        candidates: &mut [Candidate],
        count: usize,
        memory: &RankMemory,
        rng: &mut SmallRng,
    ) {
        let count = count.min(candidates.len());
        match self {
            Strategy::RingAll => ring_all::rank(candidates, count),
            Strategy::Linear => linear::rank(candidates, count),
            Strategy::RoundRobin => round_robin::rank(candidates, count, memory),
            Strategy::LongestIdle => longest_idle::rank(candidates, count),
            Strategy::FewestCalls => fewest_calls::rank(candidates, count),
            Strategy::LeastTalkTime => least_talk_time::rank(candidates, count),
            Strategy::Random => random::rank(candidates, count, rng),
            Strategy::WeightedRandom => weighted_random::rank(candidates, count, rng),
            Strategy::RingProgressive { .. } => ring_progressive::rank(candidates, count),
        }
    }

    pub fn fanout(&self) -> Fanout {
        match self {
            Strategy::RingAll => Fanout::All,
            Strategy::RingProgressive { every } => Fanout::AddEvery(*every),
            _ => Fanout::One,
        }
    }

    /// A short label, for benchmarks and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::RingAll => "ring-all",
            Strategy::Linear => "linear",
            Strategy::RoundRobin => "round-robin",
            Strategy::LongestIdle => "longest-idle",
            Strategy::FewestCalls => "fewest-calls",
            Strategy::LeastTalkTime => "least-talk-time",
            Strategy::Random => "random",
            Strategy::WeightedRandom => "weighted-random",
            Strategy::RingProgressive { .. } => "ring-progressive",
        }
    }
}

/// Puts the `count` candidates with the smallest keys first, in key order.
fn smallest_first<K: Ord>(
    candidates: &mut [Candidate],
    count: usize,
    key: impl Fn(&Candidate) -> K,
) {
    if count == 0 {
        return;
    }
    if count < candidates.len() {
        candidates.select_nth_unstable_by_key(count - 1, &key);
    }
    candidates[..count].sort_by_key(key);
}

#[cfg(test)]
mod tests;
