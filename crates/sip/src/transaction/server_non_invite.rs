//! Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8).

use std::time::Instant;

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
pub(crate) struct ServerNonInvite {
    pub state: State,
    pub timers: TimerTable,
    last_response: Option<Vec<u8>>,
    reliable: bool,
    config: TimerConfig,
}

impl ServerNonInvite {
    pub fn new(reliable: bool, config: TimerConfig) -> Self {
        ServerNonInvite {
            state: State::Trying,
            timers: TimerTable::default(),
            last_response: None,
            reliable,
            config,
        }
    }

    /// A retransmission of the request: repeat whatever we last answered.
    pub fn on_retransmit(&mut self, fx: &mut Vec<Effect>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            fx.extend(self.last_response.clone().map(Effect::Send));
        }
    }

    pub fn send_response(&mut self, now: Instant, code: u16, bytes: Vec<u8>, fx: &mut Vec<Effect>) {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return;
        }
        fx.push(Effect::Send(bytes.clone()));
        self.last_response = Some(bytes);
        if code < 200 {
            self.state = State::Proceeding;
        } else if self.reliable {
            self.state = State::Terminated;
        } else {
            self.state = State::Completed;
            self.timers.set(Timer::J, now + self.config.timeout());
        }
    }

    pub fn on_timer(&mut self, timer: Timer, _fx: &mut Vec<Effect>) {
        if timer == Timer::J {
            self.state = State::Terminated;
        }
    }
}
