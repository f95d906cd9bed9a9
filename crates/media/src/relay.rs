//! The relay that anchors one call's audio: every packet from one leg goes out to the
//! other with Switchboard's own SSRC, sequence numbers and timestamps, with the payload
//! type the receiving phone negotiated, transcoded when the legs chose different codecs:
//! between the G.711 laws by table in place, otherwise through linear PCM
//! ([`crate::transcode`]) with timestamps rescaled to the receiving codec's clock.
//!
//! Symmetric RTP (RFC 4961) learned strictly ([`source`]): a leg's media comes from
//! and goes back to the address its SDP names or, for a phone behind NAT, the address
//! learned from a run of its packets in sequence. Packets from elsewhere, with a
//! foreign SSRC or that are not RTP are dropped and counted; they never reach the other
//! phone.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use std::collections::VecDeque;

use crate::call_recording::Heard;
use crate::codec::{Codec, Format, transcode_g711_in_place};
use crate::dtmf::{Dtmf, TelephoneEvent};
use crate::prompt::PromptPlayer;
use crate::rtp::{self, RtpHeader};
use crate::srtp::{SrtpKeys, SrtpSession};
use crate::transcode::{AudioEncoder, MAX_PAYLOAD, Transcoder};

mod events;
mod music;
mod reports;
mod source;

use events::EventTrain;
use music::Music;
use reports::Reports;
use source::MediaSource;

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
    /// The host the leg's SIP comes from. A phone behind NAT sends its RTP from there
    /// too, so only there (or from `remote`) is its media learned.
    pub signalling: IpAddr,
    pub audio: Format,
    pub events: Option<Format>,
    /// The leg's SRTP keys when its audio is encrypted.
    pub srtp: Option<SrtpKeys>,
}

/// A receive buffer this long holds any packet a phone sends and any Switchboard makes
/// from it: an Opus payload at its limit after the longest RTP header.
pub const MAX_PACKET: usize = 2048;

/// A packet ready for the other leg: the first `len` bytes of the buffer, to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    pub to: SocketAddr,
    pub len: usize,
}

/// Why a packet was not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Not RTP, a broken header, or audio that does not decode.
    Malformed,
    /// From an address that is not the leg's, or not learned as the leg's yet.
    UnexpectedSource,
    /// A second stream interleaved with the leg's own.
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
    /// A key pressed on `from`'s phone and passed on as it was, for the call logic to
    /// watch for codes (a transfer typed on the phone's keys).
    Passed { from: Side, dtmf: Dtmf },
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
    source: MediaSource,
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
    /// The receiving leg's RTP clock rate.
    clock: u32,
    /// Offset from the current source's sequence numbers to ours.
    seq_offset: u16,
    last_seq: u16,
    last_ts: u32,
    source: Option<u32>,
    /// The current source's timestamp that became `last_ts`.
    source_ts: u32,
    /// When `last_ts` went out: after a pause the next timestamp moves on by the time
    /// that passed (RFC 3550 §5.1), as a phone's jitter buffer expects after silence.
    last_sent: Option<Instant>,
}

impl Outbound {
    fn new(ssrc: u32, first_seq: u16, clock: u32) -> Self {
        Outbound {
            ssrc,
            clock,
            seq_offset: 0,
            last_seq: first_seq.wrapping_sub(1),
            last_ts: 0,
            source: None,
            source_ts: 0,
            last_sent: None,
        }
    }

    /// One 20-ms frame in this stream's timestamp units.
    fn frame(&self) -> u32 {
        self.clock / 50
    }

    /// Takes the next sequence number for a packet Switchboard makes itself; relayed
    /// packets shift past it.
    fn own_sequence(&mut self) -> u16 {
        self.last_seq = self.last_seq.wrapping_add(1);
        self.seq_offset = self.seq_offset.wrapping_add(1);
        self.last_seq
    }

    /// Advances our timestamp for a packet Switchboard makes itself: one frame, or
    /// the time since the last packet when the stream paused.
    fn own_timestamp(&mut self, now: Instant) -> u32 {
        self.last_ts = self.last_ts.wrapping_add(self.step(now));
        self.last_sent = Some(now);
        self.last_ts
    }

    /// The timestamp distance to a packet sent `now`: one frame while the stream
    /// flows (bursts included), the whole frames elapsed after a pause.
    fn step(&self, now: Instant) -> u32 {
        let frame = self.frame();
        let Some(elapsed) = self.last_sent.map(|at| now.saturating_duration_since(at)) else {
            return frame;
        };
        let frames = elapsed.as_millis() / 20;
        if frames <= 2 {
            return frame;
        }
        u32::try_from(frames).map_or(frame, |f| f.wrapping_mul(frame))
    }

