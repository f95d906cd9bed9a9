//! When the office is open: weekly hours in the office's time zone, and holidays. A
//! Schedule block takes the exit [`Schedule::exit_at`] names for the moment a call
//! reaches it. Hours are civil times ("08:00" means eight on the office's clock in
//! winter and in summer), so a change of daylight saving time moves nothing; a range
//! whose end is not after its start runs past midnight into the next day.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::SettingError;

/// A schedule as the office writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    pub name: String,
    /// An IANA time zone, such as "Europe/Warsaw".
    pub time_zone: String,
    #[serde(default)]
    pub hours: Vec<HoursSettings>,
    #[serde(default)]
    pub holidays: Vec<HolidaySettings>,
}

/// Days and the hours the office is open on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HoursSettings {
    /// "mon" … "sun", or ranges such as "mon-fri".
    pub days: Vec<String>,
    /// "08:00".
    pub from: String,
    /// "17:00"; "24:00" is midnight at the end of the day.
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HolidaySettings {
    /// "2026-11-11" once, or "12-25" every year.
    pub date: String,
    #[serde(default)]
    pub name: String,
}

/// Which way a Schedule block sends a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleExit {
    Open,
    Closed,
    Holiday,
}

/// A checked schedule, ready to answer for any moment.
#[derive(Debug, Clone)]
pub struct Schedule {
    zone: TimeZone,
    hours: Vec<Hours>,
    holidays: Vec<HolidayDate>,
}

#[derive(Debug, Clone, Copy)]
struct Hours {
    /// Monday first.
    days: [bool; 7],
    /// Seconds since midnight; `to` may be 86,400 (midnight at the day's end) or not
    /// after `from` (past midnight).
    from: u32,
    to: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HolidayDate {
    Once(Date),
    Yearly { month: i8, day: i8 },
}

const DAY: u32 = 24 * 3600;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Schedule {
    /// Checks `settings`; every problem is reported with its field under `at`.
    pub fn from_settings(settings: &ScheduleSettings, at: &str) -> Result<Self, Vec<SettingError>> {
        let mut errors = Vec::new();
        let zone = TimeZone::get(&settings.time_zone).map_err(|_| {
            SettingError::new(
                format!("{at}.time_zone"),
                format!("{:?} is not a known time zone", settings.time_zone),
            )
        });
        let mut hours = Vec::new();
        for (i, h) in settings.hours.iter().enumerate() {
            let field = |name: &str| format!("{at}.hours[{i}].{name}");
            let days = parse_days(&h.days).map_err(|m| SettingError::new(field("days"), m));
            let from = parse_clock(&h.from, false).map_err(|m| SettingError::new(field("from"), m));
            let to = parse_clock(&h.to, true).map_err(|m| SettingError::new(field("to"), m));
            match (days, from, to) {
                (Ok(_), Ok(from), Ok(to)) if from == to => errors.push(SettingError::new(
                    field("to"),
                    "must differ from `from` (open all day: \"00:00\" to \"24:00\")",
                )),
                (Ok(days), Ok(from), Ok(to)) => hours.push(Hours { days, from, to }),
                (days, from, to) => {
                    errors.extend([days.err(), from.err(), to.err()].into_iter().flatten())
                }
            }
        }
        let mut holidays = Vec::new();
        for (i, h) in settings.holidays.iter().enumerate() {
            match parse_holiday(&h.date) {
                Ok(date) => holidays.push(date),
                Err(m) => errors.push(SettingError::new(format!("{at}.holidays[{i}].date"), m)),
            }
        }
        match zone {
            Ok(zone) if errors.is_empty() => Ok(Schedule {
                zone,
                hours,
                holidays,
            }),
            Ok(_) => Err(errors),
            Err(e) => {
                errors.insert(0, e);
                Err(errors)
            }
        }
    }

    /// Where the schedule sends a call at `when`: a holiday wins over the hours.
    pub fn exit_at(&self, when: Timestamp) -> ScheduleExit {
        let local = when.to_zoned(self.zone.clone()).datetime();
        let date = local.date();
        if self.holidays.iter().any(|h| h.falls_on(date)) {
            return ScheduleExit::Holiday;
        }
        let time = local.time();
        let second = u32::from(time.hour() as u8) * 3600
            + u32::from(time.minute() as u8) * 60
            + u32::from(time.second() as u8);
        let today = day_index(date.weekday());
        let yesterday = (today + 6) % 7;
        let open = self.hours.iter().any(|h| {
            if h.from < h.to {
                h.days[today] && (h.from..h.to).contains(&second)
            } else {
                // Past midnight: from `from` today, or until `to` after yesterday's start.
                (h.days[today] && second >= h.from) || (h.days[yesterday] && second < h.to)
            }
        });
        if open {
            ScheduleExit::Open
        } else {
            ScheduleExit::Closed
        }
    }
}

impl HolidayDate {
    fn falls_on(self, date: Date) -> bool {
        match self {
            HolidayDate::Once(d) => d == date,
            HolidayDate::Yearly { month, day } => date.month() == month && date.day() == day,
        }
    }
}

fn day_index(day: Weekday) -> usize {
    day.to_monday_zero_offset() as usize
}

/// "mon", "sat-sun", "fri-mon" (a range may wrap past Sunday).
fn parse_days(days: &[String]) -> Result<[bool; 7], String> {
    if days.is_empty() {
        return Err("name at least one day (\"mon\" … \"sun\", or a range \"mon-fri\")".into());
    }
    let index = |name: &str| {
        DAY_NAMES
            .iter()
            .position(|d| d.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| format!("{name:?} is not a day: use \"mon\" … \"sun\""))
    };
    let mut set = [false; 7];
    for entry in days {
        let (first, last) = match entry.split_once('-') {
            Some((a, b)) => (index(a)?, index(b)?),
            None => (index(entry)?, index(entry)?),
        };
        let mut d = first;
        loop {
            set[d] = true;
            if d == last {
                break;
            }
            d = (d + 1) % 7;
        }
    }
    Ok(set)
}

/// "HH:MM" as seconds since midnight; "24:00" only as an end.
fn parse_clock(text: &str, end: bool) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time of day: use \"HH:MM\", such as \"08:30\"");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (24, 0) if end => Ok(DAY),
        (0..=23, 0..=59) => Ok(h * 3600 + m * 60),
        _ => Err(bad()),
    }
}

/// "YYYY-MM-DD" once, "MM-DD" every year.
fn parse_holiday(text: &str) -> Result<HolidayDate, String> {
    let bad = || format!("{text:?} is not a date: use \"2026-12-24\", or \"12-24\" for every year");
    let parts: Vec<&str> = text.trim().split('-').collect();
    let small = |s: &str| s.parse::<i8>().map_err(|_| bad());
    match parts[..] {
        [y, m, d] => Date::new(y.parse().map_err(|_| bad())?, small(m)?, small(d)?)
            .map(HolidayDate::Once)
            .map_err(|_| bad()),
        // 2000 was a leap year: 29 February is a valid yearly holiday.
        [m, d] => Date::new(2000, small(m)?, small(d)?)
            .map(|date| HolidayDate::Yearly {
                month: date.month(),
                day: date.day(),
            })
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests;
