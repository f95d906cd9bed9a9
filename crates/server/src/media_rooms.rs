//! Conference rooms at the media edge. A member's call keeps its own task and relay,
//! which face the phone; the relay's other side is a socket of the room's, on this PC,
//! so the room receives plain RTP in the phone's codec whatever the phone does (SRTP,
//! NAT, keys) and mixes it ([`Room`]). One task per room, on the media thread the
//! room's number picks. A call a supervisor listens to is split the same way: each of
//! its legs is relayed to the room on its own ([`Split`]).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::Poll;
use std::time::Instant;

use switchboard_media::call_recording::Heard;
use switchboard_media::codec::Format;
use switchboard_media::conference::{Joining, MemberId, Part, Room, StreamId};
use switchboard_media::playback::Backdrops;
use switchboard_media::relay::{LegMedia, MAX_PACKET, Relay, RelayEvent, Side};
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// What a room's task is told.
pub(crate) enum RoomControl {
    /// A member's call (or one leg of a watched call) joins: the room hears it on
    /// `socket`, in `format`, taking `part`; `announced`: everyone hears a chime.
    Join {
        member: MemberId,
        socket: std::net::UdpSocket,
        format: Format,
        part: Part,
        announced: bool,
    },
    Leave {
        member: MemberId,
    },
    /// A member takes another part.
    Part {
        member: MemberId,
        part: Part,
    },
}

/// A socket for a new member of a room, and the media its call's relay sends to: the
/// phone's codec, no telephone events (keys stay with the call, for the engine), no
/// SRTP (the packets never leave this PC).
pub(crate) fn member_socket(
    bind_ip: IpAddr,
    phone: &LegMedia,
) -> io::Result<(std::net::UdpSocket, LegMedia)> {
    let socket = local_socket(bind_ip)?;
    let remote = socket.local_addr()?;
    let media = LegMedia {
        remote,
        signalling: remote.ip(),
        audio: phone.audio,
        events: None,
        srtp: None,
    };
    Ok((socket, media))
}

/// A member's socket and, once its call has sent something, where that call listens.
struct Seat {
    socket: UdpSocket,
    call: Option<SocketAddr>,
}

/// Runs one room until the last member leaves (with nothing more asked of it) or the
/// media thread drops its sender.
pub(crate) async fn run_room(
    mut control: mpsc::UnboundedReceiver<RoomControl>,
    backdrops: Backdrops,
) {
    let mut room = Room::with_backdrops(backdrops);
    let mut seats: HashMap<MemberId, Seat> = HashMap::new();
    let mut buf = [0u8; MAX_PACKET];
    loop {
        let tick = room.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            biased;
            (member, len, from) = receive(&seats, &mut buf) => {
                let Some(seat) = seats.get_mut(&member) else { continue };
                // The member's call is the only sender on this PC that knows the
                // socket; its first packet says where it listens.
                if *seat.call.get_or_insert(from) == from {
                    room.handle_rtp(Instant::now(), member, &buf[..len]);
                }
            }
            command = control.recv() => match command {
                None => break,
                Some(RoomControl::Join { member, socket, format, part, announced }) => {
                    match UdpSocket::from_std(socket) {
                        Ok(socket) => {
                            seats.insert(member, Seat { socket, call: None });
                            let stream = StreamId { ssrc: rand::random(), first_seq: rand::random() };
                            let joining = Joining { part, announced, stream };
                            room.join(Instant::now(), member, format, joining);
                        }
                        Err(e) => tracing::warn!("conference member {member}: {e}"),
                    }
                }
                Some(RoomControl::Part { member, part }) => room.set_part(member, part),
                Some(RoomControl::Leave { member }) => {
                    seats.remove(&member);
                    room.leave(member);
                    // The media thread starts a new task for the room's next member.
                    if seats.is_empty() && control.is_empty() {
                        break;
                    }
                }
            },
            () = crate::sip_edge::sleep_until(tick) => room.handle_timeout(Instant::now()),
        }
        while let Some(emit) = room.poll_emit() {
            if let Some(Seat {
                socket,
                call: Some(to),
            }) = seats.get(&emit.to)
            {
                let _ = socket.try_send_to(&emit.packet, *to);
            }
        }
    }
}

/// The next packet on any member's socket. Errors (an ICMP report of a call that just
/// closed) are passed over.
async fn receive(seats: &HashMap<MemberId, Seat>, buf: &mut [u8]) -> (MemberId, usize, SocketAddr) {
    std::future::poll_fn(|cx| {
        for (&member, seat) in seats {
            let mut read = ReadBuf::new(buf);
            if let Poll::Ready(Ok(from)) = seat.socket.poll_recv_from(cx, &mut read) {
                return Poll::Ready((member, read.filled().len(), from));
            }
        }
        Poll::Pending
    })
    .await
}

/// The room member a leg of a watched call is: call keys are counters far below the
/// top bits, which mark the side.
pub(crate) fn leg_member(call: u64, side: Side) -> MemberId {
    call | match side {
        Side::A => 1 << 62,
        Side::B => 1 << 63,
    }
}

