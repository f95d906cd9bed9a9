//! Random: every free agent equally likely first.

use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate], count: usize, rng: &mut SmallRng) {
    if count == 1 {
        let chosen = rng.random_range(0..candidates.len());
        candidates.swap(0, chosen);
    } else {
        candidates.shuffle(rng);
    }
}
