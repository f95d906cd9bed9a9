//! What the queue engine asks of the call logic ([`Action`]) and what it records
//! ([`QueueEvent`], persisted as the queue log).

use crate::Priority;
use std::time::Duration;

use crate::model::{AgentId, CallId, OfferId, QueueId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ring the agent's phones with the caller. The engine times the ring out itself
    /// and then sends [`Action::CancelOffer`].
    Offer {
        offer: OfferId,
        call: CallId,
        agent: AgentId,
    },
    /// Stop ringing: another agent answered, the caller left, or the ring timed out.
    CancelOffer { offer: OfferId, agent: AgentId },
    /// The agent answered: play them the whisper, then bridge them to the caller.
    Connect {
        call: CallId,
        agent: AgentId,
        whisper: Whisper,
    },
    /// Play the caller an announcement; music on hold resumes after it.
    Announce {
        call: CallId,
        announcement: Announcement,
    },
    /// The caller leaves the queue and continues to the scenario's next step for
    /// `reason` (overflow, voicemail…).
    Leave { call: CallId, reason: LeaveReason },
    /// Callback: ring the reserved agent (with the whisper), then call the customer
    /// back at `number`, and report with [`crate::Acd::handle_callback_result`].
    PlaceCallback {
        call: CallId,
        agent: AgentId,
        number: String,
        whisper: Whisper,
    },
    /// Tell the agent a VIP caller will take them over after `after`.
    WarnAgent {
        agent: AgentId,
        vip: CallId,
        after: Duration,
    },
    /// The caller `held` hears "please hold" then music; the agent is bridged to `vip`.
    Preempt {
        agent: AgentId,
        held: CallId,
        vip: CallId,
    },
    /// The VIP hung up: bridge the agent back to the held caller.
    Resume { agent: AgentId, held: CallId },
}

/// What the agent hears before the caller is put through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whisper {
    pub queue: String,
    pub waited: Duration,
    pub vip: bool,
    pub callback: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// "You are caller number N" (and "your expected wait is about M minutes").
    Position {
        position: usize,
        estimated_wait: Option<Duration>,
    },
    /// "Your call is important to us, please stay on the line."
    Comfort,
    /// "We will call you back; you keep your place", before the call ends.
    CallbackAccepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The queue holds its maximum of callers.
    Full,
    /// Nobody can answer (join-empty or leave-when-empty).
    Empty,
    /// Waited the queue's maximum.
    Timeout,
    /// Pressed a key that leaves the queue (0: voicemail).
    Key(char),
}

/// Which side ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Caller,
    Agent,
}

/// One line of the queue log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEvent {
    pub queue: Option<QueueId>,
    pub call: Option<CallId>,
    pub agent: Option<AgentId>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Join {
        position: usize,
        priority: Priority,
    },
    RingNoAnswer,
    Declined,
    Connect {
        waited: Duration,
        vip: bool,
    },
    Complete {
        talk: Duration,
        by: Party,
    },
    Abandon {
        waited: Duration,
        position: usize,
    },
    Exit {
        reason: LeaveReason,
        waited: Duration,
    },
    CallbackRequested,
    CallbackPlaced {
        attempt: u32,
    },
    CallbackCompleted,
    CallbackFailed {
        attempts: u32,
    },
    /// The agent was warned that the VIP will take them over.
    PreemptWarned {
        vip: CallId,
    },
    /// The VIP took the agent; `held` waits on hold.
    Preempt {
        vip: CallId,
        held: CallId,
    },
    /// The agent is back with the held caller.
    Resume {
        held: CallId,
    },
    /// The held caller is offered back to the agent who hung up on the VIP.
    OfferedBack,
    Login,
    Logout,
    Pause {
        reason: String,
    },
    Unpause,
}
