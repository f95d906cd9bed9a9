//! The phone as one sans-IO loop: its transactions, its registration and its lines.
//!
//! Methods come in quinn-proto's four groups: getters, `handle_*` to feed input,
//! commands (in `incoming` and `outgoing`), and `poll_*` to drain what it wants to
//! send and report. After every input or command, drain `poll_transmit` and
//! `poll_event` until empty, then sleep until `poll_timeout`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rsip::Header;
use switchboard_sip::ids::Ids;
use switchboard_sip::message::{self, Message};
use switchboard_sip::service::ALLOW;
use switchboard_sip::transaction::{
    ClientId, Peer, TimerConfig, TransactionEvent, TransactionLayer, Transport,
};
use switchboard_sip::trunk_registration::{
    Account, LinkConfig, LinkIds, LinkState, LinkStatus, Local, Purpose, TrunkLink,
};

use switchboard_media::tones::{ToneGenerator, ToneSpec};

use crate::config::PhoneConfig;
use crate::line::{EndReason, Line, LineId, LineInfo, LineState, Party, RecentCall, Setup};

pub(crate) const USER_AGENT: &str = "Switchboard phone";

/// How many ended calls the phone remembers for its panel.
pub const RECENT_CALLS: usize = 20;

/// What a muted microphone sends.
static SILENCE: [i16; crate::FRAME_SAMPLES] = [0; crate::FRAME_SAMPLES];

/// The phone's own ring while a call waits for an answer and nothing else is heard: a
/// two-tone trill, twice, then a pause.
const RINGER: ToneSpec = ToneSpec {
    frequencies: &[660.0, 880.0],
    cadence: &[(400, 200), (400, 2000)],
};

/// A short beep every few seconds over the call being talked on: a second call waits.
const CALL_WAITING: ToneSpec = ToneSpec {
    frequencies: &[425.0],
    cadence: &[(300, 200), (300, 5000)],
};

/// Which of the edge's sockets a datagram came in on or goes out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Socket {
    Sip,
    /// The RTP socket of a line (`PhoneConfig::media[line]`).
    Line(LineId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub socket: Socket,
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
}

/// Whether the phone is signed in to the server, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "state", rename_all = "snake_case")
)]
pub enum SignIn {
    Starting,
    SignedIn {
        expires: u32,
    },
    /// The server refused the extension or its password.
    Refused {
        code: u16,
        reason: String,
    },
    /// The server does not answer; the phone keeps trying.
    Unreachable,
    SignedOut,
}

impl SignIn {
    fn of(state: &LinkState) -> SignIn {
        match state {
            LinkState::Registered { expires } => SignIn::SignedIn { expires: *expires },
            LinkState::Refused { code, reason } => SignIn::Refused {
                code: *code,
                reason: reason.clone(),
            },
            LinkState::Unreachable => SignIn::Unreachable,
            LinkState::Stopped => SignIn::SignedOut,
            LinkState::Starting | LinkState::Reachable | LinkState::Unwatched => SignIn::Starting,
        }
    }
}

/// What the phone tells the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "event", rename_all = "snake_case")
)]
pub enum PhoneEvent {
    /// Signed in, refused, or out of reach.
    SignIn { state: SignIn },
    /// A line rang, was answered, held, resumed, or its call started.
    Line(LineInfo),
    Ended {
        line: LineId,
        party: Party,
        reason: EndReason,
    },
    /// The other end pressed a key.
    Key { line: LineId, key: char },
    /// A transfer we asked for did not go through: the line's call is still ours.
    TransferFailed { line: LineId, code: u16 },
}

/// A command the phone cannot carry out, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("every line is busy")]
    NoFreeLine,
    #[error("no call on line {}", .0.0)]
    NoCall(LineId),
    #[error("the call on line {} cannot do that now", .0.0)]
    WrongState(LineId),
    #[error("{0:?} is not a number the phone can dial")]
    BadNumber(String),
    #[error("{0:?} is not a telephone key")]
    BadKey(char),
}

/// What one of our client transactions was sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Registration(Purpose),
    Invite(LineId),
    ReInvite(LineId),
    /// An INVITE we cancelled after its line ended: a late 2xx is acknowledged and
    /// hung up at once.
    Abandoned,
    /// BYE, CANCEL, INFO, REFER: their answers change nothing.
    Other,
}

