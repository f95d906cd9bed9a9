//! Calls to an inbound number follow its scenario: prompts, keys by RFC 4733 and INFO,
//! phones rung, queues, and the path in the call record.

use switchboard_media::dtmf::Dtmf;
use switchboard_media::relay::Side;
use switchboard_queue::{AgentConfig, Membership, QueueConfig, Strategy};
use switchboard_scenario::schedule::{Schedule, ScheduleSettings};

use super::*;

/// 800 is the office's public number. In opening hours (Thursday 00:00–01:00 UTC, and
/// the harness starts at the Unix epoch, a Thursday midnight) the caller hears the
/// welcome menu: 1 rings 101 then 102, 2 rings 102, 3 waits in queue 600 (0 leaves
/// it), 4 leaves a message; no key goes to the queue too.
pub(super) const RECEPTION: &str = r#"
name = "Reception"
start = "hours"

[blocks.hours]
type = "schedule"
schedule = "Office"
exits = { open = "menu", closed = "closed", holiday = "closed" }

[blocks.closed]
type = "play-audio"
prompt = "closed"
exits = { next = "bye" }

[blocks.menu]
type = "menu"
prompt = "welcome"
keys = "1234"
timeout = 5
exits = { 1 = "sales", 2 = "mobile", 3 = "queue", 4 = "box", timeout = "queue", invalid = "bye" }

[blocks.sales]
type = "ring-group"
mode = "in-order"
members = [{ extension = "101", ring = 10 }, { extension = "102", ring = 10 }]
exits = { no-answer = "bye" }

[blocks.mobile]
type = "call-employee"
extension = "102"
exits = { no-answer = "bye" }

[blocks.queue]
type = "queue"
queue = "600"
exits = { timeout = "bye", empty = "box", full = "bye", key = "goodbye" }

[blocks.goodbye]
type = "play-audio"
prompt = "goodbye"
exits = { next = "bye" }

[blocks.box]
type = "voicemail"
mailbox = "101"

[blocks.bye]
type = "hang-up"
"#;

fn office_hours() -> Schedule {
    let settings: ScheduleSettings = toml::from_str(
        r#"
        name = "Office"
        time_zone = "UTC"
        hours = [{ days = ["thu"], from = "00:00", to = "01:00" }]
        "#,
    )
    .unwrap();
    Schedule::from_settings(&settings, "schedules[0]").unwrap()
}

pub(super) fn setup(text: &str) -> ScenarioSetup {
    ScenarioSetup {
        scenarios: vec![toml::from_str(text).unwrap()],
        inbound: vec![("800".into(), "Reception".into())],
        schedules: vec![("Office".into(), office_hours())],
        contacts: Vec::new(),
    }
}

/// 101 on the desk phone, 102 on the mobile; queue 600 has `agents` and turns callers
/// away while none is logged in.
pub(super) fn reception(agents: &[&str]) -> Harness {
    reception_in(Harness::new(&[DESK]), agents)
}

/// [`reception`] on the harness `h`, whose desk phone is 101's.
pub(super) fn reception_in(mut h: Harness, agents: &[&str]) -> Harness {
    h.register("102", MOBILE);
    let mut config = QueueConfig::new("Support", Strategy::RingAll);
    config.join_empty = switchboard_queue::EmptyPolicy::NoAgentLoggedIn;
    let queue = QueueSetup {
        number: "600".into(),
        config,
        members: agents
            .iter()
            .map(|a| (a.to_string(), Membership::default()))
            .collect(),
    };
    let agents = agents.iter().map(|a| AgentConfig::new(a)).collect();
    h.pbx.set_queues(h.clock(), vec![queue], agents);
    h.pbx.set_scenarios(setup(RECEPTION));
    h.collect();
    h
}

/// The caller dials 800 and is answered; returns the 200.
pub(super) fn dial_reception(h: &mut Harness) -> String {
    h.call("800", &sdp(4000, "0 101"));
    let ok = h.expect(CALLER, "SIP/2.0 200");
    h.send(CALLER, &from_caller(&ok, "ACK", 2));
    ok
}

