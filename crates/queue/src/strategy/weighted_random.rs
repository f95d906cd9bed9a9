//! Weighted random: an agent comes first with probability proportional to their weight
//! (weight 0: only when nobody else is free). The whole order is a weighted sample
//! without replacement (Efraimidis–Spirakis: sort by u^(1/w), largest first).

use rand::Rng;
use rand::rngs::SmallRng;

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate], rng: &mut SmallRng) {
    let mut keyed: Vec<(f64, Candidate)> = candidates
        .iter()
        .map(|&c| {
            let key = if c.weight == 0 {
                -1.0
            } else {
                rng.random::<f64>().powf(1.0 / f64::from(c.weight))
            };
            (key, c)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (slot, (_, c)) in candidates.iter_mut().zip(keyed) {
        *slot = c;
    }
}
