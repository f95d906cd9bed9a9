//! The queue engine: callers wait in queues, agents serve them. Sans-IO in the
//! crate-wide loop: feed `handle_*` with the time, drain [`Acd::poll_action`] and
//! [`Acd::poll_event`] until `None`, sleep until [`Acd::poll_timeout`].
//!
//! Dispatch is event-driven: after every input the engine offers waiting callers to
//! the agents free for them, queue by queue from the highest weight, caller by caller
//! from the highest priority and the earliest arrival, and stops as soon as no agent is
//! free. Deadlines (rings, wrap-ups, retries, announcements) live in one ordered set;
//! a deadline that no longer applies is dropped when it comes due.

use crate::Priority;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::agent::{Agent, AgentState, AgentStatus};
use crate::estimate::HandleTimes;
use crate::model::{AgentConfig, AgentId, CallId, Membership, OfferId, QueueConfig, QueueId};
use crate::output::{Action, EventKind, QueueEvent};
use crate::strategy::{Candidate, Fanout, RankMemory};

mod agents;
pub(crate) mod callback;
mod callers;
pub(crate) mod offers;
mod snapshot;
mod vip;

pub use snapshot::{Activity, AgentCounts, AgentSnapshot, QueueSnapshot};

/// A caller's place: higher priority first, then earlier arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Place {
    priority: std::cmp::Reverse<Priority>,
    seq: u64,
}

#[derive(Debug)]
pub(crate) struct Member {
    pub agent: AgentId,
    pub membership: Membership,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub answered: u32,
    pub answered_in_time: u32,
    pub abandoned: u32,
}

