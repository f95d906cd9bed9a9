//! The engine's front door: the SIP endpoint plus every call in progress.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use rsip::{Header, Method};
use switchboard_media::dtmf::Dtmf;
use switchboard_media::relay::{LegMedia, Side};
use switchboard_sip::message::{header_value, response_bytes};
use switchboard_sip::registrar::BindingChange;
use switchboard_sip::service::{ALLOW, Service, ServiceConfig};
use switchboard_sip::transaction::{Peer, ServerId, TransactionEvent, Transmit, Transport};

use crate::call::{AckWait, Call};
use crate::ids::Ids;
use crate::ports::MediaPorts;
use crate::record::CallRecord;

/// A call's handle, shared with the media edge.
pub type CallKey = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxConfig {
    pub sip: ServiceConfig,
    /// The SIP port Switchboard listens on, for Via and Contact.
    pub sip_port: u16,
    /// The SIP over TLS port, when Switchboard listens for TLS.
    pub tls_port: Option<u16>,
    /// The address phones reach Switchboard at, for Via, Contact and SDP. Phones on
    /// loopback are told the loopback address instead.
    pub advertise_ip: IpAddr,
    /// RTP port range, inclusive.
    pub media_ports: (u16, u16),
    /// How long the callee's phones ring before the caller hears "no answer".
    pub ring_timeout: Duration,
}

/// What a leg waiting alone hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// Music on hold: waiting in a queue, held.
    Music,
    /// The ringing tone: a phone is ringing for them.
    Ringback,
}

/// What a caller hears when a call cannot go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    Busy,
    Unavailable,
    NoSuchNumber,
    /// Answers to an agent's feature code (see [`crate::FeatureCode`]).
    AgentLoggedIn,
    AgentLoggedOut,
    AgentOnBreak,
    AgentBack,
    /// "Calls from your number are not accepted", before a block list's 603.
    Blocked,
    /// "We will call you back…", to a queue caller who pressed 1.
    CallbackAccepted,
    /// "Queue call." to a callback's agent before the customer is rung.
    CallbackWhisper,
}

/// Pieces of what Switchboard says to a leg, each one built-in prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Word {
    /// "You are caller number"
    QueuePosition,
    /// "Your estimated waiting time, in minutes, is"
    QueueWait,
    /// "You will be connected in less than a minute."
    QueueWaitShort,
    /// "more than", before the largest number said.
    MoreThan,
    /// A number from 0 to [`Word::MAX_NUMBER`].
    Number(u32),
    /// "Thank you for waiting…"
    QueueComfort,
    /// "Queue call." to an agent before the caller is put through.
    QueueWhisper,
    /// "Waited, in minutes:", in that whisper.
    QueueWaited,
    /// "To be called back without losing your place, press 1."
    QueueCallbackOffer,
    /// "Please hold…", to a caller whose agent a VIP takes over.
    QueueHold,
    /// "A priority caller is waiting…", to the agent a VIP will take over.
    QueueVipWarning,
}

impl Word {
    pub const MAX_NUMBER: u32 = 60;
}

