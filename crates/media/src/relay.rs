//! The relay that anchors one call's audio: every packet from one leg goes out to the
//! other with Switchboard's own SSRC, sequence numbers and timestamps, with the payload
//! type the receiving phone negotiated, transcoded when the legs chose different codecs.
//!
//! Symmetric RTP (RFC 4961): each leg's first valid packet latches its real source
//! address (a phone behind NAT sends from somewhere other than its SDP says), and media
//! for that leg goes back there. Packets from elsewhere, with a foreign SSRC or that are
//! not RTP are dropped and counted; they never reach the other phone.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::codec::{Codec, Format, transcode_in_place};
use crate::rtp::{self, RtpHeader};

/// A leg's SSRC may change (a phone restarts its stream, a PBX behind it switches
/// sources) once the old one has been quiet this long; an interleaved foreign stream
/// is dropped.
const SSRC_SWITCH_AFTER: Duration = Duration::from_millis(500);

/// One of the two legs of a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a leg negotiated: where it said it listens and which formats it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegMedia {
    pub remote: SocketAddr,
    pub audio: Format,
    pub events: Option<Format>,
}

/// Why a packet was not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Not RTP, or a broken header.
    Malformed,
    /// From an address other than the leg's latched one.
    UnexpectedSource,
    /// A second stream interleaved with the latched one.
    ForeignSsrc,
    /// A payload type the leg did not negotiate, or events the other side cannot take.
    Payload,
    /// RTCP, which Switchboard terminates instead of relaying.
    Rtcp,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    pub forwarded: u64,
    pub malformed: u64,
    pub unexpected_source: u64,
    pub foreign_ssrc: u64,
    pub payload: u64,
    pub rtcp: u64,
}

#[derive(Debug)]
struct Inbound {
    latched: Option<SocketAddr>,
    ssrc: Option<u32>,
    last_seen: Option<Instant>,
}

/// Switchboard's stream toward one leg.
#[derive(Debug)]
struct Outbound {
    ssrc: u32,
    /// Offsets from the current source's numbering to ours.
    seq_offset: u16,
    ts_offset: u32,
    last_seq: u16,
    last_ts: u32,
    source: Option<u32>,
}

impl Outbound {
    fn new(ssrc: u32, first_seq: u16) -> Self {
        Outbound {
            ssrc,
            seq_offset: 0,
            ts_offset: 0,
            last_seq: first_seq.wrapping_sub(1),
            last_ts: 0,
            source: None,
        }
    }

    /// Continues our numbering across a change of source, so the phone sees one
    /// unbroken stream.
    fn map(&mut self, header: &RtpHeader) -> (u16, u32) {
        if self.source != Some(header.ssrc) {
            self.source = Some(header.ssrc);
            self.seq_offset = self.last_seq.wrapping_add(1).wrapping_sub(header.sequence);
            // One 20-ms frame after the last timestamp we sent.
            self.ts_offset = self
                .last_ts
                .wrapping_add(160)
                .wrapping_sub(header.timestamp);
        }
        let seq = header.sequence.wrapping_add(self.seq_offset);
        let ts = header.timestamp.wrapping_add(self.ts_offset);
        // Reordered packets keep their place; only the newest moves the marks.
        if seq.wrapping_sub(self.last_seq) < 0x8000 {
            self.last_seq = seq;
            self.last_ts = ts;
        }
        (seq, ts)
    }
}

#[derive(Debug)]
pub struct Relay {
    legs: [LegMedia; 2],
    inbound: [Inbound; 2],
    outbound: [Outbound; 2],
    stats: RelayStats,
}

impl Relay {
    /// `ssrcs` and `first_seqs` are Switchboard's random stream identities toward A and B.
    pub fn new(a: LegMedia, b: LegMedia, ssrcs: [u32; 2], first_seqs: [u16; 2]) -> Self {
        let inbound = || Inbound {
            latched: None,
            ssrc: None,
            last_seen: None,
        };
        Relay {
            legs: [a, b],
            inbound: [inbound(), inbound()],
            outbound: [
                Outbound::new(ssrcs[0], first_seqs[0]),
                Outbound::new(ssrcs[1], first_seqs[1]),
            ],
            stats: RelayStats::default(),
        }
    }

