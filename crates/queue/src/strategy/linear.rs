//! In order: the member list as configured, top first, every time.

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by_key(|c| c.position);
}
