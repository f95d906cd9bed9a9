//! SIP over TCP and TLS: connections accepted (and for TLS, handshaken), or opened to
//! a trunk's provider, cut into messages and handed to the engine.
//!
//! A connection holds a descriptor and memory, so strangers must not be able to hold
//! them for long (slowloris): one address may keep only so many connections, a banned
//! address is closed at accept, a message must arrive whole within a deadline of its
//! first byte (and a new connection's first message within one of the accept), and a
//! connection that says nothing at all for minutes is closed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use switchboard_sip::framing::{Frame, StreamFramer};
use switchboard_sip::transaction::{Peer, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Connections past this are refused at once, so a flood cannot exhaust descriptors.
const MAX_CONNECTIONS: usize = 1024;
/// Connections one address may hold (a branch office's phones behind one NAT fit).
const MAX_PER_SOURCE: usize = 32;
/// A connection that sends nothing this long is closed (phones ping every 30–120 s).
const IDLE: Duration = Duration::from_secs(180);
/// A message, and a new connection's first one, must arrive whole within this.
const MESSAGE_DEADLINE: Duration = Duration::from_secs(10);
/// Messages waiting to be written to one connection.
const OUTGOING: usize = 256;

/// What is written to a connection, and where it is taken from.
pub type Outgoing = (mpsc::Sender<Vec<u8>>, mpsc::Receiver<Vec<u8>>);

pub fn outgoing() -> Outgoing {
    mpsc::channel(OUTGOING)
}

/// How a connection to a trunk's provider is opened.
#[derive(Debug, Clone)]
pub enum ConnectTo {
    Tcp,
    Tls(TlsDial),
}

/// A provider's TLS server: the name its certificate must carry, and whom to trust.
#[derive(Debug, Clone)]
pub struct TlsDial {
    pub name: ServerName<'static>,
    pub config: Arc<rustls::ClientConfig>,
}

pub enum StreamEvent {
    Opened(SocketAddr, mpsc::Sender<Vec<u8>>),
    Frame(Peer, Vec<u8>),
    Unframeable,
    Closed(SocketAddr),
}

/// Who may hold a connection: the engine publishes its bans here (address → end), the
/// acceptor counts connections per address.
#[derive(Debug, Default)]
pub struct StreamGate {
    bans: Mutex<HashMap<IpAddr, Instant>>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl StreamGate {
    pub fn set_ban(&self, ip: IpAddr, until: Option<Instant>) {
        let mut bans = self.bans.lock().unwrap_or_else(|e| e.into_inner());
        match until {
            Some(until) => bans.insert(ip, until),
            None => bans.remove(&ip),
        };
    }

    /// Takes a slot for a connection from `ip`, or says why not.
    fn enter(&self, ip: IpAddr, now: Instant) -> Result<(), &'static str> {
        let banned = self
            .bans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ip)
            .is_some_and(|until| *until > now);
        if banned {
            return Err("banned");
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.values().sum::<usize>() >= MAX_CONNECTIONS {
            return Err("too many connections");
        }
        let mine = open.entry(ip).or_default();
        if *mine >= MAX_PER_SOURCE {
            return Err("too many connections from that address");
        }
        *mine += 1;
        Ok(())
    }

    fn leave(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&ip);
            }
        }
    }
}

/// Serves SIP connections on `listener`: plain TCP, or TLS with `tls`.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    events: mpsc::Sender<StreamEvent>,
    gate: Arc<StreamGate>,
    mut shutdown: watch::Receiver<bool>,
) {
    let transport = if tls.is_some() {
        Transport::Tls
    } else {
        Transport::Tcp
    };
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, addr)) = accepted else {
            continue;
        };
        if let Err(why) = gate.enter(addr.ip(), Instant::now()) {
            tracing::debug!("refusing {transport:?} connection from {addr}: {why}");
            continue;
        }
        let (events, gate, tls) = (events.clone(), gate.clone(), tls.clone());
        tokio::spawn(async move {
            let peer = Peer { transport, addr };
            match tls {
                None => serve_connection(stream, peer, &events, outgoing()).await,
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        crate::tls::HANDSHAKE_DEADLINE,
                        acceptor.accept(stream),
                    );
                    match handshake.await {
                        Ok(Ok(stream)) => serve_connection(stream, peer, &events, outgoing()).await,
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {addr} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {addr} took too long"),
                    }
                }
            }
            let _ = events.send(StreamEvent::Closed(addr)).await;
            gate.leave(addr.ip());
        });
    }
}

