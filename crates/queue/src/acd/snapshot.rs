//! The live picture a wallboard shows: per queue, who waits and for how long, what the
//! agents are doing, and the service level so far.

use std::time::{Duration, Instant};

use super::{Acd, CallerState, waited};
use crate::agent::{AgentState, AgentStatus};
use crate::model::QueueId;

#[derive(Debug, Clone, PartialEq)]
pub struct QueueSnapshot {
    pub queue: QueueId,
    pub name: String,
    /// Callers on the line waiting.
    pub waiting: usize,
    /// Callback requests keeping their places.
    pub callbacks: usize,
    pub longest_wait: Duration,
    pub agents: AgentCounts,
    pub answered: u32,
    pub abandoned: u32,
    /// The share of answered calls answered within the queue's service-level time.
    pub service_level: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCounts {
    pub logged_in: usize,
    pub on_break: usize,
    pub idle: usize,
    pub ringing: usize,
    pub on_call: usize,
    pub wrap_up: usize,
}

/// What one agent does, for the wallboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSnapshot {
    pub extension: String,
    pub activity: Activity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    LoggedOut,
    OnBreak { reason: String },
    Idle,
    Ringing,
    OnCall,
    WrapUp,
}

impl Acd {
    /// Every agent, in the order they were set up.
    pub fn agent_snapshots(&self) -> Vec<AgentSnapshot> {
        self.agents
            .iter()
            .map(|a| AgentSnapshot {
                extension: a.config.extension.clone(),
                activity: match (&a.status, a.state) {
                    (AgentStatus::LoggedOut, _) => Activity::LoggedOut,
                    (_, AgentState::Ringing { .. } | AgentState::Reserved { .. }) => {
                        Activity::Ringing
                    }
                    (
                        _,
                        AgentState::InCall { .. }
                        | AgentState::Warned { .. }
                        | AgentState::WithVip { .. },
                    ) => Activity::OnCall,
                    (_, AgentState::WrapUp { .. }) => Activity::WrapUp,
                    (AgentStatus::OnBreak { reason }, AgentState::Idle) => Activity::OnBreak {
                        reason: reason.clone(),
                    },
                    (AgentStatus::Available, AgentState::Idle) => Activity::Idle,
                },
            })
            .collect()
    }

    pub fn snapshot(&self, now: Instant) -> Vec<QueueSnapshot> {
        (0..self.queues.len())
            .map(|i| self.queue_snapshot(now, QueueId(i as u32)))
            .collect()
    }

    fn queue_snapshot(&self, now: Instant, queue: QueueId) -> QueueSnapshot {
        let q = self.queue(queue);
        let (mut waiting, mut callbacks, mut longest) = (0, 0, Duration::ZERO);
        for call in q.waiting.values() {
            let c = &self.callers[call];
            match c.state {
                CallerState::Waiting => {
                    waiting += 1;
                    longest = longest.max(waited(now, c.joined));
                }
                CallerState::Callback { .. } => callbacks += 1,
                _ => {}
            }
        }
        let mut agents = AgentCounts::default();
        for m in &q.members {
            let a = self.agent(m.agent);
            if !a.is_logged_in() {
                continue;
            }
            agents.logged_in += 1;
            if matches!(a.status, AgentStatus::OnBreak { .. }) {
                agents.on_break += 1;
            }
            match a.state {
                AgentState::Idle => agents.idle += 1,
                AgentState::Ringing { .. } | AgentState::Reserved { .. } => agents.ringing += 1,
                AgentState::InCall { .. }
                | AgentState::Warned { .. }
                | AgentState::WithVip { .. } => {
                    agents.on_call += 1;
                }
                AgentState::WrapUp { .. } => agents.wrap_up += 1,
            }
        }
        let c = &q.counters;
        QueueSnapshot {
            queue,
            name: q.config.name.clone(),
            waiting,
            callbacks,
            longest_wait: longest,
            agents,
            answered: c.answered,
            abandoned: c.abandoned,
            service_level: (c.answered > 0)
                .then(|| f64::from(c.answered_in_time) / f64::from(c.answered)),
        }
    }
}
