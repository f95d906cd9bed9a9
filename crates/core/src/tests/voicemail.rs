//! Voicemail: the greeting, the message recorded and kept (or not), the caller's `#`,
//! and the message waiting indication a subscribed phone is sent.

use super::scenarios::{dial_reception, last_prompt, press, prompt_played, reception};
use super::*;

fn notify_body(h: &mut Harness) -> String {
    let notify = h.expect(DESK, "NOTIFY sip:101@192.0.2.20:5060");
    assert_eq!(header(&notify, "Event"), "message-summary");
    assert_eq!(
        header(&notify, "Content-Type"),
        "application/simple-message-summary"
    );
    body(&notify).to_string()
}

fn last_media(h: &Harness) -> &MediaCommand {
    h.media.last().unwrap()
}

/// The caller presses 4 in the reception menu and hears 101's greeting and the beep.
fn greeting_plays(h: &mut Harness) {
    dial_reception(h);
    press(h, '4');
    let greeting = vec![
        Sound::Greeting {
            mailbox: "101".into(),
        },
        Sound::Beep,
    ];
    assert!(
        matches!(last_media(h), MediaCommand::Prompt { sounds, .. } if *sounds == greeting),
        "{:?}",
        h.media
    );
}

/// The id of the message being recorded for `mailbox`.
fn recording_for(h: &Harness, mailbox: &str) -> i64 {
    match last_media(h) {
        MediaCommand::Record {
            into: RecordInto::Message { mailbox: m, id },
            limits,
            ..
        } if m == mailbox => {
            assert_eq!(*limits, RecordLimits::default());
            *id
        }
        other => panic!("not recording for {mailbox}: {other:?}"),
    }
}

fn recording_starts(h: &mut Harness) -> i64 {
    recording_for(h, "101")
}

#[test]
fn a_message_left_after_the_greeting_is_kept_and_lights_the_phone() {
    let mut h = reception(&[]);
    let ok = subscribe(&mut h, "101", "message-summary", 600);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert_eq!(header(&ok, "Expires"), "600");
    assert!(notify_body(&mut h).starts_with("Messages-Waiting: no\r\n"));

    greeting_plays(&mut h);
    prompt_played(&mut h);
    let id = recording_starts(&mut h);
    h.pbx
        .handle_recorded(h.clock(), 1, id, Some(Duration::from_millis(4200)));
    h.collect();
    let left = match &h.voicemail[..] {
        [VoicemailChange::Left(m)] => m.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (left.mailbox.as_str(), left.caller.as_str(), left.heard),
        ("101", "100", false)
    );
    assert_eq!(left.duration, Duration::from_millis(4200));
    assert_eq!(
        notify_body(&mut h),
        "Messages-Waiting: yes\r\nMessage-Account: sip:101@switchboard\r\nVoice-Message: 1/0 (0/0)\r\n"
    );
    assert_eq!(last_prompt(&h), Some("vm_saved"));
    prompt_played(&mut h);
    assert!(
        h.take(CALLER).iter().all(|m| !m.starts_with("BYE")),
        "the phone plays out the last prompt before the BYE"
    );
    h.advance(Duration::from_millis(1000));
    assert!(h.take(CALLER).iter().all(|m| !m.starts_with("BYE")));
    h.advance(Duration::from_millis(500));
    h.expect(CALLER, "BYE");
    // Meanwhile the NOTIFYs the desk left unanswered were sent again.
    h.take(DESK);
    let r = &h.records[0];
    assert_eq!(r.reason, "Voicemail left in box 101");
    assert_eq!(r.scenario_path.as_deref(), Some("hours → menu → box"));

    // Heard, then deleted: the lamp goes out and the box is empty.
    assert_eq!(h.pbx.voicemail_counts("101").new, 1);
    assert!(h.pbx.mark_heard(h.clock(), "101", id, true));
    h.collect();
    assert!(notify_body(&mut h).contains("Voice-Message: 0/1 (0/0)"));
    assert!(h.pbx.delete_message(h.clock(), "101", id));
    assert!(!h.pbx.delete_message(h.clock(), "101", id));
    assert!(!h.pbx.mark_heard(h.clock(), "102", id, true));
    h.collect();
    assert!(notify_body(&mut h).contains("Voice-Message: 0/0 (0/0)"));
    assert!(h.pbx.voicemail_messages("101").is_empty());
}

