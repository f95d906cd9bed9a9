//! Reading the call log back, filtered the way an office asks: a period, a number, a
//! queue, an agent, an outcome, only priority (VIP) calls; and counted, for the
//! wallboard's "calls today".

use rusqlite::types::Value;

use switchboard_core::{CallRecord, Direction, HangupBy, Outcome, unix_ms};
use switchboard_queue::Priority;

use crate::{Result, Store};

/// Which call records to read; every filter left empty matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// Started at or after (unix ms).
    pub from: Option<i64>,
    /// Started before (unix ms).
    pub to: Option<i64>,
    /// Part of the caller's or the callee's number.
    pub number: Option<String>,
    pub queue: Option<String>,
    /// The extension that answered.
    pub agent: Option<String>,
    pub outcome: Option<Outcome>,
    pub direction: Option<Direction>,
    /// The trunk the call came in or went out through.
    pub trunk: Option<String>,
    /// Only calls whose caller had a priority above 0.
    pub priority_only: bool,
    /// The newest this many; 0 means all.
    pub limit: u32,
}

/// Calls to one queue (or to no queue), answered or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCount {
    pub queue: Option<String>,
    pub answered: bool,
    pub calls: u64,
}

impl Store {
    /// The calls started at or after `since` (unix ms), counted by queue and whether
    /// they were answered.
    pub fn call_counts_since(&self, since: i64) -> Result<Vec<CallCount>> {
        let mut q = self.conn.prepare_cached(
            "SELECT queue, disposition = 'answered', COUNT(*) FROM call_records \
             WHERE started_at >= ?1 GROUP BY 1, 2 ORDER BY 1, 2",
        )?;
        let rows = q.query_map([since], |r| {
            Ok(CallCount {
                queue: r.get(0)?,
                answered: r.get(1)?,
                calls: r.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Each extension's talk time on calls out answered since `since` (unix ms), in
    /// milliseconds: what the daily limit of minutes out has used today.
    pub fn talk_out_since(&self, since: i64) -> Result<Vec<(String, i64)>> {
        let mut q = self.conn.prepare_cached(
            "SELECT caller, SUM(ended_at - answered_at) FROM call_records \
             WHERE direction = 'outbound' AND answered_at IS NOT NULL AND started_at >= ?1 \
             GROUP BY caller ORDER BY caller",
        )?;
        let rows = q.query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The call records `filter` matches, newest first.
    pub fn call_records_matching(&self, filter: &CallFilter) -> Result<Vec<CallRecord>> {
        let mut conditions = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let mut when = |sql: &str, value: Value| {
            values.push(value);
            conditions.push(sql.replace('?', &format!("?{}", values.len())));
        };
        if let Some(from) = filter.from {
            when("started_at >= ?", from.into());
        }
        if let Some(to) = filter.to {
            when("started_at < ?", to.into());
        }
        if let Some(number) = &filter.number {
            // instr, not LIKE: a number typed with '%' or '_' matches only itself.
            when(
                "(instr(caller, ?) > 0 OR instr(callee, ?) > 0)",
                number.clone().into(),
            );
        }
        if let Some(queue) = &filter.queue {
            when("queue = ?", queue.clone().into());
        }
        if let Some(agent) = &filter.agent {
            when("answered_by = ?", agent.clone().into());
        }
        if let Some(outcome) = &filter.outcome {
            when("disposition = ?", outcome.as_str().to_string().into());
        }
        if let Some(direction) = filter.direction {
            when("direction = ?", direction.as_str().to_string().into());
        }
        if let Some(trunk) = &filter.trunk {
            when("trunk = ?", trunk.clone().into());
        }
        if filter.priority_only {
            conditions.push("priority > 0".into());
        }
        let mut sql = String::from(
            "SELECT call_id, caller, callee, started_at, answered_at, ended_at, disposition, \
             hangup_by, caller_codec, callee_codec, sip_code, reason, queue, answered_by, \
             priority, preempted, scenario_path, direction, trunk, history, recording \
             FROM call_records",
        );
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY id DESC");
        if filter.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", filter.limit));
        }
        let mut q = self.conn.prepare(&sql)?;
        let rows = q.query_map(rusqlite::params_from_iter(values), |r| {
            Ok(CallRecord {
                call_id: r.get(0)?,
                caller: r.get(1)?,
                callee: r.get(2)?,
                started: unix_ms::to(r.get(3)?),
                answered: r.get::<_, Option<i64>>(4)?.map(unix_ms::to),
                ended: unix_ms::to(r.get(5)?),
                outcome: Outcome::from_stored(&r.get::<_, String>(6)?),
                hangup_by: HangupBy::from_stored(&r.get::<_, String>(7)?),
                caller_codec: r.get(8)?,
                callee_codec: r.get(9)?,
                sip_code: r.get(10)?,
                reason: r.get(11)?,
                queue: r.get(12)?,
                answered_by: r.get(13)?,
                priority: Priority(r.get(14)?),
                preempted: r.get(15)?,
                scenario_path: r.get(16)?,
                direction: Direction::from_stored(&r.get::<_, String>(17)?),
                trunk: r.get(18)?,
                history: r.get(19)?,
                recording: r.get(20)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The newest `limit` call records, newest first.
    pub fn call_records(&self, limit: u32) -> Result<Vec<CallRecord>> {
        self.call_records_matching(&CallFilter {
            limit,
            ..CallFilter::default()
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{CallCount, CallFilter};
    use crate::Store;
    use switchboard_core::{CallRecord, Direction, HangupBy, Outcome, unix_ms};
    use switchboard_queue::Priority;

    pub(crate) fn record(call_id: &str, caller: &str, started_at: i64) -> CallRecord {
        CallRecord {
            call_id: call_id.into(),
            caller: caller.into(),
            callee: "600".into(),
            started: unix_ms::to(started_at),
            answered: None,
            ended: unix_ms::to(started_at + 1000),
            outcome: Outcome::Cancelled,
            hangup_by: HangupBy::Caller,
            direction: Direction::Internal,
            trunk: None,
            caller_codec: None,
            callee_codec: None,
            sip_code: 487,
            reason: String::new(),
            queue: None,
            answered_by: None,
            priority: Priority(0),
            preempted: false,
            scenario_path: None,
            history: None,
            recording: None,
        }
    }

    #[test]
    fn talk_out_is_summed_per_extension_from_a_moment_on() {
        let mut store = Store::open_in_memory().unwrap();
        let out = |id: &str, caller: &str, start: i64, talk: Option<i64>| CallRecord {
            direction: Direction::Outbound,
            answered: talk.map(|_| unix_ms::to(start + 5_000)),
            ended: unix_ms::to(start + 5_000 + talk.unwrap_or(0)),
            outcome: if talk.is_some() {
                Outcome::Answered
            } else {
                Outcome::Failed
            },
            ..record(id, caller, start)
        };
        for r in [
            out("a", "101", 1_000, Some(60_000)),
            out("b", "101", 2_000_000, Some(90_000)),
            out("c", "101", 2_100_000, None),
            out("d", "102", 2_200_000, Some(30_000)),
            CallRecord {
                answered: Some(unix_ms::to(2_300_000)),
                ended: unix_ms::to(2_400_000),
                ..record("e", "103", 2_290_000)
            },
        ] {
            store.insert_call_records(&[r]).unwrap();
        }
        assert_eq!(
            store.talk_out_since(1_000_000).unwrap(),
            [("101".to_string(), 90_000), ("102".to_string(), 30_000)]
        );
    }

    #[test]
    fn each_filter_narrows_the_log() {
        let mut store = Store::open_in_memory().unwrap();
        let plain = record("a", "+48221234567", 1_000);
        let vip = CallRecord {
            queue: Some("600".into()),
            answered_by: Some("101".into()),
            outcome: Outcome::Answered,
            priority: Priority(50),
            direction: Direction::Inbound,
            trunk: Some("Provider".into()),
            ..record("b", "+48601000000", 2_000)
        };
        let odd = record("c", "10%_", 3_000);
        store
            .insert_call_records(&[plain.clone(), vip.clone(), odd.clone()])
            .unwrap();
        let ids = |filter: CallFilter| -> Vec<String> {
            store
                .call_records_matching(&filter)
                .unwrap()
                .into_iter()
                .map(|r| r.call_id)
                .collect()
        };
        assert_eq!(ids(CallFilter::default()), ["c", "b", "a"]);
        let period = CallFilter {
            from: Some(1_500),
            to: Some(3_000),
            ..CallFilter::default()
        };
        assert_eq!(ids(period), ["b"]);
        let number = |n: &str| CallFilter {
            number: Some(n.into()),
            ..CallFilter::default()
        };
        assert_eq!(ids(number("2212")), ["a"]);
        assert_eq!(
            ids(number("600")),
            ["c", "b", "a"],
            "the callee matches too"
        );
        assert_eq!(ids(number("%")), ["c"], "'%' is no wildcard");
        for filter in [
            CallFilter {
                queue: Some("600".into()),
                ..CallFilter::default()
            },
            CallFilter {
                agent: Some("101".into()),
                ..CallFilter::default()
            },
            CallFilter {
                outcome: Some(Outcome::Answered),
                ..CallFilter::default()
            },
            CallFilter {
                priority_only: true,
                ..CallFilter::default()
            },
            CallFilter {
                direction: Some(Direction::Inbound),
                ..CallFilter::default()
            },
            CallFilter {
                trunk: Some("Provider".into()),
                ..CallFilter::default()
            },
        ] {
            assert_eq!(ids(filter.clone()), ["b"], "{filter:?}");
        }
        assert_eq!(
            ids(CallFilter {
                limit: 2,
                ..CallFilter::default()
            }),
            ["c", "b"]
        );
    }

    #[test]
    fn calls_are_counted_by_queue_and_answer_from_a_moment_on() {
        let mut store = Store::open_in_memory().unwrap();
        let answered = |id: &str, at: i64| CallRecord {
            queue: Some("600".into()),
            outcome: Outcome::Answered,
            ..record(id, "100", at)
        };
        let abandoned = CallRecord {
            queue: Some("600".into()),
            ..record("c", "101", 3_000)
        };
        store
            .insert_call_records(&[
                answered("yesterday", 500),
                answered("a", 1_000),
                answered("b", 2_000),
                abandoned,
                record("direct", "102", 4_000),
            ])
            .unwrap();
        let count = |queue: Option<&str>, answered, calls| CallCount {
            queue: queue.map(str::to_string),
            answered,
            calls,
        };
        assert_eq!(
            store.call_counts_since(1_000).unwrap(),
            [
                count(None, false, 1),
                count(Some("600"), false, 1),
                count(Some("600"), true, 2),
            ]
        );
        assert!(store.call_counts_since(5_000).unwrap().is_empty());
    }
}
