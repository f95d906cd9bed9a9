//! The media edge: each call's RTP and RTCP sockets, with packets passed through the
//! sans-IO [`Playback`] (the relay and what Switchboard plays over it). One task per
//! call owns its four sockets, all on the media thread; the engine thread never
//! touches audio.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use switchboard_core::{
    Announcement, CallKey, MediaCommand, PortReserve, RecordInto, RecordLimits, RoomPart, Sound,
    Waiting, Word,
};
use switchboard_media::call_recording::Heard;
use switchboard_media::conference::Part;
use switchboard_media::dtmf::Dtmf;
use switchboard_media::message_recorder::MessageRecorder;
use switchboard_media::playback::{Backdrop, Backdrops, Playback, PlaybackEvent, StreamIds};
use switchboard_media::relay::{Dropped, LegMedia, MAX_PACKET, RelayEvent, RelayStats, Side};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::media_rooms::{self, RoomControl, Split};
use crate::metrics::Metrics;
use crate::recordings::{RecordingFeed, Recordings};
use crate::sounds::Sounds;
use crate::voicemail::VoicemailFiles;

/// How often a call adds its packet counts to the shared metrics.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

enum Control {
    Bridge(LegMedia, LegMedia),
    /// Each leg (media A, B) is relayed to its own side of a room (at the rooms'
    /// addresses) through its own socket toward it.
    Split(Box<([LegMedia; 2], [LegMedia; 2], [std::net::UdpSocket; 2])>),
    /// The legs talk straight to each other again.
    Unsplit,
    Update(Side, LegMedia),
    SendDtmf(Side, Dtmf),
    Music(Side, bool),
    Announce(Side, LegMedia, Announcement),
    Wait(Side, LegMedia, Waiting),
    /// Words to a leg; whether the other one hears music meanwhile.
    Say(Side, Vec<Word>, bool),
    /// Words to a leg over what the other leg says.
    Whisper(Side, Vec<Word>),
    /// Sounds to the caller one after another; none: silence.
    Prompt(LegMedia, Vec<Sound>),
    /// Record the caller into a message or a greeting.
    Record(LegMedia, RecordInto, RecordLimits),
    StopRecording,
    /// Record the call into the named file from now on, or pause.
    RecordCall(String, bool),
}

/// What the media edge tells the engine.
#[derive(Debug)]
pub enum MediaReport {
    /// The call's sockets could not be opened.
    Failed(CallKey),
    /// A key sent as RFC 4733: `passed` on to the other leg as it was, or for the
    /// engine to send on (the other leg cannot take it, or there is none).
    Dtmf {
        call: CallKey,
        from: Side,
        dtmf: Dtmf,
        passed: bool,
    },
    /// The announcement to the caller has played.
    AnnouncementDone(CallKey),
    /// Message `id` is recorded and saved, lasting `duration`; `None`: nothing was
    /// kept (nobody spoke, or it could not be saved).
    Recorded {
        call: CallKey,
        id: i64,
        duration: Option<Duration>,
    },
    /// A box's greeting recorded by phone is saved (`kept`), or nothing was.
    GreetingRecorded { call: CallKey, kept: bool },
}

/// The media threads, one per core; a call lives on one of them for its whole life,
/// and so does a conference room.
#[derive(Debug, Clone)]
pub struct MediaEdge {
    threads: Vec<mpsc::UnboundedSender<ThreadCommand>>,
    reserved: Reserved,
    recordings: Recordings,
}

/// What a media thread is told: about one of its calls, or one of its rooms. Nearly
/// all are calls', so the large variant stays unboxed rather than allocate for each.
#[allow(clippy::large_enum_variant)]
enum ThreadCommand {
    Call(MediaCommand),
    /// What no engine command carries (sockets bound here), for a call's task.
    Control(CallKey, Control),
    Room(String, RoomControl),
}

/// Sockets bound for the pairs the engine chose, each waiting for its call's `Open`:
/// bound at the engine's choice, a port another program took since the start is
/// passed over before the call's SDP names it.
#[derive(Debug, Clone)]
struct Reserved {
    ip: IpAddr,
    held: Arc<Mutex<HashMap<[u16; 2], [std::net::UdpSocket; 4]>>>,
}

