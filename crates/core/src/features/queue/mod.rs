//! Calls to a queue. The queue engine ([`switchboard_queue::Acd`]) decides; this feature
//! carries its decisions out through the legs. The caller is answered and hears music
//! while the engine offers them to agents; an offer rings every phone of the agent's
//! extension; the agent who answers hears a short whisper and is bridged to the
//! caller. Waiting callers hear their position, estimated wait and the comfort prompt
//! as the engine schedules them; where the queue offers callbacks, 1 asks for one
//! ([`callback`]); a VIP may take over a busy agent ([`vip`]); agents change their
//! status by feature codes ([`codes`]). The engine's log goes out as
//! [`Output::QueueEvent`].

mod callback;
pub use callback::{CallbackChange, PendingCallback};
mod calls;
pub(crate) mod codes;
mod vip;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use switchboard_queue::{
    Acd, Action, AgentConfig, AgentId, AgentStatus, CallId, EventKind, Membership, OfferId,
    QueueConfig, QueueId,
};

use super::Ctx;
use crate::legs::LegEvent;
use crate::record::{HangupBy, QueueEventRecord};
use crate::vocabulary::{CallKey, Output};

/// A queue as the office configured it: the number callers dial, its settings and
/// its members by extension.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSetup {
    pub number: String,
    pub config: QueueConfig,
    pub members: Vec<(String, Membership)>,
}

/// The queue engine, and the calls it is carrying out.
#[derive(Debug)]
pub(crate) struct Queues {
    acd: Acd,
    /// The numbers that reach the queues, and each queue's number by id.
    numbers: HashMap<String, QueueId>,
    names: Vec<String>,
    /// Calls waiting in (or put through by) a queue.
    calls: HashMap<CallKey, QueueCall>,
    /// The call each offer rings an agent for, and its forks.
    offers: HashMap<OfferId, Offer>,
    /// Callers waiting to be called back, by the engine's name for them.
    callback_requests: HashMap<CallId, callback::CallbackRequest>,
    /// Calls Switchboard places for callbacks.
    placed: HashMap<CallKey, callback::Placed>,
    /// Agents' extensions that had a phone registered at the last look, so only a
    /// phone coming or going (not a refresh) moves a registration-following agent.
    agents_registered: HashSet<String>,
}

/// A caller in a queue.
#[derive(Debug)]
struct QueueCall {
    queue: QueueId,
    /// A scenario sent them: leaving the queue goes back to it.
    by_scenario: bool,
    /// The fork whose agent just answered, and its SDP, until the engine puts the
    /// caller through.
    connecting: Option<(usize, Vec<u8>)>,
}

#[derive(Debug)]
struct Offer {
    call: CallKey,
    forks: Vec<usize>,
}

impl Queues {
    pub fn new(seed: u64) -> Self {
        Queues {
            acd: Acd::new(seed),
            numbers: HashMap::new(),
            names: Vec::new(),
            calls: HashMap::new(),
            offers: HashMap::new(),
            callback_requests: HashMap::new(),
            placed: HashMap::new(),
            agents_registered: HashSet::new(),
        }
    }

    pub fn queue(&self, number: &str) -> Option<QueueId> {
        self.numbers.get(number).copied()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.acd.poll_timeout()
    }

    pub fn handle_timeout(&mut self, cx: &mut Ctx<'_>) {
        self.acd.handle_timeout(cx.now);
        self.run(cx);
    }

