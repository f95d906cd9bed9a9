//! A three-way call typed on a phone's keys: the desk, 101 (pjsua2, sending keys by SIP
//! INFO), calls a customer, 100 (baresip), types `*2`, 102 and `#`, then `*3` once 102
//! (baresip) answers: all three talk, each hearing the other two and not themself;
//! when the desk leaves, the other two go on until one hangs up. Turns keep the voices
//! apart so that each can be scored on its own. (Alone in its file, as the conference
//! room's test is: three phones mixing audio want the machine to themselves.)

use std::time::Duration;

use switchboard_e2e::audio::{self, heard_within};
use switchboard_e2e::baresip::{Baresip, PhoneSetup, hang_up_and_listen};
use switchboard_e2e::*;

#[test]
fn star_3_makes_a_three_way_call_where_each_hears_the_other_two_and_not_themself() {
    // As long as the conference room test's turns: a few one-second windows each.
    const TURN: f32 = 4.0;
    let server = Server::start(&config("", FAST_REGISTRAR));
    let dir = tempfile::tempdir().unwrap();
    // The customer answers at once; 102 as soon as the keys are typed, about three
    // and a half seconds later. `*3` comes at about seven seconds, and each speaks in
    // turn well after that: the customer from 10 s, 102 from about 18.5 s, the desk
    // from 24 s.
    let (en, customer_microphone) = audio::turn(dir.path(), "en", TURN, 10.0);
    let (ru, colleague_microphone) = audio::turn(dir.path(), "ru", TURN, 15.0);
    let (pl, desk_microphone) = audio::turn(dir.path(), "pl", TURN, 24.0);
    let mut customer = Baresip::start(
        server.sip,
        PhoneSetup::pcmu("100", &customer_microphone, true),
    );
    let mut colleague = Baresip::start(
        server.sip,
        PhoneSetup::pcmu("102", &colleague_microphone, true),
    );
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    let desk_heard = dir.path().join("desk.wav");
    pjsua2_listener(
        &server,
        "101",
        "100",
        "*2102#,,,*3",
        23,
        &desk_heard,
        Some(&desk_microphone),
    );
    // The desk left; the customer and 102 are still in the call until one hangs up.
    let heard_by = hang_up_and_listen(&server, &mut customer, &mut [&mut colleague]);
    let at_desk = audio::read_at_call_rate(&desk_heard);
    audio::assert_heard("the desk, the customer", heard_within(&en, &at_desk));
    audio::assert_heard("the desk, 102", heard_within(&ru, &at_desk));
    let [at_customer, at_colleague] = &heard_by[..] else {
        panic!("two phones");
    };
    audio::assert_heard("the customer, 102", heard_within(&ru, at_customer));
    audio::assert_heard("the customer, the desk", heard_within(&pl, at_customer));
    audio::assert_not_heard("the customer, itself", heard_within(&en, at_customer));
    audio::assert_heard("102, the customer", heard_within(&en, at_colleague));
    audio::assert_heard("102, the desk", heard_within(&pl, at_colleague));
    audio::assert_not_heard("102, itself", heard_within(&ru, at_colleague));

    let records = server.call_records();
    let call = records
        .iter()
        .find(|r| r.caller == "101" && r.callee == "100");
    let history = call.and_then(|c| c.history.clone()).unwrap_or_default();
    for part in [
        "101 made a three-way call with 102",
        "101 left the three-way call",
    ] {
        assert!(history.contains(part), "{records:#?}");
    }
}
