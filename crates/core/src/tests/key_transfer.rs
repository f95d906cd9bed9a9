//! Transfer by keys: the desk (101), talking to Anna (100), types `##`, hears the
//! transfer prompt, then 102 and `#`; Anna is put through to 102 as by a blind
//! transfer. Keys that do not make the code change nothing, `*` gives up, and a
//! number that cannot take the call is said to be so.

use super::transfers::{OTHER, desk_talks_to_anna};
use super::*;
use switchboard_media::dtmf::Dtmf;
use switchboard_media::relay::Side;

/// The desk's phone types `keys`, each relayed to Anna as a telephone event.
pub(super) fn desk_types(h: &mut Harness, keys: &str) {
    for key in keys.chars() {
        let dtmf = Dtmf {
            key,
            duration_ms: 100,
        };
        h.pbx.handle_key_passed(h.clock(), 1, Side::B, dtmf);
        h.collect();
        h.advance(Duration::from_millis(300));
    }
}

pub(super) fn said_to_desk(h: &Harness) -> Vec<Vec<Word>> {
    h.media
        .iter()
        .filter_map(|m| match m {
            MediaCommand::Say {
                to: Side::B, words, ..
            } => Some(words.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn hash_hash_then_a_number_puts_the_caller_through_and_lets_the_desk_go() {
    let (mut h, _, _) = desk_talks_to_anna();
    desk_types(&mut h, "##");
    assert_eq!(said_to_desk(&h), [vec![Word::TransferTo]]);
    desk_types(&mut h, "102#");
    h.expect(OTHER, "INVITE sip:102@");
    assert!(
        h.take(DESK).iter().any(|m| m.starts_with("BYE ")),
        "the desk is let go"
    );
    let record = |h: &Harness| h.records.iter().find(|r| r.caller == "100").cloned();
    assert!(record(&h).is_none(), "the call goes on");
    assert_eq!(live_stages(&h), [(CallStage::Ringing, None)]);
}

#[test]
fn a_number_not_ended_by_hash_is_complete_once_the_keys_stop() {
    let (mut h, _, _) = desk_talks_to_anna();
    desk_types(&mut h, "##102");
    assert!(h.take(OTHER).is_empty());
    h.advance(Duration::from_secs(5));
    h.expect(OTHER, "INVITE sip:102@");
}

#[test]
fn keys_that_do_not_make_the_code_and_a_code_given_up_change_nothing() {
    let (mut h, _, _) = desk_talks_to_anna();
    desk_types(&mut h, "#1#5");
    desk_types(&mut h, "#");
    h.advance(Duration::from_secs(3));
    desk_types(&mut h, "#");
    assert!(
        said_to_desk(&h).is_empty(),
        "keys too far apart make no code"
    );
    desk_types(&mut h, "##*");
    h.advance(Duration::from_secs(10));
    assert!(h.take(OTHER).is_empty());
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
}

#[test]
fn a_number_that_cannot_take_the_call_is_said_so_and_the_call_goes_on() {
    let (mut h, _, _) = desk_talks_to_anna();
    desk_types(&mut h, "##555#");
    assert_eq!(
        said_to_desk(&h),
        [vec![Word::TransferTo], vec![Word::TransferRefused]]
    );
    assert_eq!(live_stages(&h), [(CallStage::Talking, Some("101".into()))]);
    // The desk may try again.
    desk_types(&mut h, "##102#");
    h.expect(OTHER, "INVITE sip:102@");
}
