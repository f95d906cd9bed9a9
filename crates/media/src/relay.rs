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

use std::collections::VecDeque;

use crate::codec::{Codec, Format, transcode_in_place};
use crate::dtmf::{Dtmf, TelephoneEvent};
use crate::prompt::PromptPlayer;
use crate::rtp::{self, RtpHeader};

mod events;
mod music;
mod reports;

use events::EventTrain;
use music::Music;
use reports::Reports;

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
    /// A telephone event the other leg cannot take as RTP: reported as a
    /// [`RelayEvent::Dtmf`] for the call logic to send by SIP INFO.
    Translated,
    /// The other leg is on hold and hears music instead.
    Held,
}

/// What the relay tells the call logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayEvent {
    /// A key pressed on `from`'s phone, sent as RFC 4733, which the other leg did not
    /// negotiate.
    Dtmf { from: Side, dtmf: Dtmf },
}

/// A packet Switchboard originates, to send from the socket facing `side`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emit {
    pub side: Side,
    pub to: SocketAddr,
    pub packet: Vec<u8>,
    /// RTCP, sent from the leg's RTCP socket.
    pub rtcp: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    pub forwarded: u64,
    pub malformed: u64,
    pub unexpected_source: u64,
    pub foreign_ssrc: u64,
    pub payload: u64,
    pub rtcp: u64,
    /// Telephone events turned into SIP INFO, and INFO keys sent as telephone events.
    pub dtmf_translated: u64,
    /// Not passed on while the other leg heard music on hold.
    pub held: u64,
}

#[derive(Debug)]
struct Inbound {
    latched: Option<SocketAddr>,
    ssrc: Option<u32>,
    last_seen: Option<Instant>,
    /// Timestamp of the last telephone event reported, so its repeated end packets
    /// make one key press.
    reported_event: Option<u32>,
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

    /// Takes the next sequence number for a packet Switchboard makes itself; relayed
    /// packets shift past it.
    fn own_sequence(&mut self) -> u16 {
        self.last_seq = self.last_seq.wrapping_add(1);
        self.seq_offset = self.seq_offset.wrapping_add(1);
        self.last_seq
    }

    /// Advances our timestamp by `samples` for a packet Switchboard makes itself.
    fn own_timestamp(&mut self, samples: u32) -> u32 {
        self.last_ts = self.last_ts.wrapping_add(samples);
        self.last_ts
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
    events: VecDeque<RelayEvent>,
    /// Key presses being sent as telephone events, towards A and B.
    trains: [VecDeque<EventTrain>; 2],
    /// Music on hold playing to A and B.
    music: [Option<Music>; 2],
    /// Only leg A exists (an announcement before any answer): nothing is relayed.
    one_leg: bool,
    reports: Reports,
}

impl Relay {
    /// `ssrcs` and `first_seqs` are Switchboard's random stream identities toward A and B.
    pub fn new(a: LegMedia, b: LegMedia, ssrcs: [u32; 2], first_seqs: [u16; 2]) -> Self {
        let inbound = || Inbound {
            latched: None,
            ssrc: None,
            last_seen: None,
            reported_event: None,
        };
        Relay {
            legs: [a, b],
            inbound: [inbound(), inbound()],
            outbound: [
                Outbound::new(ssrcs[0], first_seqs[0]),
                Outbound::new(ssrcs[1], first_seqs[1]),
            ],
            stats: RelayStats::default(),
            events: VecDeque::new(),
            trains: [VecDeque::new(), VecDeque::new()],
            music: [None, None],
            one_leg: false,
            reports: Reports::new(),
        }
    }

    /// Gives the RTCP sender reports their wall-clock time: `wall` at `now`.
    pub fn with_wall_clock(mut self, now: Instant, wall: std::time::SystemTime) -> Self {
        self.reports.set_wall_clock(now, wall);
        self
    }

    /// A relay for leg A alone, to play it an announcement; what A sends goes nowhere.
    pub fn for_announcement(a: LegMedia, ssrc: u32, first_seq: u16) -> Self {
        let mut relay = Relay::new(a, a, [ssrc, ssrc], [first_seq, first_seq]);
        relay.one_leg = true;
        relay
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
            Err(Dropped::Translated) => s.dtmf_translated += 1,
            Err(Dropped::Held) => s.held += 1,
        }
        result
    }

    /// Sends a key press to `to` as RFC 4733 telephone events, if that leg negotiated
    /// them; false otherwise. The packets come out of [`Relay::poll_emit`].
    pub fn send_dtmf(&mut self, now: Instant, to: Side, dtmf: Dtmf) -> bool {
        if self.legs[to.index()].events.is_none() {
            return false;
        }
        let Some(train) = EventTrain::new(now, dtmf) else {
            return false;
        };
        self.trains[to.index()].push_back(train);
        self.stats.dtmf_translated += 1;
        true
    }

    /// Plays `player` to `to` instead of what the other leg sends (music on hold), or
    /// goes back to relaying with `None`.
    pub fn set_music(&mut self, now: Instant, to: Side, player: Option<PromptPlayer>) {
        self.music[to.index()] = player.map(|p| Music::new(now, p));
        // Relayed audio that follows continues our numbering after the music.
        self.outbound[to.index()].source = None;
    }

