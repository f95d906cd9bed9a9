//! Switchboard's SQLite store: one database file, WAL, numbered migrations.
//!
//! Configuration (extensions, settings) is replaced in one transaction, so an import
//! lands whole or not at all. Registrations are a copy of the registrar's
//! memory, written in batches.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use switchboard_core::{CallRecord, unix_ms};

/// Schema history; append only. Each entry is one numbered migration.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!(
        "../migrations/0001_extensions_and_settings.sql"
    )),
    M::up(include_str!(
        "../migrations/0002_registrations_and_enabled.sql"
    )),
    M::up(include_str!("../migrations/0003_call_records.sql")),
    M::up(include_str!("../migrations/0004_queue_events.sql")),
    M::up(include_str!("../migrations/0005_call_records_queues.sql")),
    M::up(include_str!(
        "../migrations/0006_call_records_preempted.sql"
    )),
    M::up(include_str!("../migrations/0007_scenarios.sql")),
    M::up(include_str!("../migrations/0008_call_records_scenario.sql")),
    M::up(include_str!("../migrations/0009_voicemail.sql")),
    M::up(include_str!("../migrations/0010_admin_accounts.sql")),
    M::up(include_str!("../migrations/0011_bans.sql")),
    M::up(include_str!("../migrations/0012_open_calls.sql")),
    M::up(include_str!("../migrations/0013_extension_encryption.sql")),
    M::up(include_str!(
        "../migrations/0014_call_direction_and_trunk.sql"
    )),
    M::up(include_str!("../migrations/0015_call_records_history.sql")),
    M::up(include_str!("../migrations/0016_outbox.sql")),
    M::up(include_str!("../migrations/0017_callback_requests.sql")),
    M::up(include_str!(
        "../migrations/0018_call_records_recording.sql"
    )),
    M::up(include_str!("../migrations/0019_recording_access.sql")),
    M::up(include_str!(
        "../migrations/0020_call_records_report_index.sql"
    )),
    M::up(include_str!("../migrations/0021_webhook_outbox.sql")),
    M::up(include_str!("../migrations/0022_lost_call_tasks.sql")),
    M::up(include_str!(
        "../migrations/0023_report_index_with_caller.sql"
    )),
];

mod admin;
mod agent_reports;
mod bans;
mod call_log;
mod callbacks;
#[cfg(any(test, feature = "test-support"))]
pub mod generated;
mod open_calls;
mod outbox;
mod queue_log;
mod recordings;
mod reports;
mod scenarios;
mod voicemail;
mod webhooks;

pub use agent_reports::AgentSums;
pub use bans::{BanRow, BanWrite};
pub use call_log::{CallCount, CallFilter};
pub use outbox::{Mail, Notices, QueuedMail};
pub use queue_log::QueueEventRow;
pub use recordings::{RecordedCall, RecordingAccess};
pub use reports::{ReportKey, ReportQuery, ReportSums, SLOT_MS};
pub use scenarios::ScenarioVersion;
pub use voicemail::{VoicemailChange, VoicemailMessage};
pub use webhooks::{DeliveryOutcome, QueuedDelivery, WebhookDelivery};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("schema migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("{} is not a UTF-8 path, which SQLite needs", .0.display())]
    Path(std::path::PathBuf),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An extension as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub number: String,
    pub display_name: String,
    pub ha1_md5: String,
    pub ha1_sha256: String,
    pub enabled: bool,
    /// "allow" or "require" (TLS and SRTP only).
    pub encryption: String,
}

/// A registrar binding as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub aor: String,
    pub uri: String,
    pub call_id: String,
    pub cseq: u32,
    pub expires_at: i64,
    pub transport: String,
    pub source: String,
    pub user_agent: Option<String>,
}

