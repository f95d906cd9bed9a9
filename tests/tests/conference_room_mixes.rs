//! Three baresip phones, each with its own codec (PCMU, G.722, Opus), dial conference
//! room 800 and take turns to speak: each must hear the other two, and not itself.
//! Turns keep the voices apart so that each can be scored on its own.

use std::time::Duration;

use switchboard_e2e::audio::{self, heard_within};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::*;

const ROOM: &str = "[[conferences]]\nnumber = \"800\"\nname = \"Team\"\n";
const TURN: f32 = 4.0;

#[test]
fn three_phones_in_different_codecs_each_hear_the_other_two_and_not_themselves() {
    let server = Server::start(&format!("{}{ROOM}", config("", FAST_REGISTRAR)));
    let dir = tempfile::tempdir().expect("tempdir");
    // The first one in is told they are alone (about five seconds) before joining.
    let members = [
        ("100", "PCMU", "en", 7.0),
        ("101", "G722/16000/1", "ru", 12.0),
        ("102", "opus/48000/2", "pl", 17.0),
    ];
    let mut phones = Vec::new();
    let mut speech = Vec::new();
    for (extension, codecs, language, after) in members {
        let (said, spoken) = audio::turn(dir.path(), language, TURN, after);
        let microphone = audio::microphone(&spoken, codecs);
        speech.push(said);
        phones.push(Baresip::start(
            server.sip,
            PhoneSetup {
                extension,
                source: &microphone,
                codecs,
                auto_answer: false,
            },
        ));
    }
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 3);
    for phone in &mut phones {
        phone.command("dial", &format!("sip:800@{}", server.sip));
        phone.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    }
    assert_eq!(server.metric("active_calls"), 3);
    std::thread::sleep(Duration::from_secs_f32(17.0 + TURN + 2.0));
    for phone in &mut phones {
        phone.command("hangup", "");
        phone.wait_event("CALL_CLOSED", Duration::from_secs(10));
    }
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);

    for (i, phone) in phones.iter().enumerate() {
        let at_phone = audio::read_at_call_rate(&phone.heard());
        let who = |j: usize| format!("{} ({})", members[j].0, members[j].1);
        for j in (0..members.len()).filter(|&j| j != i) {
            let what = format!("{} hears {}", who(i), who(j));
            audio::assert_heard(&what, heard_within(&speech[j], &at_phone));
        }
        let what = format!("{} hears itself", who(i));
        audio::assert_not_heard(&what, heard_within(&speech[i], &at_phone));
    }
    let records = server.call_records();
    assert_eq!(records.len(), 3);
    for record in records {
        assert_eq!(record.callee, "800");
        assert_eq!(record.outcome.as_str(), "answered");
        let history = record.history.unwrap_or_default();
        assert!(history.contains("joined conference 800"), "{history}");
    }
}
