//! The legs of every call: the caller's INVITE and dialog, the INVITEs towards phones
//! (forks), 2xx/ACK retransmission, ring and playback timers, in-dialog requests, media
//! negotiation and the call's record. The legs know no feature: they offer verbs (ring,
//! answer, bridge, announce, hang up) and report what happens to a call a feature holds
//! as [`LegEvent`]s, which the engine hands to that feature.

mod answers;
mod call;
mod ending;
mod in_dialog;
mod lamps;
mod media;
mod pickup;
mod place;
mod ports;
mod recording;
pub use media::TrunkMedia;
pub use ports::PortReserve;
mod ring;
mod transfer;
mod trunk_out;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use rsip::Header;
use switchboard_media::relay::Side;
use switchboard_sip::dialog::Dialog;
use switchboard_sip::ids::Ids;
use switchboard_sip::registrar::Binding;
use switchboard_sip::service::{ALLOW, Service, ServiceConfig};
use switchboard_sip::transaction::{ClientId, Peer, ServerId, Transport};

pub use call::TrunkDial;
pub(crate) use call::{Call, Origin, Phase};
pub(crate) use ending::best_failure;
pub(crate) use in_dialog::DialogRoute;
pub(crate) use lamps::Lamp;
pub(crate) use media::{answered_media, leg_media};
pub(crate) use place::{NotPlaced, Placing};
pub(crate) use ring::{Refusal, Ringing, display_name};

use crate::record::HangupBy;
use crate::vocabulary::{CallKey, Clock, MediaCommand, Output};

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
    /// The office's address on the Internet, when it is behind NAT: what peers outside
    /// the office's networks (providers, remote phones) are told instead.
    pub public_ip: Option<IpAddr>,
    /// Networks inside the office besides the private ranges, whose peers are told
    /// `advertise_ip`.
    pub local_networks: Vec<ipnet::IpNet>,
    /// RTP port range, inclusive.
    pub media_ports: (u16, u16),
    /// How long the callee's phones ring before the caller hears "no answer".
    pub ring_timeout: Duration,
}

/// What happened to a call a feature holds ([`Phase::Held`] or [`Phase::Placing`]),
/// or to any call where features keep account (who is busy, which call ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LegEvent {
    /// Fork `fork` answered with `sdp`; its dialog is up and acknowledged.
    Answered {
        call: CallKey,
        fork: usize,
        sdp: Vec<u8>,
    },
    /// Fork `fork` failed with `code` (408 when it never answered).
    Failed {
        call: CallKey,
        fork: usize,
        code: u16,
    },
    /// Leg `side` hung up (BYE).
    HungUp { call: CallKey, side: Side },
    /// The caller pressed `key`.
    Key { call: CallKey, key: char },
    /// What was played to the call ended, or should have by now.
    Played { call: CallKey },
    /// A time the feature asked to be woken at ([`Legs::wake_at`]) came.
    Wake { call: CallKey },
    /// The phones of a placed call rang as long as they may.
    RingTimeout { call: CallKey },
    /// The call cannot go on (its media ports are taken, an ACK never came).
    Broken {
        call: CallKey,
        code: u16,
        reason: &'static str,
    },
    /// A call ended from `by`'s side; `bridged` when its two legs were talking.
    Ended {
        call: CallKey,
        by: HangupBy,
        bridged: bool,
    },
    /// The call is gone; `answered` when it ever was.
    Closed { call: CallKey, answered: bool },
    /// `extension` is now on at least one call, or on none.
    Busy { extension: String, busy: bool },
    /// `by`'s phone asked to put the other party of the call through to `target`
    /// (accepted for now; the engine settles it with [`Legs::let_transferor_go`] or
    /// [`Legs::refuse_transfer`]).
    Transfer {
        call: CallKey,
        by: String,
        target: String,
    },
    /// `by`'s phone asked to join the other party of the call to the callee of its
    /// consultation call `with` (attended transfer; the engine settles it with
    /// [`Legs::join_consultation`]).
    TransferJoin {
        call: CallKey,
        by: String,
        with: CallKey,
    },
    /// A phone picked the call up ([`Legs::pick_up`]): it is answered and bridged.
    PickedUp { call: CallKey },
    /// Leg `side` of an answered call pressed `key` (it went on to the other leg too).
    Pressed {
        call: CallKey,
        side: Side,
        key: char,
    },
}

