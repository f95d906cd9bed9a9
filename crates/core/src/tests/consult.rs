//! Attended transfer and three-way calls by keys: the desk (101), talking to Anna
//! (100), types `*2`, 102 and `#`. Anna waits aside in the call's room with music
//! while 102's phone rings; once it answers, the desk and 102 talk. Hanging up puts
//! Anna through, `*3` brings her in, `*1` goes back to her; a colleague who does not
//! answer sends the desk back to her.

use super::calls_out::{PROVIDER, rules, trunk};
use super::key_transfer::{desk_types, said_to_desk};
use super::transfers::{OTHER, desk_talks_to_anna};
use super::*;

/// The room commands sent since `from`, in words.
fn room_commands(h: &Harness, from: usize) -> Vec<String> {
    h.media[from..]
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Monitor { call, room, .. } => Some(format!("{call} monitor {room}")),
            MediaCommand::SetPart {
                call, side, part, ..
            } => Some(format!("{call} {side:?} {part:?}")),
            MediaCommand::Conference {
                call, room, part, ..
            } => Some(format!("{call} join {room} {part:?}")),
            MediaCommand::LeaveConference { call, room } => Some(format!("{call} leave {room}")),
            MediaCommand::Unmonitor { call, room } => Some(format!("{call} unmonitor {room}")),
            _ => None,
        })
        .collect()
}

/// The desk types `*2102#`: 102's phone rings, and answers. Returns the INVITE it got.
fn desk_consults_102(h: &mut Harness) -> String {
    let from = h.media.len();
    desk_types(h, "*2102#");
    assert_eq!(said_to_desk(h), [vec![Word::TransferTo]]);
    let invite = h.expect(OTHER, "INVITE sip:102@");
    assert!(header(&invite, "From").contains("sip:101@"), "{invite}");
    assert_eq!(
        room_commands(h, from),
        [
            "1 monitor consult-1",
            "1 Some(A) Waits(Music)",
            "1 Some(B) Waits(Ringback)"
        ]
    );
    let from = h.media.len();
    h.send(
        OTHER,
        &respond(&invite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    h.expect(OTHER, "ACK ");
    assert_eq!(
        room_commands(h, from),
        ["2 join consult-1 Talks", "1 Some(B) Talks"]
    );
    invite
}

fn colleague_hangs_up(h: &mut Harness, invite: &str) {
    let bye = in_dialog(
        "BYE",
        OTHER,
        &format!("{};tag=other1", header(invite, "To")),
        header(invite, "From"),
        header(invite, "Call-ID"),
        1,
        "",
    );
    h.send(OTHER, &bye);
}

fn history(h: &Harness, caller: &str) -> String {
    let record = h.records.iter().find(|r| r.caller == caller);
    let record = record.unwrap_or_else(|| panic!("no record of {caller}: {:#?}", h.records));
    record.history.clone().unwrap_or_default()
}

#[test]
fn the_desk_talks_to_102_while_anna_waits_then_hangs_up_to_put_her_through() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    desk_consults_102(&mut h);
    let from = h.media.len();
    h.send(DESK, &from_desk(&b_invite, "BYE", 3));
    assert!(h.expect(DESK, "SIP/2.0 200").contains("BYE"));
    assert!(
        h.take(CALLER).iter().all(|m| !m.starts_with("BYE")),
        "Anna stays"
    );
    assert!(h.take(OTHER).iter().all(|m| !m.starts_with("BYE")));
    assert_eq!(room_commands(&h, from), ["1 Some(A) Talks"]);
    assert!(
        h.records.iter().all(|r| r.caller != "100"),
        "the call goes on"
    );

    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(OTHER, "BYE ");
    let story = history(&h, "100");
    for part in [
        "101 consulted 102",
        "102 answered 101",
        "101 transferred to 102 after talking to them",
    ] {
        assert!(story.contains(part), "{story}");
    }
}

#[test]
fn star_3_brings_anna_in_and_the_last_one_left_is_hung_up_on() {
    let (mut h, ok, _) = desk_talks_to_anna();
    let invite = desk_consults_102(&mut h);
    let from = h.media.len();
    desk_types(&mut h, "*3");
    assert_eq!(room_commands(&h, from), ["1 Some(A) Talks"]);
    // Anna leaves; the desk and 102 go on.
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    assert!(h.take(DESK).iter().all(|m| !m.starts_with("BYE")));
    assert!(h.take(OTHER).iter().all(|m| !m.starts_with("BYE")));
    // 102 leaves: the desk is alone and hung up on.
    colleague_hangs_up(&mut h, &invite);
    h.expect(DESK, "BYE ");
    let story = history(&h, "100");
    assert!(
        story.contains("101 made a three-way call with 102"),
        "{story}"
    );
    assert!(story.contains("100 hung up while 101 consulted"), "{story}");
}

#[test]
fn a_colleague_who_does_not_answer_or_hangs_up_sends_the_desk_back_to_anna() {
    let (mut h, _, _) = desk_talks_to_anna();
    desk_types(&mut h, "*2102#");
    let invite = h.expect(OTHER, "INVITE sip:102@");
    let from = h.media.len();
    h.send(OTHER, &respond(&invite, 486, "Busy Here", "other1", ""));
    h.expect(OTHER, "ACK ");
    assert_eq!(room_commands(&h, from)[0], "1 unmonitor consult-1");
    assert_eq!(said_to_desk(&h).last(), Some(&vec![Word::TransferRefused]));
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);

    // Consulted again, 102 answers, then hangs up: back to Anna without a word.
    let invite = desk_consults_again(&mut h);
    let from = h.media.len();
    colleague_hangs_up(&mut h, &invite);
    assert!(h.expect(OTHER, "SIP/2.0 200").contains("BYE"));
    assert_eq!(
        room_commands(&h, from),
        ["1 unmonitor consult-1", "3 leave consult-1"]
    );
    assert!(h.take(DESK).iter().all(|m| !m.starts_with("BYE")));
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
}

