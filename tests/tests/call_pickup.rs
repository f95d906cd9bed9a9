//! Call pickup from real phones: 100 (baresip, speaking English) calls 101, whose
//! baresip phone rings unanswered; 102 (baresip, speaking Russian) dials `**101` and
//! talks with the caller, and 101's phone stops ringing.

use std::time::Duration;

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

#[test]
fn a_colleague_picks_up_a_ringing_desk_and_talks_with_the_caller() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let (en, ru, silence) = (
        dir.path().join("en.wav"),
        dir.path().join("ru.wav"),
        dir.path().join("silence.wav"),
    );
    audio::speech("en", 40, &en);
    audio::speech("ru", 40, &ru);
    audio::silence(40, &silence);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &silence, false));
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &ru, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    desk.wait_event("CALL_INCOMING", Duration::from_secs(10));
    colleague.command("dial", &format!("sip:**101@{}", server.sip));
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    desk.wait_event("CALL_CLOSED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(6));
    caller.command("hangup", "");
    colleague.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let (en, _) = audio::read(&en);
    let (ru, _) = audio::read(&ru);
    let caller_heard = audio::read_at_call_rate(&caller.heard());
    audio::assert_heard("the caller, the colleague", heard(&ru, &caller_heard));
    let colleague_heard = audio::read_at_call_rate(&colleague.heard());
    audio::assert_heard("the colleague, the caller", heard(&en, &colleague_heard));
    let records = server.call_records();
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
