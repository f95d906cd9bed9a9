//! Call records are committed as each call ends: the server killed with SIGKILL the
//! moment the last of a burst of calls has ended still has a record for every one.

use switchboard_e2e::*;

#[test]
fn every_ended_call_is_on_disk_when_the_server_is_killed() {
    let mut server = Server::start(&config("", FAST_REGISTRAR));
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
        let rows = vec![format!("100;{};101", password("100")); calls];
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
    let records = server.call_records();
    assert_eq!(records.len(), calls, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| r.disposition == "answered" && r.hangup_by == "caller")
    );
}
