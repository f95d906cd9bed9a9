//! Call scenarios in versions: a draft per scenario, edited in place, and the published
//! versions, each kept. Bodies are opaque JSON here; what they mean and whether they
//! may be published is `switchboard-scenario`'s business. A scenario is live while it
//! has a draft; its versions stay as history when it is removed.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::{Result, Store};

/// A published version of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioVersion {
    pub version: u32,
    pub body: String,
    pub published_at: i64,
}

impl Store {
    /// Saves the draft of scenario `name`, replacing the previous one.
    pub fn save_scenario_draft(&mut self, name: &str, body: &str, at: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO scenario_drafts (name, body, saved_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body, saved_at = excluded.saved_at",
            params![name, body, at],
        )?;
        Ok(())
    }

    /// Saves the draft of a new scenario; false (nothing changed) when a scenario of
    /// that name exists.
    pub fn create_scenario_draft(&mut self, name: &str, body: &str, at: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "INSERT INTO scenario_drafts (name, body, saved_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO NOTHING",
            params![name, body, at],
        )? > 0)
    }

    pub fn scenario_draft(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT body FROM scenario_drafts WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every draft (name, body), by name: the live scenarios and those never published.
    pub fn scenario_drafts(&self) -> Result<Vec<(String, String)>> {
        let mut q = self
            .conn
            .prepare("SELECT name, body FROM scenario_drafts ORDER BY name")?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Removes a draft never published; false when there is none. (A published
    /// scenario stops being live by leaving the configuration.)
    pub fn delete_unpublished_draft(&mut self, name: &str) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM scenario_drafts WHERE name = ?1 \
             AND name NOT IN (SELECT name FROM scenario_versions)",
            [name],
        )? > 0)
    }

    /// Publishes `body` (the draft as checked) as the scenario's next version, and makes
    /// it the draft too, in one transaction; returns the version.
    pub fn publish_scenario(&mut self, name: &str, body: &str, at: i64) -> Result<u32> {
        let tx = self.conn.transaction()?;
        let version = publish(&tx, name, body, at)?;
        tx.commit()?;
        Ok(version)
    }

    /// The newest published version of every live scenario, by name.
    pub fn published_scenarios(&self) -> Result<Vec<(String, ScenarioVersion)>> {
        let mut q = self.conn.prepare(
            "SELECT name, version, body, published_at FROM scenario_versions v \
             WHERE version = (SELECT MAX(version) FROM scenario_versions WHERE name = v.name) \
             AND name IN (SELECT name FROM scenario_drafts) ORDER BY name",
        )?;
        let rows = q.query_map([], |r| {
            Ok((
                r.get(0)?,
                ScenarioVersion {
                    version: r.get(1)?,
                    body: r.get(2)?,
                    published_at: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn publish(tx: &Transaction<'_>, name: &str, body: &str, at: i64) -> Result<u32> {
    let version: u32 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM scenario_versions WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO scenario_versions (name, version, body, published_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![name, version, body, at],
    )?;
    tx.execute(
        "INSERT INTO scenario_drafts (name, body, saved_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET body = excluded.body, saved_at = excluded.saved_at",
        params![name, body, at],
    )?;
    Ok(version)
}

/// Makes exactly `scenarios` live, as part of a whole configuration's transaction: a
/// body that differs from the newest version is published; published scenarios left
/// out lose their draft (and so stop being live). Drafts never published are not part
/// of a configuration and stay.
pub(crate) fn replace_live(
    tx: &Transaction<'_>,
    scenarios: &[(String, String)],
    at: i64,
) -> Result<()> {
    tx.execute(
        "CREATE TEMP TABLE IF NOT EXISTS kept (name TEXT PRIMARY KEY)",
        [],
    )?;
    tx.execute("DELETE FROM temp.kept", [])?;
    for (name, body) in scenarios {
        tx.execute("INSERT OR IGNORE INTO temp.kept (name) VALUES (?1)", [name])?;
        let newest: Option<String> = tx
            .query_row(
                "SELECT body FROM scenario_versions WHERE name = ?1 \
                 ORDER BY version DESC LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        if newest.as_deref() != Some(body.as_str()) {
            publish(tx, name, body, at)?;
        } else {
            // Live again (or still) at the version it had.
            tx.execute(
                "INSERT OR IGNORE INTO scenario_drafts (name, body, saved_at) \
                 VALUES (?1, ?2, ?3)",
                params![name, body, at],
            )?;
        }
    }
    tx.execute(
        "DELETE FROM scenario_drafts WHERE name NOT IN (SELECT name FROM temp.kept) \
         AND name IN (SELECT name FROM scenario_versions)",
        [],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_edited_in_place_and_publishing_adds_versions() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .save_scenario_draft("Reception", "{\"v\":1}", 10)
            .unwrap();
        store
            .save_scenario_draft("Reception", "{\"v\":2}", 20)
            .unwrap();
        assert_eq!(
            store.scenario_draft("Reception").unwrap().as_deref(),
            Some("{\"v\":2}")
        );
        assert!(
            store.published_scenarios().unwrap().is_empty(),
            "a draft is not live"
        );
        assert_eq!(
            store
                .publish_scenario("Reception", "{\"v\":2}", 30)
                .unwrap(),
            1
        );
        store
            .save_scenario_draft("Reception", "{\"v\":3}", 40)
            .unwrap();
        assert_eq!(
            store
                .publish_scenario("Reception", "{\"v\":3}", 50)
                .unwrap(),
            2
        );
        assert_eq!(store.publish_scenario("Night", "{}", 60).unwrap(), 1);
        let live = store.published_scenarios().unwrap();
        assert_eq!(
            live,
            [
                (
                    "Night".to_string(),
                    ScenarioVersion {
                        version: 1,
                        body: "{}".into(),
                        published_at: 60
                    }
                ),
                (
                    "Reception".to_string(),
                    ScenarioVersion {
                        version: 2,
                        body: "{\"v\":3}".into(),
                        published_at: 50
                    }
                ),
            ]
        );
    }

    #[test]
    fn a_whole_configuration_publishes_only_changed_scenarios_and_drops_removed_ones() {
        let mut store = Store::open_in_memory().unwrap();
        let both = [
            ("Day".to_string(), "{\"v\":1}".to_string()),
            ("Night".to_string(), "{}".to_string()),
        ];
        store.replace_config(&[], &[], &both, 10).unwrap();
        store.replace_config(&[], &[], &both, 20).unwrap();
        let live = store.published_scenarios().unwrap();
        assert_eq!(live.len(), 2);
        assert!(
            live.iter().all(|(_, v)| v.version == 1),
            "unchanged: {live:?}"
        );

        let day_only = [("Day".to_string(), "{\"v\":2}".to_string())];
        store.replace_config(&[], &[], &day_only, 30).unwrap();
        let live = store.published_scenarios().unwrap();
        assert_eq!(live.len(), 1, "Night was removed: {live:?}");
        assert_eq!((live[0].0.as_str(), live[0].1.version), ("Day", 2));
        assert_eq!(live[0].1.published_at, 30);
    }

    #[test]
    fn unpublished_drafts_outlive_configuration_changes_until_deleted() {
        let mut store = Store::open_in_memory().unwrap();
        let day = [("Day".to_string(), "{\"v\":1}".to_string())];
        store.replace_config(&[], &[], &day, 10).unwrap();
        store.save_scenario_draft("Lunch", "{\"v\":0}", 20).unwrap();
        store.save_scenario_draft("Day", "{\"v\":9}", 20).unwrap();
        store.replace_config(&[], &[], &day, 30).unwrap();
        assert_eq!(
            store.scenario_drafts().unwrap(),
            [
                ("Day".to_string(), "{\"v\":9}".to_string()),
                ("Lunch".to_string(), "{\"v\":0}".to_string())
            ],
            "both drafts kept"
        );
        assert!(!store.delete_unpublished_draft("Day").unwrap());
        assert!(store.delete_unpublished_draft("Lunch").unwrap());
        assert_eq!(store.scenario_drafts().unwrap().len(), 1);
    }
}
