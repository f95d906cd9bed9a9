//! SIPp registers with digest authentication: the right password binds, a wrong
//! password or an unknown user is challenged again, never told which was wrong.

use std::time::Duration;
use switchboard_e2e::*;

#[test]
fn right_password_binds_with_the_granted_expiry() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let run = sipp(
        &server,
        "register_auth.xml",
        &[format!("100;{};300", password("100"))],
        &[],
    );
    run.expect(1, 0);
    assert!(run.log.contains("granted expires=300"), "{}", run.log);
    assert_eq!(server.metric("bindings"), 1);
}

#[test]
fn over_tcp_too() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let run = sipp(
        &server,
        "register_auth.xml",
        &[format!("101;{};300", password("101"))],
        &["-t", "t1"],
    );
    run.expect(1, 0);
    assert_eq!(server.metric("bindings"), 1);
}

#[test]
fn wrong_password_and_unknown_user_get_the_same_fresh_challenge() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let rows = [
        "100;not-the-password".to_string(),
        "555;not-the-password".to_string(),
    ];
    let run = sipp(&server, "register_rejected.xml", &rows, &[]);
    run.expect(2, 0);
    assert_eq!(server.metric("bindings"), 0);
    assert_eq!(server.metric("auth_failures"), 2);
}

#[test]
fn many_phones_register_at_once() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let rows: Vec<String> = PASSWORDS
        .iter()
        .map(|(n, p)| format!("{n};{p};600"))
        .collect();
    let run = sipp(&server, "register_auth.xml", &rows, &["-r", "50"]);
    run.expect(4, 0);
    server.wait_metric("bindings", Duration::from_secs(2), |b| b == 4);
}
