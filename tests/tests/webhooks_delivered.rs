//! Webhooks to a real receiver (`tests/peers/webhook_receiver.py`, which checks every
//! signature with the Standard Webhooks project's own Python library), with calls made
//! by baresip phones: a receiver that fails twice gets every event once, each call's
//! in order; deliveries still pending when the server is killed with SIGKILL arrive
//! after it starts again, under the ids they had.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_e2e::baresip::{self, Baresip, PhoneSetup};
use switchboard_e2e::webhook_receiver::{Receiver, SECRET};
use switchboard_e2e::*;

/// The test office, with queue 600 whose agent is 102, telling a receiver on `port`.
fn office(port: u16) -> String {
    format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"linear\"\n\
         ring_timeout = 30\nwrap_up = 0\n\
         [queues.announcements]\nposition_on_join = false\nposition_every = 0\ncomfort_every = 0\n\
         [[queues.agents]]\nextension = \"102\"\n\n\
         [webhooks]\n[[webhooks.endpoints]]\n\
         url = \"http://127.0.0.1:{port}/hooks/switchboard\"\nsecret = \"{SECRET}\"\n",
        config("", FAST_REGISTRAR)
    )
}

/// The types of the accepted events about the call whose Call-ID is `call_id`, in the
/// order the receiver accepted them.
fn types_of(accepted: &[&Value], call_id: &str) -> Vec<String> {
    accepted
        .iter()
        .filter(|b| b["data"]["call_id"] == call_id)
        .map(|b| b["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The Call-ID of the call to `callee` the receiver was told of.
fn call_to(accepted: &[&Value], callee: &str) -> String {
    accepted
        .iter()
        .find(|b| b["type"] == "call.started" && b["data"]["callee"] == callee)
        .and_then(|b| b["data"]["call_id"].as_str())
        .unwrap_or_else(|| panic!("no call to {callee} among {accepted:#?}"))
        .to_string()
}

fn count_accepted(requests: &[Value]) -> usize {
    requests
        .iter()
        .filter(|r| {
            r["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .count()
}

#[test]
fn every_event_arrives_signed_once_and_in_order_after_the_receiver_fails_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut receiver = Receiver::start(port, SECRET, 2);
    let server = Server::start(&office(port));
    let token = server.admin_token();
    let voices = switchboard_e2e::audio::Voices::new(dir.path());
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    let _desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &voices.ru, true));
    let mut agent = Baresip::start(server.sip, PhoneSetup::pcmu("102", &voices.ru, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);

    // 100 calls 101, who answers; they talk, and 100 hangs up.
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", Duration::from_secs(10));
    // 100 calls the queue and hangs up while its agent's phone rings.
    caller.command("dial", &format!("sip:600@{}", server.sip));
    agent.wait_event("CALL_INCOMING", Duration::from_secs(10));
    caller.command("hangup", "");
    agent.wait_event("CALL_CLOSED", Duration::from_secs(10));

    // Three events of the first call and four of the second; the two failures are
    // tried again 2 s and then 10 s later.
    receiver.wait_until(Duration::from_secs(60), |r| count_accepted(r) >= 7);
    // Anything sent twice would come within these 3 s.
    let requests = receiver.take_for(Duration::from_secs(3)).to_vec();
    for r in &requests {
        assert_eq!(r["verified"], true, "a signature did not hold: {r}");
        assert_eq!(r["path"], "/hooks/switchboard", "{r}");
    }
    let failed: Vec<&Value> = requests.iter().filter(|r| r["status"] == 500).collect();
    assert_eq!(failed.len(), 2, "the receiver failed twice: {requests:#?}");
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 7, "each event once: {accepted:#?}");
    let ids: Vec<&str> = requests
        .iter()
        .filter(|r| r["status"] == 204)
        .map(|r| r["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        7,
        "ids differ: {ids:?}"
    );
    for f in &failed {
        assert!(
            ids.contains(&f["id"].as_str().unwrap_or_default()),
            "a failed delivery comes again under its id: {f}"
        );
    }

    let talked = call_to(&accepted, "101");
    assert_eq!(
        types_of(&accepted, &talked),
        ["call.started", "call.answered", "call.ended"]
    );
    let answered = accepted
        .iter()
        .find(|b| b["type"] == "call.answered")
        .expect("call.answered");
    assert_eq!(answered["data"]["answered_by"], "101", "{answered}");
    assert_eq!(answered["data"]["caller"], "100", "{answered}");
    let left = call_to(&accepted, "600");
    assert_eq!(
        types_of(&accepted, &left),
        [
            "call.started",
            "queue.abandoned",
            "call.ended",
            "call.missed"
        ]
    );
    let abandoned = accepted
        .iter()
        .find(|b| b["type"] == "queue.abandoned")
        .expect("queue.abandoned");
    assert_eq!(
        (&abandoned["data"]["queue"], &abandoned["data"]["caller"]),
        (&Value::from("600"), &Value::from("100")),
        "{abandoned}"
    );
    assert!(
        abandoned["data"]["waited_ms"].as_i64() > Some(0),
        "{abandoned}"
    );

    // What call.ended tells is the call log's record.
    let records = server.call_records();
    for body in accepted.iter().filter(|b| b["type"] == "call.ended") {
        let data = &body["data"];
        let record = records
            .iter()
            .find(|r| r.call_id == data["call_id"])
            .unwrap_or_else(|| panic!("{data} is in the call log"));
        assert_eq!(data["caller"], record.caller.as_str());
        assert_eq!(data["callee"], record.callee.as_str());
        assert_eq!(data["outcome"], record.outcome.as_str());
        assert!(
            body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{body}"
        );
    }

    // The admin's delivery log: all delivered, the failed ones after more than one try.
    let (status, log) = server.api(Some(&token), "GET", "/api/webhooks/deliveries", None);
    assert_eq!(status, 200, "{log}");
    let log = log.as_array().expect("a list").clone();
    assert_eq!(log.len(), 7, "{log:#?}");
    assert!(
        log.iter()
            .all(|d| d["delivered_at"].is_i64() && d["next_attempt_at"].is_null()),
        "{log:#?}"
    );
    let retried: Vec<&Value> = log
        .iter()
        .filter(|d| d["attempts"].as_u64() > Some(1))
        .collect();
    assert!(!retried.is_empty(), "the failures show: {log:#?}");
    assert!(
        retried.iter().all(|d| d["last_status"] == 204),
        "{retried:#?}"
    );
}

#[test]
fn deliveries_pending_at_a_kill_9_arrive_after_the_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut server = Server::start(&office(port));
    let token = server.admin_token();
    let (_, microphone) = baresip::message_after_greeting(dir.path(), 3);
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &microphone, false));
    let mut desk = Baresip::start(server.sip, PhoneSetup::pcmu("101", &microphone, false));
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);

    // Nothing listens at the receiver's address: 100 calls 101 and gives up, then
    // leaves 101 a message.
    baresip::ring_and_give_up(&mut caller, &mut desk, server.sip, "101");
    baresip::leave_message(&mut caller, server.sip, "101");

    let deadline = Instant::now() + Duration::from_secs(20);
    let pending = loop {
        let (status, log) = server.api(Some(&token), "GET", "/api/webhooks/deliveries", None);
        assert_eq!(status, 200, "{log}");
        let log = log.as_array().expect("a list").clone();
        let voicemail = log.iter().any(|d| d["event"] == "voicemail.left");
        let tried = log.iter().any(|d| {
            d["attempts"].as_u64() >= Some(1)
                && d["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("connect"))
        });
        if voicemail && tried {
            break log;
        }
        assert!(
            Instant::now() < deadline,
            "no failed try within 20 s: {log:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        pending.iter().all(|d| d["delivered_at"].is_null()),
        "{pending:#?}"
    );
    let mut ids: Vec<&str> = pending
        .iter()
        .map(|d| d["message_id"].as_str().unwrap_or_default())
        .collect();
    ids.sort_unstable();

    server.kill9();
    let mut receiver = Receiver::start(port, SECRET, 0);
    server.relaunch();
    let requests = receiver
        .wait_until(Duration::from_secs(30), |r| {
            count_accepted(r) >= pending.len()
        })
        .to_vec();
    assert!(
        requests.iter().all(|r| r["verified"] == true),
        "{requests:#?}"
    );
    let mut received: Vec<&str> = requests
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default())
        .collect();
    received.sort_unstable();
    assert_eq!(received, ids, "each pending delivery once, under its id");
    let accepted = receiver.accepted();
    let missed = call_to(&accepted, "101");
    assert_eq!(
        types_of(&accepted, &missed),
        ["call.started", "call.ended", "call.missed"]
    );
    let message = accepted
        .iter()
        .find(|b| b["type"] == "voicemail.left")
        .expect("voicemail.left");
    assert_eq!(
        (&message["data"]["mailbox"], &message["data"]["caller"]),
        (&Value::from("101"), &Value::from("100")),
        "{message}"
    );
    assert!(
        message["data"]["duration_ms"].as_i64() > Some(1000),
        "{message}"
    );
}
