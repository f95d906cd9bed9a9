use std::collections::BTreeMap;

use super::*;

/// Open hours go to a menu: 1 rings sales in order, 2 lets the caller dial an
/// extension, 3 calls the caller's manager, 9 goes to the "After hours" scenario; VIPs
/// get priority 5 in the support queue. Closed hours go to voicemail.
const RECEPTION: &str = r#"
name = "Reception"
start = "hours"

[blocks.hours]
type = "schedule"
schedule = "Office hours"
exits = { open = "vip", closed = "voicemail", holiday = "holiday" }

[blocks.holiday]
type = "play-audio"
prompt = "holiday"
exits = { next = "bye" }

[blocks.vip]
type = "number-check"
list = "Key customers"
exits = { listed = "priority", not-listed = "menu" }

[blocks.priority]
type = "set-priority"
priority = 5
exits = { next = "support" }

[blocks.menu]
type = "menu"
prompt = "welcome"
keys = "12349"
timeout = 5
retries = 1
exits = { 1 = "sales", 2 = "dial", 3 = "manager", 4 = "outside", 9 = "after", timeout = "support", invalid = "bye" }

[blocks.sales]
type = "ring-group"
mode = "in-order"
members = [{ extension = "101", ring = 10 }, { extension = "102", ring = 15 }]
exits = { no-answer = "support" }

[blocks.dial]
type = "dial-extension"
prompt = "dial"
timeout = 3
exits = { timeout = "bye", invalid = "bye", no-answer = "voicemail" }

[blocks.manager]
type = "call-manager"
exits = { no-answer = "voicemail", no-manager = "support" }

[blocks.outside]
type = "call-external"
number = "+48221234567"
exits = { no-answer = "bye", failed = "support" }

[blocks.after]
type = "go-to"
scenario = "After hours"

[blocks.support]
type = "queue"
queue = "600"
exits = { timeout = "voicemail", empty = "voicemail", full = "bye", key = "voicemail" }

[blocks.voicemail]
type = "voicemail"
mailbox = "100"

[blocks.bye]
type = "hang-up"
"#;

const AFTER_HOURS: &str = r#"
name = "After hours"
start = "notice"

[blocks.notice]
type = "play-audio"
prompt = "closed"
barge_in = true
exits = { next = "box" }

[blocks.box]
type = "voicemail"
mailbox = "200"
"#;

struct TestOffice {
    hours: ScheduleExit,
    vips: Vec<&'static str>,
    managers: BTreeMap<&'static str, &'static str>,
    online: Vec<&'static str>,
    scenarios: BTreeMap<String, Arc<Scenario>>,
}

impl Office for TestOffice {
    fn scenario(&self, name: &str) -> Option<Arc<Scenario>> {
        self.scenarios.get(name).cloned()
    }
    fn schedule_exit(&self, schedule: &str) -> ScheduleExit {
        assert_eq!(schedule, "Office hours");
        self.hours
    }
    fn listed(&self, list: &str, caller: &str) -> bool {
        list == "Key customers" && self.vips.contains(&caller)
    }
    fn manager_of(&self, caller: &str) -> Option<String> {
        self.managers.get(caller).map(|m| m.to_string())
    }
    fn is_online(&self, extension: &str) -> bool {
        self.online.contains(&extension)
    }
    fn is_extension(&self, number: &str) -> bool {
        ["100", "101", "102", "103"].contains(&number)
    }
}

fn scenario(text: &str) -> Arc<Scenario> {
    Arc::new(toml::from_str(text).unwrap())
}

fn office(hours: ScheduleExit) -> TestOffice {
    let after = scenario(AFTER_HOURS);
    TestOffice {
        hours,
        vips: vec!["+48600100200"],
        managers: BTreeMap::from([("+48500000001", "103"), ("+48500000002", "102")]),
        online: vec!["101", "102"],
        scenarios: BTreeMap::from([(after.name.clone(), after)]),
    }
}

fn ring(extensions: &[&str], ring: Option<u64>) -> Step {
    Step::Ring {
        extensions: extensions.iter().map(|e| e.to_string()).collect(),
        ring: ring.map(Duration::from_secs),
    }
}

fn play(prompt: &str) -> Step {
    Step::Play {
        prompt: prompt.into(),
    }
}

fn queue(priority: i32) -> Step {
    Step::Queue {
        queue: "600".into(),
        priority,
    }
}

