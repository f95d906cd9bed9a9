//! Conference rooms at the media edge. A member's call keeps its own task and relay,
//! which face the phone; the relay's other side is a socket of the room's, on this PC,
//! so the room receives plain RTP in the phone's codec whatever the phone does (SRTP,
//! NAT, keys) and mixes it ([`Room`]). One task per room, on the media thread the
//! room's number picks.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::Poll;
use std::time::Instant;

use switchboard_media::codec::Format;
use switchboard_media::conference::{MemberId, Room, StreamId};
use switchboard_media::relay::{LegMedia, MAX_PACKET};
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// What a room's task is told.
pub(crate) enum RoomControl {
    /// A member's call joins: the room hears it on `socket`, in `format`.
    Join {
        member: MemberId,
        socket: std::net::UdpSocket,
        format: Format,
    },
    Leave {
        member: MemberId,
    },
}

/// A socket for a new member of a room, and the media its call's relay sends to: the
/// phone's codec, no telephone events (keys stay with the call, for the engine), no
/// SRTP (the packets never leave this PC).
pub(crate) fn member_socket(
    bind_ip: IpAddr,
    phone: &LegMedia,
) -> io::Result<(std::net::UdpSocket, LegMedia)> {
    let ip = match bind_ip {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let socket = std::net::UdpSocket::bind(SocketAddr::new(ip, 0))?;
    socket.set_nonblocking(true)?;
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

/// Runs one room until the media thread drops its sender.
pub(crate) async fn run_room(mut control: mpsc::UnboundedReceiver<RoomControl>) {
    let mut room = Room::default();
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
                Some(RoomControl::Join { member, socket, format }) => {
                    match UdpSocket::from_std(socket) {
                        Ok(socket) => {
                            seats.insert(member, Seat { socket, call: None });
                            let stream = StreamId { ssrc: rand::random(), first_seq: rand::random() };
                            room.join(Instant::now(), member, format, stream);
                        }
                        Err(e) => tracing::warn!("conference member {member}: {e}"),
                    }
                }
                Some(RoomControl::Leave { member }) => {
                    seats.remove(&member);
                    room.leave(member);
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
