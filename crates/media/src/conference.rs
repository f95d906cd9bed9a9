//! A conference room's audio: each member's stream is decoded in its own codec, put
//! in order by a jitter buffer, mixed every 20 ms at 16 kHz (wideband members keep
//! their band) and encoded back in the member's codec, so that each hears those whose
//! voice reaches them but never themself ([`crate::mixer`]): in a conference everyone;
//! while a supervisor listens to a call, the caller and the agent each other, and the
//! supervisor both (their whisper reaching the agent alone, or barging in to both). A
//! chime is heard by all when an announced member joins or leaves. A member put aside
//! (a caller held while their agent consults a colleague) hears the room's music or
//! ringback and is heard by nobody.
//!
//! A member's stream arrives from the member's own call, whose relay faces the phone
//! (SRTP, learning the phone's address, keys) as it does in any call; the room sees
//! only plain RTP in the phone's codec. Sans-IO: the edge passes packets and the time.

use std::collections::VecDeque;
use std::f32::consts::TAU;
use std::time::{Duration, Instant};

use crate::codec::Format;
use crate::jitter::{JitterBuffer, Playout};
use crate::mixer::{Voice, mix};
use crate::playback::{Backdrop, Backdrops};
use crate::prompt::PromptPlayer;
use crate::rtp::{self, RtpHeader};
use crate::transcode::{AudioDecoder, AudioEncoder, MAX_PAYLOAD};

/// The rate the room mixes at.
pub const MIX_RATE: u32 = 16_000;
/// One frame: 20 ms at the mixing rate.
const FRAME: usize = (MIX_RATE / 50) as usize;
const TICK: Duration = Duration::from_millis(20);
/// A room that fell this far behind (a stalled thread) starts its ticks again from
/// now rather than sending a burst.
const TOO_LATE: Duration = Duration::from_millis(100);
/// The jitter buffer counts time in 8-kHz units.
const JITTER_CLOCK: u32 = 8000;

/// Who a member is, as the edge names them.
pub type MemberId = u64;

/// The chime's two notes, rising when someone joins and falling when someone leaves.
const CHIME_NOTES: [f32; 2] = [660.0, 880.0];
const CHIME_NOTE: usize = FRAME * 6;
const CHIME_LEVEL: f32 = 6000.0;

/// How a member takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Heard by everyone else.
    Talks,
    /// Heard by nobody.
    Listens,
    /// Heard by that member alone.
    WhispersTo(MemberId),
    /// Put aside: hears the backdrop (silence in a room without backdrops), heard by
    /// nobody.
    Waits(Backdrop),
}

/// Random identities of the stream the room sends a member (the edge draws them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamId {
    pub ssrc: u32,
    pub first_seq: u16,
}

/// How a member joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joining {
    pub part: Part,
    pub announced: bool,
    pub stream: StreamId,
}

/// A packet for a member's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emit {
    pub to: MemberId,
    pub packet: Vec<u8>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomStats {
    /// Packets dropped: not RTP, or not in the member's format.
    pub dropped: u64,
}

struct Member {
    id: MemberId,
    part: Part,
    /// Whether everyone heard the chime when they joined (and will when they leave).
    announced: bool,
    format: Format,
    decoder: AudioDecoder,
    encoder: AudioEncoder,
    jitter: JitterBuffer<Vec<u8>>,
    /// What the member hears while put aside.
    backdrop: Option<PromptPlayer>,
    /// Decoded audio not mixed yet: a packet may hold more than one frame.
    heard: VecDeque<i16>,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    first: bool,
}

impl Member {
    /// The member's next 20 ms, or nothing while their jitter buffer fills.
    fn next_frame(&mut self, frame: &mut Vec<i16>, scratch: &mut Vec<i16>) {
        frame.clear();
        while self.heard.len() < FRAME {
            match self.jitter.pop() {
                Playout::Frame(payload) => {
                    self.decoder.decode(&payload, scratch);
                    self.heard.extend(scratch.iter());
                }
                Playout::Missing => self.heard.extend(std::iter::repeat_n(0, FRAME)),
                Playout::Buffering => return,
            }
        }
        frame.extend(self.heard.drain(..FRAME));
    }

