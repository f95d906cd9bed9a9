//! The SIP edge: UDP and TCP sockets on one port, turned into inputs for the sans-IO
//! [`Service`], and its outputs turned back into socket writes and store writes.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use switchboard_sip::framing::{Frame, StreamFramer};
use switchboard_sip::service::{Account, Service};
use switchboard_sip::transaction::{Peer, Transport};
use switchboard_store::RegistrationWrite;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};

use crate::metrics::Metrics;
use crate::persist::{to_write, unix_now};

/// Connections past this are refused at once, so a flood cannot exhaust descriptors.
const MAX_TCP_CONNECTIONS: usize = 1024;
/// A connection that sends nothing this long is closed (phones ping every 30–120 s).
const TCP_IDLE: Duration = Duration::from_secs(180);
/// Datagrams taken per wake-up before outputs are flushed.
const UDP_BATCH: usize = 64;

pub struct SipSockets {
    pub udp: UdpSocket,
    pub tcp: TcpListener,
}

impl SipSockets {
    /// Binds UDP and TCP on the same address; with port 0, TCP follows UDP's port.
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        let udp = UdpSocket::bind(addr).await?;
        let tcp = TcpListener::bind(udp.local_addr()?).await?;
        Ok(SipSockets { udp, tcp })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.udp.local_addr()
    }
}

enum StreamEvent {
    Opened(SocketAddr, mpsc::Sender<Vec<u8>>),
    Frame(SocketAddr, Vec<u8>),
    Unframeable,
    Closed(SocketAddr),
}

/// What the engine needs besides its sockets.
pub struct Engine {
    pub service: Service,
    pub writes: std_mpsc::Sender<RegistrationWrite>,
    pub reload: mpsc::Receiver<HashMap<String, Account>>,
    pub metrics: Arc<Metrics>,
}

impl Engine {
    pub async fn run(mut self, sockets: SipSockets, mut shutdown: watch::Receiver<bool>) {
        let SipSockets { udp, tcp } = sockets;
        let (stream_tx, mut stream_rx) = mpsc::channel::<StreamEvent>(4096);
        let acceptor = tokio::spawn(accept_loop(tcp, stream_tx));
        let mut connections: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
        let mut buf = vec![0u8; 65_536];
        loop {
            let deadline = self
                .service
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            tokio::select! {
                received = udp.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        let peer = Peer { transport: Transport::Udp, addr: from };
                        self.service.handle_datagram(Instant::now(), peer, &buf[..n]);
                        for _ in 1..UDP_BATCH {
                            let Ok((n, from)) = udp.try_recv_from(&mut buf) else { break };
                            let peer = Peer { transport: Transport::Udp, addr: from };
                            self.service.handle_datagram(Instant::now(), peer, &buf[..n]);
                        }
                    }
                }
                Some(event) = stream_rx.recv() => match event {
                    StreamEvent::Opened(addr, tx) => { connections.insert(addr, tx); }
                    StreamEvent::Closed(addr) => { connections.remove(&addr); }
                    StreamEvent::Unframeable => self.service.note_dropped(),
                    StreamEvent::Frame(addr, bytes) => {
                        let peer = Peer { transport: Transport::Tcp, addr };
                        self.service.handle_datagram(Instant::now(), peer, &bytes);
                    }
                },
                Some(accounts) = self.reload.recv() => self.service.set_accounts(accounts),
                () = sleep_until(deadline) => self.service.handle_timeout(Instant::now()),
                _ = shutdown.changed() => break,
            }
            self.flush(&udp, &connections).await;
        }
        acceptor.abort();
    }

    async fn flush(
        &mut self,
        udp: &UdpSocket,
        connections: &HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    ) {
        // Published before anything is sent, so a phone that got its answer and asks
        // the health endpoint sees the state that answer reflects.
        self.metrics.update(&self.service);
        while let Some(t) = self.service.poll_transmit() {
            match t.peer.transport {
                Transport::Udp => {
                    if let Err(e) = udp.try_send_to(&t.bytes, t.peer.addr)
                        && e.kind() == io::ErrorKind::WouldBlock
                    {
                        let _ = udp.send_to(&t.bytes, t.peer.addr).await;
                    }
                }
                Transport::Tcp => {
                    if let Some(conn) = connections.get(&t.peer.addr) {
                        let _ = conn.try_send(t.bytes);
                    }
                }
            }
        }
        let mut unix = None;
        while let Some(change) = self.service.poll_binding_change() {
            let now = *unix.get_or_insert_with(unix_now);
            let _ = self.writes.send(to_write(change, now));
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn accept_loop(listener: TcpListener, events: mpsc::Sender<StreamEvent>) {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((stream, addr)) = listener.accept().await else {
            continue;
        };
        if open.load(Ordering::Relaxed) >= MAX_TCP_CONNECTIONS {
            tracing::warn!(
                "refusing TCP connection from {addr}: {MAX_TCP_CONNECTIONS} already open"
            );
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let (events, open) = (events.clone(), open.clone());
        tokio::spawn(async move {
            serve_connection(stream, addr, &events).await;
            let _ = events.send(StreamEvent::Closed(addr)).await;
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

async fn serve_connection(stream: TcpStream, addr: SocketAddr, events: &mpsc::Sender<StreamEvent>) {
    let (mut reader, mut writer) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(256);
    if events
        .send(StreamEvent::Opened(addr, out_tx.clone()))
        .await
        .is_err()
    {
        return;
    }
    let writing = tokio::spawn(async move {
        while let Some(bytes) = out_rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let mut framer = StreamFramer::default();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match tokio::time::timeout(TCP_IDLE, reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => break,
        };
        framer.push(&buf[..n]);
        loop {
            match framer.next_frame() {
                Ok(Some(Frame::Message(bytes))) => {
                    if events.send(StreamEvent::Frame(addr, bytes)).await.is_err() {
                        break;
                    }
                }
                Ok(Some(Frame::Ping)) => {
                    let _ = out_tx.try_send(b"\r\n".to_vec());
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("closing TCP connection from {addr}: {e}");
                    let _ = events.send(StreamEvent::Unframeable).await;
                    writing.abort();
                    return;
                }
            }
        }
    }
    writing.abort();
}
