//! The RTP port pool. Each leg takes an even port for RTP and the odd one above it for
//! RTCP (RFC 3550 §11). Ports are drawn at random from the free ones, so a stranger
//! cannot aim packets at the next call's ports, and a freed port is rarely taken again
//! at once (late packets of an ended call seldom land in the next).

#[derive(Debug)]
pub(crate) struct MediaPorts {
    free: Vec<u16>,
}

impl MediaPorts {
    pub fn new(first: u16, last: u16) -> Self {
        let start = first + first % 2;
        MediaPorts {
            free: (start..last).step_by(2).collect(),
        }
    }

    /// Ports for both legs of a call, or none; `random` chooses them.
    pub fn take_pair(&mut self, random: u64) -> Option<[u16; 2]> {
        if self.free.len() < 2 {
            return None;
        }
        let mut take = |r: u64| self.free.swap_remove((r % self.free.len() as u64) as usize);
        Some([take(random), take(random >> 32)])
    }

    pub fn give_back(&mut self, port: u16) {
        self.free.push(port);
    }

    /// Takes ports out of the pool for good: another program holds them.
    pub fn retire(&mut self, ports: &[u16]) {
        self.free.retain(|p| !ports.contains(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_ports_with_room_for_rtcp() {
        let mut p = MediaPorts::new(10001, 10008);
        let pair = p.take_pair(0).unwrap();
        let mut both = pair.to_vec();
        assert_eq!(
            p.take_pair(0),
            None,
            "10008 has no RTCP port inside the range"
        );
        p.give_back(pair[0]);
        both.push(p.take_pair(7).unwrap()[0]);
        assert!(both.iter().all(|port| [10002, 10004, 10006].contains(port)));
    }

    #[test]
    fn retired_ports_are_never_handed_out() {
        let mut p = MediaPorts::new(10000, 10020);
        p.retire(&[10000, 10002, 10004, 10006, 10008, 10010]);
        let mut taken: Vec<u16> = (0..2).flat_map(|r| p.take_pair(r * 7).unwrap()).collect();
        taken.sort();
        assert_eq!(taken, [10012, 10014, 10016, 10018]);
        assert_eq!(p.take_pair(0), None);
    }

    #[test]
    fn pairs_are_drawn_at_random_not_in_order() {
        let mut p = MediaPorts::new(10000, 20000);
        let mut random = 0x9e37_79b9_7f4a_7c15u64;
        let mut pairs = Vec::new();
        for _ in 0..20 {
            random = random
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            pairs.push(p.take_pair(random).unwrap());
        }
        let consecutive = pairs
            .windows(2)
            .filter(|w| w[1][0].abs_diff(w[0][1]) == 2)
            .count();
        assert!(consecutive < 3, "{pairs:?}");
    }
}
