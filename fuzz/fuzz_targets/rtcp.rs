//! Any datagram on an RTCP port parses or is refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = switchboard_media::rtcp::parse_compound(data);
});
