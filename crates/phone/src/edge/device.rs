//! The sound device under the phone: cpal capture and playback (WASAPI on Windows,
//! PulseAudio on Linux), each callback talking to the phone through a lock-free ring
//! (rtrb) so that the real-time audio thread never waits on a lock nor allocates, and
//! rubato between the device's rate and the phone's 48 kHz when they differ.
//!
//! cpal's streams may not leave the thread that made them on every platform, so they
//! live on a thread of their own until the card is dropped.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::thread;

use audioadapter_buffers::owned::InterleavedOwned;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{BufferSize, FromSample, SampleFormat, SizedSample, StreamConfig};
use rubato::{Fft, FixedSync, Resampler};

use super::SoundCard;
use crate::PCM_RATE;

/// The most audio a ring holds before the oldest is dropped: a device whose clock runs
/// ahead of the phone's must not build up delay.
const MOST_QUEUED_MS: usize = 200;
/// A device hands audio over in buffers of this many 20-ms frames: short enough for a
/// call, long enough that a busy PC (the window's web view drawing) does not starve it.
const DEVICE_FRAMES: u32 = 3;
/// Frames the microphone's ring holds before the phone starts reading it, and the
/// silence the speaker's ring is given when it starts or ran dry.
const PRIME_FRAMES: usize = DEVICE_FRAMES as usize + 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoundError {
    #[error("no audio device")]
    NoDevice,
    #[error("no sound device is called {0:?}")]
    UnknownDevice(String),
    #[error("the sound device cannot be opened: {0}")]
    Device(String),
}

/// The devices the phone uses; none: the system's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceChoice {
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

/// The names of the microphones and of the speakers the system offers.
pub fn devices() -> Result<(Vec<String>, Vec<String>), SoundError> {
    let host = cpal::default_host();
    let names = |devices: Result<Vec<cpal::Device>, cpal::Error>| -> Vec<String> {
        devices
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.description().ok().map(|x| x.name().to_string()))
            .collect()
    };
    let inputs = names(host.input_devices().map(Iterator::collect));
    let outputs = names(host.output_devices().map(Iterator::collect));
    if inputs.is_empty() && outputs.is_empty() {
        return Err(SoundError::NoDevice);
    }
    Ok((inputs, outputs))
}

/// The system's microphone and speaker (or the ones chosen), opened only while the
/// phone has a call or a ring: the microphone is not held, nor shown in use by the
/// system, between calls.
#[derive(Debug)]
pub struct DeviceCard {
    choice: DeviceChoice,
    open: Option<OpenCard>,
}

impl DeviceCard {
    /// The devices of `choice`, checked now (so that a PC without sound is told at
    /// once) and opened when the phone first needs them.
    pub fn open(choice: &DeviceChoice) -> Result<DeviceCard, SoundError> {
        let host = cpal::default_host();
        let microphone = pick(&host, choice.microphone.as_deref(), true)?;
        let speaker = pick(&host, choice.speaker.as_deref(), false)?;
        // With no sound server a default device may be named whose configuration
        // fails: that is no device at all.
        microphone
            .default_input_config()
            .map_err(|_| SoundError::NoDevice)?;
        speaker
            .default_output_config()
            .map_err(|_| SoundError::NoDevice)?;
        Ok(DeviceCard {
            choice: choice.clone(),
            open: None,
        })
    }
}

impl SoundCard for DeviceCard {
    fn start(&mut self) {
        if self.open.is_none() {
            // A device gone since it was checked leaves the call silent, not the phone
            // stopped.
            self.open = OpenCard::open(&self.choice).ok();
        }
    }

    fn stop(&mut self) {
        self.open = None;
    }

    fn capture(&mut self, frame: &mut [i16]) {
        match self.open.as_mut() {
            Some(open) => open.capture(frame),
            None => frame.fill(0),
        }
    }

    fn play(&mut self, frame: &[i16]) {
        if let Some(open) = self.open.as_mut() {
            open.play(frame);
        }
    }
}

