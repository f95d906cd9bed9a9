//! RTCP (RFC 3550 §6): sender and receiver reports read and written, and the receive
//! statistics behind them: packets lost (§A.3) and interarrival jitter (§A.8).
//!
//! Switchboard terminates RTCP on each leg instead of relaying it: the numbers a phone
//! reports describe its own leg, and each leg gets reports about what Switchboard
//! received from it.

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    #[error("shorter than an RTCP header")]
    TooShort,
    #[error("RTCP version is not 2")]
    Version,
    #[error("RTCP length field runs past the datagram")]
    Length,
}

const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;

/// One reception report block (§6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    pub ssrc: u32,
    /// Lost since the last report, in 1/256ths.
    pub fraction_lost: u8,
    /// Lost since the start; 24-bit signed on the wire.
    pub cumulative_lost: i32,
    pub highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    pub last_sr: u32,
    pub delay_since_last_sr: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    pub ntp: u64,
    pub rtp_timestamp: u32,
    pub packets: u32,
    pub octets: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    SenderReport {
        ssrc: u32,
        info: SenderInfo,
        reports: Vec<ReportBlock>,
    },
    ReceiverReport {
        ssrc: u32,
        reports: Vec<ReportBlock>,
    },
    /// SDES, BYE, APP and feedback: recognised, not interpreted.
    Other { packet_type: u8 },
}

/// Every packet of a compound RTCP datagram.
pub fn parse_compound(mut bytes: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    let mut packets = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 4 {
            return Err(RtcpError::TooShort);
        }
        if bytes[0] >> 6 != 2 {
            return Err(RtcpError::Version);
        }
        let count = (bytes[0] & 0x1f) as usize;
        let packet_type = bytes[1];
        let len = 4 * (u16::from_be_bytes([bytes[2], bytes[3]]) as usize + 1);
        let packet = bytes.get(..len).ok_or(RtcpError::Length)?;
        packets.push(match packet_type {
            SR => {
                let body = packet.get(4..28).ok_or(RtcpError::Length)?;
                RtcpPacket::SenderReport {
                    ssrc: be32(body, 0),
                    info: SenderInfo {
                        ntp: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                        rtp_timestamp: be32(body, 12),
                        packets: be32(body, 16),
                        octets: be32(body, 20),
                    },
                    reports: report_blocks(&packet[28..], count)?,
                }
            }
            RR => RtcpPacket::ReceiverReport {
                ssrc: be32(packet.get(4..8).ok_or(RtcpError::Length)?, 0),
                reports: report_blocks(&packet[8..], count)?,
            },
            other => RtcpPacket::Other { packet_type: other },
        });
        bytes = &bytes[len..];
    }
    Ok(packets)
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn report_blocks(b: &[u8], count: usize) -> Result<Vec<ReportBlock>, RtcpError> {
    let b = b.get(..24 * count).ok_or(RtcpError::Length)?;
    Ok(b.chunks_exact(24)
        .map(|r| {
            let lost = be32(r, 4) & 0x00ff_ffff;
            ReportBlock {
                ssrc: be32(r, 0),
                fraction_lost: r[4],
                // Sign-extend the 24-bit field.
                cumulative_lost: ((lost << 8) as i32) >> 8,
                highest_sequence: be32(r, 8),
                jitter: be32(r, 12),
                last_sr: be32(r, 16),
                delay_since_last_sr: be32(r, 20),
            }
        })
        .collect())
}

