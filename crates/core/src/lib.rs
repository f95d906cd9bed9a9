//! Switchboard's call logic, sans-IO: a back-to-back user agent that answers each
//! caller itself, calls every registered phone of the callee, bridges the first that
//! answers and anchors the audio of both legs, then writes one call record per attempt.
//!
//! Three layers: [`legs`] owns every call's SIP and media legs and knows no feature;
//! [`features`] (queues, scenarios, voicemail, message waiting) each own their per-call
//! state and act through the legs' verbs; the [`Pbx`] engine composes them and is the
//! one place that dispatches. They all speak the [`vocabulary`] to the edges.

mod engine;
mod feature_codes;
mod features;
mod legs;
mod live_calls;
pub mod numbers;
mod outbound;
mod record;
mod recording;
mod trunks;
mod vocabulary;

pub use engine::{CallActionError, Pbx};
pub use feature_codes::{FeatureCodes, PARK_SLOTS};
pub use features::conference::ConferenceRoom;
pub use features::key_transfer::DEFAULT_ATTENDED_CODE as DEFAULT_ATTENDED_TRANSFER_CODE;
pub use features::key_transfer::DEFAULT_CODE as DEFAULT_TRANSFER_CODE;
pub use features::queue::codes::FeatureCode;
pub use features::queue::{CallbackChange, PendingCallback, QueueSetup};
pub use features::scenario::ScenarioSetup;
pub use features::supervise::How as Supervise;
pub use features::voicemail::menu::pin_hash;
pub use legs::{PbxConfig, PortReserve, TrunkMedia};
pub use live_calls::{CallStage, LiveCall};
pub use outbound::{CallClass, DialPattern, OutAlert, OutboundRoute, OutboundRules, PatternError};
pub use record::{
    CallAnswered, CallOpened, CallRecord, Direction, HangupBy, Outcome, QueueEventRecord,
    VoicemailChange, VoicemailMessage, unix_ms,
};
pub use recording::{
    DEFAULT_RECORD_CODE, RecordPolicy, RecordingRules, file_name as recording_file_name,
};
pub use trunks::{CalledFrom, CallerFrom, CallsIn, TrunkSetup, TrunkStatus};
pub use vocabulary::{
    Announcement, CallKey, Clock, MediaCommand, MessageCounts, Output, RecordInto, RecordLimits,
    RoomPart, Sound, Waiting, Word,
};

#[cfg(test)]
mod tests;
