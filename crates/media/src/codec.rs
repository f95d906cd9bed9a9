//! The payload formats Switchboard speaks and the conversion between the two G.711 laws.

use crate::g711;

/// An RTP payload format by what it carries, independent of its payload type number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
    /// Wideband (16 kHz audio) on an 8-kHz RTP clock, as RFC 3551 keeps it for old peers.
    G722,
    /// Mono voice at 48 kHz.
    Opus,
    /// RFC 4733 DTMF events.
    TelephoneEvent,
}

impl Codec {
    /// Audio codecs in the order Switchboard prefers them when it chooses.
    pub const AUDIO: [Codec; 4] = [Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::Opus];

    /// The encoding name as `a=rtpmap` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
            Codec::Opus => "opus",
            Codec::TelephoneEvent => "telephone-event",
        }
    }

    /// The `a=rtpmap` encoding: name, RTP clock rate and, for Opus, the two channels
    /// RFC 7587 requires it to declare whatever it sends.
    pub fn rtpmap(self) -> String {
        match self {
            Codec::Opus => format!("{}/{}/2", self.name(), self.clock_rate()),
            _ => format!("{}/{}", self.name(), self.clock_rate()),
        }
    }

    /// The RTP timestamp rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Opus => 48_000,
            _ => 8000,
        }
    }

    /// The rate of the audio it carries, which for G.722 is not its RTP clock.
    pub fn sample_rate(self) -> u32 {
        match self {
            Codec::G722 => 16_000,
            other => other.clock_rate(),
        }
    }

    /// The RFC 3551 static payload type, when there is one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Codec::Pcmu => Some(0),
            Codec::Pcma => Some(8),
            Codec::G722 => Some(9),
            Codec::Opus | Codec::TelephoneEvent => None,
        }
    }

    pub fn from_static_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            9 => Some(Codec::G722),
            _ => None,
        }
    }

    pub fn from_rtpmap(name: &str, clock_rate: u32) -> Option<Codec> {
        Codec::AUDIO
            .into_iter()
            .chain([Codec::TelephoneEvent])
            .find(|c| c.name().eq_ignore_ascii_case(name) && c.clock_rate() == clock_rate)
    }

    pub fn is_audio(self) -> bool {
        self != Codec::TelephoneEvent
    }

    /// Both G.711 laws: one byte per 8-kHz sample, converted by table in place.
    pub fn is_g711(self) -> bool {
        matches!(self, Codec::Pcmu | Codec::Pcma)
    }
}

/// A codec bound to the payload type one side uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    pub payload_type: u8,
    pub codec: Codec,
}

impl Format {
    /// The format with its usual number: static types as assigned, 101 for events,
    /// 111 for Opus.
    pub fn default_for(codec: Codec) -> Format {
        let payload_type = codec.static_payload_type().unwrap_or(match codec {
            Codec::Opus => 111,
            _ => 101,
        });
        Format {
            payload_type,
            codec,
        }
    }
}

/// Converts one packet's payload between the G.711 laws in place. Both run at 8 kHz
/// with one byte per sample, so a table lookup per byte is the whole conversion and the
/// packet keeps its size.
pub fn transcode_g711_in_place(from: Codec, to: Codec, payload: &mut [u8]) {
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
        assert_eq!(Codec::from_rtpmap("OPUS", 48000), Some(Codec::Opus));
        assert_eq!(Codec::from_rtpmap("G722", 8000), Some(Codec::G722));
        assert_eq!(Codec::from_rtpmap("G722", 16000), None);
        assert_eq!(Codec::from_rtpmap("PCMU", 16000), None);
        assert_eq!(Codec::from_rtpmap("G729", 8000), None);
    }

    #[test]
    fn rtpmap_declares_opus_stereo_and_g722_on_the_8k_clock() {
        assert_eq!(Codec::Opus.rtpmap(), "opus/48000/2");
        assert_eq!(Codec::G722.rtpmap(), "G722/8000");
        assert_eq!(Codec::G722.sample_rate(), 16_000);
    }

    #[test]
    fn transcoding_keeps_the_waveform() {
        let tone: Vec<i16> = (0..160)
            .map(|i| ((i as f32 * 0.3).sin() * 12000.0) as i16)
            .collect();
        let mut alaw: Vec<u8> = tone.iter().map(|&s| g711::linear_to_ulaw(s)).collect();
        transcode_g711_in_place(Codec::Pcmu, Codec::Pcma, &mut alaw);
        for (s, a) in tone.iter().zip(&alaw) {
            let back = g711::ALAW_TO_LINEAR[*a as usize] as i32;
            assert!((back - *s as i32).abs() < 1200, "{s} → {back}");
        }
    }
}
