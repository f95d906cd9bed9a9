//! One call's audio: the SDP the phone offers or answers with, and the RTP stream both
//! ways. The microphone's 20-ms frames are encoded and sent (or replaced by RFC 4733
//! key events while a key is pressed); what arrives is learned strictly from the
//! address the SDP named, reordered in a jitter buffer and decoded to the speaker.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use switchboard_media::codec::{Codec, Format};
use switchboard_media::dtmf::{TelephoneEvent, event_code, key_for_event};
use switchboard_media::jitter::{JitterBuffer, Playout};
use switchboard_media::rtp::{self, RtpHeader};
use switchboard_media::sdp::{AudioStream, Direction, LocalDescription, SdpError};
use switchboard_media::transcode::{AudioDecoder, AudioEncoder, MAX_PAYLOAD};

use crate::PCM_RATE;

/// Frames a key is held for (100 ms), then the end packet sent three times (RFC 4733
/// §2.5.1.4: the end is repeated for loss).
const KEY_FRAMES: u16 = 5;
const KEY_END_REPEATS: u16 = 3;

/// The jitter buffer counts in 8-kHz units whatever the codec's clock.
const JITTER_CLOCK: u64 = 8000;

/// The far end's stream, as its SDP described it.
#[derive(Debug, Clone, Copy)]
struct Remote {
    addr: SocketAddr,
    audio: Format,
    events: Option<Format>,
}

/// A key being sent: its event code, the timestamp it started at and the packets sent.
#[derive(Debug, Clone, Copy)]
struct KeyPress {
    code: u8,
    timestamp: u32,
    sent: u16,
}

pub(crate) struct CallAudio {
    local: SocketAddr,
    codecs: Vec<Codec>,
    session_id: u64,
    version: u64,
    /// What we last put in our SDP.
    formats: Vec<Format>,
    direction: Direction,
    remote: Option<Remote>,
    remote_direction: Direction,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    encoder: Option<AudioEncoder>,
    decoder: Option<AudioDecoder>,
    jitter: JitterBuffer<Vec<u8>>,
    /// Our clock's origin for arrival times.
    epoch: Instant,
    keys: VecDeque<char>,
    pressing: Option<KeyPress>,
    /// The last key heard, by its event timestamp (its packets repeat).
    last_heard: Option<u32>,
    pcm: Vec<i16>,
}

impl std::fmt::Debug for CallAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallAudio")
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("direction", &self.direction)
            .finish()
    }
}

impl CallAudio {
    /// `random` seeds the session id, SSRC, sequence and timestamp (RFC 3550 §5.1 wants
    /// the last three random).
    pub(crate) fn new(now: Instant, local: SocketAddr, codecs: &[Codec], random: u64) -> Self {
        CallAudio {
            local,
            codecs: codecs.to_vec(),
            session_id: random >> 16,
            version: 0,
            formats: Vec::new(),
            direction: Direction::SendRecv,
            remote: None,
            remote_direction: Direction::SendRecv,
            ssrc: (random >> 32) as u32,
            sequence: random as u16,
            timestamp: (random as u32) & 0xffff_0000,
            encoder: None,
            decoder: None,
            jitter: JitterBuffer::default(),
            epoch: now,
            keys: VecDeque::new(),
            pressing: None,
            last_heard: None,
            pcm: Vec::new(),
        }
    }

    /// Our offer: every codec we speak, best first, and key events.
    pub(crate) fn offer(&mut self, direction: Direction) -> Vec<u8> {
        self.formats = self
            .codecs
            .iter()
            .map(|&c| Format::default_for(c))
            .chain([Format::default_for(Codec::TelephoneEvent)])
            .collect();
        self.describe(direction)
    }

    /// Takes the far end's offer and gives our answer: the first of its codecs we
    /// speak, and key events when it offered them. While `holding`, the answer keeps
    /// the call on hold whatever the offer says.
    pub(crate) fn answer(&mut self, offer: &[u8], holding: bool) -> Result<Vec<u8>, SdpError> {
        let stream = parse(offer)?;
        let audio = stream
            .formats
            .iter()
            .copied()
            .find(|f| self.codecs.contains(&f.codec))
            .ok_or(SdpError::NoCommonCodec)?;
        let events = stream.telephone_event();
        self.formats = std::iter::once(audio).chain(events).collect();
        self.set_remote(&stream, audio, events);
        let direction = stream.direction.answer();
        Ok(self.describe(if holding {
            hold_answer(direction)
        } else {
            direction
        }))
    }