impl Reserved {
    fn take(&self, pair: [u16; 2]) -> io::Result<[std::net::UdpSocket; 4]> {
        let kept = self
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&pair);
        kept.map_or_else(|| bind_pair(self.ip, pair), Ok)
    }
}

impl PortReserve for Reserved {
    fn reserve(&mut self, pair: [u16; 2]) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.contains_key(&pair) {
            return true;
        }
        match bind_pair(self.ip, pair) {
            Ok(sockets) => {
                held.insert(pair, sockets);
                true
            }
            Err(e) => {
                tracing::info!("RTP ports {pair:?} passed over: {e}");
                false
            }
        }
    }

    fn release(&mut self, pair: [u16; 2]) {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&pair);
    }
}

impl MediaEdge {
    /// Starts the media threads; commands come from the engine, reports go back to it.
    pub fn spawn(
        bind_ip: IpAddr,
        sounds: Arc<Sounds>,
        (voicemail, recordings): (VoicemailFiles, Recordings),
        metrics: Arc<Metrics>,
        reports: mpsc::UnboundedSender<MediaReport>,
    ) -> MediaEdge {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shared = Shared {
            sounds,
            voicemail,
            recordings: recordings.clone(),
            metrics,
            reports,
        };
        let reserved = Reserved {
            ip: bind_ip,
            held: Arc::default(),
        };
        let threads = (0..cores)
            .map(|i| spawn(i, reserved.clone(), shared.clone()))
            .collect();
        MediaEdge {
            threads,
            reserved,
            recordings,
        }
    }

    /// The calls' recordings, whose disk guard follows the configuration.
    pub fn recordings(&self) -> &Recordings {
        &self.recordings
    }

    /// What the engine binds a call's ports through before it takes them.
    pub fn reserve(&self) -> Box<dyn PortReserve> {
        Box::new(self.reserved.clone())
    }

    pub fn send(&self, command: MediaCommand) {
        let call = match command {
            MediaCommand::Conference {
                call,
                room,
                media,
                part,
                announced,
            } => return self.join(call, room, media, (part, announced)),
            MediaCommand::LeaveConference { call, room } => {
                return self.to_room(room, RoomControl::Leave { member: call });
            }
            MediaCommand::SetPart {
                room,
                call,
                side,
                part,
            } => {
                let member = side.map_or(call, |side| media_rooms::leg_member(call, side));
                let part = room_part(part);
                return self.to_room(room, RoomControl::Part { member, part });
            }
            MediaCommand::Monitor { call, room, a, b } => return self.monitor(call, room, [a, b]),
            MediaCommand::Unmonitor { call, room } => {
                for side in [Side::A, Side::B] {
                    let member = media_rooms::leg_member(call, side);
                    self.to_room(room.clone(), RoomControl::Leave { member });
                }
                return self.to_call(call, ThreadCommand::Control(call, Control::Unsplit));
            }
            MediaCommand::Open { call, .. }
            | MediaCommand::Bridge { call, .. }
            | MediaCommand::Update { call, .. }
            | MediaCommand::Music { call, .. }
            | MediaCommand::SendDtmf { call, .. }
            | MediaCommand::Announce { call, .. }
            | MediaCommand::Wait { call, .. }
            | MediaCommand::Say { call, .. }
            | MediaCommand::Whisper { call, .. }
            | MediaCommand::Prompt { call, .. }
            | MediaCommand::Record { call, .. }
            | MediaCommand::StopRecording { call }
            | MediaCommand::RecordCall { call, .. }
            | MediaCommand::Close { call } => call,
        };
        self.to_call(call, ThreadCommand::Call(command));
    }

    fn to_call(&self, call: CallKey, command: ThreadCommand) {
        let thread = &self.threads[call as usize % self.threads.len()];
        let _ = thread.send(command);
    }

