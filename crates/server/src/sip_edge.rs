//! The SIP edge: UDP and TCP sockets on one port, turned into inputs for the sans-IO
//! [`Pbx`], and its outputs turned back into socket writes, media commands and store
//! writes.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::Instant;

use switchboard_core::{Clock, Output, Pbx, TrunkSetup, VoicemailMessage};
use switchboard_sip::guard::BanChange;
use switchboard_sip::transaction::{Peer, Transmit, Transport};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};

use crate::after_commit::AfterCommit;
use crate::mailbox_api::MailboxError;
use crate::media_edge::{MediaEdge, MediaReport};
use crate::metrics::Metrics;
use crate::persist::{Write, to_write, unix_now};
use crate::sip_streams::{ConnectTo, StreamEvent, StreamGate, accept_loop, dial, outgoing};

/// Datagrams taken per wake-up before outputs are flushed.
const UDP_BATCH: usize = 64;

/// The SIP port, UDP and TCP, bound before the engine starts so errors surface early.
pub struct SipSockets {
    pub udp: std::net::UdpSocket,
    pub tcp: std::net::TcpListener,
    /// SIP over TLS, on its own port, with the certificate it presents.
    pub tls: Option<(std::net::TcpListener, tokio_rustls::TlsAcceptor)>,
}

