//! Keys pressed on one phone reach the other however each side sends and receives
//! them: SIP INFO becomes RFC 4733 for a phone that negotiated telephone events, RFC
//! 4733 is relayed as is, and RFC 4733 becomes SIP INFO for a phone without them.

use switchboard_e2e::*;

/// The digits a pjsua2 callee received, with the method each came by.
fn received(lines: &[serde_json::Value]) -> (String, Vec<String>) {
    let keys: Vec<_> = lines
        .iter()
        .filter_map(|e| Some((e["dtmf"].as_str()?, e["method"].as_str()?)))
        .collect();
    (
        keys.iter().map(|(d, _)| *d).collect(),
        keys.iter().map(|(_, m)| m.to_string()).collect(),
    )
}

#[test]
fn info_keys_arrive_as_telephone_events() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let callee = pjsua2_callee(&server, "101");
    pjsua2_keys_call(&server, "101", "159#", "info");
    let (digits, methods) = received(&json_lines(callee));
    assert_eq!(digits, "159#");
    assert!(
        methods.iter().all(|m| m == "rfc2833"),
        "translated: {methods:?}"
    );
    assert_eq!(server.call_records()[0].outcome.as_str(), "answered");
}

#[test]
fn telephone_events_are_relayed() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let callee = pjsua2_callee(&server, "101");
    let rows = [format!("100;{};101", password("100"))];
    let media = free_port().to_string();
    sipp(&server, "caller_dtmf_rfc4733.xml", &rows, &["-mp", &media]).expect(1, 0);
    let (digits, methods) = received(&json_lines(callee));
    assert_eq!(digits, "37");
    assert!(methods.iter().all(|m| m == "rfc2833"), "{methods:?}");
}

#[test]
fn telephone_events_reach_a_phone_without_them_as_info() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let port = free_port();
    let registration = format!("101;{};300", password("101"));
    sipp_at(port, &server, "register_auth.xml", &[registration], &[]).expect(1, 0);
    let (phone, caller) = std::thread::scope(|s| {
        let server = &server;
        let phone = s.spawn(move || {
            let rows = [format!("101;{}", password("101"))];
            let media = free_port().to_string();
            sipp_at(
                port,
                server,
                "callee_dtmf_info.xml",
                &rows,
                &["-mp", &media],
            )
        });
        let rows = [format!("100;{};101", password("100"))];
        let media = free_port().to_string();
        let caller = sipp(server, "caller_dtmf_rfc4733.xml", &rows, &["-mp", &media]);
        (phone.join().expect("SIPp"), caller)
    });
    caller.expect(1, 0);
    phone.expect(1, 0);
    assert!(
        phone.log.contains("keys Signal=3 Signal=7"),
        "{}",
        phone.log
    );
}
