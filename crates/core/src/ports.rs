//! The RTP port pool. Each leg takes an even port for RTP and the odd one above it for
//! RTCP (RFC 3550 §11). Freed ports go to the back of the queue so that late packets
//! of an ended call do not land in the next one.

use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct MediaPorts {
    free: VecDeque<u16>,
}

impl MediaPorts {
    pub fn new(first: u16, last: u16) -> Self {
        let start = first + first % 2;
        MediaPorts {
            free: (start..last).step_by(2).collect(),
        }
    }

    /// Ports for both legs of a call, or none.
    pub fn take_pair(&mut self) -> Option<[u16; 2]> {
        if self.free.len() < 2 {
            return None;
        }
        Some([self.free.pop_front()?, self.free.pop_front()?])
    }

    pub fn give_back(&mut self, port: u16) {
        self.free.push_back(port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_ports_with_room_for_rtcp_reused_last() {
        let mut p = MediaPorts::new(10001, 10008);
        assert_eq!(p.take_pair(), Some([10002, 10004]));
        assert_eq!(
            p.take_pair(),
            None,
            "10008 has no RTCP port inside the range"
        );
        p.give_back(10002);
        assert_eq!(
            p.take_pair(),
            Some([10006, 10002]),
            "one port short takes none"
        );
    }
}
