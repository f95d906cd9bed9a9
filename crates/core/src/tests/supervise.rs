//! A supervisor's phone (102) joins the desk's call with Anna: `*90101` listens,
//! `*91101` whispers to the desk, `*92101` barges in. Only a supervisor may; the call
//! is split through a room while anyone watches, and whole again after.

use super::transfers::{OTHER, desk_talks_to_anna};
use super::*;
use switchboard_media::relay::Side;

/// 102's phone dials `code`; returns its 200 (or whatever it was answered).
fn supervisor_dials(h: &mut Harness, code: &str) -> String {
    phone_calls(h, (OTHER, "102"), code, "watch-1", &sdp(7000, "0"));
    let answer = h.take(OTHER);
    let last = answer.last().cloned().unwrap_or_default();
    if last.starts_with("SIP/2.0 200") {
        let ack = in_dialog(
            "ACK",
            OTHER,
            "<sip:102@192.0.2.1>;tag=102out",
            header(&last, "To"),
            "watch-1",
            2,
            "",
        );
        h.send(OTHER, &ack);
    }
    last
}

fn supervisor_hangs_up(h: &mut Harness, ok: &str) {
    let bye = in_dialog(
        "BYE",
        OTHER,
        "<sip:102@192.0.2.1>;tag=102out",
        header(ok, "To"),
        "watch-1",
        3,
        "",
    );
    h.send(OTHER, &bye);
}

fn office_with_supervisor() -> (Harness, String) {
    let (mut h, ok, _) = desk_talks_to_anna();
    h.pbx.set_supervisors(vec!["102".into()]);
    (h, ok)
}

/// The room commands sent since `from`: (call, what).
fn room_commands(h: &Harness, from: usize) -> Vec<(CallKey, String)> {
    h.media[from..]
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Monitor { call, room, a, b } => Some((
                *call,
                format!("monitor {room} {} {}", a.remote.port(), b.remote.port()),
            )),
            MediaCommand::Conference {
                call,
                room,
                part,
                announced,
                ..
            } => Some((*call, format!("join {room} {part:?} {announced}"))),
            MediaCommand::LeaveConference { call, room } => Some((*call, format!("leave {room}"))),
            MediaCommand::Unmonitor { call, room } => Some((*call, format!("unmonitor {room}"))),
            _ => None,
        })
        .collect()
}

#[test]
fn a_supervisor_listens_unheard_and_the_call_is_whole_again_after() {
    let (mut h, _) = office_with_supervisor();
    let from = h.media.len();
    let ok = supervisor_dials(&mut h, "*90101");
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert_eq!(
        room_commands(&h, from),
        [
            (1, "monitor watched-1 4000 6000".into()),
            (2, "join watched-1 Listens false".into()),
        ]
    );
    assert!(live_stages(&h).contains(&(CallStage::Listening, None)));
    let from = h.media.len();
    supervisor_hangs_up(&mut h, &ok);
    assert_eq!(
        room_commands(&h, from),
        [
            (2, "leave watched-1".into()),
            (1, "unmonitor watched-1".into())
        ]
    );
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
}

#[test]
fn a_whisper_reaches_the_desk_and_barging_in_reaches_both() {
    let (mut h, _) = office_with_supervisor();
    let from = h.media.len();
    supervisor_dials(&mut h, "*91101");
    let whisper = RoomPart::WhispersTo {
        call: 1,
        side: Side::B,
    };
    assert_eq!(
        room_commands(&h, from)[1],
        (2, format!("join watched-1 {whisper:?} false"))
    );

    let (mut h, _) = office_with_supervisor();
    let from = h.media.len();
    supervisor_dials(&mut h, "*92101");
    assert_eq!(
        room_commands(&h, from)[1],
        (2, "join watched-1 Talks false".into())
    );
}

