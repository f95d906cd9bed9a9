//! Whatever arrives on a call's RTP port goes through the relay: it is forwarded,
//! translated or dropped, never a panic, and never leaks into the other leg unless it
//! is valid RTP of the negotiated formats.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use switchboard_media::codec::{Codec, Format};
use switchboard_media::relay::{LegMedia, Relay, Side};
use switchboard_media::rtp::RtpHeader;

fuzz_target!(|data: &[u8]| {
    let leg = |port: u16, codec: Codec, events: bool| LegMedia {
        remote: ([10, 0, 0, 1], port).into(),
        audio: Format::default_for(codec),
        events: events.then(|| Format::default_for(Codec::TelephoneEvent)),
    };
    let mut relay = Relay::new(
        leg(4000, Codec::Pcmu, true),
        leg(5000, Codec::Pcma, false),
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
        let mut packet = rest[..len.min(rest.len())].to_vec();
        rest = &rest[packet.len()..];
        let side = if side & 1 == 0 { Side::A } else { Side::B };
        let from = ([10, 0, 0, 1], if side == Side::A { 4000 } else { 5000 }).into();
        let now = t0 + Duration::from_millis(20 * i);
        if relay.handle_rtp(now, side, from, &mut packet).is_ok() {
            assert!(RtpHeader::parse(&packet).is_ok());
        }
        while relay.poll_emit(now).is_some() {}
        while relay.poll_event().is_some() {}
        i += 1;
    }
});