impl LegEvent {
    /// The call the event is about; none for an extension's busy state.
    pub fn call(&self) -> Option<CallKey> {
        match *self {
            LegEvent::Answered { call, .. }
            | LegEvent::Failed { call, .. }
            | LegEvent::HungUp { call, .. }
            | LegEvent::Key { call, .. }
            | LegEvent::Pressed { call, .. }
            | LegEvent::Played { call }
            | LegEvent::Wake { call }
            | LegEvent::RingTimeout { call }
            | LegEvent::Broken { call, .. }
            | LegEvent::Ended { call, .. }
            | LegEvent::Closed { call, .. }
            | LegEvent::Transfer { call, .. }
            | LegEvent::TransferJoin { call, .. }
            | LegEvent::PickedUp { call } => Some(call),
            LegEvent::Busy { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LegTimer {
    RingTimeout,
    Retransmit2xx,
    /// What is played should have ended by now; the call goes on anyway.
    PlaybackLimit,
    /// A feature's own deadline.
    Wake,
}

#[derive(Debug)]
pub(crate) struct Legs {
    pub config: PbxConfig,
    pub sip: Service,
    pub ids: Ids,
    ports: ports::MediaPorts,
    pub calls: HashMap<CallKey, Call>,
    by_invite: HashMap<ServerId, CallKey>,
    by_fork: HashMap<ClientId, (CallKey, usize)>,
    /// In-dialog requests find their call by Call-ID and our tag.
    by_dialog: HashMap<(String, String), DialogRoute>,
    /// Switchboard's re-INVITEs moving an answered leg between calls, with the dialog
    /// their 2xx is acknowledged in.
    reinvites: HashMap<ClientId, Dialog>,
    timers: BTreeSet<(Instant, CallKey, LegTimer)>,
    outputs: VecDeque<Output>,
    events: VecDeque<LegEvent>,
    /// Extensions on calls, with how many calls each.
    busy: HashMap<String, usize>,
    /// What each trunk's calls must carry, by trunk name.
    pub trunk_media: HashMap<String, TrunkMedia>,
    pub recording_rules: crate::recording::RecordingRules,
    /// The clock of the input being handled.
    clock: Clock,
    next_call: CallKey,
}

impl Legs {
    /// `secret` keys digest nonces and `seed` the tags, branches and Call-IDs.
    pub fn new(config: PbxConfig, secret: [u8; 32], seed: [u8; 32], clock: Clock) -> Self {
        Legs {
            sip: Service::new(config.sip.clone(), secret, clock.mono, clock.wall),
            ports: ports::MediaPorts::new(config.media_ports.0, config.media_ports.1),
            config,
            ids: Ids::new(seed),
            calls: HashMap::new(),
            by_invite: HashMap::new(),
            by_fork: HashMap::new(),
            by_dialog: HashMap::new(),
            reinvites: HashMap::new(),
            timers: BTreeSet::new(),
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            busy: HashMap::new(),
            trunk_media: HashMap::new(),
            recording_rules: Default::default(),
            clock,
            next_call: 0,
        }
    }

    // --- clock and timers

    /// Takes up an input's clock; returns its monotonic time.
    pub fn tick(&mut self, clock: Clock) -> Instant {
        self.clock = clock;
        self.sip.handle_wall_clock(clock.mono, clock.wall);
        clock.mono
    }

    /// The monotonic time of the input being handled.
    pub fn now(&self) -> Instant {
        self.clock.mono
    }

    /// The wall-clock time at `t`, measured from the input being handled: exact for
    /// that input's own time; for another moment, as if the PC had not slept since.
    pub fn wall(&self, t: Instant) -> SystemTime {
        let Clock { mono, wall } = self.clock;
        if t >= mono {
            wall + (t - mono)
        } else {
            wall.checked_sub(mono - t).unwrap_or(wall)
        }
    }

    /// Adds `what` to the call's history, with the minutes and seconds since it started
    /// (by the clock of the input being handled).
    pub fn note(&mut self, key: CallKey, what: String) {
        let wall = self.clock.wall;
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let since = wall
            .duration_since(call.started_wall)
            .unwrap_or_default()
            .as_secs();
        call.log
            .history
            .push(format!("{}:{:02} {what}", since / 60, since % 60));
    }

    /// Wakes the call's feature at `at` with [`LegEvent::Wake`].
    pub fn wake_at(&mut self, key: CallKey, at: Instant) {
        self.timers.insert((at, key, LegTimer::Wake));
    }

    pub fn ring_for(&mut self, now: Instant, key: CallKey, timeout: Duration) {
        self.timers
            .insert((now + timeout, key, LegTimer::RingTimeout));
    }

    pub fn stop_ring_timer(&mut self, key: CallKey) {
        self.timers
            .retain(|&(_, k, t)| !(k == key && t == LegTimer::RingTimeout));
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, key, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            match timer {
                LegTimer::RingTimeout => self.ring_timeout(now, key),
                LegTimer::Retransmit2xx => self.retransmit_2xx(now, key),
                LegTimer::PlaybackLimit => self.finish_playback(now, key),
                LegTimer::Wake => self.emit(LegEvent::Wake { call: key }),
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = self.timers.first().map(|(at, _, _)| *at);
        [own, self.sip.poll_timeout()].into_iter().flatten().min()
    }

    // --- outputs and events

    pub fn push(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    pub fn media(&mut self, command: MediaCommand) {
        self.outputs.push_back(Output::Media(command));
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn emit(&mut self, event: LegEvent) {
        self.events.push_back(event);
    }

    pub fn poll_event(&mut self) -> Option<LegEvent> {
        self.events.pop_front()
    }

    // --- calls

    pub fn new_call_key(&mut self) -> CallKey {
        self.next_call += 1;
        self.next_call
    }

    /// Takes up a new call, and says so for the store; its caller is busy from now.
    pub fn open_call(&mut self, key: CallKey, call: Call) {
        let caller = (call.origin == Origin::Extension).then(|| call.caller.clone());
        self.push(Output::CallOpened(crate::record::CallOpened {
            call: key,
            call_id: call.call_id.clone(),
            caller: call.caller.clone(),
            callee: call.callee.clone(),
            started: call.started_wall,
            trunk: call.origin.trunk().map(str::to_string),
        }));
        self.media(MediaCommand::Open {
            call: key,
            ports: call.ports,
        });
        self.calls.insert(key, call);
        if let Some(extension) = caller {
            self.occupy(key, &extension);
        }
    }

    /// `extension` is on call `key` until it ends.
    pub fn occupy(&mut self, key: CallKey, extension: &str) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.busy.iter().any(|e| e == extension) {
            return;
        }
        call.busy.push(extension.to_string());
        let calls = self.busy.entry(extension.to_string()).or_default();
        *calls += 1;
        if *calls == 1 {
            self.emit(LegEvent::Busy {
                extension: extension.to_string(),
                busy: true,
            });
        }
    }

    fn release(&mut self, extensions: Vec<String>) {
        for extension in extensions {
            let Some(calls) = self.busy.get_mut(&extension) else {
                continue;
            };
            *calls -= 1;
            if *calls == 0 {
                self.busy.remove(&extension);
                self.emit(LegEvent::Busy {
                    extension,
                    busy: false,
                });
            }
        }
    }

    pub fn is_busy(&self, extension: &str) -> bool {
        self.busy.contains_key(extension)
    }

    pub fn phase(&self, key: CallKey) -> Option<Phase> {
        self.calls.get(&key).map(|c| c.phase)
    }

    /// RTP ports another program holds: no call is given them.
    pub fn retire_ports(&mut self, ports: &[u16]) {
        self.ports.retire(ports);
    }

    pub fn set_port_reserve(&mut self, reserve: Box<dyn PortReserve>) {
        self.ports.set_reserve(reserve);
    }

    /// The media edge could not open the call's sockets: its ports leave the pool.
    pub fn media_failed(&mut self, now: Instant, key: CallKey) {
        if let Some(c) = self.calls.get_mut(&key) {
            c.ports_taken_elsewhere = true;
        }
        self.abort(now, key, 503, "Media ports unavailable");
    }

    // --- the office's phones

    /// The live bindings of an extension.
    pub fn live_bindings(&self, now: Instant, extension: &str) -> Vec<Binding> {
        self.sip
            .registrar()
            .bindings(extension)
            .iter()
            .filter(|b| b.remaining(now) > Duration::ZERO)
            .cloned()
            .collect()
    }

    /// The calls out through trunks `extension` has going.
    /// Calls going out through `trunk` now: ringing there or answered there.
    pub fn calls_through(&self, trunk: &str) -> usize {
        self.calls
            .values()
            .filter(|c| c.phase != Phase::Ended)
            .filter(|c| {
                c.forks.iter().any(|f| {
                    let through = f.target.trunk().is_some_and(|leg| leg.dial.trunk == trunk);
                    through && (f.is_pending() || f.state == call::ForkState::Answered)
                })
            })
            .count()
    }

    pub fn calls_out_of(&self, extension: &str) -> usize {
        self.calls
            .values()
            .filter(|c| c.origin == Origin::Extension && c.caller == extension)
            .filter(|c| c.phase != Phase::Ended)
            .filter(|c| c.forks.iter().any(|f| f.target.trunk().is_some()))
            .count()
    }

    pub fn is_extension(&self, number: &str) -> bool {
        self.sip.account(number).is_some()
    }

    /// Whether `extension` must call and be called over TLS with SRTP.
    pub fn requires_encryption(&self, extension: &str) -> bool {
        self.sip
            .account(extension)
            .is_some_and(|a| a.encryption == switchboard_sip::service::Encryption::Require)
    }

    /// Whether a call from `origin` (`caller`, for an extension) must come over TLS
    /// with its audio in SRTP.
    pub fn origin_requires_encryption(&self, origin: &Origin, caller: &str) -> bool {
        match origin {
            Origin::Extension => self.requires_encryption(caller),
            Origin::Trunk(trunk) => self.trunk_media.get(trunk).is_some_and(|m| m.encrypted),
        }
    }

    // --- addressing

    /// The address a peer should use for us: loopback for loopback peers.
    pub fn local_ip(&self, peer: Peer) -> IpAddr {
        let ip = peer.addr.ip();
        match self.config.public_ip {
            _ if ip.is_loopback() => ip,
            Some(public) if !self.inside_office(ip) => public,
            _ => self.config.advertise_ip,
        }
    }

    /// Whether `ip` is in the office: a private, shared or link-local range, or one of
    /// the office's own networks.
    fn inside_office(&self, ip: IpAddr) -> bool {
        let private = match ip {
            IpAddr::V4(v4) => {
                v4.is_private()
                    || v4.is_link_local()
                    || ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(100, 64, 0, 0), 10)
                        .is_ok_and(|shared| shared.contains(&v4))
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80
            }
        };
        private || self.config.local_networks.iter().any(|n| n.contains(&ip))
    }

    /// Where Switchboard is for `peer`: the address it is told and the port of its
    /// transport.
    pub fn local_for(&self, peer: Peer) -> SocketAddr {
        SocketAddr::new(self.local_ip(peer), self.port_for(peer.transport))
    }

    /// The port Switchboard takes `transport` on.
    fn port_for(&self, transport: Transport) -> u16 {
        match transport {
            Transport::Tls => self.config.tls_port.unwrap_or(self.config.sip_port),
            Transport::Udp | Transport::Tcp => self.config.sip_port,
        }
    }

    /// A Via for a request we originate towards `peer`, with a fresh branch.
    pub fn via(&mut self, peer: Peer) -> String {
        format!(
            "SIP/2.0/{} {}:{};branch=z9hG4bKsb{};rport",
            peer.transport.via_name(),
            self.local_ip(peer),
            self.port_for(peer.transport),
            self.ids.token()
        )
    }

    pub fn contact(&self, user: &str, peer: Peer) -> String {
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

    /// Answers `request` statelessly with `code` (a tag derived from the request, so a
    /// stranger learns nothing new from it).
    pub fn reply(
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

    /// A response carrying Switchboard's session description, with a Contact for
    /// `user` as `peer` reaches us (200 to an INVITE or re-INVITE, 183 early media).
    #[allow(clippy::too_many_arguments)]
    pub fn response_with_sdp(
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
}
