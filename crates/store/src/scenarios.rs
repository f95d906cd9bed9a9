//! Call scenarios in versions: a draft per scenario, edited in place, and the published
//! versions, each kept. Bodies are opaque JSON here; what they mean and whether they
//! may be published is `switchboard-scenario`'s business.

use rusqlite::{OptionalExtension, params};

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

    /// Publishes `body` (the draft as checked) as the scenario's next version, and makes
    /// it the draft too, in one transaction; returns the version.
    pub fn publish_scenario(&mut self, name: &str, body: &str, at: i64) -> Result<u32> {
        let tx = self.conn.transaction()?;
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
        tx.commit()?;
        Ok(version)
    }

    /// The newest published version of every scenario, by name.
    pub fn published_scenarios(&self) -> Result<Vec<(String, ScenarioVersion)>> {
        let mut q = self.conn.prepare(
            "SELECT name, version, body, published_at FROM scenario_versions v \
             WHERE version = (SELECT MAX(version) FROM scenario_versions WHERE name = v.name) \
             ORDER BY name",
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
}
