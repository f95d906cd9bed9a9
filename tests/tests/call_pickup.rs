//! Call pickup from real phones: 100 (baresip, speaking English) calls 101, whose
//! baresip phone rings unanswered; 102 (baresip, speaking Russian) dials `**101` and
//! talks with the caller, and 101's phone stops ringing.

use std::time::Duration;

use switchboard_e2e::audio::Voices;
use switchboard_e2e::baresip::{Baresip, PhoneSetup, talk_then_hang_up};
use switchboard_e2e::*;

#[test]
fn a_colleague_picks_up_a_ringing_desk_and_talks_with_the_caller() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &v.silence, false));
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.ru, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    desk.wait_event("CALL_INCOMING", Duration::from_secs(10));
    colleague.command("dial", &format!("sip:**101@{}", server.sip));
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    desk.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let records = talk_then_hang_up(&server, &v, (caller, colleague));
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].answered_by.as_deref(), Some("102"));
    assert!(
        records[0]
            .history
            .as_deref()
            .is_some_and(|h| h.ends_with("102 picked up the call ringing 101")),
        "{:?}",
        records[0].history
    );
}
