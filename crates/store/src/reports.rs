//! The call log summed for reports: per quarter hour of UTC (so that the office's days
//! and hours, in any time zone and across DST changes, are made of whole slots) and per
//! queue, agent, trunk, outcome or direction. SQLite does the summing over the
//! start-time index; what a report then shows is merged from these sums.

use crate::{Result, Store};

/// A slot of the report's time axis: 15 minutes, the finest any time zone's offset
/// needs.
pub const SLOT_MS: i64 = 15 * 60 * 1000;

/// What a report groups calls by besides time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKey {
    Queue,
    Agent,
    Trunk,
    Outcome,
    Direction,
    /// Each caller's number: how often one customer called, and how it went.
    Caller,
}

impl ReportKey {
    fn column(self) -> &'static str {
        match self {
            ReportKey::Queue => "queue",
            ReportKey::Agent => "answered_by",
            ReportKey::Trunk => "trunk",
            ReportKey::Outcome => "disposition",
            ReportKey::Direction => "direction",
            ReportKey::Caller => "caller",
        }
    }
}

/// Which calls a report counts and how it judges them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportQuery {
    /// Calls started at or after (unix ms).
    pub from: i64,
    /// Calls started before (unix ms).
    pub to: i64,
    pub key: Option<ReportKey>,
    /// Only calls that went through this queue.
    pub queue: Option<String>,
    /// Only calls in this direction ("inbound", "outbound", "internal").
    pub direction: Option<String>,
    /// A call given up sooner than this (ms) is a short abandon (a wrong number, a
    /// caller who changed their mind), not a lost customer.
    pub short_abandon_ms: i64,
    /// A call answered within this (ms) meets the service level.
    pub target_ms: i64,
    /// First-call resolution: an answered caller who calls again within this (ms) of
    /// the call's end was not helped the first time. None: not reckoned (it reads each
    /// caller's next call, beyond the period too).
    pub repeat_window_ms: Option<i64>,
}

/// The sums of one slot and key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportSums {
    /// The slot's start (unix ms).
    pub slot: i64,
    pub key: Option<String>,
    pub offered: u64,
    pub answered: u64,
    pub lost: u64,
    /// Lost calls given up sooner than the short-abandon time.
    pub short_abandons: u64,
    /// Answered within the service-level target.
    pub answered_in_target: u64,
    /// Waits of answered calls, from the start to the answer (ms).
    pub wait_ms: i64,
    /// The longest wait, answered or lost (ms).
    pub longest_wait_ms: i64,
    /// Waits of lost calls until they gave up (ms).
    pub lost_wait_ms: i64,
    /// Talk time of answered calls (ms).
    pub talk_ms: i64,
    /// Answered calls from callers who can be told apart (not anonymous), and of those
    /// the ones whose caller did not call again within the repeat window; both 0 when
    /// the query reckons no first-call resolution.
    pub answered_known: u64,
    pub resolved_first_time: u64,
}

