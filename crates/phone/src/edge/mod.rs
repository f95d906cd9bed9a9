//! The phone's tokio edge (feature `edge`): its UDP sockets, its timer, the 20-ms
//! audio clock and a handle the app drives it through. It holds no call logic: every
//! datagram, deadline and command goes into [`Phone`] and what comes out is sent or
//! announced.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

use crate::{FRAME_SAMPLES, Phone, PhoneConfig, PhoneEvent, Socket};

mod device;
pub use device::{DeviceCard, DeviceChoice, SoundError, devices};

/// Where the phone's sound comes from and goes: a sound device, or a file in tests.
pub trait SoundCard: Send + 'static {
    /// The phone has a call or a ring: open the devices.
    fn start(&mut self) {}
    /// The phone has none left: let the devices go.
    fn stop(&mut self) {}
    /// The microphone's next 20 ms ([`FRAME_SAMPLES`] at [`crate::PCM_RATE`]);
    /// silence when it has none.
    fn capture(&mut self, frame: &mut [i16]);
    /// 20 ms for the speaker.
    fn play(&mut self, frame: &[i16]);
}

/// A card for a PC without sound: the microphone is silent and the speaker plays
/// nowhere, so the phone still signs in and shows calls while the panel says why
/// nothing can be heard.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentCard;

impl SoundCard for SilentCard {
    fn capture(&mut self, frame: &mut [i16]) {
        frame.fill(0);
    }

    fn play(&mut self, _frame: &[i16]) {}
}

/// The sockets a phone uses, bound before it starts.
#[derive(Debug)]
pub struct Sockets {
    sip: UdpSocket,
    media: Vec<UdpSocket>,
    /// The address the server reaches us at.
    ip: IpAddr,
}

impl Sockets {
    /// A SIP socket and one RTP socket for each of `lines`, on every interface, and
    /// the local address the route to `server` leaves from (what the phone tells the
    /// server to send to).
    pub async fn bind(server: SocketAddr, lines: usize) -> io::Result<Sockets> {
        let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        let probe = UdpSocket::bind(any).await?;
        // Connecting a UDP socket sends nothing: it only picks the route.
        probe.connect(server).await?;
        let ip = probe.local_addr()?.ip();
        let sip = UdpSocket::bind(any).await?;
        let mut media = Vec::with_capacity(lines);
        for _ in 0..lines {
            media.push(UdpSocket::bind(any).await?);
        }
        Ok(Sockets { sip, media, ip })
    }

    /// The SIP address and the lines' RTP addresses, as the server reaches them.
    pub fn addresses(&self) -> io::Result<(SocketAddr, Vec<SocketAddr>)> {
        let at = |s: &UdpSocket| s.local_addr().map(|a| SocketAddr::new(self.ip, a.port()));
        Ok((
            at(&self.sip)?,
            self.media.iter().map(at).collect::<Result<_, _>>()?,
        ))
    }
}

type Job = Box<dyn FnOnce(&mut Phone, std::time::Instant) + Send>;

/// How the app talks to a running phone; dropping every handle stops it (it signs out
/// first).
#[derive(Debug, Clone)]
pub struct PhoneHandle {
    jobs: mpsc::UnboundedSender<Job>,
    events: broadcast::Sender<PhoneEvent>,
}

impl PhoneHandle {
    /// Runs `command` on the phone (`phone.answer(now, line)` and the like) and
    /// returns what it returned; none when the phone has stopped.
    pub async fn act<T: Send + 'static>(
        &self,
        command: impl FnOnce(&mut Phone, std::time::Instant) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |phone, now| {
            let _ = tx.send(command(phone, now));
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }

    /// What the phone reports from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PhoneEvent> {
        self.events.subscribe()
    }
}

