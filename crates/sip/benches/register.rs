//! The engine's own cost of one registration as a phone (or SIPp) makes it: REGISTER →
//! 401 challenge → REGISTER with digest credentials → 200 OK, through the whole
//! endpoint (parse, transaction, auth, registrar, response), sockets left out. 10,000
//! extensions refresh in turn on a simulated clock that advances 100 µs per
//! registration, so transactions and timers age as they do at 10,000 registrations/s.
//! The phone's side (computing the digest answer) is outside the measured time.
//!
//! `cargo bench -p switchboard-sip --bench register`
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_sip::auth::{AccountSecrets, authorization};
use switchboard_sip::guard::GuardConfig;
use switchboard_sip::service::{Account, Service, ServiceConfig};
use switchboard_sip::transaction::{Peer, Transport};

/// The server's allocator, so allocation costs as much as there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USERS: u32 = 10_000;
const FIRST_USER: u32 = 20_000;
const SERVER: &str = "127.0.0.1:5060";

/// A REGISTER as SIPp's `register_auth.xml` writes it.
fn register(user: u32, round: u64, cseq: u32, peer: SocketAddr, auth: Option<&str>) -> Vec<u8> {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "REGISTER sip:{SERVER} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};branch=z9hG4bK-{round}-{cseq}\r\n\
         From: <sip:{user}@127.0.0.1>;tag=4242SIPpTag00{round}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
         Call-ID: {round}-4242@127.0.0.1\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{peer}>\r\n\
         Expires: 3600\r\n{auth}Max-Forwards: 70\r\nUser-Agent: SIPp\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

struct Office {
    service: Service,
    now: Instant,
    round: u64,
    peer: Peer,
}

impl Office {
    fn new() -> Self {
        let now = Instant::now();
        // One address stands for the whole office here, so it is trusted: the per-source
        // request limit would otherwise answer 503 (binding_memory, with an address per
        // phone, counts the guard's cost).
        let config = ServiceConfig {
            guard: GuardConfig {
                trusted: vec!["127.0.0.0/8".parse().expect("a network")],
                ..GuardConfig::default()
            },
            ..ServiceConfig::default()
        };
        let mut service = Service::new(config, [7; 32], now, SystemTime::now());
        let accounts: HashMap<String, Account> = (FIRST_USER..FIRST_USER + USERS)
            .map(|u| {
                let user = u.to_string();
                let secrets = AccountSecrets::from_password(&user, "switchboard", &password(u));
                let account = Account {
                    encryption: Default::default(),
                    secrets,
                    enabled: true,
                };
                (user, account)
            })
            .collect();
        service.set_accounts(accounts);
        let peer = Peer {
            transport: Transport::Udp,
            addr: "127.0.0.1:5070".parse().unwrap(),
        };
        Office {
            service,
            now,
            round: 0,
            peer,
        }
    }

    /// One registration; returns the time the engine spent on it.
    fn registration(&mut self) -> Duration {
        self.round += 1;
        self.now += Duration::from_micros(100);
        let user = FIRST_USER + (self.round % u64::from(USERS)) as u32;
        let first = register(user, self.round, 1, self.peer.addr, None);

        let started = Instant::now();
        self.catch_up();
        self.service.handle_datagram(self.now, self.peer, &first);
        let challenge = self.service.poll_transmit().unwrap();
        let mut spent = started.elapsed();

        let www = std::str::from_utf8(&challenge.bytes)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("WWW-Authenticate: "))
            .unwrap()
            .to_string();
        let uri = format!("sip:{SERVER}");
        let answer = authorization(
            &www,
            "REGISTER",
            &uri,
            &user.to_string(),
            &password(user),
            1,
            "c",
        )
        .unwrap();
        let second = register(user, self.round, 2, self.peer.addr, Some(&answer));

        let started = Instant::now();
        self.service.handle_datagram(self.now, self.peer, &second);
        let ok = self.service.poll_transmit().unwrap();
        while self.service.poll_binding_change().is_some() {}
        spent += started.elapsed();
        assert!(ok.bytes.starts_with(b"SIP/2.0 200 OK"));
        black_box(ok);
        spent
    }

    /// Fires the timers that are due, as the engine's loop does between datagrams.
    fn catch_up(&mut self) {
        while self.service.poll_timeout().is_some_and(|t| t <= self.now) {
            self.service.handle_timeout(self.now);
        }
    }
}

fn password(user: u32) -> String {
    format!("bench-pass-{user}")
}

fn registration(c: &mut Criterion) {
    let mut office = Office::new();
    // Every extension bound once, so refreshes meet a full registrar.
    for _ in 0..USERS {
        office.registration();
    }
    c.bench_function("registration with digest auth (4 messages)", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| office.registration()).sum())
    });
}

criterion_group!(benches, registration);
criterion_main!(benches);
