//! Strict media learning, as Asterisk's `strict_rtp` does: which address a leg's RTP
//! is taken from. The address the leg's SDP names is always its own (signalling, which
//! the phone authenticated, put it there). A phone behind NAT sends from elsewhere, so
//! another address is learned from a short run of packets in sequence from one stream
//! and then locked; until then, and from anyone else afterwards, packets are dropped.
//! Only the hosts of the SDP and of the leg's SIP are learned from (a NAT sends a
//! phone's SIP and RTP from one public address), so a stranger spraying the port can
//! neither take the call's audio by sending first nor keep the phone out by sending
//! more.

use std::net::SocketAddr;

use super::LegMedia;

/// Packets in sequence that make an address the leg's (Asterisk's `probation`).
pub(super) const LEARN_AFTER: u8 = 4;

/// Addresses followed at once while learning, so that one stranger's noise does not
/// reset the phone's run.
const CANDIDATES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    from: SocketAddr,
    ssrc: u32,
    next_seq: u16,
    run: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct MediaSource {
    locked: Option<SocketAddr>,
    candidates: Vec<Candidate>,
}

impl MediaSource {
    /// Where media for the leg goes: the locked address, else the signalled one.
    pub fn target(&self, signalled: SocketAddr) -> SocketAddr {
        self.locked.unwrap_or(signalled)
    }

    /// Whether a packet of stream `ssrc` numbered `seq` from `from` is `leg`'s. The
    /// address its SDP names and a locked one are admitted; another address on the
    /// leg's hosts is admitted once it has sent [`LEARN_AFTER`] packets in sequence
    /// while nothing is locked yet.
    pub fn admit(&mut self, from: SocketAddr, leg: &LegMedia, ssrc: u32, seq: u16) -> bool {
        if from == leg.remote {
            self.lock(from);
            return true;
        }
        if let Some(locked) = self.locked {
            return locked == from;
        }
        if from.ip() != leg.signalling && from.ip() != leg.remote.ip() {
            return false;
        }
        let found = self.candidates.iter().position(|c| c.from == from);
        let candidate = match found {
            Some(i) => &mut self.candidates[i],
            None => {
                if self.candidates.len() == CANDIDATES {
                    // The least advanced run (the oldest among equals) makes room.
                    let weakest = (0..CANDIDATES)
                        .min_by_key(|&i| self.candidates[i].run)
                        .unwrap_or(0);
                    self.candidates.remove(weakest);
                }
                self.candidates.push(Candidate {
                    from,
                    ssrc,
                    next_seq: seq,
                    run: 0,
                });
                self.candidates.last_mut().expect("just pushed")
            }
        };
        if candidate.ssrc == ssrc && candidate.next_seq == seq {
            candidate.run += 1;
        } else {
            candidate.ssrc = ssrc;
            candidate.run = 1;
        }
        candidate.next_seq = seq.wrapping_add(1);
        if candidate.run >= LEARN_AFTER {
            self.lock(from);
            return true;
        }
        false
    }

    fn lock(&mut self, addr: SocketAddr) {
        self.locked = Some(addr);
        self.candidates.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A leg whose SDP names `sdp` and whose SIP comes from `signalling`'s host.
    fn leg(sdp: SocketAddr, signalling: SocketAddr) -> LegMedia {
        LegMedia {
            remote: sdp,
            signalling: signalling.ip(),
            audio: crate::codec::Format::default_for(crate::codec::Codec::Pcmu),
            events: None,
            srtp: None,
        }
    }

    #[test]
    fn the_signalled_address_is_admitted_at_once_and_locks() {
        let (sdp, stranger) = (addr("10.0.0.1:4000"), addr("10.0.0.1:4100"));
        let leg = leg(sdp, sdp);
        let mut s = MediaSource::default();
        assert!(s.admit(sdp, &leg, 1, 10));
        for seq in 0..10 {
            assert!(!s.admit(stranger, &leg, 2, seq));
        }
        assert_eq!(s.target(sdp), sdp);
    }

    #[test]
    fn a_nat_address_is_learned_from_a_run_in_sequence_then_locked() {
        let (sdp, nat) = (addr("192.168.1.5:4000"), addr("203.0.113.9:31000"));
        let leg = leg(sdp, addr("203.0.113.9:5060"));
        let mut s = MediaSource::default();
        let admitted: Vec<bool> = (100..100 + u16::from(LEARN_AFTER))
            .map(|seq| s.admit(nat, &leg, 7, seq))
            .collect();
        assert_eq!(admitted, [false, false, false, true]);
        assert_eq!(s.target(sdp), nat);
        let neighbour = addr("203.0.113.9:31002");
        assert!(!s.admit(neighbour, &leg, 9, 1), "locked: others stay out");
        assert!(s.admit(nat, &leg, 7, 104));
    }

    #[test]
    fn strangers_elsewhere_are_never_learned_however_they_send() {
        let (sdp, stranger) = (addr("192.168.1.5:4000"), addr("198.51.100.7:5000"));
        let leg = leg(sdp, addr("203.0.113.9:5060"));
        let mut s = MediaSource::default();
        assert!((0..100).all(|seq| !s.admit(stranger, &leg, 7, seq)));
        assert_eq!(s.target(sdp), sdp);
    }

    #[test]
    fn noise_from_the_phones_host_between_its_packets_does_not_stop_learning() {
        let (sdp, nat) = (addr("192.168.1.5:4000"), addr("203.0.113.9:31000"));
        let leg = leg(sdp, nat);
        let mut s = MediaSource::default();
        let mut learned = false;
        for seq in 0..u16::from(LEARN_AFTER) {
            for junk in 0..3u16 {
                let other = SocketAddr::new(nat.ip(), 6000 + junk);
                assert!(!s.admit(other, &leg, 0x666, seq * 7 + junk * 31));
            }
            learned = s.admit(nat, &leg, 7, seq);
        }
        assert!(learned);
    }

    #[test]
    fn packets_out_of_sequence_restart_the_run() {
        let (sdp, nat) = (addr("192.168.1.5:4000"), addr("203.0.113.9:31000"));
        let leg = leg(sdp, nat);
        let mut s = MediaSource::default();
        for seq in [1, 2, 3, 9, 10, 11] {
            assert!(!s.admit(nat, &leg, 7, seq), "seq {seq}");
        }
        assert!(s.admit(nat, &leg, 7, 12));
    }
}
