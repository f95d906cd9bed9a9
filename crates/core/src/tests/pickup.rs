//! Call pickup: a colleague's phone answers a call ringing another extension, by that
//! extension (`**101`) or any (`*8`).

use super::*;

const OTHER: &str = "192.0.2.30:5060";

#[test]
fn a_colleague_picks_up_the_call_ringing_the_desk() {
    let mut h = Harness::new(&[DESK]);
    h.register("102", OTHER);
    h.call("101", &sdp(4000, "0 8"));
    let ringing = h.expect(DESK, "INVITE sip:101@");
    h.send(DESK, &respond(&ringing, 180, "Ringing", "desk1", ""));
    h.take(CALLER);
    phone_calls(&mut h, (OTHER, "102"), "**101", "pick-1", &sdp(7000, "8 0"));
    // The colleague's phone is answered on the caller's call, in the caller's codec
    // that it also offered first (PCMA).
    let answered = h.take(OTHER);
    let ok = answered
        .iter()
        .find(|m| m.starts_with("SIP/2.0 200"))
        .unwrap_or_else(|| panic!("{answered:#?}"));
    assert!(
        body(ok).contains(&format!("m=audio {} RTP/AVP 8", h.ports(1)[1])),
        "{ok}"
    );
    let to_caller = h.expect(CALLER, "SIP/2.0 200");
    assert!(body(&to_caller).contains("RTP/AVP 8"), "{to_caller}");
    h.expect(DESK, "CANCEL sip:101@");
    assert_eq!(bridged(&h, 1), (phone_audio(4000), phone_audio(7000)));
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("102".into()))]);
    // The caller hangs up: the BYE reaches the colleague's phone.
    h.send(CALLER, &from_caller(&to_caller, "ACK", 2));
    h.send(CALLER, &from_caller(&to_caller, "BYE", 3));
    let bye = h.expect(OTHER, "BYE ");
    assert_eq!(header(&bye, "Call-ID"), "pick-1");
    let r = &h.records[0];
    assert_eq!(
        (r.answered_by.as_deref(), r.history.as_deref()),
        (Some("102"), Some("0:00 102 picked up the call ringing 101"))
    );
    assert_eq!(h.records.len(), 1, "the pickup is part of the call it took");
}

#[test]
fn nothing_ringing_nothing_to_pick_up() {
    let mut h = Harness::new(&[DESK]);
    h.register("102", OTHER);
    phone_calls(&mut h, (OTHER, "102"), "*8", "pick-1", &sdp(7000, "0"));
    h.expect(OTHER, "SIP/2.0 404 No call to pick up");
}

/// 100 calls the desk (101), whose phone rings; 102's phone is at OTHER.
fn desk_rings() -> Harness {
    let mut h = Harness::new(&[DESK]);
    h.register("102", OTHER);
    h.call("101", &sdp(4000, "0"));
    let ringing = h.expect(DESK, "INVITE sip:101@");
    h.send(DESK, &respond(&ringing, 180, "Ringing", "desk1", ""));
    h
}

/// 102 dials `code`; whether its phone took the call.
fn picked_up(h: &mut Harness, code: &str) -> bool {
    phone_calls(h, (OTHER, "102"), code, "pick-1", &sdp(7000, "0"));
    h.take(OTHER).iter().any(|m| m.starts_with("SIP/2.0 200"))
}

/// 102's busy lamp for the desk showed the ringing call's dialog; pressing it sends an
/// INVITE with Replaces naming that dialog (RFC 3891), which takes the call.
#[test]
fn a_busy_lamp_key_picks_up_the_call_its_replaces_names() {
    let mut h = desk_rings();
    let names =
        |call_id: &str| format!("Replaces: {call_id};to-tag=sb;from-tag=caller1;early-only\r\n");
    let to = "101";
    phone_calls_with(
        &mut h,
        (OTHER, "102"),
        to,
        ("pick-1", &names("not-this-call")),
        &sdp(7000, "0"),
    );
    h.expect(OTHER, "SIP/2.0 481 No ringing call matches Replaces");
    phone_calls_with(
        &mut h,
        (OTHER, "102"),
        to,
        ("pick-2", &names("call-1")),
        &sdp(7000, "0"),
    );
    assert!(h.take(OTHER).iter().any(|m| m.starts_with("SIP/2.0 200")));
    h.expect(CALLER, "SIP/2.0 200");
    h.expect(DESK, "CANCEL sip:101@");
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("102".into()))]);
}

#[test]
fn star_8_picks_up_whatever_rings() {
    let mut h = desk_rings();
    assert!(picked_up(&mut h, "*8"));
    h.expect(CALLER, "SIP/2.0 200");
}

#[test]
fn star_8_in_a_pickup_group_picks_up_only_its_groups_calls() {
    let mut h = desk_rings();
    h.pbx
        .set_pickup_groups(vec![vec!["102".into(), "103".into()], vec!["101".into()]]);
    assert!(!picked_up(&mut h, "*8"), "101 is in another group");
    assert!(
        picked_up(&mut h, "**101"),
        "directed pickup is not bound by groups"
    );

    let mut h = desk_rings();
    h.pbx.set_pickup_groups(vec![
        vec!["102".into(), "103".into()],
        vec!["101".into(), "102".into()],
    ]);
    assert!(picked_up(&mut h, "*8"), "one of 102's groups has 101");
}