pub(super) fn last_prompt(h: &Harness) -> Option<&str> {
    h.media.iter().rev().find_map(|m| match m {
        MediaCommand::Prompt { sounds, .. } => Some(match sounds.first() {
            Some(Sound::Named(name)) => name.as_str(),
            _ => "",
        }),
        _ => None,
    })
}

pub(super) fn press(h: &mut Harness, key: char) {
    let dtmf = Dtmf {
        key,
        duration_ms: 100,
    };
    h.pbx.handle_dtmf(h.clock(), 1, Side::A, dtmf);
    h.collect();
}

pub(super) fn prompt_played(h: &mut Harness) {
    h.pbx.handle_announcement_done(h.clock(), 1);
    h.collect();
}

#[test]
fn a_menu_key_rings_the_group_in_order_and_the_answer_is_bridged_and_recorded() {
    let mut h = reception(&[]);
    dial_reception(&mut h);
    assert_eq!(last_prompt(&h), Some("welcome"));
    press(&mut h, '1');
    assert!(
        matches!(
            h.media.last(),
            Some(MediaCommand::Wait {
                side: Side::A,
                hears: crate::Waiting::Ringback,
                ..
            })
        ),
        "the caller hears ringing while phones ring: {:?}",
        h.media
    );
    let desk = h.expect(DESK, "INVITE sip:101@192.0.2.20:5060");
    assert!(h.take(MOBILE).is_empty(), "in order: 101 first");
    h.send(DESK, &respond(&desk, 180, "Ringing", "d", ""));
    // 101 rings its 10 seconds, then 102.
    h.advance(Duration::from_secs(10));
    h.expect(DESK, "CANCEL");
    h.send(DESK, &respond(&desk, 487, "Request Terminated", "d", ""));
    let mobile = h.expect(MOBILE, "INVITE sip:102@192.0.2.21:5060");
    h.send(MOBILE, &respond(&mobile, 200, "OK", "m", &sdp(7000, "0")));
    h.expect(MOBILE, "ACK");
    let Some(MediaCommand::Bridge { b, .. }) = h.media.last() else {
        panic!("{:?}", h.media);
    };
    assert_eq!(b.remote.port(), 7000);
    // The mobile hangs up.
    let bye = in_dialog(
        "BYE",
        MOBILE,
        &format!("{};tag=m", header(&mobile, "To")),
        header(&mobile, "From"),
        header(&mobile, "Call-ID"),
        2,
        "",
    );
    h.send(MOBILE, &bye);
    h.expect(CALLER, "BYE");
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by, r.answered_by.as_deref()),
        (Outcome::Answered, HangupBy::Callee, Some("102"))
    );
    assert_eq!(
        r.scenario_path.as_deref(),
        Some("hours → menu → sales"),
        "{r:?}"
    );
}

#[test]
fn a_key_by_info_works_and_nobody_answering_takes_the_no_answer_exit() {
    let mut h = reception(&[]);
    let ok = dial_reception(&mut h);
    let info = from_caller(&ok, "INFO", 3).replace(
        "Content-Length: 0\r\n\r\n",
        "Content-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=2\r\nDuration=160\r\n",
    );
    h.send(CALLER, &info);
    h.expect(CALLER, "SIP/2.0 200 OK");
    let mobile = h.expect(MOBILE, "INVITE sip:102@");
    h.send(MOBILE, &respond(&mobile, 486, "Busy Here", "m", ""));
    h.expect(MOBILE, "ACK");
    h.expect(CALLER, "BYE");
    let r = &h.records[0];
    assert_eq!(
        r.scenario_path.as_deref(),
        Some("hours → menu → mobile → bye")
    );
    assert_eq!(r.reason, "hung up by block \"bye\"");
}