#[test]
fn hash_skips_the_greeting_and_ends_the_message() {
    let mut h = reception(&[]);
    greeting_plays(&mut h);
    press(&mut h, '#');
    let id = recording_starts(&mut h);
    press(&mut h, '5');
    press(&mut h, '#');
    assert_eq!(*last_media(&h), MediaCommand::StopRecording { call: 1 });
    // Nobody spoke: nothing is kept, the caller hears goodbye.
    h.pbx.handle_recorded(h.clock(), 1, id, None);
    h.collect();
    assert!(h.voicemail.is_empty());
    assert_eq!(last_prompt(&h), Some("goodbye"));
    prompt_played(&mut h);
    assert!(
        h.take(CALLER).iter().all(|m| !m.starts_with("BYE")),
        "the phone plays out the last prompt before the BYE"
    );
    h.advance(Duration::from_millis(1000));
    assert!(h.take(CALLER).iter().all(|m| !m.starts_with("BYE")));
    h.advance(Duration::from_millis(500));
    h.expect(CALLER, "BYE");
    assert_eq!(
        h.records[0].reason,
        "Voicemail box 101: the caller left no message"
    );
}

#[test]
fn a_caller_hanging_up_while_recording_still_leaves_the_message() {
    let mut h = reception(&[]);
    let ok = greeting_then_record(&mut h);
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(CALLER, "SIP/2.0 200");
    assert_eq!(h.records[0].hangup_by, HangupBy::Caller);
    assert!(h.media.contains(&MediaCommand::Close { call: 1 }));
    h.pbx
        .handle_recorded(h.clock(), 1, 1, Some(Duration::from_secs(9)));
    h.collect();
    assert!(matches!(&h.voicemail[..], [VoicemailChange::Left(m)] if m.id == 1));
    // Ids go on after the messages already kept (a restart loads them).
    let kept = h.pbx.voicemail_messages("101")[0].clone();
    let mut restarted = reception(&[]);
    restarted
        .pbx
        .set_voicemail(vec![kept], RecordLimits::default());
    greeting_then_record(&mut restarted);
    assert_eq!(recording_starts(&mut restarted), 2);
}

/// Dials reception, presses 4 and lets the greeting play; returns the caller's 200.
fn greeting_then_record(h: &mut Harness) -> String {
    let ok = {
        h.call("800", &sdp(4000, "0 101"));
        let ok = h.expect(CALLER, "SIP/2.0 200");
        h.send(CALLER, &from_caller(&ok, "ACK", 2));
        ok
    };
    press(h, '4');
    prompt_played(h);
    recording_starts(h);
    ok
}

#[test]
fn an_empty_queue_sends_the_caller_to_the_box() {
    let mut h = reception(&[]);
    dial_reception(&mut h);
    press(&mut h, '3');
    let greeting = Sound::Greeting {
        mailbox: "101".into(),
    };
    assert!(matches!(last_media(&h), MediaCommand::Prompt { sounds, .. } if sounds[0] == greeting));
}

#[test]
fn subscriptions_are_for_the_own_box_and_message_summary_only() {
    let mut h = reception(&[]);
    let other = subscribe(&mut h, "102", "message-summary", 600);
    assert!(other.starts_with("SIP/2.0 403"), "{other}");
    let presence = {
        let request = format!(
            "SUBSCRIBE sip:101@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {DESK};branch=z9hG4bKp1\r\n\
             From: <sip:101@192.0.2.1>;tag=d\r\nTo: <sip:101@192.0.2.1>\r\nCall-ID: p\r\n\
             CSeq: 1 SUBSCRIBE\r\nContact: <sip:101@{DESK}>\r\nEvent: presence\r\nContent-Length: 0\r\n\r\n"
        );
        h.send(DESK, &request);
        h.expect(DESK, "SIP/2.0 489 Bad Event")
    };
    assert_eq!(header(&presence, "Allow-Events"), "message-summary, dialog");
    let brief = subscribe(&mut h, "101", "message-summary", 10);
    assert!(brief.starts_with("SIP/2.0 423"), "{brief}");
    assert_eq!(header(&brief, "Min-Expires"), "60");
    // Expires 0 ends it: one last NOTIFY says so, and changes send nothing more.
    let gone = subscribe(&mut h, "101", "message-summary", 0);
    assert!(gone.starts_with("SIP/2.0 200"), "{gone}");
    let notify = h.expect(DESK, "NOTIFY");
    assert_eq!(
        header(&notify, "Subscription-State"),
        "terminated;reason=timeout"
    );
    greeting_then_record(&mut h);
    h.pbx
        .handle_recorded(h.clock(), 1, 1, Some(Duration::from_secs(3)));
    h.collect();
    assert_eq!(h.voicemail.len(), 1);
    assert!(h.take(DESK).is_empty());
}

