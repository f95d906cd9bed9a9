//! In-band DTMF: keys heard in the audio itself, for phones and trunks that send
//! neither RFC 4733 nor INFO. Goertzel filters at the eight DTMF frequencies over
//! 20-ms frames; a key counts once it is seen in two frames running, with the checks
//! ITU-T Q.24 asks for (both tones strong, twist within limits, no third tone close).

use std::f32::consts::TAU;

use crate::dtmf::Dtmf;

const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLUMNS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// Frames a key must be seen in, and missing from, to start and end.
const CONFIRM: u32 = 2;
/// A tone pair must carry this share of the frame's energy.
const PURITY: f64 = 0.5;
/// Frame energy below this (about -45 dBFS on 160 samples) is silence.
const MIN_ENERGY: f64 = 160.0 * 180.0 * 180.0;
/// Normal and reverse twist limits (row over column, column over row): 8 and 4 dB.
const TWIST: f64 = 6.3;
const REVERSE_TWIST: f64 = 2.5;

/// The power of `samples` at `frequency` (Goertzel's algorithm).
pub fn goertzel_power(samples: &[i16], frequency: f32, rate: u32) -> f64 {
    let coefficient = 2.0 * (TAU * frequency / rate as f32).cos() as f64;
    let (mut s1, mut s2) = (0f64, 0f64);
    for &x in samples {
        let s0 = f64::from(x) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coefficient * s1 * s2
}

/// Feed it 8-kHz frames; it reports each key once, when the key is released.
#[derive(Debug, Default)]
pub struct DtmfDetector {
    current: Option<char>,
    seen: u32,
    missing: u32,
    candidate: Option<char>,
    candidate_frames: u32,
}

impl DtmfDetector {
    /// One frame (typically 160 samples, 20 ms). Returns a key that just ended.
    pub fn push(&mut self, frame: &[i16]) -> Option<Dtmf> {
        let heard = classify(frame);
        let frame_ms = (frame.len() as u32 * 1000) / 8000;
        match (self.current, heard) {
            (Some(key), Some(h)) if h == key => {
                self.seen += 1;
                self.missing = 0;
                None
            }
            (Some(key), _) => {
                self.missing += 1;
                if self.missing < CONFIRM {
                    return None;
                }
                let duration_ms = self.seen * frame_ms;
                self.current = None;
                self.candidate = heard;
                self.candidate_frames = u32::from(heard.is_some());
                Some(Dtmf { key, duration_ms })
            }
            (None, Some(h)) => {
                if self.candidate == Some(h) {
                    self.candidate_frames += 1;
                } else {
                    self.candidate = Some(h);
                    self.candidate_frames = 1;
                }
                if self.candidate_frames >= CONFIRM {
                    self.current = Some(h);
                    self.seen = self.candidate_frames;
                    self.missing = 0;
                    self.candidate = None;
                }
                None
            }
            (None, None) => {
                self.candidate = None;
                None
            }
        }
    }
}

fn classify(frame: &[i16]) -> Option<char> {
    let energy: f64 = frame.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    if energy < MIN_ENERGY {
        return None;
    }
    let rows = ROWS.map(|f| goertzel_power(frame, f, 8000));
    let columns = COLUMNS.map(|f| goertzel_power(frame, f, 8000));
    let (r, &row) = strongest(&rows);
    let (c, &column) = strongest(&columns);
    // Goertzel power is N/2 times the tone's share of N·energy for a pure sine.
    let n = frame.len() as f64;
    if (row + column) * 2.0 / n < PURITY * energy {
        return None;
    }
    if row > column * TWIST || column > row * REVERSE_TWIST * TWIST {
        return None;
    }
    // The other candidates of each group must be well below the winner.
    let quiet = |powers: &[f64; 4], winner: usize, level: f64| {
        powers
            .iter()
            .enumerate()
            .all(|(i, &p)| i == winner || p * 6.3 < level)
    };
    (quiet(&rows, r, row) && quiet(&columns, c, column)).then_some(KEYS[r][c])
}

fn strongest(powers: &[f64; 4]) -> (usize, &f64) {
    powers.iter().enumerate().fold(
        (0, &powers[0]),
        |best, (i, p)| if p > best.1 { (i, p) } else { best },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_tone(key: char, ms: usize, level: f32) -> Vec<i16> {
        let (r, c) = (0..4)
            .flat_map(|r| (0..4).map(move |c| (r, c)))
            .find(|&(r, c)| KEYS[r][c] == key)
            .unwrap();
        (0..ms * 8)
            .map(|i| {
                let t = i as f32 / 8000.0;
                ((TAU * ROWS[r] * t).sin() + (TAU * COLUMNS[c] * t).sin()) * level
            } as i16)
            .collect()
    }

    fn detect(signal: &[i16]) -> Vec<Dtmf> {
        let mut d = DtmfDetector::default();
        signal.chunks(160).filter_map(|f| d.push(f)).collect()
    }

    #[test]
    fn every_key_is_heard_once() {
        for key in "0123456789*#ABCD".chars() {
            let mut signal = key_tone(key, 100, 8000.0);
            signal.extend(vec![0; 800]);
            let keys = detect(&signal);
            assert_eq!(keys.len(), 1, "{key}: {keys:?}");
            assert_eq!(keys[0].key, key);
            assert!((80..=120).contains(&keys[0].duration_ms), "{:?}", keys[0]);
        }
    }

    #[test]
    fn a_number_dialled_in_band_survives_g711() {
        let mut signal = Vec::new();
        for key in "2580#".chars() {
            signal.extend(key_tone(key, 80, 6000.0));
            signal.extend(vec![0i16; 480]);
        }
        let through_ulaw: Vec<i16> = signal
            .iter()
            .map(|&s| crate::g711::ULAW_TO_LINEAR[crate::g711::linear_to_ulaw(s) as usize])
            .collect();
        let keys: String = detect(&through_ulaw).iter().map(|d| d.key).collect();
        assert_eq!(keys, "2580#");
    }

    #[test]
    fn speech_like_noise_and_single_tones_are_not_keys() {
        // A chord of non-DTMF tones and a lone row tone.
        let chord: Vec<i16> = (0..8000)
            .map(|i| {
                let t = i as f32 / 8000.0;
                (((TAU * 300.0 * t).sin() + (TAU * 1000.0 * t).sin() + (TAU * 2200.0 * t).sin())
                    * 5000.0) as i16
            })
            .collect();
        assert!(detect(&chord).is_empty());
        let row_only: Vec<i16> = (0..8000)
            .map(|i| ((TAU * 770.0 * i as f32 / 8000.0).sin() * 8000.0) as i16)
            .collect();
        assert!(detect(&row_only).is_empty());
        // A blip shorter than two frames.
        let mut blip = key_tone('5', 15, 8000.0);
        blip.extend(vec![0; 800]);
        assert!(detect(&blip).is_empty());
    }
}
