//! Switchboard's call logic, sans-IO: a back-to-back user agent that answers each
//! caller itself, calls every registered phone of the callee, bridges the first that
//! answers and anchors the audio of both legs, then writes one call record per attempt.
//!
//! [`Pbx`] wraps the SIP endpoint (registrar, digest auth, transactions) and follows the
//! crate-wide loop: feed `handle_datagram` / `handle_timeout` / `handle_media_failed`,
//! drain `poll_output` until `None`, sleep until `poll_timeout`.

mod call;
mod callbacks;
mod ids;
mod in_dialog;
mod live_calls;
mod mwi;
pub mod numbers;
mod outcome;
mod pbx;
mod ports;
mod queue_calls;
mod record;
mod scenario_calls;
mod setup;
mod vip_calls;
mod voicemail;
mod voicemail_menu;

pub use live_calls::{CallStage, LiveCall};
pub use pbx::{Announcement, CallKey, Clock, MediaCommand, Output, Pbx, PbxConfig, Waiting, Word};
pub use queue_calls::{FeatureCode, QueueEventRecord, QueueSetup};
pub use record::{CallOpened, CallRecord, Disposition, HangupBy};
pub use scenario_calls::ScenarioSetup;
pub use voicemail::{
    MessageCounts, RecordInto, RecordLimits, Sound, VoicemailChange, VoicemailMessage,
};
pub use voicemail_menu::pin_hash;

#[cfg(test)]
mod tests;
