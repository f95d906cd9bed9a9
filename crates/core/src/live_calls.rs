//! The calls in progress, as the wallboard lists them.

use std::time::{Instant, SystemTime};
use switchboard_queue::Priority;

/// One call in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCall {
    /// The engine's name for the call while it lasts, for the panel's actions on it.
    pub id: u64,
    /// The caller's number (the agent's first, for a callback until the customer answers).
    pub caller: String,
    /// The number dialled.
    pub callee: String,
    pub stage: CallStage,
    pub started: SystemTime,
    pub answered: Option<Instant>,
    /// The queue's number, for a queue call.
    pub queue: Option<String>,
    /// Who talks to the caller: the agent who took a queue call, or the callee's
    /// extension.
    pub talking_to: Option<String>,
    /// The caller's queue priority (VIP lists, set-priority blocks).
    pub priority: Priority,
    /// The park slot a parked call waits in.
    pub parked_at: Option<String>,
}

/// Where a call in progress is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStage {
    Ringing,
    Talking,
    /// Waiting in a queue with music.
    Queued,
    /// In a scenario: hearing prompts, typing keys, or held while it rings phones.
    Menu,
    Voicemail,
    /// Hearing why the call cannot go through, or a feature code's answer.
    Announcement,
    /// A queue callback ringing its agent, then the customer.
    CallingBack,
    /// Parked, waiting for someone to take it from its slot.
    Parked,
    /// In a conference room (the callee is the room's number), or on the way in.
    Conference,
    /// A supervisor in another's call (the callee is the code: `*90101`).
    Listening,
}
