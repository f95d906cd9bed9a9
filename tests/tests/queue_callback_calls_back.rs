//! Key 1 in a queue with real phones: a SIPp caller presses 1 (RFC 4733), hears that
//! it will be called back and is let go; once agent 101's phone comes online
//! Switchboard rings it, then calls 100 back, and the two hear each other. A request
//! outlives Switchboard being killed and started again.

use std::path::Path;
use std::time::{Duration, Instant};

use switchboard_e2e::audio::{self, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

/// Queue 600 calls back (twice at most, ten seconds apart); 101 is its agent.
fn office() -> String {
    format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"linear\"\n\
         ring_timeout = 10\nwrap_up = 0\n\
         [queues.announcements]\nposition_on_join = false\nposition_every = 0\ncomfort_every = 0\n\
         [queues.callback]\nattempts = 2\nretry_after = 10\n\
         [[queues.agents]]\nextension = \"101\"\n",
        config("", FAST_REGISTRAR)
    )
}

/// 100 calls 600 from a SIPp phone and presses 1 while nobody staffs the queue.
fn sipp_caller_presses_1(server: &Server) {
    let rows = vec![format!("100;{};600", password("100"))];
    let media = free_port().to_string();
    sipp(server, "caller_presses_1.xml", &rows, &["-mp", &media]).expect(1, 0);
}

/// Waits until the queue log says a callback reached its customer.
fn wait_for_callback_completed(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server
        .queue_events()
        .iter()
        .any(|e| e.event == "callback-completed")
    {
        assert!(Instant::now() < deadline, "{:#?}", server.queue_events());
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_request_outlives_a_kill_and_a_restart() {
    let mut server = Server::start(&office());
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 30, &en);
    audio::speech("ru", 30, &ru);
    sipp_caller_presses_1(&server);
    server.kill9();
    server.relaunch();
    let mut customer = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    let _agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    wait_for_callback_completed(&server);
    customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));
    let placed: Vec<String> = server
        .queue_events()
        .into_iter()
        .filter(|e| e.event.starts_with("callback"))
        .map(|e| e.event)
        .collect();
    assert_eq!(
        placed,
        [
            "callback-requested",
            "callback-placed",
            "callback-completed"
        ]
    );
}

#[test]
fn a_caller_who_presses_1_is_called_back_by_the_agent_and_they_talk() {
    let server = Server::start(&office());
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 60, &en);
    audio::speech("ru", 60, &ru);
    // 100's desk phone, which the callback will ring.
    let mut customer = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, true));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);

    // 100 also calls in from a SIPp phone and presses 1; nobody staffs the queue yet.
    let asked = std::time::Instant::now();
    sipp_caller_presses_1(&server);
    let told_for = asked.elapsed();
    let requested = server.call_records();
    assert_eq!(requested.len(), 1, "{requested:#?}");
    assert_eq!(
        (requested[0].reason.as_str(), requested[0].queue.as_deref()),
        ("Callback requested", Some("600"))
    );
    // "Thank you. We will call you back…" is about six seconds.
    assert!(
        told_for > Duration::from_secs(6),
        "hung up after {told_for:?}"
    );

    // Agent 101's phone registers: it rings first, then 100's phone.
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    wait_for_callback_completed(&server);
    customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(8));
    agent.command("hangup", "");
    agent.wait_event("CALL_CLOSED", Duration::from_secs(10));
    customer.wait_event("CALL_CLOSED", Duration::from_secs(10));

    let (en, _) = audio::read(&en);
    let (ru, _) = audio::read(&ru);
    let at_customer = audio::read_at_call_rate(&customer.heard());
    audio::assert_heard("the customer, the agent", heard(&ru, &at_customer));
    let at_agent = audio::read_at_call_rate(&agent.heard());
    let rate = audio::RATE as usize;
    eprintln!("the agent's phone heard {} s", at_agent.len() / rate);
    let whisper = audio::read_at_call_rate(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds/en/queue_whisper.wav"),
    );
    audio::assert_heard(
        "the agent, the whisper first",
        heard(&whisper, &at_agent[..whisper.len()]),
    );
    let talking = &at_agent[at_agent.len().saturating_sub(5 * rate)..];
    audio::assert_heard("the agent, the customer", heard(&en, talking));

    let events: Vec<(String, Option<String>)> = server
        .queue_events()
        .into_iter()
        .filter(|e| e.call_id.is_some())
        .map(|e| (e.event, e.agent))
        .collect();
    let agent101 = Some("101".to_string());
    assert_eq!(
        events,
        [
            ("join".into(), None),
            ("callback-requested".into(), None),
            ("callback-placed".into(), agent101.clone()),
            ("connect".into(), agent101.clone()),
            ("callback-completed".into(), agent101.clone()),
            ("complete".into(), agent101.clone()),
        ]
    );
    let records = server.call_records();
    assert_eq!(
        records.len(),
        2,
        "the request and the callback: {records:#?}"
    );
    let callback = records
        .iter()
        .find(|r| r.reason != "Callback requested")
        .expect("the callback's record");
    assert_eq!(
        (
            callback.caller.as_str(),
            callback.callee.as_str(),
            callback.answered_by.as_deref(),
            callback.outcome.as_str()
        ),
        ("100", "600", Some("101"), "answered")
    );
}

