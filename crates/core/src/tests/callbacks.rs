//! Queue callbacks on calls: key 1 while waiting, the caller is told and let go, then
//! Switchboard rings the agent and, once they answer, calls the caller back.

use switchboard_media::dtmf::Dtmf;
use switchboard_media::relay::Side;
use switchboard_queue::{
    AgentConfig, CallbackPolicy, EventKind, Membership, Party, QueueConfig, Strategy,
};

use super::*;

/// Queue 600 ("Sales") calls back, twice at most, a minute apart; 101 (the desk phone)
/// is its agent, and 100, who calls it, has a phone at CALLER.
fn calling_back() -> Harness {
    let mut h = Harness::new(&[DESK]);
    h.register("100", CALLER);
    let mut config = QueueConfig::new("Sales", Strategy::Linear);
    config.ring_timeout = Duration::from_secs(15);
    config.wrap_up = Duration::ZERO;
    config.callback = Some(CallbackPolicy {
        attempts: 2,
        retry_after: Duration::from_secs(60),
    });
    let setup = QueueSetup {
        number: "600".into(),
        config,
        members: vec![("101".into(), Membership::default())],
    };
    h.pbx
        .set_queues(h.clock(), vec![setup], vec![AgentConfig::new("101")]);
    h.collect();
    h
}

/// 100 waits in 600 while the desk rings, asks for a callback with `press`, hears the
/// confirmation and is let go; the desk stops ringing meanwhile.
fn ask_for_a_callback(h: &mut Harness, press: impl Fn(&mut Harness, &str)) {
    h.call("600", &sdp(4000, "0 101"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    press(h, &ok);
    let cancel = h.expect(DESK, "CANCEL");
    h.send(DESK, &respond(&cancel, 200, "OK", "d", ""));
    h.send(DESK, &respond(&desk, 487, "Request Terminated", "d", ""));
    assert!(
        matches!(
            h.media.last(),
            Some(MediaCommand::Announce {
                what: Announcement::CallbackAccepted,
                ..
            })
        ),
        "{:?}",
        h.media
    );
    assert!(
        !h.take(DESK).iter().any(|m| m.starts_with("INVITE")),
        "nobody is called back while the caller is still on the line"
    );
    h.pbx.handle_announcement_done(h.clock(), 1);
    h.collect();
    h.expect(CALLER, "BYE");
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.reason.as_str(), r.queue.as_deref()),
        (Outcome::Answered, "Callback requested", Some("600"))
    );
}

/// The media edge reports the whisper to the callback's agent (call 2) said.
fn whisper_said(h: &mut Harness) {
    h.pbx.handle_announcement_done(h.clock(), 2);
    h.collect();
}

fn press_by_rtp(key: char) -> impl Fn(&mut Harness, &str) {
    move |h, _| {
        let dtmf = Dtmf {
            key,
            duration_ms: 100,
        };
        h.pbx.handle_dtmf(h.clock(), 1, Side::A, dtmf);
        h.collect();
    }
}

