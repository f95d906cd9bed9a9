//! VIP preemption on calls: the agent is warned, their caller is put on hold with
//! "please hold" and music, the VIP is bridged to the agent by moving the agent's
//! dialog and re-INVITEing the phone to the VIP call's port, and back again.

use std::time::Duration;

use switchboard_media::relay::Side;
use switchboard_queue::{
    AgentConfig, CallId, EventKind, Membership, QueueConfig, Strategy, VipPolicy,
};

use super::*;

/// Queue 600 (Sales) and VIP queue 601, whose callers take agent 101 (the desk phone)
/// over after ten seconds; 100 is talking to 101 through 600 (call 1) and then calls
/// 601 from another line (call 2).
/// Returns the desk's INVITE of call 1 and its 200, and Switchboard's 200s to the
/// caller's two calls.
fn vip_takes_the_agent(h: &mut Harness) -> Dialogs {
    let queue = |number: &str, name: &str, vip: bool| {
        let mut config = QueueConfig::new(name, Strategy::Linear);
        config.wrap_up = Duration::ZERO;
        config.vip = vip.then_some(VipPolicy {
            delay: Duration::from_secs(10),
        });
        QueueSetup {
            number: number.into(),
            config,
            members: vec![("101".into(), Membership::default())],
        }
    };
    h.pbx.set_queues(
        h.clock(),
        vec![queue("600", "Sales", false), queue("601", "VIP", true)],
        vec![AgentConfig::new("101")],
    );
    h.collect();
    h.call("600", &sdp(4000, "0"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    let desk = h.expect(DESK, "INVITE");
    let desk_ok = respond(&desk, 200, "OK", "d", &sdp(6000, "0"));
    h.send(DESK, &desk_ok);
    h.expect(DESK, "ACK");

    h.another_call("601", &sdp(4002, "0"), "call-2");
    let vip_ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&vip_ok, "ACK", 2));
    assert!(
        h.media.iter().any(|m| matches!(
            m,
            MediaCommand::Whisper { call: 1, to: Side::B, words } if words == &[Word::QueueVipWarning]
        )),
        "the agent is warned, over the call: {:?}",
        h.media
    );
    h.advance(Duration::from_secs(9));
    assert!(h.take(DESK).is_empty(), "the agent may finish first");
    h.advance(Duration::from_secs(1));
    let reinvite = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060");
    assert_eq!(header(&reinvite, "Call-ID"), header(&desk, "Call-ID"));
    assert!(
        body(&reinvite).contains(&format!("m=audio {} RTP/AVP 0\r\n", h.ports(2)[1])),
        "{reinvite}"
    );
    h.send(DESK, &respond(&reinvite, 200, "OK", "d", &sdp(6000, "0")));
    h.expect(DESK, "ACK sip:101@192.0.2.20:5060");
    let [
        ..,
        MediaCommand::Wait {
            call: 1,
            side: Side::A,
            ..
        },
        MediaCommand::Say {
            call: 1,
            to: Side::A,
            words,
        },
        MediaCommand::Bridge { call: 2, a, b },
    ] = &h.media[..]
    else {
        panic!("{:?}", h.media);
    };
    assert_eq!(
        words,
        &[Word::QueueHold],
        "the held caller hears please hold"
    );
    assert_eq!((a.remote.port(), b.remote.port()), (4002, 6000));
    Dialogs {
        desk,
        desk_ok,
        ok,
        vip_ok,
    }
}

struct Dialogs {
    desk: String,
    desk_ok: String,
    ok: String,
    vip_ok: String,
}

/// The desk phone's request in its dialog of call 1.
fn from_desk(d: &Dialogs, method: &str, cseq: u32) -> String {
    let (from, to) = (header(&d.desk_ok, "To"), header(&d.desk, "From"));
    in_dialog(method, DESK, from, to, header(&d.desk, "Call-ID"), cseq, "")
}

fn events(h: &Harness) -> Vec<EventKind> {
    kinds(h)
        .into_iter()
        .filter(|k| {
            matches!(
                k,
                EventKind::PreemptWarned { .. }
                    | EventKind::Preempt { .. }
                    | EventKind::Resume { .. }
                    | EventKind::OfferedBack
            )
        })
        .collect()
}

