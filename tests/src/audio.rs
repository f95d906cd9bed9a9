//! Did the sound one phone played reach the other? Test speech is built from
//! Switchboard's own prompts; a recording is compared with its source by normalised
//! correlation over one-second windows, each aligned on its own (jitter buffers
//! stretch and shrink the stream), and the median is the score: a real path scores
//! above 0.9, a recording compared with the wrong source about 0.1.

use std::path::Path;

pub const RATE: u32 = 8000;

/// The prompts test speech is made of: no stretch of a second or more is said twice
/// among them (the busy and unavailable prompts share "The person you are calling is
/// ... Please try again later", so a window could be found in the wrong one).
const SPEECH: [&str; 6] = [
    "no_such_number",
    "queue_callback",
    "queue_comfort",
    "queue_vip_warning",
    "queue_hold",
    "queue_wait_short",
];

/// Writes at least `seconds` of speech at 8 kHz: the [`SPEECH`] prompts of `language`
/// from sounds/, one after another, repeated.
pub fn speech(language: &str, seconds: u32, out: &Path) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sounds")
        .join(language);
    let prompts: Vec<_> = SPEECH
        .iter()
        .map(|name| dir.join(format!("{name}.wav")))
        .collect();
    let mut samples: Vec<i16> = Vec::new();
    while samples.len() < (seconds * RATE) as usize {
        for p in &prompts {
            let (s, rate) = read(p);
            assert_eq!(rate, RATE, "{} is not 8 kHz", p.display());
            samples.extend(s.iter().map(|&x| (x * 32767.0) as i16));
        }
    }
    write(out, &samples, RATE);
}

/// A copy of the WAV `source` at `rate` with its sound in each of `channels`, for a
/// phone whose codec takes that shape (baresip's file source plays nothing else).
pub fn reshaped(source: &Path, rate: u32, channels: u16, out: &Path) {
    let bytes = std::fs::read(source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let prompt = switchboard_media::prompt::Prompt::decode(bytes, rate)
        .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let samples: Vec<i16> = prompt
        .samples
        .iter()
        .flat_map(|&s| std::iter::repeat_n(s, usize::from(channels)))
        .collect();
    write_wav(out, &samples, rate, channels);
}

/// A baresip phone's microphone: `speech` at the rate and channels of its codec, named
/// as baresip does ("opus/48000/2", "G722/16000/1"; G.711 when plain).
pub fn microphone(speech: &Path, codec: &str) -> std::path::PathBuf {
    let mut shape = codec
        .split('/')
        .skip(1)
        .map(|n| n.parse().expect("a number in the codec name"));
    let rate = shape.next().unwrap_or(RATE);
    let channels = shape.next().unwrap_or(1) as u16;
    let name = speech.file_name().expect("a file").display();
    let out = speech.with_file_name(format!("{rate}-{channels}-{name}"));
    reshaped(speech, rate, channels, &out);
    out
}

fn write(out: &Path, samples: &[i16], rate: u32) {
    write_wav(out, samples, rate, 1);
}

pub fn write_wav(out: &Path, samples: &[i16], rate: u32, channels: u16) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(out, spec).expect("create wav");
    for &s in samples {
        w.write_sample(s).expect("write wav");
    }
    w.finalize().expect("finish wav");
}

/// A copy of the 8-kHz WAV `source` with `before` and `after` seconds of silence
/// around it: someone who waits, says it, and stops talking.
pub fn padded(source: &Path, before: f32, after: f32, out: &Path) {
    let (speech, rate) = read(source);
    assert_eq!(rate, RATE, "{} is not 8 kHz", source.display());
    let quiet = |seconds: f32| vec![0i16; (seconds * RATE as f32) as usize];
    let mut samples = quiet(before);
    samples.extend(speech.iter().map(|&x| (x * 32767.0) as i16));
    samples.extend(quiet(after));
    write(out, &samples, RATE);
}

/// A turn to speak in a call of several: `seconds` of `language` said `after` seconds
/// into the phone's call, then silence. Returns the speech alone and the 8-kHz
/// microphone (files in `dir`). Turns keep voices apart, so each can be scored alone.
pub fn turn(
    dir: &Path,
    language: &str,
    seconds: f32,
    after: f32,
) -> (Vec<f32>, std::path::PathBuf) {
    let all = dir.join(format!("{language}-all.wav"));
    speech(language, seconds.ceil() as u32, &all);
    let (samples, rate) = read(&all);
    let said: Vec<i16> = samples[..(seconds * rate as f32) as usize]
        .iter()
        .map(|&s| (s * 32767.0) as i16)
        .collect();
    let spoken = dir.join(format!("{language}.wav"));
    write(&spoken, &said, rate);
    let microphone = dir.join(format!("{language}-turn.wav"));
    padded(&spoken, after, 30.0, &microphone);
    (read(&spoken).0, microphone)
}

