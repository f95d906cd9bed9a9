//! A call recorded while it is talked: leg A (the caller) on the left channel, leg B
//! (who was called: an agent, a colleague, a customer called out) on the right, as
//! Opus in Ogg (RFC 7845) at 16 kHz. Opus keeps an hour of two-channel speech in
//! about 14 MB where WAV would take 230 MB, and browsers play it as it is.
//!
//! Each side's packets are decoded and placed on a common timeline by when they
//! arrived, so a phone's silence suppression or a hold leaves silence in its channel
//! rather than pulling its later words forward. A page is written every second, so
//! after a kill the file holds all but the last second and plays.
//!
//! Time is passed in; the writer is any `Write` the edge gives (a file).

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::codec::Codec;
use crate::relay::Side;
use crate::transcode::AudioDecoder;

/// The recording's sample rate: wideband, which G.722 and Opus legs carry and G.711
/// legs fit inside.
pub const RATE: u32 = 16_000;
/// One Opus frame: 20 ms.
const FRAME: usize = (RATE / 50) as usize;
/// A frame is written once both sides have it, or this long after it was due even if
/// one side has sent nothing for it (its packets are late, lost or paused).
const LATENCY: Duration = Duration::from_millis(300);
/// A side this far behind the time its packet arrived paused (silence suppression,
/// hold): the gap becomes silence. Less is jitter, and its audio is kept back to back.
const GAP: usize = FRAME * 3;
/// A side this far ahead of the time its packet arrived sends faster than real time (its
/// clock runs fast, or a burst after a stall): the packet is dropped to catch up.
const AHEAD: usize = FRAME * 10;
/// Packets per Ogg page: a page a second.
const PACKETS_PER_PAGE: u32 = 50;
/// Opus's granule positions count at 48 kHz whatever the input rate (RFC 7845 §4).
const GRANULE_PER_SAMPLE: u64 = (48_000 / RATE) as u64;

#[derive(Debug, Error)]
pub enum RecordingError {
    #[error("recording: {0}")]
    Io(#[from] std::io::Error),
    #[error("recording: Opus: {0}")]
    Opus(#[from] opus::Error),
}

/// What a leg said, as the relay heard it: one RTP packet's audio payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub side: Side,
    pub at: Instant,
    pub codec: Codec,
    pub payload: Vec<u8>,
}

/// One side's audio waiting to be written, from the timeline's write position on.
#[derive(Default)]
struct Channel {
    samples: VecDeque<i16>,
    decoder: Option<AudioDecoder>,
    pcm: Vec<i16>,
}

impl Channel {
    /// Places `pcm`, which ended arriving at sample `arrived` of the timeline whose
    /// write position is `written`.
    fn place(&mut self, written: u64, arrived: u64, pcm: &[i16]) {
        let end = written + self.samples.len() as u64;
        let start = arrived.saturating_sub(pcm.len() as u64);
        if end + (GAP as u64) < start {
            self.samples
                .extend(std::iter::repeat_n(0, (start - end) as usize));
        } else if end > start + AHEAD as u64 {
            return;
        }
        self.samples.extend(pcm);
    }

    fn decode(&mut self, codec: Codec, payload: &[u8]) -> &[i16] {
        let decoder = match &mut self.decoder {
            Some(d) if d.codec() == codec => d,
            slot => slot.insert(AudioDecoder::to_rate(codec, RATE)),
        };
        self.pcm.clear();
        decoder.decode(payload, &mut self.pcm);
        &self.pcm
    }
}

pub struct CallRecording<W: Write> {
    start: Instant,
    /// Samples per channel written so far.
    written: u64,
    channels: [Channel; 2],
    encoder: opus::Encoder,
    pre_skip: u64,
    ogg: ogg::PacketWriter<'static, W>,
    serial: u32,
    packets_in_page: u32,
}

impl<W: Write> std::fmt::Debug for CallRecording<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallRecording")
            .field("written", &self.written)
            .finish()
    }
}

impl<W: Write> CallRecording<W> {
    /// Starts a recording at `now`, writing its headers to `out`; `serial` names the
    /// Ogg stream (random, as RFC 3533 asks).
    pub fn new(now: Instant, out: W, serial: u32) -> Result<Self, RecordingError> {
        let mut encoder =
            opus::Encoder::new(RATE, opus::Channels::Stereo, opus::Application::Voip)?;
        encoder.set_bitrate(opus::Bitrate::Bits(32_000))?;
        let pre_skip = u64::try_from(encoder.get_lookahead()?).unwrap_or(0) * GRANULE_PER_SAMPLE;
        let mut ogg = ogg::PacketWriter::new(out);
        let end = ogg::PacketWriteEndInfo::EndPage;
        ogg.write_packet(opus_head(pre_skip as u16), serial, end, 0)?;
        ogg.write_packet(opus_tags(), serial, end, 0)?;
        Ok(CallRecording {
            start: now,
            written: 0,
            channels: Default::default(),
            encoder,
            pre_skip,
            ogg,
            serial,
            packets_in_page: 0,
        })
    }

