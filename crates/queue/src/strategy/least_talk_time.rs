//! Least talk time: the agent with least time on calls; the longest idle among equals.

use super::{Candidate, smallest_first};

pub(super) fn rank(candidates: &mut [Candidate], count: usize) {
    smallest_first(candidates, count, |c| {
        (c.stats.talk_time, c.idle_since, c.position)
    });
}