/// A microphone and a speaker, open.
struct OpenCard {
    from_mic: rtrb::Consumer<i16>,
    to_speaker: rtrb::Producer<i16>,
    mic_rate: u32,
    speaker_rate: u32,
    up: RateConverter,
    down: RateConverter,
    mic_chunk: Vec<i16>,
    speaker_chunk: Vec<i16>,
    /// The microphone's ring holds enough to be read a frame a tick; after it ran
    /// dry it fills again first, rather than be read in scraps.
    mic_primed: bool,
    /// Dropping it ends the streams' thread.
    _streams: mpsc::Sender<()>,
}

impl std::fmt::Debug for OpenCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OpenCard({} Hz in, {} Hz out)",
            self.mic_rate, self.speaker_rate
        )
    }
}

impl OpenCard {
    fn open(choice: &DeviceChoice) -> Result<OpenCard, SoundError> {
        let (opened, result) = mpsc::channel();
        let (keep, stop) = mpsc::channel::<()>();
        let choice = choice.clone();
        thread::Builder::new()
            .name("phone-sound".into())
            .spawn(move || match start_streams(&choice) {
                Ok((streams, ends)) => {
                    let _ = opened.send(Ok(ends));
                    // Until the card is dropped.
                    let _ = stop.recv();
                    drop(streams);
                }
                Err(e) => {
                    let _ = opened.send(Err(e));
                }
            })
            .map_err(|e| SoundError::Device(e.to_string()))?;
        let ends = result
            .recv()
            .map_err(|_| SoundError::Device("the sound thread stopped".into()))??;
        Ok(OpenCard {
            up: RateConverter::new(ends.mic_rate, PCM_RATE),
            down: RateConverter::new(PCM_RATE, ends.speaker_rate),
            from_mic: ends.from_mic,
            to_speaker: ends.to_speaker,
            mic_rate: ends.mic_rate,
            speaker_rate: ends.speaker_rate,
            mic_chunk: Vec::new(),
            speaker_chunk: Vec::new(),
            mic_primed: false,
            _streams: keep,
        })
    }
}

impl OpenCard {
    fn capture(&mut self, frame: &mut [i16]) {
        let most = self.mic_rate as usize * MOST_QUEUED_MS / 1000;
        let queued = self.from_mic.slots();
        if queued > most {
            // The device runs ahead of the phone's clock: drop the oldest.
            if let Ok(chunk) = self.from_mic.read_chunk(queued - most) {
                chunk.commit_all();
            }
        }
        let wanted = (self.mic_rate / 50) as usize;
        let available = self.from_mic.slots();
        if !self.mic_primed && available >= wanted * PRIME_FRAMES {
            self.mic_primed = true;
        }
        if self.mic_primed && available < wanted {
            self.mic_primed = false;
        }
        let n = if self.mic_primed { wanted } else { 0 };
        self.mic_chunk.clear();
        if let Ok(chunk) = self.from_mic.read_chunk(n) {
            let (a, b) = chunk.as_slices();
            self.mic_chunk.extend_from_slice(a);
            self.mic_chunk.extend_from_slice(b);
            chunk.commit_all();
        }
        self.up.push(&self.mic_chunk);
        self.up.take(frame);
    }

    fn play(&mut self, frame: &[i16]) {
        self.down.push(frame);
        self.speaker_chunk
            .resize((self.speaker_rate / 50) as usize, 0);
        self.down.take(&mut self.speaker_chunk);
        let most = self.speaker_rate as usize * MOST_QUEUED_MS / 1000;
        let queued = self.to_speaker.buffer().capacity() - self.to_speaker.slots();
        if queued == 0 {
            // At the start, or the speaker ran dry (the phone was late): a cushion of
            // silence first, so that the next late tick is not heard as a gap.
            let cushion = self.speaker_chunk.len() * PRIME_FRAMES;
            for _ in 0..cushion {
                if self.to_speaker.push(0).is_err() {
                    break;
                }
            }
        }
        if queued > most {
            // The speaker plays slower than the phone speaks: skip this frame.
            return;
        }
        for &sample in &self.speaker_chunk {
            if self.to_speaker.push(sample).is_err() {
                break;
            }
        }
    }
}