fn voicemail(mailbox: &str) -> Step {
    Step::Voicemail {
        mailbox: mailbox.into(),
    }
}

/// A call from `caller` into the reception scenario, standing at the menu.
fn at_menu(office: &TestOffice, caller: &str) -> (Run, Instant) {
    let mut run = Run::new(scenario(RECEPTION), caller, 7);
    assert_eq!(run.start(office), play("welcome"));
    (run, Instant::now())
}

#[test]
fn closed_hours_go_to_voicemail_and_holidays_hear_a_notice_then_hang_up() {
    let closed = office(ScheduleExit::Closed);
    let mut run = Run::new(scenario(RECEPTION), "+48111", 1);
    assert_eq!(run.start(&closed), voicemail("100"));
    assert_eq!(run.path(), ["hours", "voicemail"]);

    let holiday = office(ScheduleExit::Holiday);
    let mut run = Run::new(scenario(RECEPTION), "+48111", 1);
    assert_eq!(run.start(&holiday), play("holiday"));
    let now = Instant::now();
    // Play audio without barge-in ignores keys.
    assert_eq!(run.handle(now, Event::Key('1'), &holiday), None);
    let Some(Step::HangUp { reason }) = run.handle(now, Event::PromptDone, &holiday) else {
        panic!("expected a hang-up");
    };
    assert!(reason.contains("\"bye\""), "{reason}");
    assert_eq!(run.path(), ["hours", "holiday", "bye"]);
}

#[test]
fn a_listed_caller_gets_the_priority_set_before_the_queue() {
    let open = office(ScheduleExit::Open);
    let mut run = Run::new(scenario(RECEPTION), "+48600100200", 1);
    assert_eq!(run.start(&open), queue(5));
    assert_eq!(run.priority(), 5);
    assert_eq!(run.path(), ["hours", "vip", "priority", "support"]);
}

#[test]
fn every_queue_exit_leads_where_the_block_says() {
    let open = office(ScheduleExit::Open);
    let now = Instant::now();
    for (exit, expected) in [
        (QueueExit::Timeout, Some(voicemail("100"))),
        (QueueExit::Empty, Some(voicemail("100"))),
        (QueueExit::Key, Some(voicemail("100"))),
    ] {
        let mut run = Run::new(scenario(RECEPTION), "+48600100200", 1);
        run.start(&open);
        assert_eq!(run.handle(now, Event::QueueLeft(exit), &open), expected);
    }
    let mut run = Run::new(scenario(RECEPTION), "+48600100200", 1);
    run.start(&open);
    assert!(matches!(
        run.handle(now, Event::QueueLeft(QueueExit::Full), &open),
        Some(Step::HangUp { .. })
    ));
    // A report the block does not wait for changes nothing.
    let mut run = Run::new(scenario(RECEPTION), "+48600100200", 1);
    run.start(&open);
    assert_eq!(run.handle(now, Event::NoAnswer, &open), None);
    assert_eq!(run.handle(now, Event::Key('5'), &open), None);
}

#[test]
fn a_menu_key_may_interrupt_the_prompt_and_branches() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48111");
    assert_eq!(
        run.handle(now, Event::Key('1'), &open),
        Some(ring(&["101"], Some(10)))
    );
    assert_eq!(run.path(), ["hours", "vip", "menu", "sales"]);
}

#[test]
fn the_menu_timeout_runs_from_the_end_of_the_prompt_and_retries_first() {
    let open = office(ScheduleExit::Open);
    let (mut run, start) = at_menu(&open, "+48111");
    // While the prompt plays nothing times out.
    assert_eq!(run.poll_timeout(), None);
    let played = start + Duration::from_secs(8);
    assert_eq!(run.handle(played, Event::PromptDone, &open), None);
    assert_eq!(run.poll_timeout(), Some(played + Duration::from_secs(5)));
    assert_eq!(
        run.handle_timeout(played + Duration::from_secs(4), &open),
        None
    );
    // One retry: the prompt again, then the timeout exit.
    let first = played + Duration::from_secs(5);
    assert_eq!(run.handle_timeout(first, &open), Some(play("welcome")));
    assert_eq!(run.poll_timeout(), None);
    let again = first + Duration::from_secs(8);
    run.handle(again, Event::PromptDone, &open);
    assert_eq!(
        run.handle_timeout(again + Duration::from_secs(5), &open),
        Some(queue(0))
    );
    assert_eq!(run.path(), ["hours", "vip", "menu", "support"]);
}