    /// Continues our numbering across a change of source, so the phone sees one
    /// unbroken stream, and moves timestamps from the source's `clock` to ours. They
    /// are mapped as distances from the newest packet's, which survive wrap-around
    /// at any ratio of clocks.
    fn map(&mut self, header: &RtpHeader, clock: u32, now: Instant) -> (u16, u32) {
        if self.source != Some(header.ssrc) {
            self.source = Some(header.ssrc);
            self.seq_offset = self.last_seq.wrapping_add(1).wrapping_sub(header.sequence);
            // A frame after the last timestamp we sent, or the pause since.
            self.last_ts = self.last_ts.wrapping_add(self.step(now));
            self.source_ts = header.timestamp;
        }
        let seq = header.sequence.wrapping_add(self.seq_offset);
        let distance = i64::from(header.timestamp.wrapping_sub(self.source_ts) as i32);
        let scaled = distance * i64::from(self.clock) / i64::from(clock.max(1));
        let ts = self.last_ts.wrapping_add(scaled as u32);
        // Reordered packets keep their place; only the newest moves the marks.
        if seq.wrapping_sub(self.last_seq) < 0x8000 {
            self.last_seq = seq;
            self.last_ts = ts;
            self.source_ts = header.timestamp;
            self.last_sent = Some(now);
        }
        (seq, ts)
    }
}

/// A detector for a leg that sends keys only as tones: G.711 without telephone events.
fn inband_detector(leg: &LegMedia) -> Option<crate::dtmf_detect::DtmfDetector> {
    (leg.events.is_none() && leg.audio.codec.is_g711()).then(Default::default)
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
    /// Encoders of the music to A and B, made when first needed.
    music_encoders: [Option<AudioEncoder>; 2],
    /// Converters of the audio towards A and B when the legs' codecs differ beyond
    /// the G.711 law, made when first needed.
    transcoders: [Option<Transcoder>; 2],
    /// Only leg A exists (an announcement before any answer): nothing is relayed.
    one_leg: bool,
    /// Keys heard in the audio of a G.711 leg that negotiated no telephone events,
    /// while Switchboard itself listens to it (a menu, a queue); in a bridged call the
    /// tones reach the other phone as they are.
    inband: [Option<crate::dtmf_detect::DtmfDetector>; 2],
    /// SRTP state of each leg whose audio is encrypted.
    srtp: [Option<SrtpSession>; 2],
    /// Words said to A or B over what the other leg says (a warning to an agent while
    /// their caller talks on).
    whisper: [Option<PromptPlayer>; 2],
    reports: Reports,
    /// What each leg said, kept for the call's recording while it is recorded.
    heard: Option<Vec<Heard>>,
}

impl Relay {
    /// `ssrcs` and `first_seqs` are Switchboard's random stream identities toward A and B.
    pub fn new(a: LegMedia, b: LegMedia, ssrcs: [u32; 2], first_seqs: [u16; 2]) -> Self {
        let inbound = || Inbound {
            source: MediaSource::default(),
            ssrc: None,
            last_seen: None,
            reported_event: None,
        };
        Relay {
            legs: [a, b],
            inbound: [inbound(), inbound()],
            outbound: [
                Outbound::new(ssrcs[0], first_seqs[0], a.audio.codec.clock_rate()),
                Outbound::new(ssrcs[1], first_seqs[1], b.audio.codec.clock_rate()),
            ],
            stats: RelayStats::default(),
            events: VecDeque::new(),
            trains: [VecDeque::new(), VecDeque::new()],
            music: [None, None],
            music_encoders: [None, None],
            transcoders: [None, None],
            one_leg: false,
            inband: [inband_detector(&a), inband_detector(&b)],
            srtp: [
                a.srtp.and_then(SrtpSession::new),
                b.srtp.and_then(SrtpSession::new),
            ],
            whisper: [None, None],
            reports: Reports::new(),
            heard: None,
        }
    }

