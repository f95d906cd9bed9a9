//! Prompts and music: an audio file (WAV, FLAC, OGG/Vorbis, MP3) decoded once by
//! symphonia, mixed down to mono, resampled by rubato to the rate a call runs at, and
//! kept as 16-bit PCM for every call that plays it.
//!
//! Files come in as bytes: reading them is the caller's business. They may come from
//! anyone with a login (a greeting, a prompt), so decoding has limits: a file that
//! claims more channels, a higher rate or larger packets than any real recording is
//! refused before the decoder allocates for it, and decoding stops at [`MAX_DURATION`]
//! (a few kilobytes of FLAC can claim hours of silence).

use std::io::Cursor;
use std::sync::Arc;

use audioadapter_buffers::owned::InterleavedOwned;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use thiserror::Error;

/// The longest a prompt, greeting or piece of music may play.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(600);
const MAX_CHANNELS: usize = 8;
const MAX_RATE: u32 = 192_000;
/// Frames one packet may decode to (FLAC's largest block is 65,535).
const MAX_FRAMES_PER_PACKET: u64 = 1 << 16;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PromptError {
    #[error("not a readable audio file: {0}")]
    Format(String),
    #[error("the file has no audio")]
    NoAudio,
    #[error("the file claims {0}, more than any recording has")]
    Implausible(String),
    #[error("the audio is longer than {} minutes", MAX_DURATION.as_secs() / 60)]
    TooLong,
    #[error("resampling failed: {0}")]
    Resample(String),
}

/// Decoded audio at one sample rate, cheap to share between calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub rate: u32,
    pub samples: Arc<[i16]>,
}

impl Prompt {
    /// Decodes `bytes` and resamples to `rate` (8000, 16000 or 48000 for calls).
    pub fn decode(bytes: Vec<u8>, rate: u32) -> Result<Prompt, PromptError> {
        let (mono, source_rate) = decode_mono(bytes)?;
        let samples = if source_rate == rate {
            mono
        } else {
            resample(&mono, source_rate, rate)?
        };
        Ok(Prompt {
            rate,
            samples: samples
                .iter()
                .map(|&s| (s.clamp(-1.0, 1.0) * 32767.0) as i16)
                .collect(),
        })
    }

    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(self.rate.max(1))
    }

    /// The spoken part: without the silence recordings carry before and after the
    /// voice (below a twentieth of the loudest sample), keeping 30 ms either side. Words
    /// said one after another are joined this way, so a sentence built of them does
    /// not pause for half a second between words.
    pub fn voiced(&self) -> &[i16] {
        let peak = self
            .samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        let loud = |s: &i16| s.unsigned_abs() > peak / 20;
        let (Some(first), Some(last)) = (
            self.samples.iter().position(loud),
            self.samples.iter().rposition(loud),
        ) else {
            return &[];
        };
        let margin = self.rate as usize * 30 / 1000;
        &self.samples[first.saturating_sub(margin)..(last + 1 + margin).min(self.samples.len())]
    }
}

fn decode_mono(bytes: Vec<u8>) -> Result<(Vec<f32>, u32), PromptError> {
    let format_error = |e: SymphoniaError| PromptError::Format(e.to_string());
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(format_error)?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or(PromptError::NoAudio)?;
    let track_id = track.id;
    let parameters = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or(PromptError::NoAudio)?;
    plausible(
        parameters.channels.as_ref().map_or(1, |c| c.count()),
        parameters.sample_rate.unwrap_or(8000),
        parameters.max_frames_per_packet.unwrap_or(0),
    )?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(parameters, &AudioDecoderOptions::default())
        .map_err(format_error)?;
    let mut mono = Vec::new();
    let mut rate = None;
    let mut interleaved: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymphoniaError::IoError(_)) => break,
            Err(e) => return Err(format_error(e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged packet is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(format_error(e)),
        };
        let spec = decoded.spec();
        let channels = spec.channels().count().max(1);
        plausible(channels, spec.rate(), decoded.frames() as u64)?;
        let rate = *rate.get_or_insert(spec.rate());
        if mono.len() as u64 + decoded.frames() as u64 > MAX_DURATION.as_secs() * u64::from(rate) {
            return Err(PromptError::TooLong);
        }
        interleaved.resize(decoded.samples_interleaved(), 0.0);
        decoded.copy_to_slice_interleaved(&mut interleaved);
        mono.extend(
            interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() / channels as f32),
        );
    }
    match rate {
        Some(rate) if !mono.is_empty() => Ok((mono, rate)),
        _ => Err(PromptError::NoAudio),
    }
}

/// Refuses what no real recording has, before anything is allocated for it.
fn plausible(channels: usize, rate: u32, frames_per_packet: u64) -> Result<(), PromptError> {
    let claim = if channels > MAX_CHANNELS {
        format!("{channels} channels")
    } else if rate > MAX_RATE {
        format!("{rate} samples a second")
    } else if frames_per_packet > MAX_FRAMES_PER_PACKET {
        format!("{frames_per_packet} frames in one packet")
    } else {
        return Ok(());
    };
    Err(PromptError::Implausible(claim))
}

fn resample(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, PromptError> {
    let error = |e: &dyn std::fmt::Display| PromptError::Resample(e.to_string());
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Both)
        .map_err(|e| error(&e))?;
    let frames = input.len();
    let buffer = InterleavedOwned::new_from(input.to_vec(), 1, frames).map_err(|e| error(&e))?;
    let output = resampler
        .process_all(&buffer, frames, None)
        .map_err(|e| error(&e))?;
    let mut samples = output.take_data();
    samples.truncate((frames as u64 * u64::from(to) / u64::from(from)) as usize);
    Ok(samples)
}