/// Writes `seconds` of digital silence at 8 kHz: a microphone that hears nothing.
pub fn silence(seconds: u32, out: &Path) {
    write(out, &vec![0; (seconds * RATE) as usize], RATE);
}

/// How many whole seconds of `samples` (8 kHz) carry sound (above -40 dBFS RMS).
pub fn seconds_with_sound(samples: &[f32]) -> usize {
    samples
        .chunks_exact(RATE as usize)
        .filter(|s| rms(s) > 0.01)
        .count()
}

/// The first channel of a WAV as floats in -1..1, with its sample rate.
pub fn read(path: &Path) -> (Vec<f32>, u32) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let channels = spec.channels as usize;
    let all: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.unwrap_or(0.0)).collect(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap_or(0) as f32 / scale)
                .collect()
        }
    };
    (
        all.into_iter().step_by(channels).collect(),
        spec.sample_rate,
    )
}

/// A recording at whatever rate its codec decoded (16 kHz for G.722, 48 kHz for Opus)
/// as 8-kHz floats, to compare with the 8-kHz sources.
pub fn read_at_call_rate(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let prompt = switchboard_media::prompt::Prompt::decode(bytes, RATE)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    prompt
        .samples
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect()
}

fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x as f64, y as f64);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

fn rms(s: &[f32]) -> f64 {
    (s.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

/// Where `window` best matches inside `source[from..to]`, and how well.
fn best_match(source: &[f32], window: &[f32], from: usize, to: usize, step: usize) -> (usize, f64) {
    let last = to.min(source.len().saturating_sub(window.len()));
    (from..=last)
        .step_by(step)
        .map(|at| (at, correlation(&source[at..at + window.len()], window)))
        .fold(
            (from, f64::MIN),
            |best, c| if c.1 > best.1 { c } else { best },
        )
}

/// The first search for a window runs at a quarter of the rate, on averages of four
/// samples: a low-passed copy, so a position a few samples off still correlates.
const COARSE: usize = 4;

fn decimated(samples: &[f32]) -> Vec<f32> {
    samples
        .chunks_exact(COARSE)
        .map(|c| c.iter().sum::<f32>() / COARSE as f32)
        .collect()
}

/// The best correlation of `window` with the source around `at`, shifted by fractions
/// of a sample. Resamplers and codec filters delay audio by fractions of an 8-kHz
/// sample; aligned to the nearest whole sample, the upper speech band (3 kHz is a
/// third of a cycle per half sample) would count as lost though it was heard.
fn best_fraction(source: &[f32], window: &[f32], at: usize) -> f64 {
    [-0.5f32, -0.375, -0.25, -0.125, 0.125, 0.25, 0.375, 0.5]
        .into_iter()
        .map(|delay| correlation(&shifted(source, at, window.len(), delay), window))
        .fold(f64::MIN, f64::max)
}

/// `len` samples of `source` from `at`, delayed by `delay` samples through a
/// Hann-windowed sinc interpolator of 17 taps.
fn shifted(source: &[f32], at: usize, len: usize, delay: f32) -> Vec<f32> {
    const HALF: isize = 8;
    let taps: Vec<f32> = (-HALF..=HALF)
        .map(|k| {
            let x = k as f32 + delay;
            let sinc = if x == 0.0 {
                1.0
            } else {
                (std::f32::consts::PI * x).sin() / (std::f32::consts::PI * x)
            };
            let hann = 0.5 + 0.5 * (std::f32::consts::PI * x / (HALF as f32 + 1.0)).cos();
            sinc * hann
        })
        .collect();
    (0..len)
        .map(|i| {
            taps.iter()
                .zip(-HALF..=HALF)
                .filter_map(|(t, k)| {
                    let j = (at + i) as isize - k;
                    usize::try_from(j)
                        .ok()
                        .and_then(|j| source.get(j))
                        .map(|s| s * t)
                })
                .sum()
        })
        .collect()
}

/// Fails unless `score` (from [`heard`]) says the audio was heard, naming `what`.
#[track_caller]
pub fn assert_heard(what: &str, score: f64) {
    eprintln!("{what}: {score:.3}");
    assert!(score >= 0.9, "{what}: heard at {score:.3}, below 0.9");
}

/// Fails if `score` (from [`heard`]) says the audio was heard, naming `what`: the
/// voice must not have reached that phone.
#[track_caller]
pub fn assert_not_heard(what: &str, score: f64) {
    eprintln!("{what}: {score:.3}");
    assert!(
        score < 0.5,
        "{what}: heard at {score:.3}, should be under 0.5"
    );
}

/// [`heard`] for a `source` that is one part of a longer `received` (a prompt among
/// others): the stretch of `received` where the source's first second matches best is
/// scored.
pub fn heard_within(source: &[f32], received: &[f32]) -> f64 {
    let opening = &source[..source.len().min(RATE as usize)];
    let (coarse, _) = best_match(
        &decimated(received),
        &decimated(opening),
        0,
        received.len(),
        1,
    );
    let start = (coarse * COARSE).saturating_sub(RATE as usize / 4);
    let end = (start + source.len() + RATE as usize / 2).min(received.len());
    heard(source, &received[start..end])
}

/// The median correlation of `received` with `source` over one-second windows of
/// `received` that carry sound. Windows that are silent where the source is not count
/// as zero, so missing audio lowers the score.
pub fn heard(source: &[f32], received: &[f32]) -> f64 {
    let win = RATE as usize;
    let loudest = received.chunks(win).map(rms).fold(0.0, f64::max);
    assert!(loudest > 0.01, "the recording is silent (RMS {loudest:.4})");
    let mut scores = Vec::new();
    let mut anchor: Option<isize> = None;
    let coarse_source = decimated(source);
    for (i, window) in received.chunks_exact(win).enumerate() {
        if rms(window) < loudest * 0.05 {
            continue;
        }
        let at = i * win;
        // A window is found anywhere (coarsely, then exactly) unless the previous one
        // matched well; then near there, allowing 50 ms of drift.
        let (found, score) = match anchor {
            None => {
                let (coarse, _) =
                    best_match(&coarse_source, &decimated(window), 0, source.len(), 1);
                let coarse = coarse * COARSE;
                best_match(
                    source,
                    window,
                    coarse.saturating_sub(2 * COARSE),
                    coarse + 2 * COARSE,
                    1,
                )
            }
            Some(offset) => {
                let expected = (at as isize + offset).max(0) as usize;
                best_match(
                    source,
                    window,
                    expected.saturating_sub(400),
                    expected + 400,
                    1,
                )
            }
        };
        let score = score.max(best_fraction(source, window, found));
        // A poor match (a window that straddles the start of the audio, say) gives no
        // trustworthy alignment: the next window searches everywhere again.
        anchor = (score > 0.5).then_some(found as isize - at as isize);
        scores.push(score);
    }
    assert!(
        !scores.is_empty(),
        "no window of the recording carries sound"
    );
    scores.sort_by(|a, b| a.total_cmp(b));
    scores[scores.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_speech_delayed_scores_high_and_other_speech_low() {
        let dir = tempfile::tempdir().unwrap();
        let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
        speech("en", 12, &en);
        speech("ru", 12, &ru);
        let (en, _) = read(&en);
        let (ru, _) = read(&ru);
        let mut delayed = vec![0.0; 1234];
        delayed.extend_from_slice(&en[..8 * RATE as usize]);
        let score = heard(&en, &delayed);
        assert!(score > 0.99, "{score}");
        assert!(heard(&ru, &delayed) < 0.5, "{}", heard(&ru, &delayed));
    }
}

/// The voices of a call test: what the caller says (English), what the other party
/// says (Russian), and silence for a phone that only listens; 40 s each.
#[derive(Debug)]
pub struct Voices {
    pub en: std::path::PathBuf,
    pub ru: std::path::PathBuf,
    pub silence: std::path::PathBuf,
}

impl Voices {
    pub fn new(dir: &Path) -> Voices {
        let v = Voices {
            en: dir.join("en.wav"),
            ru: dir.join("ru.wav"),
            silence: dir.join("silence.wav"),
        };
        speech("en", 40, &v.en);
        speech("ru", 40, &v.ru);
        silence(40, &v.silence);
        v
    }
}
