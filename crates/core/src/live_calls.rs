//! The calls in progress, as the wallboard lists them.

use std::time::{Instant, SystemTime};

use crate::Pbx;
use crate::call::Phase;

/// One call in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCall {
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
    pub priority: i32,
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
}

impl Pbx {
    /// Every call not already being torn down, oldest first.
    pub fn live_calls(&self) -> Vec<LiveCall> {
        let mut calls: Vec<LiveCall> = self
            .calls
            .values()
            .filter_map(|call| {
                let stage = match call.phase {
                    Phase::Ringing => CallStage::Ringing,
                    Phase::Answered { .. } => CallStage::Talking,
                    Phase::Queued => CallStage::Queued,
                    Phase::Scenario => CallStage::Menu,
                    Phase::Voicemail => CallStage::Voicemail,
                    Phase::Announcing | Phase::Telling => CallStage::Announcement,
                    Phase::CallingBack { .. } => CallStage::CallingBack,
                    Phase::Ended => return None,
                };
                let queue = call
                    .queue
                    .and_then(|q| self.queue_names.get(q.0 as usize).cloned());
                let talking_to = (stage == CallStage::Talking).then(|| {
                    call.answered_by
                        .clone()
                        .unwrap_or_else(|| call.callee.clone())
                });
                Some(LiveCall {
                    caller: call.caller.clone(),
                    callee: call.callee.clone(),
                    stage,
                    started: call.started_wall,
                    answered: call.answered,
                    queue,
                    talking_to,
                    priority: call.priority,
                })
            })
            .collect();
        calls.sort_by_key(|c| c.started);
        calls
    }
}