    /// The far end's answer to our offer.
    pub(crate) fn answered(&mut self, answer: &[u8]) -> Result<(), SdpError> {
        let stream = parse(answer)?;
        let audio = stream.first_audio().ok_or(SdpError::NoCommonCodec)?;
        self.set_remote(&stream, audio, stream.telephone_event());
        Ok(())
    }

    /// Whether the far end's last SDP put us on hold.
    pub(crate) fn held_by_party(&self) -> bool {
        matches!(
            self.remote_direction,
            Direction::SendOnly | Direction::Inactive
        )
    }

    /// Queues a key to send.
    pub(crate) fn press(&mut self, key: char) -> bool {
        if event_code(key).is_none() {
            return false;
        }
        self.keys.push_back(key);
        true
    }

    /// Whether the far end takes RFC 4733 key events (else keys go by SIP INFO).
    pub(crate) fn takes_key_events(&self) -> bool {
        self.remote.is_some_and(|r| r.events.is_some())
    }

    /// One 20-ms microphone frame: the RTP packet to send and where, if any.
    pub(crate) fn send(&mut self, mic: &[i16]) -> Option<(SocketAddr, Vec<u8>)> {
        let remote = self.remote?;
        let step = remote.audio.codec.clock_rate() / 50;
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(step);
        if matches!(self.direction, Direction::SendOnly | Direction::Inactive)
            || matches!(
                self.remote_direction,
                Direction::SendOnly | Direction::Inactive
            )
        {
            return None;
        }
        let mut packet = Vec::with_capacity(rtp::HEADER_LEN + MAX_PAYLOAD);
        if let Some(events) = remote.events
            && let Some(event) = self.key_event(timestamp, step)
        {
            let (marker, key_timestamp, payload) = event;
            self.sequence = self.sequence.wrapping_add(1);
            rtp::build(
                &mut packet,
                marker,
                events.payload_type,
                self.sequence,
                key_timestamp,
                self.ssrc,
                &payload,
            );
            return Some((remote.addr, packet));
        }
        let encoder = self
            .encoder
            .get_or_insert_with(|| AudioEncoder::new(remote.audio.codec, PCM_RATE));
        let mut payload = [0u8; MAX_PAYLOAD];
        let len = encoder.encode(mic, &mut payload);
        if len == 0 {
            return None;
        }
        self.sequence = self.sequence.wrapping_add(1);
        rtp::build(
            &mut packet,
            false,
            remote.audio.payload_type,
            self.sequence,
            timestamp,
            self.ssrc,
            &payload[..len],
        );
        Some((remote.addr, packet))
    }

    /// The next packet of the key being pressed, starting the next queued one.
    fn key_event(&mut self, timestamp: u32, step: u32) -> Option<(bool, u32, [u8; 4])> {
        if self.pressing.is_none() {
            let key = self.keys.pop_front()?;
            self.pressing = Some(KeyPress {
                code: event_code(key)?,
                timestamp,
                sent: 0,
            });
        }
        let press = self.pressing.as_mut()?;
        press.sent += 1;
        let frames = press.sent.min(KEY_FRAMES);
        let end = press.sent > KEY_FRAMES;
        let event = TelephoneEvent {
            code: press.code,
            end,
            volume: 10,
            duration: (u32::from(frames) * step).min(u32::from(u16::MAX)) as u16,
        };
        let out = (press.sent == 1, press.timestamp, event.to_bytes());
        if press.sent >= KEY_FRAMES + KEY_END_REPEATS {
            self.pressing = None;
        }
        Some(out)
    }

