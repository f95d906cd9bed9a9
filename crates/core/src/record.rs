//! What the engine tells the store: one call record per call attempt (written when the
//! attempt ends, opened when it begins), the queue log, and voicemail changes.

use std::time::{Duration, SystemTime};
use switchboard_queue::Priority;

use serde::{Deserialize, Serialize};
use switchboard_queue::EventKind;

/// How a call attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Answered,
    /// The callee was busy or declined.
    Busy,
    /// Nobody answered before the ring timeout.
    NoAnswer,
    /// The caller hung up before an answer.
    Cancelled,
    /// Anything else: unknown number, nobody registered, no common codec, errors.
    Failed,
    /// Cut when Switchboard stopped (a crash, a kill, a power cut) during the call;
    /// found at the next start, never said by the engine.
    Interrupted,
}

impl Outcome {
    const ALL: [Outcome; 6] = [
        Outcome::Answered,
        Outcome::Busy,
        Outcome::NoAnswer,
        Outcome::Cancelled,
        Outcome::Failed,
        Outcome::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no-answer",
            Outcome::Cancelled => "cancelled",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// The outcome [`Outcome::as_str`] wrote; anything else reads as a failure.
    pub fn from_stored(word: &str) -> Outcome {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == word)
            .unwrap_or(Outcome::Failed)
    }
}

/// Which way a call went: between the office's own phones, in from a trunk, or out
/// through one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    #[default]
    Internal,
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Internal => "internal",
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    /// The direction [`Direction::as_str`] wrote; anything else reads as internal.
    pub fn from_stored(word: &str) -> Direction {
        match word {
            "inbound" => Direction::Inbound,
            "outbound" => Direction::Outbound,
            _ => Direction::Internal,
        }
    }
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum HangupBy {
    Caller,
    Callee,
    /// Switchboard: timeouts, failures, shutdown.
    System,
}

impl HangupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            HangupBy::Caller => "caller",
            HangupBy::Callee => "callee",
            HangupBy::System => "system",
        }
    }

    /// The side [`HangupBy::as_str`] wrote; anything else reads as Switchboard.
    pub fn from_stored(word: &str) -> HangupBy {
        match word {
            "caller" => HangupBy::Caller,
            "callee" => HangupBy::Callee,
            _ => HangupBy::System,
        }
    }
}

/// A call that began: kept until its record is written, so that a call cut by a crash
/// or a kill is still in the call log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOpened {
    /// The engine's number for the call; the output with its record names it.
    pub call: crate::CallKey,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub started: SystemTime,
    /// The trunk it came in from.
    pub trunk: Option<String>,
}

/// A person answered a call for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAnswered {
    /// The engine's number for the call, as [`CallOpened`] told it.
    pub call: crate::CallKey,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// The extension (or the number called out) that answered.
    pub answered_by: Option<String>,
    pub answered: SystemTime,
}

/// One call attempt, as the engine writes it, the store keeps it and the API and the
/// call log's export show it. Times are unix milliseconds outside Rust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallRecord {
    /// The caller's Call-ID, which ties the record to SIP traces.
    pub call_id: String,
    /// The caller's number: an extension, or a customer's number (normalised, or
    /// "anonymous") for a call from a trunk.
    pub caller: String,
    /// The number dialled: an extension, a queue, a code, or the office's number (DID)
    /// a customer called.
    pub callee: String,
    pub direction: Direction,
    /// The trunk the call came in from or went out through.
    pub trunk: Option<String>,
    #[serde(rename = "started_at", serialize_with = "unix_ms::write")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub started: SystemTime,
    #[serde(rename = "answered_at", serialize_with = "unix_ms::write_some")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub answered: Option<SystemTime>,
    #[serde(rename = "ended_at", serialize_with = "unix_ms::write")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub ended: SystemTime,
    pub outcome: Outcome,
    pub hangup_by: HangupBy,
    pub caller_codec: Option<String>,
    pub callee_codec: Option<String>,
    /// The final SIP status the caller got (200 for answered calls).
    pub sip_code: u16,
    pub reason: String,
    /// The queue (its number) the caller dialled.
    pub queue: Option<String>,
    /// The agent (extension) a queue put the caller through to.
    pub answered_by: Option<String>,
    /// The caller's queue priority (a VIP list's or a scenario's); 0 for everyone else.
    #[serde(serialize_with = "write_priority")]
    #[cfg_attr(feature = "openapi", schema(value_type = i32))]
    pub priority: Priority,
    /// The caller was put on hold while their agent took a VIP call.
    pub preempted: bool,
    /// The blocks the call passed in its scenario, and why any failed.
    pub scenario_path: Option<String>,
    /// Transfers and who answered after them, each with its minutes and seconds
    /// since the call started.
    pub history: Option<String>,
    /// The call's recording (a file name in the recordings' folder), if it was
    /// recorded and the recording is still kept.
    pub recording: Option<String>,
}

fn write_priority<S: serde::Serializer>(p: &Priority, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_i32(p.0)
}

/// Times as unix milliseconds, as the store keeps them and the API shows them.
pub mod unix_ms {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub fn from(t: SystemTime) -> i64 {
        t.duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn to(ms: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }

    pub(super) fn write<S: serde::Serializer>(t: &SystemTime, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_i64(from(*t))
    }

    pub(super) fn write_some<S: serde::Serializer>(
        t: &Option<SystemTime>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => to.serialize_some(&from(*t)),
            None => to.serialize_none(),
        }
    }
}

/// One line of the queue log, with the names the office knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEventRecord {
    pub at: SystemTime,
    /// The queue's number.
    pub queue: Option<String>,
    /// The caller's Call-ID.
    pub call_id: Option<String>,
    /// The agent's extension.
    pub agent: Option<String>,
    pub vip: bool,
    pub kind: EventKind,
}

/// One message in a box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailMessage {
    /// Unique across boxes; names the message's audio file.
    pub id: i64,
    pub mailbox: String,
    pub caller: String,
    pub received: SystemTime,
    pub duration: Duration,
    pub heard: bool,
}

/// A change to the boxes, for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoicemailChange {
    Left(VoicemailMessage),
    Heard {
        id: i64,
        heard: bool,
    },
    /// The message and its audio are gone.
    Deleted {
        mailbox: String,
        id: i64,
    },
}