#[derive(Debug)]
pub(crate) struct Queue {
    pub config: QueueConfig,
    pub members: Vec<Member>,
    pub waiting: BTreeMap<Place, CallId>,
    pub memory: RankMemory,
    pub handle: HandleTimes,
    pub counters: Counters,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallerState {
    /// On the line, waiting (possibly ringing agents).
    Waiting,
    /// Hung up after asking to be called back; keeps the place.
    Callback {
        attempts: u32,
        not_before: Option<Instant>,
        /// The agent reserved while the callback is placed.
        agent: Option<AgentId>,
        /// The caller is still on the line, hearing that they will be called back:
        /// the request is served once they hang up, not into the call they are on.
        on_line: bool,
    },
    Connected {
        agent: AgentId,
    },
    /// On hold while the agent talks to a VIP.
    Held {
        agent: AgentId,
        since: Instant,
    },
}

#[derive(Debug)]
pub(crate) struct Caller {
    pub queue: QueueId,
    pub place: Place,
    pub joined: Instant,
    pub number: String,
    pub state: CallerState,
    pub offers: Vec<OfferId>,
    /// Agents offered in this round.
    pub tried: Vec<AgentId>,
    /// In the pause between rounds until then.
    pub next_round: Option<Instant>,
    /// Ring progressively: the next agent joins the ringing then.
    pub next_added: Option<Instant>,
    /// When the position was last announced, and which.
    pub announced: Option<(Instant, usize)>,
    /// Offered to this agent before anyone else.
    pub preferred: Option<AgentId>,
    /// The agent warned that this VIP will take them over.
    pub vip_target: Option<AgentId>,
    /// A lost-call task is dropped then, unless served.
    pub expires: Option<Instant>,
}

impl Caller {
    /// A caller waiting in `queue` since `joined`, to be called back at `number`.
    pub fn new(queue: QueueId, place: Place, joined: Instant, number: &str) -> Caller {
        Caller {
            queue,
            place,
            joined,
            number: number.to_string(),
            state: CallerState::Waiting,
            offers: Vec::new(),
            tried: Vec::new(),
            next_round: None,
            next_added: None,
            announced: None,
            preferred: None,
            vip_target: None,
            expires: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Offer {
    pub call: CallId,
    pub agent: AgentId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    Offer(OfferId),
    WrapUp(AgentId),
    Rest(AgentId),
    Vip(AgentId),
    Caller(CallId, CallerTimer),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CallerTimer {
    /// A pause between rounds, a ring-progressive step, a tier opening, a callback
    /// retry: only a new dispatch is needed.
    Dispatch,
    MaxWait,
    Position,
    Comfort,
    /// A lost-call task's time is up.
    Expire,
}

#[derive(Debug)]
pub struct Acd {
    pub(crate) queues: Vec<Queue>,
    /// Queues by weight, highest first: the order dispatch serves them in.
    by_weight: Vec<QueueId>,
    pub(crate) agents: Vec<Agent>,
    pub(crate) callers: HashMap<CallId, Caller>,
    pub(crate) offers: HashMap<OfferId, Offer>,
    timers: BTreeSet<(Instant, Timer)>,
    actions: VecDeque<Action>,
    events: VecDeque<QueueEvent>,
    pub(crate) rng: SmallRng,
    next_offer: u64,
    next_seq: u64,
}

impl Acd {
    /// `seed` drives the random strategies, so a test replays exactly.
    pub fn new(seed: u64) -> Self {
        Acd {
            queues: Vec::new(),
            by_weight: Vec::new(),
            agents: Vec::new(),
            callers: HashMap::new(),
            offers: HashMap::new(),
            timers: BTreeSet::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            rng: SmallRng::seed_from_u64(seed),
            next_offer: 1,
            next_seq: 1,
        }
    }

    // Configuration.

    pub fn add_queue(&mut self, config: QueueConfig) -> QueueId {
        let id = QueueId(self.queues.len() as u32);
        self.queues.push(Queue {
            config,
            members: Vec::new(),
            waiting: BTreeMap::new(),
            memory: RankMemory::default(),
            handle: HandleTimes::default(),
            counters: Counters::default(),
        });
        self.by_weight.push(id);
        self.sort_by_weight();
        id
    }

    /// Changes a queue's settings; callers already waiting keep their places.
    pub fn update_queue(&mut self, queue: QueueId, config: QueueConfig) {
        self.queue_mut(queue).config = config;
        self.sort_by_weight();
    }

    pub fn add_agent(&mut self, now: Instant, config: AgentConfig) -> AgentId {
        let id = AgentId(self.agents.len() as u32);
        self.agents.push(Agent::new(config, now));
        id
    }

    /// Makes the agent a member of the queue (or changes their tier and weight);
    /// members are offered in the order they were added.
    pub fn set_member(&mut self, queue: QueueId, agent: AgentId, membership: Membership) {
        let q = self.queue_mut(queue);
        match q.members.iter_mut().find(|m| m.agent == agent) {
            Some(m) => m.membership = membership,
            None => q.members.push(Member { agent, membership }),
        }
        let queues = &mut self.agent_mut(agent).queues;
        if !queues.contains(&queue) {
            queues.push(queue);
        }
    }

    /// Makes these agents the queue's members, in this order (linear and ring-in-order
    /// strategies follow it); agents left out get no further offers from it, while a
    /// call one of them already took goes on.
    pub fn set_members(&mut self, queue: QueueId, members: Vec<(AgentId, Membership)>) {
        let gone: Vec<AgentId> = self
            .members(queue)
            .filter(|a| !members.iter().any(|(m, _)| m == a))
            .collect();
        for agent in gone {
            self.remove_member(queue, agent);
        }
        for (agent, membership) in &members {
            self.set_member(queue, *agent, *membership);
        }
        let order = |a: &Member| members.iter().position(|(m, _)| *m == a.agent);
        self.queue_mut(queue).members.sort_by_key(order);
    }

    /// Takes the agent out of the queue: no further offers from it, while a call the
    /// agent already took goes on.
    pub fn remove_member(&mut self, queue: QueueId, agent: AgentId) {
        self.queue_mut(queue).members.retain(|m| m.agent != agent);
        self.agent_mut(agent).queues.retain(|q| *q != queue);
    }

    /// New settings for an agent (ring time, wrap-up, following registration).
    pub fn update_agent(&mut self, agent: AgentId, config: AgentConfig) {
        self.agent_mut(agent).config = config;
    }

    /// Offers waiting callers to whom the configuration now allows (after agents were
    /// added to queues or queues changed).
    pub fn handle_reconfigured(&mut self, now: Instant) {
        self.dispatch(now);
    }

    fn sort_by_weight(&mut self) {
        let queues = &self.queues;
        self.by_weight
            .sort_by_key(|q| (std::cmp::Reverse(queues[q.0 as usize].config.weight), *q));
    }

    // Getters.

    pub fn agent_status(&self, agent: AgentId) -> &AgentStatus {
        &self.agent(agent).status
    }

    pub fn agent_state(&self, agent: AgentId) -> AgentState {
        self.agent(agent).state
    }

    pub fn agent_config(&self, agent: AgentId) -> &AgentConfig {
        &self.agent(agent).config
    }

    /// Every agent, in the order they were added.
    pub fn agents(&self) -> impl Iterator<Item = AgentId> + use<> {
        (0..self.agents.len() as u32).map(AgentId)
    }

    /// The queues an agent is a member of.
    pub fn agent_queues(&self, agent: AgentId) -> &[QueueId] {
        &self.agent(agent).queues
    }

    /// A queue's members, in their order.
    pub fn members(&self, queue: QueueId) -> impl Iterator<Item = AgentId> + '_ {
        self.queue(queue).members.iter().map(|m| m.agent)
    }

    pub fn agent_by_extension(&self, extension: &str) -> Option<AgentId> {
        self.agents
            .iter()
            .position(|a| a.config.extension == extension)
            .map(|i| AgentId(i as u32))
    }

    pub fn queue_config(&self, queue: QueueId) -> &QueueConfig {
        &self.queue(queue).config
    }

    pub fn queue_name(&self, queue: QueueId) -> &str {
        &self.queue(queue).config.name
    }

    /// The caller's place in its queue, 1 for the next to be served; None once it left
    /// or was put through.
    pub fn position(&self, call: CallId) -> Option<usize> {
        let caller = self.callers.get(&call)?;
        let q = self.queue(caller.queue);
        q.waiting
            .contains_key(&caller.place)
            .then(|| q.waiting.range(..caller.place).count() + 1)
    }

    // Output.

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<QueueEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(at, _)| *at)
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            self.fire(now, at, timer);
        }
        self.dispatch(now);
    }

