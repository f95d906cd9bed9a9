//! Reports an owner reads the next morning, made from the call log's sums
//! ([`switchboard_store::ReportSums`]): per day or hour of the office's time zone, or per
//! queue, agent, trunk, outcome, direction or caller (call tracking), with the figures a call centre compares:
//! offered, answered, lost (short abandons apart), waits, service level, and the
//! inbound statistics DUR (minutes talked), ACD (average call duration) and ASR
//! (answer-seizure ratio, the share answered).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchboard_store::{ReportKey, ReportSums};
use utoipa::ToSchema;

use crate::spreadsheet::{Cell, Sheet, SheetError, tenths};

/// What a report's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GroupBy {
    #[default]
    Day,
    Hour,
    Queue,
    Agent,
    Trunk,
    Outcome,
    Direction,
    /// Call tracking: each caller's calls (attempts), answered or not, and their waits.
    Caller,
}

impl GroupBy {
    /// The call log's column the rows are keyed by, for a report not by time.
    pub fn key(self) -> Option<ReportKey> {
        match self {
            GroupBy::Day | GroupBy::Hour => None,
            GroupBy::Queue => Some(ReportKey::Queue),
            GroupBy::Agent => Some(ReportKey::Agent),
            GroupBy::Trunk => Some(ReportKey::Trunk),
            GroupBy::Outcome => Some(ReportKey::Outcome),
            GroupBy::Direction => Some(ReportKey::Direction),
            GroupBy::Caller => Some(ReportKey::Caller),
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ReportRow {
    /// The day (`2026-12-07`), the hour (`2026-12-07 14:00`) in the office's time zone,
    /// or the queue, agent, trunk, outcome or direction; empty for calls without one
    /// (no queue, nobody answered).
    pub group: String,
    pub offered: u64,
    pub answered: u64,
    /// Not answered: given up, not answered in time, busy, failed.
    pub lost: u64,
    /// Lost calls given up sooner than the short-abandon time.
    pub short_abandons: u64,
    /// Answered of offered, in percent (ASR).
    pub answer_ratio: f64,
    /// Answered within the target of the offered less short abandons, in percent; none
    /// when nothing counts.
    pub service_level: Option<f64>,
    /// Average wait of answered calls, in seconds.
    pub average_wait: f64,
    pub longest_wait: f64,
    /// Average time lost callers waited before giving up, in seconds.
    pub average_abandon: f64,
    /// Minutes talked (DUR).
    pub talk_minutes: f64,
    /// Average talk time of answered calls, in seconds (ACD).
    pub average_talk: f64,
    /// First-call resolution: of the answered calls from callers who can be told apart,
    /// the share (percent) whose caller did not call again within the repeat window;
    /// none when the report does not reckon it.
    pub first_call_resolution: Option<f64>,
}

/// A report: its rows in order, and the whole period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Report {
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
}

/// Sums that add up: a row is made of many slots.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    offered: u64,
    answered: u64,
    lost: u64,
    short_abandons: u64,
    in_target: u64,
    wait_ms: i64,
    longest_ms: i64,
    lost_wait_ms: i64,
    talk_ms: i64,
    answered_known: u64,
    resolved: u64,
}

impl Totals {
    fn add(&mut self, s: &ReportSums) {
        self.offered += s.offered;
        self.answered += s.answered;
        self.lost += s.lost;
        self.short_abandons += s.short_abandons;
        self.in_target += s.answered_in_target;
        self.wait_ms += s.wait_ms;
        self.longest_ms = self.longest_ms.max(s.longest_wait_ms);
        self.lost_wait_ms += s.lost_wait_ms;
        self.talk_ms += s.talk_ms;
        self.answered_known += s.answered_known;
        self.resolved += s.resolved_first_time;
    }

