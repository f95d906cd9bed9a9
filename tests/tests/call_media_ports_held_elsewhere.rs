//! Another program on the office PC holds most of Switchboard's RTP port range before
//! it starts (a game, a VPN, another softphone): calls are still connected, on the
//! pairs that are free, and both phones hear each other. And one that takes half the
//! range while Switchboard runs: each call passes over the pairs it cannot bind.

use std::net::UdpSocket;
use std::time::Duration;

use switchboard_e2e::audio;
use switchboard_e2e::baresip::{Baresip, PhoneSetup, conversation, hang_up_and_compare};
use switchboard_e2e::*;

#[test]
fn calls_use_the_port_pairs_no_other_program_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    import_config(&data_dir, &config("", FAST_REGISTRAR)).expect("import");
    let (first, last) = rtp_range();
    // Everything but the last two pairs (a call needs two) is taken.
    let held: Vec<UdpSocket> = (first..last - 7)
        .filter_map(|port| UdpSocket::bind(("0.0.0.0", port)).ok())
        .collect();
    assert!(
        held.len() > 150,
        "the other program holds {} ports",
        held.len()
    );
    let server = Server::launch_with_rtp(&data_dir, (first, last));
    let (caller, callee) = conversation(&server, dir.path());
    std::thread::sleep(std::time::Duration::from_secs(4));
    hang_up_and_compare(&server, dir.path(), caller, callee);
    drop(held);
}

/// Before, a call whose pair held a taken port was refused with 503 "Media ports
/// unavailable": with half the range taken, three calls in four.
#[test]
fn ports_another_program_takes_while_switchboard_runs_are_passed_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    import_config(&data_dir, &config("", FAST_REGISTRAR)).expect("import");
    let (first, last) = rtp_range();
    let server = Server::launch_with_rtp(&data_dir, (first, last));
    let held: Vec<UdpSocket> = (first..first + (last - first) / 2)
        .filter_map(|port| UdpSocket::bind(("0.0.0.0", port)).ok())
        .collect();
    assert!(
        held.len() > 90,
        "the other program holds {} ports",
        held.len()
    );
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    let mut callee = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    for call in 1..=4 {
        let relayed = server.metric("rtp_forwarded");
        caller.command("dial", &format!("sip:101@{}", server.sip));
        caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
        callee.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
        // Both phones' audio crosses the relay: 50 packets a second each way.
        server.wait_metric("rtp_forwarded", Duration::from_secs(5), |n| {
            n > relayed + 100
        });
        caller.command("hangup", "");
        callee.wait_event("CALL_CLOSED", Duration::from_secs(10));
        server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
        let records = server.call_records();
        assert_eq!(records.len(), call);
        assert!(
            records.iter().all(|r| r.outcome.as_str() == "answered"),
            "{records:#?}"
        );
    }
    drop(held);
}
