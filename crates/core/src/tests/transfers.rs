//! Blind transfer by REFER: the transferor is told by NOTIFY and let go, the party left
//! hears ringback until the target answers, a target that does not answer rings the
//! transferor back, and a number that reaches nothing leaves the call as it was.

use super::*;
use switchboard_media::relay::Side;

pub(super) const OTHER: &str = "192.0.2.30:5060";

/// The desk (101) and 102's phone; Anna (100) has called the desk, which answered, and
/// acknowledged. Returns the harness, Anna's 200 and the desk's INVITE.
pub(super) fn desk_talks_to_anna() -> (Harness, String, String) {
    let mut h = Harness::new(&[DESK]);
    h.register("102", OTHER);
    let (ok, b_invite) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    (h, ok, b_invite)
}

/// The desk calls 102 (Call-ID `consult-1`), whose phone answers; returns 102's INVITE
/// and the tag Switchboard gave the desk's dialog.
fn desk_consults_102(h: &mut Harness) -> (String, String) {
    phone_calls(h, (DESK, "101"), "102", "consult-1", &sdp(6100, "0"));
    let to_colleague = h.expect(OTHER, "INVITE sip:102@");
    h.send(
        OTHER,
        &respond(&to_colleague, 200, "OK", "other1", &sdp(7000, "0")),
    );
    h.expect(OTHER, "ACK ");
    let desk_ok = h.expect(DESK, "SIP/2.0 200");
    let tag = header(&desk_ok, "To").rsplit("tag=").next().unwrap();
    (to_colleague, tag.to_string())
}

/// The desk's phones ring again for Anna and it answers: they talk.
pub(super) fn desk_takes_anna_again(h: &mut Harness) {
    let again = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060");
    assert!(
        header(&again, "From").starts_with("\"Anna\" <sip:100@"),
        "{again}"
    );
    h.send(DESK, &respond(&again, 200, "OK", "desk2", &sdp(6002, "0")));
    h.expect(DESK, "ACK ");
    assert_eq!(live_stages(h), [(CallStage::Talking, Some("101".into()))]);
}

/// The desk phone (101) answered Anna (100); it now sends REFER to `target`. Returns
/// what the desk was sent: the 202 first.
pub(super) fn desk_refers(h: &mut Harness, b_invite: &str, target: &str, cseq: u32) -> Vec<String> {
    let refer_to = format!("Refer-To: <sip:{target}@192.0.2.1>");
    let mut sent = desk_sends_refer(h, b_invite, &refer_to, cseq);
    assert!(sent[0].starts_with("SIP/2.0 202 Accepted"), "{sent:#?}");
    sent.remove(0);
    sent
}

/// The desk's REFER in Anna's call with `headers` (Refer-To…); returns what the desk
/// was sent.
fn desk_sends_refer(h: &mut Harness, b_invite: &str, headers: &str, cseq: u32) -> Vec<String> {
    let refer = from_desk(b_invite, "REFER", cseq).replace(
        "Content-Length: 0",
        &format!("{headers}\r\nContent-Length: 0"),
    );
    h.send(DESK, &refer);
    h.take(DESK)
}

/// The NOTIFYs (and BYE) a transferor at `phone` was sent, each answered: their
/// Subscription-State and sipfrag.
pub(super) fn notifies(h: &mut Harness, phone: &str, sent: Vec<String>) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for message in sent {
        if message.starts_with("NOTIFY ") {
            assert_eq!(header(&message, "Event"), "refer");
            assert!(
                header(&message, "Content-Type").starts_with("message/sipfrag"),
                "{message}"
            );
            seen.push((
                header(&message, "Subscription-State").to_string(),
                body(&message).trim().to_string(),
            ));
            let ok = respond(&message, 200, "OK", "", "");
            h.send(phone, &ok);
        } else if message.starts_with("BYE ") {
            seen.push(("BYE".into(), String::new()));
            h.send(phone, &respond(&message, 200, "OK", "", ""));
        }
    }
    seen
}

fn waits_hearing_ringback(h: &Harness, side: Side) -> bool {
    h.media.iter().any(|m| {
        matches!(m, MediaCommand::Wait { side: s, hears: crate::vocabulary::Waiting::Ringback, .. } if *s == side)
    })
}

