//! TCP input arrives in arbitrary pieces: framing must never panic or loop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_sip::framing::{Frame, StreamFramer};

fuzz_target!(|data: &[u8]| {
    let mut framer = StreamFramer::default();
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    for piece in [&data[..split], &data[split..]] {
        framer.push(piece);
        while let Ok(Some(frame)) = framer.next_frame() {
            if let Frame::Message(bytes) = frame {
                let _ = switchboard_sip::message::parse(&bytes);
            }
        }
    }
});
