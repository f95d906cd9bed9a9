//! The queue engine on a simulated clock: every strategy and policy, then invariants
//! under random input. A harness feeds inputs and keeps everything the engine asked for.

use std::time::{Duration, Instant};

use super::*;
use crate::agent::AgentStatus;
use crate::model::{AgentConfig, Announcements, EmptyPolicy, Membership, QueueConfig};
use crate::output::{Announcement, LeaveReason, Party, Whisper};
use crate::strategy::Strategy;
use callback::CallbackResult;
use offers::OfferFailure;

mod agents;
mod callbacks;
mod callers;
mod estimate;
mod invariants;
mod strategies;
mod vip;

pub(super) const S: fn(u64) -> Duration = Duration::from_secs;

pub(super) struct Harness {
    pub acd: Acd,
    pub now: Instant,
    pub actions: Vec<Action>,
    pub events: Vec<QueueEvent>,
    pub agents: Vec<AgentId>,
    pub queue: QueueId,
}

impl Harness {
    /// One queue with `agents` members (logged in and available), in that order.
    pub fn new(config: QueueConfig, agents: usize) -> Self {
        let start = Instant::now();
        let mut acd = Acd::new(7);
        let queue = acd.add_queue(config);
        let mut h = Harness {
            acd,
            now: start,
            actions: Vec::new(),
            events: Vec::new(),
            agents: Vec::new(),
            queue,
        };
        for i in 0..agents {
            let agent = h.agent(&format!("20{i}"));
            h.acd.set_member(queue, agent, Membership::default());
            h.login(agent);
        }
        h
    }

    pub fn agent(&mut self, extension: &str) -> AgentId {
        let id = self.acd.add_agent(self.now, AgentConfig::new(extension));
        self.agents.push(id);
        id
    }

    pub fn login(&mut self, agent: AgentId) {
        self.acd
            .handle_status(self.now, agent, AgentStatus::Available);
        self.drain();
    }

    pub fn drain(&mut self) {
        while let Some(a) = self.acd.poll_action() {
            self.actions.push(a);
        }
        while let Some(e) = self.acd.poll_event() {
            self.events.push(e);
        }
    }

    /// Runs the clock forward by `by`, firing every deadline on the way.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(at) = self.acd.poll_timeout().filter(|&t| t <= end) {
            self.now = self.now.max(at);
            self.acd.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
    }

    pub fn join(&mut self, call: u64, priority: i32) {
        self.join_queue(self.queue, call, priority);
    }

    pub fn join_queue(&mut self, queue: QueueId, call: u64, priority: i32) {
        self.acd.handle_join(
            self.now,
            queue,
            CallId(call),
            &format!("+4822555{call:04}"),
            Priority(priority),
        );
        self.drain();
    }

    /// Takes the actions so far.
    pub fn take(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// The offers made since the last take, as (call, agent index).
    pub fn offers(&mut self) -> Vec<(u64, usize)> {
        let agents = self.agents.clone();
        self.take()
            .into_iter()
            .filter_map(|a| match a {
                Action::Offer { call, agent, .. } => {
                    Some((call.0, agents.iter().position(|x| *x == agent).unwrap()))
                }
                _ => None,
            })
            .collect()
    }

    /// The offer currently ringing agent `index`.
    pub fn ringing(&self, index: usize) -> OfferId {
        match self.acd.agent_state(self.agents[index]) {
            AgentState::Ringing { offer } => offer,
            other => panic!("agent {index} is {other:?}"),
        }
    }

    pub fn answer(&mut self, index: usize) {
        let offer = self.ringing(index);
        self.acd.handle_offer_answered(self.now, offer);
        self.drain();
    }

    /// Answers every ringing agent; returns the calls put through.
    pub fn answer_all(&mut self) -> Vec<u64> {
        let mut calls = Vec::new();
        for index in 0..self.agents.len() {
            if let AgentState::Ringing { offer } = self.state(index) {
                calls.push(self.acd.offers[&offer].call.0);
                self.answer(index);
            }
        }
        calls
    }

    pub fn fail(&mut self, index: usize, why: OfferFailure) {
        let offer = self.ringing(index);
        self.acd.handle_offer_failed(self.now, offer, why);
        self.drain();
    }

    pub fn hang_up(&mut self, call: u64, by: Party) {
        self.acd.handle_hangup(self.now, CallId(call), by);
        self.drain();
    }

    pub fn key(&mut self, call: u64, key: char) {
        self.acd.handle_key(self.now, CallId(call), key);
        self.drain();
    }

    pub fn state(&self, index: usize) -> AgentState {
        self.acd.agent_state(self.agents[index])
    }

    /// The kinds of logged events that concern `call`.
    pub fn events_of(&self, call: u64) -> Vec<EventKind> {
        self.events
            .iter()
            .filter(|e| e.call == Some(CallId(call)))
            .map(|e| e.kind.clone())
            .collect()
    }
}

/// A queue config with short, round numbers for tests: 10 s rings, 5 s retry, no
/// wrap-up, no announcements.
pub(super) fn quiet(strategy: Strategy) -> QueueConfig {
    let mut c = QueueConfig::new("Sales", strategy);
    c.ring_timeout = S(10);
    c.retry_delay = S(5);
    c.wrap_up = Duration::ZERO;
    c.max_missed = None;
    c.announcements = Announcements {
        position_on_join: false,
        position_on_change: false,
        change_positions: 0,
        position_every: None,
        estimated_wait: false,
        min_gap: S(15),
        comfort_every: None,
    };
    c
}
