//! A desk phone's busy lamp (a SIPp phone watching extension 102's dialog events) goes
//! from idle to ringing for the caller, to talking, and back to idle as a baresip phone
//! of 100 calls 102's baresip phone, which answers, and hangs up. Pressing the lamp's
//! key while it shows ringing picks the call up (INVITE with Replaces).

use std::time::Duration;
use switchboard_e2e::audio;
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

#[test]
fn the_lamp_follows_a_call_to_the_watched_extension() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let silence = dir.path().join("silence.wav");
    audio::silence(30, &silence);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &silence, false));
    let mut watched = Baresip::start(server.sip, PhoneSetup::pcmu("102", &silence, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    std::thread::scope(|s| {
        let row = format!("101;{};102", password("101"));
        let lamp = s.spawn(|| sipp(&server, "watch_lamp.xml", &[row], &[]));
        server.wait_metric("lamp_subscriptions", Duration::from_secs(10), |n| n == 1);
        caller.command("dial", &format!("sip:102@{}", server.sip));
        watched.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
        caller.command("hangup", "");
        watched.wait_event("CALL_CLOSED", Duration::from_secs(10));
        lamp.join().unwrap().expect(1, 0);
    });
}

#[test]
fn the_lamps_key_picks_up_the_call_it_shows_ringing() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let silence = dir.path().join("silence.wav");
    audio::silence(30, &silence);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &silence, false));
    let mut watched = Baresip::start(server.sip, PhoneSetup::pcmu("102", &silence, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    let media = free_port().to_string();
    std::thread::scope(|s| {
        let row = format!("101;{};102", password("101"));
        let lamp = s.spawn(|| sipp(&server, "pickup_by_lamp.xml", &[row], &["-mp", &media]));
        server.wait_metric("lamp_subscriptions", Duration::from_secs(10), |n| n == 1);
        caller.command("dial", &format!("sip:102@{}", server.sip));
        lamp.join().unwrap().expect(1, 0);
    });
    // 100 talked to the lamp's phone until it hung up; 102's phone stopped ringing.
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
    watched.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let records = server.call_records();
    let call = record_of(&records, "100");
    assert_eq!(call.answered_by.as_deref(), Some("101"), "{call:#?}");
    assert_history_tells(&records, "100", "101 picked up the call ringing 102");
}
