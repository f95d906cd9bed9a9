//! The call engine takes any datagram from a phone that knows a password: INVITE,
//! CANCEL, BYE, INFO, REFER and responses reach the B2BUA past authentication. It must never
//! panic, and a call that ends always leaves exactly one record. 600 is a queue that
//! calls back, 601 a VIP queue, both with 101 and 100 as agents, so queue calls,
//! callbacks, preemption and feature codes are reached. A datagram `KEY<call><key>`
//! stands for a key the media edge heard on a call, `DONE<call>` for an announcement
//! or prompt it finished, `REC<call><n>` for voicemail message `n / 2 % 4` it
//! recorded (kept when `n` is even). 800 runs a scenario: a menu whose keys ring 101,
//! let the caller dial an extension, join queue 600 (0 leaves it), leave a message for
//! 101 or hang up. *97 opens a voicemail box (101's has a PIN); SUBSCRIBE asks for its
//! lamp.
#![no_main]

use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use switchboard_core::{Clock, Output, Pbx, PbxConfig, QueueSetup};
use switchboard_media::dtmf::Dtmf;
use switchboard_media::relay::Side;
use switchboard_queue::{AgentConfig, CallbackPolicy, Membership, QueueConfig, Strategy, VipPolicy};
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
        tls_port: None,
        advertise_ip: [192, 0, 2, 1].into(),
        public_ip: None,
        local_networks: Vec::new(),
        media_ports: (20000, 20010),
        ring_timeout: Duration::from_secs(30),
    };
    // Wall-clock time keeps pace with monotonic time here: no sleeping PC.
    let clock = |mono: Instant| Clock { mono, wall: SystemTime::UNIX_EPOCH + (mono - t0) };
    let mut pbx = Pbx::new(config, [9; 32], [1; 32], clock(t0));
    let account = |u: &str| Account { secrets: AccountSecrets::from_password(u, "fuzz", "fuzz-password"), enabled: true, encryption: Default::default() };
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
    let caller = Peer { transport: Transport::Udp, addr: "192.0.2.10:5060".parse().unwrap() };
    let binding = Binding {
        uri: "sip:100@192.0.2.10:5060".into(),
        call_id: "r100".into(),
        cseq: 1,
        expires_at: t0,
        source: caller,
        user_agent: None,
    };
    pbx.service_mut().registrar_mut().restore(t0, "100", binding, Duration::from_secs(600));
    // Callers wait ten minutes at most, so every call still ends within the hour.
    let queue = |number: &str, vip: bool| {
        let mut config = QueueConfig::new("Fuzz", Strategy::RingAll);
        config.max_wait = Some(Duration::from_secs(600));
        config.callback = Some(CallbackPolicy { attempts: 2, retry_after: Duration::from_secs(60) });
        config.vip = vip.then_some(VipPolicy { delay: Duration::from_secs(5) });
        QueueSetup {
            number: number.into(),
            config,
            members: vec![("101".into(), Membership::default()), ("100".into(), Membership::default())],
        }
    };
    let agents = vec![AgentConfig::new("101"), AgentConfig::new("100")];
    pbx.set_queues(clock(t0), vec![queue("600", false), queue("601", true)], agents);
    pbx.set_scenarios(switchboard_core::ScenarioSetup {
        scenarios: vec![toml::from_str(RECEPTION).expect("the fuzz scenario reads")],
        inbound: vec![("800".into(), "Reception".into())],
        ..Default::default()
    });
    pbx.set_voicemail_pins(vec![("101".into(), switchboard_core::pin_hash("101", "4821", b"fuzz"))]);
    // Datagrams separated by a NUL byte, alternately from the caller and the callee.
    for (i, datagram) in data.split(|&b| b == 0).enumerate() {
        let from = if i % 2 == 0 { caller } else { phone };
        let now = t0 + Duration::from_millis(100 * i as u64);
        match datagram {
            [b'K', b'E', b'Y', call, key] => {
                let dtmf = Dtmf { key: *key as char, duration_ms: 100 };
                pbx.handle_dtmf(clock(now), u64::from(call % 4), Side::A, dtmf);
            }
            [b'D', b'O', b'N', b'E', call] => pbx.handle_announcement_done(clock(now), u64::from(call % 4)),
            [b'R', b'E', b'C', call, id] => {
                let kept = (id % 2 == 0).then_some(Duration::from_secs(3));
                pbx.handle_recorded(clock(now), u64::from(call % 4), i64::from(*id / 2 % 4), kept);
            }
            _ => pbx.handle_datagram(clock(now), from, datagram),
        }
        while pbx.poll_output().is_some() {}
    }
    // An hour passes as the server lives it: woken at each deadline the engine names
    // (one late wake-up would fire every timer at once, and schedule the next ones from
    // there).
    let hour = t0 + Duration::from_secs(3600);
    while let Some(at) = pbx.poll_timeout().filter(|&at| at <= hour) {
        pbx.handle_timeout(clock(at));
        while let Some(o) = pbx.poll_output() {
            let _ = matches!(o, Output::CallRecord { .. });
        }
    }
    assert_eq!(pbx.active_calls(), 0, "every call ends within an hour of silence");
});

const RECEPTION: &str = r#"
name = "Reception"
start = "menu"

[blocks.menu]
type = "menu"
prompt = "welcome"
keys = "1234"
timeout = 3
retries = 1
exits = { 1 = "desk", 2 = "dial", 3 = "queue", 4 = "box", timeout = "queue", invalid = "menu" }

[blocks.desk]
type = "ring-group"
mode = "in-order"
members = [{ extension = "101", ring = 5 }, { extension = "100", ring = 5 }]
exits = { no-answer = "queue" }

[blocks.dial]
type = "dial-extension"
prompt = "enter_extension"
timeout = 3
exits = { timeout = "bye", invalid = "bye", no-answer = "bye" }

[blocks.queue]
type = "queue"
queue = "600"
exits = { timeout = "bye", empty = "bye", full = "bye", key = "bye" }

[blocks.box]
type = "voicemail"
mailbox = "101"

[blocks.bye]
type = "hang-up"
"#;
