//! The media edge: each call's RTP and RTCP sockets, with packets passed through the
//! sans-IO [`Relay`]. One task per call owns its four sockets, so calls never wait on
//! each other and the engine thread never touches audio.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_core::{CallKey, MediaCommand};
use switchboard_media::relay::{LegMedia, Relay, RelayStats, Side};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::metrics::Metrics;

/// Packets read from one socket per wake-up before yielding.
const BATCH: usize = 16;
/// How often a call adds its packet counts to the shared metrics.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

enum Control {
    Bridge(LegMedia, LegMedia),
    Update(Side, LegMedia),
}

/// Starts the media edge; commands come from the engine, and the calls whose sockets
/// could not be opened go back on `failed`.
pub fn spawn(
    bind_ip: IpAddr,
    metrics: Arc<Metrics>,
    failed: mpsc::UnboundedSender<CallKey>,
) -> mpsc::UnboundedSender<MediaCommand> {
    let (tx, mut commands) = mpsc::unbounded_channel::<MediaCommand>();
    tokio::spawn(async move {
        let mut calls: HashMap<CallKey, mpsc::UnboundedSender<Control>> = HashMap::new();
        while let Some(command) = commands.recv().await {
            let (call, control) = match command {
                MediaCommand::Open { call, ports } => {
                    match open(bind_ip, ports) {
                        Ok(sockets) => {
                            let (control, rx) = mpsc::unbounded_channel();
                            tokio::spawn(relay_call(sockets, rx, metrics.clone()));
                            calls.insert(call, control);
                        }
                        Err(e) => {
                            tracing::warn!("call {call}: cannot open RTP ports {ports:?}: {e}");
                            let _ = failed.send(call);
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
            };
            if let Some(tx) = calls.get(&call) {
                let _ = tx.send(control);
            }
        }
    });
    tx
}

/// The RTP and RTCP sockets facing A, then those facing B.
struct Sockets {
    a: UdpSocket,
    a_rtcp: UdpSocket,
    b: UdpSocket,
    b_rtcp: UdpSocket,
}

fn open(ip: IpAddr, ports: [u16; 2]) -> io::Result<Sockets> {
    let bind = |port: u16| -> io::Result<UdpSocket> {
        let socket = std::net::UdpSocket::bind(SocketAddr::new(ip, port))?;
        socket.set_nonblocking(true)?;
        UdpSocket::from_std(socket)
    };
    Ok(Sockets {
        a: bind(ports[0])?,
        a_rtcp: bind(ports[0] + 1)?,
        b: bind(ports[1])?,
        b_rtcp: bind(ports[1] + 1)?,
    })
}

async fn relay_call(
    sockets: Sockets,
    mut control: mpsc::UnboundedReceiver<Control>,
    metrics: Arc<Metrics>,
) {
    let mut relay: Option<Relay> = None;
    let mut published = RelayStats::default();
    let mut from_a = [0u8; 2048];
    let mut from_b = [0u8; 2048];
    let mut rtcp_a = [0u8; 1500];
    let mut rtcp_b = [0u8; 1500];
    let mut publish = tokio::time::interval(PUBLISH_EVERY);
    loop {
        tokio::select! {
            command = control.recv() => match command {
                None => break,
                Some(Control::Bridge(a, b)) => {
                    if let Some(old) = relay.take() {
                        publish_stats(&metrics, &old.stats(), &mut published);
                    }
                    published = RelayStats::default();
                    relay = Some(Relay::new(a, b, rand::random(), rand::random()));
                }
                Some(Control::Update(side, media)) => {
                    if let Some(r) = relay.as_mut() {
                        r.update(side, media);
                    }
                }
            },
            received = sockets.a.recv_from(&mut from_a) => {
                forward(&mut relay, Side::A, received, &mut from_a, &sockets.a, &sockets.b);
            }
            received = sockets.b.recv_from(&mut from_b) => {
                forward(&mut relay, Side::B, received, &mut from_b, &sockets.b, &sockets.a);
            }
            // RTCP is terminated here: phones' reports are read and dropped.
            _ = sockets.a_rtcp.recv_from(&mut rtcp_a) => {}
            _ = sockets.b_rtcp.recv_from(&mut rtcp_b) => {}
            _ = publish.tick() => {
                if let Some(r) = &relay {
                    publish_stats(&metrics, &r.stats(), &mut published);
                }
            }
        }
    }
    if let Some(r) = &relay {
        publish_stats(&metrics, &r.stats(), &mut published);
    }
}

/// Relays the packet just received and whatever else is already queued on `input`.
fn forward(
    relay: &mut Option<Relay>,
    side: Side,
    first: io::Result<(usize, SocketAddr)>,
    buf: &mut [u8],
    input: &UdpSocket,
    output: &UdpSocket,
) {
    let mut received = first;
    for _ in 0..BATCH {
        let Ok((n, from)) = received else {
            return;
        };
        // Before the callee answers there is no bridge yet; early packets are dropped.
        if let Some(relay) = relay.as_mut()
            && let Ok(to) = relay.handle_rtp(Instant::now(), side, from, &mut buf[..n])
        {
            let _ = output.try_send_to(&buf[..n], to);
        }
        received = input.try_recv_from(buf);
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
