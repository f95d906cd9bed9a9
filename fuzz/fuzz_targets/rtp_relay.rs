//! Whatever arrives on a call's RTP port goes through the relay: it is forwarded,
//! translated or dropped, never a panic, and never leaks into the other leg unless it
//! is valid RTP of the negotiated formats. The first byte picks the legs' codecs, so
//! the G.722 and Opus decoders see arbitrary payloads too.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard_media::codec::{Codec, Format};
use switchboard_media::relay::{LegMedia, MAX_PACKET, Relay, Side};
use switchboard_media::rtp::RtpHeader;

fuzz_target!(|data: &[u8]| {
    let Some((&codecs, data)) = data.split_first() else {
        return;
    };
    let codec = |n: u8| Codec::AUDIO[usize::from(n) % Codec::AUDIO.len()];
    let leg = |port: u16, codec: Codec, events: bool| LegMedia {
        remote: ([10, 0, 0, 1], port).into(),
        signalling: [10, 0, 0, 1].into(),
        srtp: None,
        audio: Format::default_for(codec),
        events: events.then(|| Format::default_for(Codec::TelephoneEvent)),
    };
    let mut relay = Relay::new(
        leg(4000, codec(codecs), true),
        leg(5000, codec(codecs >> 4), false),
        [1, 2],
        [3, 4],
    );
    let t0 = Instant::now();
    // The input is a series of packets, each prefixed with its length and a side.
    let mut rest = data;
    let mut i = 0u64;
    while rest.len() >= 2 {
        let (len, side) = (rest[0] as usize, rest[1]);
        rest = &rest[2..];
        let len = len.min(rest.len());
        let mut packet = [0u8; MAX_PACKET];
        packet[..len].copy_from_slice(&rest[..len]);
        rest = &rest[len..];
        let side = if side & 1 == 0 { Side::A } else { Side::B };
        let from = ([10, 0, 0, 1], if side == Side::A { 4000 } else { 5000 }).into();
        let now = t0 + Duration::from_millis(20 * i);
        if let Ok(out) = relay.handle_rtp(now, side, from, &mut packet, len) {
            assert!(RtpHeader::parse(&packet[..out.len]).is_ok());
        }
        while relay.poll_emit(now).is_some() {}
        while relay.poll_event().is_some() {}
        i += 1;
    }
});
