//! A voicemail message being left: the caller's RTP decoded to PCM until they stop
//! talking for a while or reach the box's longest message. Time is passed in; a phone
//! that stops sending (its own silence suppression) counts as silence too.

use std::time::{Duration, Instant};

use crate::relay::LegMedia;
use crate::rtp::RtpHeader;
use crate::transcode::AudioDecoder;

/// A 20-ms frame quieter than this (RMS, about -40 dBFS) is silence: line noise and
/// comfort noise stay under it, speech does not.
const SILENCE_RMS: f64 = 330.0;
/// Silence kept after the last word, so the message does not end abruptly.
const TAIL: Duration = Duration::from_millis(500);
/// Shorter messages, or ones in which nobody spoke, are not kept.
const SHORTEST: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest message.
    pub max: Duration,
    /// The message ends after this much silence.
    pub silence: Duration,
}

impl Default for Limits {
    /// Three minutes at most, ended by five seconds of silence.
    fn default() -> Self {
        Limits {
            max: Duration::from_secs(180),
            silence: Duration::from_secs(5),
        }
    }
}

/// Why the recorder stopped by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Silence,
    MaxLength,
}

/// What was recorded: mono PCM at `rate`, trailing silence trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub rate: u32,
    pub samples: Vec<i16>,
}

impl Message {
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.samples.len() as u64 * 1000 / u64::from(self.rate.max(1)))
    }
}

pub struct MessageRecorder {
    leg: LegMedia,
    decoder: AudioDecoder,
    limits: Limits,
    started: Instant,
    last_voice: Instant,
    samples: Vec<i16>,
    /// Where the last frame with speech ended, in samples.
    voiced_until: Option<usize>,
    pcm: Vec<i16>,
}

impl std::fmt::Debug for MessageRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageRecorder")
            .field("leg", &self.leg)
            .field("samples", &self.samples.len())
            .finish()
    }
}

impl MessageRecorder {
    /// Records what leg `leg` sends from `now` on.
    pub fn new(now: Instant, leg: LegMedia, limits: Limits) -> Self {
        MessageRecorder {
            leg,
            decoder: AudioDecoder::new(leg.audio.codec),
            limits,
            started: now,
            last_voice: now,
            samples: Vec::new(),
            voiced_until: None,
            pcm: Vec::new(),
        }
    }

    fn rate(&self) -> u32 {
        self.leg.audio.codec.sample_rate()
    }

    /// An RTP packet from the caller; anything but their audio is ignored.
    pub fn push_rtp(&mut self, now: Instant, packet: &[u8]) {
        let Ok(header) = RtpHeader::parse(packet) else {
            return;
        };
        if header.payload_type != self.leg.audio.payload_type || self.is_full() {
            return;
        }
        let payload = &packet[header.payload_start..header.payload_end];
        self.decoder.decode(payload, &mut self.pcm);
        let room = self.max_samples() - self.samples.len();
        let take = self.pcm.len().min(room);
        self.samples.extend_from_slice(&self.pcm[..take]);
        if rms(&self.pcm[..take]) >= SILENCE_RMS {
            self.last_voice = now;
            self.voiced_until = Some(self.samples.len());
        }
    }

    fn max_samples(&self) -> usize {
        (self.limits.max.as_millis() as u64 * u64::from(self.rate()) / 1000) as usize
    }

    fn is_full(&self) -> bool {
        self.samples.len() >= self.max_samples()
    }

    /// When the recorder stops by itself unless speech comes first.
    pub fn poll_timeout(&self) -> Instant {
        (self.last_voice + self.limits.silence).min(self.started + self.limits.max)
    }

    /// Whether the message is over at `now`, and why.
    pub fn handle_timeout(&self, now: Instant) -> Option<Ended> {
        if self.is_full() || now >= self.started + self.limits.max {
            Some(Ended::MaxLength)
        } else if now >= self.last_voice + self.limits.silence {
            Some(Ended::Silence)
        } else {
            None
        }
    }

    /// The message, or `None` when nobody spoke or it is too short to keep.
    pub fn finish(mut self) -> Option<Message> {
        let voiced_until = self.voiced_until?;
        let tail = (TAIL.as_millis() as u64 * u64::from(self.rate()) / 1000) as usize;
        self.samples.truncate(voiced_until + tail);
        let message = Message {
            rate: self.rate(),
            samples: self.samples,
        };
        (message.duration() >= SHORTEST).then_some(message)
    }
}

fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    let sum: f64 = pcm.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / pcm.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Codec, Format};
    use crate::g711;

    const LIMITS: Limits = Limits {
        max: Duration::from_secs(10),
        silence: Duration::from_secs(3),
    };

    fn leg() -> LegMedia {
        LegMedia {
            remote: "127.0.0.1:4000".parse().unwrap(),
            signalling: "127.0.0.1".parse().unwrap(),
            srtp: None,
            audio: Format::default_for(Codec::Pcmu),
            events: None,
        }
    }

    /// A 20-ms PCMU packet of a 440-Hz tone at `amplitude`.
    fn packet(seq: u16, amplitude: f32, payload_type: u8) -> Vec<u8> {
        let mut p = vec![0x80, payload_type, (seq >> 8) as u8, seq as u8];
        p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        p.extend((0..160).map(|i| {
            let t = (u32::from(seq) * 160 + i) as f32 / 8000.0;
            let s = (amplitude * (2.0 * std::f32::consts::PI * 440.0 * t).sin()) as i16;
            g711::linear_to_ulaw(s)
        }));
        p
    }

    /// Feeds `seconds` of packets at `amplitude` from `*seq` on, 20 ms apart.
    fn speak(r: &mut MessageRecorder, at: &mut Instant, seq: &mut u16, seconds: u32, amp: f32) {
        for _ in 0..seconds * 50 {
            r.push_rtp(*at, &packet(*seq, amp, 0));
            *seq += 1;
            *at += Duration::from_millis(20);
        }
    }

    #[test]
    fn speech_then_silence_ends_the_message_and_the_silence_is_trimmed() {
        let start = Instant::now();
        let mut r = MessageRecorder::new(start, leg(), LIMITS);
        let (mut at, mut seq) = (start, 0);
        speak(&mut r, &mut at, &mut seq, 2, 8000.0);
        speak(&mut r, &mut at, &mut seq, 2, 20.0);
        assert_eq!(r.handle_timeout(at), None);
        assert_eq!(
            r.poll_timeout(),
            start + Duration::from_millis(1980) + LIMITS.silence
        );
        speak(&mut r, &mut at, &mut seq, 1, 20.0);
        assert_eq!(r.handle_timeout(at), Some(Ended::Silence));
        let message = r.finish().unwrap();
        assert_eq!(message.rate, 8000);
        assert_eq!(message.duration(), Duration::from_millis(2500));
        assert!(rms(&message.samples[..16000]) > 4000.0);
    }

    #[test]
    fn a_phone_that_stops_sending_is_silent_too() {
        let start = Instant::now();
        let mut r = MessageRecorder::new(start, leg(), LIMITS);
        let (mut at, mut seq) = (start, 0);
        speak(&mut r, &mut at, &mut seq, 2, 8000.0);
        assert_eq!(r.handle_timeout(at + Duration::from_millis(2900)), None);
        assert_eq!(r.handle_timeout(at + LIMITS.silence), Some(Ended::Silence));
    }

    #[test]
    fn the_longest_message_is_cut_at_the_limit() {
        let start = Instant::now();
        let mut r = MessageRecorder::new(start, leg(), LIMITS);
        let (mut at, mut seq) = (start, 0);
        speak(&mut r, &mut at, &mut seq, 12, 8000.0);
        assert_eq!(r.handle_timeout(at), Some(Ended::MaxLength));
        assert_eq!(r.finish().unwrap().samples.len(), 80_000);
    }

    #[test]
    fn silence_alone_and_other_payloads_leave_no_message() {
        let start = Instant::now();
        let mut r = MessageRecorder::new(start, leg(), LIMITS);
        let (mut at, mut seq) = (start, 0);
        speak(&mut r, &mut at, &mut seq, 3, 20.0);
        for i in 0..100 {
            // Comfort noise and telephone events are not the caller's voice.
            r.push_rtp(at, &packet(seq + i, 8000.0, 13));
            r.push_rtp(at, &packet(seq + i, 8000.0, 101));
        }
        r.push_rtp(at, b"not rtp");
        assert_eq!(r.handle_timeout(at), Some(Ended::Silence));
        assert_eq!(r.finish(), None);
    }

    #[test]
    fn a_word_too_short_is_not_kept() {
        let start = Instant::now();
        let mut r = MessageRecorder::new(start, leg(), LIMITS);
        let (mut at, mut seq) = (start, 0);
        for _ in 0..10 {
            r.push_rtp(at, &packet(seq, 8000.0, 0));
            seq += 1;
            at += Duration::from_millis(20);
        }
        assert_eq!(r.finish(), None);
    }
}
