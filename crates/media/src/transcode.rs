//! Audio conversion between codecs that differ in more than the G.711 law: decode to
//! linear PCM, resample, encode. Used per packet by the relay, and to encode the prompts
//! and music Switchboard plays.
//!
//! G.722 and Opus come from `audio-codec` (pure Rust: no C toolchain for the Windows
//! build). Its polyphase resampler serves here rather than rubato because it keeps an
//! exact sample count for every frame (8 → 48 kHz is always 960 samples per 20 ms), so
//! one packet in makes one packet out with no buffering; rubato decodes prompt files.

use audio_codec::g722::{G722Decoder, G722Encoder};
use audio_codec::opus::{OpusApplication, OpusDecoder, OpusEncoder};
use audio_codec::{BoxedResampler, Decoder, Encoder};

use crate::codec::Codec;
use crate::g711;

/// The longest payload Switchboard makes: an Opus packet's RFC 6716 limit, and more
/// than 120 ms of any other codec it speaks.
pub const MAX_PAYLOAD: usize = 1276;

/// Opus voice at this bit rate is near transparent for a telephone call.
const OPUS_BITRATE: i32 = 32_000;

/// The Opus frames (2.5, 5, 10 and 20 ms at 48 kHz) the encoder is given. Any other
/// length is refused before it reaches opus-rs, which reads past its buffers on them
/// (found by the `rtp_relay` fuzz target); audio-codec's scratch stops at 20 ms.
const OPUS_FRAMES: [usize; 4] = [120, 240, 480, 960];

/// Linear PCM at `input_rate` into one codec's payload.
pub struct AudioEncoder {
    codec: Codec,
    input_rate: u32,
    resampler: Option<BoxedResampler>,
    resampled: Vec<i16>,
    engine: Option<Box<dyn Encoder>>,
}

impl AudioEncoder {
    pub fn new(codec: Codec, input_rate: u32) -> Self {
        let rate = codec.sample_rate();
        let engine: Option<Box<dyn Encoder>> = match codec {
            Codec::G722 => Some(Box::new(G722Encoder::new())),
            Codec::Opus => {
                let mut opus = OpusEncoder::new_with_application(rate, 1, OpusApplication::Voip);
                opus.set_bitrate(OPUS_BITRATE);
                Some(Box::new(opus))
            }
            Codec::Pcmu | Codec::Pcma | Codec::TelephoneEvent => None,
        };
        AudioEncoder {
            codec,
            input_rate,
            resampler: resampler(input_rate, rate),
            resampled: Vec::new(),
            engine,
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    pub fn input_rate(&self) -> u32 {
        self.input_rate
    }

    /// Encodes `pcm` into `out` and returns the payload length; 0 when the codec cannot
    /// take the frame (Opus other than 2.5, 5, 10 or 20 ms, or `out` too small).
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        let pcm = match self.resampler.as_mut() {
            Some(r) => {
                self.resampled.resize(r.max_output_samples(pcm.len()), 0);
                let n = r.resample_into(pcm, &mut self.resampled).unwrap_or(0);
                &self.resampled[..n]
            }
            None => pcm,
        };
        let fits = pcm.len().min(out.len());
        if self.codec == Codec::Opus && !OPUS_FRAMES.contains(&pcm.len()) {
            return 0;
        }
        match (self.codec, self.engine.as_mut()) {
            (_, Some(engine)) => engine.encode_into(pcm, out).unwrap_or(0),
            (Codec::Pcmu, None) => {
                for (o, &s) in out.iter_mut().zip(pcm) {
                    *o = g711::linear_to_ulaw(s);
                }
                fits
            }
            (Codec::Pcma, None) => {
                for (o, &s) in out.iter_mut().zip(pcm) {
                    *o = g711::linear_to_alaw(s);
                }
                fits
            }
            _ => 0,
        }
    }
}

/// One codec's payload into linear PCM at the codec's own sample rate.
pub struct AudioDecoder {
    codec: Codec,
    engine: Option<Box<dyn Decoder>>,
}

impl AudioDecoder {
    pub fn new(codec: Codec) -> Self {
        let engine: Option<Box<dyn Decoder>> = match codec {
            Codec::G722 => Some(Box::new(G722Decoder::new())),
            Codec::Opus => Some(Box::new(OpusDecoder::new(codec.sample_rate(), 1))),
            Codec::Pcmu | Codec::Pcma | Codec::TelephoneEvent => None,
        };
        AudioDecoder { codec, engine }
    }

