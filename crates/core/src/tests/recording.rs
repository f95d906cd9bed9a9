//! Call recording as the engine decides it: the office's rules at the answer, the
//! record code (`*1`) on demand, and the file named in the call's record.

use std::collections::HashMap;

use super::calls_out::PROVIDER;
use super::key_transfer::desk_types;
use super::*;
use crate::{RecordPolicy, RecordingRules};
use switchboard_media::relay::Side;

/// Anna (100) calls the desk (101), which answers, under `rules`.
fn anna_talks_to_the_desk(rules: RecordingRules) -> (Harness, String) {
    let mut h = Harness::new(&[DESK]);
    h.pbx.set_recording(rules, "*1".into());
    let (ok, b_invite) = answered_call(&mut h, &sdp(4000, "0"), &sdp(6000, "0"));
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    (h, b_invite)
}

/// The recording commands so far: the file and whether it records.
fn recording(h: &Harness) -> Vec<(String, bool)> {
    h.media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::RecordCall { file, on, .. } => Some((file.clone(), *on)),
            _ => None,
        })
        .collect()
}

fn whispered_to_desk(h: &Harness) -> Vec<Word> {
    h.media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Whisper {
                to: Side::B, words, ..
            } => Some(words.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn desk_hangs_up(h: &mut Harness, b_invite: &str) -> CallRecord {
    h.send(DESK, &from_desk(b_invite, "BYE", 1));
    h.expect(DESK, "SIP/2.0 200 OK");
    h.records[0].clone()
}

#[test]
fn an_internal_call_is_recorded_only_once_the_desk_types_the_code_and_pauses_at_the_next() {
    let (mut h, b_invite) = anna_talks_to_the_desk(RecordingRules::default());
    assert!(recording(&h).is_empty(), "on demand: not at the answer");
    desk_types(&mut h, "*1");
    let started = recording(&h);
    assert_eq!(started.len(), 1);
    assert!(started[0].1);
    assert!(started[0].0.ends_with(".opus"), "{started:?}");
    desk_types(&mut h, "*1");
    assert_eq!(recording(&h)[1], (started[0].0.clone(), false));
    assert_eq!(
        whispered_to_desk(&h),
        [Word::RecordingOn, Word::RecordingPaused]
    );
    let record = desk_hangs_up(&mut h, &b_invite);
    assert_eq!(record.recording, Some(started[0].0.clone()));
}

#[test]
fn an_extension_that_is_always_recorded_is_from_the_answer() {
    let rules = RecordingRules {
        extensions: HashMap::from([("101".into(), RecordPolicy::Always)]),
        ..RecordingRules::default()
    };
    let (mut h, b_invite) = anna_talks_to_the_desk(rules);
    let started = recording(&h);
    assert_eq!(started.len(), 1, "{started:?}");
    assert!(started[0].1);
    let record = desk_hangs_up(&mut h, &b_invite);
    assert_eq!(record.recording, Some(started[0].0.clone()));
}

#[test]
fn a_call_that_must_not_be_recorded_refuses_the_code() {
    let rules = RecordingRules {
        internal: RecordPolicy::Always,
        extensions: HashMap::from([("100".into(), RecordPolicy::Never)]),
        ..RecordingRules::default()
    };
    let (mut h, b_invite) = anna_talks_to_the_desk(rules);
    desk_types(&mut h, "*1");
    assert!(recording(&h).is_empty());
    assert_eq!(whispered_to_desk(&h), [Word::RecordingRefused]);
    assert_eq!(desk_hangs_up(&mut h, &b_invite).recording, None);
}

#[test]
fn the_customer_of_a_recorded_call_out_is_told_so_and_the_desk_is_not() {
    let mut h = super::calls_out::office(&["Provider"]);
    let rules = RecordingRules {
        outbound: RecordPolicy::Always,
        announce: true,
        ..RecordingRules::default()
    };
    h.pbx.set_recording(rules, "*1".into());
    h.call("0601000000", &sdp(4000, "0 101"));
    let invite = h.expect(PROVIDER, "INVITE sip:+48601000000@voip.example");
    h.send(
        PROVIDER,
        &respond(&invite, 200, "OK", "p1", &sdp(9000, "0 101")),
    );
    h.expect(CALLER, "SIP/2.0 200");
    assert_eq!(recording(&h).len(), 1);
    let said: Vec<(Side, Vec<Word>)> = h
        .media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Say { to, words, .. } => Some((*to, words.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(said, [(Side::B, vec![Word::CallRecorded])]);
}