    /// The call's phone (media `phone`) joins `room`, taking `part`: its relay's other
    /// side becomes a socket of the room's.
    fn join(
        &self,
        call: CallKey,
        room: String,
        phone: LegMedia,
        (part, announced): (RoomPart, bool),
    ) {
        let part = room_part(part);
        match media_rooms::member_socket(self.reserved.ip, &phone) {
            Ok((socket, member)) => {
                self.send(MediaCommand::Bridge {
                    call,
                    a: phone,
                    b: member,
                });
                let join = RoomControl::Join {
                    member: call,
                    socket,
                    format: phone.audio,
                    part,
                    announced,
                };
                self.to_room(room, join);
            }
            Err(e) => tracing::warn!("call {call} cannot join room {room}: {e}"),
        }
    }

    /// Call `call`'s legs (media `phones`, A then B) talk through `room`, each on its
    /// own: the room takes a socket for each, and the call one toward each.
    fn monitor(&self, call: CallKey, room: String, phones: [LegMedia; 2]) {
        let ip = self.reserved.ip;
        let bound = (|| {
            let (room_a, to_a) = media_rooms::member_socket(ip, &phones[0])?;
            let (room_b, to_b) = media_rooms::member_socket(ip, &phones[1])?;
            let ours = [
                media_rooms::local_socket(ip)?,
                media_rooms::local_socket(ip)?,
            ];
            io::Result::Ok(([room_a, room_b], [to_a, to_b], ours))
        })();
        let (rooms, toward, ours) = match bound {
            Ok(bound) => bound,
            Err(e) => return tracing::warn!("call {call} cannot be watched: {e}"),
        };
        for ((socket, side), phone) in rooms.into_iter().zip([Side::A, Side::B]).zip(phones) {
            let join = RoomControl::Join {
                member: media_rooms::leg_member(call, side),
                socket,
                format: phone.audio,
                part: Part::Talks,
                announced: false,
            };
            self.to_room(room.clone(), join);
        }
        let split = Control::Split(Box::new((phones, toward, ours)));
        self.to_call(call, ThreadCommand::Control(call, split));
    }

    fn to_room(&self, room: String, control: RoomControl) {
        let spread = room
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31) ^ usize::from(b));
        let thread = &self.threads[spread % self.threads.len()];
        let _ = thread.send(ThreadCommand::Room(room, control));
    }
}

/// A part in a room as the room's mixer names it.
fn room_part(part: RoomPart) -> Part {
    match part {
        RoomPart::Talks => Part::Talks,
        RoomPart::Listens => Part::Listens,
        RoomPart::WhispersTo { call, side } => {
            Part::WhispersTo(media_rooms::leg_member(call, side))
        }
        RoomPart::Waits(Waiting::Music) => Part::Waits(Backdrop::Music),
        RoomPart::Waits(Waiting::Ringback) => Part::Waits(Backdrop::Ringback),
    }
}

/// What every call's media task shares.
#[derive(Clone)]
struct Shared {
    sounds: Arc<Sounds>,
    voicemail: VoicemailFiles,
    recordings: Recordings,
    metrics: Arc<Metrics>,
    reports: mpsc::UnboundedSender<MediaReport>,
}

