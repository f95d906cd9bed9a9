use super::*;

/// A reception: open hours go to a menu (1 sales queue, 2 an employee), closed hours
/// and holidays to voicemail.
const RECEPTION: &str = r#"
name = "Reception"
start = "hours"

[blocks.hours]
type = "schedule"
schedule = "Office hours"
exits = { open = "menu", closed = "voicemail", holiday = "voicemail" }

[blocks.menu]
type = "menu"
prompt = "welcome"
keys = "12"
timeout = 5
retries = 2
exits = { 1 = "sales", 2 = "anna", timeout = "sales", invalid = "menu" }

[blocks.sales]
type = "queue"
queue = "600"
exits = { timeout = "voicemail", empty = "voicemail", full = "voicemail", key = "voicemail" }

[blocks.anna]
type = "call-employee"
extension = "101"
exits = { no-answer = "voicemail" }

[blocks.voicemail]
type = "voicemail"
mailbox = "100"
"#;

fn office() -> Catalogue {
    let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
    Catalogue {
        prompts: set(&["welcome"]),
        extensions: set(&["100", "101"]),
        queues: set(&["600"]),
        lists: set(&["Key customers"]),
        schedules: set(&["Office hours"]),
        mailboxes: set(&["100"]),
        scenarios: set(&["Reception"]),
    }
}

fn scenario(text: &str) -> Scenario {
    toml::from_str(text).unwrap()
}

fn fields(errors: &[SettingError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn a_sound_scenario_passes_and_survives_a_round_trip() {
    let s = scenario(RECEPTION);
    assert_eq!(validate(&s, &office()), []);
    let written = toml::to_string(&s).unwrap();
    assert_eq!(toml::from_str::<Scenario>(&written).unwrap(), s);
}

#[test]
fn exits_left_unconnected_or_leading_nowhere_are_named() {
    let text = RECEPTION.replace(", timeout = \"sales\"", "").replace(
        "no-answer = \"voicemail\"",
        "no-answer = \"nobody\", busy = \"voicemail\"",
    );
    let errors = validate(&scenario(&text), &office());
    assert_eq!(
        fields(&errors),
        [
            "blocks.anna.exits.no-answer",
            "blocks.anna.exits.busy",
            "blocks.menu.exits.timeout"
        ],
        "{errors:?}"
    );
    assert!(errors[0].message.contains("\"nobody\""), "{}", errors[0]);
}

#[test]
fn settings_naming_what_the_office_lacks_are_refused() {
    let text = RECEPTION
        .replace("queue = \"600\"", "queue = \"601\"")
        .replace("prompt = \"welcome\"", "prompt = \"hello\"")
        .replace("keys = \"12\"", "keys = \"11\"")
        .replace("schedule = \"Office hours\"", "schedule = \"Summer\"");
    let errors = validate(&scenario(&text), &office());
    assert_eq!(
        fields(&errors),
        [
            "blocks.hours.schedule",
            "blocks.menu.prompt",
            "blocks.menu.keys",
            "blocks.menu.exits.2",
            "blocks.sales.queue"
        ],
        "{errors:?}"
    );
}

#[test]
fn unreachable_blocks_and_a_missing_start_are_named() {
    let text = RECEPTION.replace("2 = \"anna\", ", "2 = \"sales\", ");
    assert_eq!(
        fields(&validate(&scenario(&text), &office())),
        ["blocks.anna"]
    );
    let text = RECEPTION.replace("start = \"hours\"", "start = \"lobby\"");
    let errors = validate(&scenario(&text), &office());
    assert_eq!(errors[0].field, "start");
}

#[test]
fn a_loop_that_never_waits_for_the_caller_is_refused() {
    // Closed hours play a notice and check the schedule again, for ever.
    let text = RECEPTION.replace("closed = \"voicemail\"", "closed = \"notice\"")
        + "\n[blocks.notice]\ntype = \"play-audio\"\nprompt = \"welcome\"\nexits = { next = \"hours\" }\n";
    let errors = validate(&scenario(&text), &office());
    assert_eq!(fields(&errors), ["blocks.hours"], "{errors:?}");
    assert!(
        errors[0].message.contains("hours → notice → hours"),
        "{}",
        errors[0]
    );
    // Through the menu, which waits for a key, the same loop is fine.
    let text = RECEPTION.replace("invalid = \"menu\"", "invalid = \"hours\"");
    assert_eq!(validate(&scenario(&text), &office()), []);
}

#[test]
fn unknown_settings_and_block_types_are_refused_when_read() {
    let typo = RECEPTION.replace("mailbox = \"100\"", "mailbox = \"100\"\nmaibox = \"1\"");
    assert!(toml::from_str::<Scenario>(&typo).is_err());
    let unknown = RECEPTION.replace("type = \"voicemail\"", "type = \"fax\"");
    assert!(toml::from_str::<Scenario>(&unknown).is_err());
}

#[test]
fn a_random_ring_group_needs_weights_that_make_a_hundred() {
    let text = RECEPTION.replace(
        "type = \"call-employee\"\nextension = \"101\"",
        "type = \"ring-group\"\nmode = \"random\"\nmembers = [{ extension = \"100\", weight = 60 }, { extension = \"101\", weight = 30 }]",
    );
    let errors = validate(&scenario(&text), &office());
    assert_eq!(fields(&errors), ["blocks.anna.members"], "{errors:?}");
    assert!(errors[0].message.contains("90%"));
}