    /// A side's packet, decoded and placed by when it arrived; frames now due are
    /// written.
    pub fn push(&mut self, heard: &Heard) -> Result<(), RecordingError> {
        let arrived = self.sample_at(heard.at);
        let written = self.written;
        let channel = &mut self.channels[heard.side as usize];
        let pcm = channel.decode(heard.codec, &heard.payload).to_vec();
        channel.place(written, arrived, &pcm);
        self.write_due(heard.at)
    }

    /// Writes the frames due by `now`: those both sides have, and those late enough to
    /// write with silence for a side that sent nothing.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), RecordingError> {
        self.write_due(now)
    }

    /// Writes everything held and ends the stream: the call is over.
    pub fn finish(mut self) -> Result<W, RecordingError> {
        while self.channels.iter().any(|c| !c.samples.is_empty()) {
            self.write_frame()?;
        }
        // A frame of silence carries the encoder's look-ahead out; the last granule
        // position ends the audio where the call did (RFC 7845 §4.4).
        let padding = self.encode(&[0; FRAME * 2])?;
        let end = self.pre_skip + self.written * GRANULE_PER_SAMPLE;
        self.ogg.write_packet(
            padding,
            self.serial,
            ogg::PacketWriteEndInfo::EndStream,
            end,
        )?;
        Ok(self.ogg.into_inner())
    }

    /// How long the recording is so far.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.written * 1000 / u64::from(RATE))
    }

    fn sample_at(&self, at: Instant) -> u64 {
        let elapsed = at.saturating_duration_since(self.start);
        (elapsed.as_micros() * u128::from(RATE) / 1_000_000) as u64
    }

    fn write_due(&mut self, now: Instant) -> Result<(), RecordingError> {
        let late = self.sample_at(now.checked_sub(LATENCY).unwrap_or(self.start));
        loop {
            let both = self.channels.iter().all(|c| c.samples.len() >= FRAME);
            let overdue = self.written + FRAME as u64 <= late;
            if !(both || overdue) {
                return Ok(());
            }
            self.write_frame()?;
        }
    }

    /// Encodes the next frame of both channels, silence where a side has none, and
    /// writes it, ending a page every second.
    fn write_frame(&mut self) -> Result<(), RecordingError> {
        let mut stereo = [0i16; FRAME * 2];
        for (i, channel) in self.channels.iter_mut().enumerate() {
            let take = channel.samples.len().min(FRAME);
            for (n, sample) in channel.samples.drain(..take).enumerate() {
                stereo[n * 2 + i] = sample;
            }
        }
        let packet = self.encode(&stereo)?;
        self.written += FRAME as u64;
        self.packets_in_page += 1;
        let end = if self.packets_in_page >= PACKETS_PER_PAGE {
            self.packets_in_page = 0;
            ogg::PacketWriteEndInfo::EndPage
        } else {
            ogg::PacketWriteEndInfo::NormalPacket
        };
        // Samples decoded so far, the encoder's look-ahead among them.
        let granule = self.written * GRANULE_PER_SAMPLE;
        self.ogg.write_packet(packet, self.serial, end, granule)?;
        Ok(())
    }

    fn encode(&mut self, stereo: &[i16]) -> Result<Vec<u8>, RecordingError> {
        let mut packet = vec![0u8; 1500];
        let len = self.encoder.encode(stereo, &mut packet)?;
        packet.truncate(len);
        Ok(packet)
    }
}
/// The identification header (RFC 7845 §5.1): two channels, mapping family 0.
fn opus_head(pre_skip: u16) -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(2);
    head.extend(pre_skip.to_le_bytes());
    head.extend(RATE.to_le_bytes());
    head.extend(0i16.to_le_bytes());
    head.push(0);
    head
}