    fn fire(&mut self, now: Instant, at: Instant, timer: Timer) {
        match timer {
            Timer::Offer(offer) => self.ring_timed_out(now, offer),
            Timer::WrapUp(agent) => self.wrap_up_over(now, agent, at),
            Timer::Rest(agent) => {
                let a = self.agent_mut(agent);
                if a.resting_until.is_some_and(|t| t <= now) {
                    a.resting_until = None;
                }
            }
            Timer::Vip(agent) => self.vip_delay_over(now, agent),
            Timer::Caller(call, CallerTimer::Dispatch) => {
                if let Some(c) = self.callers.get_mut(&call)
                    && c.next_round.is_some_and(|t| t <= now)
                {
                    c.next_round = None;
                }
            }
            Timer::Caller(call, CallerTimer::MaxWait) => self.max_wait_over(now, call),
            Timer::Caller(call, CallerTimer::Position) => self.periodic_position(now, call),
            Timer::Caller(call, CallerTimer::Comfort) => self.periodic_comfort(now, call),
            Timer::Caller(call, CallerTimer::Expire) => self.callback_expired(now, call),
        }
    }

    // Dispatch.

    /// Offers waiting callers to free agents until no agent is free for them.
    pub(crate) fn dispatch(&mut self, now: Instant) {
        for i in 0..self.by_weight.len() {
            let queue = self.by_weight[i];
            if self.queue(queue).waiting.is_empty() {
                continue;
            }
            let mut free = self.free_members(queue, now);
            let mut cursor: Option<Place> = None;
            while !free.is_empty() {
                let waiting = &self.queue(queue).waiting;
                let next = match cursor {
                    None => waiting.iter().next(),
                    Some(p) => waiting.range((Bound::Excluded(p), Bound::Unbounded)).next(),
                };
                let Some((&place, &call)) = next else {
                    break;
                };
                cursor = Some(place);
                self.serve(now, queue, call, &mut free);
            }
            if self.queue(queue).config.vip.is_some() {
                self.preempt_for_vips(now, queue);
            }
        }
    }

    /// Indexes into the queue's members of the agents free to ring now.
    pub(crate) fn free_members(&self, queue: QueueId, now: Instant) -> Vec<usize> {
        let q = self.queue(queue);
        let ring_busy = q.config.ring_busy_agents;
        q.members
            .iter()
            .enumerate()
            .filter(|(_, m)| self.agent(m.agent).is_free(now, ring_busy))
            .map(|(i, _)| i)
            .collect()
    }

    /// Offers one caller to the agents its queue's strategy picks among `free`.
    fn serve(&mut self, now: Instant, queue: QueueId, call: CallId, free: &mut Vec<usize>) {
        let Some(caller) = self.callers.get(&call) else {
            return;
        };
        let callback = match caller.state {
            CallerState::Waiting => false,
            CallerState::Callback {
                agent: None,
                not_before,
                on_line: false,
                ..
            } if not_before.is_none_or(|t| t <= now) => true,
            _ => return,
        };
        if caller.next_round.is_some_and(|t| t > now) {
            return;
        }
        let q = self.queue(queue);
        let fanout = if callback {
            Fanout::One
        } else {
            q.config.strategy.fanout()
        };
        let ringing = !caller.offers.is_empty();
        match fanout {
            Fanout::One | Fanout::All if ringing => return,
            Fanout::AddEvery(_) if ringing && caller.next_added.is_some_and(|t| t > now) => {
                return;
            }
            _ => {}
        }
        let chosen = match self.preferred_member(call, queue, free) {
            Some(i) => vec![i],
            None => {
                let Some(mut candidates) = self.candidates(now, queue, call, free) else {
                    self.end_round_if_done(now, call);
                    return;
                };
                let take = if fanout == Fanout::All {
                    candidates.len()
                } else {
                    1
                };
                let q = &self.queues[queue.0 as usize];
                q.config
                    .strategy
                    .rank(&mut candidates, take, &q.memory, &mut self.rng);
                candidates.iter().take(take).map(|c| c.position).collect()
            }
        };
        free.retain(|i| !chosen.contains(i));
        for member in chosen {
            let agent = self.queue(queue).members[member].agent;
            self.queue_mut(queue).memory.last_offered = Some(member);
            if callback {
                self.place_callback(now, queue, call, agent);
            } else {
                self.offer(now, queue, call, agent);
            }
        }
        if let Fanout::AddEvery(step) = fanout
            && !callback
        {
            let at = now + step;
            if let Some(c) = self.callers.get_mut(&call) {
                c.next_added = Some(at);
            }
            self.schedule(at, Timer::Caller(call, CallerTimer::Dispatch));
        }
    }

