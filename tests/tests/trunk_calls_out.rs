//! Calls out under the toll-fraud guard, with a provider that cannot take them: the
//! first trunk (SIPp answering 503) passes the call to the second (Kamailio playing the
//! provider), whose customer answers; an international number the extension may not
//! call is refused with the reason recorded and nothing sent out; a stranger's INVITE
//! to an external number is challenged and places no call.

use std::time::Duration;

use switchboard_core::Direction;
use switchboard_e2e::audio;
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::provider::{Provider, customer_phone, provider_password};
use switchboard_e2e::{FAST_REGISTRAR, Server, config, free_port, sipp_from, sipp_on};

fn office(provider: &Provider, down: u16) -> String {
    format!(
        "{}[[trunks]]\nname = \"Down\"\nhost = \"127.0.0.3:{down}\"\nkeepalive = 0\n\
         [[trunks]]\nname = \"Provider\"\nhost = \"{}\"\n\
         [trunks.register]\nusername = \"48225550100\"\nauth_username = \"office\"\n\
         password = \"{}\"\n\
         [[routes]]\nname = \"National\"\npatterns = [\"0XXXXXXXXX\"]\nstrip = 1\nprepend = \"48\"\n\
         class = \"national\"\ntrunks = [\"Down\", \"Provider\"]\ncaller_id = \"48225550100\"\n\
         [[routes]]\nname = \"Abroad\"\npatterns = [\"00.\"]\nstrip = 2\n\
         class = \"international\"\ntrunks = [\"Provider\"]\n",
        config("", FAST_REGISTRAR),
        provider.addr,
        provider_password("office")
    )
}

#[test]
fn a_call_out_fails_over_and_the_guard_holds() {
    let provider = Provider::start();
    let down = free_port();
    let server = Server::start(&office(&provider, down));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.health()["trunks"][1]["state"] != "registered" {
        assert!(std::time::Instant::now() < deadline, "{}", server.health());
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let voice = dir.path().join("en.wav");
    audio::speech("en", 30, &voice);
    let mut receptionist = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voice, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let mut customer = customer_phone(&provider, &voice, true, false);

    // The first trunk answers 503: the second takes the call.
    std::thread::scope(|s| {
        let unavailable = s.spawn(|| {
            sipp_on(
                "127.0.0.3",
                down,
                &server,
                "provider_unavailable.xml",
                &["x".into()],
                &[],
            )
        });
        receptionist.command("dial", &format!("sip:0601000000@{}", server.sip));
        customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
        receptionist.wait_event("CALL_ESTABLISHED", Duration::from_secs(15));
        unavailable.join().expect("sipp").expect(1, 0);
    });
    receptionist.command("hangup", "");
    receptionist.wait_event("CALL_CLOSED", Duration::from_secs(10));
    customer.wait_event("CALL_CLOSED", Duration::from_secs(10));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let out = server.call_records().remove(0);
    assert_eq!(
        (out.direction, out.trunk.as_deref(), out.outcome.as_str()),
        (Direction::Outbound, Some("Provider"), "answered"),
        "{out:#?}"
    );

    // International is not among an extension's classes by default: refused, said why.
    receptionist.command("dial", &format!("sip:0044207946001@{}", server.sip));
    receptionist.wait_event("CALL_CLOSED", Duration::from_secs(15));
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    let refused = server.call_records().remove(0);
    assert_eq!(
        (refused.sip_code, refused.callee.as_str()),
        (403, "0044207946001"),
        "{refused:#?}"
    );
    assert!(
        refused.reason.contains("may not call International"),
        "{refused:#?}"
    );
    assert!(
        provider.lines("to 44207946001").is_empty(),
        "nothing went out"
    );

    // A stranger without credentials: challenged, nothing placed.
    sipp_from(
        "127.0.0.4",
        &server,
        "gateway_refused.xml",
        &["+48601000009;0601000000".to_string()],
        &[],
    )
    .expect(1, 0);
    assert_eq!(
        provider.lines("provider: call from").len(),
        1,
        "only the receptionist's call"
    );
}
