//! Least talk time: the agent with least time on calls; the longest idle among equals.

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by_key(|c| (c.stats.talk_time, c.idle_since, c.position));
}
