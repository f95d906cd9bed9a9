//! Callers: joining, waiting with announcements, leaving by key, timeout or emptiness,
//! hanging up, and the end of their call with an agent.

use crate::Priority;
use std::time::{Duration, Instant};

use super::{Acd, Caller, CallerState, CallerTimer, Timer, waited};
use crate::agent::AgentState;
use crate::estimate::{self, Work};
use crate::model::{AgentId, CallId, EmptyPolicy, QueueId};
use crate::output::{Action, Announcement, EventKind, LeaveReason, Party};

impl Acd {
    /// A caller enters `queue` with `priority` (higher is served first); `number` is
    /// where a callback would reach them.
    pub fn handle_join(
        &mut self,
        now: Instant,
        queue: QueueId,
        call: CallId,
        number: &str,
        priority: Priority,
    ) {
        if self.callers.contains_key(&call) {
            return;
        }
        let config = &self.queue(queue).config;
        let refused = if config
            .max_callers
            .is_some_and(|max| self.queue(queue).waiting.len() >= max)
        {
            Some(LeaveReason::Full)
        } else if self.is_empty(queue, config.join_empty) {
            Some(LeaveReason::Empty)
        } else {
            None
        };
        if let Some(reason) = refused {
            self.log(
                Some(queue),
                Some(call),
                None,
                EventKind::Exit {
                    reason,
                    waited: Duration::ZERO,
                },
            );
            self.act(Action::Leave { call, reason });
            return;
        }
        let place = self.next_place(priority);
        self.callers
            .insert(call, Caller::new(queue, place, now, number));
        self.queue_mut(queue).waiting.insert(place, call);
        let position = self.position(call).unwrap_or(1);
        self.log(
            Some(queue),
            Some(call),
            None,
            EventKind::Join { position, priority },
        );
        let c = &self.queue(queue).config;
        let (max_wait, tier_wait, a) = (c.max_wait, c.tier_wait, c.announcements);
        if let Some(max) = max_wait {
            self.schedule(now + max, Timer::Caller(call, CallerTimer::MaxWait));
        }
        if let Some(step) = tier_wait {
            let tiers = self
                .queue(queue)
                .members
                .iter()
                .map(|m| m.membership.tier)
                .max()
                .unwrap_or(0);
            for tier in 1..=u32::from(tiers) {
                self.schedule(
                    now + step * tier,
                    Timer::Caller(call, CallerTimer::Dispatch),
                );
            }
        }
        if let Some(every) = a.position_every {
            self.schedule(now + every, Timer::Caller(call, CallerTimer::Position));
        }
        if let Some(every) = a.comfort_every {
            self.schedule(now + every, Timer::Caller(call, CallerTimer::Comfort));
        }
        self.dispatch(now);
        // A caller whose call already rings an agent hears no position.
        if a.position_on_join
            && self
                .callers
                .get(&call)
                .is_some_and(|c| c.state == CallerState::Waiting && c.offers.is_empty())
        {
            self.announce_position(now, call);
        }
    }

    /// A call ended: the caller hung up while waiting (abandon), or either side ended
    /// a call that was put through (`by` tells which).
    pub fn handle_hangup(&mut self, now: Instant, call: CallId, by: Party) {
        let Some(caller) = self.callers.get(&call) else {
            return;
        };
        match caller.state {
            CallerState::Waiting => self.abandon(now, call),
            // The line dropped after asking for a callback: the request stands, and
            // can be served now.
            CallerState::Callback { .. } => {
                if let Some(CallerState::Callback { on_line, .. }) =
                    self.callers.get_mut(&call).map(|c| &mut c.state)
                {
                    *on_line = false;
                }
            }
            CallerState::Connected { agent } => self.call_ended(now, call, agent, by),
            CallerState::Held { agent, since } => self.held_caller_left(now, call, agent, since),
        }
        self.dispatch(now);
    }