/// Appends a compound report: SR when `info` is given (we sent media), RR otherwise,
/// then the SDES CNAME every compound packet must carry (§6.1).
pub fn build_report(
    out: &mut Vec<u8>,
    ssrc: u32,
    info: Option<SenderInfo>,
    reports: &[ReportBlock],
    cname: &str,
) {
    let count = reports.len().min(31);
    let words = 1 + info.map_or(0, |_| 5) + 6 * count;
    out.push(0x80 | count as u8);
    out.push(if info.is_some() { SR } else { RR });
    out.extend_from_slice(&(words as u16).to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    if let Some(i) = info {
        out.extend_from_slice(&i.ntp.to_be_bytes());
        out.extend_from_slice(&i.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&i.packets.to_be_bytes());
        out.extend_from_slice(&i.octets.to_be_bytes());
    }
    for r in &reports[..count] {
        out.extend_from_slice(&r.ssrc.to_be_bytes());
        let lost = (r.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        out.extend_from_slice(&((u32::from(r.fraction_lost) << 24) | lost).to_be_bytes());
        out.extend_from_slice(&r.highest_sequence.to_be_bytes());
        out.extend_from_slice(&r.jitter.to_be_bytes());
        out.extend_from_slice(&r.last_sr.to_be_bytes());
        out.extend_from_slice(&r.delay_since_last_sr.to_be_bytes());
    }
    // SDES: one chunk with CNAME, null-terminated and padded to a word.
    let cname = &cname.as_bytes()[..cname.len().min(255)];
    let chunk = 4 + 2 + cname.len() + 1;
    let padded = chunk.div_ceil(4) * 4;
    out.push(0x81);
    out.push(SDES);
    out.extend_from_slice(&((padded / 4) as u16).to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.push(1);
    out.push(cname.len() as u8);
    out.extend_from_slice(cname);
    out.resize(out.len() + padded - chunk + 1, 0);
}

/// What one leg's stream looked like on arrival (RFC 3550 A.1, A.3, A.8).
#[derive(Debug, Clone, Default)]
pub struct ReceptionStats {
    started: bool,
    base_seq: u16,
    max_seq: u16,
    cycles: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Last transit time (arrival − RTP timestamp), in timestamp units.
    transit: Option<i64>,
    /// Jitter estimate ×16, as A.8 keeps it for integer precision.
    jitter16: i64,
}

impl ReceptionStats {
    /// A packet with `sequence` and `timestamp` arrived at `arrival`, expressed in the
    /// stream's clock units (8000 per second for G.711).
    pub fn on_packet(&mut self, sequence: u16, timestamp: u32, arrival: u32) {
        if !self.started {
            self.started = true;
            self.base_seq = sequence;
            self.max_seq = sequence;
        } else {
            let delta = sequence.wrapping_sub(self.max_seq);
            if delta != 0 && delta < 0x8000 {
                if sequence < self.max_seq {
                    self.cycles += 1 << 16;
                }
                self.max_seq = sequence;
            }
        }
        self.received += 1;
        let transit = i64::from(arrival.wrapping_sub(timestamp) as i32);
        if let Some(previous) = self.transit {
            let d = (transit - previous).abs();
            self.jitter16 += d * 16 - ((self.jitter16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    pub fn extended_max(&self) -> u32 {
        self.cycles + u32::from(self.max_seq)
    }

    pub fn expected(&self) -> u32 {
        if !self.started {
            return 0;
        }
        self.extended_max() - u32::from(self.base_seq) + 1
    }

    pub fn lost(&self) -> i32 {
        self.expected() as i32 - self.received as i32
    }

    pub fn jitter(&self) -> u32 {
        (self.jitter16 >> 4) as u32
    }

    /// The report block for this stream; moves the "since last report" marks.
    pub fn report(&mut self, ssrc: u32) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self.lost(),
            highest_sequence: self.extended_max(),
            jitter: self.jitter(),
            last_sr: 0,
            delay_since_last_sr: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reports_round_trip() {
        let block = ReportBlock {
            ssrc: 9,
            fraction_lost: 25,
            cumulative_lost: -3,
            highest_sequence: 70_000,
            jitter: 41,
            last_sr: 5,
            delay_since_last_sr: 6,
        };
        let info = SenderInfo {
            ntp: 1 << 40,
            rtp_timestamp: 160,
            packets: 50,
            octets: 8000,
        };
        let mut out = Vec::new();
        build_report(&mut out, 7, Some(info), &[block], "switchboard");
        assert_eq!(out.len() % 4, 0);
        let packets = parse_compound(&out).unwrap();
        assert_eq!(
            packets,
            [
                RtcpPacket::SenderReport {
                    ssrc: 7,
                    info,
                    reports: vec![block]
                },
                RtcpPacket::Other { packet_type: SDES }
            ]
        );
        out.clear();
        build_report(&mut out, 7, None, &[], "x");
        assert_eq!(
            parse_compound(&out).unwrap()[0],
            RtcpPacket::ReceiverReport {
                ssrc: 7,
                reports: vec![]
            }
        );
        assert!(crate::rtp::is_rtcp(&out));
    }

    #[test]
    fn loss_and_jitter_follow_rfc_3550() {
        let mut s = ReceptionStats::default();
        // 100 packets every 20 ms (160 units), 5 lost, one 40-unit late arrival.
        for i in 0..100u16 {
            if i % 20 == 7 {
                continue;
            }
            let late = if i == 50 { 40 } else { 0 };
            s.on_packet(
                65_500u16.wrapping_add(i),
                u32::from(i) * 160,
                u32::from(i) * 160 + late + 1000,
            );
        }
        assert_eq!(s.expected(), 100);
        assert_eq!(s.lost(), 5);
        assert_eq!(
            s.extended_max(),
            (1 << 16) + u32::from(65_500u16.wrapping_add(99))
        );
        let block = s.report(1);
        assert_eq!(block.fraction_lost, (5 * 256 / 100) as u8);
        assert!(block.jitter > 0 && block.jitter < 40, "{}", block.jitter);
        // Nothing new since: no loss in the next interval.
        assert_eq!(s.report(1).fraction_lost, 0);
    }

    #[test]
    fn malformed_compounds_are_refused() {
        assert_eq!(parse_compound(&[0x80, 200]), Err(RtcpError::TooShort));
        assert_eq!(parse_compound(&[0x40, 200, 0, 0]), Err(RtcpError::Version));
        assert_eq!(
            parse_compound(&[0x80, 200, 0, 9, 0, 0, 0, 0]),
            Err(RtcpError::Length)
        );
        assert_eq!(
            parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Length)
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = parse_compound(&bytes);
        }
    }
}
