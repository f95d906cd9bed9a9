//! Bindings go away on `Expires: 0`, on `Contact: *`, and when their time runs out.

use std::time::Duration;
use switchboard_e2e::*;

#[test]
fn expires_zero_removes_the_binding() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let phone = free_port();
    let row = format!("100;{};600", password("100"));
    assert_eq!(
        sipp_at(phone, &server, "register_auth.xml", &[row], &[]).successful,
        1
    );
    assert_eq!(server.metric("bindings"), 1);
    let run = sipp_at(
        phone,
        &server,
        "unregister.xml",
        &[format!("100;{}", password("100"))],
        &[],
    );
    run.expect(1, 0);
    assert_eq!(server.metric("bindings"), 0);
}

#[test]
fn wildcard_removes_every_contact_of_the_extension_only() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    // Two phones on extension 100 (two SIPp runs, two ports), one on 101.
    for ext in ["100", "100", "101"] {
        let run = sipp(
            &server,
            "register_auth.xml",
            &[format!("{ext};{};600", password(ext))],
            &[],
        );
        assert_eq!(run.successful, 1, "{}", run.log);
    }
    assert_eq!(server.metric("bindings"), 3);
    let run = sipp(
        &server,
        "unregister_wildcard.xml",
        &[format!("100;{}", password("100"))],
        &[],
    );
    run.expect(1, 0);
    assert_eq!(server.metric("bindings"), 1);
}

#[test]
fn too_brief_expiry_gets_423_with_min_expires() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let run = sipp(
        &server,
        "register_too_brief.xml",
        &[format!("100;{};5", password("100"))],
        &[],
    );
    run.expect(1, 0);
    assert!(run.log.contains("min-expires 10"), "{}", run.log);
    assert_eq!(server.metric("bindings"), 0);
}

#[test]
fn binding_expires_on_time() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let run = sipp(
        &server,
        "register_auth.xml",
        &[format!("100;{};10", password("100"))],
        &[],
    );
    assert_eq!(run.successful, 1, "{}", run.log);
    assert_eq!(server.metric("bindings"), 1);
    std::thread::sleep(Duration::from_secs(9));
    assert_eq!(
        server.metric("bindings"),
        1,
        "still bound before its 10 s are up"
    );
    server.wait_metric("bindings", Duration::from_secs(3), |b| b == 0);
}
