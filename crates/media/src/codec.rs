//! The payload formats Switchboard speaks and the conversion between audio codecs.

use crate::g711;

/// An RTP payload format by what it carries, independent of its payload type number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
    /// RFC 4733 DTMF events.
    TelephoneEvent,
}

impl Codec {
    /// Audio codecs in the order Switchboard prefers them when it chooses.
    pub const AUDIO: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

    /// The encoding name as `a=rtpmap` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::TelephoneEvent => "telephone-event",
        }
    }

    pub fn clock_rate(self) -> u32 {
        8000
    }

    /// The RFC 3551 static payload type, when there is one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Codec::Pcmu => Some(0),
            Codec::Pcma => Some(8),
            Codec::TelephoneEvent => None,
        }
    }

    pub fn from_static_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Codec> {
        [Codec::Pcmu, Codec::Pcma, Codec::TelephoneEvent]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name) && c.clock_rate() == clock_rate)
    }

    pub fn is_audio(self) -> bool {
        self != Codec::TelephoneEvent
    }
}

/// A codec bound to the payload type one side uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    pub payload_type: u8,
    pub codec: Codec,
}

impl Format {
    /// The format with its usual number: static types as assigned, 101 for events.
    pub fn default_for(codec: Codec) -> Format {
        Format {
            payload_type: codec.static_payload_type().unwrap_or(101),
            codec,
        }
    }
}

/// Encodes 8-kHz linear samples into `codec`'s payload, appended to `out`.
pub fn encode(codec: Codec, samples: &[i16], out: &mut Vec<u8>) {
    match codec {
        Codec::Pcmu => out.extend(samples.iter().map(|&s| g711::linear_to_ulaw(s))),
        Codec::Pcma => out.extend(samples.iter().map(|&s| g711::linear_to_alaw(s))),
        Codec::TelephoneEvent => {}
    }
}

/// Converts one packet's audio payload between codecs in place. Both G.711 laws run
/// at 8 kHz with one byte per sample, so a table lookup per byte is the whole
/// conversion and the packet keeps its size.
pub fn transcode_in_place(from: Codec, to: Codec, payload: &mut [u8]) {
    let table = match (from, to) {
        (Codec::Pcmu, Codec::Pcma) => &g711::ULAW_TO_ALAW,
        (Codec::Pcma, Codec::Pcmu) => &g711::ALAW_TO_ULAW,
        _ => return,
    };
    for b in payload {
        *b = table[*b as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_case_insensitively() {
        assert_eq!(Codec::from_rtpmap("pcma", 8000), Some(Codec::Pcma));
        assert_eq!(
            Codec::from_rtpmap("telephone-event", 8000),
            Some(Codec::TelephoneEvent)
        );
        assert_eq!(Codec::from_rtpmap("PCMU", 16000), None);
        assert_eq!(Codec::from_rtpmap("G729", 8000), None);
    }

    #[test]
    fn transcoding_keeps_the_waveform() {
        let tone: Vec<i16> = (0..160)
            .map(|i| ((i as f32 * 0.3).sin() * 12000.0) as i16)
            .collect();
        let mut alaw: Vec<u8> = tone.iter().map(|&s| g711::linear_to_ulaw(s)).collect();
        transcode_in_place(Codec::Pcmu, Codec::Pcma, &mut alaw);
        for (s, a) in tone.iter().zip(&alaw) {
            let back = g711::ALAW_TO_LINEAR[*a as usize] as i32;
            assert!((back - *s as i32).abs() < 1200, "{s} → {back}");
        }
    }
}