/// Starts a phone on `sockets` with `config`'s account (its addresses are taken from
/// the sockets) and `card` for sound; `key` seeds its identifiers.
pub fn spawn(
    mut config: PhoneConfig,
    sockets: Sockets,
    card: impl SoundCard,
    key: [u8; 32],
) -> io::Result<PhoneHandle> {
    let (local, media) = sockets.addresses()?;
    config.local = local;
    config.media = media;
    let (jobs, jobs_rx) = mpsc::unbounded_channel();
    let (events, _) = broadcast::channel(256);
    let phone = Phone::new(std::time::Instant::now(), config, key);
    tokio::spawn(run(phone, sockets, card, jobs_rx, events.clone()));
    Ok(PhoneHandle { jobs, events })
}

async fn run(
    mut phone: Phone,
    sockets: Sockets,
    mut card: impl SoundCard,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    events: broadcast::Sender<PhoneEvent>,
) {
    let sip = Arc::new(sockets.sip);
    let media: Vec<Arc<UdpSocket>> = sockets.media.into_iter().map(Arc::new).collect();
    let (datagrams, mut received) = mpsc::channel(1024);
    read_into(Socket::Sip, sip.clone(), datagrams.clone());
    for (i, socket) in media.iter().enumerate() {
        read_into(
            Socket::Line(crate::LineId(i)),
            socket.clone(),
            datagrams.clone(),
        );
    }
    let mut audio_clock = tokio::time::interval(Duration::from_millis(20));
    audio_clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (mut mic, mut speaker) = (vec![0i16; FRAME_SAMPLES], vec![0i16; FRAME_SAMPLES]);
    let mut sounding = false;
    loop {
        let wake = phone.poll_timeout().map_or_else(
            || Instant::now() + Duration::from_secs(3600),
            Instant::from_std,
        );
        // Datagrams first: after the process was held up, the packets that waited go
        // into the jitter buffer before the audio clock's missed ticks play it out.
        tokio::select! {
            biased;
            Some((socket, from, bytes)) = received.recv() => {
                phone.handle_datagram(std::time::Instant::now(), socket, from, &bytes);
            }
            job = jobs.recv() => match job {
                Some(job) => job(&mut phone, std::time::Instant::now()),
                None => {
                    phone.stop(std::time::Instant::now());
                    flush(&mut phone, &sip, &media, &events).await;
                    return;
                }
            },
            _ = audio_clock.tick() => {
                card.capture(&mut mic);
                phone.exchange_audio(&mic, &mut speaker);
                card.play(&speaker);
            }
            _ = tokio::time::sleep_until(wake) => phone.handle_timeout(std::time::Instant::now()),
        }
        flush(&mut phone, &sip, &media, &events).await;
        if phone.is_idle() == sounding {
            sounding = !sounding;
            if sounding {
                card.start();
            } else {
                card.stop();
            }
        }
    }
}

/// Sends what the phone wants sent and announces what it reports.
async fn flush(
    phone: &mut Phone,
    sip: &UdpSocket,
    media: &[Arc<UdpSocket>],
    events: &broadcast::Sender<PhoneEvent>,
) {
    while let Some(d) = phone.poll_transmit() {
        let socket = match d.socket {
            Socket::Sip => sip,
            Socket::Line(line) => match media.get(line.0) {
                Some(s) => s,
                None => continue,
            },
        };
        // A lost datagram is what UDP allows; retransmission is the phone's job.
        let _ = socket.send_to(&d.bytes, d.to).await;
    }
    while let Some(event) = phone.poll_event() {
        // Nobody listening is fine: the panel reads the lines when it opens.
        let _ = events.send(event);
    }
}

fn read_into(
    socket_id: Socket,
    socket: Arc<UdpSocket>,
    into: mpsc::Sender<(Socket, SocketAddr, Vec<u8>)>,
) {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_536];
        loop {
            let (n, from) = match socket.recv_from(&mut buf).await {
                Ok(received) => received,
                // An ICMP port unreachable for something we sent (Windows reports it
                // here): keep listening.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => continue,
                Err(_) => return,
            };
            if into
                .send((socket_id, from, buf[..n].to_vec()))
                .await
                .is_err()
            {
                return;
            }
        }
    });
}