#[test]
fn key_one_by_info_brings_a_callback_from_the_agent_once_the_caller_has_hung_up() {
    let mut h = calling_back();
    ask_for_a_callback(&mut h, |h, ok| {
        let info = from_caller(ok, "INFO", 3).replace(
            "Content-Length: 0\r\n\r\n",
            "Content-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=1\r\nDuration=160\r\n",
        );
        h.send(CALLER, &info);
        h.expect(CALLER, "SIP/2.0 200 OK");
    });
    // The agent's phone rings first, with every codec Switchboard has.
    let agent = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060");
    assert!(
        header(&agent, "From").starts_with("\"Callback\" <sip:100@"),
        "{agent}"
    );
    assert!(
        body(&agent).contains(&format!(
            "m=audio {} RTP/AVP 0 8 9 111 101\r\n",
            h.newest_ports()[1]
        )),
        "{agent}"
    );
    assert!(
        h.take(CALLER).is_empty(),
        "the customer waits for the agent"
    );
    h.send(
        DESK,
        &respond(&agent, 200, "OK", "agent", &sdp(6000, "0 101")),
    );
    let agent_ok = respond(&agent, 200, "OK", "agent", "");
    h.expect(DESK, "ACK");
    // The agent hears the whisper before the customer's phones ring, then music.
    let Some(MediaCommand::Announce { side, what, .. }) = h.media.last() else {
        panic!("{:?}", h.media);
    };
    assert_eq!((*side, *what), (Side::B, Announcement::CallbackWhisper));
    assert!(h.take(CALLER).is_empty());
    whisper_said(&mut h);
    assert!(
        matches!(
            h.media.last(),
            Some(MediaCommand::Wait { side: Side::B, .. })
        ),
        "{:?}",
        h.media
    );
    // Then the customer, offered the agent's codec first, from the queue's number.
    let customer = h.expect(CALLER, "INVITE sip:100@192.0.2.10:5060");
    assert!(
        header(&customer, "From").starts_with("\"Sales\" <sip:600@"),
        "{customer}"
    );
    assert!(
        body(&customer).contains(&format!("m=audio {} RTP/AVP 0 ", h.newest_ports()[0])),
        "{customer}"
    );
    h.send(
        CALLER,
        &respond(&customer, 200, "OK", "cust", &sdp(4100, "0")),
    );
    h.expect(CALLER, "ACK");
    let Some(MediaCommand::Bridge { a, b, .. }) = h.media.last() else {
        panic!("{:?}", h.media);
    };
    assert_eq!((a.remote.port(), b.remote.port()), (4100, 6000));
    // The agent hangs up: the customer gets a BYE and the callback is one answered call.
    let bye = in_dialog(
        "BYE",
        DESK,
        header(&agent_ok, "To"),
        header(&agent, "From"),
        header(&agent, "Call-ID"),
        2,
        "",
    );
    h.send(DESK, &bye);
    h.expect(DESK, "SIP/2.0 200");
    h.expect(CALLER, "BYE sip:");
    let r = h.records.last().unwrap();
    assert_eq!(
        (
            r.caller.as_str(),
            r.callee.as_str(),
            r.answered_by.as_deref(),
            r.outcome,
            r.hangup_by
        ),
        (
            "100",
            "600",
            Some("101"),
            Outcome::Answered,
            HangupBy::Callee
        )
    );
    assert_eq!(r.call_id, header(&customer, "Call-ID"));
    let events = kinds(&h);
    let callback: Vec<_> = events
        .iter()
        .filter(|k| {
            matches!(
                k,
                EventKind::CallbackRequested
                    | EventKind::CallbackPlaced { .. }
                    | EventKind::CallbackCompleted
                    | EventKind::Complete { .. }
            )
        })
        .collect();
    assert!(
        matches!(
            callback[..],
            [
                EventKind::CallbackRequested,
                EventKind::CallbackPlaced { attempt: 1 },
                EventKind::CallbackCompleted,
                EventKind::Complete {
                    by: Party::Agent,
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    assert!(
        h.queue_events
            .iter()
            .filter(|e| e.queue.is_some())
            .all(|e| e.call_id.as_deref() == Some("call-1")),
        "the queue log names the request by the call that asked: {:?}",
        h.queue_events
    );
    assert_eq!(h.pbx.active_calls(), 0);
}

#[test]
fn a_busy_customer_is_tried_again_later() {
    let mut h = calling_back();
    ask_for_a_callback(&mut h, press_by_rtp('1'));
    let agent = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&agent, 200, "OK", "agent", &sdp(6000, "0")));
    h.expect(DESK, "ACK");
    whisper_said(&mut h);
    let customer = h.expect(CALLER, "INVITE");
    h.send(CALLER, &respond(&customer, 486, "Busy Here", "cust", ""));
    h.expect(DESK, "BYE");
    let r = h.records.last().unwrap();
    assert_eq!((r.outcome, r.sip_code), (Outcome::Busy, 486));
    h.advance(Duration::from_secs(59));
    assert!(!h.take(DESK).iter().any(|m| m.starts_with("INVITE")));
    h.advance(Duration::from_secs(2));
    h.expect(DESK, "INVITE");
    assert!(kinds(&h).contains(&EventKind::CallbackPlaced { attempt: 2 }));
}

#[test]
fn an_agent_who_does_not_answer_the_callback_leaves_it_waiting_and_nothing_recorded() {
    let mut h = calling_back();
    ask_for_a_callback(&mut h, press_by_rtp('1'));
    let records = h.records.len();
    let agent = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&agent, 180, "Ringing", "agent", ""));
    h.advance(Duration::from_secs(16));
    h.expect(DESK, "CANCEL");
    assert!(
        !h.take(CALLER).iter().any(|m| m.starts_with("INVITE")),
        "the customer was never rung"
    );
    assert_eq!(h.records.len(), records);
    assert!(kinds(&h).contains(&EventKind::RingNoAnswer));
}