    /// Continues the streams `old` sent each leg (identity, numbering, timing), so a
    /// phone hears one unbroken stream when Switchboard changes what it plays or
    /// relays to it. A fresh stream right after another made baresip drop it until
    /// the next change.
    pub fn continuing(mut self, old: &mut Relay) -> Self {
        for (new, old) in self.outbound.iter_mut().zip(&old.outbound) {
            new.ssrc = old.ssrc;
            new.last_seq = old.last_seq;
            new.last_ts = old.last_ts;
            new.last_sent = old.last_sent;
        }
        // A leg that stays where it was keeps the address learned for it: a new
        // relay is no new chance for a stranger. Its SRTP state goes on too (the
        // rollover counters must follow the sequence numbers).
        for i in 0..2 {
            if self.legs[i].remote == old.legs[i].remote {
                self.inbound[i].source = old.inbound[i].source.clone();
            }
            if self.srtp[i].is_some() && self.legs[i].srtp == old.legs[i].srtp {
                self.srtp[i] = old.srtp[i].take();
            }
        }
        self
    }

    /// Gives the RTCP sender reports their wall-clock time: `wall` at `now`.
    pub fn with_wall_clock(mut self, now: Instant, wall: std::time::SystemTime) -> Self {
        self.reports.set_wall_clock(now, wall);
        self
    }

