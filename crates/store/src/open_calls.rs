//! Calls in progress, kept so that none is lost from the call log when the process is
//! killed or the PC loses power in the middle of it.

use rusqlite::params;

use crate::{CallRecordRow, Result, Store, insert_call_records};

/// A call that began and has no record yet; `started_at` in unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCallRow {
    /// The engine's number for the call, unique while the server runs.
    pub key: i64,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    pub started_at: i64,
}

/// What an interrupted call's record says of its end, which nobody saw.
pub const INTERRUPTED: &str = "Switchboard stopped during the call; when it ended is not known";

impl Store {
    /// Notes calls that began, and writes the records of calls that ended (with the
    /// keys they were opened under), in one transaction.
    pub fn write_calls(
        &mut self,
        opened: &[OpenCallRow],
        records: &[(CallRecordRow, Option<i64>)],
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        for o in opened {
            tx.execute(
                "INSERT OR REPLACE INTO open_calls (key, call_id, caller, callee, started_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![o.key, o.call_id, o.caller, o.callee, o.started_at],
            )?;
        }
        let rows: Vec<CallRecordRow> = records.iter().map(|(r, _)| r.clone()).collect();
        insert_call_records(&tx, &rows)?;
        for key in records.iter().filter_map(|(_, key)| *key) {
            tx.execute("DELETE FROM open_calls WHERE key = ?1", [key])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// At start, before any call: every call still open was cut when Switchboard
    /// stopped; each becomes an "interrupted" record. Returns how many.
    pub fn close_interrupted_calls(&mut self) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let open: Vec<OpenCallRow> = {
            let mut stmt = tx.prepare(
                "SELECT key, call_id, caller, callee, started_at FROM open_calls ORDER BY key",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(OpenCallRow {
                    key: r.get(0)?,
                    call_id: r.get(1)?,
                    caller: r.get(2)?,
                    callee: r.get(3)?,
                    started_at: r.get(4)?,
                })
            })?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let records: Vec<CallRecordRow> = open
            .iter()
            .map(|o| CallRecordRow {
                call_id: o.call_id.clone(),
                caller: o.caller.clone(),
                callee: o.callee.clone(),
                started_at: o.started_at,
                answered_at: None,
                ended_at: o.started_at,
                disposition: "interrupted".into(),
                hangup_by: "system".into(),
                caller_codec: None,
                callee_codec: None,
                sip_code: 0,
                reason: INTERRUPTED.into(),
                queue: None,
                answered_by: None,
                priority: 0,
                preempted: false,
                scenario_path: None,
            })
            .collect();
        insert_call_records(&tx, &records)?;
        tx.execute("DELETE FROM open_calls", [])?;
        tx.commit()?;
        Ok(records.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(key: i64) -> OpenCallRow {
        OpenCallRow {
            key,
            call_id: format!("c{key}"),
            caller: "100".into(),
            callee: "101".into(),
            started_at: 1000 * key,
        }
    }

    #[test]
    fn a_call_still_open_at_the_next_start_is_recorded_as_interrupted() {
        let mut store = Store::open_in_memory().unwrap();
        store.write_calls(&[opened(1), opened(2)], &[]).unwrap();
        let ended = CallRecordRow {
            disposition: "answered".into(),
            hangup_by: "caller".into(),
            sip_code: 200,
            ended_at: 5000,
            reason: "Normal Clearing".into(),
            ..interrupted_shape(opened(1))
        };
        store.write_calls(&[], &[(ended, Some(1))]).unwrap();
        assert_eq!(store.close_interrupted_calls().unwrap(), 1);
        assert_eq!(store.close_interrupted_calls().unwrap(), 0, "closed once");
        let records = store.call_records(10).unwrap();
        let dispositions: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.call_id.as_str(), r.disposition.as_str()))
            .collect();
        assert_eq!(dispositions, [("c2", "interrupted"), ("c1", "answered")]);
        assert_eq!(records[0].reason, INTERRUPTED);
    }

    fn interrupted_shape(o: OpenCallRow) -> CallRecordRow {
        CallRecordRow {
            call_id: o.call_id,
            caller: o.caller,
            callee: o.callee,
            started_at: o.started_at,
            answered_at: None,
            ended_at: o.started_at,
            disposition: String::new(),
            hangup_by: String::new(),
            caller_codec: None,
            callee_codec: None,
            sip_code: 0,
            reason: String::new(),
            queue: None,
            answered_by: None,
            priority: 0,
            preempted: false,
            scenario_path: None,
        }
    }
}
