//! Agents: what they say about themselves (status), registration following, calls
//! outside the queues, and wrap-up after a call.

use std::time::{Duration, Instant};

use super::{Acd, Timer};
use crate::agent::{AgentState, AgentStatus};
use crate::model::{AgentId, QueueId};
use crate::output::{Action, EventKind};

impl Acd {
    /// The agent logs in, takes a break or logs out.
    pub fn handle_status(&mut self, now: Instant, agent: AgentId, status: AgentStatus) {
        self.set_status(now, agent, status);
        self.dispatch(now);
    }

    /// The agent's extension registered or lost its last registration; followed only by
    /// agents configured to.
    pub fn handle_registration(&mut self, now: Instant, agent: AgentId, registered: bool) {
        let a = self.agent(agent);
        if !a.config.follows_registration {
            return;
        }
        match (registered, &a.status) {
            (true, AgentStatus::LoggedOut) => self.set_status(now, agent, AgentStatus::Available),
            (false, AgentStatus::Available | AgentStatus::OnBreak { .. }) => {
                self.set_status(now, agent, AgentStatus::LoggedOut);
            }
            _ => {}
        }
        self.dispatch(now);
    }

    /// The agent's phone is on a call that did not come from a queue, or no longer is.
    pub fn handle_agent_busy(&mut self, now: Instant, agent: AgentId, busy: bool) {
        self.agent_mut(agent).busy_elsewhere = busy;
        self.dispatch(now);
    }

    pub(crate) fn set_status(&mut self, now: Instant, agent: AgentId, status: AgentStatus) {
        let a = self.agent_mut(agent);
        let before = std::mem::replace(&mut a.status, status.clone());
        if before == status {
            return;
        }
        let mut kinds = Vec::new();
        match (&before, &status) {
            (AgentStatus::LoggedOut, _) => {
                kinds.push(EventKind::Login);
                if let AgentStatus::OnBreak { reason } = &status {
                    kinds.push(EventKind::Pause {
                        reason: reason.clone(),
                    });
                }
            }
            (_, AgentStatus::LoggedOut) => kinds.push(EventKind::Logout),
            (_, AgentStatus::OnBreak { reason }) => kinds.push(EventKind::Pause {
                reason: reason.clone(),
            }),
            (AgentStatus::OnBreak { .. }, AgentStatus::Available) => kinds.push(EventKind::Unpause),
            _ => {}
        }
        if status == AgentStatus::Available {
            a.missed_in_a_row = 0;
            if a.state == AgentState::Idle {
                a.idle_since = now;
            }
        }
        // A phone still ringing for someone who just left stops.
        if let AgentState::Ringing { offer } = a.state
            && status != AgentStatus::Available
        {
            a.state = AgentState::Idle;
            if let Some(o) = self.offers.remove(&offer) {
                if let Some(c) = self.callers.get_mut(&o.call) {
                    c.offers.retain(|x| *x != offer);
                }
                self.act(Action::CancelOffer { offer, agent });
            }
        }
        for kind in kinds {
            self.log(None, None, Some(agent), kind);
        }
        if status != AgentStatus::Available {
            for queue in self.agent(agent).queues.clone() {
                self.leave_if_empty(now, queue);
            }
        }
    }

    /// After a call the agent rests for the wrap-up time (the agent's own, else the
    /// queue's); the queue learns how long the call took to handle.
    pub(crate) fn wrap_up(&mut self, now: Instant, queue: QueueId, agent: AgentId, talk: Duration) {
        let q = self.queue(queue);
        let a = self.agent(agent);
        let wrap = a.config.wrap_up.unwrap_or(q.config.wrap_up);
        self.queue_mut(queue).handle.record(talk + wrap);
        let a = self.agent_mut(agent);
        if wrap.is_zero() {
            a.state = AgentState::Idle;
            a.idle_since = now;
        } else {
            let until = now + wrap;
            a.state = AgentState::WrapUp { until };
            self.schedule(until, Timer::WrapUp(agent));
        }
    }

    pub(crate) fn wrap_up_over(&mut self, now: Instant, agent: AgentId, at: Instant) {
        let a = self.agent_mut(agent);
        if a.state == (AgentState::WrapUp { until: at }) {
            a.state = AgentState::Idle;
            a.idle_since = now;
        }
    }
}