/// One change to the registrations copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationWrite {
    Upsert(Registration),
    Remove { aor: String, uri: String },
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        Self::prepare(Connection::open(path)?)
    }

    pub fn open_in_memory() -> Result<Self> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut conn: Connection) -> Result<Self> {
        // WAL with synchronous=NORMAL: a committed transaction survives the process being
        // killed; only an OS crash or power loss may lose the last commits.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Migrations::from_slice(MIGRATIONS).to_latest(&mut conn)?;
        Ok(Store { conn })
    }

    /// Caps this connection's page cache (SQLite's default is 2 MiB): for a connection
    /// that only writes rows by key, such as the registrations writer.
    pub fn limit_page_cache(&self, kib: u32) -> Result<()> {
        self.conn
            .pragma_update(None, "cache_size", -i64::from(kib))?;
        Ok(())
    }

    /// Writes a consistent copy of the whole database to a new file at `path`, while
    /// others go on writing (one read transaction: what was committed when it began).
    pub fn copy_to(&self, path: &Path) -> Result<()> {
        let path = path.to_str().ok_or_else(|| StoreError::Path(path.into()))?;
        self.conn.execute("VACUUM INTO ?1", [path])?;
        Ok(())
    }

    /// The schema version, for diagnostics.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn extensions(&self) -> Result<Vec<Extension>> {
        let mut stmt = self.conn.prepare(
            "SELECT number, display_name, ha1_md5, ha1_sha256, enabled, encryption FROM extensions \
             ORDER BY number",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Extension {
                number: r.get(0)?,
                display_name: r.get(1)?,
                ha1_md5: r.get(2)?,
                ha1_sha256: r.get(3)?,
                enabled: r.get(4)?,
                encryption: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn settings(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM settings ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Replaces all extensions and settings in one transaction: all or nothing.
    /// Replaces the settings, the extensions and the live scenarios (name, JSON body) in
    /// one transaction; a scenario whose body changed is published as a new version at
    /// `at` (unix milliseconds), one left out stops being live.
    pub fn replace_config(
        &mut self,
        settings: &[(String, String)],
        extensions: &[Extension],
        scenarios: &[(String, String)],
        at: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        scenarios::replace_live(&tx, scenarios, at)?;
        tx.execute("DELETE FROM settings", [])?;
        tx.execute("DELETE FROM extensions", [])?;
        {
            let mut put = tx.prepare("INSERT INTO settings (key, value) VALUES (?1, ?2)")?;
            for (k, v) in settings {
                put.execute(params![k, v])?;
            }
            let mut put = tx.prepare(
                "INSERT INTO extensions (number, display_name, ha1_md5, ha1_sha256, enabled, encryption) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in extensions {
                put.execute(params![
                    e.number,
                    e.display_name,
                    e.ha1_md5,
                    e.ha1_sha256,
                    e.enabled,
                    e.encryption
                ])?;
            }
        }
        // Bindings of extensions that no longer exist go with them.
        tx.execute(
            "DELETE FROM registrations WHERE aor NOT IN (SELECT number FROM extensions)",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Unexpired registrations, for the registrar to restore.
    pub fn registrations(&self, now_unix: i64) -> Result<Vec<Registration>> {
        let mut stmt = self.conn.prepare(
            "SELECT aor, uri, call_id, cseq, expires_at, transport, source, user_agent
             FROM registrations WHERE expires_at > ?1 ORDER BY aor, expires_at",
        )?;
        let rows = stmt.query_map([now_unix], |r| {
            Ok(Registration {
                aor: r.get(0)?,
                uri: r.get(1)?,
                call_id: r.get(2)?,
                cseq: r.get(3)?,
                expires_at: r.get(4)?,
                transport: r.get(5)?,
                source: r.get(6)?,
                user_agent: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Applies a batch of registration changes in one transaction.
    pub fn write_registrations(&mut self, writes: &[RegistrationWrite]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO registrations (aor, uri, call_id, cseq, expires_at, transport, source, user_agent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (aor, uri) DO UPDATE SET call_id = excluded.call_id, cseq = excluded.cseq,
                   expires_at = excluded.expires_at, transport = excluded.transport,
                   source = excluded.source, user_agent = excluded.user_agent",
            )?;
            let mut remove =
                tx.prepare_cached("DELETE FROM registrations WHERE aor = ?1 AND uri = ?2")?;
            for w in writes {
                match w {
                    RegistrationWrite::Upsert(r) => {
                        upsert.execute(params![
                            r.aor,
                            r.uri,
                            r.call_id,
                            r.cseq,
                            r.expires_at,
                            r.transport,
                            r.source,
                            r.user_agent
                        ])?;
                    }
                    RegistrationWrite::Remove { aor, uri } => {
                        remove.execute(params![aor, uri])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Drops rows whose binding has expired.
    /// Saves call records in one transaction: once this returns they survive a crash.
    pub fn insert_call_records(&mut self, rows: &[CallRecord]) -> Result<()> {
        let tx = self.conn.transaction()?;
        insert_call_records(&tx, rows)?;
        tx.commit()?;
        Ok(())
    }

    pub fn purge_expired_registrations(&self, now_unix: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM registrations WHERE expires_at <= ?1",
            [now_unix],
        )?)
    }
}

fn insert_call_records(tx: &rusqlite::Transaction<'_>, rows: &[CallRecord]) -> Result<()> {
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO call_records (call_id, caller, callee, started_at, answered_at, \
                 ended_at, disposition, hangup_by, caller_codec, callee_codec, sip_code, reason, \
                 queue, answered_by, priority, preempted, scenario_path, direction, trunk, \
                 history, recording) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                 ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        )?;
        for r in rows {
            insert.execute(params![
                r.call_id,
                r.caller,
                r.callee,
                unix_ms::from(r.started),
                r.answered.map(unix_ms::from),
                unix_ms::from(r.ended),
                r.outcome.as_str(),
                r.hangup_by.as_str(),
                r.caller_codec,
                r.callee_codec,
                r.sip_code,
                r.reason,
                r.queue,
                r.answered_by,
                r.priority.0,
                r.preempted,
                r.scenario_path,
                r.direction.as_str(),
                r.trunk,
                r.history,
                r.recording
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{Direction, HangupBy, Outcome};
    use switchboard_queue::Priority;

    fn extension(number: &str) -> Extension {
        Extension {
            number: number.into(),
            display_name: format!("Desk {number}"),
            ha1_md5: "a".repeat(32),
            ha1_sha256: "b".repeat(64),
            enabled: true,
            encryption: "allow".into(),
        }
    }

    fn registration(aor: &str, uri: &str, expires_at: i64) -> Registration {
        Registration {
            aor: aor.into(),
            uri: uri.into(),
            call_id: "c1".into(),
            cseq: 3,
            expires_at,
            transport: "UDP".into(),
            source: "10.0.0.9:5060".into(),
            user_agent: Some("Desk phone".into()),
        }
    }

    #[test]
    fn config_replacement_is_whole() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .replace_config(
                &[("realm".into(), "office".into())],
                &[extension("100"), extension("101")],
                &[],
                0,
            )
            .unwrap();
        assert_eq!(store.extensions().unwrap().len(), 2);
        assert_eq!(store.setting("realm").unwrap().as_deref(), Some("office"));
        // A duplicate number violates the key: nothing of the second import lands.
        let err = store.replace_config(&[], &[extension("200"), extension("200")], &[], 0);
        assert!(err.is_err());
        assert_eq!(store.extensions().unwrap().len(), 2);
        assert_eq!(store.setting("realm").unwrap().as_deref(), Some("office"));
    }

    #[test]
    fn call_records_round_trip_and_a_refused_row_loses_the_batch_whole() {
        let mut store = Store::open_in_memory().unwrap();
        let row = CallRecord {
            call_id: "c1@phone".into(),
            caller: "100".into(),
            callee: "101".into(),
            answered: Some(unix_ms::to(3_000)),
            ended: unix_ms::to(63_000),
            outcome: Outcome::Answered,
            caller_codec: Some("PCMA".into()),
            callee_codec: Some("PCMU".into()),
            sip_code: 200,
            reason: "Normal Clearing".into(),
            queue: Some("600".into()),
            answered_by: Some("101".into()),
            priority: Priority(10),
            preempted: true,
            scenario_path: Some("hours → menu → sales".into()),
            history: Some("0:30 101 transferred to 102".into()),
            recording: Some("1700000000000-7.opus".into()),
            direction: Direction::Inbound,
            trunk: Some("Provider".into()),
            ..call_log::tests::record("c1@phone", "100", 1_000)
        };
        let busy = CallRecord {
            outcome: Outcome::Busy,
            hangup_by: HangupBy::System,
            answered: None,
            sip_code: 486,
            ..row.clone()
        };
        store
            .insert_call_records(&[row.clone(), busy.clone()])
            .unwrap();
        assert_eq!(store.call_records(10).unwrap(), [busy.clone(), row.clone()]);
        // A row the database refuses (here by a trigger; the columns' checks refuse
        // words outside the outcomes) takes the rows written with it along.
        store
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER refuse BEFORE INSERT ON call_records \
                 WHEN NEW.call_id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .unwrap();
        let bad = CallRecord {
            call_id: "bad".into(),
            ..row
        };
        assert!(store.insert_call_records(&[busy, bad]).is_err());
        assert_eq!(store.call_records(10).unwrap().len(), 2);
    }

    #[test]
    fn registrations_round_trip_and_expire() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .replace_config(&[], &[extension("100")], &[], 0)
            .unwrap();
        store
            .write_registrations(&[
                RegistrationWrite::Upsert(registration("100", "sip:a@h", 1000)),
                RegistrationWrite::Upsert(registration("100", "sip:b@h", 2000)),
                RegistrationWrite::Upsert(registration("100", "sip:a@h", 3000)),
            ])
            .unwrap();
        let rows = store.registrations(1500).unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| (r.uri.as_str(), r.expires_at))
                .collect::<Vec<_>>(),
            vec![("sip:b@h", 2000), ("sip:a@h", 3000)]
        );
        store
            .write_registrations(&[RegistrationWrite::Remove {
                aor: "100".into(),
                uri: "sip:a@h".into(),
            }])
            .unwrap();
        assert_eq!(store.registrations(0).unwrap().len(), 1);
        assert_eq!(store.purge_expired_registrations(2000).unwrap(), 1);
        assert!(store.registrations(0).unwrap().is_empty());
    }

    #[test]
    fn removing_an_extension_drops_its_bindings() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .replace_config(&[], &[extension("100"), extension("101")], &[], 0)
            .unwrap();
        store
            .write_registrations(&[
                RegistrationWrite::Upsert(registration("100", "sip:a@h", 9000)),
                RegistrationWrite::Upsert(registration("101", "sip:b@h", 9000)),
            ])
            .unwrap();
        store
            .replace_config(&[], &[extension("101")], &[], 0)
            .unwrap();
        let left: Vec<_> = store
            .registrations(0)
            .unwrap()
            .into_iter()
            .map(|r| r.aor)
            .collect();
        assert_eq!(left, vec!["101"]);
    }

    #[test]
    fn call_records_survive_the_table_being_made_anew_for_interrupted_calls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATIONS[..11])
                .to_latest(&mut conn)
                .unwrap();
            conn.execute(
                "INSERT INTO call_records (call_id, caller, callee, started_at, ended_at, \
                 disposition, hangup_by, sip_code, reason, queue, priority, preempted) \
                 VALUES ('c1', '100', '600', 5, 9, 'answered', 'caller', 200, 'ok', '600', 7, 1)",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let kept = &store.call_records(10).unwrap()[0];
        assert_eq!(
            (
                kept.call_id.as_str(),
                kept.queue.as_deref(),
                kept.priority,
                kept.preempted
            ),
            ("c1", Some("600"), Priority(7), true)
        );
    }

    #[test]
    fn upgrades_a_database_made_by_the_first_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.db");
        {
            // What the first release wrote: schema 1, one extension, no `enabled` column.
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATIONS[..1])
                .to_latest(&mut conn)
                .unwrap();
            conn.execute(
                "INSERT INTO extensions (number, display_name, ha1_md5, ha1_sha256) VALUES ('100', 'Reception', 'm', 's')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO settings (key, value) VALUES ('realm', 'office')",
                [],
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let ext = &store.extensions().unwrap()[0];
        assert_eq!(
            (ext.number.as_str(), ext.display_name.as_str(), ext.enabled),
            ("100", "Reception", true)
        );
        assert_eq!(store.setting("realm").unwrap().as_deref(), Some("office"));
        store
            .write_registrations(&[RegistrationWrite::Upsert(registration(
                "100", "sip:a@h", 10,
            ))])
            .unwrap();
        assert_eq!(store.registrations(0).unwrap().len(), 1);
    }

    #[test]
    fn database_file_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("x.db")).unwrap();
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