    /// The member a caller goes to first (the agent who hung up on a VIP, or the agent
    /// a VIP was promised), when free.
    fn preferred_member(&mut self, call: CallId, queue: QueueId, free: &[usize]) -> Option<usize> {
        let agent = self.callers.get_mut(&call)?.preferred.take()?;
        let members = &self.queue(queue).members;
        free.iter().copied().find(|&i| members[i].agent == agent)
    }

    /// The free agents this caller may be offered now: not yet tried this round, in the
    /// best tier that has any, if the caller has waited long enough for that tier.
    fn candidates(
        &self,
        now: Instant,
        queue: QueueId,
        call: CallId,
        free: &[usize],
    ) -> Option<Vec<Candidate>> {
        let caller = &self.callers[&call];
        let q = self.queue(queue);
        let untried = || {
            free.iter()
                .copied()
                .filter(|&i| !caller.tried.contains(&q.members[i].agent))
        };
        let tier = untried().map(|i| q.members[i].membership.tier).min()?;
        if let Some(step) = q.config.tier_wait {
            let waited = now.saturating_duration_since(caller.joined);
            if waited < step * u32::from(tier) {
                return None;
            }
        }
        Some(
            untried()
                .filter(|&i| q.members[i].membership.tier == tier)
                .map(|i| {
                    let m = &q.members[i];
                    let a = self.agent(m.agent);
                    Candidate {
                        agent: m.agent,
                        position: i,
                        weight: m.membership.weight,
                        idle_since: a.idle_since,
                        stats: a.stats,
                    }
                })
                .collect(),
        )
    }

    /// Every agent of the round was tried and none is ringing: pause, then start over.
    fn end_round_if_done(&mut self, now: Instant, call: CallId) {
        let Some(caller) = self.callers.get_mut(&call) else {
            return;
        };
        if caller.tried.is_empty() || !caller.offers.is_empty() {
            return;
        }
        let delay = self.queues[caller.queue.0 as usize].config.retry_delay;
        caller.tried.clear();
        let at = now + delay;
        caller.next_round = Some(at);
        self.schedule(at, Timer::Caller(call, CallerTimer::Dispatch));
    }

    // Shared helpers.

    pub(crate) fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timers.insert((at, timer));
    }

    pub(crate) fn act(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    pub(crate) fn log(
        &mut self,
        queue: Option<QueueId>,
        call: Option<CallId>,
        agent: Option<AgentId>,
        kind: EventKind,
    ) {
        self.events.push_back(QueueEvent {
            queue,
            call,
            agent,
            kind,
        });
    }

    pub(crate) fn next_offer_id(&mut self) -> OfferId {
        let id = OfferId(self.next_offer);
        self.next_offer += 1;
        id
    }

    pub(crate) fn next_place(&mut self, priority: Priority) -> Place {
        let seq = self.next_seq;
        self.next_seq += 1;
        Place {
            priority: std::cmp::Reverse(priority),
            seq,
        }
    }

    pub(crate) fn queue(&self, id: QueueId) -> &Queue {
        &self.queues[id.0 as usize]
    }

    pub(crate) fn queue_mut(&mut self, id: QueueId) -> &mut Queue {
        &mut self.queues[id.0 as usize]
    }

    pub(crate) fn agent(&self, id: AgentId) -> &Agent {
        &self.agents[id.0 as usize]
    }

    pub(crate) fn agent_mut(&mut self, id: AgentId) -> &mut Agent {
        &mut self.agents[id.0 as usize]
    }
}

/// How long since `since`, never negative.
pub(crate) fn waited(now: Instant, since: Instant) -> Duration {
    now.saturating_duration_since(since)
}

#[cfg(test)]
mod tests;