fn desk_consults_again(h: &mut Harness) -> String {
    h.advance(Duration::from_secs(3));
    desk_types(h, "*2102#");
    let invite = h.expect(OTHER, "INVITE sip:102@");
    h.send(
        OTHER,
        &respond(&invite, 200, "OK", "other1", &sdp(7000, "0")),
    );
    h.expect(OTHER, "ACK ");
    invite
}

#[test]
fn star_1_goes_back_to_anna_and_lets_102_go() {
    let (mut h, _, _) = desk_talks_to_anna();
    desk_consults_102(&mut h);
    let from = h.media.len();
    desk_types(&mut h, "*1");
    h.expect(OTHER, "BYE ");
    assert_eq!(room_commands(&h, from)[0], "1 unmonitor consult-1");
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
    let consulted = h
        .records
        .iter()
        .find(|r| r.caller == "101" && r.callee == "102");
    assert!(
        consulted.is_some(),
        "102's call is in the log: {:#?}",
        h.records
    );
}

#[test]
fn hanging_up_before_102_answers_leaves_a_blind_transfer() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    desk_types(&mut h, "*2102#");
    let invite = h.expect(OTHER, "INVITE sip:102@");
    h.send(OTHER, &respond(&invite, 180, "Ringing", "other1", ""));
    h.send(DESK, &from_desk(&b_invite, "BYE", 3));
    let to_colleague = h.take(OTHER);
    assert!(to_colleague[0].starts_with("CANCEL"), "{to_colleague:#?}");
    let again = to_colleague
        .iter()
        .find(|m| m.starts_with("INVITE sip:102@"))
        .cloned()
        .expect("102 rung for Anna");
    assert!(
        header(&again, "From").contains("sip:100@"),
        "Anna rings 102: {again}"
    );
    assert_eq!(live_stages(&h), [(CallStage::Ringing, None)]);
    h.send(
        OTHER,
        &respond(&again, 200, "OK", "other2", &sdp(7002, "0")),
    );
    h.expect(OTHER, "ACK ");
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("102".into()))]);
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(OTHER, "BYE ");
    let story = history(&h, "100");
    assert!(story.contains("101 transferred to 102"), "{story}");
}

#[test]
fn only_an_extension_with_a_phone_can_be_consulted() {
    let (mut h, _, _) = desk_talks_to_anna();
    desk_types(&mut h, "*2555#");
    assert_eq!(
        said_to_desk(&h),
        [vec![Word::TransferTo], vec![Word::TransferRefused]]
    );
    h.advance(Duration::from_secs(3));
    desk_types(&mut h, "*2101#");
    assert_eq!(said_to_desk(&h).len(), 4, "not the desk's own number");
    assert!(h.take(OTHER).is_empty());
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
}

