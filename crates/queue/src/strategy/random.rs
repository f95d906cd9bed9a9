//! Random: every free agent equally likely first.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate], rng: &mut SmallRng) {
    candidates.shuffle(rng);
}