    /// A relay for one leg alone, to play it announcements and music: both sides are
    /// that leg, so it is played from whichever side's socket it faces. What it sends
    /// goes nowhere; its keys are reported.
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
        // A new codec on either leg changes both directions' conversion.
        self.transcoders = [None, None];
        self.outbound[side.index()].clock = media.audio.codec.clock_rate();
        let inbound = &mut self.inbound[side.index()];
        inbound.source = MediaSource::default();
        inbound.ssrc = None;
        self.inband[side.index()] = inband_detector(&media);
        if self.srtp[side.index()].as_ref().map(SrtpSession::keys) != media.srtp {
            self.srtp[side.index()] = media.srtp.and_then(SrtpSession::new);
        }
    }

    /// A packet of `len` bytes arrived in `buf` on the socket facing `side`. On success
    /// it has been rewritten in `buf` for the other leg, which has room for any payload
    /// Switchboard makes when `buf` holds [`MAX_PACKET`] bytes.
    pub fn handle_rtp(
        &mut self,
        now: Instant,
        side: Side,
        from: SocketAddr,
        buf: &mut [u8],
        len: usize,
    ) -> Result<Forward, Dropped> {
        let result = self
            .unprotect(side, buf, len)
            .and_then(|len| self.relay(now, side, from, buf, len))
            .and_then(|forward| self.protect(side.other(), buf, forward));
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

    /// Decrypts an SRTP leg's packet in place; returns its plain length.
    fn unprotect(&mut self, side: Side, buf: &mut [u8], len: usize) -> Result<usize, Dropped> {
        let Some(srtp) = self.srtp[side.index()].as_mut() else {
            return Ok(len);
        };
        let packet = buf.get(..len).ok_or(Dropped::Malformed)?;
        if rtp::is_rtcp(packet) {
            return Err(Dropped::Rtcp);
        }
        let plain = srtp.unprotect(packet).map_err(|_| Dropped::Malformed)?;
        buf[..plain.len()].copy_from_slice(&plain);
        Ok(plain.len())
    }

    /// Encrypts a packet going to an SRTP leg in place.
    fn protect(&mut self, to: Side, buf: &mut [u8], forward: Forward) -> Result<Forward, Dropped> {
        let Some(srtp) = self.srtp[to.index()].as_mut() else {
            return Ok(forward);
        };
        let sealed = srtp
            .protect(&buf[..forward.len])
            .map_err(|_| Dropped::Malformed)?;
        buf.get_mut(..sealed.len())
            .ok_or(Dropped::Malformed)?
            .copy_from_slice(&sealed);
        Ok(Forward {
            len: sealed.len(),
            ..forward
        })
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

    /// Says `player` to `to` over what the other leg says, or stops. Mixed into a G.711
    /// leg's audio; a leg in another codec hears it instead of the other leg.
    pub fn set_whisper(&mut self, now: Instant, to: Side, player: Option<PromptPlayer>) {
        if self.legs[to.index()].audio.codec.is_g711() {
            self.whisper[to.index()] = player;
        } else {
            self.set_music(now, to, player);
        }
    }

    /// A whisper to `to` has been said to its end.
    pub fn whisper_finished(&self, to: Side) -> bool {
        match &self.whisper[to.index()] {
            Some(player) => player.is_finished(),
            None => self.music_finished(to),
        }
    }

    pub fn is_playing_music(&self, to: Side) -> bool {
        self.music[to.index()].is_some()
    }

    /// A one-shot prompt to `to` has played to its end.
    pub fn music_finished(&self, to: Side) -> bool {
        self.music[to.index()].as_ref().is_some_and(Music::finished)
    }

    /// The next packet Switchboard itself sends, once it is due, encrypted for an SRTP
    /// leg (which gets no RTCP reports from Switchboard: SRTCP is not offered).
    pub fn poll_emit(&mut self, now: Instant) -> Option<Emit> {
        while let Some(mut emit) = self.next_emit(now) {
            let Some(srtp) = self.srtp[emit.side.index()].as_mut() else {
                return Some(emit);
            };
            if emit.rtcp {
                continue;
            }
            emit.packet = srtp.protect(&emit.packet).ok()?;
            return Some(emit);
        }
        None
    }

    fn next_emit(&mut self, now: Instant) -> Option<Emit> {
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
            let Some(event) = train.poll(now, out.last_ts.wrapping_add(out.frame())) else {
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
            let to = self.inbound[i].source.target(self.legs[i].remote);
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
        let rtp_to = self.inbound[i].source.target(self.legs[i].remote);
        let to = SocketAddr::new(rtp_to.ip(), rtp_to.port().wrapping_add(1));
        Some(Emit {
            side,
            to,
            packet,
            rtcp: true,
        })
    }

    /// Keeps what each leg says for a recording from now on, or stops.
    pub fn set_recording(&mut self, on: bool) {
        self.heard = on.then(|| self.heard.take().unwrap_or_default());
    }

    /// What the legs said since the last call, for the recording.
    pub fn drain_heard(&mut self) -> impl Iterator<Item = Heard> + '_ {
        self.heard.iter_mut().flat_map(|h| h.drain(..))
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
        let encoder = match &mut self.music_encoders[i] {
            Some(e) if e.codec() == audio.codec && e.input_rate() == music::RATE => e,
            slot => slot.insert(AudioEncoder::new(audio.codec, music::RATE)),
        };
        let mut payload = [0u8; MAX_PAYLOAD];
        let len = encoder.encode(&frame.samples, &mut payload);
        let out = &mut self.outbound[i];
        let seq = out.own_sequence();
        let ts = out.own_timestamp(now);
        let mut packet = Vec::with_capacity(rtp::HEADER_LEN + len);
        rtp::build(
            &mut packet,
            frame.first,
            audio.payload_type,
            seq,
            ts,
            out.ssrc,
            &payload[..len],
        );
        self.reports.on_sent(side, len);
        let to = self.inbound[i].source.target(self.legs[i].remote);
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
        buf: &mut [u8],
        len: usize,
    ) -> Result<Forward, Dropped> {
        let packet = buf.get(..len).ok_or(Dropped::Malformed)?;
        if rtp::is_rtcp(packet) {
            return Err(Dropped::Rtcp);
        }
        let header = RtpHeader::parse(packet).map_err(|_| Dropped::Malformed)?;
        let leg = self.legs[side.index()];
        let inbound = &mut self.inbound[side.index()];
        if !inbound
            .source
            .admit(from, &leg, header.ssrc, header.sequence)
        {
            return Err(Dropped::UnexpectedSource);
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
            // A leg alone (waiting in a queue) has nobody to pass keys to: they are
            // reported, for the queue to act on.
            let payload = &packet[header.payload_start..header.payload_end];
            let event = TelephoneEvent::parse(payload).ok_or(Dropped::Malformed)?;
            let Some(events) = target.events.filter(|_| !self.one_leg) else {
                self.report_key(side, header.timestamp, event, false);
                return Err(Dropped::Translated);
            };
            self.report_key(side, header.timestamp, event, true);
            (
                events.payload_type,
                (Codec::TelephoneEvent, Codec::TelephoneEvent),
            )
        } else {
            return Err(Dropped::Payload);
        };
        let inbound = &mut self.inbound[side.index()];
        inbound.ssrc = Some(header.ssrc);
        inbound.last_seen = Some(now);
        // Events share the audio's timeline: one stream, one clock.
        let clock = leg.audio.codec.clock_rate();
        self.reports.on_received(now, side, &header, clock);
        if !self.one_leg
            && transcode.0 != Codec::TelephoneEvent
            && let Some(heard) = self.heard.as_mut()
        {
            heard.push(Heard {
                side,
                at: now,
                codec: leg.audio.codec,
                payload: buf[header.payload_start..header.payload_end].to_vec(),
            });
        }
        if self.one_leg {
            self.listen_for_keys(side, &header, buf);
        }
        if self.one_leg || self.music[side.other().index()].is_some() {
            return Err(Dropped::Held);
        }
        let len = self.convert(side.other(), transcode, &header, buf, len)?;
        if payload_type == target.audio.payload_type {
            self.mix_whisper(side.other(), header.payload_start..len, buf);
        }
        let out = &mut self.outbound[side.other().index()];
        let (seq, ts) = out.map(&header, clock, now);
        rtp::rewrite(buf, payload_type, seq, ts, out.ssrc);
        self.reports
            .on_sent(side.other(), len - header.payload_start);
        let to = self.inbound[side.other().index()]
            .source
            .target(target.remote);
        Ok(Forward { to, len })
    }

    /// Feeds a G.711 packet's audio to the leg's in-band key detector, if it has one.
    fn listen_for_keys(&mut self, side: Side, header: &RtpHeader, buf: &[u8]) {
        let leg = self.legs[side.index()];
        let Some(detector) = self.inband[side.index()].as_mut() else {
            return;
        };
        if header.payload_type != leg.audio.payload_type {
            return;
        }
        let table = match leg.audio.codec {
            Codec::Pcmu => &crate::g711::ULAW_TO_LINEAR,
            _ => &crate::g711::ALAW_TO_LINEAR,
        };
        let mut frame = [0i16; 160];
        let payload = &buf[header.payload_start..header.payload_end];
        for chunk in payload.chunks(frame.len()) {
            for (sample, &byte) in frame.iter_mut().zip(chunk) {
                *sample = table[usize::from(byte)];
            }
            if let Some(dtmf) = detector.push(&frame[..chunk.len()]) {
                self.events.push_back(RelayEvent::Dtmf { from: side, dtmf });
            }
        }
    }

    /// Adds the whisper to `to`, if any, to the G.711 audio in `buf[payload]`.
    fn mix_whisper(&mut self, to: Side, payload: std::ops::Range<usize>, buf: &mut [u8]) {
        let Some(player) = self.whisper[to.index()].as_mut() else {
            return;
        };
        let (decode, encode): (&[i16; 256], fn(i16) -> u8) = match self.legs[to.index()].audio.codec
        {
            Codec::Pcmu => (&crate::g711::ULAW_TO_LINEAR, crate::g711::linear_to_ulaw),
            _ => (&crate::g711::ALAW_TO_LINEAR, crate::g711::linear_to_alaw),
        };
        let Some(audio) = buf.get_mut(payload) else {
            return;
        };
        let mut words = [0i16; 160];
        for chunk in audio.chunks_mut(words.len()) {
            let said = &mut words[..chunk.len()];
            player.fill(said);
            for (byte, &word) in chunk.iter_mut().zip(said.iter()) {
                *byte = encode(decode[usize::from(*byte)].saturating_add(word));
            }
        }
    }

    /// Puts the `len`-byte packet's payload into the codec of the leg at `to`, returning
    /// the packet's new length. G.711 laws convert in place; other pairs go through PCM,
    /// and the payload written after the header replaces any padding.
    fn convert(
        &mut self,
        to: Side,
        (from_codec, to_codec): (Codec, Codec),
        header: &RtpHeader,
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, Dropped> {
        let payload = header.payload_start..header.payload_end;
        if from_codec == to_codec {
            return Ok(len);
        }
        if from_codec.is_g711() && to_codec.is_g711() {
            transcode_g711_in_place(from_codec, to_codec, &mut buf[payload]);
            return Ok(len);
        }
        let transcoder = match &mut self.transcoders[to.index()] {
            Some(t) if t.codecs() == (from_codec, to_codec) => t,
            slot => slot.insert(Transcoder::new(from_codec, to_codec)),
        };
        let converted = transcoder.transcode(&buf[payload]);
        let end = header.payload_start + converted.len();
        if converted.is_empty() || end > buf.len() {
            return Err(Dropped::Malformed);
        }
        buf[header.payload_start..end].copy_from_slice(converted);
        rtp::clear_padding(buf);
        Ok(end)
    }

    /// Reports a key once, at the first end packet of its event (RFC 4733 §2.5.1.4):
    /// `passed` on to the other leg as it was, or for the call logic to send on.
    fn report_key(&mut self, side: Side, timestamp: u32, event: TelephoneEvent, passed: bool) {
        let inbound = &mut self.inbound[side.index()];
        if !event.end || inbound.reported_event == Some(timestamp) {
            return;
        }
        inbound.reported_event = Some(timestamp);
        if let Some(key) = crate::dtmf::key_for_event(event.code) {
            let dtmf = Dtmf {
                key,
                duration_ms: u32::from(event.duration) / 8,
            };
            self.events.push_back(if passed {
                RelayEvent::Passed { from: side, dtmf }
            } else {
                RelayEvent::Dtmf { from: side, dtmf }
            });
        }
    }
}

#[cfg(test)]
mod tests;
