//! An agent as the engine sees them. The person sets their *status* (logged out,
//! available, on a break); the engine keeps their *state* (idle, ringing, on a call,
//! wrapping up, reserved). A call is offered only to an available agent who is idle.

use std::time::{Duration, Instant};

use crate::model::{AgentConfig, CallId, OfferId, QueueId};

/// What the agent said about themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentStatus {
    LoggedOut,
    Available,
    /// On a break, paused by hand or by the engine after missed calls.
    OnBreak {
        reason: String,
    },
}

/// What the agent is doing, as the engine knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    Idle,
    /// Their phone rings with a caller.
    Ringing {
        offer: OfferId,
    },
    /// On a queue call.
    InCall {
        call: CallId,
    },
    /// After a call, until the wrap-up time is over.
    WrapUp {
        until: Instant,
    },
    /// Held free for a callback being placed.
    Reserved {
        call: CallId,
    },
    /// Told a VIP is coming; still on `call` until the VIP takes over.
    Warned {
        call: CallId,
        vip: CallId,
    },
    /// Talking to a VIP while `held` waits on hold for them.
    WithVip {
        vip: CallId,
        held: CallId,
    },
}

/// Counters the strategies rank by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentStats {
    pub calls: u32,
    pub talk_time: Duration,
}

#[derive(Debug)]
pub(crate) struct Agent {
    pub config: AgentConfig,
    pub status: AgentStatus,
    pub state: AgentState,
    /// On a call that did not come from a queue (a direct call to the extension).
    pub busy_elsewhere: bool,
    /// Offers in a row that rang out.
    pub missed_in_a_row: u32,
    /// Declined a call: no offers before this.
    pub resting_until: Option<Instant>,
    /// When the agent last became free (login or end of wrap-up), for longest-idle.
    pub idle_since: Instant,
    /// When the current call was answered.
    pub call_started: Option<Instant>,
    pub stats: AgentStats,
    pub queues: Vec<QueueId>,
}

impl Agent {
    pub fn new(config: AgentConfig, now: Instant) -> Self {
        Agent {
            config,
            status: AgentStatus::LoggedOut,
            state: AgentState::Idle,
            busy_elsewhere: false,
            missed_in_a_row: 0,
            resting_until: None,
            idle_since: now,
            call_started: None,
            stats: AgentStats::default(),
            queues: Vec::new(),
        }
    }

    pub fn is_available(&self) -> bool {
        self.status == AgentStatus::Available
    }

    pub fn is_logged_in(&self) -> bool {
        self.status != AgentStatus::LoggedOut
    }

    /// Can ring now for a queue that does (or does not) ring agents busy elsewhere.
    pub fn is_free(&self, now: Instant, ring_busy: bool) -> bool {
        self.is_available()
            && self.state == AgentState::Idle
            && (ring_busy || !self.busy_elsewhere)
            && self.resting_until.is_none_or(|t| t <= now)
    }
}
