//! Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8), up to its final
//! response. Its Completed state (repeat that response until Timer J) is kept by the
//! layer in [`super::lingering`], where it costs a fraction of a machine.

use super::Effect;

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
    last_response: Option<Vec<u8>>,
    reliable: bool,
}

impl ServerNonInvite {
    pub fn new(reliable: bool) -> Self {
        ServerNonInvite {
            state: State::Trying,
            last_response: None,
            reliable,
        }
    }

    /// A retransmission of the request: repeat the provisional response, if any.
    pub fn on_retransmit(&mut self, fx: &mut Vec<Effect>) {
        if self.state == State::Proceeding {
            fx.extend(self.last_response.clone().map(Effect::Send));
        }
    }

    pub fn send_response(&mut self, code: u16, bytes: Vec<u8>, fx: &mut Vec<Effect>) {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return;
        }
        fx.push(Effect::Send(bytes.clone()));
        self.last_response = Some(bytes);
        self.state = if code < 200 {
            State::Proceeding
        } else if self.reliable {
            // A reliable transport repeats nothing: Timer J is zero.
            State::Terminated
        } else {
            State::Completed
        };
    }

    /// The final response of a Completed transaction, for the lingering table.
    pub fn take_final(&mut self) -> Option<Vec<u8>> {
        match self.state {
            State::Completed => self.last_response.take(),
            _ => None,
        }
    }
}
