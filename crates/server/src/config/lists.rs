//! Number lists in the configuration file: named VIP, block and plain lists, their
//! numbers written any way an office writes them, each checked and normalised.

use serde::{Deserialize, Serialize};
use switchboard_core::numbers::{ListKind, NumberList, normalise};

use super::{FieldError, field_error};

/// Where the office is: how numbers are compared (national numbers become international
/// with the office's country code), and the office's day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NumberSettings {
    /// Digits only, without "+" ("48" for Poland); empty: numbers compared as written.
    pub country_code: String,
    /// The office's time zone ("Europe/Warsaw"): its day for the wallboard's figures,
    /// daily limits, exports and e-mail. Empty: this PC's.
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSettings {
    pub name: String,
    pub kind: ListKindName,
    /// For "vip": the queue priority of its callers, 1 to 100 (others have 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// For "block": tell its callers that their calls are not accepted before
    /// declining them (false: declined at once).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tell: bool,
    #[serde(default)]
    pub numbers: Vec<String>,
}

/// What a list does to the callers on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListKindName {
    /// Its callers wait in queues ahead of others, by the list's priority.
    Vip,
    /// Its callers are declined.
    Block,
    /// Kept for scenarios to check.
    Plain,
}

impl NumberSettings {
    pub fn validate(&self, errors: &mut Vec<FieldError>) {
        let c = &self.country_code;
        if !c.is_empty() && (c.len() > 3 || !c.chars().all(|d| d.is_ascii_digit())) {
            errors.push(field_error(
                "numbers.country_code",
                "must be 1 to 3 digits, without \"+\"",
            ));
        }
        if !self.time_zone.is_empty() && jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            errors.push(field_error(
                "numbers.time_zone",
                format!(
                    "{:?} is not a known time zone (such as \"Europe/Warsaw\"), or empty for this PC's",
                    self.time_zone
                ),
            ));
        }
    }

    pub fn country_code(&self) -> Option<String> {
        (!self.country_code.is_empty()).then(|| self.country_code.clone())
    }

    /// The office's time zone: the one set, else this PC's.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        match self.time_zone.as_str() {
            "" => jiff::tz::TimeZone::system(),
            name => jiff::tz::TimeZone::get(name).unwrap_or_else(|_| jiff::tz::TimeZone::system()),
        }
    }

    /// The start of today in the office's time zone, in unix milliseconds.
    pub fn midnight_ms(&self) -> i64 {
        jiff::Timestamp::now()
            .to_zoned(self.zone())
            .start_of_day()
            .map_or(0, |z| z.timestamp().as_millisecond())
    }
}

impl ListSettings {
    pub fn validate(&self, at: &str, country_code: Option<&str>, errors: &mut Vec<FieldError>) {
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            errors.push(field_error(
                format!("{at}.name"),
                "must be given, without control characters",
            ));
        }
        match (self.kind, self.priority) {
            (ListKindName::Vip, Some(p)) if (1..=100).contains(&p) => {}
            (ListKindName::Vip, _) => errors.push(field_error(
                format!("{at}.priority"),
                "a VIP list needs a priority from 1 to 100",
            )),
            (ListKindName::Block | ListKindName::Plain, None) => {}
            (ListKindName::Block | ListKindName::Plain, Some(_)) => errors.push(field_error(
                format!("{at}.priority"),
                "only a VIP list has a priority",
            )),
        }
        if self.tell && self.kind != ListKindName::Block {
            errors.push(field_error(
                format!("{at}.tell"),
                "only a block list tells its callers",
            ));
        }
        for (i, n) in self.numbers.iter().enumerate() {
            if let Err(e) = normalise(n, country_code) {
                errors.push(field_error(
                    format!("{at}.numbers[{i}]"),
                    format!("{n:?}: {e}"),
                ));
            }
        }
    }

    /// The list as calls use it; call only on a validated list.
    pub fn list(&self, country_code: Option<&str>) -> NumberList {
        NumberList {
            name: self.name.clone(),
            kind: match self.kind {
                ListKindName::Vip => ListKind::Vip {
                    priority: switchboard_queue::Priority(self.priority.unwrap_or(1)),
                },
                ListKindName::Block => ListKind::Block { tell: self.tell },
                ListKindName::Plain => ListKind::Plain,
            },
            numbers: self
                .numbers
                .iter()
                .filter_map(|n| normalise(n, country_code).ok())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use switchboard_core::numbers::ListKind;

    const LISTS: &str = r#"
[numbers]
country_code = "48"

[[lists]]
name = "Key customers"
kind = "vip"
priority = 10
numbers = ["+48 22 555 01 02", "0048 601 100 200"]

[[lists]]
name = "Nuisance"
kind = "block"
tell = true
numbers = ["22 555 99 99"]
"#;

    #[test]
    fn lists_are_read_normalised_and_stored() {
        let config = Config::from_toml(LISTS).unwrap();
        let lists = config.number_lists();
        assert_eq!(
            lists[0].numbers.iter().collect::<Vec<_>>(),
            ["+48225550102", "+48601100200"]
        );
        assert!(lists[1].numbers.contains("+48225559999"));
        assert_eq!(lists[1].kind, ListKind::Block { tell: true });
        let mut store = switchboard_store::Store::open_in_memory().unwrap();
        config.apply(&mut store).unwrap();
        let loaded = Config::load(&store).unwrap();
        assert_eq!(loaded.lists, config.lists);
        assert_eq!(loaded.numbers, config.numbers);
    }

    #[test]
    fn every_bad_list_field_is_named() {
        let text = LISTS
            .replace("country_code = \"48\"", "country_code = \"+48\"")
            .replace("priority = 10\n", "tell = true\n")
            .replace("\"22 555 99 99\"", "\"22 555 99 99\", \"call Jan\"");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!("expected field errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "numbers.country_code",
                "lists[0].priority",
                "lists[0].tell",
                "lists[1].numbers[1]",
            ],
            "{errors:?}"
        );
        let Err(ConfigError::Invalid(errors)) =
            Config::from_toml(&LISTS.replace("kind = \"block\"", "kind = \"ban\""))
        else {
            panic!("expected a field error")
        };
        assert_eq!(errors[0].field, "lists[1].kind");
        assert!(errors[0].message.contains("`vip`, `block`"), "{errors:?}");
    }
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn the_office_time_zone_is_a_known_one_or_this_pcs() {
        let mut numbers = NumberSettings {
            time_zone: "Europe/Warsaw".into(),
            ..NumberSettings::default()
        };
        let mut errors = Vec::new();
        numbers.validate(&mut errors);
        assert!(errors.is_empty());
        assert_eq!(numbers.zone().iana_name(), Some("Europe/Warsaw"));
        numbers.time_zone = "Europe/Atlantis".into();
        numbers.validate(&mut errors);
        assert_eq!(errors[0].field, "numbers.time_zone");
        assert!(errors[0].message.contains("Europe/Atlantis"), "{errors:?}");
        numbers.time_zone = String::new();
        assert_eq!(numbers.zone(), jiff::tz::TimeZone::system());
    }
}
