//! Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).

use std::time::{Duration, Instant};

use super::Effect;
use super::timers::{Timer, TimerConfig, TimerTable};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct ClientNonInvite {
    pub state: State,
    pub timers: TimerTable,
    request: Vec<u8>,
    retransmit_interval: Duration,
    reliable: bool,
    config: TimerConfig,
}

impl ClientNonInvite {
    /// Starts the transaction and sends the request.
    pub fn start(
        now: Instant,
        request: Vec<u8>,
        reliable: bool,
        config: TimerConfig,
        fx: &mut Vec<Effect>,
    ) -> Self {
        let mut timers = TimerTable::default();
        if !reliable {
            timers.set(Timer::E, now + config.t1);
        }
        timers.set(Timer::F, now + config.timeout());
        fx.push(Effect::Send(request.clone()));
        ClientNonInvite {
            state: State::Trying,
            timers,
            request,
            retransmit_interval: config.t1,
            reliable,
            config,
        }
    }

    pub fn on_response(&mut self, now: Instant, response: rsip::Response, fx: &mut Vec<Effect>) {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return; // Completed absorbs retransmitted final responses.
        }
        if response.status_code.code() < 200 {
            self.state = State::Proceeding;
        } else {
            self.timers.clear_all();
            if self.reliable {
                self.state = State::Terminated;
            } else {
                self.state = State::Completed;
                self.timers.set(Timer::K, now + self.config.t4);
            }
        }
        fx.push(Effect::Deliver(response));
    }

    pub fn on_timer(&mut self, now: Instant, timer: Timer, fx: &mut Vec<Effect>) {
        match (self.state, timer) {
            (State::Trying | State::Proceeding, Timer::E) => {
                fx.push(Effect::Send(self.request.clone()));
                // In Proceeding the interval is T2 at once (§17.1.2.2).
                self.retransmit_interval = if self.state == State::Proceeding {
                    self.config.t2
                } else {
                    (self.retransmit_interval * 2).min(self.config.t2)
                };
                self.timers.set(Timer::E, now + self.retransmit_interval);
            }
            (State::Trying | State::Proceeding, Timer::F) => {
                self.timers.clear_all();
                self.state = State::Terminated;
                fx.push(Effect::TimedOut);
            }
            (State::Completed, Timer::K) => self.state = State::Terminated,
            _ => {}
        }
    }
}