    /// Applies the queues and agents of the configuration, at start and on every change
    /// alike, in place: callers waiting keep their places and announcements, agents
    /// taken out of a queue finish the call they have, agents added are offered the next
    /// caller. A queue no longer configured takes no new callers and goes on serving
    /// those already in it. New agents who follow their registration are available
    /// while their extension has a phone registered; the others from the start.
    pub fn configure(
        &mut self,
        cx: &mut Ctx<'_>,
        queues: Vec<QueueSetup>,
        agents: Vec<AgentConfig>,
    ) {
        let now = cx.now;
        let configured: HashSet<String> = agents.iter().map(|a| a.extension.clone()).collect();
        for agent in agents {
            if let Some(id) = self.acd.agent_by_extension(&agent.extension) {
                self.acd.update_agent(id, agent);
                continue;
            }
            let extension = agent.extension.clone();
            let registered = !cx.legs.live_bindings(now, &extension).is_empty();
            if registered {
                self.agents_registered.insert(extension.clone());
            }
            let available = registered || !agent.follows_registration;
            let id = self.acd.add_agent(now, agent);
            if available {
                self.acd.handle_status(now, id, AgentStatus::Available);
            }
            if cx.legs.is_busy(&extension) {
                self.acd.handle_agent_busy(now, id, true);
            }
        }
        let mut numbers = HashMap::new();
        for setup in queues {
            let queue = match self.numbers.get(&setup.number) {
                Some(&queue) => {
                    self.acd.update_queue(queue, setup.config);
                    queue
                }
                None => {
                    self.names.push(setup.number.clone());
                    self.acd.add_queue(setup.config)
                }
            };
            let members = setup
                .members
                .into_iter()
                .filter_map(|(extension, membership)| {
                    Some((self.acd.agent_by_extension(&extension)?, membership))
                })
                .collect();
            self.acd.set_members(queue, members);
            numbers.insert(setup.number, queue);
        }
        self.numbers = numbers;
        let retired: Vec<AgentId> = self
            .acd
            .agents()
            .filter(|&a| !configured.contains(&self.acd.agent_config(a).extension))
            .collect();
        for agent in retired {
            for queue in self.acd.agent_queues(agent).to_vec() {
                self.acd.remove_member(queue, agent);
            }
        }
        self.acd.handle_reconfigured(now);
        self.run(cx);
    }

    /// What the legs report that the queues keep account of, for every call.
    pub fn leg_event(&mut self, cx: &mut Ctx<'_>, event: &LegEvent) {
        match *event {
            LegEvent::Busy {
                ref extension,
                busy,
            } => {
                if let Some(agent) = self.acd.agent_by_extension(extension) {
                    self.acd.handle_agent_busy(cx.now, agent, busy);
                    self.run(cx);
                }
            }
            LegEvent::Ended { call, by, bridged } => self.call_ended(cx, call, by, bridged),
            LegEvent::Closed { call, answered } => {
                self.calls.remove(&call);
                self.offers.retain(|_, o| o.call != call);
                // A callback that reached its customer has served its request.
                if let Some(placed) = self.placed.remove(&call)
                    && answered
                {
                    self.forget_request(cx, placed.request);
                }
            }
            _ => {}
        }
    }

    /// The agent of a call the queue put through transferred it elsewhere: for the
    /// queue their part ended as if they had hung up (wrap-up follows), and the call
    /// (a callback's too, which has served its request) is no longer the queue's.
    pub fn transferred(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let call = match self.placed.remove(&key) {
            Some(placed) => {
                self.forget_request(cx, placed.request);
                placed.request
            }
            None if self.calls.remove(&key).is_some() => CallId(key),
            None => return,
        };
        self.offers.retain(|_, o| o.call != key);
        let agent = switchboard_queue::Party::Agent;
        self.acd.handle_hangup(cx.now, call, agent);
        self.run(cx);
    }

    /// A call that went through a queue ended: the engine learns who hung up. A caller
    /// told they will be called back is off the line: their request can be served.
    fn call_ended(&mut self, cx: &mut Ctx<'_>, key: CallKey, by: HangupBy, bridged: bool) {
        let now = cx.now;
        if bridged && (self.calls.contains_key(&key) || self.placed.contains_key(&key)) {
            let party = match by {
                HangupBy::Callee => switchboard_queue::Party::Agent,
                _ => switchboard_queue::Party::Caller,
            };
            self.acd.handle_hangup(now, self.engine_call(key), party);
            self.run(cx);
        } else if !bridged && self.callback_requests.contains_key(&CallId(key)) {
            self.acd
                .handle_hangup(now, CallId(key), switchboard_queue::Party::Caller);
            self.run(cx);
        }
    }

