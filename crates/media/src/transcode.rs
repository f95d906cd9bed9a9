//! Audio conversion between codecs that differ in more than the G.711 law: decode to
//! linear PCM, resample, encode. Used per packet by the relay, and to encode the prompts
//! and music Switchboard plays.
//!
//! G.722 comes from `audio-codec` (pure Rust, no `unsafe`); Opus from libopus itself
//! (the `opus` crate). audio-codec's pure-Rust Opus (opus-rs 0.1) was tried first and
//! dropped: the `rtp_relay` fuzz target caught its AVX2 SILK kernel reading past its
//! buffers on ordinary 20-ms frames. audio-codec's polyphase resampler serves here
//! rather than rubato because it keeps an exact sample count for every frame
//! (8 → 48 kHz is always 960 samples per 20 ms), so one packet in makes one packet out
//! with no buffering; rubato decodes prompt files.

use audio_codec::g722::{G722Decoder, G722Encoder};
use audio_codec::{BoxedResampler, Decoder, Encoder};

use crate::codec::Codec;
use crate::g711;

/// The longest payload Switchboard makes: an Opus packet's RFC 6716 limit, and more
/// than 120 ms of any other codec it speaks.
pub const MAX_PAYLOAD: usize = 1276;

/// Opus voice at this bit rate is near transparent for a telephone call.
const OPUS_BITRATE: i32 = 32_000;

/// The longest Opus packet a phone may send: 120 ms at 48 kHz.
const OPUS_MAX_SAMPLES: usize = 5760;

/// The codec proper, past G.711's tables.
enum EncoderEngine {
    G711,
    G722(Box<G722Encoder>),
    Opus(opus::Encoder),
}

enum DecoderEngine {
    G711,
    G722(Box<G722Decoder>),
    Opus(opus::Decoder),
}

/// Linear PCM at `input_rate` into one codec's payload.
pub struct AudioEncoder {
    codec: Codec,
    input_rate: u32,
    resampler: Option<BoxedResampler>,
    resampled: Vec<i16>,
    engine: EncoderEngine,
}

