//! INVITE server transaction, RFC 3261 §17.2.1 (Figure 7) with RFC 6026's Accepted state.

use std::time::{Duration, Instant};

use super::Effect;
use super::timers::{Timer, TimerConfig, TimerTable};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct ServerInvite {
    pub state: State,
    pub timers: TimerTable,
    last_response: Option<Vec<u8>>,
    retransmit_interval: Duration,
    reliable: bool,
    config: TimerConfig,
}

impl ServerInvite {
    pub fn new(reliable: bool, config: TimerConfig) -> Self {
        ServerInvite {
            state: State::Proceeding,
            timers: TimerTable::default(),
            last_response: None,
            retransmit_interval: config.t1,
            reliable,
            config,
        }
    }

    /// A retransmitted INVITE: repeat the last provisional or failure response.
    pub fn on_retransmit(&mut self, fx: &mut Vec<Effect>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            fx.extend(self.last_response.clone().map(Effect::Send));
        }
    }

    /// An ACK for our failure response stops its retransmission.
    pub fn on_ack(&mut self, now: Instant) {
        if self.state == State::Completed {
            self.state = State::Confirmed;
            self.timers.clear(Timer::G);
            self.timers.clear(Timer::H);
            let linger = if self.reliable {
                Duration::ZERO
            } else {
                self.config.t4
            };
            self.timers.set(Timer::I, now + linger);
        }
    }

    pub fn send_response(&mut self, now: Instant, code: u16, bytes: Vec<u8>, fx: &mut Vec<Effect>) {
        match (self.state, code) {
            (State::Proceeding, 100..=199) => {
                fx.push(Effect::Send(bytes.clone()));
                self.last_response = Some(bytes);
            }
            (State::Proceeding | State::Accepted, 200..=299) => {
                fx.push(Effect::Send(bytes));
                if self.state == State::Proceeding {
                    self.state = State::Accepted;
                    self.timers.set(Timer::L, now + self.config.timeout());
                }
            }
            (State::Proceeding, 300..) => {
                fx.push(Effect::Send(bytes.clone()));
                self.last_response = Some(bytes);
                self.state = State::Completed;
                if !self.reliable {
                    self.timers.set(Timer::G, now + self.retransmit_interval);
                }
                self.timers.set(Timer::H, now + self.config.timeout());
            }
            _ => {}
        }
    }

    pub fn on_timer(&mut self, now: Instant, timer: Timer, fx: &mut Vec<Effect>) {
        match (self.state, timer) {
            (State::Completed, Timer::G) => {
                fx.extend(self.last_response.clone().map(Effect::Send));
                self.retransmit_interval = (self.retransmit_interval * 2).min(self.config.t2);
                self.timers.set(Timer::G, now + self.retransmit_interval);
            }
            (State::Completed, Timer::H) => {
                self.timers.clear_all();
                self.state = State::Terminated;
                fx.push(Effect::TimedOut);
            }
            (State::Confirmed, Timer::I) | (State::Accepted, Timer::L) => {
                self.state = State::Terminated;
            }
            _ => {}
        }
    }
}