    /// A datagram on this line's socket: audio goes to the jitter buffer; a key the
    /// far end pressed is returned once. Packets from anywhere but the address the SDP
    /// named are dropped.
    pub(crate) fn receive(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: &[u8],
    ) -> Option<char> {
        let remote = self.remote?;
        if from != remote.addr || rtp::is_rtcp(packet) {
            return None;
        }
        let header = RtpHeader::parse(packet).ok()?;
        let payload = &packet[header.payload_start..header.payload_end];
        if remote
            .events
            .is_some_and(|e| e.payload_type == header.payload_type)
        {
            let event = TelephoneEvent::parse(payload)?;
            if !event.end || self.last_heard == Some(header.timestamp) {
                return None;
            }
            self.last_heard = Some(header.timestamp);
            return key_for_event(event.code);
        }
        if header.payload_type != remote.audio.payload_type {
            return None;
        }
        let clock = u64::from(remote.audio.codec.clock_rate());
        let timestamp = (u64::from(header.timestamp) * JITTER_CLOCK / clock) as u32;
        let arrival = (now.saturating_duration_since(self.epoch).as_millis() as u64 * JITTER_CLOCK
            / 1000) as u32;
        self.jitter
            .push(header.sequence, timestamp, arrival, payload.to_vec());
        None
    }

    /// The next 20 ms for the speaker; silence while nothing is due.
    pub(crate) fn play(&mut self, speaker: &mut [i16]) {
        speaker.fill(0);
        let Some(remote) = self.remote else {
            return;
        };
        let Playout::Frame(payload) = self.jitter.pop() else {
            return;
        };
        let decoder = self
            .decoder
            .get_or_insert_with(|| AudioDecoder::to_rate(remote.audio.codec, PCM_RATE));
        decoder.decode(&payload, &mut self.pcm);
        let n = self.pcm.len().min(speaker.len());
        speaker[..n].copy_from_slice(&self.pcm[..n]);
    }

    /// Our SDP again with a new version and `direction` (hold and resume).
    pub(crate) fn redescribe(&mut self, direction: Direction) -> Vec<u8> {
        self.describe(direction)
    }

    fn describe(&mut self, direction: Direction) -> Vec<u8> {
        self.direction = direction;
        self.version += 1;
        LocalDescription {
            session_id: self.session_id,
            version: self.version,
            address: self.local.ip(),
            port: self.local.port(),
            formats: self.formats.clone(),
            direction,
            ptime: 20,
            crypto: None,
        }
        .to_bytes()
    }

    fn set_remote(&mut self, stream: &AudioStream, audio: Format, events: Option<Format>) {
        let addr = SocketAddr::new(stream.address, stream.port);
        let codec_changed = self.remote.is_none_or(|r| r.audio != audio);
        self.remote = Some(Remote {
            addr,
            audio,
            events,
        });
        self.remote_direction = stream.direction;
        if codec_changed {
            self.encoder = None;
            self.decoder = None;
            self.jitter = JitterBuffer::default();
        }
    }
}

/// Our answer while we hold the call: we still only send (or stay silent).
fn hold_answer(answer: Direction) -> Direction {
    match answer {
        Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
        _ => Direction::Inactive,
    }
}

