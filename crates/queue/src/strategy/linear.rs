//! In order: the member list as configured, top first, every time.

use super::{Candidate, smallest_first};

pub(super) fn rank(candidates: &mut [Candidate], count: usize) {
    smallest_first(candidates, count, |c| c.position);
}