    /// A key the caller pressed while waiting: 0 leaves for voicemail, 1 asks for a
    /// callback where the queue offers one.
    pub fn handle_key(&mut self, now: Instant, call: CallId, key: char) {
        let Some(caller) = self.callers.get(&call) else {
            return;
        };
        if caller.state != CallerState::Waiting {
            return;
        }
        let queue = caller.queue;
        match key {
            '0' => self.leave(now, call, LeaveReason::Key('0')),
            '1' if self.queue(queue).config.callback.is_some() => {
                self.request_callback(call);
            }
            _ => return,
        }
        self.dispatch(now);
    }

    fn abandon(&mut self, now: Instant, call: CallId) {
        let position = self.position(call).unwrap_or(0);
        self.cancel_offers(call);
        self.release_vip_target(call);
        let Some(caller) = self.callers.remove(&call) else {
            return;
        };
        let q = self.queue_mut(caller.queue);
        q.waiting.remove(&caller.place);
        q.counters.abandoned += 1;
        self.log(
            Some(caller.queue),
            Some(call),
            None,
            EventKind::Abandon {
                waited: waited(now, caller.joined),
                position,
            },
        );
        self.positions_changed(now, caller.queue);
    }

    /// The caller leaves the queue for the scenario's next step.
    pub(crate) fn leave(&mut self, now: Instant, call: CallId, reason: LeaveReason) {
        self.cancel_offers(call);
        self.release_vip_target(call);
        let Some(caller) = self.callers.remove(&call) else {
            return;
        };
        self.queue_mut(caller.queue).waiting.remove(&caller.place);
        self.log(
            Some(caller.queue),
            Some(call),
            None,
            EventKind::Exit {
                reason,
                waited: waited(now, caller.joined),
            },
        );
        self.act(Action::Leave { call, reason });
        self.positions_changed(now, caller.queue);
    }

    /// A call put through ended. The agent wraps up, unless a VIP is waiting for them.
    fn call_ended(&mut self, now: Instant, call: CallId, agent: AgentId, by: Party) {
        let Some(caller) = self.callers.remove(&call) else {
            return;
        };
        let queue = caller.queue;
        let talk = self.end_talk(now, agent);
        self.log(
            Some(queue),
            Some(call),
            Some(agent),
            EventKind::Complete { talk, by },
        );
        match self.agent(agent).state {
            AgentState::WithVip { vip, held } if vip == call => {
                self.vip_call_ended(now, agent, held, by);
            }
            AgentState::Warned { vip, .. } => self.warned_agent_freed(agent, vip),
            _ => self.wrap_up(now, queue, agent, talk),
        }
    }

    /// Adds the talk since the call started to the agent's counters and returns it.
    pub(crate) fn end_talk(&mut self, now: Instant, agent: AgentId) -> Duration {
        let a = self.agent_mut(agent);
        let talk = a
            .call_started
            .take()
            .map_or(Duration::ZERO, |t| waited(now, t));
        a.stats.talk_time += talk;
        talk
    }

    pub(crate) fn max_wait_over(&mut self, now: Instant, call: CallId) {
        if self
            .callers
            .get(&call)
            .is_some_and(|c| c.state == CallerState::Waiting)
        {
            self.leave(now, call, LeaveReason::Timeout);
        }
    }

    /// Whether the queue counts as having nobody to answer under `policy`.
    pub(crate) fn is_empty(&self, queue: QueueId, policy: EmptyPolicy) -> bool {
        let mut members = self
            .queue(queue)
            .members
            .iter()
            .map(|m| self.agent(m.agent));
        match policy {
            EmptyPolicy::Never => false,
            EmptyPolicy::NoAgentLoggedIn => !members.any(|a| a.is_logged_in()),
            EmptyPolicy::NoAgentAvailable => !members.any(|a| a.is_available()),
        }
    }