fn spawn(index: usize, reserved: Reserved, shared: Shared) -> mpsc::UnboundedSender<ThreadCommand> {
    let (tx, mut commands) = mpsc::unbounded_channel::<ThreadCommand>();
    let media = async move {
        let mut calls: HashMap<CallKey, mpsc::UnboundedSender<Control>> = HashMap::new();
        let mut rooms: HashMap<String, mpsc::UnboundedSender<RoomControl>> = HashMap::new();
        while let Some(command) = commands.recv().await {
            let command = match command {
                ThreadCommand::Call(command) => command,
                ThreadCommand::Control(call, control) => {
                    if let Some(tx) = calls.get(&call) {
                        let _ = tx.send(control);
                    }
                    continue;
                }
                ThreadCommand::Room(room, control) => {
                    // A room's task ends once nobody is left in it.
                    rooms.retain(|_, task| !task.is_closed());
                    let control = match rooms.get(&room) {
                        Some(task) => match task.send(control) {
                            Ok(()) => continue,
                            Err(mpsc::error::SendError(control)) => control,
                        },
                        None => control,
                    };
                    let (task, rx) = mpsc::unbounded_channel();
                    let backdrops = shared.sounds.room_backdrops.clone();
                    tokio::spawn(media_rooms::run_room(rx, backdrops));
                    let _ = task.send(control);
                    rooms.insert(room, task);
                    continue;
                }
            };
            let (call, control) = match command {
                MediaCommand::Open { call, ports } => {
                    match reserved.take(ports).and_then(Sockets::new) {
                        Ok(sockets) => {
                            let (control, rx) = mpsc::unbounded_channel();
                            let task = CallTask {
                                key: call,
                                sockets,
                                shared: shared.clone(),
                            };
                            tokio::spawn(task.run(rx));
                            calls.insert(call, control);
                        }
                        Err(e) => {
                            tracing::warn!("call {call}: cannot open RTP ports {ports:?}: {e}");
                            let _ = shared.reports.send(MediaReport::Failed(call));
                        }
                    }
                    continue;
                }
                MediaCommand::Close { call } => {
                    // Dropping the sender ends the call's task and closes its sockets.
                    calls.remove(&call);
                    continue;
                }
                MediaCommand::Bridge { call, a, b } => (call, Control::Bridge(a, b)),
                MediaCommand::Update { call, side, media } => (call, Control::Update(side, media)),
                MediaCommand::SendDtmf { call, to, dtmf } => (call, Control::SendDtmf(to, dtmf)),
                MediaCommand::Music { call, to, on } => (call, Control::Music(to, on)),
                MediaCommand::Announce {
                    call,
                    side,
                    to,
                    what,
                } => (call, Control::Announce(side, to, what)),
                MediaCommand::Wait {
                    call,
                    side,
                    media,
                    hears,
                } => (call, Control::Wait(side, media, hears)),
                MediaCommand::Say { call, to, words } => (call, Control::Say(to, words, true)),
                MediaCommand::Whisper { call, to, words } => (call, Control::Whisper(to, words)),
                MediaCommand::Prompt { call, to, sounds } => (call, Control::Prompt(to, sounds)),
                MediaCommand::Record {
                    call,
                    to,
                    into,
                    limits,
                } => (call, Control::Record(to, into, limits)),
                MediaCommand::StopRecording { call } => (call, Control::StopRecording),
                MediaCommand::RecordCall { call, file, on } => {
                    (call, Control::RecordCall(file, on))
                }
                // The edge's `send` turns these into a bridge or a split and rooms' controls.
                MediaCommand::Conference { .. }
                | MediaCommand::SetPart { .. }
                | MediaCommand::LeaveConference { .. }
                | MediaCommand::Monitor { .. }
                | MediaCommand::Unmonitor { .. } => continue,
            };
            if let Some(tx) = calls.get(&call) {
                let _ = tx.send(control);
            }
        }
    };
    // Each media thread has a single-threaded runtime: a packet's wake-up never hops
    // between worker threads (measured: BENCHMARKS.md).
    let spawned = std::thread::Builder::new()
        .name(format!("media-{index}"))
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(media),
                Err(e) => tracing::error!("media runtime: {e}"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!("media thread: {e}");
    }
    tx
}

/// The RTP and RTCP sockets facing A, then those facing B.
struct Sockets {
    a: UdpSocket,
    a_rtcp: UdpSocket,
    b: UdpSocket,
    b_rtcp: UdpSocket,
}

/// The even ports of `low..=high` whose RTP/RTCP pair another program holds now, so
/// that no call is promised them.
pub fn ports_held_elsewhere(ip: IpAddr, low: u16, high: u16) -> Vec<u16> {
    let free = |port: u16| std::net::UdpSocket::bind(SocketAddr::new(ip, port)).is_ok();
    (low + low % 2..high)
        .step_by(2)
        .filter(|&port| !(free(port) && free(port + 1)))
        .collect()
}

/// A call's four sockets: RTP and RTCP for each leg.
fn bind_pair(ip: IpAddr, ports: [u16; 2]) -> io::Result<[std::net::UdpSocket; 4]> {
    let bind = |port: u16| std::net::UdpSocket::bind(SocketAddr::new(ip, port));
    Ok([
        bind(ports[0])?,
        bind(ports[0] + 1)?,
        bind(ports[1])?,
        bind(ports[1] + 1)?,
    ])
}