/// What the media edge must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCommand {
    /// Bind the RTP (and RTCP) sockets facing A (`ports[0]`) and B (`ports[1]`).
    Open {
        call: CallKey,
        ports: [u16; 2],
    },
    /// Relay between the legs as negotiated (replaces an earlier bridge).
    Bridge {
        call: CallKey,
        a: LegMedia,
        b: LegMedia,
    },
    /// A re-INVITE changed one leg.
    Update {
        call: CallKey,
        side: Side,
        media: LegMedia,
    },
    /// Play an announcement once to leg `side`, whose media is `to` (the caller, or a
    /// callback's agent), then report [`Pbx::handle_announcement_done`].
    Announce {
        call: CallKey,
        side: Side,
        to: LegMedia,
        what: Announcement,
    },
    /// Play music on hold to leg `to` (its other side put the call on hold), or stop.
    Music {
        call: CallKey,
        to: Side,
        on: bool,
    },
    /// Leg `side` (media `media`) waits alone: a caller in a queue hears music, one
    /// whose scenario rings phones and a callback's agent while the customer's phone
    /// rings hear ringback.
    Wait {
        call: CallKey,
        side: Side,
        media: LegMedia,
        hears: Waiting,
    },
    /// Say `words` once to leg `to`, then go back to what it heard (music while
    /// waiting, the other leg once bridged); the other leg hears music meanwhile.
    Say {
        call: CallKey,
        to: Side,
        words: Vec<Word>,
    },
    /// Say `words` once to leg `to` only, over the call: the other leg keeps hearing
    /// it (a warning to an agent while their caller talks on).
    Whisper {
        call: CallKey,
        to: Side,
        words: Vec<Word>,
    },
    /// Play `sounds` one after another to the caller, whose media is `to`, then
    /// report [`Pbx::handle_announcement_done`]; none stops what was playing.
    Prompt {
        call: CallKey,
        to: LegMedia,
        sounds: Vec<crate::voicemail::Sound>,
    },
    /// Record what the caller (media `to`) says, within `limits`, into a message
    /// (then report [`Pbx::handle_recorded`]) or a box's greeting (then
    /// [`Pbx::handle_greeting_recorded`]); closing the call ends it too.
    Record {
        call: CallKey,
        to: LegMedia,
        into: crate::voicemail::RecordInto,
        limits: crate::voicemail::RecordLimits,
    },
    /// End the message being recorded now (the caller pressed `#`).
    StopRecording {
        call: CallKey,
    },
    /// Send a key press to one leg as RFC 4733 telephone events.
    SendDtmf {
        call: CallKey,
        to: Side,
        dtmf: Dtmf,
    },
    Close {
        call: CallKey,
    },
}

#[derive(Debug)]
pub enum Output {
    Transmit(Transmit),
    Media(MediaCommand),
    CallOpened(crate::record::CallOpened),
    CallRecord(CallRecord),
    Binding(BindingChange),
    QueueEvent(crate::queue_calls::QueueEventRecord),
    Voicemail(crate::voicemail::VoicemailChange),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CallTimer {
    RingTimeout,
    Retransmit2xx,
    /// The announcement should have ended by now; answer the caller anyway.
    AnnouncementTimeout,
    /// A scenario's menu timeout or ring time.
    Scenario,
    /// The voicemail menu waited long enough for a key.
    Voicemail,
}

/// When an input happened: monotonic time for timers, wall-clock time for schedules,
/// call records and the phones' `Date`. A PC that sleeps stops the first and not the
/// second, and NTP or a DST change moves the second and not the first, so the engine
/// takes both with every input and never derives one from the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub mono: Instant,
    pub wall: SystemTime,
}