/// The comment header (RFC 7845 §5.2): the vendor, and no comments.
fn opus_tags() -> Vec<u8> {
    let vendor = b"Switchboard";
    let mut tags = b"OpusTags".to_vec();
    tags.extend((vendor.len() as u32).to_le_bytes());
    tags.extend(vendor);
    tags.extend(0u32.to_le_bytes());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711;

    /// Reads a recording back with libopus, as a player does: the look-ahead skipped
    /// and the audio ended where the last granule position says. Its two channels at
    /// 16 kHz, and the pre-skip.
    fn read_back(file: &[u8]) -> (Vec<i16>, Vec<i16>, u16) {
        let mut reader = ogg::PacketReader::new(std::io::Cursor::new(file));
        let head = reader.read_packet().unwrap().unwrap();
        assert_eq!(&head.data[..8], b"OpusHead");
        assert_eq!(head.data[9], 2, "two channels");
        let pre_skip = u16::from_le_bytes([head.data[10], head.data[11]]);
        let tags = reader.read_packet().unwrap().unwrap();
        assert_eq!(&tags.data[..8], b"OpusTags");
        let mut decoder = opus::Decoder::new(RATE, opus::Channels::Stereo).unwrap();
        let (mut left, mut right) = (Vec::new(), Vec::new());
        let mut end = 0;
        while let Ok(Some(packet)) = reader.read_packet() {
            let mut pcm = vec![0i16; 5760 * 2];
            let n = decoder.decode(&packet.data, &mut pcm, false).unwrap();
            for frame in pcm[..n * 2].chunks(2) {
                left.push(frame[0]);
                right.push(frame[1]);
            }
            end = packet.absgp_page();
        }
        let per_sample = GRANULE_PER_SAMPLE as usize;
        let (skip, end) = (
            usize::from(pre_skip) / per_sample,
            end as usize / per_sample,
        );
        assert!(end <= left.len(), "the last granule lies past the audio");
        left.truncate(end);
        right.truncate(end);
        (left.split_off(skip), right.split_off(skip), pre_skip)
    }

    fn tone(freq: f64, rate: u32, n: usize, from: usize) -> Vec<i16> {
        (from..from + n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
            })
            .collect()
    }

    /// Power of `freq` in `x` (Goertzel), relative to the signal's power.
    fn share_at(x: &[i16], freq: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(RATE);
        let (mut s1, mut s2) = (0.0, 0.0);
        for &v in x {
            let s = f64::from(v) + 2.0 * w.cos() * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
        let energy: f64 = x.iter().map(|&v| f64::from(v).powi(2)).sum();
        power * 2.0 / (energy * x.len() as f64).max(1.0)
    }

    fn ulaw(pcm: &[i16]) -> Vec<u8> {
        pcm.iter().map(|&s| g711::linear_to_ulaw(s)).collect()
    }

    /// A G.711 caller at 440 Hz and a G.711 callee at 1 kHz for `seconds`, the callee
    /// pausing (silence suppression) for `pause_b`'s frames.
    fn record(seconds: usize, pause_b: Option<std::ops::Range<usize>>) -> Vec<u8> {
        let start = Instant::now();
        let mut rec = CallRecording::new(start, Vec::new(), 7).unwrap();
        for frame in 0..seconds * 50 {
            let at = start + Duration::from_millis(20 * (frame as u64 + 1));
            for (side, freq) in [(Side::A, 440.0), (Side::B, 1000.0)] {
                if side == Side::B && pause_b.as_ref().is_some_and(|p| p.contains(&frame)) {
                    continue;
                }
                // B's packets come 7 ms after A's, jittering.
                let at = at
                    + Duration::from_millis(if side == Side::B {
                        7 + frame as u64 % 5
                    } else {
                        0
                    });
                let heard = Heard {
                    side,
                    at,
                    codec: Codec::Pcmu,
                    payload: ulaw(&tone(freq, 8000, 160, frame * 160)),
                };
                rec.push(&heard).unwrap();
            }
        }
        rec.finish().unwrap()
    }

    #[test]
    fn each_side_is_heard_on_its_own_channel_for_the_whole_call() {
        let file = record(3, None);
        let (left, right, pre_skip) = read_back(&file);
        assert!(pre_skip > 0);
        assert_eq!(
            left.len(),
            3 * RATE as usize,
            "three seconds, no more, no less"
        );
        let middle = 8000..40_000;
        assert!(
            share_at(&left[middle.clone()], 440.0) > 0.8,
            "{}",
            share_at(&left[middle.clone()], 440.0)
        );
        assert!(share_at(&left[middle.clone()], 1000.0) < 0.01);
        assert!(share_at(&right[middle.clone()], 1000.0) > 0.8);
        assert!(share_at(&right[middle], 440.0) < 0.01);
    }

    #[test]
    fn a_side_that_pauses_is_silent_meanwhile_and_stays_in_time_after() {
        let file = record(4, Some(50..100));
        let (left, right, _) = read_back(&file);
        let rms = |x: &[i16]| {
            (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        // Second 1 of B is silence; A goes on.
        assert!(
            rms(&right[17_000..31_000]) < 100.0,
            "{}",
            rms(&right[17_000..31_000])
        );
        assert!(rms(&left[17_000..31_000]) > 3000.0);
        // B comes back when its packets did (2 s, 7 to 11 ms late), not early.
        let back = right[20_000..]
            .iter()
            .position(|&v| v.abs() > 2000)
            .unwrap()
            + 20_000;
        assert!(
            (32_000..32_000 + 16 * 30).contains(&back),
            "back at sample {back}"
        );
    }

    #[test]
    fn a_recording_cut_short_plays_up_to_its_last_full_second() {
        let start = Instant::now();
        let mut rec = CallRecording::new(start, Vec::new(), 9).unwrap();
        for frame in 0..150 {
            let at = start + Duration::from_millis(20 * (frame + 1));
            for side in [Side::A, Side::B] {
                let payload = ulaw(&tone(440.0, 8000, 160, frame as usize * 160));
                rec.push(&Heard {
                    side,
                    at,
                    codec: Codec::Pcmu,
                    payload,
                })
                .unwrap();
            }
        }
        // No finish: the process was killed. What the writer was given is the file.
        let file = rec.ogg.into_inner();
        let (left, _, _) = read_back(&file);
        // Pages end each second: the first two are whole (the third is cut).
        assert!(
            left.len() >= 2 * RATE as usize - FRAME,
            "{} samples",
            left.len()
        );
    }
}