    pub fn is_playing_music(&self, to: Side) -> bool {
        self.music[to.index()].is_some()
    }

    /// A one-shot prompt to `to` has played to its end.
    pub fn music_finished(&self, to: Side) -> bool {
        self.music[to.index()].as_ref().is_some_and(Music::finished)
    }

    /// The next packet Switchboard itself sends, once it is due.
    pub fn poll_emit(&mut self, now: Instant) -> Option<Emit> {
        for side in [Side::A, Side::B] {
            if let Some(emit) = self.emit_music(now, side) {
                return Some(emit);
            }
            let i = side.index();
            let Some(train) = self.trains[i].front_mut() else {
                continue;
            };
            let Some(events) = self.legs[i].events else {
                self.trains[i].clear();
                continue;
            };
            let out = &mut self.outbound[i];
            let Some(event) = train.poll(now, out.last_ts.wrapping_add(160)) else {
                continue;
            };
            let seq = out.own_sequence();
            let mut packet = Vec::with_capacity(16);
            rtp::build(
                &mut packet,
                event.first,
                events.payload_type,
                seq,
                event.timestamp,
                out.ssrc,
                &event.payload.to_bytes(),
            );
            if train.is_done() {
                self.trains[i].pop_front();
            }
            let to = self.inbound[i].latched.unwrap_or(self.legs[i].remote);
            return Some(Emit {
                side,
                to,
                packet,
                rtcp: false,
            });
        }
        let side = self.reports.due(now)?;
        let i = side.index();
        let out = &self.outbound[i];
        let packet = self
            .reports
            .build(now, side, out.ssrc, out.last_ts, self.inbound[i].ssrc);
        let rtp_to = self.inbound[i].latched.unwrap_or(self.legs[i].remote);
        let to = SocketAddr::new(rtp_to.ip(), rtp_to.port().wrapping_add(1));
        Some(Emit {
            side,
            to,
            packet,
            rtcp: true,
        })
    }

    pub fn poll_event(&mut self) -> Option<RelayEvent> {
        self.events.pop_front()
    }

    /// When the next packet of a key press or of music is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let events = self
            .trains
            .iter()
            .filter_map(|t| t.front().map(EventTrain::next_at));
        let music = self.music.iter().flatten().map(Music::next_at);
        events.chain(music).chain(self.reports.next_at()).min()
    }

    fn emit_music(&mut self, now: Instant, side: Side) -> Option<Emit> {
        let i = side.index();
        let frame = self.music[i].as_mut()?.frame(now)?;
        let audio = self.legs[i].audio;
        let mut payload = Vec::with_capacity(frame.samples.len());
        crate::codec::encode(audio.codec, &frame.samples, &mut payload);
        let out = &mut self.outbound[i];
        let seq = out.own_sequence();
        let ts = out.own_timestamp(frame.samples.len() as u32);
        let mut packet = Vec::with_capacity(rtp::HEADER_LEN + payload.len());
        rtp::build(
            &mut packet,
            frame.first,
            audio.payload_type,
            seq,
            ts,
            out.ssrc,
            &payload,
        );
        self.reports.on_sent(side, payload.len());
        let to = self.inbound[i].latched.unwrap_or(self.legs[i].remote);
        Some(Emit {
            side,
            to,
            packet,
            rtcp: false,
        })
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
            let Some(events) = target.events else {
                let payload = &packet[header.payload_start..header.payload_end];
                let event = TelephoneEvent::parse(payload).ok_or(Dropped::Malformed)?;
                self.report_key(side, header.timestamp, event);
                return Err(Dropped::Translated);
            };
            (
                events.payload_type,
                (Codec::TelephoneEvent, Codec::TelephoneEvent),
            )
        } else {
            return Err(Dropped::Payload);
        };
        let inbound = &mut self.inbound[side.index()];
        inbound.latched = Some(from);
        inbound.ssrc = Some(header.ssrc);
        inbound.last_seen = Some(now);
        self.reports.on_received(now, side, &header);
        if self.one_leg || self.music[side.other().index()].is_some() {
            return Err(Dropped::Held);
        }
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
        self.reports
            .on_sent(side.other(), header.payload_end - header.payload_start);
        let to = self.inbound[side.other().index()]
            .latched
            .unwrap_or(target.remote);
        Ok(to)
    }

    /// Reports a key once, at the first end packet of its event (RFC 4733 §2.5.1.4).
    fn report_key(&mut self, side: Side, timestamp: u32, event: TelephoneEvent) {
        let inbound = &mut self.inbound[side.index()];
        if !event.end || inbound.reported_event == Some(timestamp) {
            return;
        }
        inbound.reported_event = Some(timestamp);
        if let Some(key) = crate::dtmf::key_for_event(event.code) {
            self.events.push_back(RelayEvent::Dtmf {
                from: side,
                dtmf: Dtmf {
                    key,
                    duration_ms: u32::from(event.duration) / 8,
                },
            });
        }
    }
}

#[cfg(test)]
mod tests;