/// The address rooms' sockets take: the media address, or loopback when media listens
/// on every address.
fn loopback_if_any(bind_ip: IpAddr) -> IpAddr {
    match bind_ip {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    }
}

/// A socket on this PC between a call and a room.
pub(crate) fn local_socket(bind_ip: IpAddr) -> io::Result<std::net::UdpSocket> {
    let socket = std::net::UdpSocket::bind(SocketAddr::new(loopback_if_any(bind_ip), 0))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// A watched call whose two legs talk through a room (so that a supervisor can join)
/// instead of straight to each other: each phone has its own relay to its own socket
/// toward the room, so encryption, address learning and keys stay as in any call.
pub(crate) struct Split {
    /// Relay `k`: side A is phone `k` (A, then B), side B the room.
    relays: [Relay; 2],
    sockets: [UdpSocket; 2],
}

impl Split {
    pub(crate) fn new(
        phones: [LegMedia; 2],
        rooms: [LegMedia; 2],
        sockets: [std::net::UdpSocket; 2],
    ) -> io::Result<Split> {
        let [a, b] = sockets;
        let relay = |phone, room| Relay::new(phone, room, rand::random(), rand::random());
        Ok(Split {
            relays: [relay(phones[0], rooms[0]), relay(phones[1], rooms[1])],
            sockets: [UdpSocket::from_std(a)?, UdpSocket::from_std(b)?],
        })
    }

    /// A packet from the phone on `side`, passed on toward the room.
    pub(crate) fn phone_sent(
        &mut self,
        side: Side,
        received: io::Result<(usize, SocketAddr)>,
        buf: &mut [u8],
    ) {
        let k = side as usize;
        pass(
            &mut self.relays[k],
            Side::A,
            received,
            buf,
            &self.sockets[k],
        );
    }

    /// A packet from the room for the phone on `side`, sent from `phone`'s socket.
    pub(crate) fn room_sent(
        &mut self,
        side: Side,
        received: io::Result<(usize, SocketAddr)>,
        buf: &mut [u8],
        phone: &UdpSocket,
    ) {
        pass(
            &mut self.relays[side as usize],
            Side::B,
            received,
            buf,
            phone,
        );
    }

    /// Keeps what each phone says for the call's recording from now on, or stops.
    pub(crate) fn record(&mut self, on: bool) {
        for relay in &mut self.relays {
            relay.set_recording(on);
        }
    }

    /// What the phones said since the last call, each as the call's own side (the
    /// room's mix toward them is not theirs to record).
    pub(crate) fn drain_heard(&mut self) -> impl Iterator<Item = Heard> + '_ {
        self.relays
            .iter_mut()
            .zip([Side::A, Side::B])
            .flat_map(|(relay, phone)| {
                relay
                    .drain_heard()
                    .filter(|h| h.side == Side::A)
                    .map(move |h| Heard { side: phone, ..h })
            })
    }

    /// The socket toward the room for the phone on `side`.
    pub(crate) fn socket(&self, side: Side) -> &UdpSocket {
        &self.sockets[side as usize]
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.relays.iter().filter_map(Relay::poll_timeout).min()
    }

    /// Sends what the relays make themselves (reports to the phones, from `phones`'
    /// RTP and RTCP sockets) and passes on the keys pressed, by the phone's side.
    pub(crate) fn drain(&mut self, phones: [[&UdpSocket; 2]; 2], mut key: impl FnMut(RelayEvent)) {
        let now = Instant::now();
        for (k, relay) in self.relays.iter_mut().enumerate() {
            while let Some(emit) = relay.poll_emit(now) {
                // Toward the room nothing but the audio is wanted.
                if emit.side == Side::A {
                    let _ = phones[k][usize::from(emit.rtcp)].try_send_to(&emit.packet, emit.to);
                }
            }
            let phone = if k == 0 { Side::A } else { Side::B };
            while let Some(event) = relay.poll_event() {
                // Each relay's side A is its phone; the room sends no keys.
                match event {
                    RelayEvent::Dtmf {
                        from: Side::A,
                        dtmf,
                    } => key(RelayEvent::Dtmf { from: phone, dtmf }),
                    RelayEvent::Passed {
                        from: Side::A,
                        dtmf,
                    } => key(RelayEvent::Passed { from: phone, dtmf }),
                    _ => {}
                }
            }
        }
    }
}

/// Passes a packet that arrived on `side` of `relay` out through `output`.
fn pass(
    relay: &mut Relay,
    side: Side,
    received: io::Result<(usize, SocketAddr)>,
    buf: &mut [u8],
    output: &UdpSocket,
) {
    let Ok((n, from)) = received else {
        return;
    };
    if let Ok(out) = relay.handle_rtp(Instant::now(), side, from, buf, n) {
        let _ = output.try_send_to(&buf[..out.len], out.to);
    }
}

/// A receive on `socket` (toward a room), or never when there is none.
pub(crate) async fn receive_from_room(
    socket: Option<&UdpSocket>,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr)> {
    match socket {
        Some(socket) => socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}