#[test]
fn an_invalid_key_retries_then_takes_the_invalid_exit() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48111");
    assert_eq!(
        run.handle(now, Event::Key('7'), &open),
        Some(play("welcome"))
    );
    let Some(Step::HangUp { .. }) = run.handle(now, Event::Key('*'), &open) else {
        panic!("expected the invalid exit to hang up");
    };
    assert_eq!(run.path(), ["hours", "vip", "menu", "bye"]);
    // The call is over: later keys and timeouts do nothing.
    assert_eq!(run.handle(now, Event::Key('1'), &open), None);
    assert_eq!(
        run.handle_timeout(now + Duration::from_secs(60), &open),
        None
    );
}

#[test]
fn an_in_order_ring_group_rings_each_member_for_their_time_then_leaves() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48111");
    run.handle(now, Event::Key('1'), &open);
    assert_eq!(
        run.handle(now, Event::NoAnswer, &open),
        Some(ring(&["102"], Some(15)))
    );
    assert_eq!(run.handle(now, Event::NoAnswer, &open), Some(queue(0)));
}

#[test]
fn all_at_once_rings_everyone_for_the_longest_time_and_random_follows_the_weights() {
    let group = |mode: &str| {
        scenario(&format!(
            r#"
            name = "Group"
            start = "group"
            [blocks.group]
            type = "ring-group"
            mode = "{mode}"
            members = [{{ extension = "101", ring = 10, weight = 80 }},
                       {{ extension = "102", ring = 25, weight = 20 }}]
            exits = {{ no-answer = "bye" }}
            [blocks.bye]
            type = "hang-up"
            "#
        ))
    };
    let open = office(ScheduleExit::Open);
    let mut run = Run::new(group("all-at-once"), "+48111", 1);
    assert_eq!(run.start(&open), ring(&["101", "102"], Some(25)));
    assert!(matches!(
        run.handle(Instant::now(), Event::NoAnswer, &open),
        Some(Step::HangUp { .. })
    ));

    let mut first = 0;
    for seed in 0..1000 {
        let mut run = Run::new(group("random"), "+48111", seed);
        match run.start(&open) {
            s if s == ring(&["101"], Some(10)) => first += 1,
            s => assert_eq!(s, ring(&["102"], Some(25))),
        }
        // One member only: no answer leaves the group.
        assert!(matches!(
            run.handle(Instant::now(), Event::NoAnswer, &open),
            Some(Step::HangUp { .. })
        ));
    }
    assert!(
        (740..=860).contains(&first),
        "101 rang {first} times of 1000"
    );
}

#[test]
fn dialled_digits_ring_the_extension_after_hash_timeout_or_length() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48111");
    assert_eq!(run.handle(now, Event::Key('2'), &open), Some(play("dial")));
    // The first digit silences the prompt; '#' ends the number.
    assert_eq!(run.handle(now, Event::Key('1'), &open), Some(Step::Silence));
    assert_eq!(run.handle(now, Event::Key('0'), &open), None);
    assert_eq!(run.digits(), "10");
    assert_eq!(
        run.handle(now, Event::Key('2'), &open),
        None,
        "keys after the first do not silence again"
    );
    assert_eq!(
        run.handle(now, Event::Key('#'), &open),
        Some(ring(&["102"], None))
    );
    assert_eq!(
        run.handle(now, Event::NoAnswer, &open),
        Some(voicemail("100"))
    );

    // The digit timeout ends the number too.
    let (mut run, now) = at_menu(&open, "+48111");
    run.handle(now, Event::Key('2'), &open);
    run.handle(now, Event::PromptDone, &open);
    for key in "101".chars() {
        run.handle(now, Event::Key(key), &open);
    }
    assert_eq!(run.poll_timeout(), Some(now + Duration::from_secs(3)));
    assert_eq!(
        run.handle_timeout(now + Duration::from_secs(3), &open),
        Some(ring(&["101"], None))
    );
}

