//! Calls out in the configuration file: the outbound routes (`[[routes]]`) and who may
//! call what (`[outbound]`), the toll-fraud guard on by default: extensions call local,
//! national and mobile numbers, one… two at a time; international and premium numbers
//! only where an extension is given them. Emergency numbers always go out.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use switchboard_core::{CallClass, DialPattern, OutboundRoute, OutboundRules};

use super::{Config, FieldError, field_error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    pub name: String,
    /// Numbers it takes: digits, X (any digit), Z (1–9), N (2–9), sets like [1-5], and a
    /// final "." for one or more further digits ("0XXXXXXXXX", "00.").
    pub patterns: Vec<String>,
    /// Digits removed from the front of the number dialled…
    #[serde(default)]
    pub strip: usize,
    /// …and what is put before the rest ("+48").
    #[serde(default)]
    pub prepend: String,
    pub class: CallClassName,
    /// Trunks tried in order: the next on no answer from a provider or its 5xx.
    pub trunks: Vec<String>,
    /// The number the called party is shown; absent: the trunk's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_id: Option<String>,
}

/// What a call costs the office.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CallClassName {
    Local,
    National,
    Mobile,
    International,
    Premium,
}

impl From<CallClassName> for CallClass {
    fn from(name: CallClassName) -> Self {
        match name {
            CallClassName::Local => CallClass::Local,
            CallClassName::National => CallClass::National,
            CallClassName::Mobile => CallClass::Mobile,
            CallClassName::International => CallClass::International,
            CallClassName::Premium => CallClass::Premium,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// What every extension may call unless given classes of its own.
    pub classes: BTreeSet<CallClassName>,
    /// Calls out one extension may have at once.
    pub max_calls: u32,
    /// Minutes one extension may talk out a day (the office's day, midnight to
    /// midnight); a call is cut off when they run out. 0: no limit.
    pub max_minutes_per_day: u32,
    /// Emergency numbers besides 112 and the office country's own.
    pub emergency: Vec<String>,
    pub extensions: Vec<ExtensionClasses>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            classes: [
                CallClassName::Local,
                CallClassName::National,
                CallClassName::Mobile,
            ]
            .into(),
            max_calls: 2,
            max_minutes_per_day: 0,
            emergency: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

/// An extension's own classes (and daily minutes), in place of the office's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionClasses {
    pub extension: String,
    pub classes: BTreeSet<CallClassName>,
    /// Its own minutes out a day (0: no limit); absent: the office's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_minutes_per_day: Option<u32>,
}

/// The emergency numbers of the countries whose code the office may have, besides 112.
fn national_emergency(country_code: Option<&str>) -> &'static [&'static str] {
    match country_code {
        Some("1") => &["911"],
        Some("7") => &["101", "102", "103"],
        Some("44") => &["999"],
        Some("48") => &["997", "998", "999"],
        Some("49") => &["110"],
        Some("61") => &["000"],
        _ => &[],
    }
}

fn is_number(text: &str, plus: bool) -> bool {
    let digits = match text.strip_prefix('+') {
        Some(rest) if plus => rest,
        _ => text,
    };
    !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit())
}

impl Config {
    pub(super) fn validate_outbound(&self, errors: &mut Vec<FieldError>) {
        let mut names = std::collections::HashSet::new();
        for (i, r) in self.routes.iter().enumerate() {
            let at = |f: &str| format!("routes[{i}].{f}");
            if r.name.trim().is_empty() || r.name.chars().any(char::is_control) {
                errors.push(field_error(
                    at("name"),
                    "must be given, without control characters",
                ));
            } else if !names.insert(r.name.as_str()) {
                errors.push(field_error(
                    at("name"),
                    format!("{:?} is listed twice", r.name),
                ));
            }
            if r.patterns.is_empty() {
                errors.push(field_error(at("patterns"), "give at least one pattern"));
            }
            for (j, p) in r.patterns.iter().enumerate() {
                if let Err(e) = p.parse::<DialPattern>() {
                    errors.push(field_error(at(&format!("patterns[{j}]")), e.to_string()));
                }
            }
            if r.strip > 15 {
                errors.push(field_error(at("strip"), "must lie between 0 and 15"));
            }
            if !r.prepend.is_empty() && !is_number(&r.prepend, true) {
                errors.push(field_error(
                    at("prepend"),
                    "digits, with an optional leading \"+\"",
                ));
            }
            if r.trunks.is_empty() {
                errors.push(field_error(at("trunks"), "name at least one trunk"));
            }
            for (j, t) in r.trunks.iter().enumerate() {
                if !self.trunks.iter().any(|trunk| &trunk.name == t) {
                    errors.push(field_error(
                        at(&format!("trunks[{j}]")),
                        format!("{t:?} is no trunk"),
                    ));
                }
            }
            if r.caller_id.as_deref().is_some_and(|c| !is_number(c, true)) {
                errors.push(field_error(
                    at("caller_id"),
                    "digits, with an optional leading \"+\"",
                ));
            }
        }
        for (i, e) in self.outbound.emergency.iter().enumerate() {
            if !is_number(e, false) {
                errors.push(field_error(
                    format!("outbound.emergency[{i}]"),
                    "digits only",
                ));
            }
        }
        const A_DAY: u32 = 24 * 60;
        let minutes = |m: u32, field: String, errors: &mut Vec<FieldError>| {
            if m > A_DAY {
                errors.push(field_error(
                    field,
                    "must be 0 (no limit) or at most 1440 minutes",
                ));
            }
        };
        minutes(
            self.outbound.max_minutes_per_day,
            "outbound.max_minutes_per_day".into(),
            errors,
        );
        for (i, e) in self.outbound.extensions.iter().enumerate() {
            if !self.extensions.iter().any(|x| x.number == e.extension) {
                errors.push(field_error(
                    format!("outbound.extensions[{i}].extension"),
                    format!("{} is not an extension", e.extension),
                ));
            }
            if let Some(m) = e.max_minutes_per_day {
                minutes(
                    m,
                    format!("outbound.extensions[{i}].max_minutes_per_day"),
                    errors,
                );
            }
        }
    }