impl SipSockets {
    /// Binds UDP and TCP on the same address. With port 0, TCP follows the port UDP was
    /// given, and the pair is tried again when that port is taken for TCP.
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        let mut attempts = if addr.port() == 0 { 20 } else { 1 };
        let (udp, tcp) = loop {
            let udp = udp_socket(addr)?;
            match std::net::TcpListener::bind(udp.local_addr()?) {
                Ok(tcp) => break (udp, tcp),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && attempts > 1 => attempts -= 1,
                Err(e) => return Err(e),
            }
        };
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        Ok(SipSockets {
            udp,
            tcp,
            tls: None,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }
}

/// Room for bursts: a registration storm after a power cut arrives faster than any
/// single wake-up drains, and what overflows the kernel buffer becomes retransmissions.
const UDP_RECEIVE_BUFFER: usize = 4 << 20;

fn udp_socket(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    // The kernel may cap it (net.core.rmem_max); a smaller buffer still works.
    let _ = socket.set_recv_buffer_size(UDP_RECEIVE_BUFFER);
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// What the engine needs besides its sockets.
pub struct Engine {
    pub pbx: Pbx,
    pub writes: std_mpsc::Sender<Write>,
    pub requests: mpsc::Receiver<crate::engine_api::EngineRequest>,
    pub media: MediaEdge,
    pub media_reports: mpsc::UnboundedReceiver<MediaReport>,
    pub metrics: Arc<Metrics>,
    /// Who may hold a TCP connection; told of every ban.
    pub gate: Arc<StreamGate>,
    /// How to reach the TCP and TLS trunks' providers (see
    /// [`crate::trunks::ResolvedTrunks`]).
    pub trunk_connections: HashMap<SocketAddr, ConnectTo>,
}

/// The open TCP and TLS connections by peer address, and the providers of TCP and TLS
/// trunks, to which a connection is opened when the engine first sends them something.
struct Connections {
    open: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    trunks: HashMap<SocketAddr, ConnectTo>,
    events: mpsc::Sender<StreamEvent>,
    runtime: tokio::runtime::Handle,
}

impl Connections {
    fn send(&mut self, addr: SocketAddr, mut bytes: Vec<u8>) {
        if let Some(connection) = self.open.get(&addr) {
            match connection.try_send(bytes) {
                // It closed and the engine was not told yet: a trunk's is opened again.
                Err(mpsc::error::TrySendError::Closed(back)) => {
                    bytes = back;
                    self.open.remove(&addr);
                }
                // Sent, or the connection is not keeping up (the transaction retries).
                _ => return,
            }
        }
        let Some(how) = self.trunks.get(&addr) else {
            return;
        };
        let (tx, rx) = outgoing();
        let _ = tx.try_send(bytes);
        self.open.insert(addr, tx.clone());
        self.runtime
            .spawn(dial(addr, how.clone(), self.events.clone(), (tx, rx)));
    }
}

/// What leaves the engine once the store has what it answers for.
#[derive(Debug)]
enum Outgoing {
    Transmit(Transmit),
    /// A voicemail API answer.
    Mailbox(MailboxReply, MailboxAnswer),
}

type MailboxAnswer = Result<Vec<VoicemailMessage>, MailboxError>;
type MailboxReply = tokio::sync::oneshot::Sender<MailboxAnswer>;

impl Engine {
    /// Runs the engine on a thread of its own with a single-threaded runtime: one task
    /// owns all SIP state, and nothing else competes for its wake-ups. TCP connections
    /// are served on `streams` (the main runtime) and reach the engine by channel.
    pub fn spawn(
        mut self,
        sockets: SipSockets,
        streams: tokio::runtime::Handle,
        shutdown: watch::Receiver<bool>,
    ) -> io::Result<std::thread::JoinHandle<()>> {
        let (stream_tx, stream_rx) = mpsc::channel::<StreamEvent>(4096);
        let (acceptor, tls) = {
            let _guard = streams.enter();
            let tls = match sockets.tls {
                Some((listener, acceptor)) => Some((TcpListener::from_std(listener)?, acceptor)),
                None => None,
            };
            (TcpListener::from_std(sockets.tcp)?, tls)
        };
        for ban in self.pbx.service().bans() {
            self.gate.set_ban(ban.ip, Some(ban.until));
        }
        if let Some((listener, acceptor)) = tls {
            streams.spawn(accept_loop(
                listener,
                Some(acceptor),
                stream_tx.clone(),
                self.gate.clone(),
                shutdown.clone(),
            ));
        }
        let dial_events = stream_tx.clone();
        streams.spawn(accept_loop(
            acceptor,
            None,
            stream_tx,
            self.gate.clone(),
            shutdown.clone(),
        ));
        let udp = sockets.udp;
        let connections = Connections {
            open: HashMap::new(),
            trunks: std::mem::take(&mut self.trunk_connections),
            events: dial_events,
            runtime: streams,
        };
        std::thread::Builder::new()
            .name("sip-engine".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a single-threaded runtime");
                runtime.block_on(async move {
                    match UdpSocket::from_std(udp) {
                        Ok(udp) => self.run(udp, connections, stream_rx, shutdown).await,
                        Err(e) => tracing::error!("SIP UDP socket unusable: {e}"),
                    }
                });
            })
    }

    async fn run(
        mut self,
        udp: UdpSocket,
        mut connections: Connections,
        mut stream_rx: mpsc::Receiver<StreamEvent>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut held = AfterCommit::default();
        let mut buf = vec![0u8; 65_536];
        let mut answers = Vec::new();
        // When the wallboard, drawn at most every quarter second, must catch up; and
        // what the configuration asked for before the loop (trunks' first REGISTERs)
        // goes now, not at the first wake-up.
        let mut boards_due = self
            .flush(&udp, &mut connections, &mut held, &mut answers)
            .await;
        loop {
            let deadline = self.pbx.poll_timeout().map(tokio::time::Instant::from_std);
            tokio::select! {
                received = udp.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        let peer = Peer { transport: Transport::Udp, addr: from };
                        self.pbx.handle_datagram(clock(), peer, &buf[..n]);
                        for _ in 1..UDP_BATCH {
                            let Ok((n, from)) = udp.try_recv_from(&mut buf) else { break };
                            let peer = Peer { transport: Transport::Udp, addr: from };
                            self.pbx.handle_datagram(clock(), peer, &buf[..n]);
                        }
                    }
                }
                Some(event) = stream_rx.recv() => match event {
                    StreamEvent::Opened(addr, tx) => { connections.open.insert(addr, tx); }
                    StreamEvent::Closed(addr) => { connections.open.remove(&addr); }
                    StreamEvent::Unframeable => self.pbx.service_mut().note_dropped(),
                    StreamEvent::Frame(peer, bytes) => {
                        self.pbx.handle_datagram(clock(), peer, &bytes);
                    }
                },
                Some(request) = self.requests.recv() => {
                    if let crate::engine_api::EngineRequest::Reload(config, _) = &request {
                        self.media.recordings().set_min_free_mb(config.recording.min_free_mb);
                    }
                    let trunks = &mut connections.trunks;
                    if let Some(mailbox) = request.apply(&mut self.pbx, clock(), trunks) {
                        let answer = mailbox.apply(&mut self.pbx, clock());
                        answers.push(Outgoing::Mailbox(mailbox.reply, answer));
                    }
                }
                Some(report) = self.media_reports.recv() => match report {
                    MediaReport::Failed(call) => self.pbx.handle_media_failed(clock(), call),
                    MediaReport::AnnouncementDone(call) => {
                        self.pbx.handle_announcement_done(clock(), call)
                    }
                    MediaReport::Dtmf {
                        call,
                        from,
                        dtmf,
                        passed: false,
                    } => self.pbx.handle_dtmf(clock(), call, from, dtmf),
                    MediaReport::Dtmf {
                        call,
                        from,
                        dtmf,
                        passed: true,
                    } => self.pbx.handle_key_passed(clock(), call, from, dtmf),
                    MediaReport::Recorded { call, id, duration } => {
                        self.pbx.handle_recorded(clock(), call, id, duration)
                    }
                    MediaReport::GreetingRecorded { call, kept } => {
                        self.pbx.handle_greeting_recorded(clock(), call, kept)
                    }
                },
                () = sleep_until(deadline) => self.pbx.handle_timeout(clock()),
                () = sleep_until(boards_due) => {}
                released = held.released() => send(&udp, &mut connections, released).await,
                _ = shutdown.changed() => {
                    // Providers are told the office is leaving: trunks unregister.
                    self.pbx.set_trunks(clock(), Vec::new());
                    self.flush(&udp, &mut connections, &mut held, &mut answers).await;
                    break;
                }
            }
            boards_due = self
                .flush(&udp, &mut connections, &mut held, &mut answers)
                .await;
        }
        while !held.is_empty() {
            send(&udp, &mut connections, held.released().await).await;
        }
    }

    /// Hands the engine's outputs on. Messages that answer for a store write (a sign-in,
    /// a call's record, the queue log, voicemail) leave once it is committed: a phone
    /// told "registered" or "call over" finds it on disk even if the server dies the
    /// next instant. The writer commits whatever has queued in one transaction, so a
    /// registration storm is still written in batches.
    async fn flush(
        &mut self,
        udp: &UdpSocket,
        connections: &mut Connections,
        held: &mut AfterCommit<Outgoing>,
        answers: &mut Vec<Outgoing>,
    ) -> Option<tokio::time::Instant> {
        // Published before anything is sent, so a phone that got its answer and asks
        // the health endpoint sees the state that answer reflects.
        let boards_due = self.metrics.update(&self.pbx);
        let mut unix = None;
        let mut outgoing = Vec::new();
        let mut registrations = Vec::new();
        let mut to_commit = false;
        while let Some(output) = self.pbx.poll_output() {
            match output {
                Output::Transmit(t) => outgoing.push(Outgoing::Transmit(t)),
                Output::Binding(change) => {
                    let now = *unix.get_or_insert_with(unix_now);
                    registrations.push(to_write(change, now));
                }
                Output::Media(command) => self.media.send(command),
                Output::QueueEvent(event) => {
                    to_commit = true;
                    let _ = self.writes.send(Write::QueueEvent(event));
                }
                Output::Voicemail(change) => {
                    to_commit = true;
                    let _ = self.writes.send(Write::Voicemail(change));
                }
                Output::Callback(change) => {
                    to_commit = true;
                    let _ = self.writes.send(Write::Callback(change));
                }
                Output::CallOpened(call) => {
                    let _ = self.writes.send(Write::CallOpened(call));
                }
                Output::CallAnswered(call) => {
                    let _ = self.writes.send(Write::CallAnswered(call));
                }
                Output::CallRecord { record, opened } => {
                    to_commit = true;
                    let _ = self.writes.send(Write::CallRecord(record, opened));
                }
            }
        }
        let mut bans = Vec::new();
        while let Some(change) = self.pbx.service_mut().poll_ban_change() {
            match change {
                BanChange::Banned(ban) => self.gate.set_ban(ban.ip, Some(ban.until)),
                BanChange::Lifted(ip) => self.gate.set_ban(ip, None),
            }
            let now = *unix.get_or_insert_with(unix_now);
            bans.push(crate::persist::ban_write(
                change,
                Instant::now(),
                now * 1000,
            ));
        }
        if !bans.is_empty() {
            let _ = self.writes.send(Write::Bans(bans));
        }
        if !registrations.is_empty() {
            to_commit = true;
            let _ = self.writes.send(Write::Registrations(registrations));
        }
        outgoing.append(answers);
        if to_commit {
            let (done, committed) = tokio::sync::oneshot::channel();
            if self.writes.send(Write::Committed(done)).is_ok() {
                held.hold(committed, outgoing);
                return boards_due.map(tokio::time::Instant::from_std);
            }
        }
        send(udp, connections, held.behind(outgoing)).await;
        boards_due.map(tokio::time::Instant::from_std)
    }
}