fn parse(body: &[u8]) -> Result<AudioStream, SdpError> {
    switchboard_media::sdp::SessionDescription::parse(body)?.audio()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::FRAME_SAMPLES;

    const A: &str = "192.0.2.10:4000";
    const B: &str = "192.0.2.11:4000";

    /// 20 ms of a 440-Hz tone at 48 kHz, frame `n` of a continuous tone.
    fn tone(n: usize) -> Vec<i16> {
        (n * FRAME_SAMPLES..(n + 1) * FRAME_SAMPLES)
            .map(|i| ((i as f32 / 48_000.0 * 440.0 * std::f32::consts::TAU).sin() * 8000.0) as i16)
            .collect()
    }

    /// Normalised correlation at the best lag up to 100 ms (codecs and the jitter
    /// buffer delay).
    fn similarity(sent: &[i16], heard: &[i16]) -> f64 {
        (0..4800)
            .step_by(4)
            .map(|lag| {
                let pairs = sent.iter().zip(heard.get(lag..).unwrap_or_default());
                let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
                for (&a, &b) in pairs {
                    let (a, b) = (f64::from(a), f64::from(b));
                    ab += a * b;
                    aa += a * a;
                    bb += b * b;
                }
                if aa == 0.0 || bb == 0.0 {
                    0.0
                } else {
                    ab / (aa * bb).sqrt()
                }
            })
            .fold(0.0, f64::max)
    }

    /// Two calls' audio after A offered `codecs` and B answered.
    fn pair(now: Instant, codecs: &[Codec]) -> (CallAudio, CallAudio) {
        let mut a = CallAudio::new(now, A.parse().unwrap(), codecs, 1);
        let mut b = CallAudio::new(now, B.parse().unwrap(), &Codec::AUDIO, 2);
        let offer = a.offer(Direction::SendRecv);
        let answer = b.answer(&offer, false).unwrap();
        a.answered(&answer).unwrap();
        (a, b)
    }

    /// A says a second of tone to B; what B's speaker played.
    fn say(
        now: &mut Instant,
        a: &mut CallAudio,
        b: &mut CallAudio,
        from: &str,
    ) -> (Vec<i16>, Vec<char>) {
        let (mut heard, mut keys) = (Vec::new(), Vec::new());
        let mut speaker = vec![0; FRAME_SAMPLES];
        for n in 0..50 {
            *now += Duration::from_millis(20);
            if let Some((to, packet)) = a.send(&tone(n)) {
                assert_eq!(to, B.parse().unwrap());
                keys.extend(b.receive(*now, from.parse().unwrap(), &packet));
            }
            b.play(&mut speaker);
            heard.extend_from_slice(&speaker);
        }
        (heard, keys)
    }

    #[test]
    fn a_tone_crosses_in_every_codec() {
        for codec in Codec::AUDIO {
            let mut now = Instant::now();
            let (mut a, mut b) = pair(now, &[codec]);
            let (heard, _) = say(&mut now, &mut a, &mut b, A);
            let sent: Vec<i16> = (0..50).flat_map(tone).collect();
            let score = similarity(&sent[4800..], &heard[4800..]);
            assert!(score > 0.9, "{codec:?}: {score:.3}");
        }
    }

    #[test]
    fn the_answer_takes_the_offerers_first_codec_we_speak() {
        let now = Instant::now();
        let mut a = CallAudio::new(now, A.parse().unwrap(), &[Codec::Opus, Codec::Pcma], 1);
        let mut b = CallAudio::new(now, B.parse().unwrap(), &[Codec::Pcma, Codec::G722], 2);
        let answer =
            String::from_utf8(b.answer(&a.offer(Direction::SendRecv), false).unwrap()).unwrap();
        assert!(
            answer.contains("m=audio 4000 RTP/AVP 8 101\r\n"),
            "{answer}"
        );
        let none = CallAudio::new(now, B.parse().unwrap(), &[Codec::G722], 3)
            .answer(&a.offer(Direction::SendRecv), false);
        assert_eq!(none, Err(SdpError::NoCommonCodec));
    }

    #[test]
    fn a_key_is_sent_as_events_and_heard_once() {
        let mut now = Instant::now();
        let (mut a, mut b) = pair(now, &[Codec::Pcmu]);
        assert!(a.press('5') && a.press('#'));
        assert!(!a.press('x'));
        let (_, keys) = say(&mut now, &mut a, &mut b, A);
        assert_eq!(keys, ['5', '#']);
    }

    #[test]
    fn a_strangers_packets_are_not_played() {
        let mut now = Instant::now();
        let (mut a, mut b) = pair(now, &[Codec::Pcmu]);
        let (heard, _) = say(&mut now, &mut a, &mut b, "192.0.2.66:4000");
        assert!(heard.iter().all(|&s| s == 0));
    }

    #[test]
    fn nothing_is_sent_on_hold_either_way() {
        let now = Instant::now();
        let (mut a, mut b) = pair(now, &[Codec::Pcmu]);
        // A holds: its new offer says it only sends, B answers that it only receives.
        let hold = a.redescribe(Direction::SendOnly);
        assert!(String::from_utf8_lossy(&hold).contains("a=sendonly"));
        let answer = b.answer(&hold, false).unwrap();
        assert!(String::from_utf8_lossy(&answer).contains("a=recvonly"));
        assert!(b.held_by_party());
        a.answered(&answer).unwrap();
        assert!(
            a.send(&tone(0)).is_none(),
            "the phone that holds stays silent"
        );
        assert!(b.send(&tone(0)).is_none(), "the held phone sends nothing");
    }
}
