//! Round robin with memory: the member after the one offered last goes first, so calls
//! go round the list rather than always starting at its top.

use super::{Candidate, RankMemory, smallest_first};

pub(super) fn rank(candidates: &mut [Candidate], count: usize, memory: &RankMemory) {
    let after = memory.last_offered.map_or(0, |p| p + 1);
    // Positions from `after` onwards first, then the wrap-around.
    smallest_first(candidates, count, |c| (c.position < after, c.position));
}
