//! The queue log: every queue event (a caller joins, an agent misses a call, a VIP
//! takes over an agent…) is committed as it happens, so reports and the call log can
//! replay what callers and agents went through, and a crash loses none of it.

use rusqlite::params;

use crate::{Result, Store};

/// One queue event as stored; `at` in unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEventRow {
    pub at: i64,
    pub queue: Option<String>,
    pub call_id: Option<String>,
    pub agent: Option<String>,
    pub event: String,
    pub waited_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    /// A priority (VIP) queue's event.
    pub vip: bool,
    pub detail: String,
}

impl Store {
    /// Appends queue events, and the `notices` telling of them, in one transaction: once
    /// this returns they survive a crash.
    pub fn insert_queue_events(
        &mut self,
        rows: &[QueueEventRow],
        notices: &crate::Notices,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO queue_events (at, queue, call_id, agent, event, waited_ms, \
                 talk_ms, vip, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for r in rows {
                insert.execute(params![
                    r.at,
                    r.queue,
                    r.call_id,
                    r.agent,
                    r.event,
                    r.waited_ms,
                    r.talk_ms,
                    r.vip,
                    r.detail
                ])?;
            }
        }
        notices.insert(&tx, rows.first().map_or(0, |r| r.at))?;
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` queue events, oldest first.
    pub fn queue_events(&self, limit: u32) -> Result<Vec<QueueEventRow>> {
        let mut q = self.conn.prepare(
            "SELECT at, queue, call_id, agent, event, waited_ms, talk_ms, vip, detail FROM \
             (SELECT * FROM queue_events ORDER BY id DESC LIMIT ?1) ORDER BY id",
        )?;
        let rows = q.query_map([limit], |r| {
            Ok(QueueEventRow {
                at: r.get(0)?,
                queue: r.get(1)?,
                call_id: r.get(2)?,
                agent: r.get(3)?,
                event: r.get(4)?,
                waited_ms: r.get(5)?,
                talk_ms: r.get(6)?,
                vip: r.get(7)?,
                detail: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_in_order_and_unknown_kinds_are_refused_whole() {
        let mut store = Store::open_in_memory().unwrap();
        let join = QueueEventRow {
            at: 1_000,
            queue: Some("600".into()),
            call_id: Some("c1@phone".into()),
            agent: None,
            event: "join".into(),
            waited_ms: None,
            talk_ms: None,
            vip: false,
            detail: "position 1".into(),
        };
        let connect = QueueEventRow {
            at: 13_000,
            agent: Some("101".into()),
            event: "connect".into(),
            waited_ms: Some(12_000),
            detail: String::new(),
            ..join.clone()
        };
        store
            .insert_queue_events(&[join.clone(), connect.clone()], &Default::default())
            .unwrap();
        assert_eq!(store.queue_events(10).unwrap(), [join.clone(), connect]);
        let bad = QueueEventRow {
            event: "teleport".into(),
            ..join.clone()
        };
        assert!(
            store
                .insert_queue_events(&[join, bad], &Default::default())
                .is_err()
        );
        assert_eq!(store.queue_events(10).unwrap().len(), 2);
    }
}