impl Sockets {
    fn new(bound: [std::net::UdpSocket; 4]) -> io::Result<Sockets> {
        let [a, a_rtcp, b, b_rtcp] = bound.map(|socket| {
            socket.set_nonblocking(true)?;
            UdpSocket::from_std(socket)
        });
        Ok(Sockets {
            a: a?,
            a_rtcp: a_rtcp?,
            b: b?,
            b_rtcp: b_rtcp?,
        })
    }
}

/// One call's media: its sockets and, once both legs are known, its relay.
struct CallTask {
    key: CallKey,
    sockets: Sockets,
    shared: Shared,
}

/// What a call's task changes besides its playback: a message being left, a split
/// for a supervisor, the call's recording.
type CallState<'a> = (
    &'a mut Option<Taking>,
    &'a mut Option<Split>,
    &'a mut Option<RecordingFeed>,
);

/// A recording being made, and what it becomes.
struct Taking {
    recorder: MessageRecorder,
    into: RecordInto,
}

impl CallTask {
    async fn run(self, mut control: mpsc::UnboundedReceiver<Control>) {
        let sockets = &self.sockets;
        let sounds = &self.shared.sounds;
        let mut playback = Playback::new(Backdrops {
            music: sounds.hold_music.clone(),
            ringback: sounds.ringback.clone(),
        });
        let mut published = RelayStats::default();
        let mut from_a = [0u8; MAX_PACKET];
        let mut from_b = [0u8; MAX_PACKET];
        let mut rtcp_a = [0u8; 1500];
        let mut rtcp_b = [0u8; 1500];
        let mut publish = tokio::time::interval(PUBLISH_EVERY);
        let mut taking: Option<Taking> = None;
        let mut recording: Option<RecordingFeed> = None;
        // While a supervisor watches, each leg talks to a room rather than the other.
        let mut split: Option<Split> = None;
        let (mut room_a, mut room_b) = ([0u8; MAX_PACKET], [0u8; MAX_PACKET]);
        loop {
            let emit_at = [
                playback.poll_timeout(),
                split.as_ref().and_then(Split::poll_timeout),
            ]
            .into_iter()
            .flatten()
            .min()
            .map(tokio::time::Instant::from_std);
            let record_until = taking
                .as_ref()
                .map(|t| tokio::time::Instant::from_std(t.recorder.poll_timeout()));
            tokio::select! {
                // Media first: it is what arrives fifty times a second.
                biased;
                received = sockets.a.recv_from(&mut from_a) => {
                    if let Some(split) = split.as_mut() {
                        split.phone_sent(Side::A, received, &mut from_a);
                        feed(split.drain_heard(), &recording);
                        continue;
                    }
                    let kept = forward(&mut playback, Side::A, received, &mut from_a, &sockets.b);
                    if let (Some(len), Some(t)) = (kept, taking.as_mut()) {
                        t.recorder.push_rtp(Instant::now(), &from_a[..len]);
                    }
                    feed(playback.drain_heard(), &recording);
                }
                received = sockets.b.recv_from(&mut from_b) => {
                    match split.as_mut() {
                        Some(split) => {
                            split.phone_sent(Side::B, received, &mut from_b);
                            feed(split.drain_heard(), &recording);
                        }
                        None => {
                            forward(&mut playback, Side::B, received, &mut from_b, &sockets.a);
                            feed(playback.drain_heard(), &recording);
                        }
                    }
                }
                received = media_rooms::receive_from_room(toward(&split, Side::A), &mut room_a) => {
                    if let Some(split) = split.as_mut() {
                        split.room_sent(Side::A, received, &mut room_a, &sockets.a);
                    }
                }
                received = media_rooms::receive_from_room(toward(&split, Side::B), &mut room_b) => {
                    if let Some(split) = split.as_mut() {
                        split.room_sent(Side::B, received, &mut room_b, &sockets.b);
                    }
                }
                command = control.recv() => {
                    let Some(command) = command else {
                        // The call is over: a message being left is kept all the same.
                        self.finish_recording(taking.take());
                        break;
                    };
                    // Commands sent together (music, then the words over it) take effect
                    // together: no packet goes out between them.
                    self.apply(&mut playback, (&mut taking, &mut split, &mut recording), command);
                    while let Ok(command) = control.try_recv() {
                        let state = (&mut taking, &mut split, &mut recording);
                        self.apply(&mut playback, state, command);
                    }
                }
                // RTCP is terminated here: phones' reports are read and dropped.
                _ = sockets.a_rtcp.recv_from(&mut rtcp_a) => {}
                _ = sockets.b_rtcp.recv_from(&mut rtcp_b) => {}
                () = crate::sip_edge::sleep_until(emit_at) => {}
                () = crate::sip_edge::sleep_until(record_until) => {
                    if taking.as_ref().is_some_and(|t| t.recorder.handle_timeout(Instant::now()).is_some()) {
                        self.finish_recording(taking.take());
                    }
                }
                _ = publish.tick() => {
                    publish_stats(&self.shared.metrics, &playback.stats(), &mut published);
                }
            }
            self.drain(&mut playback);
            if let Some(split) = split.as_mut() {
                let phones = [[&sockets.a, &sockets.a_rtcp], [&sockets.b, &sockets.b_rtcp]];
                split.drain(phones, |event| self.report_key(event));
            }
        }
        publish_stats(&self.shared.metrics, &playback.stats(), &mut published);
    }

