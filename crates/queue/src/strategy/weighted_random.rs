//! Weighted random: an agent comes first with probability proportional to their weight
//! (weight 0: only when nobody else is free). One agent is drawn by walking the weights'
//! running sum; a longer order is a weighted sample without replacement
//! (Efraimidis–Spirakis: sort by u^(1/w), largest first).

use rand::Rng;
use rand::rngs::SmallRng;

use super::Candidate;

pub(super) fn rank(candidates: &mut [Candidate], count: usize, rng: &mut SmallRng) {
    if count == 1 {
        let total: u64 = candidates.iter().map(|c| u64::from(c.weight)).sum();
        if total > 0 {
            let mut left = rng.random_range(0..total);
            let chosen = candidates
                .iter()
                .position(|c| match left.checked_sub(u64::from(c.weight)) {
                    Some(rest) => {
                        left = rest;
                        false
                    }
                    None => true,
                })
                .unwrap_or(0);
            candidates.swap(0, chosen);
        }
        return;
    }
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
