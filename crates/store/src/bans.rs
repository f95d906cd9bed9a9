//! Banned addresses, kept so that a restart does not let a guesser or a flood back in.

use rusqlite::params;

use crate::{Result, Store};

/// One ban as stored; `until_ms` in unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRow {
    pub ip: String,
    pub until_ms: i64,
    pub reason: String,
}

/// One change to the bans kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanWrite {
    Banned(BanRow),
    Lifted { ip: String },
}

impl Store {
    /// Applies ban changes in one transaction; bans that ended are forgotten on the way.
    pub fn write_bans(&mut self, writes: &[BanWrite], now_ms: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        for write in writes {
            match write {
                BanWrite::Banned(b) => tx.execute(
                    "INSERT INTO bans (ip, until_ms, reason) VALUES (?1, ?2, ?3)
                     ON CONFLICT(ip) DO UPDATE SET until_ms = ?2, reason = ?3",
                    params![b.ip, b.until_ms, b.reason],
                )?,
                BanWrite::Lifted { ip } => tx.execute("DELETE FROM bans WHERE ip = ?1", [ip])?,
            };
        }
        tx.execute("DELETE FROM bans WHERE until_ms <= ?1", [now_ms])?;
        tx.commit()?;
        Ok(())
    }

    /// The bans still in force at `now_ms`, ending soonest first.
    pub fn bans(&self, now_ms: i64) -> Result<Vec<BanRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT ip, until_ms, reason FROM bans WHERE until_ms > ?1 ORDER BY until_ms, ip",
        )?;
        let rows = stmt.query_map([now_ms], |r| {
            Ok(BanRow {
                ip: r.get(0)?,
                until_ms: r.get(1)?,
                reason: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ban(ip: &str, until_ms: i64) -> BanWrite {
        BanWrite::Banned(BanRow {
            ip: ip.into(),
            until_ms,
            reason: "flood".into(),
        })
    }

    #[test]
    fn bans_are_kept_renewed_lifted_and_forgotten_when_over() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write_bans(&[ban("192.0.2.1", 5000), ban("192.0.2.2", 9000)], 0)
            .unwrap();
        store.write_bans(&[ban("192.0.2.1", 20_000)], 0).unwrap();
        let ips = |store: &Store, now| -> Vec<(String, i64)> {
            store
                .bans(now)
                .unwrap()
                .into_iter()
                .map(|b| (b.ip, b.until_ms))
                .collect()
        };
        assert_eq!(
            ips(&store, 0),
            [("192.0.2.2".into(), 9000), ("192.0.2.1".into(), 20_000)]
        );
        store
            .write_bans(
                &[BanWrite::Lifted {
                    ip: "192.0.2.1".into(),
                }],
                0,
            )
            .unwrap();
        assert_eq!(ips(&store, 0), [("192.0.2.2".into(), 9000)]);
        assert!(ips(&store, 9000).is_empty(), "over at its end");
    }
}
