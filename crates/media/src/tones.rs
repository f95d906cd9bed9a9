//! Call progress tones: what a caller hears while the other side rings, is busy, or the
//! network cannot complete the call. Europe (ETSI ES 201 970, used in Poland and
//! Russia alike: 425 Hz) and North America (ATIS: dual tones) differ; an office picks
//! its region.

use std::f32::consts::TAU;

/// Which country's tones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToneRegion {
    #[default]
    Europe,
    NorthAmerica,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Ringback,
    Busy,
    Congestion,
}

/// Frequencies played together and the on/off cadence, in milliseconds, repeated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneSpec {
    pub frequencies: &'static [f32],
    pub cadence: &'static [(u32, u32)],
}

impl ToneRegion {
    pub fn spec(self, tone: Tone) -> ToneSpec {
        let (frequencies, cadence): (&'static [f32], &'static [(u32, u32)]) = match (self, tone) {
            (ToneRegion::Europe, Tone::Ringback) => (&[425.0], &[(1000, 4000)]),
            (ToneRegion::Europe, Tone::Busy) => (&[425.0], &[(500, 500)]),
            (ToneRegion::Europe, Tone::Congestion) => (&[425.0], &[(200, 200)]),
            (ToneRegion::NorthAmerica, Tone::Ringback) => (&[440.0, 480.0], &[(2000, 4000)]),
            (ToneRegion::NorthAmerica, Tone::Busy) => (&[480.0, 620.0], &[(500, 500)]),
            (ToneRegion::NorthAmerica, Tone::Congestion) => (&[480.0, 620.0], &[(250, 250)]),
        };
        ToneSpec {
            frequencies,
            cadence,
        }
    }
}

/// Generates a tone's samples, frame after frame, with its cadence.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    spec: ToneSpec,
    rate: u32,
    /// Samples since the start.
    position: u64,
    cycle: u64,
    /// Each frequency's amplitude so that together they peak at about -10 dBFS.
    amplitude: f32,
}

impl ToneGenerator {
    pub fn new(spec: ToneSpec, rate: u32) -> Self {
        let cycle = spec
            .cadence
            .iter()
            .map(|(on, off)| u64::from(on + off) * u64::from(rate) / 1000)
            .sum();
        ToneGenerator {
            spec,
            rate,
            position: 0,
            cycle,
            amplitude: 10_000.0 / spec.frequencies.len().max(1) as f32,
        }
    }

    fn sounding(&self, position: u64) -> bool {
        let mut t = position % self.cycle.max(1);
        for (on, off) in self.spec.cadence {
            let on = u64::from(*on) * u64::from(self.rate) / 1000;
            let off = u64::from(*off) * u64::from(self.rate) / 1000;
            if t < on {
                return true;
            }
            if t < on + off {
                return false;
            }
            t -= on + off;
        }
        false
    }

    /// Fills `frame` with the next samples.
    pub fn fill(&mut self, frame: &mut [i16]) {
        for sample in frame.iter_mut() {
            *sample = if self.sounding(self.position) {
                let t = self.position as f32 / self.rate as f32;
                let v: f32 = self
                    .spec
                    .frequencies
                    .iter()
                    .map(|f| (TAU * f * t).sin())
                    .sum();
                (v * self.amplitude) as i16
            } else {
                0
            };
            self.position += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtmf_detect::goertzel_power;

    fn power(samples: &[i16], f: f32) -> f64 {
        goertzel_power(samples, f, 8000)
    }

    #[test]
    fn european_busy_is_425_hz_half_a_second_on_and_off() {
        let mut g = ToneGenerator::new(ToneRegion::Europe.spec(Tone::Busy), 8000);
        let mut second = vec![0i16; 8000];
        g.fill(&mut second);
        let (on, off) = second.split_at(4000);
        assert!(power(on, 425.0) > 1000.0 * power(on, 1000.0));
        assert!(off.iter().all(|&s| s == 0));
    }

    #[test]
    fn north_american_ringback_has_both_frequencies_for_two_seconds() {
        let mut g = ToneGenerator::new(ToneRegion::NorthAmerica.spec(Tone::Ringback), 8000);
        let mut six = vec![0i16; 6 * 8000];
        g.fill(&mut six);
        let ring = &six[..16000];
        assert!(power(ring, 440.0) > 100.0 * power(ring, 700.0));
        assert!(power(ring, 480.0) > 100.0 * power(ring, 700.0));
        assert!(six[16000..].iter().all(|&s| s == 0));
        assert!(ring.iter().all(|&s| s.unsigned_abs() <= 10_001));
    }
}
