//! Switchboard's media toolkit, sans-IO: RTP packets, SDP offer/answer, the G.711
//! codecs, RFC 4733 telephone events and the relay that anchors one call's audio.
//!
//! Nothing here touches a socket or reads a clock; the server feeds packets in and
//! sends what comes out.

pub mod call_recording;
pub mod codec;
pub mod conference;
pub mod dtmf;
pub mod dtmf_detect;
pub mod g711;
pub mod jitter;
pub mod message_recorder;
pub mod mixer;
pub mod playback;
pub mod prompt;
pub mod recorder;
pub mod relay;
pub mod rtcp;
pub mod rtp;
pub mod sdp;
pub mod srtp;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod tones;
pub mod transcode;
