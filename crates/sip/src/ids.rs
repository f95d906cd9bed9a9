//! Tags, branches and Call-IDs that nobody on the network may guess: anyone who knows a
//! dialog's Call-ID and tags could otherwise hang it up or move its audio. They come
//! from ChaCha20, a cryptographically secure stream whose outputs reveal neither its key
//! nor the next output (a fast generator such as SplitMix64 gives its whole state away
//! in one output). Neither the call engine nor the in-app phone reads a random source
//! itself, so that tests replay exactly: the key comes from outside, fresh OS
//! randomness at each start.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

pub struct Ids {
    rng: ChaCha20Rng,
}

impl std::fmt::Debug for Ids {
    /// The key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ids")
    }
}

impl Ids {
    pub fn new(key: [u8; 32]) -> Self {
        Ids {
            rng: ChaCha20Rng::from_seed(key),
        }
    }

    pub fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// 64 random bits as 16 hex digits.
    pub fn token(&mut self) -> String {
        format!("{:016x}", self.random())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64's state, recovered from one output: how identifiers were once
    /// predicted from a probe's answer.
    fn splitmix_successor(out: u64) -> u64 {
        fn unshift(z: u64, s: u32) -> u64 {
            (0..64 / s + 1).fold(z, |x, _| z ^ (x >> s))
        }
        fn inverse(odd: u64) -> u64 {
            (0..6).fold(odd, |inv, _| {
                inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)))
            })
        }
        let z = unshift(out, 31).wrapping_mul(inverse(0x94d0_49bb_1331_11eb));
        let z = unshift(z, 27).wrapping_mul(inverse(0xbf58_476d_1ce4_e5b9));
        let state = unshift(z, 30).wrapping_add(0x9e37_79b9_7f4a_7c15);
        let z = (state ^ (state >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn one_output_does_not_predict_the_next() {
        let mut ids = Ids::new([9; 32]);
        let outputs: Vec<u64> = (0..1000).map(|_| ids.random()).collect();
        let predicted = outputs
            .windows(2)
            .filter(|w| splitmix_successor(w[0]) == w[1])
            .count();
        assert_eq!(predicted, 0);
    }

    #[test]
    fn the_attack_model_predicts_splitmix() {
        // The check above can fail: against SplitMix64 itself it predicts every output.
        let mut state = 42u64;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let z = (state ^ (state >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let (a, b) = (next(), next());
        assert_eq!(splitmix_successor(a), b);
    }

    #[test]
    fn tokens_are_64_bits_and_differ_by_key() {
        let (mut one, mut two) = (Ids::new([1; 32]), Ids::new([2; 32]));
        let token = one.token();
        assert_eq!(token.len(), 16);
        assert_ne!(token, two.token());
    }
}