/// Plays a prompt frame by frame, once or looping (music on hold).
#[derive(Debug, Clone)]
pub struct PromptPlayer {
    prompt: Prompt,
    position: usize,
    looping: bool,
}

impl PromptPlayer {
    pub fn new(prompt: Prompt, looping: bool) -> Self {
        PromptPlayer {
            prompt,
            position: 0,
            looping,
        }
    }

    pub fn is_finished(&self) -> bool {
        !self.looping && self.position >= self.prompt.samples.len()
    }

    /// Fills `frame` with the next samples, silence past the end of a one-shot prompt.
    pub fn fill(&mut self, frame: &mut [i16]) {
        let samples = &self.prompt.samples;
        for out in frame.iter_mut() {
            if self.position >= samples.len() {
                if !self.looping || samples.is_empty() {
                    *out = 0;
                    continue;
                }
                self.position = 0;
            }
            *out = samples[self.position];
            self.position += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_voiced_part_drops_the_silence_around_the_voice_and_keeps_a_margin() {
        let mut samples = vec![0i16; 800];
        samples.extend([1000, -8000, 9000, 20]);
        samples.extend(vec![5i16; 1600]);
        let prompt = Prompt {
            rate: 8000,
            samples: samples.into(),
        };
        let voiced = prompt.voiced();
        // 30 ms at 8 kHz is 240 samples either side of the loud ones.
        assert_eq!(voiced.len(), 240 + 3 + 240);
        assert_eq!(&voiced[240..243], &[1000, -8000, 9000]);
        let silent = Prompt {
            rate: 8000,
            samples: vec![0i16; 100].into(),
        };
        assert!(silent.voiced().is_empty());
    }

    use super::*;

    fn wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        out.into_inner()
    }

    fn tone(rate: u32, hz: f32, seconds: f32) -> Vec<i16> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| ((std::f32::consts::TAU * hz * i as f32 / rate as f32).sin() * 16000.0) as i16)
            .collect()
    }

    #[test]
    fn a_48k_stereo_file_becomes_8k_mono_with_its_tone_intact() {
        let left = tone(48_000, 440.0, 1.0);
        let interleaved: Vec<i16> = left.iter().flat_map(|&s| [s, s]).collect();
        let prompt = Prompt::decode(wav(48_000, 2, &interleaved), 8000).unwrap();
        assert_eq!(prompt.rate, 8000);
        assert!(
            (7900..=8000).contains(&prompt.samples.len()),
            "{}",
            prompt.samples.len()
        );
        let mid = &prompt.samples[2000..6000];
        let at = |f| crate::dtmf_detect::goertzel_power(mid, f, 8000);
        assert!(at(440.0) > 100.0 * at(1000.0), "the 440 Hz tone survives");
        let peak = mid.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((14_000..=17_000).contains(&peak), "level kept: {peak}");
    }

    #[test]
    fn switchboards_own_prompts_decode() {
        let busy = include_bytes!("../../../sounds/en/busy.wav").to_vec();
        let prompt = Prompt::decode(busy.clone(), 8000).unwrap();
        assert!(
            (4000..5000).contains(&prompt.duration_ms()),
            "{}",
            prompt.duration_ms()
        );
        let wide = Prompt::decode(busy, 16000).unwrap();
        assert!(wide.samples.len().abs_diff(2 * prompt.samples.len()) < 32);
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(matches!(
            Prompt::decode(b"not audio at all".to_vec(), 8000),
            Err(PromptError::Format(_))
        ));
        assert!(Prompt::decode(wav(8000, 1, &[]), 8000).is_err());
    }

    #[test]
    fn a_few_kilobytes_claiming_half_an_hour_are_refused() {
        use crate::test_support::flac_of_silence;
        let short = flac_of_silence(60);
        let prompt = Prompt::decode(short, 8000).expect("a minute of silence decodes");
        assert_eq!(prompt.duration_ms(), 60_000);
        let bomb = flac_of_silence(30 * 60);
        assert!(bomb.len() < 4096, "{} bytes", bomb.len());
        assert_eq!(Prompt::decode(bomb, 8000), Err(PromptError::TooLong));
    }

    #[test]
    fn a_header_claiming_more_channels_than_any_recording_is_refused() {
        let mut file = wav(8000, 1, &[0; 160]);
        // The format chunk's channel count and block alignment (bytes 22 and 32).
        file[22..24].copy_from_slice(&16u16.to_le_bytes());
        file[32..34].copy_from_slice(&32u16.to_le_bytes());
        assert_eq!(
            Prompt::decode(file, 8000),
            Err(PromptError::Implausible("16 channels".into()))
        );
    }

    #[test]
    fn players_loop_or_stop() {
        let prompt = Prompt {
            rate: 8000,
            samples: Arc::from(vec![1i16, 2, 3]),
        };
        let mut once = PromptPlayer::new(prompt.clone(), false);
        let mut frame = [9i16; 5];
        once.fill(&mut frame);
        assert_eq!(frame, [1, 2, 3, 0, 0]);
        assert!(once.is_finished());
        let mut music = PromptPlayer::new(prompt, true);
        music.fill(&mut frame);
        assert_eq!(frame, [1, 2, 3, 1, 2]);
        assert!(!music.is_finished());
    }
}
