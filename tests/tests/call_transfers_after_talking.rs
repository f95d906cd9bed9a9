//! Attended transfer and three-way calls typed on a phone's keys. The desk, 101
//! (pjsua2, speaking Polish, sending keys by SIP INFO), calls a customer, 100
//! (baresip), then types `*2`, 102 and `#`: 102's phone (baresip) rings while the
//! customer waits, and once it answers the desk and 102 talk. Hanging up then puts the
//! customer through to 102 (`*3` instead makes a three-way call: `call_three_way`). A
//! colleague's mobile is consulted the same way, out through the office's provider
//! (Kamailio).

use std::time::Duration;

use switchboard_e2e::audio::{self, Voices, heard, heard_within};
use switchboard_e2e::baresip::{Baresip, PhoneSetup, hang_up_and_listen};
use switchboard_e2e::provider::{
    Provider, ROUTE_THROUGH_PROVIDER, customer_phone, provider_password,
};
use switchboard_e2e::*;

/// The last four seconds of what a phone heard (before the call's very end): after a
/// transfer, what the two left talk about.
fn last_seconds(heard: &[f32]) -> Vec<f32> {
    let end = heard.len().saturating_sub(audio::RATE as usize / 2);
    heard[end.saturating_sub(4 * audio::RATE as usize)..end].to_vec()
}

/// The record of the desk's call to the customer tells each of `story`.
fn assert_customer_call_tells(records: &[switchboard_core::CallRecord], story: &[&str]) {
    let call = records
        .iter()
        .find(|r| r.caller == "101" && r.callee == "100")
        .unwrap_or_else(|| panic!("the desk's call to 100: {records:#?}"));
    assert_eq!(call.outcome.as_str(), "answered", "{call:#?}");
    let history = call.history.as_deref().unwrap_or_default();
    for part in story {
        assert!(history.contains(part), "{history}");
    }
}

#[test]
fn the_desk_talks_to_102_then_hangs_up_and_the_customer_talks_to_102() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let polish = dir.path().join("pl.wav");
    audio::speech("pl", 40, &polish);
    let mut customer = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, true));
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    let desk_heard = dir.path().join("desk.wav");
    // About four seconds of keys and ringing, then eight of talk with 102.
    pjsua2_listener(
        &server,
        "101",
        "100",
        "*2102#",
        8,
        &desk_heard,
        Some(&polish),
    );

    let (ru, _) = audio::read(&v.ru);
    let _ = std::fs::copy(&desk_heard, "/tmp/desk1.wav");
    let _ = std::fs::copy(&v.ru, "/tmp/ru1.wav");
    let at_desk = audio::read_at_call_rate(&desk_heard);
    // 102 is heard from its answer on (the customer before).
    audio::assert_heard("the desk, 102 consulted", heard_within(&ru, &at_desk));
    // The customer and 102 now talk, each hearing the other (in the last seconds of
    // what each heard: before, the customer had music and 102 the desk).
    std::thread::sleep(Duration::from_secs(6));
    let heard_by = hang_up_and_listen(&server, &mut customer, &mut [&mut colleague]);
    let (en, _) = audio::read(&v.en);
    let talk = [("the customer, 102", &ru), ("102, the customer", &en)];
    for ((what, voice), heard_at) in talk.into_iter().zip(&heard_by) {
        audio::assert_heard(what, heard(voice, &last_seconds(heard_at)));
    }
    let story = [
        "101 consulted 102",
        "102 answered 101",
        "101 transferred to 102 after talking to them",
    ];
    assert_customer_call_tells(&server.call_records(), &story);
}

#[test]
fn the_desk_consults_a_mobile_through_the_provider_then_puts_the_customer_through() {
    let provider = Provider::start();
    let server = Server::start(&format!(
        "{}[[trunks]]\nname = \"Provider\"\nhost = \"{}\"\n\
         [trunks.register]\nusername = \"48225550100\"\nauth_username = \"office\"\n\
         password = \"{}\"\n{ROUTE_THROUGH_PROVIDER}",
        config("", FAST_REGISTRAR),
        provider.addr,
        provider_password("office")
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.health()["trunks"][0]["state"] != "registered" {
        assert!(std::time::Instant::now() < deadline, "{}", server.health());
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let polish = dir.path().join("pl.wav");
    audio::speech("pl", 40, &polish);
    let mut customer = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, true));
    let mut mobile = customer_phone(&provider, &v.ru, true, false);
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let desk_heard = dir.path().join("desk.wav");
    pjsua2_listener(
        &server,
        "101",
        "100",
        "*20601000000#",
        8,
        &desk_heard,
        Some(&polish),
    );
    let (ru, _) = audio::read(&v.ru);
    let at_desk = audio::read_at_call_rate(&desk_heard);
    audio::assert_heard(
        "the desk, the mobile consulted",
        heard_within(&ru, &at_desk),
    );

    std::thread::sleep(Duration::from_secs(6));
    let heard_by = hang_up_and_listen(&server, &mut customer, &mut [&mut mobile]);
    let (en, _) = audio::read(&v.en);
    let talk = [
        ("the customer, the mobile", &ru),
        ("the mobile, the customer", &en),
    ];
    for ((what, voice), heard_at) in talk.into_iter().zip(&heard_by) {
        audio::assert_heard(what, heard(voice, &last_seconds(heard_at)));
    }
    let story = [
        "101 consulted 0601000000",
        "101 transferred to 0601000000 after talking to them",
    ];
    assert_customer_call_tells(&server.call_records(), &story);
}