    /// Carries out what the queue engine decided, and passes its log on.
    fn run(&mut self, cx: &mut Ctx<'_>) {
        while let Some(action) = self.acd.poll_action() {
            match action {
                Action::Offer { offer, call, agent } => {
                    let extension = self.acd.agent_config(agent).extension.clone();
                    self.ring_agent(cx, self.call_of(call), offer, &extension);
                }
                Action::CancelOffer { offer, .. } => self.cancel_offer(cx, offer),
                Action::Connect {
                    call,
                    agent,
                    whisper,
                } => self.put_through(cx, self.call_of(call), agent, whisper.waited),
                Action::Leave { call, reason } => self.leave(cx, self.call_of(call), reason),
                Action::Announce {
                    call,
                    announcement: switchboard_queue::Announcement::CallbackAccepted,
                } => self.callback_accepted(cx, call.0),
                Action::Announce { call, announcement } => {
                    self.announce(cx, self.call_of(call), announcement)
                }
                Action::PlaceCallback {
                    call,
                    agent,
                    number,
                    ..
                } => self.place_callback(cx, call, agent, number),
                Action::WarnAgent { agent, .. } => self.warn_agent(cx, agent),
                Action::Preempt { agent, held, vip } => self.preempt(cx, agent, held, vip),
                Action::Resume { agent, held } => self.resume(cx, agent, held),
            }
        }
        let at = cx.legs.wall(cx.now);
        let mut lost = Vec::new();
        while let Some(event) = self.acd.poll_event() {
            let record = QueueEventRecord {
                at,
                vip: event
                    .queue
                    .is_some_and(|q| self.acd.queue_config(q).vip.is_some()),
                queue: event.queue.map(|q| self.name(q)),
                call_id: event.call.and_then(|c| self.queue_call_id(cx, c)),
                agent: event
                    .agent
                    .map(|a| self.acd.agent_config(a).extension.clone()),
                kind: event.kind,
            };
            match (event.call, event.queue, &record.kind) {
                (Some(call), _, EventKind::CallbackFailed { .. }) => self.forget_request(cx, call),
                (Some(call), Some(queue), EventKind::Abandon { waited, .. }) => {
                    lost.push((queue, call.0, *waited))
                }
                _ => {}
            }
            cx.legs.push(Output::QueueEvent(record));
        }
        for (queue, key, waited) in lost {
            self.lost_call(cx, queue, key, waited);
        }
    }

    /// The queue's number.
    fn name(&self, queue: QueueId) -> String {
        self.names[queue.0 as usize].clone()
    }

    /// The engine's name for a call: its own key, or for a callback Switchboard placed,
    /// the request it serves.
    fn engine_call(&self, key: CallKey) -> CallId {
        self.placed.get(&key).map_or(CallId(key), |p| p.request)
    }

    /// The call the engine means: for a callback request, the call placed for it (once
    /// there is one); otherwise the caller's own call.
    fn call_of(&self, call: CallId) -> CallKey {
        if !self.callback_requests.contains_key(&call) {
            return call.0;
        }
        self.placed
            .iter()
            .find(|(_, p)| p.request == call)
            .map_or(call.0, |(key, _)| *key)
    }

    /// The Call-ID the queue log names an engine call by: the caller's call, or for a
    /// callback request, the call that asked for it.
    fn queue_call_id(&self, cx: &Ctx<'_>, call: CallId) -> Option<String> {
        match self.callback_requests.get(&call) {
            Some(r) => Some(r.call_id.clone()),
            None => cx
                .legs
                .calls
                .get(&call.0)
                .map(|c| c.a_dialog.call_id.clone()),
        }
    }

    /// What every agent does, for the wallboard.
    pub fn agent_boards(&self) -> Vec<switchboard_queue::AgentSnapshot> {
        self.acd.agent_snapshots()
    }

    /// The wallboard's picture of every queue, by number.
    pub fn queue_boards(&self, now: Instant) -> Vec<(String, switchboard_queue::QueueSnapshot)> {
        self.acd
            .snapshot(now)
            .into_iter()
            .map(|s| (self.name(s.queue), s))
            .collect()
    }

    /// A REGISTER changed an extension's phones: its agent may come or go. A refresh
    /// changes nothing, so an agent who logged out by hand stays out.
    pub fn registration(&mut self, cx: &mut Ctx<'_>, extension: &str) {
        let Some(agent) = self.acd.agent_by_extension(extension) else {
            return;
        };
        let registered = !cx.legs.live_bindings(cx.now, extension).is_empty();
        let was = if registered {
            !self.agents_registered.insert(extension.to_string())
        } else {
            self.agents_registered.remove(extension)
        };
        if was != registered {
            self.acd.handle_registration(cx.now, agent, registered);
            self.run(cx);
        }
    }

    /// The admin panel (or the agent's own) changes an agent's status, as *45 and *46
    /// do from the phone. False when `extension` answers no queue.
    pub fn set_status(&mut self, cx: &mut Ctx<'_>, extension: &str, status: AgentStatus) -> bool {
        let Some(agent) = self.acd.agent_by_extension(extension) else {
            return false;
        };
        self.acd.handle_status(cx.now, agent, status);
        self.run(cx);
        true
    }
}
