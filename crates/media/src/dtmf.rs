//! DTMF as one event type whatever carried it: RFC 4733 telephone events, SIP INFO
//! (`application/dtmf-relay` and `application/dtmf`), or tones in the audio.

/// A key pressed on a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dtmf {
    /// `0`–`9`, `*`, `#`, `A`–`D`.
    pub key: char,
    pub duration_ms: u32,
}

const KEYS: &[u8; 16] = b"0123456789*#ABCD";

/// RFC 4733 §3.2 event code of a key.
pub fn event_code(key: char) -> Option<u8> {
    KEYS.iter()
        .position(|&k| k as char == key.to_ascii_uppercase())
        .map(|i| i as u8)
}

pub fn key_for_event(code: u8) -> Option<char> {
    KEYS.get(code as usize).map(|&k| k as char)
}

/// One RFC 4733 event payload (4 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub code: u8,
    pub end: bool,
    pub volume: u8,
    /// In timestamp units (1/8000 s for an 8 kHz stream).
    pub duration: u16,
}

impl TelephoneEvent {
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let p: &[u8; 4] = payload.get(..4)?.try_into().ok()?;
        Some(TelephoneEvent {
            code: p[0],
            end: p[1] & 0x80 != 0,
            volume: p[1] & 0x3f,
            duration: u16::from_be_bytes([p[2], p[3]]),
        })
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.code,
            ((self.end as u8) << 7) | (self.volume & 0x3f),
            d[0],
            d[1],
        ]
    }
}

/// Reads a SIP INFO body: `Signal=5\r\nDuration=160` (`application/dtmf-relay`) or a
/// bare key (`application/dtmf`).
pub fn parse_info(content_type: &str, body: &str) -> Option<Dtmf> {
    let content_type = content_type.split(';').next()?.trim();
    if content_type.eq_ignore_ascii_case("application/dtmf") {
        let key = body.trim();
        let mut chars = key.chars();
        let c = chars.next()?;
        return (chars.next().is_none() && event_code(c).is_some()).then_some(Dtmf {
            key: c.to_ascii_uppercase(),
            duration_ms: 100,
        });
    }
    if !content_type.eq_ignore_ascii_case("application/dtmf-relay") {
        return None;
    }
    let mut key = None;
    let mut duration_ms = 100;
    for line in body.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "signal" => {
                let v = value.trim();
                // Some phones send the event number instead of the key.
                key = match v.parse::<u8>() {
                    Ok(n) if n >= 10 => key_for_event(n),
                    _ => v.chars().next().filter(|c| event_code(*c).is_some()),
                }
                .map(|c| c.to_ascii_uppercase());
            }
            "duration" => duration_ms = value.trim().parse().unwrap_or(100).min(10_000),
            _ => {}
        }
    }
    Some(Dtmf {
        key: key?,
        duration_ms,
    })
}

/// The `application/dtmf-relay` body for a key.
pub fn info_body(dtmf: Dtmf) -> String {
    format!("Signal={}\r\nDuration={}\r\n", dtmf.key, dtmf.duration_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_event_codes() {
        assert_eq!(event_code('5'), Some(5));
        assert_eq!(event_code('*'), Some(10));
        assert_eq!(event_code('#'), Some(11));
        assert_eq!(event_code('d'), Some(15));
        assert_eq!(event_code('x'), None);
        assert_eq!(key_for_event(11), Some('#'));
        assert_eq!(key_for_event(16), None);
    }

    #[test]
    fn telephone_event_round_trip() {
        let e = TelephoneEvent {
            code: 9,
            end: true,
            volume: 10,
            duration: 1280,
        };
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Some(e));
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), None);
    }

    #[test]
    fn info_bodies_of_both_kinds() {
        assert_eq!(
            parse_info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"),
            Some(Dtmf {
                key: '5',
                duration_ms: 160
            })
        );
        assert_eq!(
            parse_info("Application/DTMF-Relay", "signal= #\nduration=250"),
            Some(Dtmf {
                key: '#',
                duration_ms: 250
            })
        );
        assert_eq!(
            parse_info("application/dtmf-relay", "Signal=11\r\n")
                .unwrap()
                .key,
            '#'
        );
        assert_eq!(parse_info("application/dtmf", "7").unwrap().key, '7');
        assert_eq!(parse_info("application/dtmf", "77"), None);
        assert_eq!(parse_info("application/dtmf-relay", "Signal=x\r\n"), None);
        assert_eq!(parse_info("text/plain", "Signal=1"), None);
        let body = info_body(Dtmf {
            key: '3',
            duration_ms: 120,
        });
        assert_eq!(
            parse_info("application/dtmf-relay", &body),
            Some(Dtmf {
                key: '3',
                duration_ms: 120
            })
        );
    }
}