pub struct Phone {
    pub(crate) config: PhoneConfig,
    pub(crate) ids: Ids,
    pub(crate) layer: TransactionLayer,
    pub(crate) timers: TimerConfig,
    registration: TrunkLink,
    reported: SignIn,
    /// The microphone is off: silence is sent instead.
    muted: bool,
    /// The calls that ended, newest first, at most [`RECENT_CALLS`].
    recent: VecDeque<RecentCall>,
    /// The ringer or the call-waiting beep, while a call rings.
    ring: Option<ToneGenerator>,
    pub(crate) lines: Vec<Option<Line>>,
    pub(crate) sent: HashMap<ClientId, Sent>,
    /// The INVITEs of abandoned calls, for the ACK and BYE a late 2xx needs.
    pub(crate) abandoned: HashMap<ClientId, rsip::Request>,
    transmits: VecDeque<Datagram>,
    pub(crate) events: VecDeque<PhoneEvent>,
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phone")
            .field("user", &self.config.user)
            .field("registration", &self.reported)
            .finish()
    }
}

impl Phone {
    /// A phone that registers at once. `key` seeds its identifiers (tags, Call-IDs,
    /// branches, SSRCs): fresh OS randomness in the app, fixed in tests.
    pub fn new(now: Instant, config: PhoneConfig, key: [u8; 32]) -> Self {
        let mut ids = Ids::new(key);
        let link = LinkConfig {
            domain: config.domain.clone(),
            account: Some(Account {
                user: config.user.clone(),
                auth_user: config.user.clone(),
                password: config.password.clone(),
                expires: config.expires,
            }),
            keepalive: Some(config.keepalive),
        };
        let link_ids = LinkIds {
            call_id: ids.token(),
            from_tag: ids.token(),
        };
        let local = Local {
            addr: config.local,
            transport: Transport::Udp,
        };
        let timers = TimerConfig::default();
        let mut phone = Phone {
            lines: (0..config.media.len()).map(|_| None).collect(),
            registration: TrunkLink::new(now, link, link_ids, local),
            config,
            ids,
            layer: TransactionLayer::new(timers),
            timers,
            reported: SignIn::Starting,
            muted: false,
            ring: None,
            recent: VecDeque::new(),
            sent: HashMap::new(),
            abandoned: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        phone.drain(now);
        phone
    }

    // --- getters

    pub fn registration(&self) -> &LinkStatus {
        self.registration.status()
    }

    pub fn sign_in(&self) -> SignIn {
        self.reported.clone()
    }

    pub fn is_muted(&self) -> bool {
        self.muted
    }

    /// The calls that ended, newest first.
    pub fn recent(&self) -> impl Iterator<Item = &RecentCall> {
        self.recent.iter()
    }

    /// No line has a call.
    pub fn is_idle(&self) -> bool {
        self.lines.iter().all(Option::is_none)
    }

    /// Every line with a call, in line order.
    pub fn lines(&self) -> Vec<LineInfo> {
        self.lines
            .iter()
            .flatten()
            .map(|l| l.info.clone())
            .collect()
    }

    // --- handle_*

    /// A datagram on one of the phone's sockets.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        socket: Socket,
        from: SocketAddr,
        bytes: &[u8],
    ) {
        match socket {
            Socket::Sip => {
                let peer = Peer {
                    transport: Transport::Udp,
                    addr: from,
                };
                match message::parse(bytes) {
                    Ok(Message::Request(request)) => self.layer.handle_request(now, request, peer),
                    Ok(Message::Response(response)) => self.layer.handle_response(now, response),
                    // Only the server talks to the phone; what it cannot read is dropped.
                    Err(_) => {}
                }
            }
            Socket::Line(id) => {
                if let Some(line) = self.line_mut(id)
                    && let Some(key) = line.audio.receive(now, from, bytes)
                {
                    self.events.push_back(PhoneEvent::Key { line: id, key });
                }
            }
        }
        self.drain(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        self.resend_answers(now);
        self.drain(now);
    }

    /// One 20-ms frame each way ([`crate::FRAME_SAMPLES`] at [`crate::PCM_RATE`]):
    /// the microphone goes to the call being talked on, and the speaker gets that call,
    /// or the ringback or announcement of a call still ringing at the other end; a
    /// call ringing here rings (over a call being talked on: a beep now and then).
    pub fn exchange_audio(&mut self, mic: &[i16], speaker: &mut [i16]) {
        speaker.fill(0);
        self.talk(mic, speaker);
        self.sound_ringer(speaker);
    }

    fn sound_ringer(&mut self, speaker: &mut [i16]) {
        let in_state = |wanted: &[LineState]| {
            self.lines
                .iter()
                .flatten()
                .any(|l| wanted.contains(&l.info.state))
        };
        if !in_state(&[LineState::Ringing]) {
            self.ring = None;
            return;
        }
        let busy = in_state(&[LineState::Talking, LineState::Alerting]);
        let ring = self.ring.get_or_insert_with(|| {
            ToneGenerator::new(if busy { CALL_WAITING } else { RINGER }, crate::PCM_RATE)
        });
        let mut tone = [0i16; crate::FRAME_SAMPLES];
        let n = speaker.len().min(tone.len());
        ring.fill(&mut tone[..n]);
        for (out, t) in speaker.iter_mut().zip(&tone[..n]) {
            *out = out.saturating_add(*t);
        }
    }

    fn talk(&mut self, mic: &[i16], speaker: &mut [i16]) {
        let slot = |state: LineState| {
            self.lines
                .iter()
                .position(|l| l.as_ref().is_some_and(|l| l.info.state == state))
        };
        let talking = slot(LineState::Talking);
        let heard = talking.or_else(|| slot(LineState::Alerting));
        if let Some(line) = heard.and_then(|i| self.lines[i].as_mut()) {
            line.audio.play(speaker);
        }
        let mic = if self.muted { &SILENCE[..] } else { mic };
        if let Some(line) = talking.and_then(|i| self.lines[i].as_mut())
            && let Some((to, bytes)) = line.audio.send(mic)
        {
            let socket = Socket::Line(line.info.line);
            self.transmits.push_back(Datagram { socket, to, bytes });
        }
    }

    /// Turns the microphone off (silence is sent) or on again, for every call.
    pub fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
    }

