//! One call record per call attempt, written when the attempt ends.

use std::time::SystemTime;

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
    pub call: crate::pbx::CallKey,
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
    pub priority: i32,
    /// The caller was put on hold while their agent took a VIP call.
    pub preempted: bool,
    /// The blocks the call passed in its scenario, and why any failed.
    pub scenario_path: Option<String>,
    /// The call this record closes ([`CallOpened`]); none for a call refused at once.
    pub opened: Option<crate::pbx::CallKey>,
}
