//! Any INVITE body parses or is refused with a reason, and what parses negotiates
//! without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_media::codec::Codec;
use switchboard_media::sdp::{SessionDescription, formats_to_answer, formats_to_offer};

fuzz_target!(|data: &[u8]| {
    if let Ok(audio) = SessionDescription::parse(data).and_then(|s| s.audio()) {
        let _ = formats_to_offer(&audio);
        let _ = formats_to_answer(&audio, Codec::Pcma);
    }
});
