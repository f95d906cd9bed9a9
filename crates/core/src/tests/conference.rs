//! Conference rooms: office phones dial 800 and talk together; the first one in hears
//! that they are alone, a full room says so and hangs up, a room with a PIN asks for
//! it, and a caller transferred in by a desk phone is let in without it.

use super::scenarios::press;
use super::transfers::{OTHER, desk_refers, desk_talks_to_anna, notifies};
use super::*;
use crate::ConferenceRoom;
use switchboard_media::relay::Side;

fn room(pin: Option<&str>, max_members: usize) -> ConferenceRoom {
    ConferenceRoom {
        number: "800".into(),
        name: "Team".into(),
        pin: pin.map(str::to_string),
        max_members,
    }
}

/// 100's phone makes its `n`th call to 800 (call key `n`); returns the 200 it got.
fn dials_800(h: &mut Harness, n: u16) -> String {
    h.another_call("800", &sdp(4000 + 2 * n, "0 101"), &format!("conf-{n}"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    ok
}

fn last_sounds(h: &Harness, call: CallKey) -> Vec<Sound> {
    h.media
        .iter()
        .rev()
        .find_map(|m| match m {
            MediaCommand::Prompt {
                call: c, sounds, ..
            } if *c == call => Some(sounds.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn named(names: &[&str]) -> Vec<Sound> {
    names.iter().map(|n| Sound::Named(n.to_string())).collect()
}

fn played(h: &mut Harness, call: CallKey) {
    h.pbx.handle_announcement_done(h.clock(), call);
    h.collect();
}

/// The rooms each call was put in and taken out of, in order.
fn room_moves(h: &Harness) -> Vec<(CallKey, &'static str)> {
    h.media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Conference { call, room, .. } if room == "800" => Some((*call, "in")),
            MediaCommand::LeaveConference { call, room } if room == "800" => Some((*call, "out")),
            _ => None,
        })
        .collect()
}

#[test]
fn the_first_in_hears_they_are_alone_the_others_join_and_a_full_room_says_so() {
    let mut h = Harness::new(&[]);
    h.pbx.set_conferences(vec![room(None, 2)]);
    let first = dials_800(&mut h, 1);
    assert_eq!(last_sounds(&h, 1), named(&["conf_alone"]));
    assert!(room_moves(&h).is_empty(), "joins once told");
    // The second one in, while the first is still told, is not the first.
    dials_800(&mut h, 2);
    assert_eq!(room_moves(&h), [(2, "in")], "no 'alone' for the second");
    played(&mut h, 1);
    let Some(MediaCommand::Conference { media, .. }) = h.media.last() else {
        panic!("{:?}", h.media);
    };
    assert_eq!(media.remote, phone_audio(4002), "the caller's own media");
    assert_eq!(room_moves(&h), [(2, "in"), (1, "in")]);
    assert_eq!(
        live_stages(&h),
        [(CallStage::Conference, None), (CallStage::Conference, None)]
    );

    dials_800(&mut h, 3);
    assert_eq!(last_sounds(&h, 3), named(&["conf_full", "goodbye"]));
    played(&mut h, 3);
    h.expect(CALLER, "BYE ");
    let full = h.records.last().unwrap();
    assert_eq!(full.reason, "Conference 800 is full");

    h.send(CALLER, &from_caller(&first, "BYE", 3));
    assert_eq!(room_moves(&h), [(2, "in"), (1, "in"), (1, "out")]);
    let left = h.records.last().unwrap();
    assert_eq!(left.history.as_deref(), Some("0:00 joined conference 800"));
}

#[test]
fn a_room_with_a_pin_lets_in_the_right_one_and_hangs_up_after_three_wrong() {
    let mut h = Harness::new(&[]);
    h.pbx.set_conferences(vec![room(Some("2468"), 10)]);
    dials_800(&mut h, 1);
    assert_eq!(last_sounds(&h, 1), named(&["conf_enter_pin"]));
    for key in "2468#".chars() {
        press(&mut h, key);
    }
    assert_eq!(last_sounds(&h, 1), named(&["conf_alone"]));
    played(&mut h, 1);
    assert_eq!(room_moves(&h), [(1, "in")]);

    dials_800(&mut h, 2);
    let press2 = |h: &mut Harness, key: char| {
        let dtmf = switchboard_media::dtmf::Dtmf {
            key,
            duration_ms: 100,
        };
        h.pbx.handle_dtmf(h.clock(), 2, Side::A, dtmf);
        h.collect();
    };
    for key in "1#2#".chars() {
        press2(&mut h, key);
    }
    assert_eq!(
        last_sounds(&h, 2),
        named(&["vm_wrong_pin", "conf_enter_pin"])
    );
    played(&mut h, 2);
    // The third try never ends with '#': it counts as wrong once the wait is over.
    press2(&mut h, '3');
    h.advance(Duration::from_secs(21));
    assert_eq!(last_sounds(&h, 2), named(&["vm_wrong_pin", "goodbye"]));
    played(&mut h, 2);
    h.expect(CALLER, "BYE ");
    assert_eq!(
        h.records.last().unwrap().reason,
        "Conference 800: wrong PIN 3 times"
    );
    assert_eq!(room_moves(&h), [(1, "in")]);
}

#[test]
fn a_desk_transfers_its_caller_into_a_room_without_the_pin() {
    let (mut h, _ok, b_invite) = desk_talks_to_anna();
    h.pbx.set_conferences(vec![room(Some("2468"), 1)]);
    let sent = desk_refers(&mut h, &b_invite, "800", 2);
    assert_eq!(notifies(&mut h, DESK, sent).len(), 3, "told, then let go");
    assert_eq!(last_sounds(&h, 1), named(&["conf_alone"]), "no PIN asked");
    played(&mut h, 1);
    assert_eq!(room_moves(&h), [(1, "in")]);
    assert_eq!(live_stages(&h), [(CallStage::Conference, None)]);
}

#[test]
fn a_transfer_into_a_full_room_is_refused_and_the_call_stays() {
    let (mut h, _ok, b_invite) = desk_talks_to_anna();
    h.pbx.set_conferences(vec![room(None, 1)]);
    phone_calls(&mut h, (OTHER, "102"), "800", "conf-102", &sdp(7000, "0"));
    assert!(h.take(OTHER).iter().any(|m| m.starts_with("SIP/2.0 200")));
    played(&mut h, 2);
    assert_eq!(room_moves(&h), [(2, "in")]);
    let refer = from_desk(&b_invite, "REFER", 2).replace(
        "Content-Length: 0",
        "Refer-To: <sip:800@192.0.2.1>\r\nContent-Length: 0",
    );
    h.send(DESK, &refer);
    let sent = h.take(DESK);
    let told = notifies(&mut h, DESK, sent);
    assert!(
        told.iter().any(|(_, frag)| frag.contains("486")),
        "{told:?}"
    );
    assert_eq!(room_moves(&h), [(2, "in")]);
    assert!(live_stages(&h).contains(&(CallStage::Talking, Some("101".into()))));
}