#[test]
fn the_callee_transfers_the_caller_to_another_extension() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    h.advance(Duration::from_secs(10));
    let sent = desk_refers(&mut h, &b_invite, "102", 2);
    assert_eq!(
        notifies(&mut h, DESK, sent),
        [
            ("active;expires=60".into(), "SIP/2.0 100 Trying".into()),
            (
                "terminated;reason=noresource".into(),
                "SIP/2.0 200 OK".into()
            ),
            ("BYE".into(), String::new()),
        ]
    );
    assert!(waits_hearing_ringback(&h, Side::A), "{:?}", h.media);
    // The target sees who is put through: Anna.
    let invite = h.expect(OTHER, "INVITE sip:102@192.0.2.30:5060");
    assert!(
        header(&invite, "From").starts_with("\"Anna\" <sip:100@"),
        "{invite}"
    );
    assert_eq!(
        live_stages(&h),
        [(CallStage::Ringing, None)],
        "the wallboard shows the call ringing its target"
    );
    h.advance(Duration::from_secs(2));
    h.send(
        OTHER,
        &respond(&invite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    h.expect(OTHER, "ACK ");
    assert_eq!(bridged(&h, 1), (phone_audio(4000), phone_audio(7000)));
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("102".into()))]);
    assert!(
        h.take(CALLER).is_empty(),
        "the caller's dialog never changed"
    );

    // Anna hangs up: the BYE reaches 102, not the desk that left.
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(OTHER, "BYE ");
    assert!(h.take(DESK).is_empty());
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by, r.answered_by.as_deref()),
        (Outcome::Answered, HangupBy::Caller, Some("102"))
    );
    assert_eq!(
        r.history.as_deref(),
        Some("0:10 101 transferred to 102; 0:12 102 answered")
    );
    assert_eq!(h.records.len(), 1, "one call, one record");
}

#[test]
fn a_target_that_does_not_answer_rings_the_transferor_back() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    let sent = desk_refers(&mut h, &b_invite, "102", 2);
    notifies(&mut h, DESK, sent);
    let invite = h.expect(OTHER, "INVITE sip:102@");
    h.send(OTHER, &respond(&invite, 180, "Ringing", "other1", ""));
    h.advance(Duration::from_secs(31));
    let cancel = h.expect(OTHER, "CANCEL sip:102@");
    h.send(OTHER, &respond(&cancel, 200, "OK", "other1", ""));
    h.send(
        OTHER,
        &respond(&invite, 487, "Request Terminated", "other1", ""),
    );
    // The desk that transferred rings again, and takes the caller back.
    desk_takes_anna_again(&mut h);
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    let bye = h.expect(DESK, "BYE ");
    assert!(header(&bye, "To").ends_with("tag=desk2"), "{bye}");
    assert_eq!(
        h.records[0].history.as_deref(),
        Some(
            "0:00 101 transferred to 102; 0:30 102 did not answer, 101 rung back; 0:31 101 answered"
        )
    );
}

#[test]
fn a_number_that_reaches_nothing_leaves_the_call_as_it_was() {
    // 102 has no phone registered here.
    let mut h = Harness::new(&[DESK]);
    let (ok, b_invite) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    for (cseq, (target, status)) in (2..).zip([
        ("555", "SIP/2.0 404 Not Found"),
        ("101", "SIP/2.0 482 That is the transferor's own number"),
        ("102", "SIP/2.0 480 Temporarily Unavailable"),
    ]) {
        let sent = desk_refers(&mut h, &b_invite, target, cseq);
        assert_eq!(
            notifies(&mut h, DESK, sent),
            [
                ("active;expires=60".into(), "SIP/2.0 100 Trying".into()),
                ("terminated;reason=noresource".into(), status.into()),
            ],
            "{target}"
        );
        assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
    }
    // The call goes on between the same two phones.
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(DESK, "BYE ");
    assert_eq!(h.records[0].history, None);
}

#[test]
fn a_phone_that_asks_for_no_notifications_gets_none() {
    let (mut h, _, b_invite) = desk_talks_to_anna();
    let headers = "Refer-To: sip:102@192.0.2.1\r\nRefer-Sub: false";
    let sent = desk_sends_refer(&mut h, &b_invite, headers, 2);
    assert!(sent[0].starts_with("SIP/2.0 202"), "{sent:#?}");
    assert_eq!(header(&sent[0], "Refer-Sub"), "false");
    assert!(
        sent[1].starts_with("BYE "),
        "no NOTIFY, then the BYE: {sent:#?}"
    );
    h.expect(OTHER, "INVITE sip:102@");
}

