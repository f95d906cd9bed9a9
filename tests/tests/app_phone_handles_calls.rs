//! The app's phone (crates/phone on its tokio edge, a file for its sound card) in the
//! calls a receptionist makes against real phones: keys reach a pjsua2 phone as
//! telephone events, a second caller waits and the lines swap with baresip phones on
//! both, a blind transfer hands a caller over to a colleague who hears them, and
//! calls still reach the phone after the server crashes and starts again.

use std::time::Duration;

use switchboard_e2e::app_phone::{AppPhone, FileCard};
use switchboard_e2e::audio::{self, Voices, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;
use switchboard_phone::{EndReason, LineId, LineState};

/// The app's phone, signed in as 101 and saying Russian.
fn app_phone(server: &Server, voices: &Voices) -> AppPhone {
    let mut phone = AppPhone::start(server.sip, "101", FileCard::new(&voices.ru));
    phone.signed_in();
    phone
}

/// `caller` dials the app's phone (101), which answers: its line, once the caller has
/// the call.
fn answered(server: &Server, phone: &mut AppPhone, caller: &mut Baresip) -> LineId {
    caller.command("dial", &format!("sip:101@{}", server.sip));
    let ringing = phone.ringing();
    phone
        .act(move |p, now| p.answer(now, ringing.line))
        .expect("answers");
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    ringing.line
}

#[test]
fn keys_pressed_in_the_app_reach_a_pjsua2_phone_as_telephone_events() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let voices = Voices::new(dir.path());
    let callee = pjsua2_callee(&server, "102");
    let mut phone = app_phone(&server, &voices);
    let line = phone.act(|p, now| p.dial(now, "102")).expect("dials");
    phone.line_reaches(line, LineState::Talking);
    for key in ['1', '5', '9', '#'] {
        phone
            .act(move |p, now| p.send_key(now, line, key))
            .expect("a key");
    }
    // Eight packets a key, one key after another.
    std::thread::sleep(Duration::from_secs(2));
    phone
        .act(move |p, now| p.hang_up(now, line))
        .expect("hangs up");
    let events = json_lines(callee);
    let keys: String = events.iter().filter_map(|e| e["dtmf"].as_str()).collect();
    let methods: Vec<&str> = events.iter().filter_map(|e| e["method"].as_str()).collect();
    assert_eq!(keys, "159#", "{events:?}");
    assert!(methods.iter().all(|m| *m == "rfc2833"), "{methods:?}");
}

#[test]
fn a_second_caller_waits_and_the_receptionist_swaps_between_them() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let voices = Voices::new(dir.path());
    let mut phone = app_phone(&server, &voices);
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &voices.en, true));
    let mut customer = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);

    let first = phone.act(|p, now| p.dial(now, "102")).expect("dials");
    phone.line_reaches(first, LineState::Talking);
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(5));

    customer.command("dial", &format!("sip:101@{}", server.sip));
    let waiting = phone.ringing();
    assert_ne!(
        waiting.line, first,
        "the second call rings on the other line"
    );
    let second = waiting.line;
    phone
        .act(move |p, now| p.answer(now, second))
        .expect("answers");
    phone.line_reaches(first, LineState::Held);
    customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    assert_eq!(server.metric("active_calls"), 2);
    std::thread::sleep(Duration::from_secs(5));

    // Swap: back to the colleague, the customer waits on hold, then is let go.
    phone
        .act(move |p, now| p.resume(now, first))
        .expect("swaps");
    phone.line_reaches(second, LineState::Held);
    phone
        .act(move |p, now| p.hang_up(now, second))
        .expect("hangs up the customer");
    customer.wait_event("CALL_CLOSED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(5));
    phone
        .act(move |p, now| p.hang_up(now, first))
        .expect("hangs up the colleague");
    colleague.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);

    let (ru, _) = audio::read(&voices.ru);
    audio::assert_heard(
        "the customer, the app's phone",
        heard(&ru, &audio::read_at_call_rate(&customer.heard())),
    );
    audio::assert_heard(
        "the colleague, the app's phone",
        heard(&ru, &audio::read_at_call_rate(&colleague.heard())),
    );
    let records = server.call_records();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records.iter().all(|r| r.answered.is_some()), "{records:?}");
}

#[test]
fn a_blind_transfer_hands_the_caller_to_a_colleague() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let voices = Voices::new(dir.path());
    let mut phone = app_phone(&server, &voices);
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &voices.ru, true));
    let mut customer = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    let line = answered(&server, &mut phone, &mut customer);
    phone
        .act(move |p, now| p.transfer(now, line, "102"))
        .expect("transfers");
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
    let ended = phone.ended();
    assert!(
        matches!(ended, EndReason::HungUpHere | EndReason::HungUpThere),
        "{ended:?}"
    );
    std::thread::sleep(Duration::from_secs(6));
    customer.command("hangup", "");
    colleague.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let (en, _) = audio::read(&voices.en);
    audio::assert_heard(
        "the colleague, the customer",
        heard(&en, &audio::read_at_call_rate(&colleague.heard())),
    );
}

#[test]
fn after_the_server_crashes_and_restarts_calls_still_reach_the_app_phone() {
    let mut server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let voices = Voices::new(dir.path());
    let mut phone = app_phone(&server, &voices);
    // The server copies sign-ins to its database a moment after taking them (within
    // 200 ms, batched); once the copy is there, it crashes and is started again.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.stored_registrations() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sign-in was never stored"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill9();
    server.relaunch();
    // The phone's sign-in outlives the crash: the server kept it in its database.
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    answered(&server, &mut phone, &mut caller);
    std::thread::sleep(Duration::from_secs(4));
    caller.command("hangup", "");
    assert_eq!(phone.ended(), EndReason::HungUpThere);
    // baresip finishes its recording as it closes the call.
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let at_caller = audio::read_at_call_rate(&caller.heard());
    let (ru, _) = audio::read(&voices.ru);
    audio::assert_heard("the caller, the app's phone", heard(&ru, &at_caller));
}
