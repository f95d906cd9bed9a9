//! The agents' report: what each agent did over a period, from the queue log's sums
//! ([`switchboard_store::AgentSums`]): offers answered, missed and declined (VIP calls
//! not taken apart), average handle time, talk and break time, time logged in and
//! occupancy. Wrap-up time is not in the queue log, so it is not reckoned.

use serde::Serialize;
use switchboard_store::AgentSums;
use utoipa::ToSchema;

use crate::spreadsheet::{Cell, Sheet, SheetError, tenths};

/// One agent's row (times in minutes, averages in seconds, shares in percent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct AgentRow {
    /// The agent's extension; empty for the whole team.
    pub agent: String,
    /// Queue calls their phone rang for.
    pub offers: u64,
    pub answered: u64,
    /// Rang until the queue's ring time ran out.
    pub missed: u64,
    pub declined: u64,
    /// A VIP queue's calls missed or declined.
    pub vip_not_taken: u64,
    /// Answered of offered.
    pub answer_ratio: Option<f64>,
    /// Average talk time of the calls they completed (AHT, without wrap-up).
    pub average_handle: f64,
    pub talk_minutes: f64,
    pub break_minutes: f64,
    pub logged_in_minutes: f64,
    /// Talk time of the time logged in and not on a break; none without such time.
    pub occupancy: Option<f64>,
}

/// The agents' rows, and the whole team's.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AgentReport {
    pub rows: Vec<AgentRow>,
    pub total: AgentRow,
}

fn row(agent: String, s: &AgentSums) -> AgentRow {
    let percent =
        |part: f64, whole: f64| (whole > 0.0).then(|| (part * 1000.0 / whole).round() / 10.0);
    let minutes = |ms: i64| ms as f64 / 60_000.0;
    let available = s.logged_in_ms - s.break_ms;
    AgentRow {
        agent,
        offers: s.offers,
        answered: s.answered,
        missed: s.missed,
        declined: s.declined,
        vip_not_taken: s.vip_not_taken,
        answer_ratio: percent(s.answered as f64, s.offers as f64),
        average_handle: if s.completed == 0 {
            0.0
        } else {
            s.talk_ms as f64 / 1000.0 / s.completed as f64
        },
        talk_minutes: minutes(s.talk_ms),
        break_minutes: minutes(s.break_ms),
        logged_in_minutes: minutes(s.logged_in_ms),
        occupancy: percent(s.talk_ms as f64, available as f64),
    }
}

/// The report of `sums`, an agent a row.
pub fn agent_report(sums: &[AgentSums]) -> AgentReport {
    let mut team = AgentSums::default();
    for s in sums {
        team.offers += s.offers;
        team.answered += s.answered;
        team.missed += s.missed;
        team.declined += s.declined;
        team.vip_not_taken += s.vip_not_taken;
        team.completed += s.completed;
        team.talk_ms += s.talk_ms;
        team.break_ms += s.break_ms;
        team.logged_in_ms += s.logged_in_ms;
    }
    AgentReport {
        rows: sums.iter().map(|s| row(s.agent.clone(), s)).collect(),
        total: row(String::new(), &team),
    }
}

/// Writes `report` to `sheet`: a header, an agent a row, the team last.
pub fn write_agent_report(sheet: &mut Sheet, report: &AgentReport) -> Result<(), SheetError> {
    let header = [
        "agent",
        "offers",
        "answered",
        "missed",
        "declined",
        "VIP not taken",
        "answered (%)",
        "average handle (s)",
        "talk (min)",
        "break (min)",
        "logged in (min)",
        "occupancy (%)",
    ];
    sheet.row(header.map(Cell::from))?;
    let team = AgentRow {
        agent: "total".into(),
        ..report.total.clone()
    };
    for r in report.rows.iter().chain([&team]) {
        sheet.row([
            r.agent.clone().into(),
            r.offers.into(),
            r.answered.into(),
            r.missed.into(),
            r.declined.into(),
            r.vip_not_taken.into(),
            tenths(r.answer_ratio),
            tenths(Some(r.average_handle)),
            tenths(Some(r.talk_minutes)),
            tenths(Some(r.break_minutes)),
            tenths(Some(r.logged_in_minutes)),
            tenths(r.occupancy),
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agents_shares_and_averages_are_the_call_centres_own() {
        let anna = AgentSums {
            agent: "101".into(),
            offers: 8,
            answered: 6,
            missed: 1,
            declined: 1,
            vip_not_taken: 1,
            completed: 6,
            talk_ms: 6 * 180_000,
            logged_in_ms: 8 * 3_600_000,
            break_ms: 3_600_000,
        };
        let report = agent_report(&[
            anna,
            AgentSums {
                agent: "102".into(),
                ..AgentSums::default()
            },
        ]);
        let a = &report.rows[0];
        assert_eq!((a.answer_ratio, a.average_handle), (Some(75.0), 180.0));
        assert_eq!(
            (a.talk_minutes, a.break_minutes, a.logged_in_minutes),
            (18.0, 60.0, 480.0)
        );
        // 18 minutes of 7 hours available.
        assert_eq!(a.occupancy, Some(4.3));
        let b = &report.rows[1];
        assert_eq!(
            (b.answer_ratio, b.occupancy),
            (None, None),
            "nothing to share"
        );
        assert_eq!(
            (report.total.offers, report.total.answer_ratio),
            (8, Some(75.0))
        );
    }
}