/// The office number 800 puts callers straight into queue 600.
const QUEUE_AT_800: &str = r#"
name = "Reception"
start = "queue"

[blocks.queue]
type = "queue"
queue = "600"
exits = { timeout = "bye", empty = "bye", full = "bye", key = "bye" }

[blocks.bye]
type = "hang-up"
"#;

#[test]
fn a_customer_who_called_through_a_trunk_is_called_back_out_through_it() {
    use super::trunks::{PROVIDER, customer_calls_in, trunk_in};
    let mut h = calling_back();
    h.pbx.set_scenarios(super::scenarios::setup(QUEUE_AT_800));
    let mut h = trunk_in(h);
    // The customer calls 800 through the provider and presses 1 while the desk rings.
    let (ok, _) = customer_calls_in(&mut h, "800");
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    press_by_rtp('1')(&mut h, &ok);
    let cancel = h.expect(DESK, "CANCEL");
    h.send(DESK, &respond(&cancel, 200, "OK", "d", ""));
    h.send(DESK, &respond(&desk, 487, "Request Terminated", "d", ""));
    h.pbx.handle_announcement_done(h.clock(), 1);
    h.collect();
    h.expect(PROVIDER, "BYE");
    // The agent first, then the customer out through the provider, shown 800.
    let agent = h.expect(DESK, "INVITE");
    h.send(
        DESK,
        &respond(&agent, 200, "OK", "agent", &sdp(6000, "0 101")),
    );
    h.expect(DESK, "ACK");
    whisper_said(&mut h);
    let out = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example SIP/2.0");
    assert!(
        header(&out, "From").starts_with("<sip:800@voip.example>;tag="),
        "{out}"
    );
    assert!(
        body(&out).contains(&format!("m=audio {} RTP/AVP 0 ", h.newest_ports()[0])),
        "offered on the customer's side of the call: {out}"
    );
    h.send(PROVIDER, &respond(&out, 200, "OK", "back", &sdp(7100, "0")));
    h.expect(PROVIDER, "ACK");
    let Some(MediaCommand::Bridge { a, b, .. }) = h.media.last() else {
        panic!("{:?}", h.media);
    };
    assert_eq!((a.remote.port(), b.remote.port()), (7100, 6000));
    assert!(kinds(&h).contains(&EventKind::CallbackCompleted));
}

#[test]
fn a_request_is_kept_on_disk_until_served_and_a_kept_one_is_served_after_a_restart() {
    let mut h = calling_back();
    ask_for_a_callback(&mut h, |h, _| press_by_rtp('1')(h, ""));
    let [CallbackChange::Requested(pending)] = &h.callbacks[..] else {
        panic!("{:?}", h.callbacks);
    };
    assert_eq!(
        (pending.queue.as_str(), pending.number.as_str()),
        ("600", "100")
    );
    let pending = pending.clone();

    // Switchboard starts again: the kept request waits in 600 and its agent is rung.
    let mut h = calling_back();
    h.advance(Duration::from_secs(30));
    let gone = PendingCallback {
        queue: "700".into(),
        call_id: "gone@x".into(),
        ..pending.clone()
    };
    h.pbx
        .restore_callbacks(h.clock(), vec![pending.clone(), gone]);
    h.collect();
    assert_eq!(
        h.callbacks,
        [CallbackChange::Done("gone@x".into())],
        "a request for a queue no longer there is dropped"
    );
    let agent = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060");
    assert!(header(&agent, "From").starts_with("\"Callback\" <sip:100@"));
    h.send(
        DESK,
        &respond(&agent, 200, "OK", "agent", &sdp(6000, "0 101")),
    );
    h.expect(DESK, "ACK");
    let call = h.pbx.live_calls()[0].id;
    h.pbx.handle_announcement_done(h.clock(), call);
    h.collect();
    let customer = h.expect(CALLER, "INVITE sip:100@192.0.2.10:5060");
    h.send(
        CALLER,
        &respond(&customer, 200, "OK", "c", &sdp(4000, "0 101")),
    );
    h.expect(CALLER, "ACK");
    let bye = in_dialog(
        "BYE",
        CALLER,
        &format!("{};tag=c", header(&customer, "To")),
        header(&customer, "From"),
        header(&customer, "Call-ID"),
        1,
        "",
    );
    h.send(CALLER, &bye);
    h.advance(Duration::from_secs(40));
    assert_eq!(
        h.callbacks.last(),
        Some(&CallbackChange::Done(pending.call_id.clone())),
        "served, it is dropped from disk: {:?}",
        h.callbacks
    );
}