    pub fn stats(&self) -> RelayStats {
        self.stats
    }

    pub fn leg(&self, side: Side) -> &LegMedia {
        &self.legs[side.index()]
    }

    /// A re-INVITE changed a leg: its address may move and its source is learned anew.
    pub fn update(&mut self, side: Side, media: LegMedia) {
        self.legs[side.index()] = media;
        let inbound = &mut self.inbound[side.index()];
        inbound.latched = None;
        inbound.ssrc = None;
    }

    /// A packet arrived on the socket facing `side`. On success it has been rewritten in
    /// place for the other leg and the address to send it to is returned.
    pub fn handle_rtp(
        &mut self,
        now: Instant,
        side: Side,
        from: SocketAddr,
        packet: &mut [u8],
    ) -> Result<SocketAddr, Dropped> {
        let result = self.relay(now, side, from, packet);
        let s = &mut self.stats;
        match result {
            Ok(_) => s.forwarded += 1,
            Err(Dropped::Malformed) => s.malformed += 1,
            Err(Dropped::UnexpectedSource) => s.unexpected_source += 1,
            Err(Dropped::ForeignSsrc) => s.foreign_ssrc += 1,
            Err(Dropped::Payload) => s.payload += 1,
            Err(Dropped::Rtcp) => s.rtcp += 1,
        }
        result
    }

    fn relay(
        &mut self,
        now: Instant,
        side: Side,
        from: SocketAddr,
        packet: &mut [u8],
    ) -> Result<SocketAddr, Dropped> {
        if rtp::is_rtcp(packet) {
            return Err(Dropped::Rtcp);
        }
        let header = RtpHeader::parse(packet).map_err(|_| Dropped::Malformed)?;
        let leg = self.legs[side.index()];
        let inbound = &mut self.inbound[side.index()];
        // The address the leg's SDP names always wins back the latch, so a stranger who
        // sent first cannot keep a call's audio.
        match inbound.latched {
            Some(addr) if addr != from && from != leg.remote => {
                return Err(Dropped::UnexpectedSource);
            }
            _ => {}
        }
        let quiet = inbound
            .last_seen
            .is_none_or(|t| now.saturating_duration_since(t) >= SSRC_SWITCH_AFTER);
        if inbound.ssrc.is_some_and(|s| s != header.ssrc) && !quiet {
            return Err(Dropped::ForeignSsrc);
        }
        let target = self.legs[side.other().index()];
        let (payload_type, transcode) = if header.payload_type == leg.audio.payload_type {
            (
                target.audio.payload_type,
                (leg.audio.codec, target.audio.codec),
            )
        } else if leg
            .events
            .is_some_and(|e| e.payload_type == header.payload_type)
        {
            let events = target.events.ok_or(Dropped::Payload)?;
            (
                events.payload_type,
                (Codec::TelephoneEvent, Codec::TelephoneEvent),
            )
        } else {
            return Err(Dropped::Payload);
        };
        inbound.latched = Some(from);
        inbound.ssrc = Some(header.ssrc);
        inbound.last_seen = Some(now);
        let out = &mut self.outbound[side.other().index()];
        let (seq, ts) = out.map(&header);
        rtp::rewrite(packet, payload_type, seq, ts, out.ssrc);
        if transcode.0 != transcode.1 {
            transcode_in_place(
                transcode.0,
                transcode.1,
                &mut packet[header.payload_start..header.payload_end],
            );
        }
        let to = self.inbound[side.other().index()]
            .latched
            .unwrap_or(target.remote);
        Ok(to)
    }
}

#[cfg(test)]
mod tests;
