//! RTCP towards each leg (RFC 3550 §6.4): every five seconds a sender report about
//! what Switchboard sent that leg, with a reception report (loss, jitter) about what
//! it received from it. Phones show these as call quality; they describe the leg
//! between the phone and Switchboard, which is what the phone can act on.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::rtcp::{ReceptionStats, SenderInfo, build_report};
use crate::rtp::RtpHeader;

use super::Side;

const INTERVAL: Duration = Duration::from_secs(5);
/// Seconds from 1900 (NTP) to 1970 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

#[derive(Debug)]
pub(super) struct Reports {
    epoch: Option<Instant>,
    wall_at_epoch: SystemTime,
    reception: [ReceptionStats; 2],
    /// Packets and payload octets sent to each leg.
    sent: [(u32, u32); 2],
    next: [Option<Instant>; 2],
}

impl Reports {
    pub fn new() -> Self {
        Reports {
            epoch: None,
            wall_at_epoch: UNIX_EPOCH,
            reception: Default::default(),
            sent: [(0, 0); 2],
            next: [None; 2],
        }
    }

    /// Anchors the reports' NTP timestamps: `wall` is the wall-clock time at `now`.
    pub fn set_wall_clock(&mut self, now: Instant, wall: SystemTime) {
        self.epoch = Some(now);
        self.wall_at_epoch = wall;
    }

    /// A packet from `side`, whose timestamps tick `clock` times a second.
    pub fn on_received(&mut self, now: Instant, side: Side, header: &RtpHeader, clock: u32) {
        let epoch = *self.epoch.get_or_insert(now);
        // Arrival in timestamp units, as jitter is measured in them.
        let micros = now.saturating_duration_since(epoch).as_micros();
        let arrival = (micros * u128::from(clock) / 1_000_000) as u32;
        self.reception[side as usize].on_packet(header.sequence, header.timestamp, arrival);
        for next in &mut self.next {
            next.get_or_insert(now + INTERVAL);
        }
    }

    pub fn on_sent(&mut self, side: Side, payload: usize) {
        let (packets, octets) = &mut self.sent[side as usize];
        *packets = packets.wrapping_add(1);
        *octets = octets.wrapping_add(payload as u32);
    }

    pub fn next_at(&self) -> Option<Instant> {
        self.next.iter().flatten().min().copied()
    }

    /// The leg whose report is due, if one is.
    pub fn due(&mut self, now: Instant) -> Option<Side> {
        let side = [Side::A, Side::B]
            .into_iter()
            .find(|s| self.next[*s as usize].is_some_and(|at| at <= now))?;
        self.next[side as usize] = Some(now + INTERVAL);
        Some(side)
    }

    /// The compound report to `side`: our stream's SSRC and timestamp, the SSRC we
    /// receive from that leg.
    pub fn build(
        &mut self,
        now: Instant,
        side: Side,
        ssrc: u32,
        rtp_timestamp: u32,
        remote_ssrc: Option<u32>,
    ) -> Vec<u8> {
        let i = side as usize;
        let wall = self.wall_at_epoch + now.saturating_duration_since(self.epoch.unwrap_or(now));
        let since_unix = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
        let ntp = ((since_unix.as_secs() + NTP_UNIX_OFFSET) << 32)
            | ((u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000);
        let (packets, octets) = self.sent[i];
        let info = (packets > 0).then_some(SenderInfo {
            ntp,
            rtp_timestamp,
            packets,
            octets,
        });
        let blocks: Vec<_> = remote_ssrc
            .map(|s| self.reception[i].report(s))
            .into_iter()
            .collect();
        let mut out = Vec::with_capacity(64);
        build_report(&mut out, ssrc, info, &blocks, "switchboard");
        out
    }
}
