//! The call engine takes any datagram from a phone that knows a password: INVITE,
//! CANCEL, BYE, INFO and responses reach the B2BUA past authentication. It must never
//! panic, and a call that ends always leaves exactly one record. 600 is a queue with
//! 101 as its agent, and 100 an agent too, so queue calls and feature codes are reached.
#![no_main]

use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use switchboard_core::{Output, Pbx, PbxConfig, QueueSetup};
use switchboard_queue::{AgentConfig, Membership, QueueConfig, Strategy};
use switchboard_sip::auth::AccountSecrets;
use switchboard_sip::registrar::Binding;
use switchboard_sip::service::{Account, ServiceConfig};
use switchboard_sip::transaction::{Peer, Transport};

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let config = PbxConfig {
        // A realm of its own so credentials in the corpus can be precomputed.
        sip: ServiceConfig { realm: "fuzz".into(), ..ServiceConfig::default() },
        sip_port: 5060,
        advertise_ip: [192, 0, 2, 1].into(),
        media_ports: (20000, 20010),
        ring_timeout: Duration::from_secs(30),
    };
    let mut pbx = Pbx::new(config, [9; 32], 1, t0, SystemTime::UNIX_EPOCH);
    let account = |u: &str| Account { secrets: AccountSecrets::from_password(u, "fuzz", "fuzz-password"), enabled: true };
    pbx.service_mut().set_accounts([("100".into(), account("100")), ("101".into(), account("101"))].into());
    let phone = Peer { transport: Transport::Udp, addr: "192.0.2.20:5060".parse().unwrap() };
    let binding = Binding {
        uri: "sip:101@192.0.2.20:5060".into(),
        call_id: "r".into(),
        cseq: 1,
        expires_at: t0,
        source: phone,
        user_agent: None,
    };
    pbx.service_mut().registrar_mut().restore(t0, "101", binding, Duration::from_secs(600));
    // Callers wait ten minutes at most, so every call still ends within the hour.
    let mut config = QueueConfig::new("Fuzz", Strategy::RingAll);
    config.max_wait = Some(Duration::from_secs(600));
    let queue = QueueSetup {
        number: "600".into(),
        config,
        members: vec![("101".into(), Membership::default()), ("100".into(), Membership::default())],
    };
    let agents = vec![AgentConfig::new("101"), AgentConfig::new("100")];
    pbx.set_queues(t0, vec![queue], agents).expect("no calls yet");
    let caller = Peer { transport: Transport::Udp, addr: "192.0.2.10:5060".parse().unwrap() };
    // Datagrams separated by a NUL byte, alternately from the caller and the callee.
    for (i, datagram) in data.split(|&b| b == 0).enumerate() {
        let from = if i % 2 == 0 { caller } else { phone };
        let now = t0 + Duration::from_millis(100 * i as u64);
        pbx.handle_datagram(now, from, datagram);
        while pbx.poll_output().is_some() {}
    }
    // An hour passes as the server lives it: woken at each deadline the engine names
    // (one late wake-up would fire every timer at once, and schedule the next ones from
    // there).
    let hour = t0 + Duration::from_secs(3600);
    while let Some(at) = pbx.poll_timeout().filter(|&at| at <= hour) {
        pbx.handle_timeout(at);
        while let Some(o) = pbx.poll_output() {
            let _ = matches!(o, Output::CallRecord(_));
        }
    }
    assert_eq!(pbx.active_calls(), 0, "every call ends within an hour of silence");
});
