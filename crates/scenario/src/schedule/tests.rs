use super::*;

/// An office in Warsaw: weekdays 08:00–17:00, Friday night 22:00–06:00, Christmas Eve
/// every year and 11 November 2026 closed.
const OFFICE: &str = r#"
name = "Office hours"
time_zone = "Europe/Warsaw"

[[hours]]
days = ["mon-fri"]
from = "08:00"
to = "17:00"

[[hours]]
days = ["fri"]
from = "22:00"
to = "06:00"

[[holidays]]
date = "12-24"
name = "Christmas Eve"

[[holidays]]
date = "2026-11-11"
name = "Independence Day"
"#;

fn office() -> Schedule {
    let settings: ScheduleSettings = toml::from_str(OFFICE).unwrap();
    Schedule::from_settings(&settings, "schedules[0]").unwrap()
}

fn at(utc: &str) -> ScheduleExit {
    office().exit_at(utc.parse::<Timestamp>().unwrap())
}

#[test]
fn opening_hours_follow_the_office_clock_across_both_dst_changes() {
    // Summer time starts on Sunday 29 March 2026: 08:30 in Warsaw is 06:30 UTC from
    // Monday (a fixed winter offset would say 07:30, closed).
    assert_eq!(at("2026-03-30T06:30:00Z"), ScheduleExit::Open);
    assert_eq!(at("2026-03-30T05:59:00Z"), ScheduleExit::Closed);
    // The Friday before, still winter: 08:00 is 07:00 UTC.
    assert_eq!(at("2026-03-27T06:59:00Z"), ScheduleExit::Closed);
    assert_eq!(at("2026-03-27T07:00:00Z"), ScheduleExit::Open);
    // Winter time again from Sunday 25 October: 16:30 on Monday is 15:30 UTC (open), and
    // 17:00 is 16:00 UTC (closed; a summer offset would still say 18:00 and 17:30).
    assert_eq!(at("2026-10-26T15:30:00Z"), ScheduleExit::Open);
    assert_eq!(at("2026-10-26T16:00:00Z"), ScheduleExit::Closed);
}

#[test]
fn holidays_close_the_office_whatever_the_hours() {
    // Wednesday 11 November 2026, 10:00 in Warsaw.
    assert_eq!(at("2026-11-11T09:00:00Z"), ScheduleExit::Holiday);
    assert_eq!(at("2026-11-12T09:00:00Z"), ScheduleExit::Open);
    // Christmas Eve every year: Thursday in 2026, Friday in 2027.
    assert_eq!(at("2026-12-24T09:00:00Z"), ScheduleExit::Holiday);
    assert_eq!(at("2027-12-24T09:00:00Z"), ScheduleExit::Holiday);
    // A holiday starts at local midnight: 23:30 UTC on the 23rd is 00:30 on the 24th.
    assert_eq!(at("2026-12-23T23:30:00Z"), ScheduleExit::Holiday);
}

#[test]
fn hours_past_midnight_belong_to_the_day_they_start() {
    // Friday 22:00 to Saturday 06:00 (winter, UTC+1).
    assert_eq!(at("2026-11-20T21:30:00Z"), ScheduleExit::Open, "Fri 22:30");
    assert_eq!(at("2026-11-21T04:59:00Z"), ScheduleExit::Open, "Sat 05:59");
    assert_eq!(
        at("2026-11-21T05:00:00Z"),
        ScheduleExit::Closed,
        "Sat 06:00"
    );
    assert_eq!(
        at("2026-11-21T21:30:00Z"),
        ScheduleExit::Closed,
        "Sat 22:30"
    );
    assert_eq!(at("2026-11-22T09:00:00Z"), ScheduleExit::Closed, "Sunday");
}

#[test]
fn every_unusable_setting_is_named() {
    let text = OFFICE
        .replace("Europe/Warsaw", "Europe/Atlantis")
        .replace("\"mon-fri\"", "\"mon-funday\"")
        .replace("from = \"22:00\"", "from = \"25:00\"")
        .replace("to = \"17:00\"", "to = \"08:00\"")
        .replace("\"12-24\"", "\"13-45\"");
    let settings: ScheduleSettings = toml::from_str(&text).unwrap();
    let errors = Schedule::from_settings(&settings, "schedules[0]").unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "schedules[0].time_zone",
            "schedules[0].hours[0].days",
            "schedules[0].hours[1].from",
            "schedules[0].holidays[0].date",
        ],
        "{errors:?}"
    );
    assert!(errors[1].message.contains("funday"), "{}", errors[1]);
}

#[test]
fn from_equal_to_is_refused_and_midnight_ends_a_day() {
    let all_day = |from: &str, to: &str| ScheduleSettings {
        name: "Always".into(),
        time_zone: "UTC".into(),
        hours: vec![HoursSettings {
            days: vec!["sun-sat".into()],
            from: from.into(),
            to: to.into(),
        }],
        holidays: Vec::new(),
    };
    let open = Schedule::from_settings(&all_day("00:00", "24:00"), "s").unwrap();
    assert_eq!(
        open.exit_at("2026-11-22T23:59:59Z".parse().unwrap()),
        ScheduleExit::Open
    );
    let errors = Schedule::from_settings(&all_day("09:00", "09:00"), "s").unwrap_err();
    assert_eq!(errors[0].field, "s.hours[0].to");
    let errors = Schedule::from_settings(&all_day("24:00", "09:00"), "s").unwrap_err();
    assert_eq!(
        errors[0].field, "s.hours[0].from",
        "24:00 only ends a range"
    );
}