/// Opens a connection to a provider at `addr` and serves it as an accepted one; what
/// the engine sent before it was open waits in `out`. The engine is told the
/// connection closed when it could not be opened.
pub async fn dial(
    addr: SocketAddr,
    how: ConnectTo,
    events: mpsc::Sender<StreamEvent>,
    out: Outgoing,
) {
    let peer = |transport| Peer { transport, addr };
    match tokio::time::timeout(crate::tls::HANDSHAKE_DEADLINE, open(addr, how)).await {
        Ok(Ok(Opened::Tcp(stream))) => {
            serve_connection(stream, peer(Transport::Tcp), &events, out).await
        }
        Ok(Ok(Opened::Tls(stream))) => {
            serve_connection(stream, peer(Transport::Tls), &events, out).await
        }
        Ok(Err(e)) => tracing::warn!("cannot connect to the provider at {addr}: {e}"),
        Err(_) => tracing::warn!("connecting to the provider at {addr} took too long"),
    }
    let _ = events.send(StreamEvent::Closed(addr)).await;
}

enum Opened {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

async fn open(addr: SocketAddr, how: ConnectTo) -> std::io::Result<Opened> {
    let stream = TcpStream::connect(addr).await?;
    Ok(match how {
        ConnectTo::Tcp => Opened::Tcp(stream),
        ConnectTo::Tls(tls) => Opened::Tls(Box::new(
            TlsConnector::from(tls.config)
                .connect(tls.name, stream)
                .await?,
        )),
    })
}

async fn serve_connection(
    stream: impl AsyncRead + AsyncWrite + Send + 'static,
    peer: Peer,
    events: &mpsc::Sender<StreamEvent>,
    (out_tx, mut out_rx): Outgoing,
) {
    let addr = peer.addr;
    let (mut reader, mut writer) = tokio::io::split(stream);
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
    // Until the first message, and from a message's first byte to its last.
    let mut due = Some(tokio::time::Instant::now() + MESSAGE_DEADLINE);
    loop {
        let wait = due.map_or(IDLE, |at| {
            at.saturating_duration_since(tokio::time::Instant::now())
        });
        let n = match tokio::time::timeout(wait, reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            Ok(_) => break,
            Err(_) => {
                if due.is_some() {
                    tracing::debug!("closing TCP connection from {addr}: a message took too long");
                }
                break;
            }
        };
        framer.push(&buf[..n]);
        loop {
            match framer.next_frame() {
                Ok(Some(Frame::Message(bytes))) => {
                    due = None;
                    if events.send(StreamEvent::Frame(peer, bytes)).await.is_err() {
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
        if framer.pending() > 0 && due.is_none() {
            due = Some(tokio::time::Instant::now() + MESSAGE_DEADLINE);
        }
    }
    writing.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_holds_a_limited_number_of_connections_and_a_banned_one_none() {
        let gate = StreamGate::default();
        let (one, two): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let now = Instant::now();
        assert!((0..MAX_PER_SOURCE).all(|_| gate.enter(one, now).is_ok()));
        assert!(gate.enter(one, now).is_err());
        assert!(gate.enter(two, now).is_ok());
        gate.leave(one);
        assert!(gate.enter(one, now).is_ok());
        gate.set_ban(two, Some(now + Duration::from_secs(60)));
        assert_eq!(gate.enter(two, now), Err("banned"));
        assert!(
            gate.enter(two, now + Duration::from_secs(61)).is_ok(),
            "the ban ended"
        );
        gate.set_ban(two, Some(now + Duration::from_secs(60)));
        gate.set_ban(two, None);
        assert!(gate.enter(two, now).is_ok(), "lifted");
    }
}