#[test]
fn the_vip_takes_the_agent_and_the_agent_returns_to_the_held_caller() {
    let mut h = Harness::new(&[DESK]);
    let d = vip_takes_the_agent(&mut h);
    // The VIP hangs up: the phone is pointed back at call 1, which is bridged again.
    h.send(CALLER, &from_caller(&d.vip_ok, "BYE", 3));
    h.expect(CALLER, "SIP/2.0 200");
    let back = h.expect(DESK, "INVITE");
    assert!(
        body(&back).contains(&format!("m=audio {} RTP/AVP 0\r\n", h.ports(1)[1])),
        "{back}"
    );
    assert!(
        header(&back, "CSeq").starts_with("3 "),
        "one dialog, counting on: {back}"
    );
    h.send(DESK, &respond(&back, 200, "OK", "d", &sdp(6000, "0")));
    h.expect(DESK, "ACK");
    let Some(MediaCommand::Bridge { a, b, .. }) = h
        .media
        .iter()
        .rev()
        .find(|m| matches!(m, MediaCommand::Bridge { call: 1, .. }))
    else {
        panic!("{:?}", h.media);
    };
    assert_eq!((a.remote.port(), b.remote.port()), (4000, 6000));
    assert!(
        matches!(h.media.last(), Some(MediaCommand::Close { call: 2 })),
        "the VIP call is over: {:?}",
        h.media
    );
    let vip = &h.records[0];
    assert_eq!(
        (
            vip.call_id.as_str(),
            vip.answered_by.as_deref(),
            vip.outcome
        ),
        ("call-2", Some("101"), Outcome::Answered)
    );
    assert_eq!(
        events(&h),
        [
            EventKind::PreemptWarned { vip: CallId(2) },
            EventKind::Preempt {
                vip: CallId(2),
                held: CallId(1)
            },
            EventKind::Resume { held: CallId(1) },
        ]
    );
    // The agent ends call 1 as any other: the caller gets the BYE, the record says it
    // was put on hold for a VIP.
    h.send(DESK, &from_desk(&d, "BYE", 2));
    h.expect(DESK, "SIP/2.0 200");
    h.expect(CALLER, "BYE");
    let held = &h.records[1];
    assert_eq!(
        (held.call_id.as_str(), held.outcome, held.preempted),
        ("call-1", Outcome::Answered, true)
    );
    assert_eq!(h.pbx.active_calls(), 0);
}

#[test]
fn an_agent_who_hangs_up_on_the_vip_is_offered_the_held_caller_first() {
    let mut h = Harness::new(&[DESK]);
    let d = vip_takes_the_agent(&mut h);
    // The agent's BYE arrives in the dialog that now serves the VIP call.
    h.send(DESK, &from_desk(&d, "BYE", 3));
    let bye = h.expect(CALLER, "BYE");
    assert_eq!(header(&bye, "Call-ID"), "call-2");
    // The held caller (still hearing music) is offered back to the same agent.
    let at_desk = h.take(DESK);
    assert!(at_desk[0].starts_with("SIP/2.0 200"), "{at_desk:#?}");
    let offered = at_desk
        .iter()
        .find(|m| m.starts_with("INVITE"))
        .expect("offered back");
    assert_ne!(header(offered, "Call-ID"), header(&d.desk, "Call-ID"));
    h.send(DESK, &respond(offered, 200, "OK", "d2", &sdp(6002, "0")));
    h.expect(DESK, "ACK");
    let Some(MediaCommand::Say {
        call: 1,
        to: Side::B,
        ..
    }) = h.media.last()
    else {
        panic!("{:?}", h.media);
    };
    assert!(matches!(
        h.media[h.media.len() - 2],
        MediaCommand::Bridge { call: 1, .. }
    ));
    assert!(events(&h).contains(&EventKind::OfferedBack));
}

#[test]
fn a_held_caller_who_hangs_up_leaves_the_agent_with_the_vip() {
    let mut h = Harness::new(&[DESK]);
    let d = vip_takes_the_agent(&mut h);
    h.send(CALLER, &from_caller(&d.ok, "BYE", 3));
    h.expect(CALLER, "SIP/2.0 200");
    assert!(h.take(DESK).is_empty(), "the agent stays with the VIP");
    let held = &h.records[0];
    assert_eq!(
        (held.call_id.as_str(), held.outcome, held.preempted),
        ("call-1", Outcome::Answered, true)
    );
    // The VIP call goes on and ends normally.
    h.send(CALLER, &from_caller(&d.vip_ok, "BYE", 4));
    h.expect(CALLER, "SIP/2.0 200");
    h.expect(DESK, "BYE");
    assert_eq!(h.records[1].call_id, "call-2");
    assert_eq!(h.pbx.active_calls(), 0);
}
