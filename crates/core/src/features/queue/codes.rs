//! Numbers an agent dials to change their own status, and what they are told.

use switchboard_media::relay::Side;
use switchboard_queue::AgentStatus;

use super::Queues;
use crate::features::{Ctx, Handoff};
use crate::record::Outcome;
use crate::vocabulary::{Announcement, CallKey};

/// The longest a feature code's answer may take to be said before Switchboard hangs up.
const TELLING_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Numbers an agent dials to change their own status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureCode {
    /// Log in to the queues, or out (`*45`).
    LogInOut,
    /// Take a break, or end it (`*46`).
    Break,
}

impl Queues {
    /// An agent dialled a feature code: their status changes and they are told.
    pub fn feature_code(&mut self, cx: &mut Ctx<'_>, key: CallKey, code: FeatureCode) {
        let now = cx.now;
        let Some(call) = cx.legs.calls.get(&key) else {
            return;
        };
        let Some(agent) = self.acd.agent_by_extension(&call.caller) else {
            let what = Announcement::NoSuchNumber;
            let failed = Outcome::Failed;
            return cx
                .legs
                .announce_failure(now, key, 404, "Not a queue agent", failed, what);
        };
        let break_reason = || AgentStatus::OnBreak {
            reason: "break (*46)".into(),
        };
        let (status, tell) = match (code, self.acd.agent_status(agent)) {
            (FeatureCode::LogInOut, AgentStatus::LoggedOut) => {
                (AgentStatus::Available, Announcement::AgentLoggedIn)
            }
            (FeatureCode::LogInOut, _) => (AgentStatus::LoggedOut, Announcement::AgentLoggedOut),
            (FeatureCode::Break, AgentStatus::Available) => {
                (break_reason(), Announcement::AgentOnBreak)
            }
            (FeatureCode::Break, AgentStatus::OnBreak { .. }) => {
                (AgentStatus::Available, Announcement::AgentBack)
            }
            (FeatureCode::Break, AgentStatus::LoggedOut) => {
                (AgentStatus::LoggedOut, Announcement::AgentLoggedOut)
            }
        };
        self.acd.handle_status(now, agent, status);
        self.run(cx);
        if let Some(caller) = cx.legs.answer_alone(now, key) {
            cx.legs.mark_answered(now, key, None);
            cx.legs
                .announce(now, key, Side::A, caller, tell, TELLING_LIMIT);
            cx.hand_off(Handoff::Tell {
                call: key,
                reason: "Told".into(),
            });
        }
    }
}