    fn row(&self, group: String) -> ReportRow {
        let per = |ms: i64, n: u64| {
            if n == 0 {
                0.0
            } else {
                ms as f64 / 1000.0 / n as f64
            }
        };
        let percent = |part: u64, whole: u64| {
            (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
        };
        ReportRow {
            group,
            offered: self.offered,
            answered: self.answered,
            lost: self.lost,
            short_abandons: self.short_abandons,
            answer_ratio: percent(self.answered, self.offered).unwrap_or(0.0),
            service_level: percent(self.in_target, self.offered - self.short_abandons),
            average_wait: per(self.wait_ms, self.answered),
            longest_wait: self.longest_ms as f64 / 1000.0,
            average_abandon: per(self.lost_wait_ms, self.lost),
            talk_minutes: self.talk_ms as f64 / 60_000.0,
            average_talk: per(self.talk_ms, self.answered),
            first_call_resolution: percent(self.resolved, self.answered_known),
        }
    }
}

/// The report of `sums` by `by`, days and hours in `zone`.
pub fn report(sums: &[ReportSums], by: GroupBy, zone: &jiff::tz::TimeZone) -> Report {
    let label = |s: &ReportSums| match by {
        GroupBy::Day | GroupBy::Hour => {
            let format = if by == GroupBy::Day {
                "%Y-%m-%d"
            } else {
                "%Y-%m-%d %H:00"
            };
            jiff::Timestamp::from_millisecond(s.slot)
                .map(|t| t.to_zoned(zone.clone()).strftime(format).to_string())
                .unwrap_or_default()
        }
        _ => s.key.clone().unwrap_or_default(),
    };
    let mut groups: BTreeMap<String, Totals> = BTreeMap::new();
    let mut total = Totals::default();
    for s in sums {
        groups.entry(label(s)).or_default().add(s);
        total.add(s);
    }
    Report {
        rows: groups.into_iter().map(|(g, t)| t.row(g)).collect(),
        total: total.row(String::new()),
    }
}

/// Writes `report` to `sheet`: a header naming the rows' `by`, a row each, the whole
/// period last; first-call resolution where the report reckons it.
pub fn write_report(sheet: &mut Sheet, by: GroupBy, report: &Report) -> Result<(), SheetError> {
    let resolution = report.total.first_call_resolution.is_some();
    let group = serde_json::to_value(by)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let header = [
        group.as_str(),
        "offered",
        "answered",
        "lost",
        "short abandons",
        "ASR (%)",
        "service level (%)",
        "average wait (s)",
        "longest wait (s)",
        "average abandon (s)",
        "DUR (min)",
        "ACD (s)",
    ];
    let fcr = resolution.then_some("first-call resolution (%)");
    sheet.row(header.into_iter().chain(fcr).map(Cell::from))?;
    let total = ReportRow {
        group: "total".into(),
        ..report.total.clone()
    };
    for r in report.rows.iter().chain([&total]) {
        let cells = [
            r.group.clone().into(),
            r.offered.into(),
            r.answered.into(),
            r.lost.into(),
            r.short_abandons.into(),
            tenths(Some(r.answer_ratio)),
            tenths(r.service_level),
            tenths(Some(r.average_wait)),
            tenths(Some(r.longest_wait)),
            tenths(Some(r.average_abandon)),
            tenths(Some(r.talk_minutes)),
            tenths(Some(r.average_talk)),
        ];
        let fcr = resolution.then(|| tenths(r.first_call_resolution));
        sheet.row(cells.into_iter().chain(fcr))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(slot: i64, key: Option<&str>, answered: u64, lost: u64) -> ReportSums {
        ReportSums {
            slot,
            key: key.map(str::to_string),
            offered: answered + lost,
            answered,
            lost,
            short_abandons: lost.min(1),
            answered_in_target: answered,
            wait_ms: answered as i64 * 10_000,
            longest_wait_ms: 30_000,
            lost_wait_ms: lost as i64 * 20_000,
            talk_ms: answered as i64 * 120_000,
            answered_known: 0,
            resolved_first_time: 0,
        }
    }

    #[test]
    fn slots_make_the_office_days_in_its_time_zone() {
        // 22:45 UTC on 6 December is 23:45 in Warsaw; 23:00 UTC is already the 7th.
        let warsaw = jiff::tz::TimeZone::get("Europe/Warsaw").unwrap();
        let at = |h: i64, m: i64| 1_764_979_200_000 + (h * 60 + m) * 60_000;
        let rows = [sums(at(22, 45), None, 2, 0), sums(at(23, 0), None, 1, 1)];
        let by_day = report(&rows, GroupBy::Day, &warsaw);
        let days: Vec<_> = by_day
            .rows
            .iter()
            .map(|r| (r.group.as_str(), r.offered))
            .collect();
        assert_eq!(days, [("2025-12-06", 2), ("2025-12-07", 2)]);
        let by_hour = report(&rows, GroupBy::Hour, &warsaw);
        assert_eq!(by_hour.rows[1].group, "2025-12-07 00:00");
    }

    #[test]
    fn figures_are_the_call_centres_own() {
        let rows = [sums(0, Some("600"), 3, 1), sums(900_000, Some("600"), 1, 3)];
        let r = report(&rows, GroupBy::Queue, &jiff::tz::TimeZone::UTC);
        assert_eq!(r.rows.len(), 1);
        let q = &r.rows[0];
        assert_eq!(
            (q.group.as_str(), q.offered, q.answered, q.lost),
            ("600", 8, 4, 4)
        );
        assert_eq!(q.answer_ratio, 50.0);
        // 4 in target of 8 offered less 2 short abandons.
        assert_eq!(q.service_level, Some(66.7));
        assert_eq!((q.average_wait, q.average_abandon), (10.0, 20.0));
        assert_eq!((q.talk_minutes, q.average_talk), (8.0, 120.0));
        assert_eq!(r.total.offered, 8);
        let none = report(&[], GroupBy::Day, &jiff::tz::TimeZone::UTC);
        assert_eq!((none.total.offered, none.total.service_level), (0, None));
    }
}