/// What the streams' thread hands back.
struct Ends {
    from_mic: rtrb::Consumer<i16>,
    to_speaker: rtrb::Producer<i16>,
    mic_rate: u32,
    speaker_rate: u32,
}

fn start_streams(choice: &DeviceChoice) -> Result<(Vec<cpal::Stream>, Ends), SoundError> {
    let host = cpal::default_host();
    let microphone = pick(&host, choice.microphone.as_deref(), true)?;
    let speaker = pick(&host, choice.speaker.as_deref(), false)?;
    let failed = |e: cpal::Error| SoundError::Device(e.to_string());
    let mic_config = microphone
        .default_input_config()
        .map_err(|_| SoundError::NoDevice)?;
    let speaker_config = speaker
        .default_output_config()
        .map_err(|_| SoundError::NoDevice)?;
    let (mic_rate, speaker_rate) = (mic_config.sample_rate(), speaker_config.sample_rate());
    let (mic_in, from_mic) = rtrb::RingBuffer::new(mic_rate as usize);
    let (to_speaker, speaker_out) = rtrb::RingBuffer::new(speaker_rate as usize);
    // Short device buffers: a sound server's default (PulseAudio's is two seconds)
    // would hand the speaker audio in bursts far apart.
    let short = |config: &cpal::SupportedStreamConfig| StreamConfig {
        buffer_size: BufferSize::Fixed(config.sample_rate() * DEVICE_FRAMES / 50),
        ..config.config()
    };
    let input = match mic_config.sample_format() {
        SampleFormat::F32 => input_stream::<f32>(&microphone, short(&mic_config), mic_in),
        SampleFormat::I16 => input_stream::<i16>(&microphone, short(&mic_config), mic_in),
        other => {
            return Err(SoundError::Device(format!(
                "microphone sample format {other}"
            )));
        }
    }
    .map_err(failed)?;
    let output = match speaker_config.sample_format() {
        SampleFormat::F32 => output_stream::<f32>(&speaker, short(&speaker_config), speaker_out),
        SampleFormat::I16 => output_stream::<i16>(&speaker, short(&speaker_config), speaker_out),
        other => return Err(SoundError::Device(format!("speaker sample format {other}"))),
    }
    .map_err(failed)?;
    input.play().map_err(failed)?;
    output.play().map_err(failed)?;
    Ok((
        vec![input, output],
        Ends {
            from_mic,
            to_speaker,
            mic_rate,
            speaker_rate,
        },
    ))
}

fn pick(host: &cpal::Host, name: Option<&str>, input: bool) -> Result<cpal::Device, SoundError> {
    let Some(name) = name else {
        let default = if input {
            host.default_input_device()
        } else {
            host.default_output_device()
        };
        return default.ok_or(SoundError::NoDevice);
    };
    let devices: Vec<cpal::Device> = if input {
        host.input_devices().map(Iterator::collect)
    } else {
        host.output_devices().map(Iterator::collect)
    }
    .map_err(|_| SoundError::NoDevice)?;
    devices
        .into_iter()
        .find(|d| d.description().is_ok_and(|x| x.name() == name))
        .ok_or_else(|| SoundError::UnknownDevice(name.to_string()))
}

/// The microphone's first channel into the ring; what does not fit is dropped.
fn input_stream<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut ring: rtrb::Producer<i16>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    i16: FromSample<T>,
{
    let channels = usize::from(config.channels).max(1);
    device.build_input_stream(
        config,
        move |data: &[T], _| {
            for frame in data.chunks(channels) {
                if ring.push(i16::from_sample_(frame[0])).is_err() {
                    return;
                }
            }
        },
        |_| {},
        None,
    )
}

