//! Calls to a queue: the caller waits with music while the queue engine rings agents'
//! phones; the agent who answers is put through; the queue log follows.

use switchboard_queue::{AgentConfig, EventKind, Membership, Priority, QueueConfig, Strategy};

use super::*;

/// Queue 600 served by 101 (the desk phone) then 102 (the mobile), in that order.
fn queue_office(strategy: Strategy) -> Harness {
    let mut h = Harness::new(&[DESK]);
    h.register("102", MOBILE);
    let mut config = QueueConfig::new("Sales", strategy);
    config.ring_timeout = Duration::from_secs(15);
    let setup = QueueSetup {
        number: "600".into(),
        config,
        members: vec![
            ("101".into(), Membership::default()),
            ("102".into(), Membership::default()),
        ],
    };
    let agents = vec![AgentConfig::new("101"), AgentConfig::new("102")];
    h.pbx.set_queues(h.clock(), vec![setup], agents);
    h.collect();
    h
}

#[test]
fn a_queue_caller_waits_with_music_and_the_answering_agent_is_put_through() {
    let mut h = queue_office(Strategy::Linear);
    h.call("600", &sdp(4000, "0 101"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    assert!(
        body(&ok).contains(&format!("m=audio {} RTP/AVP 0 101\r\n", h.ports(1)[0])),
        "{ok}"
    );
    assert!(
        h.media
            .iter()
            .any(|m| matches!(m, MediaCommand::Wait { .. })),
        "{:?}",
        h.media
    );
    let desk = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060 SIP/2.0");
    assert!(h.take(MOBILE).is_empty(), "linear: one agent at a time");
    let live = |h: &Harness| {
        let [call] = &h.pbx.live_calls()[..] else {
            panic!("{:?}", h.pbx.live_calls());
        };
        (
            call.stage,
            call.queue.clone(),
            call.talking_to.clone(),
            call.answered.is_some(),
        )
    };
    assert_eq!(
        live(&h),
        (CallStage::Queued, Some("600".into()), None, false),
        "waiting: no one has answered yet"
    );
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    h.send(DESK, &respond(&desk, 200, "OK", "d", &sdp(6000, "0")));
    h.expect(DESK, "ACK");
    assert_eq!(
        live(&h),
        (
            CallStage::Talking,
            Some("600".into()),
            Some("101".into()),
            true
        )
    );
    let [
        ..,
        MediaCommand::Bridge { b, .. },
        MediaCommand::Say { to, words, .. },
    ] = &h.media[..]
    else {
        panic!("{:?}", h.media);
    };
    assert_eq!(b.remote.port(), 6000);
    assert_eq!(
        (*to, &words[..]),
        (switchboard_media::relay::Side::B, &[Word::QueueWhisper][..]),
        "the agent of one queue hears the short whisper first"
    );
    h.advance(Duration::from_secs(30));
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(CALLER, "SIP/2.0 200");
    h.expect(DESK, "BYE");
    assert!(h.pbx.live_calls().is_empty(), "{:?}", h.pbx.live_calls());
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by),
        (Outcome::Answered, HangupBy::Caller)
    );
    assert_eq!(r.callee, "600");
    assert_eq!(
        (r.queue.as_deref(), r.answered_by.as_deref(), r.priority),
        (Some("600"), Some("101"), Priority(0))
    );
    let k = kinds(&h);
    assert!(
        matches!(
            k[..],
            [
                EventKind::Login,
                EventKind::Login,
                EventKind::Join { position: 1, .. },
                EventKind::Connect { .. },
                EventKind::Complete { .. },
            ]
        ),
        "{k:?}"
    );
    let connect = &h.queue_events[3];
    assert_eq!(
        (connect.queue.as_deref(), connect.agent.as_deref()),
        (Some("600"), Some("101"))
    );
    assert!(connect.call_id.is_some());
}

#[test]
fn an_agent_who_does_not_answer_is_followed_by_the_next() {
    let mut h = queue_office(Strategy::Linear);
    h.call("600", &sdp(4000, "0"));
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    // The queue's 15-s ring timeout: the desk phone is cancelled, the mobile rings.
    h.advance(Duration::from_secs(15));
    let cancel = h.expect(DESK, "CANCEL");
    h.send(DESK, &respond(&cancel, 200, "OK", "d", ""));
    h.send(DESK, &respond(&desk, 487, "Request Terminated", "d", ""));
    h.expect(MOBILE, "INVITE sip:102@192.0.2.21:5060 SIP/2.0");
    assert!(kinds(&h).contains(&EventKind::RingNoAnswer));
}