    /// Unregisters and ends every call: the app is closing.
    pub fn stop(&mut self, now: Instant) {
        let ids: Vec<LineId> = self.lines().iter().map(|l| l.line).collect();
        for id in ids {
            let _ = self.hang_up(now, id);
        }
        self.registration.stop(now);
        self.drain(now);
    }

    // --- poll_*

    pub fn poll_transmit(&mut self) -> Option<Datagram> {
        if let Some(datagram) = self.transmits.pop_front() {
            return Some(datagram);
        }
        let t = self.layer.poll_transmit()?;
        Some(Datagram {
            socket: Socket::Sip,
            to: t.peer.addr,
            bytes: t.bytes,
        })
    }

    pub fn poll_event(&mut self) -> Option<PhoneEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let answers = self
            .lines
            .iter()
            .flatten()
            .filter_map(|l| l.unacknowledged.as_ref().map(|u| u.next));
        [self.layer.poll_timeout(), self.registration.poll_timeout()]
            .into_iter()
            .flatten()
            .chain(answers)
            .min()
    }

    // --- shared by the commands and the handlers

    pub(crate) fn server(&self) -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: self.config.server,
        }
    }

    /// Where the server reaches us: the address it saw our REGISTER from, once it said.
    pub(crate) fn contact_addr(&self) -> SocketAddr {
        self.registration
            .status()
            .public
            .unwrap_or(self.config.local)
    }

    pub(crate) fn contact(&self) -> Header {
        Header::Contact(format!("<sip:{}@{}>", self.config.user, self.contact_addr()).into())
    }

    pub(crate) fn via(&mut self) -> String {
        format!(
            "SIP/2.0/UDP {};branch=z9hG4bK{};rport",
            self.contact_addr(),
            self.ids.token()
        )
    }

    pub(crate) fn common_headers(&self) -> Vec<Header> {
        vec![
            self.contact(),
            Header::Allow(ALLOW.into()),
            Header::UserAgent(USER_AGENT.into()),
        ]
    }

    pub(crate) fn send_request(
        &mut self,
        now: Instant,
        request: rsip::Request,
        sent: Sent,
    ) -> Option<ClientId> {
        let id = self.layer.send_request(now, request, self.server())?;
        self.sent.insert(id, sent);
        Some(id)
    }

    /// Bytes outside any transaction: ACKs to 2xx and our 2xx sent again.
    pub(crate) fn send_raw(&mut self, bytes: Vec<u8>) {
        self.transmits.push_back(Datagram {
            socket: Socket::Sip,
            to: self.config.server,
            bytes,
        });
    }

    pub(crate) fn line_mut(&mut self, id: LineId) -> Option<&mut Line> {
        self.lines.get_mut(id.0).and_then(Option::as_mut)
    }

    pub(crate) fn free_line(&self) -> Option<LineId> {
        self.lines.iter().position(Option::is_none).map(LineId)
    }

    /// Moves a line to `state` and tells the panel.
    pub(crate) fn set_state(&mut self, now: Instant, id: LineId, state: LineState) {
        if let Some(line) = self.line_mut(id) {
            if line.info.state != state {
                line.info.state = state;
                line.info.since = now;
            }
            line.info.held_by_party = line.audio.held_by_party();
            let info = line.info.clone();
            self.events.push_back(PhoneEvent::Line(info));
        }
    }

    /// Frees a line and tells the panel why its call ended.
    pub(crate) fn end(&mut self, id: LineId, reason: EndReason) {
        let Some(line) = self.lines.get_mut(id.0).and_then(Option::take) else {
            return;
        };
        self.sent
            .retain(|_, s| !matches!(s, Sent::Invite(l) | Sent::ReInvite(l) if *l == id));
        self.recent.push_front(RecentCall {
            party: line.info.party.clone(),
            direction: line.info.direction,
            answered: matches!(line.setup, Setup::Done),
        });
        self.recent.truncate(RECENT_CALLS);
        self.events.push_back(PhoneEvent::Ended {
            line: id,
            party: line.info.party,
            reason,
        });
    }

    /// The line, among the others, whose call is being talked on.
    pub(crate) fn talking_line(&self) -> Option<LineId> {
        self.lines
            .iter()
            .flatten()
            .find(|l| l.info.state == LineState::Talking)
            .map(|l| l.info.line)
    }

    /// Drains the transaction layer and the registration until neither has more.
    fn drain(&mut self, now: Instant) {
        loop {
            let ids = &mut self.ids;
            if let Some((request, purpose)) =
                self.registration.poll_request(now, &mut || ids.token())
            {
                self.send_request(now, request, Sent::Registration(purpose));
                continue;
            }
            if let Some(event) = self.layer.poll_event() {
                self.transaction_event(now, event);
                continue;
            }
            break;
        }
        let state = SignIn::of(&self.registration.status().state);
        if state != self.reported {
            self.reported = state.clone();
            self.events.push_back(PhoneEvent::SignIn { state });
        }
    }

    fn transaction_event(&mut self, now: Instant, event: TransactionEvent) {
        match event {
            TransactionEvent::Request { id, request, peer } => self.request(now, id, request, peer),
            TransactionEvent::Ack { request, peer } => self.ack(&request, peer),
            TransactionEvent::Response { id, response } => self.response(now, id, response),
            TransactionEvent::ClientTimeout { id } => match self.sent.remove(&id) {
                Some(Sent::Registration(purpose)) => {
                    self.registration.handle_no_answer(now, purpose)
                }
                Some(Sent::Invite(line)) => self.end(
                    line,
                    EndReason::Failed {
                        code: 408,
                        reason: "Request Timeout".into(),
                    },
                ),
                Some(Sent::ReInvite(line)) => {
                    if let Some(line) = self.line_mut(line) {
                        line.reinvite = None;
                    }
                }
                Some(Sent::Abandoned) => {
                    self.abandoned.remove(&id);
                }
                Some(Sent::Other) | None => {}
            },
            TransactionEvent::ServerTimeout { .. } => {}
        }
    }

    fn response(&mut self, now: Instant, id: ClientId, response: rsip::Response) {
        let Some(&sent) = self.sent.get(&id) else {
            return;
        };
        let code = response.status_code.code();
        match sent {
            Sent::Registration(purpose) => {
                if code >= 200 {
                    self.sent.remove(&id);
                }
                self.registration.handle_response(now, purpose, &response);
            }
            Sent::Invite(line) => self.invite_answered(now, id, line, &response),
            Sent::ReInvite(line) => self.reinvite_answered(id, line, &response),
            Sent::Abandoned => self.abandoned_answered(now, id, &response),
            Sent::Other => {
                if code >= 200 {
                    self.sent.remove(&id);
                }
            }
        }
    }

    /// Our 2xx answers, sent again until their ACK comes; a call whose ACK never
    /// comes is hung up (RFC 3261 §13.3.1.4).
    fn resend_answers(&mut self, now: Instant) {
        let t2 = self.timers.t2;
        let mut lost = Vec::new();
        let mut again = Vec::new();
        for line in self.lines.iter_mut().flatten() {
            let Some(u) = line.unacknowledged.as_mut() else {
                continue;
            };
            if u.next > now {
                continue;
            }
            if now >= u.give_up {
                line.unacknowledged = None;
                lost.push(line.info.line);
                continue;
            }
            again.push(u.bytes.clone());
            u.interval = (u.interval * 2).min(t2);
            u.next = now + u.interval;
        }
        for bytes in again {
            self.send_raw(bytes);
        }
        for id in lost {
            self.send_bye(now, id);
            self.end(
                id,
                EndReason::Failed {
                    code: 408,
                    reason: "No ACK".into(),
                },
            );
        }
    }

    /// How long a 2xx is sent again before the call is given up.
    pub(crate) fn ack_wait(&self) -> Duration {
        self.timers.t1 * 64
    }
}
