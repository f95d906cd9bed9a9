//! VIP preemption. A caller in a priority queue who finds every agent busy takes one:
//! the agent (picked by the queue's strategy among those on ordinary queue calls) is
//! warned, and after the queue's delay their caller hears "please hold" and music while
//! the agent talks to the VIP. When the VIP hangs up, the agent is bridged back; when
//! the agent hangs up, the held caller is offered to that agent before anyone else.
//! An agent who finishes their call during the delay is simply offered the VIP.

use std::time::Instant;

use super::{Acd, CallerState, Timer, waited};
use crate::agent::AgentState;
use crate::model::{AgentId, CallId, QueueId};
use crate::output::{Action, EventKind, Party};
use crate::strategy::Candidate;

impl Acd {
    /// Warns one busy agent for each VIP caller that no free agent can take.
    pub(crate) fn preempt_for_vips(&mut self, now: Instant, queue: QueueId) {
        let Some(policy) = self.queue(queue).config.vip else {
            return;
        };
        if !self.free_members(queue, now).is_empty() {
            return;
        }
        let waiting: Vec<CallId> = self.queue(queue).waiting.values().copied().collect();
        for call in waiting {
            let c = &self.callers[&call];
            if c.state != CallerState::Waiting || !c.offers.is_empty() || c.vip_target.is_some() {
                continue;
            }
            let mut candidates = self.preemptable(queue);
            if candidates.is_empty() {
                return;
            }
            let q = &self.queues[queue.0 as usize];
            q.config
                .strategy
                .rank(&mut candidates, 1, &q.memory, &mut self.rng);
            let agent = candidates[0].agent;
            let AgentState::InCall { call: current } = self.agent(agent).state else {
                continue;
            };
            self.agent_mut(agent).state = AgentState::Warned {
                call: current,
                vip: call,
            };
            if let Some(c) = self.callers.get_mut(&call) {
                c.vip_target = Some(agent);
            }
            self.log(
                Some(queue),
                Some(call),
                Some(agent),
                EventKind::PreemptWarned { vip: call },
            );
            self.act(Action::WarnAgent {
                agent,
                vip: call,
                after: policy.delay,
            });
            if policy.delay.is_zero() {
                self.vip_delay_over(now, agent);
            } else {
                self.schedule(now + policy.delay, Timer::Vip(agent));
            }
        }
    }

    /// Members on an ordinary (not VIP) queue call, available, not already warned.
    fn preemptable(&self, queue: QueueId) -> Vec<Candidate> {
        let q = self.queue(queue);
        q.members
            .iter()
            .enumerate()
            .filter_map(|(position, m)| {
                let a = self.agent(m.agent);
                let AgentState::InCall { call } = a.state else {
                    return None;
                };
                let ordinary = self
                    .callers
                    .get(&call)
                    .is_some_and(|c| self.queue(c.queue).config.vip.is_none());
                (ordinary && a.is_available()).then_some(Candidate {
                    agent: m.agent,
                    position,
                    weight: m.membership.weight,
                    idle_since: a.idle_since,
                    stats: a.stats,
                })
            })
            .collect()
    }

    /// The delay is over and the agent is still on their call: the VIP takes over.
    pub(crate) fn vip_delay_over(&mut self, now: Instant, agent: AgentId) {
        let AgentState::Warned { call: held, vip } = self.agent(agent).state else {
            return;
        };
        let Some((queue, joined)) = self.take_from_queue(vip, agent) else {
            return;
        };
        if let Some(h) = self.callers.get_mut(&held) {
            h.state = CallerState::Held { agent, since: now };
        }
        self.end_talk(now, agent);
        self.start_call(now, queue, vip, agent, joined);
        self.agent_mut(agent).state = AgentState::WithVip { vip, held };
        self.log(
            Some(queue),
            Some(vip),
            Some(agent),
            EventKind::Preempt { vip, held },
        );
        self.act(Action::Preempt { agent, held, vip });
        self.positions_changed(now, queue);
    }

    /// A VIP that no longer needs its warned agent (it left, or another agent took
    /// it) lets the agent carry on undisturbed.
    pub(crate) fn release_vip_target(&mut self, vip: CallId) {
        let Some(agent) = self.callers.get_mut(&vip).and_then(|c| c.vip_target.take()) else {
            return;
        };
        if let AgentState::Warned { call, vip: v } = self.agent(agent).state
            && v == vip
        {
            self.agent_mut(agent).state = AgentState::InCall { call };
        }
    }

    /// The warned agent's call ended before the delay: the VIP goes to them next,
    /// without wrap-up.
    pub(crate) fn warned_agent_freed(&mut self, agent: AgentId, vip: CallId) {
        let a = self.agent_mut(agent);
        a.state = AgentState::Idle;
        if let Some(v) = self.callers.get_mut(&vip) {
            v.vip_target = None;
            v.preferred = Some(agent);
        }
    }

    /// The VIP call ended. If the VIP hung up, the agent is bridged back to the held
    /// caller; if the agent did, the held caller is offered to them again first.
    pub(crate) fn vip_call_ended(&mut self, now: Instant, agent: AgentId, held: CallId, by: Party) {
        let Some(h) = self.callers.get_mut(&held) else {
            self.agent_mut(agent).state = AgentState::Idle;
            return;
        };
        let queue = h.queue;
        match by {
            Party::Caller => {
                h.state = CallerState::Connected { agent };
                let a = self.agent_mut(agent);
                a.state = AgentState::InCall { call: held };
                a.call_started = Some(now);
                self.log(
                    Some(queue),
                    Some(held),
                    Some(agent),
                    EventKind::Resume { held },
                );
                self.act(Action::Resume { agent, held });
            }
            Party::Agent => {
                h.state = CallerState::Waiting;
                h.preferred = Some(agent);
                h.tried.clear();
                h.next_round = None;
                let place = h.place;
                self.queue_mut(queue).waiting.insert(place, held);
                let a = self.agent_mut(agent);
                a.state = AgentState::Idle;
                a.idle_since = now;
                self.log(Some(queue), Some(held), Some(agent), EventKind::OfferedBack);
            }
        }
    }

    /// The caller on hold for a VIP hung up; the agent stays with the VIP.
    pub(crate) fn held_caller_left(
        &mut self,
        now: Instant,
        held: CallId,
        agent: AgentId,
        since: Instant,
    ) {
        let Some(caller) = self.callers.remove(&held) else {
            return;
        };
        self.queue_mut(caller.queue).counters.abandoned += 1;
        self.log(
            Some(caller.queue),
            Some(held),
            Some(agent),
            EventKind::Abandon {
                waited: waited(now, since),
                position: 0,
            },
        );
        if let AgentState::WithVip { vip, .. } = self.agent(agent).state {
            self.agent_mut(agent).state = AgentState::InCall { call: vip };
        }
    }
}