impl Store {
    /// The sums of the calls `query` counts, per slot and key, in slot order.
    pub fn report_sums(&self, query: &ReportQuery) -> Result<Vec<ReportSums>> {
        let key = query.key.map_or("NULL", ReportKey::column);
        // Each caller's next call, read from calls up to a window past the period's end
        // whatever their queue or direction: a customer who calls back elsewhere was
        // not helped either.
        let (calls, resolution) = match query.repeat_window_ms {
            Some(_) => (
                "(SELECT started_at, answered_at, ended_at, disposition, queue, answered_by, \
                 trunk, direction, caller, \
                 LEAD(started_at) OVER (PARTITION BY caller ORDER BY started_at, id) AS next_start \
                 FROM call_records WHERE started_at >= ?1 AND started_at < ?2 + ?7)",
                "SUM(answered AND known), \
                 SUM(answered AND known AND (next_start IS NULL OR next_start > ended_at + ?7))",
            ),
            None => ("call_records", "0, 0"),
        };
        // The caller is read only for first-call resolution: the reports' index does
        // not hold it.
        let next = if query.repeat_window_ms.is_some() {
            ", caller NOT IN ('', 'anonymous') AS known, next_start"
        } else {
            ""
        };
        let mut sql = format!(
            "SELECT started_at / {SLOT_MS} AS slot, key, COUNT(*), \
             SUM(answered), SUM(NOT answered), \
             SUM(NOT answered AND ended_at - started_at < ?3), \
             SUM(answered AND wait <= ?4), \
             SUM(CASE WHEN answered THEN wait ELSE 0 END), \
             MAX(CASE WHEN answered THEN wait ELSE ended_at - started_at END), \
             SUM(CASE WHEN answered THEN 0 ELSE ended_at - started_at END), \
             SUM(CASE WHEN answered THEN ended_at - answered_at ELSE 0 END), {resolution} \
             FROM (SELECT started_at, answered_at, ended_at, {key} AS key, \
                   answered_at IS NOT NULL AND disposition = 'answered' AS answered, \
                   COALESCE(answered_at, ended_at) - started_at AS wait{next} FROM {calls} \
                   WHERE started_at >= ?1 AND started_at < ?2"
        );
        if query.queue.is_some() {
            sql.push_str(" AND queue = ?5");
        }
        if query.direction.is_some() {
            sql.push_str(" AND direction = ?6");
        }
        sql.push_str(") GROUP BY slot, key ORDER BY slot, key");
        let mut q = self.conn.prepare_cached(&sql)?;
        let values: Vec<rusqlite::types::Value> = vec![
            query.from.into(),
            query.to.into(),
            query.short_abandon_ms.into(),
            query.target_ms.into(),
            query.queue.clone().into(),
            query.direction.clone().into(),
            query.repeat_window_ms.into(),
        ];
        // Each statement takes only the parameters it names.
        let count = q.parameter_count();
        let rows = q.query_map(rusqlite::params_from_iter(&values[..count]), |r| {
            let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(ReportSums {
                slot: r.get::<_, i64>(0)? * SLOT_MS,
                key: r.get(1)?,
                offered: n(2)?,
                answered: n(3)?,
                lost: n(4)?,
                short_abandons: n(5)?,
                answered_in_target: n(6)?,
                wait_ms: r.get(7)?,
                longest_wait_ms: r.get(8)?,
                lost_wait_ms: r.get(9)?,
                talk_ms: r.get(10)?,
                answered_known: n(11)?,
                resolved_first_time: n(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call_log::tests::record;
    use switchboard_core::{Outcome, unix_ms};

    /// Three calls to queue 600 in one slot and one to 601 in the next: answered after
    /// 10 s and talked 60 s, answered after 40 s and talked 30 s, given up after 3 s;
    /// given up after 50 s.
    fn store() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let call = |id: &str, queue: &str, start: i64, answer: Option<i64>, end: i64| {
            let mut r = record(id, "+48601000000", start);
            r.queue = Some(queue.into());
            r.answered = answer.map(|a| unix_ms::to(start + a));
            r.ended = unix_ms::to(start + end);
            r.outcome = if answer.is_some() {
                Outcome::Answered
            } else {
                Outcome::Cancelled
            };
            (r, None)
        };
        let rows = [
            call("a", "600", 0, Some(10_000), 70_000),
            call("b", "600", 60_000, Some(40_000), 70_000),
            call("c", "600", 120_000, None, 3_000),
            call("d", "601", SLOT_MS + 1, None, 50_000),
        ];
        store.write_calls(&[], &rows, &Default::default()).unwrap();
        store
    }

    fn query(key: Option<ReportKey>) -> ReportQuery {
        ReportQuery {
            from: 0,
            to: 2 * SLOT_MS,
            key,
            short_abandon_ms: 5_000,
            target_ms: 20_000,
            ..ReportQuery::default()
        }
    }

    #[test]
    fn a_slots_calls_are_summed_with_their_waits_talk_and_abandons() {
        let sums = store().report_sums(&query(None)).unwrap();
        assert_eq!(sums.len(), 2);
        let first = &sums[0];
        assert_eq!(
            (
                first.slot,
                first.offered,
                first.answered,
                first.lost,
                first.short_abandons
            ),
            (0, 3, 2, 1, 1)
        );
        assert_eq!(first.answered_in_target, 1);
        assert_eq!((first.wait_ms, first.longest_wait_ms), (50_000, 40_000));
        assert_eq!((first.lost_wait_ms, first.talk_ms), (3_000, 90_000));
        assert_eq!(
            (sums[1].slot, sums[1].lost, sums[1].short_abandons),
            (SLOT_MS, 1, 0)
        );
    }

    #[test]
    fn calls_are_grouped_by_a_key_and_filtered_by_queue() {
        let store = store();
        let by_queue = store.report_sums(&query(Some(ReportKey::Queue))).unwrap();
        let keys: Vec<_> = by_queue.iter().map(|s| s.key.as_deref()).collect();
        assert_eq!(keys, [Some("600"), Some("601")]);
        let only = ReportQuery {
            queue: Some("601".into()),
            ..query(Some(ReportKey::Outcome))
        };
        let sums = store.report_sums(&only).unwrap();
        assert_eq!(sums.len(), 1);
        assert_eq!(sums[0].key.as_deref(), Some("cancelled"));
    }

    /// Caller X is answered at 0 and 1 h (100 s each), Y at 0 (50 s), and an anonymous
    /// caller at 0.
    #[test]
    fn a_caller_who_calls_again_within_the_window_was_not_helped_the_first_time() {
        let mut store = Store::open_in_memory().unwrap();
        let answered = |id: &str, caller: &str, start: i64, talk: i64| {
            let mut r = record(id, caller, start);
            r.answered = Some(unix_ms::to(start + 1_000));
            r.ended = unix_ms::to(start + 1_000 + talk);
            r.outcome = Outcome::Answered;
            (r, None)
        };
        let hour = 3_600_000;
        let rows = [
            answered("x1", "+48601000001", 0, 99_000),
            answered("x2", "+48601000001", hour, 99_000),
            answered("y", "+48601000002", 0, 49_000),
            answered("anonymous", "anonymous", 0, 49_000),
        ];
        store.write_calls(&[], &rows, &Default::default()).unwrap();
        let resolution = |to: i64, window: i64| {
            let q = ReportQuery {
                from: 0,
                to,
                repeat_window_ms: Some(window),
                ..query(None)
            };
            let sums = store.report_sums(&q).unwrap();
            let known = sums.iter().map(|s| s.answered_known).sum::<u64>();
            let resolved = sums.iter().map(|s| s.resolved_first_time).sum::<u64>();
            (known, resolved)
        };
        assert_eq!(resolution(2 * hour, 2 * hour), (3, 2), "x1 called again");
        assert_eq!(
            resolution(2 * hour, hour / 2),
            (3, 3),
            "not within half an hour"
        );
        assert_eq!(
            resolution(hour / 2, 2 * hour),
            (2, 1),
            "x2, after the period, still counts against x1"
        );
        let without = store.report_sums(&query(None)).unwrap();
        assert!(without.iter().all(|s| s.answered_known == 0));
    }
}