/// Queue 600 calls back callers who give up after waiting two seconds (the lost-call
/// dialer); 101 is its agent.
fn office_calling_lost_callers_back() -> String {
    format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"linear\"\n\
         ring_timeout = 10\nwrap_up = 0\n\
         [queues.announcements]\nposition_on_join = false\nposition_every = 0\ncomfort_every = 0\n\
         [queues.lost_calls]\nmin_wait = 2\nexpire_after = 30\nattempts = 2\nretry_after = 10\n\
         [[queues.agents]]\nextension = \"101\"\n",
        config("", FAST_REGISTRAR)
    )
}

/// 100 waits in queue 600 while nobody staffs it and hangs up: the lost-call dialer
/// keeps a task for 100, which survives a kill -9; once agent 101's phone comes online
/// it rings, then 100's, and the two talk. A caller who gives up at once is not
/// called back.
#[test]
fn a_caller_who_gives_up_waiting_is_called_back_even_after_a_kill() {
    let mut server = Server::start(&office_calling_lost_callers_back());
    let dir = tempfile::tempdir().expect("tempdir");
    let (en, ru) = (dir.path().join("en.wav"), dir.path().join("ru.wav"));
    audio::speech("en", 30, &en);
    audio::speech("ru", 30, &ru);
    let mut customer = Baresip::start(server.sip, PhoneSetup::pcmu("100", &en, true));
    let mut hasty = Baresip::start(server.sip, PhoneSetup::pcmu("102", &en, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);

    // 102 hangs up within a second: too soon to be called back.
    hasty.command("dial", &format!("sip:600@{}", server.sip));
    hasty.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    hasty.command("hangup", "");
    hasty.wait_event("CALL_CLOSED", Duration::from_secs(10));
    // 100 waits four seconds, then gives up.
    customer.command("dial", &format!("sip:600@{}", server.sip));
    customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(4));
    customer.command("hangup", "");
    customer.wait_event("CALL_CLOSED", Duration::from_secs(10));

    let tasks = |server: &Server| {
        switchboard_store::Store::open(&server.data_dir().join("switchboard.db"))
            .and_then(|s| s.callback_requests())
            .expect("read the callback requests")
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let kept = loop {
        let kept = tasks(&server);
        if !kept.is_empty() {
            break kept;
        }
        assert!(Instant::now() < deadline, "no task kept within 10 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(kept.len(), 1, "{kept:#?}");
    assert_eq!(
        (kept[0].number.as_str(), kept[0].queue.as_str()),
        ("100", "600")
    );
    assert!(kept[0].expires.is_some(), "a task of the dialer: {kept:#?}");

    server.kill9();
    server.relaunch();
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &ru, true));
    wait_for_callback_completed(&server);
    customer.wait_event("CALL_ESTABLISHED", Duration::from_secs(5));
    desk.command("hangup", "");
    customer.wait_event("CALL_CLOSED", Duration::from_secs(10));
    let story: Vec<(String, Option<String>)> = server
        .queue_events()
        .into_iter()
        .filter(|e| e.event == "abandon" || e.event.starts_with("callback"))
        .map(|e| (e.event, e.agent))
        .collect();
    let agent = Some("101".to_string());
    assert_eq!(
        story,
        [
            ("abandon".to_string(), None),
            ("abandon".to_string(), None),
            ("callback-placed".to_string(), agent.clone()),
            ("callback-completed".to_string(), agent),
        ]
    );
    // The call that served the task ended: the task is gone from disk.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !tasks(&server).is_empty() {
        assert!(Instant::now() < deadline, "the task is still kept");
        std::thread::sleep(Duration::from_millis(100));
    }
}