#[derive(Debug)]
pub struct Pbx {
    pub(crate) config: PbxConfig,
    pub(crate) sip: Service,
    pub(crate) ids: Ids,
    pub(crate) ports: MediaPorts,
    pub(crate) calls: HashMap<CallKey, Call>,
    pub(crate) by_invite: HashMap<ServerId, CallKey>,
    pub(crate) by_fork: HashMap<switchboard_sip::transaction::ClientId, (CallKey, usize)>,
    /// In-dialog requests find their call by Call-ID and our tag.
    pub(crate) by_dialog: HashMap<(String, String), crate::in_dialog::DialogRoute>,
    pub(crate) timers: BTreeSet<(Instant, CallKey, CallTimer)>,
    pub(crate) outputs: VecDeque<Output>,
    /// Agents' extensions that had a phone registered at the last look, so only a
    /// phone coming or going (not a refresh) moves a registration-following agent.
    pub(crate) agents_registered: std::collections::HashSet<String>,
    /// The queue engine, and the numbers that reach its queues (by queue id).
    pub(crate) acd: switchboard_queue::Acd,
    pub(crate) queue_numbers: HashMap<String, switchboard_queue::QueueId>,
    pub(crate) queue_names: Vec<String>,
    /// The call each queue offer rings agents for.
    pub(crate) queue_offers: HashMap<switchboard_queue::OfferId, CallKey>,
    /// Switchboard's re-INVITEs moving an agent's audio between calls, with the dialog
    /// their 2xx is acknowledged in.
    pub(crate) reinvites:
        HashMap<switchboard_sip::transaction::ClientId, switchboard_sip::dialog::Dialog>,
    /// Callers waiting to be called back, by the engine's name for them.
    pub(crate) callback_requests:
        HashMap<switchboard_queue::CallId, crate::callbacks::CallbackRequest>,
    /// Named number lists (VIP, block) and the office's country code they are compared
    /// with.
    pub(crate) lists: Vec<crate::numbers::NumberList>,
    pub(crate) country_code: Option<String>,
    /// Scenarios, the inbound numbers that run them and what they refer to.
    pub(crate) scenarios: crate::scenario_calls::Scenarios,
    /// The boxes' messages and those being recorded.
    pub(crate) voicemail: crate::voicemail::Voicemail,
    /// PIN hashes of the boxes that have one.
    pub(crate) voicemail_pins: HashMap<String, String>,
    /// Phones' message waiting subscriptions.
    pub(crate) subscriptions: crate::mwi::Subscriptions,
    /// Extensions on calls the queues do not manage, with how many such calls each.
    pub(crate) busy_extensions: HashMap<String, usize>,
    /// The time of the last input, for registrations that surface while outputs drain.
    pub(crate) last_now: Instant,
    /// The clock of the input being handled.
    pub(crate) clock: Clock,
    next_call: CallKey,
}

impl Pbx {
    /// `secret` keys digest nonces and `seed` the tags, branches and Call-IDs: fresh
    /// random bytes at each start.
    pub fn new(config: PbxConfig, secret: [u8; 32], seed: [u8; 32], clock: Clock) -> Self {
        let Clock { mono: now, wall } = clock;
        let mut ids = Ids::new(seed);
        Pbx {
            sip: Service::new(config.sip.clone(), secret, now, wall),
            ports: MediaPorts::new(config.media_ports.0, config.media_ports.1),
            config,
            acd: switchboard_queue::Acd::new(ids.next()),
            ids,
            calls: HashMap::new(),
            by_invite: HashMap::new(),
            by_fork: HashMap::new(),
            by_dialog: HashMap::new(),
            timers: BTreeSet::new(),
            outputs: VecDeque::new(),
            agents_registered: std::collections::HashSet::new(),
            queue_numbers: HashMap::new(),
            queue_names: Vec::new(),
            queue_offers: HashMap::new(),
            callback_requests: HashMap::new(),
            reinvites: HashMap::new(),
            lists: Vec::new(),
            country_code: None,
            scenarios: Default::default(),
            voicemail: Default::default(),
            subscriptions: Default::default(),
            voicemail_pins: HashMap::new(),
            busy_extensions: HashMap::new(),
            last_now: now,
            next_call: 0,
            clock: Clock { mono: now, wall },
        }
    }

    // --- getters

    pub fn service(&self) -> &Service {
        &self.sip
    }

    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    // --- handle_*

    pub fn handle_datagram(&mut self, clock: Clock, peer: Peer, bytes: &[u8]) {
        let now = self.tick(clock);
        self.sip.handle_datagram(now, peer, bytes);
        self.drain(now);
    }

