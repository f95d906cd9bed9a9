//! Fewest calls: the agent who answered fewest calls; the longest idle among equals.

use super::{Candidate, smallest_first};

pub(super) fn rank(candidates: &mut [Candidate], count: usize) {
    smallest_first(candidates, count, |c| {
        (c.stats.calls, c.idle_since, c.position)
    });
}
