//! What the engine tells the store: one call record per call attempt (written when the
//! attempt ends, opened when it begins), the queue log, and voicemail changes.

use std::time::{Duration, SystemTime};
use switchboard_queue::Priority;

use switchboard_queue::EventKind;

/// How a call attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Answered,
    /// The callee was busy or declined.
    Busy,
    /// Nobody answered before the ring timeout.
    NoAnswer,
    /// The caller hung up before an answer.
    Cancelled,
    /// Anything else: unknown number, nobody registered, no common codec, errors.
    Failed,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::Busy => "busy",
            Disposition::NoAnswer => "no-answer",
            Disposition::Cancelled => "cancelled",
            Disposition::Failed => "failed",
        }
    }
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// A call that began: kept until its record is written, so that a call cut by a crash
/// or a kill is still in the call log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOpened {
    /// The engine's number for the call; its record names it in `opened`.
    pub call: crate::CallKey,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub started: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The caller's Call-ID, which ties the record to SIP traces.
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub started: SystemTime,
    pub answered: Option<SystemTime>,
    pub ended: SystemTime,
    pub disposition: Disposition,
    pub hangup_by: HangupBy,
    pub caller_codec: Option<&'static str>,
    pub callee_codec: Option<&'static str>,
    /// The final SIP status the caller got (200 for answered calls).
    pub sip_code: u16,
    pub reason: String,
    /// The queue (its number) the caller dialled.
    pub queue: Option<String>,
    /// The agent (extension) a queue put the caller through to.
    pub answered_by: Option<String>,
    /// The caller's priority in the queue (a VIP list's); 0 for everyone else.
    pub priority: Priority,
    /// The caller was put on hold while their agent took a VIP call.
    pub preempted: bool,
    /// The blocks the call passed in its scenario, and why any failed.
    pub scenario_path: Option<String>,
    /// The call this record closes ([`CallOpened`]); none for a call refused at once.
    pub opened: Option<crate::CallKey>,
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