#[test]
fn no_key_goes_to_the_queue_after_the_prompt_and_its_timeout_and_0_leaves_it() {
    let mut h = reception(&["101"]);
    dial_reception(&mut h);
    // The menu's 5 seconds run from the end of the prompt.
    h.advance(Duration::from_secs(20));
    assert!(h.take(DESK).is_empty(), "still in the menu");
    prompt_played(&mut h);
    h.advance(Duration::from_secs(5));
    let agent = h.expect(DESK, "INVITE sip:101@");
    h.send(DESK, &respond(&agent, 180, "Ringing", "d", ""));
    press(&mut h, '0');
    h.expect(DESK, "CANCEL");
    assert_eq!(last_prompt(&h), Some("goodbye"));
    prompt_played(&mut h);
    h.expect(CALLER, "BYE");
    let r = &h.records[0];
    assert_eq!(
        r.scenario_path.as_deref(),
        Some("hours → menu → queue → goodbye → bye")
    );
    assert_eq!(r.queue, None, "the caller left the queue");
}

#[test]
fn a_call_in_progress_keeps_its_version_and_the_next_call_gets_the_new_one() {
    let mut h = reception(&[]);
    dial_reception(&mut h);
    // Published while the caller listens to the menu: key 2 now hangs up.
    h.pbx
        .set_scenarios(setup(&RECEPTION.replace("2 = \"mobile\"", "2 = \"bye\"")));
    press(&mut h, '2');
    h.expect(MOBILE, "INVITE sip:102@");

    let mut h = reception(&[]);
    h.pbx
        .set_scenarios(setup(&RECEPTION.replace("2 = \"mobile\"", "2 = \"bye\"")));
    dial_reception(&mut h);
    press(&mut h, '2');
    assert!(h.take(MOBILE).is_empty());
    h.expect(CALLER, "BYE");
}

#[test]
fn outside_opening_hours_the_caller_hears_closed_and_the_caller_may_hang_up_first() {
    let mut h = reception(&[]);
    h.advance(Duration::from_secs(3600));
    let ok = dial_reception(&mut h);
    assert_eq!(last_prompt(&h), Some("closed"));
    h.send(CALLER, &from_caller(&ok, "BYE", 3));
    h.expect(CALLER, "SIP/2.0 200");
    let r = &h.records[0];
    assert_eq!(
        (r.outcome, r.hangup_by),
        (Outcome::Answered, HangupBy::Caller)
    );
    assert_eq!(r.scenario_path.as_deref(), Some("hours → closed"));
    // Keys and reports after the end change nothing.
    press(&mut h, '1');
    prompt_played(&mut h);
    assert_eq!(h.records.len(), 1);
}

#[test]
fn extensions_and_queues_dialled_directly_skip_scenarios() {
    let mut h = reception(&[]);
    h.call("101", &sdp(4000, "0"));
    h.expect(DESK, "INVITE sip:101@");
    assert_eq!(last_prompt(&h), None);
}

#[test]
fn after_the_pc_slept_the_schedule_and_the_records_follow_the_wall_clock() {
    let mut h = reception(&["101"]);
    // Opening hours are Thursday 00:00–01:00; the PC sleeps eight hours, during which
    // the monotonic clock stands still.
    h.sleep(Duration::from_secs(8 * 3600));
    dial_reception(&mut h);
    assert_eq!(last_prompt(&h), Some("closed"), "closed at 08:00");
    prompt_played(&mut h);
    let record = h.records.last().expect("the call's record");
    let started = record
        .started
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(
        started,
        8 * 3600,
        "the record carries the time after the sleep"
    );
}

#[test]
fn a_wall_clock_set_back_an_hour_moves_no_timer() {
    let mut h = reception(&["101"]);
    dial_reception(&mut h);
    assert_eq!(last_prompt(&h), Some("welcome"));
    prompt_played(&mut h);
    // An NTP correction (or a DST change) sets the wall clock back an hour during the
    // menu: its five-second timeout still runs out after five seconds.
    h.wall -= Duration::from_secs(3600);
    h.advance(Duration::from_secs(4));
    assert!(
        h.take(DESK).iter().all(|m| !m.starts_with("INVITE")),
        "the menu still waits"
    );
    h.advance(Duration::from_secs(2));
    // No key in time: the menu's timeout exit, the queue, rings 101.
    h.expect(DESK, "INVITE sip:101@192.0.2.20:5060 SIP/2.0");
}
