//! Call records and the queue log are committed as each call ends: the server killed
//! with SIGKILL the moment the last of a burst of calls has ended still has a record
//! for every one, and every queue call's connect and complete. A call still going on
//! when the server is killed is in the call log after the next start, as interrupted.

use std::time::Duration;
use switchboard_e2e::baresip::conversation;
use switchboard_e2e::*;

/// 20 calls from 100 to `callee`, answered by 101's SIPp phone; the server is killed
/// the moment the caller's SIPp has its last answer. Returns the server.
fn burst_then_kill(config_toml: &str, callee: &str) -> Server {
    let mut server = Server::start(config_toml);
    let port = free_port();
    let registration = format!("101;{};300", password("101"));
    sipp_at(port, &server, "register_auth.xml", &[registration], &[]).expect(1, 0);
    let calls = 20;
    let (caller, phone) = std::thread::scope(|s| {
        let server = &server;
        let phone = s.spawn(move || {
            let rows = vec![format!("101;{}", password("101")); calls];
            let media = free_port().to_string();
            sipp_at(port, server, "callee_answers.xml", &rows, &["-mp", &media])
        });
        let rows = vec![format!("100;{};{callee}", password("100")); calls];
        let media = free_port().to_string();
        let caller = sipp(
            server,
            "caller_talks.xml",
            &rows,
            &["-mp", &media, "-d", "200", "-r", "10"],
        );
        (caller, phone.join().expect("the phone's SIPp"))
    });
    // The caller's SIPp has seen the last 200 OK to its BYE: pull the plug now.
    server.kill9();
    caller.expect(calls as u64, 0);
    phone.expect(calls as u64, 0);
    server
}

#[test]
fn every_ended_call_is_on_disk_when_the_server_is_killed() {
    let server = burst_then_kill(&config("", FAST_REGISTRAR), "101");
    let records = server.call_records();
    assert_eq!(records.len(), 20, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| r.outcome.as_str() == "answered" && r.hangup_by.as_str() == "caller")
    );
}

#[test]
fn every_queue_call_is_in_the_queue_log_when_the_server_is_killed() {
    let queue = "[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nwrap_up = 0\n\
                 [queues.announcements]\nposition_on_join = false\n\
                 [[queues.agents]]\nextension = \"101\"\n";
    let server = burst_then_kill(&format!("{}{queue}", config("", FAST_REGISTRAR)), "600");
    let events = server.queue_events();
    let count = |kind: &str| events.iter().filter(|e| e.event == kind).count();
    assert_eq!(
        (count("connect"), count("complete")),
        (20, 20),
        "{events:#?}"
    );
    assert_eq!(server.call_records().len(), 20);
}

#[test]
fn a_call_cut_by_a_kill_is_in_the_log_as_interrupted_after_the_next_start() {
    let mut server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().expect("tempdir");
    let (_caller, _callee) = conversation(&server, dir.path());
    assert_eq!(server.metric("active_calls"), 1);
    server.kill9();
    assert!(server.call_records().is_empty(), "nothing ended the call");
    let data_dir = server.data_dir().to_path_buf();
    let again = Server::launch(&data_dir);
    let records = again.call_records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(
        (
            r.caller.as_str(),
            r.callee.as_str(),
            r.outcome.as_str(),
            r.hangup_by.as_str()
        ),
        ("100", "101", "interrupted", "system")
    );
    assert!(
        r.reason.contains("Switchboard stopped during the call"),
        "{}",
        r.reason
    );
    // Noted once: a second start adds nothing.
    drop(again);
    let third = Server::launch(&data_dir);
    third.wait_metric("active_calls", Duration::from_secs(1), |c| c == 0);
    assert_eq!(third.call_records().len(), 1);
}
