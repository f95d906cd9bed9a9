//! Longest idle: the agent who has been free longest since their last call (or login).

use super::{Candidate, smallest_first};

pub(super) fn rank(candidates: &mut [Candidate], count: usize) {
    smallest_first(candidates, count, |c| (c.idle_since, c.position));
}
