//! Live heap bytes per registration binding, measured with a counting allocator: 10,000
//! extensions register through the whole endpoint (challenge, digest answer, 200 OK) on
//! a simulated clock, which then runs past every transaction's end.
//!
//! `cargo run --release -p switchboard-sip --example binding_memory`
#![allow(clippy::unwrap_used)]

use std::alloc::System;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use switchboard_sip::auth::{AccountSecrets, authorization};
use switchboard_sip::service::{Account, Service, ServiceConfig};
use switchboard_sip::transaction::{Peer, Transport};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const USERS: u32 = 10_000;

fn main() {
    let t0 = Instant::now();
    let mut service = Service::new(ServiceConfig::default(), [3; 32], t0, SystemTime::now());
    let accounts: HashMap<String, Account> = (0..USERS)
        .map(|u| {
            let user = (20_000 + u).to_string();
            let secrets =
                AccountSecrets::from_password(&user, "switchboard", &format!("bench-pass-{user}"));
            (
                user,
                Account {
                    encryption: Default::default(),
                    secrets,
                    enabled: true,
                },
            )
        })
        .collect();
    service.set_accounts(accounts);
    let region = Region::new(GLOBAL);
    let live = |r: &Region<System>| {
        let c = r.change();
        // Growth and shrinking by realloc are already in these two.
        c.bytes_allocated as isize - c.bytes_deallocated as isize
    };
    let mut now = t0;
    for u in 0..USERS {
        let user = 20_000 + u;
        let peer = Peer {
            transport: Transport::Udp,
            addr: format!("10.0.{}.{}:5060", u / 250, u % 250 + 1)
                .parse()
                .unwrap(),
        };
        now += Duration::from_micros(200);
        service.handle_datagram(now, peer, register(user, 1, None).as_bytes());
        let challenge = drain(&mut service);
        let www = challenge
            .lines()
            .find_map(|l| l.strip_prefix("WWW-Authenticate: "))
            .unwrap();
        let password = format!("bench-pass-{user}");
        let auth = authorization(
            www,
            "REGISTER",
            "sip:pbx",
            &user.to_string(),
            &password,
            1,
            "abc",
        )
        .unwrap();
        service.handle_datagram(now, peer, register(user, 2, Some(&auth)).as_bytes());
        assert!(drain(&mut service).starts_with("SIP/2.0 200 OK"));
        while service.poll_binding_change().is_some() {}
    }
    let peak = live(&region);
    // Past Timer J: only the bindings (and the nonce-count table) remain.
    let later = now + Duration::from_secs(40);
    service.handle_timeout(later);
    let settled = live(&region);
    // Nothing but the bindings' own expiry is left to wait for.
    assert!(
        service
            .poll_timeout()
            .is_some_and(|t| t > later + Duration::from_secs(3000))
    );
    assert_eq!(service.registrar().binding_count(), USERS as usize);
    println!("bindings: {}", service.registrar().binding_count());
    println!(
        "live heap per binding, transactions still open: {} B",
        peak / USERS as isize
    );
    println!(
        "live heap per binding, after 64*T1:            {} B",
        settled / USERS as isize
    );
}

fn register(user: u32, cseq: u32, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "REGISTER sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{user}x{cseq};rport\r\n\
         From: <sip:{user}@pbx>;tag=t{user}\r\nTo: <sip:{user}@pbx>\r\nCall-ID: c{user}@10.0.0.1\r\n\
         CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@10.0.0.1:5060>\r\nExpires: 3600\r\n\
         User-Agent: Desk phone 1.0\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

fn drain(service: &mut Service) -> String {
    std::iter::from_fn(|| service.poll_transmit())
        .map(|t| String::from_utf8_lossy(&t.bytes).into_owned())
        .collect()
}