#[test]
fn ring_all_rings_every_agent_and_a_caller_who_hangs_up_stops_them() {
    let mut h = queue_office(Strategy::RingAll);
    h.call("600", &sdp(4000, "0"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    let desk = h.expect(DESK, "INVITE");
    let mobile = h.expect(MOBILE, "INVITE");
    for (phone, invite) in [(DESK, &desk), (MOBILE, &mobile)] {
        h.send(phone, &respond(invite, 180, "Ringing", "r", ""));
    }
    h.advance(Duration::from_secs(8));
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(DESK, "CANCEL");
    h.expect(MOBILE, "CANCEL");
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by),
        (Outcome::Cancelled, HangupBy::Caller)
    );
    assert!(
        kinds(&h)
            .iter()
            .any(|k| matches!(k, EventKind::Abandon { position: 1, .. }))
    );
}

#[test]
fn an_agent_with_no_phone_registered_is_skipped() {
    let mut h = queue_office(Strategy::Linear);
    let setup = QueueSetup {
        number: "600".into(),
        config: QueueConfig::new("Sales", Strategy::Linear),
        members: vec![
            ("103".into(), Membership::default()),
            ("102".into(), Membership::default()),
        ],
    };
    let agents = vec![AgentConfig::new("103"), AgentConfig::new("102")];
    h.pbx.set_queues(h.clock(), vec![setup], agents);
    h.call("600", &sdp(4000, "0"));
    h.expect(MOBILE, "INVITE sip:102@");
    assert!(
        kinds(&h).contains(&EventKind::Declined),
        "103 could not be reached"
    );
}