#[test]
fn a_subscription_not_refreshed_lapses() {
    let mut h = reception(&[]);
    subscribe(&mut h, "101", "message-summary", 60);
    notify_body(&mut h);
    h.advance(Duration::from_secs(61));
    h.take(DESK);
    greeting_then_record(&mut h);
    h.pbx
        .handle_recorded(h.clock(), 1, 1, Some(Duration::from_secs(3)));
    h.collect();
    assert!(
        h.take(DESK).iter().all(|m| !m.starts_with("NOTIFY")),
        "a lapsed subscription is not notified"
    );
}

/// The sounds of the last prompt played to the caller.
fn last_sounds(h: &Harness) -> Vec<Sound> {
    h.media
        .iter()
        .rev()
        .find_map(|m| match m {
            MediaCommand::Prompt { sounds, .. } => Some(sounds.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn named(names: &[&str]) -> Vec<Sound> {
    names.iter().map(|n| Sound::Named(n.to_string())).collect()
}

fn message(id: i64, heard: bool) -> VoicemailMessage {
    VoicemailMessage {
        id,
        mailbox: "100".into(),
        caller: "+48221234567".into(),
        received: SystemTime::UNIX_EPOCH,
        duration: Duration::from_secs(5),
        heard,
    }
}

/// 100 dials `number`; its box holds a heard message (1) and a new one (2), and has
/// the PIN 4821.
fn menu_call(number: &str) -> Harness {
    let mut h = reception(&[]);
    h.pbx.set_voicemail(
        vec![message(1, true), message(2, false)],
        RecordLimits::default(),
    );
    h.pbx
        .set_voicemail_pins(vec![("100".into(), pin_hash("100", "4821", b"salt"))]);
    h.call(number, &sdp(4000, "0 101"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    h
}

fn type_keys(h: &mut Harness, keys: &str) {
    for key in keys.chars() {
        press(h, key);
    }
}

#[test]
fn star_97_asks_the_pin_then_plays_new_messages_first_and_7_deletes() {
    let mut h = menu_call("*97");
    assert_eq!(last_sounds(&h), named(&["vm_enter_pin"]));
    type_keys(&mut h, "1111#");
    assert_eq!(last_sounds(&h), named(&["vm_wrong_pin", "vm_enter_pin"]));
    type_keys(&mut h, "4821#");
    let count = |n| Sound::Word(Word::Number(n));
    assert_eq!(
        last_sounds(&h),
        [
            named(&["vm_new_messages"]),
            vec![count(1)],
            named(&["vm_old_messages"]),
            vec![count(1)],
            named(&["vm_greeting_option"]),
        ]
        .concat()
    );
    prompt_played(&mut h);
    let playing = |id| {
        vec![
            Sound::Message {
                mailbox: "100".into(),
                id,
            },
            Sound::Named("vm_message_menu".into()),
        ]
    };
    assert_eq!(last_sounds(&h), playing(2), "the new message first");
    assert_eq!(h.voicemail, [VoicemailChange::Heard { id: 2, heard: true }]);
    press(&mut h, '1');
    assert_eq!(last_sounds(&h), playing(2), "1 plays it again");
    press(&mut h, '7');
    assert_eq!(last_sounds(&h), named(&["vm_deleted"]));
    prompt_played(&mut h);
    assert_eq!(last_sounds(&h), playing(1));
    // Nobody presses anything: on to the next, which is past the last.
    prompt_played(&mut h);
    h.advance(Duration::from_secs(10));
    assert_eq!(last_sounds(&h), named(&["vm_no_more_messages", "goodbye"]));
    prompt_played(&mut h);
    h.expect(CALLER, "BYE");
    assert_eq!(h.records[0].reason, "Voicemail box 100: messages heard");
    let ids: Vec<i64> = h
        .pbx
        .voicemail_messages("100")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, [1]);
}

#[test]
fn three_wrong_pins_end_the_call_and_a_pin_not_ended_by_hash_is_checked_after_a_wait() {
    let mut h = menu_call("*97");
    type_keys(&mut h, "0000#");
    prompt_played(&mut h);
    type_keys(&mut h, "48");
    h.advance(Duration::from_secs(10));
    assert_eq!(last_sounds(&h), named(&["vm_wrong_pin", "vm_enter_pin"]));
    type_keys(&mut h, "1234567890123");
    assert_eq!(last_sounds(&h), named(&["vm_wrong_pin", "goodbye"]));
    prompt_played(&mut h);
    h.expect(CALLER, "BYE");
    assert_eq!(h.records[0].reason, "Voicemail box 100: wrong PIN 3 times");
    assert!(h.voicemail.is_empty(), "nothing was marked heard");
}

#[test]
fn a_box_without_a_pin_opens_from_its_own_extension_only() {
    let mut h = menu_call("*97101");
    assert_eq!(last_sounds(&h), named(&["goodbye"]));
    prompt_played(&mut h);
    h.expect(CALLER, "BYE");
    assert_eq!(
        h.records[0].reason,
        "Voicemail box 101 has no PIN: it opens from its own extension only"
    );
    // 100 without a PIN opens its own box at once.
    let mut own = reception(&[]);
    own.call("*97", &sdp(4000, "0 101"));
    own.expect(CALLER, "SIP/2.0 200");
    assert_eq!(last_sounds(&own)[0], Sound::Named("vm_new_messages".into()));
}

#[test]
fn a_caller_who_dialled_the_queue_presses_0_to_leave_a_message_in_its_box() {
    let mut h = reception(&["101"]);
    h.call("600", &sdp(4000, "0 101"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    h.expect(DESK, "INVITE sip:101@");
    press(&mut h, '0');
    let greeting = Sound::Greeting {
        mailbox: "600".into(),
    };
    assert!(
        matches!(last_media(&h), MediaCommand::Prompt { sounds, .. } if sounds[0] == greeting),
        "{:?}",
        h.media
    );
    prompt_played(&mut h);
    let id = recording_for(&h, "600");
    h.pbx
        .handle_recorded(h.clock(), 1, id, Some(Duration::from_secs(4)));
    h.collect();
    assert_eq!(h.pbx.voicemail_counts("600").new, 1);
    prompt_played(&mut h);
    assert!(
        h.take(CALLER).iter().all(|m| !m.starts_with("BYE")),
        "the phone plays out the last prompt before the BYE"
    );
    h.advance(Duration::from_millis(1000));
    assert!(h.take(CALLER).iter().all(|m| !m.starts_with("BYE")));
    h.advance(Duration::from_millis(500));
    h.expect(CALLER, "BYE");
    assert_eq!(h.records[0].reason, "Voicemail left in box 600");
}

#[test]
fn a_phone_answering_481_to_a_notify_loses_its_subscription() {
    let mut h = reception(&[]);
    subscribe(&mut h, "101", "message-summary", 600);
    let notify = h.expect(DESK, "NOTIFY");
    h.send(
        DESK,
        &respond(&notify, 481, "Subscription Does Not Exist", "x", ""),
    );
    greeting_then_record(&mut h);
    h.pbx
        .handle_recorded(h.clock(), 1, 1, Some(Duration::from_secs(3)));
    h.collect();
    assert_eq!(h.pbx.voicemail_counts("101").new, 1);
    assert!(h.take(DESK).is_empty(), "no NOTIFY after the 481");
    // A phone that answers 200 keeps it.
    let mut kept = reception(&[]);
    subscribe(&mut kept, "101", "message-summary", 600);
    let notify = kept.expect(DESK, "NOTIFY");
    kept.send(DESK, &respond(&notify, 200, "OK", "x", ""));
    greeting_then_record(&mut kept);
    kept.pbx
        .handle_recorded(kept.clock(), 1, 1, Some(Duration::from_secs(3)));
    kept.collect();
    assert!(notify_body(&mut kept).contains("Voice-Message: 1/0"));
}

#[test]
fn five_records_the_greeting_and_the_menu_goes_on() {
    let mut h = menu_call("*97");
    type_keys(&mut h, "4821#");
    press(&mut h, '5');
    assert_eq!(
        last_sounds(&h),
        [named(&["vm_record_greeting"]), vec![Sound::Beep]].concat()
    );
    prompt_played(&mut h);
    let greeting = RecordInto::Greeting {
        mailbox: "100".into(),
    };
    assert!(
        matches!(last_media(&h), MediaCommand::Record { into, limits, .. }
            if *into == greeting && limits.max == Duration::from_secs(60)),
        "{:?}",
        h.media
    );
    press(&mut h, '#');
    assert_eq!(*last_media(&h), MediaCommand::StopRecording { call: 1 });
    h.pbx.handle_greeting_recorded(h.clock(), 1, true);
    h.collect();
    assert_eq!(last_sounds(&h), named(&["vm_greeting_saved"]));
    prompt_played(&mut h);
    assert!(
        matches!(&last_sounds(&h)[0], Sound::Message { id: 2, .. }),
        "back to the messages: {:?}",
        last_sounds(&h)
    );
    assert!(
        h.voicemail
            .iter()
            .all(|c| !matches!(c, VoicemailChange::Left(_)))
    );
}