/// The ring to every channel of the speaker; silence when it runs dry.
fn output_stream<T>(
    device: &cpal::Device,
    config: StreamConfig,
    mut ring: rtrb::Consumer<i16>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample + FromSample<i16>,
{
    let channels = usize::from(config.channels).max(1);
    device.build_output_stream(
        config,
        move |data: &mut [T], _| {
            for frame in data.chunks_mut(channels) {
                let sample = T::from_sample_(ring.pop().unwrap_or(0));
                frame.fill(sample);
            }
        },
        |_| {},
        None,
    )
}

/// Mono PCM from one rate to another in whatever pieces it comes, by rubato; a
/// pass-through when the rates agree.
struct RateConverter {
    resampler: Option<Fft<f32>>,
    pending: Vec<f32>,
    ready: VecDeque<i16>,
}

impl RateConverter {
    fn new(from: u32, to: u32) -> Self {
        let resampler = (from != to)
            .then(|| {
                Fft::new(
                    from as usize,
                    to as usize,
                    (from / 50) as usize,
                    1,
                    FixedSync::Input,
                )
                .ok()
            })
            .flatten();
        RateConverter {
            resampler,
            pending: Vec::new(),
            ready: VecDeque::new(),
        }
    }

    fn push(&mut self, samples: &[i16]) {
        let Some(resampler) = self.resampler.as_mut() else {
            self.ready.extend(samples);
            return;
        };
        self.pending
            .extend(samples.iter().map(|&s| f32::from(s) / 32768.0));
        while self.pending.len() >= resampler.input_frames_next() {
            let n = resampler.input_frames_next();
            let chunk: Vec<f32> = self.pending.drain(..n).collect();
            let Ok(input) = InterleavedOwned::new_from(chunk, 1, n) else {
                return;
            };
            let Ok(output) = resampler.process(&input, None) else {
                return;
            };
            self.ready.extend(
                output
                    .take_data()
                    .iter()
                    .map(|&s| (s * 32767.0).clamp(-32768.0, 32767.0) as i16),
            );
        }
    }

    /// Fills `out` with what is ready, silence for the rest (the first frames, while
    /// the device starts).
    fn take(&mut self, out: &mut [i16]) {
        let most = out.len() * (MOST_QUEUED_MS / 20);
        while self.ready.len() > most {
            self.ready.pop_front();
        }
        for sample in out.iter_mut() {
            *sample = self.ready.pop_front().unwrap_or(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;

    #[test]
    fn a_rate_converter_turns_a_second_at_44_1_khz_into_a_second_at_48() {
        let mut up = RateConverter::new(44_100, PCM_RATE);
        let tone: Vec<i16> = (0..882)
            .map(|i| ((i as f32 * 0.1).sin() * 8000.0) as i16)
            .collect();
        for _ in 0..50 {
            up.push(&tone);
        }
        // Every 20-ms piece in gave 20 ms out: nothing waits but rubato's own delay.
        let out = up.ready.len();
        assert!(
            (48_000 - 2 * FRAME_SAMPLES..=48_000).contains(&out),
            "{out}"
        );
        assert!(up.ready.iter().any(|&s| s.abs() > 4000));
        let mut frame = vec![0i16; FRAME_SAMPLES];
        up.take(&mut frame);
        assert!(
            up.ready.len() <= MOST_QUEUED_MS / 20 * FRAME_SAMPLES,
            "old audio is dropped, not kept"
        );
    }

    #[test]
    fn no_conversion_when_the_device_runs_at_48_khz() {
        let mut same = RateConverter::new(PCM_RATE, PCM_RATE);
        let frame: Vec<i16> = (0..FRAME_SAMPLES as i16).collect();
        same.push(&frame);
        let mut out = vec![0; FRAME_SAMPLES];
        same.take(&mut out);
        assert_eq!(out, frame);
    }
}
