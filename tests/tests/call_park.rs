//! Call park from real phones: 100 (baresip, speaking English) calls the receptionist
//! (101, baresip), who transfers the call to the park code `*70`; a colleague (102,
//! baresip, speaking Russian) dials slot `*71` and talks with the caller.

use std::time::Duration;

use switchboard_e2e::audio::Voices;
use switchboard_e2e::baresip::{Baresip, PhoneSetup, talk_then_hang_up};
use switchboard_e2e::*;

#[test]
fn a_parked_caller_is_taken_from_the_slot_by_a_colleague() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    let v = Voices::new(dir.path());
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &v.en, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &v.silence, true));
    let mut colleague = Baresip::start(server.sip, PhoneSetup::pcmu("102", &v.ru, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    desk.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    desk.command("transfer", &format!("sip:*70@{}", server.sip));
    desk.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let calls = server.wait_first_call_stage(&server.admin_token(), "parked");
    assert_eq!(calls[0]["parked_at"], "*71", "{calls}");
    colleague.command("dial", &format!("sip:*71@{}", server.sip));
    colleague.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    let records = talk_then_hang_up(&server, &v, (caller, colleague));
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