    /// Replaces `pcm` with the mono samples in `payload`; empty when it does not decode.
    /// Opus longer than 20 ms per packet is beyond the decoder and comes out empty.
    pub fn decode(&mut self, payload: &[u8], pcm: &mut Vec<i16>) {
        pcm.clear();
        match (self.codec, self.engine.as_mut()) {
            (_, Some(engine)) => {
                pcm.resize(engine.max_decode_samples(payload.len()), 0);
                let n = engine.decode_into(payload, pcm).unwrap_or(0);
                pcm.truncate(n);
                // Opus phones may send stereo (RFC 7587 lets them); calls are mono.
                if engine.channels() == 2 {
                    for i in 0..n / 2 {
                        pcm[i] = ((i32::from(pcm[2 * i]) + i32::from(pcm[2 * i + 1])) / 2) as i16;
                    }
                    pcm.truncate(n / 2);
                }
            }
            (Codec::Pcmu, None) => {
                pcm.extend(payload.iter().map(|&b| g711::ULAW_TO_LINEAR[b as usize]))
            }
            (Codec::Pcma, None) => {
                pcm.extend(payload.iter().map(|&b| g711::ALAW_TO_LINEAR[b as usize]))
            }
            _ => {}
        }
    }
}

/// Converts packets of one codec into another through linear PCM, keeping each
/// decoder's and encoder's state across the stream.
pub struct Transcoder {
    decoder: AudioDecoder,
    encoder: AudioEncoder,
    pcm: Vec<i16>,
    out: Box<[u8; MAX_PAYLOAD]>,
}

impl Transcoder {
    pub fn new(from: Codec, to: Codec) -> Self {
        Transcoder {
            decoder: AudioDecoder::new(from),
            encoder: AudioEncoder::new(to, from.sample_rate()),
            pcm: Vec::new(),
            out: Box::new([0; MAX_PAYLOAD]),
        }
    }

    pub fn codecs(&self) -> (Codec, Codec) {
        (self.decoder.codec, self.encoder.codec)
    }

    /// The payload converted, empty when it could not be decoded or encoded.
    pub fn transcode(&mut self, payload: &[u8]) -> &[u8] {
        self.decoder.decode(payload, &mut self.pcm);
        if self.pcm.is_empty() {
            return &[];
        }
        let n = self.encoder.encode(&self.pcm, &mut self.out[..]);
        &self.out[..n]
    }
}

impl std::fmt::Debug for Transcoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Transcoder{:?}", self.codecs())
    }
}

impl std::fmt::Debug for AudioDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AudioDecoder({:?})", self.codec)
    }
}

impl std::fmt::Debug for AudioEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AudioEncoder({:?} from {} Hz)",
            self.codec, self.input_rate
        )
    }
}

