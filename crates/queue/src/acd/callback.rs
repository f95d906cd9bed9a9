//! Callbacks: a caller who pressed 1 hangs up and keeps their place. When their turn
//! comes the engine reserves a free agent, then asks the call logic to ring that agent
//! and call the customer back. A request is placed by one agent at a time: it is not
//! served again until that attempt reports back.

use std::time::{Duration, Instant};

use super::{Acd, Caller, CallerState, CallerTimer, Timer, waited};
use crate::Priority;
use crate::agent::AgentState;
use crate::model::{AgentId, CallId, QueueId};
use crate::output::{Action, Announcement, EventKind, Whisper};

/// How placing a callback went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackResult {
    /// Agent and customer are talking.
    Connected,
    /// The reserved agent did not answer; another is tried.
    AgentMissed,
    /// The customer did not answer (or was busy); tried again later or given up.
    CustomerMissed,
}

impl Acd {
    pub fn handle_callback_result(&mut self, now: Instant, call: CallId, result: CallbackResult) {
        let Some(caller) = self.callers.get_mut(&call) else {
            return;
        };
        let CallerState::Callback {
            attempts,
            agent: Some(agent),
            ..
        } = caller.state
        else {
            return;
        };
        let queue = caller.queue;
        match result {
            CallbackResult::Connected => {
                caller.state = CallerState::Connected { agent };
                let (place, joined) = (caller.place, caller.joined);
                self.queue_mut(queue).waiting.remove(&place);
                self.start_call(now, queue, call, agent, joined);
                self.log(
                    Some(queue),
                    Some(call),
                    Some(agent),
                    EventKind::CallbackCompleted,
                );
                self.positions_changed(now, queue);
            }
            CallbackResult::AgentMissed => {
                caller.state = CallerState::Callback {
                    attempts: attempts - 1,
                    not_before: None,
                    agent: None,
                    on_line: false,
                };
                caller.tried.push(agent);
                let a = self.agent_mut(agent);
                a.state = AgentState::Idle;
                a.missed_in_a_row += 1;
                self.log(
                    Some(queue),
                    Some(call),
                    Some(agent),
                    EventKind::RingNoAnswer,
                );
            }
            CallbackResult::CustomerMissed => {
                self.agent_mut(agent).state = AgentState::Idle;
                self.customer_missed(now, queue, call, attempts);
            }
        }
        self.dispatch(now);
    }

    /// A callback request kept across a restart, or a lost-call task (one that
    /// `expires`): `call` is in `queue` as a caller who hung up to be called back at
    /// `number`, behind callers already in
    /// the queue of the same priority (requests are restored oldest first, before any
    /// new call), with `waited` counted as time already spent in the queue.
    pub fn restore_callback(
        &mut self,
        now: Instant,
        (queue, call): (QueueId, CallId),
        number: &str,
        priority: Priority,
        waited: Duration,
        expires: Option<Instant>,
    ) {
        if self.callers.contains_key(&call) {
            return;
        }
        let place = self.next_place(priority);
        let mut caller = Caller::new(queue, place, now.checked_sub(waited).unwrap_or(now), number);
        caller.state = CallerState::Callback {
            attempts: 0,
            not_before: None,
            agent: None,
            on_line: false,
        };
        caller.expires = expires;
        if let Some(at) = expires {
            self.schedule(at, Timer::Caller(call, CallerTimer::Expire));
        }
        self.callers.insert(call, caller);
        self.queue_mut(queue).waiting.insert(place, call);
        self.dispatch(now);
    }

    pub(crate) fn request_callback(&mut self, call: CallId) {
        self.cancel_offers(call);
        self.release_vip_target(call);
        let Some(caller) = self.callers.get_mut(&call) else {
            return;
        };
        caller.state = CallerState::Callback {
            attempts: 0,
            not_before: None,
            agent: None,
            on_line: true,
        };
        caller.tried.clear();
        caller.next_round = None;
        let queue = caller.queue;
        self.log(Some(queue), Some(call), None, EventKind::CallbackRequested);
        self.act(Action::Announce {
            call,
            announcement: Announcement::CallbackAccepted,
        });
    }

    /// Reserves the agent and places the callback's next attempt.
    pub(crate) fn place_callback(
        &mut self,
        now: Instant,
        queue: QueueId,
        call: CallId,
        agent: AgentId,
    ) {
        let Some(caller) = self.callers.get_mut(&call) else {
            return;
        };
        let CallerState::Callback { attempts, .. } = caller.state else {
            return;
        };
        let attempt = attempts + 1;
        caller.state = CallerState::Callback {
            attempts: attempt,
            not_before: None,
            agent: Some(agent),
            on_line: false,
        };
        let (number, joined) = (caller.number.clone(), caller.joined);
        self.agent_mut(agent).state = AgentState::Reserved { call };
        self.log(
            Some(queue),
            Some(call),
            Some(agent),
            EventKind::CallbackPlaced { attempt },
        );
        let whisper = Whisper {
            queue: self.queue(queue).config.name.clone(),
            waited: waited(now, joined),
            vip: self.queue(queue).config.vip.is_some(),
            callback: true,
        };
        self.act(Action::PlaceCallback {
            call,
            agent,
            number,
            whisper,
        });
    }

    fn customer_missed(&mut self, now: Instant, queue: QueueId, call: CallId, attempts: u32) {
        let config = &self.queue(queue).config;
        let (callback, lost_calls) = (config.callback, config.lost_calls);
        let Some(caller) = self.callers.get_mut(&call) else {
            return;
        };
        let policy = match caller.expires {
            Some(_) => lost_calls.map(|l| l.retry),
            None => callback,
        };
        let in_time = |p: &crate::model::CallbackPolicy| {
            caller.expires.is_none_or(|end| now + p.retry_after < end)
        };
        match policy {
            Some(p) if attempts < p.attempts && in_time(&p) => {
                let at = now + p.retry_after;
                caller.state = CallerState::Callback {
                    attempts,
                    not_before: Some(at),
                    agent: None,
                    on_line: false,
                };
                self.schedule(at, Timer::Caller(call, CallerTimer::Dispatch));
            }
            _ => self.give_up_callback(now, queue, call, attempts),
        }
    }

    /// A lost-call task's time is up: dropped, unless an attempt is under way (which
    /// then is its last).
    pub(crate) fn callback_expired(&mut self, now: Instant, call: CallId) {
        let Some(caller) = self.callers.get(&call) else {
            return;
        };
        if let CallerState::Callback {
            attempts,
            agent: None,
            ..
        } = caller.state
        {
            self.give_up_callback(now, caller.queue, call, attempts);
        }
    }

    fn give_up_callback(&mut self, now: Instant, queue: QueueId, call: CallId, attempts: u32) {
        let Some(caller) = self.callers.remove(&call) else {
            return;
        };
        self.queue_mut(queue).waiting.remove(&caller.place);
        self.log(
            Some(queue),
            Some(call),
            None,
            EventKind::CallbackFailed { attempts },
        );
        self.positions_changed(now, queue);
    }
}