    pub fn handle_timeout(&mut self, clock: Clock) {
        let now = self.tick(clock);
        self.sip.handle_timeout(now);
        self.acd.handle_timeout(now);
        self.run_queue(now);
        self.expire_subscriptions(now);
        while let Some(&(at, key, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            match timer {
                CallTimer::RingTimeout => self.ring_timeout(now, key),
                CallTimer::Retransmit2xx => self.retransmit_2xx(now, key),
                CallTimer::AnnouncementTimeout => self.finish_announcement(now, key),
                CallTimer::Scenario => self.scenario_timeout(now, key),
                CallTimer::Voicemail => self.menu_timeout(now, key),
            }
        }
        self.drain(now);
    }

    /// RTP ports (the even one of each pair) that another program on this PC holds:
    /// no call is given them.
    pub fn retire_ports(&mut self, ports: &[u16]) {
        self.ports.retire(ports);
    }

    /// The media edge could not open a call's sockets: something else holds those
    /// ports, so they leave the pool for good and the call ends with 503.
    pub fn handle_media_failed(&mut self, clock: Clock, call: CallKey) {
        let now = self.tick(clock);
        if let Some(c) = self.calls.get_mut(&call) {
            c.ports_taken_elsewhere = true;
        }
        self.abort(now, call, 503, "Media ports unavailable");
        self.drain(now);
    }

    /// The announcement for a failed call has played.
    pub fn handle_announcement_done(&mut self, clock: Clock, call: CallKey) {
        let now = self.tick(clock);
        self.finish_announcement(now, call);
        self.drain(now);
    }

    /// A key pressed on `from`'s phone arrived as RFC 4733, which the other leg did not
    /// negotiate: it goes on as SIP INFO.
    pub fn handle_dtmf(&mut self, clock: Clock, call: CallKey, from: Side, dtmf: Dtmf) {
        let now = self.tick(clock);
        if from != Side::A || !self.key_from_caller_alone(now, call, dtmf.key) {
            self.send_info_dtmf(now, call, from.other(), dtmf);
        }
        self.drain(now);
    }

    /// A key from a caller Switchboard answered itself goes to what they are in (a
    /// queue, a scenario, voicemail); false when they are in none of them.
    pub(crate) fn key_from_caller_alone(&mut self, now: Instant, call: CallKey, key: char) -> bool {
        use crate::call::Phase;
        match self.calls.get(&call).map(|c| c.phase) {
            Some(Phase::Queued) => self.queue_key(now, call, key),
            Some(Phase::Scenario) => {
                self.scenario_event(now, call, switchboard_scenario::run::Event::Key(key))
            }
            Some(Phase::Voicemail) => self.voicemail_key(now, call, key),
            _ => return false,
        }
        true
    }

    // --- mutators

    /// Replaces the number lists; `country_code` makes national numbers comparable with
    /// international ones (see [`crate::numbers::normalise`]).
    pub fn set_lists(
        &mut self,
        country_code: Option<String>,
        lists: Vec<crate::numbers::NumberList>,
    ) {
        self.country_code = country_code;
        self.lists = lists;
    }

    /// The lists `number` is on.
    pub(crate) fn lists_of(&self, number: &str) -> Vec<&crate::numbers::NumberList> {
        let Ok(number) = crate::numbers::normalise(number, self.country_code.as_deref()) else {
            return Vec::new();
        };
        self.lists
            .iter()
            .filter(|l| l.numbers.contains(&number))
            .collect()
    }

    /// The SIP endpoint, for accounts and restored registrations.
    pub fn service_mut(&mut self) -> &mut Service {
        &mut self.sip
    }

    // --- poll_*

    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(o) = self.outputs.pop_front() {
            return Some(o);
        }
        if let Some(t) = self.sip.poll_transmit() {
            return Some(Output::Transmit(t));
        }
        let change = self.sip.poll_binding_change()?;
        let aor = match &change {
            BindingChange::Upsert { aor, .. } | BindingChange::Remove { aor, .. } => aor.clone(),
        };
        self.agent_registration(self.last_now, &aor);
        Some(Output::Binding(change))
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = self.timers.first().map(|(at, _, _)| *at);
        [own, self.sip.poll_timeout(), self.acd.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    // --- internals shared by the call modules

    pub(crate) fn drain(&mut self, now: Instant) {
        while let Some(event) = self.sip.poll_event() {
            match event {
                TransactionEvent::Request { id, request, peer } => {
                    self.handle_request(now, id, request, peer)
                }
                TransactionEvent::Ack { request, peer } => self.handle_ack(now, &request, peer),
                TransactionEvent::Response { id, response } => {
                    self.handle_response(now, id, response)
                }
                TransactionEvent::ClientTimeout { id } => self.handle_client_timeout(now, id),
                // Our failure answer was never acknowledged; the call is already over.
                TransactionEvent::ServerTimeout { .. } => {}
            }
        }
    }

    fn handle_request(&mut self, now: Instant, id: ServerId, request: rsip::Request, peer: Peer) {
        let in_dialog = header_value(&request.headers, "To")
            .and_then(|to| switchboard_sip::header::NameAddr::parse(to, "To").ok())
            .is_some_and(|to| to.tag().is_some());
        match request.method {
            Method::Subscribe => self.handle_subscribe(now, id, request, peer),
            Method::Invite if !in_dialog => self.handle_invite(now, id, request, peer),
            Method::Cancel => self.handle_cancel(now, id, &request, peer),
            Method::Invite | Method::Bye | Method::Info if in_dialog => {
                self.handle_in_dialog(now, id, request, peer)
            }
            Method::Bye | Method::Info => {
                self.reply(now, id, &request, 481, "Call/Transaction Does Not Exist")
            }
            _ => {
                let tag = self.sip.stateless_tag(&request);
                let mut r = self.sip.response(&request, 405, "Method Not Allowed", &tag);
                r.headers.push(Header::Allow(ALLOW.into()));
                self.sip.respond(now, id, &r);
            }
        }
    }

    pub(crate) fn reply(
        &mut self,
        now: Instant,
        id: ServerId,
        request: &rsip::Request,
        code: u16,
        reason: &str,
    ) {
        let tag = self.sip.stateless_tag(request);
        let r = self.sip.response(request, code, reason, &tag);
        self.sip.respond(now, id, &r);
    }

    /// Takes up a new call, and says so for the store; its caller is busy from now.
    pub(crate) fn open_call(&mut self, now: Instant, key: CallKey, call: crate::call::Call) {
        let caller = call.caller.clone();
        self.outputs
            .push_back(Output::CallOpened(crate::record::CallOpened {
                call: key,
                call_id: call.a_dialog.call_id.clone(),
                caller: call.caller.clone(),
                callee: call.callee.clone(),
                started: call.started_wall,
            }));
        self.calls.insert(key, call);
        self.mark_busy(now, key, &caller);
    }

    pub(crate) fn new_call_key(&mut self) -> CallKey {
        self.next_call += 1;
        self.next_call
    }

    /// The wall-clock time at `t`, measured from the input being handled: exact for
    /// that input's own time; for another moment, as if the PC had not slept since.
    pub(crate) fn wall(&self, t: Instant) -> SystemTime {
        let Clock { mono, wall } = self.clock;
        if t >= mono {
            wall + (t - mono)
        } else {
            wall.checked_sub(mono - t).unwrap_or(wall)
        }
    }

    /// Takes up an input's clock; returns its monotonic time.
    pub(crate) fn tick(&mut self, clock: Clock) -> Instant {
        self.clock = clock;
        self.last_now = clock.mono;
        self.sip.handle_wall_clock(clock.mono, clock.wall);
        clock.mono
    }

    /// The address a peer should use for us: loopback for loopback peers.
    pub(crate) fn local_ip(&self, peer: Peer) -> IpAddr {
        if peer.addr.ip().is_loopback() {
            peer.addr.ip()
        } else {
            self.config.advertise_ip
        }
    }

    /// The port Switchboard takes `transport` on.
    fn port_for(&self, transport: Transport) -> u16 {
        match transport {
            Transport::Tls => self.config.tls_port.unwrap_or(self.config.sip_port),
            Transport::Udp | Transport::Tcp => self.config.sip_port,
        }
    }

    /// A Via for a request we originate towards `peer`, with a fresh branch.
    pub(crate) fn via(&mut self, peer: Peer) -> String {
        format!(
            "SIP/2.0/{} {}:{};branch=z9hG4bKsb{};rport",
            peer.transport.via_name(),
            self.local_ip(peer),
            self.port_for(peer.transport),
            self.ids.token()
        )
    }

    pub(crate) fn contact(&self, user: &str, peer: Peer) -> String {
        let transport = match peer.transport {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
        };
        format!(
            "<sip:{user}@{}:{}{transport}>",
            self.local_ip(peer),
            self.port_for(peer.transport)
        )
    }

    /// A response carrying Switchboard's session description, with a Contact for
    /// `user` as `peer` reaches us (200 to an INVITE or re-INVITE, 183 early media).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn response_with_sdp(
        &self,
        request: &rsip::Request,
        code: u16,
        reason: &str,
        tag: &str,
        user: &str,
        peer: Peer,
        local: &switchboard_media::sdp::LocalDescription,
    ) -> rsip::Response {
        let mut r = self.sip.response(request, code, reason, tag);
        r.headers
            .push(Header::Contact(self.contact(user, peer).into()));
        r.headers.push(Header::Allow(ALLOW.into()));
        r.headers
            .push(Header::ContentType("application/sdp".into()));
        r.body = local.to_bytes();
        r
    }

    /// Answers the caller's INVITE with `code` and Switchboard's description `local`;
    /// a 2xx is re-sent until the caller acknowledges it.
    pub(crate) fn answer_caller(
        &mut self,
        now: Instant,
        key: CallKey,
        code: u16,
        reason: &str,
        local: &switchboard_media::sdp::LocalDescription,
    ) {
        let Some((call, id)) = self.calls.get(&key).and_then(|c| Some((c, c.invite_id?))) else {
            return;
        };
        let (invite, a_peer) = (call.invite.clone(), call.a_peer);
        let (tag, callee) = (call.a_dialog.local_tag.clone(), call.callee.clone());
        let r = self.response_with_sdp(&invite, code, reason, &tag, &callee, a_peer, local);
        self.sip.respond(now, id, &r);
        if (200..300).contains(&code) {
            self.await_ack(now, key, Side::A, &r, a_peer);
        }
    }

    /// Sends a 2xx we answered on a leg and keeps re-sending it until the ACK.
    pub(crate) fn await_ack(
        &mut self,
        now: Instant,
        key: CallKey,
        side: Side,
        response: &rsip::Response,
        peer: Peer,
    ) {
        if peer.transport.is_reliable() {
            return;
        }
        let t1 = self.config.sip.timers.t1;
        let wait = AckWait {
            bytes: response_bytes(response),
            peer,
            next: now + t1,
            interval: t1,
            give_up: now + 64 * t1,
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.awaiting_ack[side as usize] = Some(wait);
            self.timers
                .insert((now + t1, key, CallTimer::Retransmit2xx));
        }
    }

    fn retransmit_2xx(&mut self, now: Instant, key: CallKey) {
        let t2 = self.config.sip.timers.t2;
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let mut resend = Vec::new();
        let mut gave_up = false;
        for slot in call.awaiting_ack.iter_mut() {
            let Some(wait) = slot else { continue };
            if now >= wait.give_up {
                *slot = None;
                gave_up = true;
            } else if now >= wait.next {
                resend.push(Transmit {
                    peer: wait.peer,
                    bytes: wait.bytes.clone(),
                });
                wait.interval = (wait.interval * 2).min(t2);
                wait.next = (now + wait.interval).min(wait.give_up);
            }
        }
        let next = call.awaiting_ack.iter().flatten().map(|w| w.next).min();
        for t in resend {
            self.sip.send_raw(t.peer, t.bytes);
        }
        if let Some(at) = next {
            self.timers.insert((at, key, CallTimer::Retransmit2xx));
        }
        if gave_up {
            // RFC 3261 §13.3.1.4: no ACK means the session is not up; end it.
            self.abort(now, key, 408, "ACK never arrived");
        }
    }
}