    fn apply(
        &self,
        playback: &mut Playback,
        (taking, split, recording): CallState<'_>,
        command: Control,
    ) {
        let sounds = &self.shared.sounds;
        let (now, wall) = (Instant::now(), SystemTime::now());
        match command {
            Control::Bridge(a, b) => {
                *split = None;
                playback.bridge(now, wall, a, b, ids());
            }
            Control::Split(setup) => match Split::new(setup.0, setup.1, setup.2) {
                Ok(mut made) => {
                    // A recorded call goes on being recorded while it passes a room.
                    made.record(playback.is_recording());
                    *split = Some(made);
                }
                Err(e) => tracing::warn!("call {}: cannot be watched: {e}", self.key),
            },
            Control::Unsplit => *split = None,
            Control::Update(side, media) => playback.update(side, media),
            Control::SendDtmf(to, dtmf) => playback.send_dtmf(now, to, dtmf),
            Control::Announce(side, to, what) => {
                let prompt = sounds.announcement(what).clone();
                playback.announce(now, wall, side, to, prompt, ids());
            }
            Control::Record(to, into, limits) => {
                let recorder = MessageRecorder::new(now, to, limits);
                *taking = Some(Taking { recorder, into });
            }
            Control::StopRecording => self.finish_recording(taking.take()),
            Control::RecordCall(file, on) => {
                if on && recording.is_none() {
                    match self.shared.recordings.start(&file) {
                        Ok(feed) => *recording = Some(feed),
                        Err(e) => return tracing::error!("call {}: cannot record: {e}", self.key),
                    }
                }
                playback.record(on);
                if let Some(split) = split.as_mut() {
                    split.record(on);
                }
            }
            Control::Prompt(to, list) => {
                let prompt = (!list.is_empty()).then(|| sounds.playlist(&list));
                playback.prompt(now, wall, to, prompt, ids());
            }
            Control::Wait(side, media, hears) => {
                let backdrop = match hears {
                    Waiting::Music => Backdrop::Music,
                    Waiting::Ringback => Backdrop::Ringback,
                };
                playback.wait(now, wall, side, media, backdrop, ids());
            }
            Control::Say(to, words, hold_other) => {
                playback.say(now, to, sounds.say(&words), hold_other)
            }
            Control::Whisper(to, words) => playback.whisper(now, to, sounds.say(&words)),
            Control::Music(to, on) => playback.music(now, to, on),
        }
    }

