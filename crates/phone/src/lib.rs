//! The phone in Switchboard's window: a SIP user agent that registers to an office's
//! Switchboard like any desk phone (digest auth, the same rules), answers and makes
//! calls on two lines, holds, sends keys and transfers, and carries each call's audio
//! between RTP and 20-ms frames of linear PCM.
//!
//! Sans-IO, in the shape of the rest of the engine: feed it with
//! [`Phone::handle_datagram`], [`Phone::handle_timeout`] and one microphone frame per
//! 20 ms through [`Phone::exchange_audio`]; act on it with its commands (dial, answer,
//! hang up …); after each, drain [`Phone::poll_transmit`] and [`Phone::poll_event`],
//! and sleep until [`Phone::poll_timeout`]. Sockets and the sound device live at the
//! edge (the desktop shell), which hands this crate nothing but bytes, frames and time.

mod action;
mod call_audio;
mod config;
#[cfg(feature = "edge")]
pub mod edge;
mod incoming;
mod line;
mod outgoing;
mod phone;

pub use action::Action;
pub use config::PhoneConfig;
pub use line::{Direction, EndReason, LineId, LineInfo, LineState, Party, RecentCall};
pub use phone::{Datagram, Phone, PhoneError, PhoneEvent, SignIn, Socket};

/// The rate of the PCM the phone takes from the microphone and gives the speaker.
pub const PCM_RATE: u32 = 48_000;
/// Samples in one 20-ms frame at [`PCM_RATE`].
pub const FRAME_SAMPLES: usize = (PCM_RATE / 50) as usize;

#[cfg(test)]
mod tests;
