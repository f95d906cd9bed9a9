//! Every way a call can end, driven by SIPp on both sides, and the call record each
//! one leaves: answered and hung up, busy, cancelled by the caller, unanswered until
//! the ring timeout, unknown number, nobody registered.

use std::time::Duration;
use switchboard_core::CallRecord;
use switchboard_core::unix_ms;
use switchboard_e2e::*;

/// Registers 101 from a port where a SIPp phone then runs `phone_scenario`, and runs
/// the caller meanwhile; returns both runs. (SIPp maps messages to calls by Call-ID, so
/// one scenario cannot register and then take an INVITE: two runs share the port.)
fn call(
    server: &Server,
    phone_scenario: &str,
    caller: impl FnOnce() -> SippRun,
) -> (SippRun, SippRun) {
    let port = free_port();
    let registration = format!("101;{};300", password("101"));
    sipp_at(port, server, "register_auth.xml", &[registration], &[]).expect(1, 0);
    std::thread::scope(|s| {
        let rows = vec![format!("101;{}", password("101"))];
        let media = free_port().to_string();
        let phone = s.spawn(move || sipp_at(port, server, phone_scenario, &rows, &["-mp", &media]));
        // Switchboard retransmits its INVITE, so a phone a moment late still gets it.
        let caller = caller();
        (caller, phone.join().expect("the phone's SIPp"))
    })
}

fn caller(server: &Server, scenario: &str, callee: &str, extra: &[&str]) -> SippRun {
    let rows = vec![format!("100;{};{callee}", password("100"))];
    let media = free_port().to_string();
    sipp(
        server,
        scenario,
        &rows,
        &[&["-mp", media.as_str()], extra].concat(),
    )
}

/// The one record of the test's call. The caller has its answer before the record is
/// committed, so it is waited for a moment.
fn only_record(server: &Server) -> CallRecord {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut records = server.call_records();
    while records.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        records = server.call_records();
    }
    assert_eq!(records.len(), 1, "{records:#?}");
    records.into_iter().next().expect("one record")
}

#[test]
fn answered_then_hung_up_by_the_caller() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let (caller, phone) = call(&server, "callee_answers.xml", || {
        caller(&server, "caller_talks.xml", "101", &["-d", "1500"])
    });
    caller.expect(1, 0);
    phone.expect(1, 0);
    let r = only_record(&server);
    assert_eq!(
        (r.outcome.as_str(), r.hangup_by.as_str(), r.sip_code),
        ("answered", "caller", 200)
    );
    assert_eq!((r.caller.as_str(), r.callee.as_str()), ("100", "101"));
    let talk = unix_ms::from(r.ended) - r.answered.map(unix_ms::from).expect("answered");
    assert!((1_400..5_000).contains(&talk), "talk time {talk} ms");
}

#[test]
fn a_busy_phone_makes_a_busy_record() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let (caller, phone) = call(&server, "callee_busy.xml", || {
        caller(&server, "caller_refused.xml", "101", &[])
    });
    caller.expect(1, 0);
    phone.expect(1, 0);
    let r = only_record(&server);
    assert_eq!(
        (r.outcome.as_str(), r.hangup_by.as_str(), r.sip_code),
        ("busy", "callee", 486)
    );
    assert_eq!(r.answered.map(unix_ms::from), None);
}

#[test]
fn the_caller_cancels_while_it_rings() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let (caller, phone) = call(&server, "callee_rings.xml", || {
        caller(&server, "caller_cancels.xml", "101", &[])
    });
    caller.expect(1, 0);
    phone.expect(1, 0);
    let r = only_record(&server);
    assert_eq!(
        (r.outcome.as_str(), r.hangup_by.as_str(), r.sip_code),
        ("cancelled", "caller", 487)
    );
}

#[test]
fn nobody_answers_within_the_ring_timeout() {
    let server = Server::start(&(config("", FAST_REGISTRAR) + "[calls]\nring_timeout = 5\n"));
    let started = std::time::Instant::now();
    let (caller, phone) = call(&server, "callee_rings.xml", || {
        caller(&server, "caller_refused.xml", "101", &[])
    });
    caller.expect(1, 0);
    assert!(started.elapsed() >= Duration::from_secs(5));
    // Switchboard cancelled the ringing phone.
    phone.expect(1, 0);
    let r = only_record(&server);
    assert_eq!((r.outcome.as_str(), r.sip_code), ("no-answer", 480));
    assert!(unix_ms::from(r.ended) - unix_ms::from(r.started) >= 5_000);
}

#[test]
fn unknown_numbers_and_offline_extensions_are_refused_and_recorded() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    caller(&server, "caller_refused.xml", "555", &[]).expect(1, 0);
    caller(&server, "caller_refused.xml", "102", &[]).expect(1, 0);
    let records = server.call_records();
    let outcome: Vec<_> = records
        .iter()
        .map(|r| (r.callee.as_str(), r.outcome.as_str(), r.sip_code))
        .collect();
    assert_eq!(outcome, [("102", "failed", 480), ("555", "failed", 404)]);
}

#[test]
fn a_caller_on_a_block_list_is_declined_and_recorded() {
    let lists = "[numbers]\ncountry_code = \"48\"\n[[lists]]\nname = \"Nuisance\"\n\
                 kind = \"block\"\nnumbers = [\"100\"]\n";
    let server = Server::start(&format!("{}{lists}", config("", FAST_REGISTRAR)));
    caller(&server, "caller_refused.xml", "101", &[]).expect(1, 0);
    let r = only_record(&server);
    assert_eq!((r.outcome.as_str(), r.sip_code), ("failed", 603));
    assert!(r.reason.contains("Nuisance"), "{}", r.reason);
}