async fn send(udp: &UdpSocket, connections: &mut Connections, outgoing: Vec<Outgoing>) {
    for out in outgoing {
        let t = match out {
            Outgoing::Transmit(t) => t,
            Outgoing::Mailbox(reply, answer) => {
                let _ = reply.send(answer);
                continue;
            }
        };
        match t.peer.transport {
            Transport::Udp => {
                if let Err(e) = udp.try_send_to(&t.bytes, t.peer.addr)
                    && e.kind() == io::ErrorKind::WouldBlock
                {
                    let _ = udp.send_to(&t.bytes, t.peer.addr).await;
                }
            }
            Transport::Tcp | Transport::Tls => connections.send(t.peer.addr, t.bytes),
        }
    }
}

/// Hands the engine a configuration, at start and on every change alike: everything
/// applies at once, queues in place (callers keep their places).
pub fn apply_config(pbx: &mut Pbx, config: &crate::config::Config, trunks: Vec<TrunkSetup>) {
    pbx.service_mut().set_accounts(config.accounts());
    pbx.set_lists(config.numbers.country_code(), config.number_lists());
    pbx.set_scenarios(config.scenario_setup());
    pbx.set_record_limits(config.voicemail.record_limits());
    pbx.set_voicemail_pins(config.voicemail.pins());
    pbx.set_queues(clock(), config.queue_setups(), config.agent_configs());
    pbx.set_trunks(clock(), trunks);
    pbx.set_outbound(config.outbound_rules());
    pbx.set_conferences(config.conference_rooms());
    pbx.set_supervisors(config.calls.supervisors.clone());
    pbx.set_pickup_groups(config.pickup_group_members());
    pbx.set_feature_codes(config.feature_codes.clone());
    let calls = &config.calls;
    pbx.set_transfer_codes(
        calls.transfer_code.clone(),
        calls.attended_transfer_code.clone(),
    );
    pbx.set_recording(config.recording.rules(), config.recording.code.clone());
}

/// Both clocks now, for an input to the engine.
pub(crate) fn clock() -> Clock {
    Clock {
        mono: Instant::now(),
        wall: std::time::SystemTime::now(),
    }
}

pub(crate) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
