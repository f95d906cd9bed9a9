//! SDP (RFC 8866) as SIP phones send it, and RFC 3264 offer/answer for one audio stream.
//!
//! A small parser of our own: the B2BUA needs the connection address, the audio port,
//! its payload formats with `rtpmap`/`fmtp`, `ptime` and the direction, and must accept
//! what desk phones really send (missing `t=`, CRLF or LF, unknown attributes, extra
//! video streams it declines). The maintained SDP crates model WebRTC sessions and
//! refuse several of those offers outright.

use std::fmt::Write;
use std::net::IpAddr;

use thiserror::Error;

use crate::codec::{Codec, Format};
use crate::srtp::SdesKey;

/// Why an SDP body cannot be used; the text goes into a 488's Warning header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    #[error("SDP line {line}: {problem}")]
    Malformed { line: usize, problem: &'static str },
    #[error("SDP has no audio stream")]
    NoAudio,
    #[error("SDP audio stream has no connection address")]
    NoConnection,
    #[error("no codec in common (Switchboard speaks PCMU and PCMA)")]
    NoCommonCodec,
    #[error("encrypted audio (RTP/SAVP) without a key in AES_CM_128_HMAC_SHA1_80")]
    NoCommonCrypto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer takes to this offer (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    fn from_attribute(name: &str) -> Option<Direction> {
        Some(match name {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub kind: String,
    pub port: u16,
    pub proto: String,
    /// Payload types in the offerer's order of preference.
    pub payload_types: Vec<String>,
    pub connection: Option<IpAddr>,
    /// `a=rtpmap:<pt> <name>/<rate>` entries.
    pub rtpmap: Vec<(u8, String, u32)>,
    pub direction: Option<Direction>,
    pub ptime: Option<u32>,
    /// SDES keys (`a=crypto`) in a suite Switchboard takes, in the offerer's order.
    pub crypto: Vec<SdesKey>,
}

impl Media {
    /// The formats Switchboard understands, in this stream's order.
    pub fn formats(&self) -> Vec<Format> {
        self.payload_types
            .iter()
            .filter_map(|pt| pt.parse::<u8>().ok())
            .filter_map(|pt| {
                let codec = match self.rtpmap.iter().find(|(p, _, _)| *p == pt) {
                    Some((_, name, rate)) => Codec::from_rtpmap(name, *rate),
                    None => Codec::from_static_payload_type(pt),
                }?;
                Some(Format {
                    payload_type: pt,
                    codec,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub connection: Option<IpAddr>,
    pub direction: Option<Direction>,
    pub media: Vec<Media>,
}

impl SessionDescription {
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let text = std::str::from_utf8(body).map_err(|_| SdpError::Malformed {
            line: 1,
            problem: "not UTF-8",
        })?;
        let mut sdp = SessionDescription {
            connection: None,
            direction: None,
            media: Vec::new(),
        };
        let mut saw_version = false;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let raw = raw.trim_end_matches('\r');
            if raw.trim().is_empty() {
                continue;
            }
            let bad = |problem| SdpError::Malformed { line, problem };
            let (kind, value) = raw
                .split_once('=')
                .filter(|(k, _)| k.len() == 1)
                .ok_or(bad("expected <type>=<value>"))?;
            if !saw_version {
                if kind != "v" || value.trim() != "0" {
                    return Err(bad("must start with v=0"));
                }
                saw_version = true;
                continue;
            }
            match kind {
                "c" => {
                    let addr = parse_connection(value).ok_or(bad("bad c= line"))?;
                    match sdp.media.last_mut() {
                        Some(m) => m.connection = Some(addr),
                        None => sdp.connection = Some(addr),
                    }
                }
                "m" => sdp
                    .media
                    .push(parse_media(value).ok_or(bad("bad m= line"))?),
                "a" => {
                    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                    if let Some(direction) = Direction::from_attribute(name) {
                        match sdp.media.last_mut() {
                            Some(m) => m.direction = Some(direction),
                            None => sdp.direction = Some(direction),
                        }
                    } else if let Some(m) = sdp.media.last_mut() {
                        match name {
                            "rtpmap" => m.rtpmap.push(parse_rtpmap(arg).ok_or(bad("bad rtpmap"))?),
                            "ptime" => m.ptime = arg.trim().parse().ok(),
                            "crypto" => m.crypto.extend(SdesKey::parse(arg)),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if !saw_version {
            return Err(SdpError::Malformed {
                line: 1,
                problem: "empty",
            });
        }
        Ok(sdp)
    }

    /// The first audio stream that is not declined, with its effective address and
    /// direction.
    pub fn audio(&self) -> Result<AudioStream, SdpError> {
        let media = self
            .media
            .iter()
            .find(|m| m.kind == "audio" && m.port != 0 && m.proto.starts_with("RTP/"))
            .ok_or(SdpError::NoAudio)?;
        // Encrypted audio needs a key Switchboard can use: answering it in the clear
        // would leave the phone unable to hear.
        let crypto = match (media.proto.contains("SAVP"), media.crypto.first()) {
            (true, None) => return Err(SdpError::NoCommonCrypto),
            (true, Some(key)) => Some(*key),
            (false, _) => None,
        };
        Ok(AudioStream {
            address: media
                .connection
                .or(self.connection)
                .ok_or(SdpError::NoConnection)?,
            port: media.port,
            formats: media.formats(),
            direction: media.direction.or(self.direction).unwrap_or_default(),
            ptime: media.ptime,
            crypto,
        })
    }
}

/// The audio stream of a description, reduced to what the relay needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioStream {
    pub address: IpAddr,
    pub port: u16,
    pub formats: Vec<Format>,
    pub direction: Direction,
    pub ptime: Option<u32>,
    /// The phone's SRTP key: its audio is encrypted (RTP/SAVP).
    pub crypto: Option<SdesKey>,
}

impl AudioStream {
    /// The first audio codec, the one the answerer chose or the offerer prefers.
    pub fn first_audio(&self) -> Option<Format> {
        self.formats.iter().copied().find(|f| f.codec.is_audio())
    }

    pub fn telephone_event(&self) -> Option<Format> {
        self.formats
            .iter()
            .copied()
            .find(|f| f.codec == Codec::TelephoneEvent)
    }

    pub fn format_for(&self, codec: Codec) -> Option<Format> {
        self.formats.iter().copied().find(|f| f.codec == codec)
    }
}

/// A description Switchboard sends: one audio stream at its relay address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDescription {
    pub session_id: u64,
    pub version: u64,
    pub address: IpAddr,
    pub port: u16,
    pub formats: Vec<Format>,
    pub direction: Direction,
    pub ptime: u32,
    /// Switchboard's SRTP key for this leg: the audio is encrypted (RTP/SAVP).
    pub crypto: Option<SdesKey>,
}

impl LocalDescription {
    pub fn to_bytes(&self) -> Vec<u8> {
        let ip = match self.address {
            IpAddr::V4(_) => "IP4",
            IpAddr::V6(_) => "IP6",
        };
        let mut s = String::with_capacity(256);
        let types: Vec<String> = self
            .formats
            .iter()
            .map(|f| f.payload_type.to_string())
            .collect();
        // Writing to a String cannot fail.
        let _ = write!(
            s,
            "v=0\r\no=switchboard {} {} IN {ip} {}\r\ns=Switchboard\r\nc=IN {ip} {}\r\nt=0 0\r\n\
             m=audio {} {} {}\r\n",
            self.session_id,
            self.version,
            self.address,
            self.address,
            self.port,
            if self.crypto.is_some() {
                "RTP/SAVP"
            } else {
                "RTP/AVP"
            },
            types.join(" ")
        );
        if let Some(key) = &self.crypto {
            let _ = write!(s, "a=crypto:{}\r\n", key.attribute());
        }
        for f in &self.formats {
            let _ = write!(s, "a=rtpmap:{} {}\r\n", f.payload_type, f.codec.rtpmap());
            if f.codec == Codec::TelephoneEvent {
                let _ = write!(s, "a=fmtp:{} 0-16\r\n", f.payload_type);
            }
        }
        let _ = write!(
            s,
            "a=ptime:{}\r\na={}\r\n",
            self.ptime,
            self.direction.attribute()
        );
        s.into_bytes()
    }
}

/// What Switchboard offers the callee for a caller's offer: the caller's own codecs
/// first (so that the legs can agree and the relay need not transcode), then the
/// others it can transcode to, and telephone events.
pub fn formats_to_offer(caller: &AudioStream) -> Vec<Format> {
    let mut formats: Vec<Format> = caller
        .formats
        .iter()
        .copied()
        .filter(|f| f.codec.is_audio())
        .collect();
    // The caller's own numbers stay theirs, events included.
    let mut taken: Vec<u8> = caller.formats.iter().map(|f| f.payload_type).collect();
    for codec in Codec::AUDIO {
        if !formats.iter().any(|f| f.codec == codec) {
            let format = free_number(&mut taken, Format::default_for(codec));
            formats.push(format);
        }
    }
    let event = caller
        .telephone_event()
        .unwrap_or_else(|| free_number(&mut taken, Format::default_for(Codec::TelephoneEvent)));
    formats.push(event);
    formats
}

/// `formats` limited to the codecs `order` names and sorted as it lists them (a trunk's
/// codec preference), telephone events kept last; an empty `order` keeps them all.
pub fn prefer_codecs(formats: &[Format], order: &[Codec]) -> Vec<Format> {
    if order.is_empty() {
        return formats.to_vec();
    }
    let rank = |codec| order.iter().position(|c| *c == codec);
    let mut kept: Vec<Format> = formats
        .iter()
        .copied()
        .filter(|f| f.codec == Codec::TelephoneEvent || rank(f.codec).is_some())
        .collect();
    kept.sort_by_key(|f| rank(f.codec).unwrap_or(order.len()));
    kept
}

/// `format`, renumbered to a free dynamic payload type when its usual one is `taken`
/// (a phone may use 101 or 111 for something else), and its number marked taken. A
/// static codec keeps its number.
fn free_number(taken: &mut Vec<u8>, mut format: Format) -> Format {
    if format.codec.static_payload_type().is_none()
        && taken.contains(&format.payload_type)
        && let Some(pt) = (96..=127).find(|pt| !taken.contains(pt))
    {
        format.payload_type = pt;
    }
    taken.push(format.payload_type);
    format
}

/// The formats of Switchboard's answer to `offer` once the other leg settled on
/// `chosen`: the same codec when the offer has it (relay as is), otherwise the
/// offer's preferred codec (the relay transcodes). Telephone events if offered.
pub fn formats_to_answer(offer: &AudioStream, chosen: Codec) -> Result<Vec<Format>, SdpError> {
    let audio = offer
        .format_for(chosen)
        .or_else(|| offer.first_audio())
        .ok_or(SdpError::NoCommonCodec)?;
    Ok(std::iter::once(audio)
        .chain(offer.telephone_event())
        .collect())
}

fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut parts = value.split_whitespace();
    let (net, _family, addr) = (parts.next()?, parts.next()?, parts.next()?);
    if net != "IN" {
        return None;
    }
    // Multicast TTL suffixes (`/127`) are not for phones; the address is what matters.
    addr.split('/').next()?.parse().ok()
}

fn parse_media(value: &str) -> Option<Media> {
    let mut parts = value.split_whitespace();
    let kind = parts.next()?.to_string();
    let port = parts.next()?.split('/').next()?.parse().ok()?;
    let proto = parts.next()?.to_string();
    Some(Media {
        kind,
        port,
        proto,
        payload_types: parts.map(str::to_string).collect(),
        connection: None,
        rtpmap: Vec::new(),
        direction: None,
        ptime: None,
        crypto: Vec::new(),
    })
}

fn parse_rtpmap(arg: &str) -> Option<(u8, String, u32)> {
    let (pt, encoding) = arg.trim().split_once(char::is_whitespace)?;
    let mut encoding = encoding.trim().split('/');
    let name = encoding.next()?.to_string();
    let rate = encoding.next()?.parse().ok()?;
    Some((pt.parse().ok()?, name, rate))
}

#[cfg(test)]
mod tests;
