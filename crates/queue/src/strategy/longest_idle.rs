//! Longest idle: the agent who has been free longest since their last call (or login).

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by_key(|c| (c.idle_since, c.position));
}
