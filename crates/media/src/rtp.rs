//! RTP (RFC 3550 §5.1) read in place.
//!
//! The relay touches every packet of every call, so this is a view over the received
//! bytes rather than a parsed copy: it reads the fixed header, finds the payload past
//! CSRCs, the extension and padding, and rewrites SSRC, sequence number, timestamp and
//! payload type where they lie. The `rtc-rtp` crate parses into an owned packet, which
//! is an allocation per packet the relay does not need.

use thiserror::Error;

pub const HEADER_LEN: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    #[error("shorter than an RTP header")]
    TooShort,
    #[error("RTP version is not 2")]
    Version,
    #[error("CSRC list, extension or padding runs past the packet")]
    Truncated,
}

/// The fields of a valid RTP packet and where its payload lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Byte range of the payload within the packet.
    pub payload_start: usize,
    pub payload_end: usize,
}

impl RtpHeader {
    pub fn parse(packet: &[u8]) -> Result<Self, RtpError> {
        if packet.len() < HEADER_LEN {
            return Err(RtpError::TooShort);
        }
        if packet[0] >> 6 != 2 {
            return Err(RtpError::Version);
        }
        let csrc_count = (packet[0] & 0x0f) as usize;
        let mut start = HEADER_LEN + 4 * csrc_count;
        if packet[0] & 0x10 != 0 {
            let words = packet
                .get(start + 2..start + 4)
                .ok_or(RtpError::Truncated)?;
            start += 4 + 4 * u16::from_be_bytes([words[0], words[1]]) as usize;
        }
        let mut end = packet.len();
        if packet[0] & 0x20 != 0 {
            // The count includes its own octet (RFC 3550 §5.1), so it is at least 1 and
            // the octet lies past the header, where rewriting the header cannot move it.
            let pad = packet[end - 1] as usize;
            if pad == 0 {
                return Err(RtpError::Truncated);
            }
            end = end.checked_sub(pad).ok_or(RtpError::Truncated)?;
        }
        if start > end {
            return Err(RtpError::Truncated);
        }
        Ok(RtpHeader {
            marker: packet[1] & 0x80 != 0,
            payload_type: packet[1] & 0x7f,
            sequence: u16::from_be_bytes([packet[2], packet[3]]),
            timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
            payload_start: start,
            payload_end: end,
        })
    }
}

/// Rewrites the identifying fields of a packet already checked by [`RtpHeader::parse`].
pub fn rewrite(packet: &mut [u8], payload_type: u8, sequence: u16, timestamp: u32, ssrc: u32) {
    packet[1] = (packet[1] & 0x80) | (payload_type & 0x7f);
    packet[2..4].copy_from_slice(&sequence.to_be_bytes());
    packet[4..8].copy_from_slice(&timestamp.to_be_bytes());
    packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

/// Marks a packet as unpadded, once its payload has been replaced up to its end.
pub fn clear_padding(packet: &mut [u8]) {
    packet[0] &= !0x20;
}

/// Appends a plain RTP packet (no CSRC, extension or padding) to `out`.
pub fn build(
    out: &mut Vec<u8>,
    marker: bool,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
    payload: &[u8],
) {
    out.push(0x80);
    out.push(((marker as u8) << 7) | (payload_type & 0x7f));
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// RTCP shares ports with RTP under RFC 5761 multiplexing: payload types 64–95 in the
/// RTP position are RTCP packet types 192–223.
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 2 && packet[0] >> 6 == 2 && (192..=223).contains(&packet[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn build_then_parse() {
        let mut p = Vec::new();
        build(&mut p, true, 8, 513, 160_000, 0xdead_beef, &[1, 2, 3]);
        let h = RtpHeader::parse(&p).unwrap();
        assert!(h.marker);
        assert_eq!(
            (h.payload_type, h.sequence, h.timestamp, h.ssrc),
            (8, 513, 160_000, 0xdead_beef)
        );
        assert_eq!(&p[h.payload_start..h.payload_end], &[1, 2, 3]);
        rewrite(&mut p, 0, 7, 9, 11);
        let h = RtpHeader::parse(&p).unwrap();
        assert!(h.marker, "marker survives a rewrite");
        assert_eq!(
            (h.payload_type, h.sequence, h.timestamp, h.ssrc),
            (0, 7, 9, 11)
        );
    }

    #[test]
    fn csrc_extension_and_padding_are_skipped() {
        let mut p = vec![0x80 | 0x20 | 0x10 | 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        p.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // one-word extension
        p.extend_from_slice(&[0xaa, 0xbb]); // payload
        p.extend_from_slice(&[0, 0, 3]); // padding of 3
        let h = RtpHeader::parse(&p).unwrap();
        assert_eq!(&p[h.payload_start..h.payload_end], &[0xaa, 0xbb]);
    }

    #[test]
    fn malformed_packets_are_refused() {
        assert_eq!(RtpHeader::parse(&[0x80; 11]), Err(RtpError::TooShort));
        assert_eq!(RtpHeader::parse(&[0x40; 12]), Err(RtpError::Version));
        assert_eq!(RtpHeader::parse(&[0x8f; 12]), Err(RtpError::Truncated));
        let mut padded = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200];
        assert_eq!(RtpHeader::parse(&padded), Err(RtpError::Truncated));
        padded[12] = 0;
        assert_eq!(
            RtpHeader::parse(&padded),
            Err(RtpError::Truncated),
            "a count of 0"
        );
        padded[12] = 1;
        assert!(RtpHeader::parse(&padded).is_ok());
        // Found by fuzzing: the padding flag on a bare header made the SSRC's last octet
        // the count, and rewriting the SSRC changed the packet's length.
        let bare = [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4];
        assert_eq!(RtpHeader::parse(&bare), Err(RtpError::Truncated));
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(h) = RtpHeader::parse(&bytes) {
                prop_assert!(h.payload_start <= h.payload_end && h.payload_end <= bytes.len());
            }
        }

        #[test]
        fn a_rewritten_packet_still_parses_the_same(
            bytes in proptest::collection::vec(any::<u8>(), 12..64),
            pt in 0u8..128, seq: u16, ts: u32, ssrc: u32,
        ) {
            let mut packet = bytes.clone();
            if let Ok(before) = RtpHeader::parse(&packet) {
                rewrite(&mut packet, pt, seq, ts, ssrc);
                let after = RtpHeader::parse(&packet);
                prop_assert_eq!(after.map(|h| (h.payload_start, h.payload_end)), Ok((before.payload_start, before.payload_end)));
            }
        }
    }
}
