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

    pub fn take(&mut self) -> Option<u16> {
        self.free.pop_front()
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
        let mut p = MediaPorts::new(10001, 10006);
        assert_eq!(p.take(), Some(10002));
        assert_eq!(p.take(), Some(10004));
        assert_eq!(p.take(), None, "10006 has no RTCP port inside the range");
        p.give_back(10002);
        assert_eq!(p.take(), Some(10002));
    }
}
