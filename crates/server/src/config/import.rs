//! `config import` of a file that says only part of the configuration: what the file
//! leaves out is kept. Settings sections merge key by key (`[registrar]` with one key
//! changes that key); listed objects merge by their name or number (an extension in
//! the file is added, or replaces the one with its number; the others stay). Only an
//! explicit full replace drops what the file does not mention.

use toml::Value;

use super::{Config, ConfigError};

/// The field naming each object of a list, by the list's path in the file.
const KEYS: &[(&str, &str)] = &[
    ("extensions", "number"),
    ("queues", "number"),
    ("agents", "extension"),
    ("lists", "name"),
    ("schedules", "name"),
    ("scenarios", "name"),
    ("inbound", "number"),
    ("contacts", "number"),
    ("trunks", "name"),
    ("routes", "name"),
    ("conferences", "number"),
    ("pickup_groups", "name"),
    ("outbound.extensions", "extension"),
    ("voicemail.boxes", "number"),
];

impl Config {
    /// `current` with what `text` says laid over it, checked whole.
    pub fn merged(current: &Config, text: &str) -> Result<Config, ConfigError> {
        let incoming: toml::Table = toml::from_str(text)?;
        let mut base: toml::Table =
            toml::from_str(&current.to_toml()).expect("an exported configuration parses");
        merge_table(&mut base, incoming, "");
        let mut merged: Config = Value::Table(base).try_into()?;
        merged.keep_secrets(current);
        merged.validate().map_err(ConfigError::Invalid)?;
        Ok(merged)
    }
}

fn merge_table(base: &mut toml::Table, incoming: toml::Table, path: &str) {
    for (key, value) in incoming {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match (base.get_mut(&key), value) {
            (Some(Value::Table(old)), Value::Table(new)) => merge_table(old, new, &here),
            (Some(Value::Array(old)), Value::Array(new)) if list_key(&here).is_some() => {
                merge_list(old, new, list_key(&here).unwrap_or_default())
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn list_key(path: &str) -> Option<&'static str> {
    KEYS.iter().find(|(p, _)| *p == path).map(|(_, k)| *k)
}

/// Objects of `new` replace those of `old` with the same `key` value, or are added.
fn merge_list(old: &mut Vec<Value>, new: Vec<Value>, key: &str) {
    let id = |v: &Value| v.get(key).cloned();
    for item in new {
        match old
            .iter_mut()
            .find(|o| id(o).is_some() && id(o) == id(&item))
        {
            Some(existing) => *existing = item,
            None => old.push(item),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICE: &str = r#"
[registrar]
min_expires = 60
max_expires = 7200

[[extensions]]
number = "100"
password = "first-pass-100"

[[extensions]]
number = "101"
password = "first-pass-101"

[[queues]]
number = "600"
name = "Sales"
[[queues.agents]]
extension = "100"
"#;

    #[test]
    fn a_file_with_only_a_setting_changes_that_setting_and_keeps_the_office() {
        let office = Config::from_toml(OFFICE).unwrap();
        let merged = Config::merged(&office, "[registrar]\nmin_expires = 30\n").unwrap();
        assert_eq!(merged.registrar.min_expires, 30);
        assert_eq!(merged.registrar.max_expires, 7200);
        assert_eq!(merged.extensions, office.extensions);
        assert_eq!(merged.queues, office.queues);
    }

    #[test]
    fn listed_objects_merge_by_number() {
        let office = Config::from_toml(OFFICE).unwrap();
        let merged = Config::merged(
            &office,
            "[[extensions]]\nnumber = \"101\"\nname = \"Reception\"\npassword = \"second-pass-101\"\n\
             [[extensions]]\nnumber = \"102\"\npassword = \"first-pass-102\"\n",
        )
        .unwrap();
        let numbers: Vec<&str> = merged
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .collect();
        assert_eq!(numbers, ["100", "101", "102"]);
        assert_eq!(merged.extensions[1].name, "Reception");
        assert_eq!(merged.extensions[0], office.extensions[0]);
    }

    #[test]
    fn the_merged_whole_is_checked() {
        let office = Config::from_toml(OFFICE).unwrap();
        let Err(ConfigError::Invalid(problems)) =
            Config::merged(&office, "[registrar]\nmin_expires = 9000\n")
        else {
            panic!("min_expires above max_expires is refused");
        };
        assert_eq!(problems[0].field, "registrar.min_expires");
    }
}