fn resampler(from: u32, to: u32) -> Option<BoxedResampler> {
    // Non-zero rates are the only requirement, and every codec has one.
    (from != to)
        .then(|| BoxedResampler::new(from as usize, to as usize).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20 ms of a 440-Hz tone at `rate`, continuing from frame `n`.
    fn tone(rate: u32, n: usize) -> Vec<i16> {
        let len = rate as usize / 50;
        (n * len..(n + 1) * len)
            .map(|i| {
                let t = i as f32 / rate as f32;
                ((t * 440.0 * std::f32::consts::TAU).sin() * 10_000.0) as i16
            })
            .collect()
    }

    /// Normalised correlation at the best small lag: codecs and resamplers delay.
    fn similarity(a: &[i16], b: &[i16]) -> f64 {
        (0..200)
            .map(|lag| {
                let pairs = a.iter().zip(b.iter().skip(lag));
                let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
                for (&x, &y) in pairs {
                    let (x, y) = (f64::from(x), f64::from(y));
                    ab += x * y;
                    aa += x * x;
                    bb += y * y;
                }
                ab / (aa.sqrt() * bb.sqrt()).max(1.0)
            })
            .fold(f64::MIN, f64::max)
    }

    /// Runs a second of tone from `from` through a transcoder to `to`, decodes the
    /// result and compares it with the tone at `to`'s rate.
    fn round_trip(from: Codec, to: Codec) -> (f64, Vec<usize>) {
        let mut source = AudioEncoder::new(from, from.sample_rate());
        let mut transcoder = Transcoder::new(from, to);
        let mut sink = AudioDecoder::new(to);
        let (mut heard, mut sizes, mut pcm) = (Vec::new(), Vec::new(), Vec::new());
        let mut payload = [0u8; MAX_PAYLOAD];
        for n in 0..50 {
            let len = source.encode(&tone(from.sample_rate(), n), &mut payload);
            let converted = transcoder.transcode(&payload[..len]);
            sizes.push(converted.len());
            sink.decode(converted, &mut pcm);
            heard.extend_from_slice(&pcm);
        }
        let expected: Vec<i16> = (0..50).flat_map(|n| tone(to.sample_rate(), n)).collect();
        // The first 100 ms is the codecs settling.
        let skip = to.sample_rate() as usize / 10;
        (similarity(&expected[skip..], &heard[skip..]), sizes)
    }

    #[test]
    fn every_pair_of_codecs_carries_the_tone() {
        for from in Codec::AUDIO {
            for to in Codec::AUDIO {
                let (score, sizes) = round_trip(from, to);
                assert!(score > 0.9, "{from:?} → {to:?}: {score:.3}");
                assert!(sizes.iter().all(|&s| s > 0), "{from:?} → {to:?}: {sizes:?}");
            }
        }
    }

    #[test]
    fn frames_keep_their_length_in_each_codec() {
        let (_, g722) = round_trip(Codec::Pcmu, Codec::G722);
        assert!(g722.iter().all(|&s| s == 160), "G.722 20 ms is 160 bytes");
        let (_, pcma) = round_trip(Codec::Opus, Codec::Pcma);
        assert!(pcma.iter().all(|&s| s == 160), "{pcma:?}");
    }

    #[test]
    fn stereo_opus_is_heard_in_mono() {
        let mut phone = OpusEncoder::new_with_application(48_000, 2, OpusApplication::Voip);
        let mut decoder = AudioDecoder::new(Codec::Opus);
        let (mut heard, mut pcm) = (Vec::new(), Vec::new());
        let mut payload = [0u8; MAX_PAYLOAD];
        for n in 0..25 {
            let stereo: Vec<i16> = tone(48_000, n).iter().flat_map(|&s| [s, s]).collect();
            let len = phone.encode_into(&stereo, &mut payload).unwrap();
            decoder.decode(&payload[..len], &mut pcm);
            assert_eq!(pcm.len(), 960, "20 ms of mono");
            heard.extend_from_slice(&pcm);
        }
        let expected: Vec<i16> = (0..25).flat_map(|n| tone(48_000, n)).collect();
        let score = similarity(&expected[4800..], &heard[4800..]);
        assert!(score > 0.9, "{score:.3}");
    }

    #[test]
    fn opus_takes_only_its_frame_sizes() {
        let mut opus = AudioEncoder::new(Codec::Opus, 8000);
        let mut out = [0u8; MAX_PAYLOAD];
        for (samples, accepted) in [(160, true), (80, true), (240, false), (13, false)] {
            let n = opus.encode(&vec![100; samples], &mut out);
            assert_eq!(n > 0, accepted, "{samples} samples at 8 kHz gave {n} bytes");
        }
    }

    #[test]
    fn garbage_decodes_to_nothing_without_panicking() {
        let mut t = Transcoder::new(Codec::Opus, Codec::Pcmu);
        for junk in [&[][..], &[0xff; 3], &[0x78; 1500]] {
            let _ = t.transcode(junk);
        }
        let mut g = Transcoder::new(Codec::G722, Codec::Opus);
        assert!(!g.transcode(&[0x55; 160]).is_empty());
    }
}
