//! A desk phone's busy lamp (a SIPp phone watching extension 102's dialog events) goes
//! from idle to ringing for the caller, to talking, and back to idle as a baresip phone
//! of 100 calls 102's baresip phone, which answers, and hangs up.

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