    /// Callers on the line leave a queue that has become empty under its
    /// leave-when-empty policy; callback requests stay.
    pub(crate) fn leave_if_empty(&mut self, now: Instant, queue: QueueId) {
        if !self.is_empty(queue, self.queue(queue).config.leave_when_empty) {
            return;
        }
        let waiting: Vec<CallId> = self.queue(queue).waiting.values().copied().collect();
        for call in waiting {
            if self.callers[&call].state == CallerState::Waiting {
                self.leave(now, call, LeaveReason::Empty);
            }
        }
    }

    // Announcements.

    pub(crate) fn periodic_position(&mut self, now: Instant, call: CallId) {
        let Some(caller) = self.callers.get(&call) else {
            return;
        };
        if caller.state != CallerState::Waiting {
            return;
        }
        let a = self.queue(caller.queue).config.announcements;
        let recent = caller
            .announced
            .is_some_and(|(at, _)| waited(now, at) < a.min_gap);
        if !recent {
            self.announce_position(now, call);
        }
        if let Some(every) = a.position_every {
            self.schedule(now + every, Timer::Caller(call, CallerTimer::Position));
        }
    }

    pub(crate) fn periodic_comfort(&mut self, now: Instant, call: CallId) {
        let Some(caller) = self.callers.get(&call) else {
            return;
        };
        if caller.state != CallerState::Waiting {
            return;
        }
        let every = self.queue(caller.queue).config.announcements.comfort_every;
        self.act(Action::Announce {
            call,
            announcement: Announcement::Comfort,
        });
        if let Some(every) = every {
            self.schedule(now + every, Timer::Caller(call, CallerTimer::Comfort));
        }
    }

    /// Callers near the front who moved up hear their new position.
    pub(crate) fn positions_changed(&mut self, now: Instant, queue: QueueId) {
        let a = self.queue(queue).config.announcements;
        if !a.position_on_change {
            return;
        }
        let front: Vec<(usize, CallId)> = self
            .queue(queue)
            .waiting
            .values()
            .take(a.change_positions)
            .enumerate()
            .map(|(i, &c)| (i + 1, c))
            .collect();
        for (position, call) in front {
            let c = &self.callers[&call];
            let moved_up = c.announced.is_some_and(|(_, p)| position < p);
            let recent = c
                .announced
                .is_some_and(|(at, _)| waited(now, at) < a.min_gap);
            if c.state == CallerState::Waiting && moved_up && !recent {
                self.announce_position(now, call);
            }
        }
    }

    fn announce_position(&mut self, now: Instant, call: CallId) {
        let Some(position) = self.position(call) else {
            return;
        };
        let queue = self.callers[&call].queue;
        let estimated_wait = self
            .queue(queue)
            .config
            .announcements
            .estimated_wait
            .then(|| self.estimated_wait(now, queue, position))
            .flatten();
        if let Some(c) = self.callers.get_mut(&call) {
            c.announced = Some((now, position));
        }
        self.act(Action::Announce {
            call,
            announcement: Announcement::Position {
                position,
                estimated_wait,
            },
        });
    }

    /// The wait of the caller at `position` (see [`crate::estimate`]).
    pub fn estimated_wait(
        &self,
        now: Instant,
        queue: QueueId,
        position: usize,
    ) -> Option<Duration> {
        let q = self.queue(queue);
        let staffed: Vec<Work> = q
            .members
            .iter()
            .map(|m| self.agent(m.agent))
            .filter(|a| a.is_available())
            .map(|a| match a.state {
                AgentState::Idle | AgentState::Ringing { .. } | AgentState::Reserved { .. } => {
                    Work::Free
                }
                AgentState::WrapUp { until } => {
                    Work::WrappingUp(until.saturating_duration_since(now))
                }
                AgentState::InCall { .. }
                | AgentState::Warned { .. }
                | AgentState::WithVip { .. } => {
                    Work::OnCall(a.call_started.map_or(Duration::ZERO, |t| waited(now, t)))
                }
            })
            .collect();
        let handle = q.handle.average();
        estimate::wait_for(position, &staffed, handle)
    }
}