    /// Saves the recording away from the media thread, then reports it.
    fn finish_recording(&self, taking: Option<Taking>) {
        let Some(Taking { recorder, into }) = taking else {
            return;
        };
        let (files, reports, call) = (
            self.shared.voicemail.clone(),
            self.shared.reports.clone(),
            self.key,
        );
        tokio::task::spawn_blocking(move || {
            let duration =
                recorder
                    .finish()
                    .and_then(|recorded| match files.save(&into, &recorded) {
                        Ok(()) => Some(recorded.duration()),
                        Err(e) => {
                            tracing::error!("{into:?} could not be saved: {e}");
                            None
                        }
                    });
            let report = match into {
                RecordInto::Message { id, .. } => MediaReport::Recorded { call, id, duration },
                RecordInto::Greeting { .. } => MediaReport::GreetingRecorded {
                    call,
                    kept: duration.is_some(),
                },
            };
            let _ = reports.send(report);
        });
    }

    fn report_key(&self, event: RelayEvent) {
        let (from, dtmf, passed) = match event {
            RelayEvent::Dtmf { from, dtmf } => (from, dtmf, false),
            RelayEvent::Passed { from, dtmf } => (from, dtmf, true),
        };
        let _ = self.shared.reports.send(MediaReport::Dtmf {
            call: self.key,
            from,
            dtmf,
            passed,
        });
    }

    /// Sends the packets Switchboard makes itself and passes what happened on.
    fn drain(&self, playback: &mut Playback) {
        let now = Instant::now();
        while let Some(emit) = playback.poll_emit(now) {
            let s = &self.sockets;
            let socket = match (emit.side, emit.rtcp) {
                (Side::A, false) => &s.a,
                (Side::A, true) => &s.a_rtcp,
                (Side::B, false) => &s.b,
                (Side::B, true) => &s.b_rtcp,
            };
            let _ = socket.try_send_to(&emit.packet, emit.to);
        }
        while let Some(event) = playback.poll_relay_event() {
            self.report_key(event);
        }
        while let Some(PlaybackEvent::AnnouncementDone) = playback.poll_event(now) {
            let _ = self
                .shared
                .reports
                .send(MediaReport::AnnouncementDone(self.key));
        }
    }
}

/// Relays the packet just received. Each wake-up takes one packet: a call's socket
/// rarely holds a second one (50 packets a second), and probing for it would cost a
/// failed system call per packet (measured: BENCHMARKS.md). Returns the length of a
/// packet the relay accepted but kept, as it does for a leg alone: the audio a
/// voicemail message is recorded from.
fn forward(
    playback: &mut Playback,
    side: Side,
    received: io::Result<(usize, SocketAddr)>,
    buf: &mut [u8],
    output: &UdpSocket,
) -> Option<usize> {
    let (n, from) = received.ok()?;
    // Before the callee answers there is no bridge yet; early packets are dropped.
    match playback.handle_rtp(Instant::now(), side, from, buf, n)? {
        Ok(out) => {
            let _ = output.try_send_to(&buf[..out.len], out.to);
            None
        }
        Err(Dropped::Held) => Some(n),
        Err(_) => None,
    }
}

/// Hands what the legs just said to the call's recording; if its writer has fallen far
/// behind, the audio is dropped rather than the call held up.
fn feed(heard: impl Iterator<Item = Heard>, recording: &Option<RecordingFeed>) {
    if let Some(feed) = recording {
        for h in heard {
            let _ = feed.try_send(h);
        }
    }
}

/// The socket toward the room for the phone on `side`, while the call is split.
fn toward(split: &Option<Split>, side: Side) -> Option<&UdpSocket> {
    split.as_ref().map(|s| s.socket(side))
}

/// Fresh random identities for the streams a new relay sends.
fn ids() -> StreamIds {
    StreamIds {
        ssrcs: rand::random(),
        first_seqs: rand::random(),
    }
}

fn publish_stats(metrics: &Metrics, now: &RelayStats, published: &mut RelayStats) {
    let dropped = |s: &RelayStats| s.malformed + s.unexpected_source + s.foreign_ssrc + s.payload;
    metrics.add_rtp(
        now.forwarded - published.forwarded,
        dropped(now) - dropped(published),
    );
    *published = *now;
}
