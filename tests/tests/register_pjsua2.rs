//! pjsua2 (PJSIP 2.15) registers, refreshes before expiry and unregisters, over UDP,
//! TCP and TLS, and with SHA-256 digest when the office turns it on.

use std::time::Duration;
use switchboard_e2e::*;

struct Summary {
    registered: u64,
    unregistered: bool,
    events: String,
}

fn pjsua2(server: &Server, ext: &str, expires: u32, refreshes: u32, transport: &str) -> Summary {
    let address = if transport == "tls" {
        server.sip_tls
    } else {
        server.sip
    };
    let out = pjsua2_peer(
        "pjsua2_register.py",
        &[
            &address.to_string(),
            ext,
            password(ext),
            &expires.to_string(),
            &refreshes.to_string(),
            transport,
        ],
    )
    .wait_with_output()
    .expect("run pjsua2");
    let events = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = events
        .lines()
        .find(|l| l.contains("\"summary\""))
        .unwrap_or_else(|| {
            panic!(
                "pjsua2 gave no summary:\n{events}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: serde_json::Value = serde_json::from_str(summary).expect("summary JSON");
    Summary {
        registered: v["registered"].as_u64().unwrap_or(0),
        unregistered: v["unregistered"].as_bool().unwrap_or(false),
        events,
    }
}

#[test]
fn registers_refreshes_and_unregisters_over_udp() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let s = pjsua2(&server, "100", 12, 1, "udp");
    assert_eq!(
        s.registered, 2,
        "first registration and one refresh:\n{}",
        s.events
    );
    assert!(s.unregistered, "{}", s.events);
    assert_eq!(server.metric("bindings"), 0);
    assert!(server.metric("registrations") >= 3);
}

#[test]
fn registers_over_tcp() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let s = pjsua2(&server, "101", 60, 0, "tcp");
    assert_eq!(s.registered, 1, "{}", s.events);
    assert!(s.unregistered, "{}", s.events);
    server.wait_metric("bindings", Duration::from_secs(2), |b| b == 0);
}

#[test]
fn registers_over_tls() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let s = pjsua2(&server, "103", 60, 0, "tls");
    assert_eq!(s.registered, 1, "{}", s.events);
    assert!(s.unregistered, "{}", s.events);
    server.wait_metric("bindings", Duration::from_secs(2), |b| b == 0);
}

#[test]
fn sha256_digest_when_offered_alone() {
    let server = Server::start(&config("digest_algorithms = [\"SHA-256\"]", FAST_REGISTRAR));
    let s = pjsua2(&server, "102", 60, 0, "udp");
    assert_eq!(s.registered, 1, "{}", s.events);
    assert_eq!(server.metric("auth_failures"), 0);
}