impl AudioEncoder {
    pub fn new(codec: Codec, input_rate: u32) -> Self {
        let rate = codec.sample_rate();
        let engine = match codec {
            Codec::G722 => EncoderEngine::G722(Box::default()),
            Codec::Opus => opus_encoder(rate).map_or(EncoderEngine::G711, EncoderEngine::Opus),
            Codec::Pcmu | Codec::Pcma | Codec::TelephoneEvent => EncoderEngine::G711,
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
    /// take the frame (Opus other than 2.5, 5, 10, 20, 40 or 60 ms, or `out` too
    /// small).
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
        match (&mut self.engine, self.codec) {
            (EncoderEngine::G722(g722), _) => g722.encode_into(pcm, out).unwrap_or(0),
            (EncoderEngine::Opus(opus), _) => opus.encode(pcm, out).unwrap_or(0),
            (EncoderEngine::G711, Codec::Pcmu) => {
                for (o, &s) in out.iter_mut().zip(pcm) {
                    *o = g711::linear_to_ulaw(s);
                }
                fits
            }
            (EncoderEngine::G711, Codec::Pcma) => {
                for (o, &s) in out.iter_mut().zip(pcm) {
                    *o = g711::linear_to_alaw(s);
                }
                fits
            }
            _ => 0,
        }
    }
}

/// One codec's payload into mono linear PCM at the codec's own sample rate, or at the
/// rate a sound device plays.
pub struct AudioDecoder {
    codec: Codec,
    engine: DecoderEngine,
    /// To the output rate, when it is not the codec's.
    resampler: Option<BoxedResampler>,
    decoded: Vec<i16>,
}

impl AudioDecoder {
    /// A decoder whose samples come out at `output_rate`.
    pub fn to_rate(codec: Codec, output_rate: u32) -> Self {
        AudioDecoder {
            resampler: resampler(codec.sample_rate(), output_rate),
            ..AudioDecoder::new(codec)
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    pub fn new(codec: Codec) -> Self {
        let engine = match codec {
            Codec::G722 => DecoderEngine::G722(Box::default()),
            // Mono output: libopus mixes down what a stereo phone sends (RFC 7587).
            Codec::Opus => opus::Decoder::new(codec.sample_rate(), opus::Channels::Mono)
                .map_or(DecoderEngine::G711, DecoderEngine::Opus),
            Codec::Pcmu | Codec::Pcma | Codec::TelephoneEvent => DecoderEngine::G711,
        };
        AudioDecoder {
            codec,
            engine,
            resampler: None,
            decoded: Vec::new(),
        }
    }

    /// Replaces `pcm` with the samples in `payload`; empty when it does not decode.
    pub fn decode(&mut self, payload: &[u8], pcm: &mut Vec<i16>) {
        if self.resampler.is_none() {
            return self.decode_at_codec_rate(payload, pcm);
        }
        let mut decoded = std::mem::take(&mut self.decoded);
        self.decode_at_codec_rate(payload, &mut decoded);
        let Some(resampler) = self.resampler.as_mut() else {
            return;
        };
        pcm.resize(resampler.max_output_samples(decoded.len()), 0);
        let n = resampler.resample_into(&decoded, pcm).unwrap_or(0);
        pcm.truncate(n);
        self.decoded = decoded;
    }

    fn decode_at_codec_rate(&mut self, payload: &[u8], pcm: &mut Vec<i16>) {
        pcm.clear();
        match (&mut self.engine, self.codec) {
            (DecoderEngine::G722(g722), _) => {
                pcm.resize(g722.max_decode_samples(payload.len()), 0);
                let n = g722.decode_into(payload, pcm).unwrap_or(0);
                pcm.truncate(n);
            }
            (DecoderEngine::Opus(opus), _) => {
                // An empty payload would ask libopus to conceal a lost packet.
                if payload.is_empty() {
                    return;
                }
                pcm.resize(OPUS_MAX_SAMPLES, 0);
                let n = opus.decode(payload, pcm, false).unwrap_or(0);
                pcm.truncate(n);
            }
            (DecoderEngine::G711, Codec::Pcmu) => {
                pcm.extend(payload.iter().map(|&b| g711::ULAW_TO_LINEAR[b as usize]))
            }
            (DecoderEngine::G711, Codec::Pcma) => {
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

/// A voice encoder at `rate`, mono, or none when libopus refuses the settings (it
/// does not for these).
fn opus_encoder(rate: u32) -> Option<opus::Encoder> {
    let mut encoder =
        opus::Encoder::new(rate, opus::Channels::Mono, opus::Application::Voip).ok()?;
    encoder
        .set_bitrate(opus::Bitrate::Bits(OPUS_BITRATE))
        .ok()?;
    Some(encoder)
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
    fn a_decoder_plays_every_codec_at_the_device_rate() {
        for codec in Codec::AUDIO {
            let mut source = AudioEncoder::new(codec, 48_000);
            let mut sink = AudioDecoder::to_rate(codec, 48_000);
            let (mut heard, mut pcm) = (Vec::new(), Vec::new());
            let mut payload = [0u8; MAX_PAYLOAD];
            for n in 0..50 {
                let len = source.encode(&tone(48_000, n), &mut payload);
                sink.decode(&payload[..len], &mut pcm);
                assert_eq!(pcm.len(), 960, "{codec:?}: 20 ms at 48 kHz");
                heard.extend_from_slice(&pcm);
            }
            let expected: Vec<i16> = (0..50).flat_map(|n| tone(48_000, n)).collect();
            let score = similarity(&expected[4800..], &heard[4800..]);
            assert!(score > 0.9, "{codec:?}: {score:.3}");
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
        let mut phone =
            opus::Encoder::new(48_000, opus::Channels::Stereo, opus::Application::Voip).unwrap();
        let mut decoder = AudioDecoder::new(Codec::Opus);
        let (mut heard, mut pcm) = (Vec::new(), Vec::new());
        let mut payload = [0u8; MAX_PAYLOAD];
        for n in 0..25 {
            let stereo: Vec<i16> = tone(48_000, n).iter().flat_map(|&s| [s, s]).collect();
            let len = phone.encode(&stereo, &mut payload).unwrap();
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
        for (samples, accepted) in [
            (160, true),
            (80, true),
            (480, true),
            (240, false),
            (13, false),
        ] {
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
