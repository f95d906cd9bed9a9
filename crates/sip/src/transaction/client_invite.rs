//! INVITE client transaction, RFC 3261 §17.1.1 (Figure 5) with RFC 6026's Accepted state.

use std::time::{Duration, Instant};

use super::Effect;
use super::timers::{Timer, TimerConfig, TimerTable};
use crate::message::{header_value, request_bytes};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub(crate) struct ClientInvite {
    pub state: State,
    pub timers: TimerTable,
    request: rsip::Request,
    request_bytes: Vec<u8>,
    ack: Option<Vec<u8>>,
    retransmit_interval: Duration,
    reliable: bool,
    config: TimerConfig,
}

impl ClientInvite {
    pub fn start(
        now: Instant,
        request: rsip::Request,
        reliable: bool,
        config: TimerConfig,
        fx: &mut Vec<Effect>,
    ) -> Self {
        let mut timers = TimerTable::default();
        if !reliable {
            timers.set(Timer::A, now + config.t1);
        }
        timers.set(Timer::B, now + config.timeout());
        let bytes = request_bytes(&request);
        fx.push(Effect::Send(bytes.clone()));
        ClientInvite {
            state: State::Calling,
            timers,
            request,
            request_bytes: bytes,
            ack: None,
            retransmit_interval: config.t1,
            reliable,
            config,
        }
    }

    pub fn on_response(&mut self, now: Instant, response: rsip::Response, fx: &mut Vec<Effect>) {
        let code = response.status_code.code();
        match (self.state, code) {
            (State::Calling | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.timers.clear(Timer::A);
                self.timers.clear(Timer::B);
                fx.push(Effect::Deliver(response));
            }
            (State::Calling | State::Proceeding, 200..=299) => {
                self.timers.clear_all();
                self.state = State::Accepted;
                self.timers.set(Timer::M, now + self.config.timeout());
                fx.push(Effect::Deliver(response));
            }
            // 2xx retransmissions go to the user, who acknowledges them end to end.
            (State::Accepted, 200..=299) => fx.push(Effect::Deliver(response)),
            (State::Calling | State::Proceeding, 300..) => {
                self.timers.clear_all();
                let ack = request_bytes(&ack_for_failure(&self.request, &response));
                fx.push(Effect::Send(ack.clone()));
                self.ack = Some(ack);
                self.state = State::Completed;
                let linger = if self.reliable {
                    Duration::ZERO
                } else {
                    Duration::from_secs(32)
                };
                self.timers.set(Timer::D, now + linger);
                fx.push(Effect::Deliver(response));
            }
            (State::Completed, 300..) => fx.extend(self.ack.clone().map(Effect::Send)),
            _ => {}
        }
    }

    pub fn on_timer(&mut self, now: Instant, timer: Timer, fx: &mut Vec<Effect>) {
        match (self.state, timer) {
            (State::Calling, Timer::A) => {
                fx.push(Effect::Send(self.request_bytes.clone()));
                self.retransmit_interval *= 2;
                self.timers.set(Timer::A, now + self.retransmit_interval);
            }
            (State::Calling, Timer::B) => {
                self.timers.clear_all();
                self.state = State::Terminated;
                fx.push(Effect::TimedOut);
            }
            (State::Completed, Timer::D) | (State::Accepted, Timer::M) => {
                self.state = State::Terminated;
            }
            _ => {}
        }
    }
}

/// The hop-by-hop ACK for a failure response (RFC 3261 §17.1.1.3): the INVITE's
/// Request-URI, top Via, From, Call-ID, CSeq number and Route, and the response's To.
fn ack_for_failure(invite: &rsip::Request, response: &rsip::Response) -> rsip::Request {
    use rsip::Header;
    use rsip::headers::UntypedHeader;
    let mut headers = rsip::Headers::default();
    let mut took_via = false;
    for h in invite.headers.iter() {
        match h {
            Header::Via(_) if !took_via => {
                took_via = true;
                headers.push(h.clone());
            }
            Header::From(_) | Header::CallId(_) | Header::Route(_) | Header::MaxForwards(_) => {
                headers.push(h.clone())
            }
            Header::CSeq(c) => {
                let num = c.value().split_whitespace().next().unwrap_or("1");
                headers.push(Header::CSeq(format!("{num} ACK").into()));
            }
            _ => {}
        }
    }
    if let Some(to) = header_value(&response.headers, "To") {
        headers.push(Header::To(to.to_string().into()));
    }
    rsip::Request {
        method: rsip::Method::Ack,
        uri: invite.uri.clone(),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}