    /// The rules for calls out as the engine takes them; call only on a validated
    /// configuration.
    pub fn outbound_rules(&self) -> OutboundRules {
        let country = self.numbers.country_code();
        let mut emergency: Vec<String> = ["112"]
            .iter()
            .chain(national_emergency(country.as_deref()))
            .map(|n| n.to_string())
            .chain(self.outbound.emergency.iter().cloned())
            .collect();
        emergency.dedup();
        let classes = |set: &BTreeSet<CallClassName>| set.iter().map(|&c| c.into()).collect();
        OutboundRules {
            routes: self
                .routes
                .iter()
                .map(|r| OutboundRoute {
                    name: r.name.clone(),
                    patterns: r.patterns.iter().filter_map(|p| p.parse().ok()).collect(),
                    strip: r.strip,
                    prepend: r.prepend.clone(),
                    class: r.class.into(),
                    trunks: r.trunks.clone(),
                    caller_id: r.caller_id.clone(),
                })
                .collect(),
            emergency,
            all_trunks: self.trunks.iter().map(|t| t.name.clone()).collect(),
            default_classes: classes(&self.outbound.classes),
            classes: self
                .outbound
                .extensions
                .iter()
                .map(|e| (e.extension.clone(), classes(&e.classes)))
                .collect::<HashMap<_, _>>(),
            max_calls_per_extension: self.outbound.max_calls,
            minutes_per_day: self.outbound.max_minutes_per_day,
            minutes: self
                .outbound
                .extensions
                .iter()
                .filter_map(|e| Some((e.extension.clone(), e.max_minutes_per_day?)))
                .collect(),
            // The office's day, as the call log's "today" figures count it.
            zone: Some(self.numbers.zone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use switchboard_core::CallClass;

    const OFFICE: &str = r#"
[numbers]
country_code = "48"

[[extensions]]
number = "100"
password = "correct-horse-battery"

[[trunks]]
name = "Provider"
host = "sip.provider.example"

[[routes]]
name = "Mobiles"
patterns = ["0[5-8]XXXXXXXX"]
strip = 1
prepend = "+48"
class = "mobile"
trunks = ["Provider"]
caller_id = "+48225550100"

[outbound]
max_calls = 1
max_minutes_per_day = 120
[[outbound.extensions]]
extension = "100"
classes = ["mobile", "international"]
max_minutes_per_day = 0
"#;

    #[test]
    fn routes_and_permissions_become_the_engines_rules() {
        let rules = Config::from_toml(OFFICE).unwrap().outbound_rules();
        let dial = rules.dial("0601000000").unwrap();
        assert_eq!(
            (dial.number.as_str(), dial.class, dial.trunks.as_slice()),
            (
                "+48601000000",
                CallClass::Mobile,
                &["Provider".to_string()][..]
            )
        );
        assert_eq!(rules.emergency, ["112", "997", "998", "999"]);
        assert!(rules.allows("100", CallClass::International));
        assert!(
            !rules.allows("101", CallClass::International),
            "off by default"
        );
        assert!(rules.allows("101", CallClass::National));
        assert_eq!(rules.max_calls_per_extension, 1);
        assert_eq!(
            rules.daily_talk("101"),
            Some(std::time::Duration::from_secs(7200))
        );
        assert_eq!(rules.daily_talk("100"), None, "100's own: no limit");
    }

    #[test]
    fn every_bad_route_field_is_named() {
        let text = OFFICE
            .replace("0[5-8]XXXXXXXX", "0[8-5]")
            .replace("prepend = \"+48\"", "prepend = \"plus\"")
            .replace("trunks = [\"Provider\"]", "trunks = [\"Nobody\"]")
            .replace(
                "extension = \"100\"\nclasses",
                "extension = \"109\"\nclasses",
            )
            .replace("max_minutes_per_day = 120", "max_minutes_per_day = 1441");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!("expected field errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "routes[0].patterns[0]",
                "routes[0].prepend",
                "routes[0].trunks[0]",
                "outbound.max_minutes_per_day",
                "outbound.extensions[0].extension",
            ],
            "{errors:?}"
        );
        let Err(ConfigError::Invalid(errors)) =
            Config::from_toml(&OFFICE.replace("class = \"mobile\"", "class = \"satellite\""))
        else {
            panic!("expected a field error")
        };
        assert_eq!(errors[0].field, "routes[0].class");
    }
}