#[test]
fn unknown_numbers_silence_and_floods_of_digits_are_bounded() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48111");
    run.handle(now, Event::Key('2'), &open);
    // Nothing typed: the timeout exit.
    run.handle(now, Event::PromptDone, &open);
    let Some(Step::HangUp { .. }) = run.handle_timeout(now + Duration::from_secs(3), &open) else {
        panic!("expected the timeout exit");
    };
    assert_eq!(run.path().last().map(String::as_str), Some("bye"));

    // A number the office lacks takes the invalid exit; stars are not digits.
    let (mut run, now) = at_menu(&open, "+48111");
    run.handle(now, Event::Key('2'), &open);
    run.handle(now, Event::Key('*'), &open);
    assert_eq!(run.digits(), "");
    for key in "5".chars() {
        run.handle(now, Event::Key(key), &open);
    }
    assert!(matches!(
        run.handle(now, Event::Key('#'), &open),
        Some(Step::HangUp { .. })
    ));

    // A flood of digits ends at MAX_DIGITS keys.
    let (mut run, now) = at_menu(&open, "+48111");
    run.handle(now, Event::Key('2'), &open);
    let steps: Vec<_> = (0..1000)
        .filter_map(|_| run.handle(now, Event::Key('9'), &open))
        .collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[0], Step::Silence);
    assert!(matches!(steps[1], Step::HangUp { .. }));
}

#[test]
fn the_manager_is_called_only_when_online() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48500000002");
    assert_eq!(
        run.handle(now, Event::Key('3'), &open),
        Some(ring(&["102"], None))
    );
    // 103 is the owner but has no phone registered; a stranger has no owner.
    for caller in ["+48500000001", "+48999"] {
        let (mut run, now) = at_menu(&open, caller);
        assert_eq!(run.handle(now, Event::Key('3'), &open), Some(queue(0)));
        assert_eq!(run.path().last().map(String::as_str), Some("support"));
    }
}

#[test]
fn calling_outside_fails_with_a_reason_until_trunks_exist() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48111");
    assert_eq!(run.handle(now, Event::Key('4'), &open), Some(queue(0)));
    assert_eq!(run.path(), ["hours", "vip", "menu", "outside", "support"]);
    assert!(run.notes()[0].contains("no trunk"), "{:?}", run.notes());
}

#[test]
fn go_to_continues_in_the_other_scenario_with_barge_in() {
    let open = office(ScheduleExit::Open);
    let (mut run, now) = at_menu(&open, "+48111");
    assert_eq!(
        run.handle(now, Event::Key('9'), &open),
        Some(play("closed"))
    );
    assert_eq!(
        run.handle(now, Event::Key('5'), &open),
        Some(voicemail("200"))
    );
    assert_eq!(
        run.path(),
        ["hours", "vip", "menu", "after", "notice", "box"]
    );
}

#[test]
fn scenarios_that_go_to_each_other_for_ever_are_stopped() {
    let ping = scenario(
        r#"
        name = "Ping"
        start = "go"
        [blocks.go]
        type = "go-to"
        scenario = "Pong"
        "#,
    );
    let pong = scenario(
        r#"
        name = "Pong"
        start = "go"
        [blocks.go]
        type = "go-to"
        scenario = "Ping"
        "#,
    );
    let mut office = office(ScheduleExit::Open);
    office.scenarios.insert("Ping".into(), ping.clone());
    office.scenarios.insert("Pong".into(), pong);
    let mut run = Run::new(ping, "+48111", 1);
    let Step::HangUp { reason } = run.start(&office) else {
        panic!("expected a hang-up");
    };
    assert!(reason.contains("without waiting"), "{reason}");
    assert_eq!(run.path().len(), MAX_HOPS);
}

#[test]
fn a_missing_scenario_or_call_sip_address_outside_the_office_fails_clearly() {
    let text = r#"
        name = "Out"
        start = "sip"
        [blocks.sip]
        type = "call-sip-address"
        uri = "sip:desk@pbx.example.com"
        exits = { no-answer = "gone", failed = "gone" }
        [blocks.gone]
        type = "go-to"
        scenario = "Nowhere"
    "#;
    let open = office(ScheduleExit::Open);
    let mut run = Run::new(scenario(text), "+48111", 1);
    let Step::HangUp { reason } = run.start(&open) else {
        panic!("expected a hang-up");
    };
    assert!(reason.contains("Nowhere"), "{reason}");
    assert!(run.notes()[0].contains("trunks"), "{:?}", run.notes());

    let local = text.replace("desk@pbx", "101@pbx");
    let mut run = Run::new(scenario(&local), "+48111", 1);
    assert_eq!(run.start(&open), ring(&["101"], None));
}
