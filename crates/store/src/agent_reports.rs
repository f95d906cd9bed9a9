//! The queue log summed per agent for the agents' report: the calls offered to each,
//! answered, missed or declined (VIP calls among them), their talk time, and the time
//! each was logged in and on a break over a period.

use std::collections::BTreeMap;

use rusqlite::params;

use crate::{Result, Store};

/// One agent's figures over a period (times in ms).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSums {
    /// The agent's extension.
    pub agent: String,
    /// Calls whose phone rang for the agent: answered, missed or declined.
    pub offers: u64,
    pub answered: u64,
    /// Rang until the queue's ring time ran out.
    pub missed: u64,
    pub declined: u64,
    /// A priority (VIP) queue's calls the agent missed or declined.
    pub vip_not_taken: u64,
    /// Calls that ended after being put through, and their talk time.
    pub completed: u64,
    pub talk_ms: i64,
    pub logged_in_ms: i64,
    pub break_ms: i64,
}

/// Where an agent's day stands while the log is read.
#[derive(Debug, Default)]
struct Presence {
    seen: bool,
    logged_in: Option<i64>,
    on_break: Option<i64>,
}

impl Store {
    /// The figures of every agent the queue log names between `from` and `to` (unix
    /// ms); an agent still logged in or on a break is counted until `until` (now) if
    /// that comes first. With `queue`, the calls of that queue alone (presence and
    /// breaks are the agent's, whatever the queue).
    pub fn agent_sums(
        &self,
        (from, to): (i64, i64),
        until: i64,
        queue: Option<&str>,
    ) -> Result<Vec<AgentSums>> {
        let mut agents: BTreeMap<String, AgentSums> = BTreeMap::new();
        let mut calls = self.conn.prepare_cached(
            "SELECT agent, SUM(event IN ('connect', 'ring-no-answer', 'declined')), \
             SUM(event = 'connect'), SUM(event = 'ring-no-answer'), SUM(event = 'declined'), \
             SUM(vip AND event IN ('ring-no-answer', 'declined')), SUM(event = 'complete'), \
             COALESCE(SUM(CASE WHEN event = 'complete' THEN talk_ms END), 0) \
             FROM queue_events WHERE at >= ?1 AND at < ?2 AND agent IS NOT NULL \
             AND event IN ('connect', 'ring-no-answer', 'declined', 'complete') \
             AND (?3 IS NULL OR queue = ?3) GROUP BY agent",
        )?;
        let rows = calls.query_map(params![from, to, queue], |r| {
            let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
            Ok(AgentSums {
                agent: r.get(0)?,
                offers: n(1)?,
                answered: n(2)?,
                missed: n(3)?,
                declined: n(4)?,
                vip_not_taken: n(5)?,
                completed: n(6)?,
                talk_ms: r.get(7)?,
                ..AgentSums::default()
            })
        })?;
        for row in rows {
            let row = row?;
            agents.insert(row.agent.clone(), row);
        }
        let end = to.min(until).max(from);
        let mut presence = self.conn.prepare_cached(
            "SELECT agent, at, event FROM queue_events WHERE at >= ?1 AND at < ?2 \
             AND agent IS NOT NULL AND event IN ('login', 'logout', 'pause', 'unpause') \
             ORDER BY agent, at, id",
        )?;
        let mut rows = presence.query(params![from, end])?;
        let mut states: BTreeMap<String, Presence> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            let (agent, at, event): (String, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let sums = agents.entry(agent.clone()).or_insert_with(|| AgentSums {
                agent: agent.clone(),
                ..AgentSums::default()
            });
            let p = states.entry(agent).or_default();
            // What the first event of the period says of the time before it: an agent
            // who logs out, pauses or comes back was logged in since the period began,
            // and one who comes back was on a break since then too.
            if !p.seen {
                p.seen = true;
                if event != "login" {
                    p.logged_in = Some(from);
                }
                if event == "unpause" {
                    p.on_break = Some(from);
                }
            }
            match event.as_str() {
                "login" => {
                    p.logged_in.get_or_insert(at);
                }
                "logout" => {
                    if let Some(since) = p.logged_in.take() {
                        sums.logged_in_ms += at - since;
                    }
                    if let Some(since) = p.on_break.take() {
                        sums.break_ms += at - since;
                    }
                }
                "pause" => {
                    p.logged_in.get_or_insert(at);
                    p.on_break.get_or_insert(at);
                }
                _ => {
                    if let Some(since) = p.on_break.take() {
                        sums.break_ms += at - since;
                    }
                }
            }
        }
        for (agent, p) in states {
            let sums = agents
                .get_mut(&agent)
                .expect("every agent with presence is listed");
            sums.logged_in_ms += p.logged_in.map_or(0, |since| end - since);
            sums.break_ms += p.on_break.map_or(0, |since| end - since);
        }
        Ok(agents.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QueueEventRow;

    fn event(at: i64, queue: Option<&str>, agent: &str, event: &str) -> QueueEventRow {
        QueueEventRow {
            at,
            queue: queue.map(str::to_string),
            call_id: queue.map(|_| format!("call-{at}")),
            agent: Some(agent.into()),
            event: event.into(),
            waited_ms: None,
            talk_ms: (event == "complete").then_some(60_000),
            vip: queue == Some("700"),
            detail: String::new(),
        }
    }

    #[test]
    fn an_agents_calls_breaks_and_time_logged_in_are_summed_over_the_period() {
        let mut store = Store::open_in_memory().unwrap();
        let minute = 60_000;
        let rows = [
            // 101 logs in at 0, answers a call in 600 and misses a VIP call in 700,
            // takes a 10-minute break and logs out at 60.
            event(0, None, "101", "login"),
            event(minute, Some("600"), "101", "connect"),
            event(2 * minute, Some("600"), "101", "complete"),
            event(3 * minute, Some("700"), "101", "ring-no-answer"),
            event(10 * minute, None, "101", "pause"),
            event(20 * minute, None, "101", "unpause"),
            event(60 * minute, None, "101", "logout"),
            // 102 was logged in before the period and on a break at its end.
            event(30 * minute, Some("600"), "102", "declined"),
            event(50 * minute, None, "102", "pause"),
        ];
        store
            .insert_queue_events(&rows, &Default::default())
            .unwrap();
        let sums = store.agent_sums((0, 90 * minute), i64::MAX, None).unwrap();
        assert_eq!(sums.len(), 2);
        let a = &sums[0];
        assert_eq!(
            (
                a.agent.as_str(),
                a.offers,
                a.answered,
                a.missed,
                a.declined,
                a.vip_not_taken
            ),
            ("101", 2, 1, 1, 0, 1)
        );
        assert_eq!((a.completed, a.talk_ms), (1, 60_000));
        assert_eq!((a.logged_in_ms, a.break_ms), (60 * minute, 10 * minute));
        let b = &sums[1];
        assert_eq!((b.offers, b.declined), (1, 1));
        assert_eq!(
            (b.logged_in_ms, b.break_ms),
            (90 * minute, 40 * minute),
            "logged in all along, on a break from 50 to the period's end"
        );
        // Now is 70 minutes: 102's break and presence run until now.
        let sums = store
            .agent_sums((0, 90 * minute), 70 * minute, None)
            .unwrap();
        assert_eq!(
            (sums[1].logged_in_ms, sums[1].break_ms),
            (70 * minute, 20 * minute)
        );
        // Queue 600's calls alone.
        let sums = store
            .agent_sums((0, 90 * minute), i64::MAX, Some("600"))
            .unwrap();
        assert_eq!((sums[0].offers, sums[0].vip_not_taken), (1, 0));
    }
}
