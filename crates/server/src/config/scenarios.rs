//! Scenarios in the configuration file, with what they refer to: schedules, the
//! inbound numbers that run them, and the contacts table ("call manager"). Every
//! scenario is checked by `switchboard_scenario::validate` against what the rest of the
//! file sets up, and the errors name the scenario, block and setting.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use switchboard_core::ScenarioSetup;
use switchboard_core::numbers::normalise;
use switchboard_scenario::model::Scenario;
use switchboard_scenario::schedule::Schedule;
use switchboard_scenario::{Catalogue, validate};

use super::{Config, FieldError, field_error};
use crate::sounds::{SCENARIO_PROMPTS, is_prompt_name};

/// A called number (DID) and the scenario its calls follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundNumber {
    pub number: String,
    pub scenario: String,
}

/// A customer's number and the extension responsible for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactSettings {
    pub number: String,
    pub owner: String,
}

impl Config {
    pub(super) fn validate_scenarios(&self, errors: &mut Vec<FieldError>) {
        let mut schedules = BTreeSet::new();
        for (i, s) in self.schedules.iter().enumerate() {
            let at = format!("schedules[{i}]");
            if let Err(problems) = Schedule::from_settings(s, &at) {
                errors.extend(
                    problems
                        .into_iter()
                        .map(|p| field_error(p.field, p.message)),
                );
            }
            if !schedules.insert(s.name.clone()) {
                errors.push(field_error(
                    format!("{at}.name"),
                    format!("{:?} is listed twice", s.name),
                ));
            }
        }
        let known = self.catalogue(schedules);
        let mut names = HashSet::new();
        for (i, scenario) in self.scenarios.iter().enumerate() {
            let at = format!("scenarios[{i}]");
            if scenario.name.trim().is_empty() || !names.insert(scenario.name.as_str()) {
                errors.push(field_error(
                    format!("{at}.name"),
                    "must be given, and differ from every other scenario's",
                ));
            }
            for e in validate(scenario, &known) {
                errors.push(field_error(format!("{at}.{}", e.field), e.message));
            }
        }
        let taken: HashSet<&str> = self
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .chain(self.queues.iter().map(|q| q.number.as_str()))
            .collect();
        let mut inbound = HashSet::new();
        for (i, n) in self.inbound.iter().enumerate() {
            let at = format!("inbound[{i}]");
            let usable = !n.number.is_empty()
                && n.number.len() <= 32
                && n.number
                    .chars()
                    .enumerate()
                    .all(|(j, c)| c.is_ascii_digit() || (j == 0 && c == '+'));
            if !usable {
                errors.push(field_error(
                    format!("{at}.number"),
                    "digits only (up to 32), with an optional leading \"+\"",
                ));
            } else if taken.contains(n.number.as_str()) {
                errors.push(field_error(
                    format!("{at}.number"),
                    format!("{} is an extension or a queue already", n.number),
                ));
            } else if !inbound.insert(n.number.as_str()) {
                errors.push(field_error(
                    format!("{at}.number"),
                    format!("{} is listed twice", n.number),
                ));
            }
            if !names.contains(n.scenario.as_str()) {
                errors.push(field_error(
                    format!("{at}.scenario"),
                    format!("there is no scenario {:?}", n.scenario),
                ));
            }
        }
        let country = self.numbers.country_code();
        for (i, c) in self.contacts.iter().enumerate() {
            let at = format!("contacts[{i}]");
            if let Err(e) = normalise(&c.number, country.as_deref()) {
                errors.push(field_error(format!("{at}.number"), e.to_string()));
            }
            if !self.extensions.iter().any(|e| e.number == c.owner) {
                errors.push(field_error(
                    format!("{at}.owner"),
                    format!("there is no extension {:?}", c.owner),
                ));
            }
        }
    }

    /// What scenarios may name. A prompt is a built-in one or the office's own file,
    /// whose presence [`Config::check_prompt_files`] checks where the data directory is
    /// known.
    fn catalogue(&self, schedules: BTreeSet<String>) -> Catalogue {
        let set = |items: &mut dyn Iterator<Item = &str>| items.map(str::to_string).collect();
        let extensions: BTreeSet<String> =
            set(&mut self.extensions.iter().map(|e| e.number.as_str()));
        let queues: BTreeSet<String> = set(&mut self.queues.iter().map(|q| q.number.as_str()));
        let own_prompts = self
            .scenarios
            .iter()
            .flat_map(|s| s.blocks.values())
            .filter_map(|b| b.kind.prompt())
            .filter(|p| is_prompt_name(p));
        Catalogue {
            prompts: set(&mut SCENARIO_PROMPTS.into_iter().chain(own_prompts)),
            mailboxes: extensions.union(&queues).cloned().collect(),
            extensions,
            queues,
            lists: set(&mut self.lists.iter().map(|l| l.name.as_str())),
            schedules,
            scenarios: set(&mut self.scenarios.iter().map(|s| s.name.as_str())),
        }
    }

