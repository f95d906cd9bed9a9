//! Fewest calls: the agent who answered fewest calls; the longest idle among equals.

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by_key(|c| (c.stats.calls, c.idle_since, c.position));
}