/// [`desk_talks_to_anna`] in an office whose mobiles go out through its provider.
fn desk_talks_to_anna_with_a_provider() -> (Harness, String, String) {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    h.pbx
        .set_trunks(h.clock(), vec![trunk("Provider", PROVIDER, false)]);
    h.collect();
    h.take(PROVIDER);
    h.pbx.set_outbound(rules(&["Provider"]));
    (h, ok, b_invite)
}

#[test]
fn the_desk_consults_a_number_outside_through_the_trunk_and_puts_anna_through() {
    let (mut h, ok, b_invite) = desk_talks_to_anna_with_a_provider();
    let from = h.media.len();
    desk_types(&mut h, "*20601234567#");
    let out = h.expect(PROVIDER, "INVITE sip:+48601234567@voip.example");
    assert_eq!(
        room_commands(&h, from),
        [
            "1 monitor consult-1",
            "1 Some(A) Waits(Music)",
            "1 Some(B) Waits(Ringback)"
        ]
    );
    let from = h.media.len();
    h.send(PROVIDER, &respond(&out, 200, "OK", "mob1", &sdp(9000, "0")));
    h.expect(PROVIDER, "ACK ");
    assert_eq!(
        room_commands(&h, from),
        ["2 join consult-1 Talks", "1 Some(B) Talks"]
    );
    h.send(DESK, &from_desk(&b_invite, "BYE", 3));
    assert!(h.take(CALLER).iter().all(|m| !m.starts_with("BYE")));
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(PROVIDER, "BYE ");
    let story = history(&h, "100");
    assert!(
        story.contains("101 transferred to 0601234567 after talking to them"),
        "{story}"
    );
    let out = h.records.iter().find(|r| r.callee == "0601234567");
    let out = out.unwrap_or_else(|| panic!("{:#?}", h.records));
    assert_eq!(out.direction, crate::Direction::Outbound, "{out:#?}");
}

#[test]
fn a_number_outside_the_desk_may_not_call_is_refused() {
    let (mut h, _, _) = desk_talks_to_anna_with_a_provider();
    desk_types(&mut h, "*200441234567#");
    assert!(
        h.take(PROVIDER).is_empty(),
        "abroad is not the desk's to call"
    );
    assert_eq!(
        said_to_desk(&h),
        [vec![Word::TransferTo], vec![Word::TransferRefused]]
    );
}

#[test]
fn hanging_up_before_a_number_outside_answers_transfers_anna_to_it() {
    let (mut h, _, b_invite) = desk_talks_to_anna_with_a_provider();
    desk_types(&mut h, "*20601234567#");
    let out = h.expect(PROVIDER, "INVITE sip:+48601234567@voip.example");
    h.send(PROVIDER, &respond(&out, 180, "Ringing", "mob1", ""));
    h.send(DESK, &from_desk(&b_invite, "BYE", 3));
    let sent = h.take(PROVIDER);
    assert!(sent[0].starts_with("CANCEL"), "{sent:#?}");
    let again = sent
        .iter()
        .find(|m| m.starts_with("INVITE sip:+48601234567@"));
    assert!(
        again.is_some(),
        "Anna's call goes out to the number: {sent:#?}"
    );
}

#[test]
fn a_call_is_consulted_from_or_watched_by_a_supervisor_not_both() {
    const SUPERVISOR: &str = "192.0.2.40:5060";
    let (mut h, _, _) = desk_talks_to_anna();
    h.register("100", SUPERVISOR);
    h.pbx.set_supervisors(vec!["100".into()]);
    desk_consults_102(&mut h);
    phone_calls(
        &mut h,
        (SUPERVISOR, "100"),
        "*90101",
        "watch-1",
        &sdp(7200, "0"),
    );
    h.expect(SUPERVISOR, "SIP/2.0 486 That call is being transferred");

    let (mut h, _, _) = desk_talks_to_anna();
    h.register("100", SUPERVISOR);
    h.pbx.set_supervisors(vec!["100".into()]);
    phone_calls(
        &mut h,
        (SUPERVISOR, "100"),
        "*90101",
        "watch-1",
        &sdp(7200, "0"),
    );
    h.expect(SUPERVISOR, "SIP/2.0 200");
    desk_types(&mut h, "*2102#");
    assert!(h.take(OTHER).is_empty(), "102 is not rung");
    assert_eq!(
        said_to_desk(&h),
        [vec![Word::TransferTo], vec![Word::TransferRefused]]
    );
}
