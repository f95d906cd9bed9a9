//! Tags, branches and Call-IDs must be unguessable and unique; the engine may not read
//! a random source itself (tests replay exactly), so it is seeded from outside and
//! runs SplitMix64, which is fast and passes BigCrush for this use.

#[derive(Debug)]
pub(crate) struct Ids {
    state: u64,
}

impl Ids {
    pub fn new(seed: u64) -> Self {
        Ids { state: seed }
    }

    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 16 hex digits.
    pub fn token(&mut self) -> String {
        format!("{:016x}", self.next())
    }
}