    /// The RTP packet carrying `pcm` in the member's codec.
    fn packet(&mut self, pcm: &[i16], payload: &mut [u8]) -> Option<Vec<u8>> {
        let len = self.encoder.encode(pcm, payload);
        if len == 0 {
            return None;
        }
        let mut packet = Vec::with_capacity(12 + len);
        rtp::build(
            &mut packet,
            std::mem::take(&mut self.first),
            self.format.payload_type,
            self.seq,
            self.timestamp,
            self.ssrc,
            &payload[..len],
        );
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self
            .timestamp
            .wrapping_add(self.format.codec.clock_rate() / 50);
        Some(packet)
    }
}

/// One room's members and its clock.
pub struct Room {
    members: Vec<Member>,
    /// At the mixing rate.
    backdrops: Option<Backdrops>,
    started: Option<Instant>,
    next_tick: Option<Instant>,
    chime: VecDeque<i16>,
    emits: VecDeque<Emit>,
    stats: RoomStats,
    inputs: Vec<Vec<i16>>,
    outputs: Vec<Vec<i16>>,
    scratch: Vec<i16>,
    payload: Box<[u8; MAX_PAYLOAD]>,
}

impl Default for Room {
    fn default() -> Self {
        Room {
            members: Vec::new(),
            backdrops: None,
            started: None,
            next_tick: None,
            chime: VecDeque::new(),
            emits: VecDeque::new(),
            stats: RoomStats::default(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            scratch: Vec::new(),
            payload: Box::new([0; MAX_PAYLOAD]),
        }
    }
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("members", &self.members.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Room {
    /// A room whose members put aside hear `backdrops`, which play at [`MIX_RATE`].
    pub fn with_backdrops(backdrops: Backdrops) -> Room {
        Room {
            backdrops: Some(backdrops),
            ..Room::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn stats(&self) -> RoomStats {
        self.stats
    }

    /// `id` joins, speaking `format` and taking `part`; when `announced`, everyone
    /// hears the rising chime.
    pub fn join(&mut self, now: Instant, id: MemberId, format: Format, joining: Joining) {
        self.leave_quietly(id);
        let Joining {
            part,
            announced,
            stream,
        } = joining;
        let backdrop = self.backdrop_for(part);
        self.members.push(Member {
            id,
            part,
            backdrop,
            announced,
            format,
            decoder: AudioDecoder::to_rate(format.codec, MIX_RATE),
            encoder: AudioEncoder::new(format.codec, MIX_RATE),
            jitter: JitterBuffer::default(),
            heard: VecDeque::new(),
            ssrc: stream.ssrc,
            seq: stream.first_seq,
            timestamp: first_timestamp(stream),
            first: true,
        });
        self.started.get_or_insert(now);
        self.next_tick.get_or_insert(now + TICK);
        if announced {
            self.chime(CHIME_NOTES);
        }
    }

    /// Member `id` takes `part` from now on.
    pub fn set_part(&mut self, id: MemberId, part: Part) {
        let backdrop = self.backdrop_for(part);
        if let Some(member) = self.members.iter_mut().find(|m| m.id == id)
            && member.part != part
        {
            (member.part, member.backdrop) = (part, backdrop);
        }
    }

    fn backdrop_for(&self, part: Part) -> Option<PromptPlayer> {
        match part {
            Part::Waits(backdrop) => self.backdrops.as_ref().map(|b| b.player(backdrop)),
            _ => None,
        }
    }

    /// `id` leaves; if they were announced, those who stay hear the falling chime.
    pub fn leave(&mut self, id: MemberId) {
        if self.leave_quietly(id) == Some(true) && !self.members.is_empty() {
            self.chime([CHIME_NOTES[1], CHIME_NOTES[0]]);
        }
        if self.members.is_empty() {
            (self.next_tick, self.started) = (None, None);
            self.chime.clear();
        }
    }

    /// Whether the member who left had been announced; none if there was none.
    fn leave_quietly(&mut self, id: MemberId) -> Option<bool> {
        let at = self.members.iter().position(|m| m.id == id)?;
        Some(self.members.remove(at).announced)
    }

    fn chime(&mut self, notes: [f32; 2]) {
        self.chime.clear();
        for (n, f) in notes.iter().enumerate() {
            self.chime.extend((0..CHIME_NOTE).map(|i| {
                let t = (n * CHIME_NOTE + i) as f32 / MIX_RATE as f32;
                // A short fade at each end keeps the notes from clicking.
                let edge = (i.min(CHIME_NOTE - i) as f32 / 80.0).min(1.0);
                (CHIME_LEVEL * edge * (TAU * f * t).sin()) as i16
            }));
        }
    }

    /// A packet from member `id`'s call.
    pub fn handle_rtp(&mut self, now: Instant, id: MemberId, packet: &[u8]) {
        let Some(member) = self.members.iter_mut().find(|m| m.id == id) else {
            return;
        };
        let header = match RtpHeader::parse(packet) {
            Ok(h) if h.payload_type == member.format.payload_type => h,
            _ => {
                self.stats.dropped += 1;
                return;
            }
        };
        let clock = member.format.codec.clock_rate();
        let timestamp =
            (u64::from(header.timestamp) * u64::from(JITTER_CLOCK) / u64::from(clock)) as u32;
        let since = now.duration_since(self.started.unwrap_or(now));
        let arrival = (since.as_micros() * u128::from(JITTER_CLOCK) / 1_000_000) as u32;
        let payload = packet[header.payload_start..header.payload_end].to_vec();
        member
            .jitter
            .push(header.sequence, timestamp, arrival, payload);
    }

    /// When the next frame is due, while anyone is in.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_tick
    }

    /// Mixes every frame due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(due) = self.next_tick.filter(|&t| t <= now) {
            self.tick();
            let next = due + TICK;
            self.next_tick = Some(if now.duration_since(next) > TOO_LATE {
                now + TICK
            } else {
                next
            });
        }
    }

    pub fn poll_emit(&mut self) -> Option<Emit> {
        self.emits.pop_front()
    }

    fn tick(&mut self) {
        let n = self.members.len();
        self.inputs.resize_with(n, Vec::new);
        self.outputs.resize_with(n, Vec::new);
        for (member, input) in self.members.iter_mut().zip(self.inputs.iter_mut()) {
            member.next_frame(input, &mut self.scratch);
        }
        let inputs: Vec<&[i16]> = self.inputs.iter().map(Vec::as_slice).collect();
        let voices: Vec<Voice> = self
            .members
            .iter()
            .map(|m| match m.part {
                Part::Talks => Voice::Everyone,
                Part::Listens | Part::Waits(_) => Voice::Nobody,
                Part::WhispersTo(to) => self
                    .members
                    .iter()
                    .position(|t| t.id == to)
                    .map_or(Voice::Nobody, Voice::Only),
            })
            .collect();
        mix(&inputs, &voices, &mut self.outputs[..n], FRAME);
        let chime: Vec<i16> = self.chime.drain(..FRAME.min(self.chime.len())).collect();
        for (member, output) in self.members.iter_mut().zip(self.outputs.iter_mut()) {
            if let Part::Waits(_) = member.part {
                match member.backdrop.as_mut() {
                    Some(backdrop) => backdrop.fill(output),
                    None => output.fill(0),
                }
            } else {
                for (o, c) in output.iter_mut().zip(&chime) {
                    *o = o.saturating_add(*c);
                }
            }
            if let Some(packet) = member.packet(output, &mut self.payload[..]) {
                self.emits.push_back(Emit {
                    to: member.id,
                    packet,
                });
            }
        }
    }
}

/// The stream's first timestamp, drawn from its identities (RFC 3550 wants it random).
fn first_timestamp(stream: StreamId) -> u32 {
    stream.ssrc.rotate_left(13) ^ u32::from(stream.first_seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::transcode::AudioDecoder;

    /// 20 ms of a `hz` tone at `rate`, frame `n`.
    fn tone(hz: f32, rate: u32, n: usize) -> Vec<i16> {
        let len = rate as usize / 50;
        (n * len..(n + 1) * len)
            .map(|i| ((i as f32 / rate as f32 * hz * TAU).sin() * 8000.0) as i16)
            .collect()
    }

    /// A phone speaking `hz` in `codec`: its packets, one per 20 ms.
    struct Phone {
        format: Format,
        encoder: AudioEncoder,
        decoder: AudioDecoder,
        hz: f32,
        sent: usize,
        heard: Vec<i16>,
    }

    impl Phone {
        fn new(codec: Codec, hz: f32) -> Phone {
            Phone {
                format: Format::default_for(codec),
                encoder: AudioEncoder::new(codec, codec.sample_rate()),
                decoder: AudioDecoder::to_rate(codec, MIX_RATE),
                hz,
                sent: 0,
                heard: Vec::new(),
            }
        }

        fn speak(&mut self) -> Vec<u8> {
            let rate = self.format.codec.sample_rate();
            let pcm = tone(self.hz, rate, self.sent);
            let mut payload = [0u8; MAX_PAYLOAD];
            let len = self.encoder.encode(&pcm, &mut payload);
            let mut packet = Vec::new();
            let step = self.format.codec.clock_rate() / 50;
            rtp::build(
                &mut packet,
                false,
                self.format.payload_type,
                self.sent as u16,
                self.sent as u32 * step,
                7,
                &payload[..len],
            );
            self.sent += 1;
            packet
        }

        fn hear(&mut self, packet: &[u8]) {
            let h = RtpHeader::parse(packet).unwrap();
            assert_eq!(h.payload_type, self.format.payload_type);
            let mut pcm = Vec::new();
            self.decoder
                .decode(&packet[h.payload_start..h.payload_end], &mut pcm);
            self.heard.extend(pcm);
        }
    }

    fn talks(ssrc: u32) -> Joining {
        Joining {
            part: Part::Talks,
            announced: true,
            stream: StreamId { ssrc, first_seq: 0 },
        }
    }

    fn power(samples: &[i16], hz: f32) -> f64 {
        crate::dtmf_detect::goertzel_power(samples, hz, MIX_RATE)
    }

    /// Runs a room of `phones`, each taking its part, for a second past its chime;
    /// what each phone heard.
    fn run(phones: &mut [Phone], parts: &[Part]) {
        run_in(Room::default(), phones, parts);
    }

    fn run_in(mut room: Room, phones: &mut [Phone], parts: &[Part]) {
        let start = Instant::now();
        for (i, (p, &part)) in phones.iter().zip(parts).enumerate() {
            let joining = Joining {
                part,
                ..talks(i as u32)
            };
            room.join(start, i as u64, p.format, joining);
        }
        for n in 1..=75 {
            let now = start + TICK * n;
            for (i, p) in phones.iter_mut().enumerate() {
                let packet = p.speak();
                room.handle_rtp(now, i as u64, &packet);
            }
            room.handle_timeout(now);
            while let Some(emit) = room.poll_emit() {
                phones[emit.to as usize].hear(&emit.packet);
            }
        }
    }

    #[test]
    fn each_member_hears_the_others_in_their_own_codec_and_not_themself() {
        let mut phones = [
            Phone::new(Codec::Pcmu, 500.0),
            Phone::new(Codec::G722, 1200.0),
            Phone::new(Codec::Opus, 2000.0),
        ];
        run(&mut phones, &[Part::Talks; 3]);
        let tones = [500.0, 1200.0, 2000.0];
        for (i, phone) in phones.iter().enumerate() {
            // Past the chime (12 frames) and the codecs' start.
            let heard = &phone.heard[phone.heard.len() - FRAME * 40..];
            let own = power(heard, tones[i]);
            for (j, &other) in tones.iter().enumerate().filter(|(j, _)| *j != i) {
                let theirs = power(heard, other);
                assert!(
                    theirs > 50.0 * own,
                    "phone {i} hears {j}'s {other} Hz at {theirs:.0}, its own at {own:.0}"
                );
            }
        }
    }

    #[test]
    fn a_supervisors_whisper_reaches_the_agent_alone_and_they_hear_both() {
        let mut phones = [
            Phone::new(Codec::Pcmu, 500.0),
            Phone::new(Codec::Pcmu, 1200.0),
            Phone::new(Codec::G722, 2000.0),
        ];
        run(
            &mut phones,
            &[Part::Talks, Part::Talks, Part::WhispersTo(1)],
        );
        let last = |p: &Phone| p.heard[p.heard.len() - FRAME * 40..].to_vec();
        let (caller, agent, supervisor) = (last(&phones[0]), last(&phones[1]), last(&phones[2]));
        assert!(
            power(&caller, 1200.0) > 50.0 * power(&caller, 2000.0),
            "the caller hears no whisper"
        );
        assert!(
            power(&agent, 2000.0) > 50.0 * power(&agent, 1200.0),
            "the agent hears it"
        );
        assert!(power(&agent, 500.0) > 50.0 * power(&agent, 1200.0));
        for hz in [500.0, 1200.0] {
            assert!(power(&supervisor, hz) > 50.0 * power(&supervisor, 2000.0));
        }
    }

    #[test]
    fn a_member_put_aside_hears_the_backdrop_and_nobody_hears_them() {
        let music = crate::prompt::Prompt {
            rate: MIX_RATE,
            samples: (0..FRAME * 50)
                .flat_map(|n| tone(300.0, MIX_RATE, n))
                .collect(),
        };
        let backdrops = Backdrops {
            music,
            ringback: crate::prompt::Prompt {
                rate: MIX_RATE,
                samples: Vec::new().into(),
            },
        };
        let mut phones = [
            Phone::new(Codec::Pcmu, 500.0),
            Phone::new(Codec::G722, 1200.0),
            Phone::new(Codec::Pcmu, 2000.0),
        ];
        let parts = [Part::Waits(Backdrop::Music), Part::Talks, Part::Talks];
        run_in(Room::with_backdrops(backdrops), &mut phones, &parts);
        let last = |p: &Phone| p.heard[p.heard.len() - FRAME * 40..].to_vec();
        let (aside, agent, colleague) = (last(&phones[0]), last(&phones[1]), last(&phones[2]));
        assert!(power(&aside, 300.0) > 50.0 * power(&aside, 1200.0), "music");
        assert!(power(&aside, 300.0) > 50.0 * power(&aside, 2000.0));
        for heard in [&agent, &colleague] {
            assert!(power(heard, 500.0) * 50.0 < power(heard, 1200.0).max(power(heard, 2000.0)));
            assert!(power(heard, 300.0) * 50.0 < power(heard, 1200.0).max(power(heard, 2000.0)));
        }
        assert!(
            power(&agent, 2000.0) > 50.0 * power(&agent, 500.0),
            "they talk"
        );
    }

    #[test]
    fn a_member_put_aside_and_back_talks_again() {
        let start = Instant::now();
        let mut room = Room::default();
        let pcmu = Format::default_for(Codec::Pcmu);
        let aside = Joining {
            part: Part::Waits(Backdrop::Music),
            ..talks(1)
        };
        room.join(start, 1, pcmu, aside);
        room.join(start, 2, pcmu, talks(2));
        room.set_part(1, Part::Talks);
        assert_eq!(room.members[0].part, Part::Talks);
        assert!(room.members[0].backdrop.is_none());
    }

    #[test]
    fn a_joiner_makes_everyone_hear_the_chime_and_a_leaver_the_falling_one() {
        let start = Instant::now();
        let mut room = Room::default();
        let pcmu = Format::default_for(Codec::Pcmu);
        room.join(start, 1, pcmu, talks(1));
        room.join(start, 2, pcmu, talks(2));
        room.leave(2);
        let mut decoder = AudioDecoder::to_rate(Codec::Pcmu, MIX_RATE);
        let mut heard = Vec::new();
        for n in 1..=12 {
            room.handle_timeout(start + TICK * n);
            while let Some(emit) = room.poll_emit() {
                assert_eq!(emit.to, 1, "the one who left hears nothing");
                let h = RtpHeader::parse(&emit.packet).unwrap();
                let mut pcm = Vec::new();
                decoder.decode(&emit.packet[h.payload_start..h.payload_end], &mut pcm);
                heard.extend(pcm);
            }
        }
        let (first, second) = heard.split_at(CHIME_NOTE);
        assert!(power(first, 880.0) > 10.0 * power(first, 660.0), "falling");
        assert!(power(second, 660.0) > 10.0 * power(second, 880.0));
        room.leave(1);
        assert!(room.is_empty());
        assert_eq!(room.poll_timeout(), None, "an empty room sleeps");
    }

    #[test]
    fn packets_not_in_the_members_format_are_dropped_and_the_stream_is_steady() {
        let start = Instant::now();
        let mut room = Room::default();
        let joining = Joining {
            stream: StreamId {
                ssrc: 9,
                first_seq: 100,
            },
            ..talks(9)
        };
        room.join(start, 1, Format::default_for(Codec::Opus), joining);
        room.handle_rtp(start, 1, b"not rtp");
        let mut pcma = Vec::new();
        rtp::build(&mut pcma, false, 8, 1, 160, 3, &[0xd5; 160]);
        room.handle_rtp(start, 1, &pcma);
        room.handle_rtp(start, 77, &pcma);
        assert_eq!(room.stats().dropped, 2);
        // A late wake-up sends what is due; a stall past the limit starts afresh.
        room.handle_timeout(start + TICK * 3);
        let headers: Vec<RtpHeader> = std::iter::from_fn(|| room.poll_emit())
            .map(|e| RtpHeader::parse(&e.packet).unwrap())
            .collect();
        assert_eq!(headers.len(), 3);
        assert_eq!(headers[0].sequence, 100);
        assert!(headers[0].marker && !headers[1].marker);
        assert_eq!(headers[1].timestamp.wrapping_sub(headers[0].timestamp), 960);
        room.handle_timeout(start + Duration::from_secs(2));
        assert_eq!(std::iter::from_fn(|| room.poll_emit()).count(), 1);
    }
}
