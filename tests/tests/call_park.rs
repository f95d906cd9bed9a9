//! Call park from real phones: 100 (baresip, speaking English) calls the receptionist
//! (101, baresip), who transfers the call to the park code `*70`; a colleague (102,
//! baresip, speaking Russian) dials slot `*71` and talks with the caller.

use std::time::Duration;

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

#[test]
fn a_parked_caller_is_taken_from_the_slot_by_a_colleague() {
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
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &silence, true));
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &ru, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    desk.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    desk.command("transfer", &format!("sip:*70@{}", server.sip));
    desk.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let token = server.admin_token();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let calls = server.dashboard(&token)["calls"].clone();
        if calls[0]["stage"] == "parked" {
            assert_eq!(calls[0]["parked_at"], "*71", "{calls}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{calls}");
        std::thread::sleep(Duration::from_millis(100));
    }
    colleague.command("dial", &format!("sip:*71@{}", server.sip));
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
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
    let call = records
        .iter()
        .find(|r| r.caller == "100")
        .expect("the call");
    assert_eq!(call.answered_by.as_deref(), Some("102"), "{call:#?}");
    assert!(
        call.history.as_deref().is_some_and(
            |h| h.contains("parked at *71") && h.contains("102 took the call from *71")
        ),
        "{call:#?}"
    );
}
