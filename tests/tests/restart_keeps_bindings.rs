//! Bindings survive a restart: a phone registered for an hour is reachable again as
//! soon as the server is back, without waiting for its next refresh.

use std::time::Duration;
use switchboard_e2e::*;

#[test]
fn sigterm_then_restart_restores_unexpired_bindings_only() {
    let mut server = Server::start(&config("", FAST_REGISTRAR));
    for (ext, expires) in [("100", 3600), ("101", 3600), ("102", 10)] {
        let run = sipp(
            &server,
            "register_auth.xml",
            &[format!("{ext};{};{expires}", password(ext))],
            &[],
        );
        assert_eq!(run.successful, 1, "{}", run.log);
    }
    assert_eq!(server.metric("bindings"), 3);
    assert!(server.stop().success(), "clean exit on SIGTERM");
    // 102's ten seconds run out while the server is down.
    std::thread::sleep(Duration::from_secs(11));
    let restarted = Server::launch(server.data_dir());
    assert_eq!(restarted.metric("bindings"), 2);
}

/// A phone told "registered" is registered: SIPp kills the server (SIGKILL) the instant
/// the 200 arrives, and the restarted server still knows the phone.
#[test]
fn kill_9_the_instant_a_phone_is_told_registered_loses_no_binding() {
    let mut server = Server::start(&config("", FAST_REGISTRAR));
    let run = sipp(
        &server,
        "register_then_pull_the_plug.xml",
        &[format!("103;{};3600;{}", password("103"), server.pid())],
        &[],
    );
    assert_eq!(run.successful, 1, "{}", run.log);
    server.kill9();
    let restarted = Server::launch(server.data_dir());
    assert_eq!(restarted.metric("bindings"), 1);
}