#[test]
fn the_caller_transfers_the_party_they_called() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    let refer = from_caller(&ok, "REFER", 3).replace(
        "Content-Length: 0",
        "Refer-To: <sip:102@192.0.2.1>\r\nContent-Length: 0",
    );
    h.send(CALLER, &refer);
    let sent = h.take(CALLER);
    assert!(sent[0].starts_with("SIP/2.0 202"), "{sent:#?}");
    let told = notifies(&mut h, CALLER, sent[1..].to_vec());
    assert_eq!(told.len(), 3, "{told:?}");
    assert!(waits_hearing_ringback(&h, Side::B), "{:?}", h.media);
    // 102 is shown the desk's extension, the party being put through.
    let invite = h.expect(OTHER, "INVITE sip:102@");
    assert!(header(&invite, "From").contains("<sip:101@"), "{invite}");
    assert!(
        body(&invite).contains(&format!("m=audio {} ", h.ports(1)[0])),
        "the target takes the caller's side of the relay: {invite}"
    );
    h.send(
        OTHER,
        &respond(&invite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    h.expect(OTHER, "ACK ");
    assert_eq!(bridged(&h, 1), (phone_audio(7000), phone_audio(6000)));
    // The desk hangs up: the BYE reaches 102, now on the caller's side.
    let bye = from_desk(&b_invite, "BYE", 2);
    h.send(DESK, &bye);
    h.expect(DESK, "SIP/2.0 200 OK");
    let to_target = h.expect(OTHER, "BYE ");
    assert!(
        header(&to_target, "To").ends_with("tag=other1"),
        "{to_target}"
    );
    assert!(h.take(CALLER).is_empty(), "the caller left at the transfer");
    let r = &h.records[0];
    assert_eq!(
        (r.hangup_by, r.answered_by.as_deref()),
        (HangupBy::Callee, Some("102"))
    );
}

#[test]
fn an_agent_transfers_a_vip_queue_call_to_another_queue_and_its_priority_goes_along() {
    use switchboard_queue::{AgentConfig, Membership, Priority, QueueConfig, Strategy};
    let mut h = Harness::new(&[DESK]);
    h.register("102", MOBILE);
    let queue = |number: &str, agent: &str| QueueSetup {
        number: number.into(),
        config: QueueConfig::new(number, Strategy::Linear),
        members: vec![(agent.into(), Membership::default())],
    };
    let agents = vec![AgentConfig::new("101"), AgentConfig::new("102")];
    let queues = vec![queue("600", "101"), queue("601", "102")];
    h.pbx.set_queues(h.clock(), queues, agents);
    let vip = crate::numbers::NumberList {
        name: "Key customers".into(),
        kind: crate::numbers::ListKind::Vip {
            priority: Priority(7),
        },
        numbers: ["100".to_string()].into_iter().collect(),
    };
    h.pbx.set_lists(None, vec![vip]);
    h.collect();
    h.call("600", &sdp(4000, "0"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    let agent = h.expect(DESK, "INVITE sip:101@");
    h.send(DESK, &respond(&agent, 200, "OK", "desk1", &sdp(6000, "0")));
    h.expect(DESK, "ACK ");
    let sent = desk_refers(&mut h, &agent, "601", 2);
    assert_eq!(notifies(&mut h, DESK, sent).len(), 3);
    // 601's agent is offered the caller, who waits there with their VIP priority.
    let next = h.expect(MOBILE, "INVITE sip:102@");
    let [live] = &h.pbx.live_calls()[..] else {
        panic!("{:?}", h.pbx.live_calls());
    };
    assert_eq!(
        (live.stage, live.queue.as_deref(), live.priority),
        (CallStage::Queued, Some("601"), Priority(7))
    );
    h.send(
        MOBILE,
        &respond(&next, 200, "OK", "mobile1", &sdp(7000, "0")),
    );
    h.expect(MOBILE, "ACK ");
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(MOBILE, "BYE ");
    let r = &h.records[0];
    assert_eq!(
        (r.queue.as_deref(), r.answered_by.as_deref(), r.priority),
        (Some("601"), Some("102"), Priority(7))
    );
    assert!(
        r.history
            .as_deref()
            .unwrap()
            .contains("101 transferred to 601"),
        "{:?}",
        r.history
    );
    // For queue 600, its agent's call ended by the agent.
    assert!(
        h.queue_events
            .iter()
            .any(|e| e.queue.as_deref() == Some("600")
                && matches!(
                    e.kind,
                    switchboard_queue::EventKind::Complete {
                        by: switchboard_queue::Party::Agent,
                        ..
                    }
                )),
        "{:#?}",
        h.queue_events
    );
}

#[test]
fn an_attended_transfer_joins_the_caller_to_the_colleague_the_receptionist_consulted() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    // The receptionist consults 102 on a second call.
    let (to_colleague, switchboard_tag) = desk_consults_102(&mut h);
    // …then transfers the caller to them: REFER in the caller's call, Replaces naming
    // the consultation.
    let headers = format!(
        "Refer-To: <sip:102@192.0.2.1?Replaces=consult-1%3Bto-tag%3D{switchboard_tag}%3Bfrom-tag%3D101out>"
    );
    let sent = desk_sends_refer(&mut h, &b_invite, &headers, 2);
    assert!(sent[0].starts_with("SIP/2.0 202"), "{sent:#?}");
    let told = notifies(&mut h, DESK, sent[1..].to_vec());
    assert_eq!(
        told,
        [
            ("active;expires=60".into(), "SIP/2.0 100 Trying".into()),
            (
                "terminated;reason=noresource".into(),
                "SIP/2.0 200 OK".into()
            ),
            ("BYE".into(), String::new()),
            ("BYE".into(), String::new()),
        ],
        "the desk leaves both calls"
    );
    // The colleague's phone is moved onto the caller's call by a re-INVITE.
    let reinvite = h.expect(OTHER, "INVITE ");
    assert_eq!(
        header(&reinvite, "Call-ID"),
        header(&to_colleague, "Call-ID")
    );
    assert!(
        body(&reinvite).contains(&format!("m=audio {} ", h.ports(1)[1])),
        "{reinvite}"
    );
    h.send(
        OTHER,
        &respond(&reinvite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    assert_eq!(bridged(&h, 1), (phone_audio(4000), phone_audio(7000)));
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("102".into()))]);
    // The caller hangs up: the colleague's phone gets the BYE.
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    let bye = h.expect(OTHER, "BYE ");
    assert_eq!(header(&bye, "Call-ID"), header(&to_colleague, "Call-ID"));
    let consultation = h.records.iter().find(|r| r.callee == "102").unwrap();
    assert_eq!(consultation.reason, "101 joined 102 to 100's call");
    let call = h.records.iter().find(|r| r.caller == "100").unwrap();
    assert_eq!(call.answered_by.as_deref(), Some("102"));
    assert_eq!(
        call.history.as_deref(),
        Some("0:00 101 transferred to 102 after talking to them")
    );
    assert_eq!(h.pbx.active_calls(), 0);
}

#[test]
fn the_admin_transfers_a_call_from_the_panel() {
    let (mut h, _, _) = desk_talks_to_anna();
    let [live] = &h.pbx.live_calls()[..] else {
        panic!("{:?}", h.pbx.live_calls());
    };
    let id = live.id;
    assert_eq!(
        h.pbx.transfer_call(h.clock(), id, "555", None),
        Err(CallActionError::Refused("Not Found".into()))
    );
    h.collect();
    assert!(
        h.take(DESK).is_empty(),
        "a refused transfer changes nothing"
    );
    assert_eq!(h.pbx.transfer_call(h.clock(), id, "102", None), Ok(()));
    h.collect();
    // The desk is let go without being told by NOTIFY (it asked for nothing).
    let sent = h.take(DESK);
    assert!(sent.len() == 1 && sent[0].starts_with("BYE "), "{sent:#?}");
    let invite = h.expect(OTHER, "INVITE sip:102@");
    h.send(
        OTHER,
        &respond(&invite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    h.expect(OTHER, "ACK ");
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("102".into()))]);
    assert_eq!(
        h.pbx.transfer_call(h.clock(), 99, "102", None),
        Err(CallActionError::NotTalking)
    );
    // Then the admin hangs it up.
    assert!(h.pbx.hang_up_call(h.clock(), id));
    h.collect();
    h.expect(OTHER, "BYE ");
    h.expect(CALLER, "BYE ");
    let r = &h.records[0];
    assert_eq!(
        (r.hangup_by, r.reason.as_str(), r.answered_by.as_deref()),
        (HangupBy::System, "Hung up from the panel", Some("102"))
    );
    assert!(!h.pbx.hang_up_call(h.clock(), id), "gone");
}

