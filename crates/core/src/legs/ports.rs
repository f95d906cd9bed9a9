//! The RTP port pool. Each leg takes an even port for RTP and the odd one above it for
//! RTCP (RFC 3550 §11). Ports are drawn at random from the free ones, so a stranger
//! cannot aim packets at the next call's ports, and a freed port is rarely taken again
//! at once (late packets of an ended call seldom land in the next).

/// The media edge's hold on the pairs the pool hands out: another program on the PC
/// may have taken a port since Switchboard started, so a pair is bound before a call
/// takes it.
pub trait PortReserve: Send {
    /// Binds the pair's sockets and keeps them for its call; false when a port is held
    /// by another program.
    fn reserve(&mut self, pair: [u16; 2]) -> bool;
    /// The pair is back in the pool: sockets kept for a call that never used them close.
    fn release(&mut self, pair: [u16; 2]);
}

/// Pairs tried for one call before it is refused.
const TRIES: usize = 32;

pub(crate) struct MediaPorts {
    free: Vec<u16>,
    reserve: Option<Box<dyn PortReserve>>,
}

impl std::fmt::Debug for MediaPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaPorts")
            .field("free", &self.free.len())
            .field("reserved", &self.reserve.is_some())
            .finish()
    }
}

impl MediaPorts {
    pub fn new(first: u16, last: u16) -> Self {
        let start = first + first % 2;
        MediaPorts {
            free: (start..last).step_by(2).collect(),
            reserve: None,
        }
    }

    pub fn set_reserve(&mut self, reserve: Box<dyn PortReserve>) {
        self.reserve = Some(reserve);
    }

    /// Ports for both legs of a call that the reserve could bind, or none; `random`
    /// draws each pair tried. A pair refused goes back to the pool: the port may be
    /// free again by the next call (a call's sockets close a moment after it ends).
    pub fn take_pair(&mut self, mut random: impl FnMut() -> u64) -> Option<[u16; 2]> {
        let mut refused = Vec::new();
        let found = loop {
            if self.free.len() < 2 || refused.len() == TRIES {
                break None;
            }
            let r = random();
            let mut take = |r: u64| self.free.swap_remove((r % self.free.len() as u64) as usize);
            let pair = [take(r), take(r >> 32)];
            if self.reserve.as_mut().is_none_or(|r| r.reserve(pair)) {
                break Some(pair);
            }
            refused.push(pair);
        };
        self.free.extend(refused.into_iter().flatten());
        found
    }

    pub fn give_back(&mut self, pair: [u16; 2]) {
        if let Some(reserve) = self.reserve.as_mut() {
            reserve.release(pair);
        }
        self.free.extend(pair);
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
        let pair = p.take_pair(|| 0).unwrap();
        let mut both = pair.to_vec();
        assert_eq!(
            p.take_pair(|| 0),
            None,
            "10008 has no RTCP port inside the range"
        );
        p.give_back(pair);
        both.push(p.take_pair(|| 7).unwrap()[0]);
        assert!(both.iter().all(|port| [10002, 10004, 10006].contains(port)));
    }

    #[test]
    fn retired_ports_are_never_handed_out() {
        let mut p = MediaPorts::new(10000, 10020);
        p.retire(&[10000, 10002, 10004, 10006, 10008, 10010]);
        let mut taken: Vec<u16> = (0..2)
            .flat_map(|r| p.take_pair(|| r * 7).unwrap())
            .collect();
        taken.sort();
        assert_eq!(taken, [10012, 10014, 10016, 10018]);
        assert_eq!(p.take_pair(|| 0), None);
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
            pairs.push(p.take_pair(|| random).unwrap());
        }
        let consecutive = pairs
            .windows(2)
            .filter(|w| w[1][0].abs_diff(w[0][1]) == 2)
            .count();
        assert!(consecutive < 3, "{pairs:?}");
    }

    /// Binds nothing: takes every pair above `free_from`, and notes releases.
    struct Edge {
        free_from: u16,
        released: std::sync::Arc<std::sync::Mutex<Vec<[u16; 2]>>>,
    }

    impl PortReserve for Edge {
        fn reserve(&mut self, pair: [u16; 2]) -> bool {
            pair.iter().all(|&port| port >= self.free_from)
        }

        fn release(&mut self, pair: [u16; 2]) {
            self.released.lock().unwrap().push(pair);
        }
    }

    #[test]
    fn a_pair_the_edge_cannot_bind_is_passed_over_and_kept_for_later() {
        let mut p = MediaPorts::new(10000, 10100);
        let released = std::sync::Arc::default();
        // Another program took every port below 10060 since the start.
        p.set_reserve(Box::new(Edge {
            free_from: 10060,
            released: std::sync::Arc::clone(&released),
        }));
        let mut r = 0u64;
        let mut random = || {
            r = r.wrapping_add(0x9e37_79b9_7f4a_7c15);
            r
        };
        let found = (0..20).find_map(|_| p.take_pair(&mut random)).unwrap();
        assert!(found.iter().all(|&port| port >= 10060), "{found:?}");
        assert_eq!(p.free.len(), 48, "refused pairs are back in the pool");
        p.give_back(found);
        assert_eq!(*released.lock().unwrap(), [found], "the edge lets go of it");
        p.set_reserve(Box::new(Edge {
            free_from: u16::MAX,
            released,
        }));
        assert_eq!(
            p.take_pair(&mut random),
            None,
            "refused after {TRIES} pairs"
        );
        assert_eq!(p.free.len(), 50);
    }
}
