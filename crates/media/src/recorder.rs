//! Call recording to WAV (hound): both parties, as stereo (caller left, callee right)
//! or mixed to mono, 16-bit at the call's rate. The writer is any `Write + Seek` the
//! caller provides, so recording to a file is the edge's business.

use std::io::{Seek, Write};

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Caller on the left channel, callee on the right: each voice stays separable.
    Stereo,
    /// Both voices summed into one channel.
    Mixed,
}

#[derive(Debug, Error)]
#[error("recording: {0}")]
pub struct RecorderError(#[from] hound::Error);

pub struct Recorder<W: Write + Seek> {
    writer: hound::WavWriter<W>,
    layout: Layout,
}

impl<W: Write + Seek> std::fmt::Debug for Recorder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("layout", &self.layout)
            .finish()
    }
}

impl<W: Write + Seek> Recorder<W> {
    pub fn new(out: W, rate: u32, layout: Layout) -> Result<Self, RecorderError> {
        let spec = hound::WavSpec {
            channels: match layout {
                Layout::Stereo => 2,
                Layout::Mixed => 1,
            },
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        Ok(Recorder {
            writer: hound::WavWriter::new(out, spec)?,
            layout,
        })
    }

    /// One frame of each party, time-aligned; a shorter side is padded with silence
    /// (a lost packet, a party on mute).
    pub fn push(&mut self, caller: &[i16], callee: &[i16]) -> Result<(), RecorderError> {
        let len = caller.len().max(callee.len());
        let at = |s: &[i16], i: usize| s.get(i).copied().unwrap_or(0);
        for i in 0..len {
            let (a, b) = (at(caller, i), at(callee, i));
            match self.layout {
                Layout::Stereo => {
                    self.writer.write_sample(a)?;
                    self.writer.write_sample(b)?;
                }
                Layout::Mixed => {
                    let sum = (i32::from(a) + i32::from(b))
                        .clamp(i32::from(i16::MIN), i32::from(i16::MAX));
                    self.writer.write_sample(sum as i16)?;
                }
            }
        }
        Ok(())
    }

    /// Writes the header's final lengths; the WAV is complete after this.
    pub fn finish(self) -> Result<(), RecorderError> {
        Ok(self.writer.finalize()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn record(layout: Layout) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut r = Recorder::new(&mut out, 8000, layout).unwrap();
        r.push(&[100, 200], &[1, 2]).unwrap();
        r.push(&[30_000], &[30_000, 5]).unwrap();
        r.finish().unwrap();
        out.into_inner()
    }

    fn samples(wav: Vec<u8>) -> (u16, Vec<i16>) {
        let mut reader = hound::WavReader::new(Cursor::new(wav)).unwrap();
        let channels = reader.spec().channels;
        (
            channels,
            reader.samples::<i16>().map(Result::unwrap).collect(),
        )
    }

    #[test]
    fn stereo_keeps_each_party_on_its_channel() {
        let (channels, s) = samples(record(Layout::Stereo));
        assert_eq!(channels, 2);
        assert_eq!(s, [100, 1, 200, 2, 30_000, 30_000, 0, 5]);
    }

    #[test]
    fn mixed_sums_and_clips() {
        let (channels, s) = samples(record(Layout::Mixed));
        assert_eq!(channels, 1);
        assert_eq!(s, [101, 202, i16::MAX, 5]);
    }
}
