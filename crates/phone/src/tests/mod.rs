//! The phone against Switchboard's own call engine on a simulated clock: the engine
//! and every phone sit on one pretend network that carries SIP between them (RTP goes
//! nowhere here: the media relay is the server's edge; audio is tested end to end).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use switchboard_core::{Clock, MediaCommand, Output, Pbx, PbxConfig};
use switchboard_sip::auth::AccountSecrets;
use switchboard_sip::service::{Account, ServiceConfig};
use switchboard_sip::transaction::{Peer, Transport};

use crate::*;

mod calls;
mod registration;

pub(crate) const PASSWORD: &str = "pw-0123456789";
const PBX: &str = "192.0.2.1:5060";

pub(crate) struct Office {
    pub pbx: Pbx,
    pub now: Instant,
    wall: SystemTime,
    pub phones: Vec<Phone>,
    addrs: Vec<SocketAddr>,
    /// What each phone reported, oldest first.
    pub heard: Vec<Vec<PhoneEvent>>,
    /// Phones whose datagrams are lost (unplugged), and whether the server is down.
    pub unplugged: Vec<bool>,
    pub server_down: bool,
    pub records: Vec<switchboard_core::CallRecord>,
}

/// `SIP_TRACE=1 cargo test -p switchboard-phone -- --nocapture` shows the messages.
fn trace(from: &str, bytes: &[u8]) {
    if std::env::var_os("SIP_TRACE").is_some() {
        eprintln!("--- {from}\n{}", String::from_utf8_lossy(bytes));
    }
}

pub(crate) fn pbx_addr() -> SocketAddr {
    PBX.parse().unwrap()
}

impl Office {
    /// Switchboard with extensions 101–103, and a phone signed in as each of `users`
    /// (with `password`); nothing is sent yet.
    pub fn with_password(users: &[&str], password: &str) -> Self {
        let now = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let config = PbxConfig {
            sip: ServiceConfig::default(),
            sip_port: 5060,
            tls_port: None,
            advertise_ip: pbx_addr().ip(),
            public_ip: None,
            local_networks: Vec::new(),
            media_ports: (20000, 20099),
            ring_timeout: Duration::from_secs(30),
        };
        let mut pbx = Pbx::new(config, [7; 32], [42; 32], Clock { mono: now, wall });
        let account = |user: &str| Account {
            encryption: Default::default(),
            secrets: AccountSecrets::from_password(user, "switchboard", PASSWORD),
            enabled: true,
        };
        pbx.service_mut().set_accounts(
            ["101", "102", "103"]
                .into_iter()
                .map(|u| (u.to_string(), account(u)))
                .collect(),
        );
        let mut office = Office {
            pbx,
            now,
            wall,
            phones: Vec::new(),
            addrs: Vec::new(),
            heard: Vec::new(),
            unplugged: Vec::new(),
            server_down: false,
            records: Vec::new(),
        };
        for (i, user) in users.iter().enumerate() {
            let sip: SocketAddr = format!("192.0.2.{}:5060", 10 + i).parse().unwrap();
            let media = (0..2)
                .map(|l| SocketAddr::new(sip.ip(), 4000 + 2 * l))
                .collect();
            let config = PhoneConfig::new(pbx_addr(), user, password, sip, media);
            office
                .phones
                .push(Phone::new(now, config, [i as u8 + 1; 32]));
            office.addrs.push(sip);
            office.heard.push(Vec::new());
            office.unplugged.push(false);
        }
        office.deliver();
        office
    }

    /// Every phone registered as its extension.
    pub fn registered(users: &[&str]) -> Self {
        let office = Office::with_password(users, PASSWORD);
        for (i, phone) in office.phones.iter().enumerate() {
            assert!(
                matches!(phone.sign_in(), SignIn::SignedIn { .. }),
                "phone {i}: {:?}",
                phone.registration()
            );
        }
        office
    }

    fn clock(&self) -> Clock {
        Clock {
            mono: self.now,
            wall: self.wall,
        }
    }

    /// Carries every datagram until the network is quiet.
    pub fn deliver(&mut self) {
        loop {
            let mut moved = false;
            while let Some(output) = self.pbx.poll_output() {
                moved = true;
                match output {
                    Output::Transmit(t) => {
                        let Some(i) = self.addrs.iter().position(|a| *a == t.peer.addr) else {
                            continue;
                        };
                        if self.server_down || self.unplugged[i] {
                            continue;
                        }
                        trace("PBX", &t.bytes);
                        self.phones[i].handle_datagram(self.now, Socket::Sip, pbx_addr(), &t.bytes);
                    }
                    Output::CallRecord { record, .. } => self.records.push(*record),
                    // The media edge plays an announcement (busy, not in service) at
                    // once here: the caller is then told the outcome.
                    Output::Media(MediaCommand::Announce { call, .. }) => {
                        self.pbx.handle_announcement_done(self.clock(), call)
                    }
                    _ => {}
                }
            }
            for i in 0..self.phones.len() {
                while let Some(d) = self.phones[i].poll_transmit() {
                    moved = true;
                    if d.socket != Socket::Sip
                        || d.to != pbx_addr()
                        || self.server_down
                        || self.unplugged[i]
                    {
                        continue;
                    }
                    trace(&format!("phone {i}"), &d.bytes);
                    let peer = Peer {
                        transport: Transport::Udp,
                        addr: self.addrs[i],
                    };
                    self.pbx.handle_datagram(self.clock(), peer, &d.bytes);
                }
                while let Some(event) = self.phones[i].poll_event() {
                    self.heard[i].push(event);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Lets `by` pass, waking the engine and the phones at each of their deadlines.
    pub fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        loop {
            let next = self
                .phones
                .iter()
                .filter_map(Phone::poll_timeout)
                .chain(self.pbx.poll_timeout())
                .min()
                .filter(|at| *at <= until);
            let Some(at) = next else {
                break;
            };
            let step = at.saturating_duration_since(self.now);
            self.now += step;
            self.wall += step;
            self.pbx.handle_timeout(self.clock());
            for phone in &mut self.phones {
                phone.handle_timeout(self.now);
            }
            self.deliver();
        }
        self.wall += until - self.now;
        self.now = until;
    }

    /// Runs a command on phone `i`, then carries what it sent.
    pub fn on<T>(&mut self, i: usize, command: impl FnOnce(&mut Phone, Instant) -> T) -> T {
        let now = self.now;
        let out = command(&mut self.phones[i], now);
        self.deliver();
        out
    }

    /// What phone `i` reported since last asked.
    pub fn events(&mut self, i: usize) -> Vec<PhoneEvent> {
        std::mem::take(&mut self.heard[i])
    }

    /// Phone `i`'s line with the call, by state.
    pub fn state(&self, i: usize, line: LineId) -> Option<LineState> {
        self.phones[i]
            .lines()
            .into_iter()
            .find(|l| l.line == line)
            .map(|l| l.state)
    }

    /// The line ringing on phone `i`.
    pub fn ringing(&self, i: usize) -> LineInfo {
        self.phones[i]
            .lines()
            .into_iter()
            .find(|l| l.state == LineState::Ringing)
            .unwrap_or_else(|| panic!("nothing rings on phone {i}: {:?}", self.phones[i].lines()))
    }

    /// How phone `i`'s call on `line` ended, if it did.
    pub fn ended(&self, i: usize, line: LineId) -> Option<EndReason> {
        self.heard[i].iter().rev().find_map(|e| match e {
            PhoneEvent::Ended {
                line: l, reason, ..
            } if *l == line => Some(reason.clone()),
            _ => None,
        })
    }
}