    /// Every prompt the scenarios name that is not built in must be a WAV file in
    /// `dir`; the error names the block that plays it.
    pub fn check_prompt_files(&self, dir: &Path) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (i, scenario) in self.scenarios.iter().enumerate() {
            for (id, block) in &scenario.blocks {
                let Some(prompt) = block.kind.prompt() else {
                    continue;
                };
                let file = dir.join(format!("{prompt}.wav"));
                if !SCENARIO_PROMPTS.contains(&prompt) && !file.is_file() {
                    errors.push(field_error(
                        format!("scenarios[{i}].blocks.{id}.prompt"),
                        format!("no prompt {prompt:?}: put {} in place", file.display()),
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The scenarios and what they refer to, as calls use them.
    pub fn scenario_setup(&self) -> ScenarioSetup {
        ScenarioSetup {
            scenarios: self.scenarios.clone(),
            inbound: self
                .inbound
                .iter()
                .map(|n| (n.number.clone(), n.scenario.clone()))
                .collect(),
            schedules: self
                .schedules
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let schedule = Schedule::from_settings(s, &format!("schedules[{i}]")).ok()?;
                    Some((s.name.clone(), schedule))
                })
                .collect(),
            contacts: self
                .contacts
                .iter()
                .map(|c| (c.number.clone(), c.owner.clone()))
                .collect(),
        }
    }

    /// The scenarios as the store keeps them: name and JSON body.
    pub(super) fn scenario_bodies(&self) -> Vec<(String, String)> {
        self.scenarios
            .iter()
            .map(|s| (s.name.clone(), super::to_json(s)))
            .collect()
    }
}

/// Scenarios read back from the store's published versions.
pub(super) fn published(
    store: &switchboard_store::Store,
) -> Result<Vec<Scenario>, super::ConfigError> {
    store
        .published_scenarios()?
        .into_iter()
        .map(|(name, version)| {
            serde_json::from_str(&version.body).map_err(|e| {
                super::ConfigError::Invalid(vec![field_error(
                    format!("scenarios.{name}"),
                    format!("stored version {} unreadable: {e}", version.version),
                )])
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICE: &str = r#"
[[extensions]]
number = "101"
password = "a-long-secret-1"

[[extensions]]
number = "102"
password = "a-long-secret-2"

[[schedules]]
name = "Office"
time_zone = "Europe/Warsaw"
hours = [{ days = ["mon-fri"], from = "08:00", to = "17:00" }]
holidays = [{ date = "12-25", name = "Christmas" }]

[[scenarios]]
name = "Reception"
start = "hours"

[scenarios.blocks.hours]
type = "schedule"
schedule = "Office"
exits = { open = "menu", closed = "bye", holiday = "bye" }

[scenarios.blocks.menu]
type = "menu"
prompt = "acme_welcome"
keys = "12"
timeout = 5
exits = { 1 = "anna", 2 = "bye", timeout = "anna", invalid = "bye" }

[scenarios.blocks.anna]
type = "call-employee"
extension = "101"
exits = { no-answer = "bye" }

[scenarios.blocks.bye]
type = "hang-up"

[[inbound]]
number = "+48221234567"
scenario = "Reception"

[[contacts]]
number = "+48600100200"
owner = "102"
"#;

    #[test]
    fn a_scenario_office_round_trips_through_the_store_and_republishes_nothing_unchanged() {
        let config = Config::from_toml(OFFICE).unwrap();
        let mut store = switchboard_store::Store::open_in_memory().unwrap();
        config.apply(&mut store).unwrap();
        config.apply(&mut store).unwrap();
        let loaded = Config::load(&store).unwrap();
        assert_eq!(loaded.scenarios, config.scenarios);
        assert_eq!(
            (&loaded.schedules, &loaded.inbound, &loaded.contacts),
            (&config.schedules, &config.inbound, &config.contacts)
        );
        let versions = store.published_scenarios().unwrap();
        assert_eq!(versions[0].1.version, 1, "unchanged: not published again");
        // The exported file reads back the same.
        assert_eq!(
            Config::from_toml(&loaded.to_toml()).unwrap().scenarios,
            config.scenarios
        );
        let setup = config.scenario_setup();
        assert_eq!(setup.inbound, [("+48221234567".into(), "Reception".into())]);
        assert_eq!(setup.schedules.len(), 1);
    }

    #[test]
    fn every_problem_names_the_scenario_block_and_setting() {
        let bad = OFFICE
            .replace("extension = \"101\"", "extension = \"109\"")
            .replace("2 = \"bye\", timeout", "2 = \"nowhere\", timeout")
            .replace("schedule = \"Office\"", "schedule = \"Shop\"")
            .replace("scenario = \"Reception\"", "scenario = \"Night\"")
            .replace("owner = \"102\"", "owner = \"555\"")
            .replace("to = \"17:00\"", "to = \"25:00\"")
            .replace("number = \"+48221234567\"", "number = \"101\"");
        let Err(super::super::ConfigError::Invalid(errors)) = Config::from_toml(&bad) else {
            panic!("expected field errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for field in [
            "schedules[0].hours[0].to",
            "scenarios[0].blocks.anna.extension",
            "scenarios[0].blocks.menu.exits.2",
            "scenarios[0].blocks.hours.schedule",
            "inbound[0].number",
            "inbound[0].scenario",
            "contacts[0].owner",
        ] {
            assert!(fields.contains(&field), "{field} missing from {errors:#?}");
        }
    }

    #[test]
    fn prompts_must_be_built_in_or_files_in_the_prompts_directory() {
        let config = Config::from_toml(OFFICE).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let errors = config.check_prompt_files(dir.path()).unwrap_err();
        assert_eq!(errors[0].field, "scenarios[0].blocks.menu.prompt");
        std::fs::write(dir.path().join("acme_welcome.wav"), b"RIFF").unwrap();
        assert!(config.check_prompt_files(dir.path()).is_ok());
        // A name that could not be a file is refused by the file's own checks.
        let bad = OFFICE.replace("acme_welcome", "../welcome");
        let Err(super::super::ConfigError::Invalid(errors)) = Config::from_toml(&bad) else {
            panic!("expected field errors");
        };
        assert_eq!(errors[0].field, "scenarios[0].blocks.menu.prompt");
    }
}
