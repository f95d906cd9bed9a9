//! Transfers from real phones: 100 (baresip, speaking English) calls 101, whose phone
//! (baresip, pjsua2 or linphonec) transfers the call to 102 (baresip, speaking
//! Russian) by REFER, blind or after consulting 102 (pjsua2, REFER with Replaces). The
//! transferor is let go, 100 and 102 hear each other, and the call log tells one
//! story. A blind transfer that nobody answers rings the transferor's phone again.

use std::time::Duration;

use switchboard_e2e::audio::{self, Voices, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup, talk_then_hang_up};
use switchboard_e2e::*;

const ESTABLISHED: &str = "CALL_ESTABLISHED";
const CLOSED: &str = "CALL_CLOSED";

/// After a few seconds of talk 100 hangs up; each side heard the other's voice, and
/// the caller's one record says 102 answered and tells the `story`.
fn talk_and_check(server: &Server, v: &Voices, phones: (Baresip, Baresip), story: &[&str]) {
    let records = talk_then_hang_up(server, v, phones);
    let callers: Vec<_> = records.iter().filter(|r| r.caller == "100").collect();
    let [r] = &callers[..] else {
        panic!("one call, one record: {records:#?}");
    };
    assert_eq!(
        (
            r.outcome.as_str(),
            r.hangup_by.as_str(),
            r.answered_by.as_deref()
        ),
        ("answered", "caller", Some("102")),
        "{r:#?}"
    );
    let history = r.history.as_deref().unwrap_or_default();
    for part in story {
        assert!(history.contains(part), "{history}");
    }
}

/// What the record of a blind transfer to 102 tells.
const BLIND: &[&str] = &["101 transferred to 102", "102 answered"];

#[test]
fn a_baresip_receptionist_transfers_the_caller_and_they_talk() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &v.silence, true));
    let mut target = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event(ESTABLISHED, Duration::from_secs(10));
    desk.wait_event(ESTABLISHED, Duration::from_secs(10));
    desk.command("transfer", &format!("sip:102@{}", server.sip));
    target.wait_event(ESTABLISHED, Duration::from_secs(15));
    desk.wait_event(CLOSED, Duration::from_secs(10));
    talk_and_check(&server, &v, (caller, target), BLIND);
}

/// 100 calls 101, a pjsua2 phone playing `role` (see tests/peers/pjsua2_call.py) with
/// 102 as its target; returns once 102's phone has a call. Then the receptionist's
/// phone says what it saw.
fn pjsua2_receptionist(
    server: &Server,
    v: &Voices,
    role: &str,
) -> (Vec<serde_json::Value>, Baresip, Baresip) {
    let sip = server.sip.to_string();
    let desk = pjsua2_peer(
        "pjsua2_call.py",
        &[role, &sip, "101", password("101"), "102", "2"],
    );
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, false));
    let mut target = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.ru, true));
    server.wait_metric("bindings", Duration::from_secs(15), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event(ESTABLISHED, Duration::from_secs(10));
    target.wait_event(ESTABLISHED, Duration::from_secs(15));
    let said = json_lines(desk);
    assert!(
        said.iter()
            .any(|e| e["transfer"] == 200 && e["final"] == true),
        "the receptionist is told the transfer succeeded: {said:?}"
    );
    (said, caller, target)
}

#[test]
fn a_pjsua2_receptionist_transfers_the_caller_and_is_told_it_worked() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let (said, caller, target) = pjsua2_receptionist(&server, &v, "transferor");
    assert!(
        said.iter().any(|e| e["ended"] == true),
        "and its call ends: {said:?}"
    );
    talk_and_check(&server, &v, (caller, target), BLIND);
}

#[test]
fn a_transfer_nobody_answers_rings_the_receptionist_again() {
    let config = config("", FAST_REGISTRAR) + "[calls]\nring_timeout = 5\n";
    let server = Server::start(&config);
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &v.ru, true));
    let mut target = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.silence, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event(ESTABLISHED, Duration::from_secs(10));
    desk.wait_event(ESTABLISHED, Duration::from_secs(10));
    desk.command("transfer", &format!("sip:102@{}", server.sip));
    target.wait_event("CALL_INCOMING", Duration::from_secs(10));
    desk.wait_event(CLOSED, Duration::from_secs(10));
    // 102 rings out its five seconds; then the desk rings and answers again.
    target.wait_event(CLOSED, Duration::from_secs(15));
    desk.wait_event(ESTABLISHED, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(5));
    caller.command("hangup", "");
    desk.wait_event(CLOSED, Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let (en, _) = audio::read(&v.en);
    let desk_heard = audio::read_at_call_rate(&desk.heard());
    audio::assert_heard(
        "the receptionist rung back, the caller",
        heard(&en, &desk_heard),
    );
    let r = server.call_records().remove(0);
    assert_eq!(r.answered_by.as_deref(), Some("101"), "{r:#?}");
    let history = r.history.as_deref().unwrap_or_default();
    assert!(
        history.contains("102 did not answer, 101 rung back") && history.contains("101 answered"),
        "{history}"
    );
}

#[test]
fn a_linphone_receptionist_transfers_the_caller_and_they_talk() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let mut desk = switchboard_e2e::linphone::Linphone::start();
    desk.register(server.sip, "101");
    desk.say("autoanswer enable");
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, false));
    let mut target = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event(ESTABLISHED, Duration::from_secs(10));
    let answered = desk.wait_for("connected", Duration::from_secs(10), None);
    assert!(answered, "linphonec did not answer: {}", desk.seen);
    desk.say(&format!("transfer sip:102@{}", server.sip));
    target.wait_event(ESTABLISHED, Duration::from_secs(15));
    let ended = desk.wait_for("ended", Duration::from_secs(10), None);
    assert!(ended, "linphonec's call did not end: {}", desk.seen);
    talk_and_check(&server, &v, (caller, target), BLIND);
}

#[test]
fn a_pjsua2_receptionist_consults_a_colleague_then_transfers_the_caller() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    // The consultation call reaches 102; the transfer then moves it to the caller.
    let (said, caller, target) = pjsua2_receptionist(&server, &v, "consulter");
    assert_eq!(
        said.iter().filter(|e| e["ended"] == true).count(),
        2,
        "both of the receptionist's calls end: {said:?}"
    );
    let story = ["101 transferred to 102 after talking to them"];
    talk_and_check(&server, &v, (caller, target), &story);
    let consultation = server
        .call_records()
        .into_iter()
        .find(|r| r.caller == "101")
        .expect("the consultation call's record");
    assert_eq!(consultation.reason, "101 joined 102 to 100's call");
}

/// A phone that cannot send REFER transfers by its keys: 100 (pjsua2) calls the desk
/// (101), then types `##`, 102 and `#` as telephone events; the desk is put through to
/// 102, 100 is let go, and the desk and 102 hear each other.
#[test]
fn a_phone_without_a_transfer_button_transfers_by_typing_hash_hash_and_the_number() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &v.en, true));
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.ru, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    pjsua2_keys_call(&server, "101", "##102#", "rfc2833");
    colleague.wait_event(ESTABLISHED, Duration::from_secs(10));
    let records = talk_then_hang_up(&server, &v, (desk, colleague));
    let call = record_of(&records, "100");
    assert_eq!(call.answered_by.as_deref(), Some("102"), "{call:#?}");
    assert_history_tells(&records, "100", "100 transferred to 102");
}