#[test]
fn only_a_supervisor_may_and_only_into_a_call_in_progress() {
    let (mut h, _ok, _) = desk_talks_to_anna();
    let refused = supervisor_dials(&mut h, "*90101");
    assert!(refused.starts_with("SIP/2.0 403"), "{refused}");
    h.pbx.set_supervisors(vec!["102".into()]);
    phone_calls(&mut h, (OTHER, "102"), "*90100", "watch-2", &sdp(7000, "0"));
    let answered = h.take(OTHER);
    assert!(
        answered.iter().any(|m| m.starts_with("SIP/2.0 200")),
        "Anna's own side of the call can be watched too: {answered:#?}"
    );
    phone_calls(&mut h, (OTHER, "102"), "*90103", "watch-3", &sdp(7002, "0"));
    let answered = h.take(OTHER);
    assert!(
        answered.iter().any(|m| m.starts_with("SIP/2.0 404")),
        "{answered:#?}"
    );
}

#[test]
fn the_supervisor_is_hung_up_on_when_the_call_ends_and_its_record_tells() {
    let (mut h, anna_ok) = office_with_supervisor();
    supervisor_dials(&mut h, "*90101");
    let from = h.media.len();
    h.send(CALLER, &from_caller(&anna_ok, "BYE", 3));
    assert!(h.take(OTHER).iter().any(|m| m.starts_with("BYE ")));
    assert!(room_commands(&h, from).contains(&(1, "unmonitor watched-1".into())));
    let watched = h.records.iter().find(|r| r.caller == "100").unwrap();
    assert_eq!(
        watched.history.as_deref(),
        Some("0:00 supervisor 102 listened")
    );
    let supervisor = h.records.iter().find(|r| r.caller == "102").unwrap();
    assert_eq!(supervisor.reason, "The call listened to ended");
}

#[test]
fn the_admin_listens_from_the_panel_through_a_phone_that_rings_first() {
    let (mut h, _) = office_with_supervisor();
    let clock = h.clock();
    let refused = h
        .pbx
        .supervise_call(clock, 1, "103", crate::Supervise::Listen);
    assert!(
        matches!(refused, Err(crate::CallActionError::Refused(ref why)) if why.contains("no phone of 103")),
        "{refused:?}"
    );
    assert_eq!(
        h.pbx
            .supervise_call(clock, 9, "102", crate::Supervise::Listen),
        Err(crate::CallActionError::NotTalking)
    );
    let from = h.media.len();
    h.pbx
        .supervise_call(clock, 1, "102", crate::Supervise::Whisper)
        .unwrap();
    h.collect();
    let ring = h.expect(OTHER, "INVITE sip:102@");
    assert!(
        header(&ring, "From").starts_with("\"Switchboard\""),
        "{ring}"
    );
    assert!(
        room_commands(&h, from).is_empty(),
        "nothing before the answer"
    );
    assert!(live_stages(&h).contains(&(CallStage::Listening, None)));
    h.send(OTHER, &respond(&ring, 200, "OK", "sup1", &sdp(7000, "0")));
    h.expect(OTHER, "ACK ");
    let whisper = RoomPart::WhispersTo {
        call: 1,
        side: Side::B,
    };
    assert_eq!(
        room_commands(&h, from),
        [
            (1, "monitor watched-1 4000 6000".into()),
            // Key 2 went to the attempt at 103, which had no phone.
            (3, format!("join watched-1 {whisper:?} false")),
        ]
    );
    let Some(MediaCommand::Conference { media, .. }) = h.media.last() else {
        panic!("{:?}", h.media);
    };
    assert_eq!(
        media.remote,
        phone_audio(7000),
        "the supervisor's phone's media"
    );
}

#[test]
fn a_supervisors_phone_that_does_not_answer_stops_ringing_and_leaves_no_record() {
    let (mut h, _) = office_with_supervisor();
    let clock = h.clock();
    h.pbx
        .supervise_call(clock, 1, "102", crate::Supervise::Listen)
        .unwrap();
    h.collect();
    let ring = h.expect(OTHER, "INVITE sip:102@");
    h.send(OTHER, &respond(&ring, 180, "Ringing", "sup1", ""));
    h.advance(Duration::from_secs(31));
    h.expect(OTHER, "CANCEL sip:102@");
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
    assert!(h.records.iter().all(|r| r.caller != "102"));
}