#[test]
fn an_agent_transfers_their_own_call_from_the_panel() {
    let mut h = Harness::new(&[DESK]);
    h.register("102", OTHER);
    // 100 called the desk: 100 (the caller) transfers the desk to 102.
    let (ok, _) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    let id = h.pbx.live_calls()[0].id;
    assert_eq!(
        h.pbx.transfer_call(h.clock(), id, "102", Some("103")),
        Err(CallActionError::NotTalking),
        "not 103's call"
    );
    assert_eq!(
        h.pbx.transfer_call(h.clock(), id, "102", Some("100")),
        Ok(())
    );
    h.collect();
    h.expect(CALLER, "BYE ");
    let invite = h.expect(OTHER, "INVITE sip:102@");
    assert!(
        header(&invite, "From").contains("<sip:101@"),
        "the desk is put through: {invite}"
    );
}

#[test]
fn a_receptionist_who_called_a_customer_hands_them_to_the_colleague_consulted() {
    let mut h = Harness::new(&[DESK]);
    h.register("100", CALLER);
    h.register("102", OTHER);
    // The desk calls Anna (100)…
    phone_calls(&mut h, (DESK, "101"), "100", "out-1", &sdp(6000, "0"));
    let to_anna = h.expect(CALLER, "INVITE sip:100@");
    h.send(
        CALLER,
        &respond(&to_anna, 200, "OK", "anna2", &sdp(4000, "0")),
    );
    h.expect(CALLER, "ACK ");
    let first_ok = h.expect(DESK, "SIP/2.0 200");
    let first_tag = header(&first_ok, "To")
        .rsplit("tag=")
        .next()
        .unwrap()
        .to_string();
    // …then consults 102 on a second call…
    let (to_colleague, second_tag) = desk_consults_102(&mut h);
    // …and transfers Anna to them, in the first call's dialog.
    let refer = in_dialog(
        "REFER",
        DESK,
        "<sip:101@192.0.2.1>;tag=101out",
        &format!("<sip:100@192.0.2.1>;tag={first_tag}"),
        "out-1",
        3,
        "",
    )
    .replace(
        "Content-Length: 0",
        &format!(
            "Refer-To: <sip:102@192.0.2.1?Replaces=consult-1%3Bto-tag%3D{second_tag}%3Bfrom-tag%3D101out>\r\nContent-Length: 0"
        ),
    );
    h.send(DESK, &refer);
    let sent = h.take(DESK);
    assert!(sent[0].starts_with("SIP/2.0 202"), "{sent:#?}");
    assert_eq!(
        notifies(&mut h, DESK, sent[1..].to_vec()).len(),
        4,
        "told; both calls end"
    );
    // The colleague's phone moves to the first call, on the desk's side of it.
    let reinvite = h.expect(OTHER, "INVITE ");
    assert!(
        body(&reinvite).contains(&format!("m=audio {} ", h.ports(1)[0])),
        "{reinvite}"
    );
    h.send(
        OTHER,
        &respond(&reinvite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    assert_eq!(bridged(&h, 1), (phone_audio(7000), phone_audio(4000)));
    // Anna hangs up: the colleague's phone is told.
    let bye = in_dialog(
        "BYE",
        CALLER,
        &format!("{};tag=anna2", header(&to_anna, "To")),
        header(&to_anna, "From"),
        header(&to_anna, "Call-ID"),
        2,
        "",
    );
    h.send(CALLER, &bye);
    let to_colleague_bye = h.expect(OTHER, "BYE ");
    assert_eq!(
        header(&to_colleague_bye, "Call-ID"),
        header(&to_colleague, "Call-ID")
    );
    assert_eq!(h.pbx.active_calls(), 0);
}
