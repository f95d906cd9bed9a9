//! Call park: the desk transfers its caller to *70, the caller waits with music in slot
//! *71 (its lamp lit), and a colleague dialling *71 takes the call; a call parked too
//! long rings the desk again.

use super::transfers::{desk_refers, desk_takes_anna_again, desk_talks_to_anna, notifies};
use super::*;

use super::transfers::OTHER;

/// 100 calls the desk, which parks the call; returns the caller's 200 and the busy
/// lamp NOTIFYs the desk got meanwhile.
fn parked(h: &mut Harness, (ok, b_invite): (String, String)) -> (String, Vec<String>) {
    let sent = desk_refers(h, &b_invite, "*70", 2);
    let (lamps, transfer): (Vec<String>, Vec<String>) = sent
        .into_iter()
        .partition(|m| m.starts_with("NOTIFY ") && header(m, "Event") == "dialog");
    assert_eq!(notifies(h, DESK, transfer).len(), 3, "told, then let go");
    assert!(
        matches!(
            h.media.last(),
            Some(MediaCommand::Wait {
                side: switchboard_media::relay::Side::A,
                hears: crate::vocabulary::Waiting::Music,
                ..
            })
        ),
        "{:?}",
        h.media
    );
    let live = h.pbx.live_calls();
    assert_eq!(
        (live[0].stage, live[0].parked_at.as_deref()),
        (CallStage::Parked, Some("*71"))
    );
    (ok, lamps)
}

#[test]
fn a_parked_call_is_taken_from_its_slot() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    let lamp = subscribe(&mut h, "*71", "dialog", 600);
    assert!(lamp.starts_with("SIP/2.0 200"), "{lamp}");
    let idle = h.take(DESK);
    assert!(
        idle.iter()
            .any(|m| m.starts_with("NOTIFY ") && !body(m).contains("<dialog ")),
        "the slot's lamp starts out: {idle:#?}"
    );
    let (ok, mut lit) = parked(&mut h, (ok, b_invite));
    lit.extend(h.take(DESK));
    assert!(
        lit.iter()
            .any(|m| m.starts_with("NOTIFY ") && body(m).contains("<state>confirmed</state>")),
        "the slot's lamp is lit: {lit:#?}"
    );
    phone_calls(&mut h, (OTHER, "102"), "*71", "take-1", &sdp(7000, "0"));
    assert!(h.take(OTHER).iter().any(|m| m.starts_with("SIP/2.0 200")));
    assert_eq!(bridged(&h, 1), (phone_audio(4000), phone_audio(7000)));
    assert!(
        h.take(DESK)
            .iter()
            .any(|m| m.starts_with("NOTIFY ") && !body(m).contains("<dialog ")),
        "the slot's lamp goes out"
    );
    phone_calls(&mut h, (OTHER, "102"), "*71", "take-2", &sdp(7002, "0"));
    h.expect(OTHER, "SIP/2.0 404 Nothing is parked there");
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(OTHER, "BYE ");
    let call = h.records.iter().find(|r| r.caller == "100").unwrap();
    assert_eq!(
        call.history.as_deref(),
        Some("0:00 101 transferred to *70; 0:00 parked at *71; 0:00 102 took the call from *71")
    );
}

#[test]
fn a_call_parked_too_long_rings_whoever_parked_it() {
    let (mut h, ok, b_invite) = desk_talks_to_anna();
    parked(&mut h, (ok, b_invite));
    h.advance(Duration::from_secs(121));
    desk_takes_anna_again(&mut h);
}

#[test]
fn dialling_the_park_code_itself_explains_how_to_park() {
    let mut h = Harness::new(&[DESK]);
    h.call("*70", &sdp(4000, "0"));
    h.expect(
        CALLER,
        "SIP/2.0 403 Transfer a call to the park code to park it",
    );
}

/// A transfer to a slot's own number parks the call in that slot, when it is free.
#[test]
fn a_transfer_to_a_free_slot_parks_the_call_there() {
    let (mut h, _, b_invite) = desk_talks_to_anna();
    let sent = desk_refers(&mut h, &b_invite, "*73", 2);
    let told = notifies(&mut h, DESK, sent);
    assert!(
        told.iter().any(|(_, frag)| frag.contains("200")),
        "{told:?}"
    );
    let live = h.pbx.live_calls();
    assert_eq!(
        (live[0].stage, live[0].parked_at.as_deref()),
        (CallStage::Parked, Some("*73"))
    );

    // Anna calls the desk again; a transfer to *73 now finds the slot taken. (A new
    // CSeq: the REFER's branch, made from it, must differ from the first REFER's.)
    h.another_call("101", &sdp(4100, "0"), "call-2");
    let b_invite = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060 SIP/2.0");
    h.send(
        DESK,
        &respond(&b_invite, 200, "OK", "desk1", &sdp(6100, "0")),
    );
    h.expect(DESK, "ACK sip:101@192.0.2.20:5060");
    let refer = desk_refers(&mut h, &b_invite, "*73", 3);
    let told = notifies(&mut h, DESK, refer);
    assert!(
        told.iter().any(|(_, frag)| frag.contains("486")),
        "taken: {told:?}"
    );
    let parked: Vec<_> = h
        .pbx
        .live_calls()
        .into_iter()
        .filter_map(|c| c.parked_at)
        .collect();
    assert_eq!(parked, ["*73"]);
}