#[test]
fn an_agent_logs_out_and_in_with_star_45_and_takes_a_break_with_star_46() {
    let mut h = queue_office(Strategy::Linear);
    let agent100 = QueueSetup {
        number: "600".into(),
        config: QueueConfig::new("Sales", Strategy::Linear),
        members: vec![("100".into(), Membership::default())],
    };
    h.pbx
        .set_queues(h.clock(), vec![agent100], vec![AgentConfig::new("100")]);
    h.collect();
    h.queue_events.clear();
    // 100 is a static agent, available from the start: *45 logs it out.
    h.call("*45", &sdp(4000, "0"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(
        CALLER,
        &from_caller(&ok, "ACK", 2).replace("sip:600@", "sip:*45@"),
    );
    assert!(
        h.media.iter().any(|m| matches!(
            m,
            MediaCommand::Announce {
                what: Announcement::AgentLoggedOut,
                ..
            }
        )),
        "{:?}",
        h.media
    );
    h.pbx.handle_announcement_done(h.clock(), 1);
    h.collect();
    h.expect(CALLER, "BYE");
    assert_eq!(kinds(&h), [EventKind::Logout]);
    let r = &h.records[0];
    assert_eq!((r.callee.as_str(), r.outcome), ("*45", Outcome::Answered));
}

#[test]
fn a_feature_code_from_someone_who_is_not_an_agent_is_refused() {
    let mut h = queue_office(Strategy::Linear);
    h.call("*46", &sdp(4000, "0"));
    h.announcement_plays(Announcement::NoSuchNumber);
    h.expect(CALLER, "SIP/2.0 404");
}

#[test]
fn a_queue_caller_who_never_acknowledges_the_answer_is_let_go() {
    let mut h = queue_office(Strategy::Linear);
    h.call("600", &sdp(4000, "0"));
    h.expect(CALLER, "SIP/2.0 200");
    let desk = h.expect(DESK, "INVITE");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    // No ACK: after 64 × T1 the call ends, the agent stops ringing, the queue forgets it.
    h.advance(Duration::from_secs(33));
    h.expect(DESK, "CANCEL");
    h.expect(CALLER, "BYE");
    assert_eq!(
        h.pbx.active_calls(),
        1,
        "until the desk phone confirms the CANCEL"
    );
    assert_eq!(h.records[0].sip_code, 408);
    assert!(
        kinds(&h)
            .iter()
            .any(|k| matches!(k, EventKind::Abandon { .. }))
    );
}

#[test]
fn an_agent_put_on_a_break_from_the_panel_is_skipped_until_back() {
    use switchboard_queue::AgentStatus;
    let mut h = queue_office(Strategy::Linear);
    let lunch = AgentStatus::OnBreak {
        reason: "lunch".into(),
    };
    assert!(h.pbx.set_agent_status(h.clock(), "101", lunch));
    assert!(
        !h.pbx
            .set_agent_status(h.clock(), "100", AgentStatus::Available),
        "100 answers no queue"
    );
    h.call("600", &sdp(4000, "0"));
    let mobile = h.expect(MOBILE, "INVITE sip:102@");
    assert!(h.take(DESK).is_empty(), "101 is on a break");
    let boards = h.pbx.agent_boards();
    assert!(
        boards.iter().any(|a| a.extension == "101"
            && a.activity
                == switchboard_queue::Activity::OnBreak {
                    reason: "lunch".into()
                }),
        "{boards:?}"
    );
    // Back from the break, and 102 declines: 101 is offered the caller.
    assert!(
        h.pbx
            .set_agent_status(h.clock(), "101", AgentStatus::Available)
    );
    h.send(MOBILE, &respond(&mobile, 486, "Busy Here", "m", ""));
    h.advance(Duration::from_secs(1));
    h.expect(DESK, "INVITE sip:101@");
}

#[test]
fn an_agent_talking_on_a_direct_call_is_not_offered_queue_calls() {
    let mut h = queue_office(Strategy::Linear);
    // 100 calls 101 directly; 101's desk phone answers.
    answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    // A caller for the queue: 101 comes first in line but is talking, so 102 rings.
    h.another_call("600", &sdp(4002, "0"), "call-2");
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    h.expect(MOBILE, "INVITE sip:102@192.0.2.21:5060 SIP/2.0");
    assert!(
        h.take(DESK).iter().all(|m| !m.starts_with("INVITE")),
        "101 is busy on a direct call"
    );
}

#[test]
fn an_agent_is_offered_queue_calls_again_once_the_direct_call_ends() {
    let mut h = queue_office(Strategy::Linear);
    let (ok, _) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(CALLER, "SIP/2.0 200");
    let bye = h.expect(DESK, "BYE");
    h.send(DESK, &respond(&bye, 200, "OK", "desk1", ""));
    h.another_call("600", &sdp(4002, "0"), "call-2");
    h.expect(DESK, "INVITE sip:101@192.0.2.20:5060 SIP/2.0");
}

/// Queue 600 with no agent who can answer: 103 has no phone.
fn queue_nobody_answers(h: &mut Harness) {
    let setup = QueueSetup {
        number: "600".into(),
        config: QueueConfig::new("Sales", Strategy::Linear),
        members: vec![("103".into(), Membership::default())],
    };
    h.pbx
        .set_queues(h.clock(), vec![setup], vec![AgentConfig::new("103")]);
}

#[test]
fn an_agent_added_while_callers_wait_is_offered_the_first_of_them() {
    let mut h = Harness::new(&[DESK]);
    queue_nobody_answers(&mut h);
    h.call("600", &sdp(4000, "0"));
    let first = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&first, "ACK", 2));
    h.another_call("600", &sdp(4002, "0"), "call-2");
    h.expect(CALLER, "SIP/2.0 200");
    assert!(h.take(DESK).is_empty());
    // The office adds 101 to the queue: the change applies at once, in place.
    let setup = QueueSetup {
        number: "600".into(),
        config: QueueConfig::new("Sales", Strategy::Linear),
        members: vec![
            ("103".into(), Membership::default()),
            ("101".into(), Membership::default()),
        ],
    };
    let agents = vec![AgentConfig::new("103"), AgentConfig::new("101")];
    h.pbx.set_queues(h.clock(), vec![setup], agents);
    h.collect();
    let offer = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060 SIP/2.0");
    h.send(DESK, &respond(&offer, 200, "OK", "desk1", &sdp(6000, "0")));
    h.expect(DESK, "ACK");
    let connected: Vec<Option<String>> = h
        .queue_events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Connect { .. }))
        .map(|e| e.call_id.clone())
        .collect();
    assert_eq!(
        connected,
        [Some("call-1".to_string())],
        "the first caller first"
    );
    assert_eq!(h.pbx.active_calls(), 2, "the second caller still waits");
}

#[test]
fn an_agent_taken_out_of_the_queue_finishes_the_call_in_progress() {
    let mut h = queue_office(Strategy::Linear);
    h.call("600", &sdp(4000, "0"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    let offer = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060 SIP/2.0");
    h.send(DESK, &respond(&offer, 200, "OK", "desk1", &sdp(6000, "0")));
    h.expect(DESK, "ACK");
    // 101 leaves the queue while talking to its caller: the call goes on.
    let setup = QueueSetup {
        number: "600".into(),
        config: QueueConfig::new("Sales", Strategy::Linear),
        members: vec![("102".into(), Membership::default())],
    };
    let agents = vec![AgentConfig::new("102")];
    h.pbx.set_queues(h.clock(), vec![setup], agents);
    h.collect();
    assert!(h.take(DESK).is_empty(), "nothing happens to the call");
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
    // The next caller rings 102, not 101.
    h.another_call("600", &sdp(4002, "0"), "call-2");
    h.expect(MOBILE, "INVITE sip:102@");
    assert!(h.take(DESK).iter().all(|m| !m.starts_with("INVITE")));
}
