//! `[recording]`: which calls are recorded (per direction, and per extension, queue or
//! trunk where one differs), the record code and how long recordings are kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchboard_core::{RecordPolicy, RecordingRules};

use super::{Config, FieldError, field_error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RecordingSettings {
    /// Calls from customers through a trunk.
    pub inbound: RecordPolicy,
    /// Calls the office makes through a trunk.
    pub outbound: RecordPolicy,
    /// Calls between the office's own phones.
    pub internal: RecordPolicy,
    /// Extensions, queues (by number) and trunks (by name) with a rule of their own,
    /// which overrides the direction's; "never" anywhere in a call wins.
    pub extensions: BTreeMap<String, RecordPolicy>,
    pub queues: BTreeMap<String, RecordPolicy>,
    pub trunks: BTreeMap<String, RecordPolicy>,
    /// What an office phone types during a call to start recording it, pause and go
    /// on ("*1"); empty: off.
    pub code: String,
    /// The customer hears "this call is recorded" when its call's recording starts.
    pub announce: bool,
    /// Recordings older than this many days are removed.
    pub keep_days: u32,
    /// Free space (MB) recordings leave on the data directory's disk: below it none
    /// starts and those going on stop, with an alert on the wallboard; calls go on.
    pub min_free_mb: u32,
    /// Agents may listen to and download the recordings of their own calls (those they
    /// made, were called on or answered); off: the admin alone.
    pub agents_listen: bool,
}

impl Default for RecordingSettings {
    /// Nothing is recorded unless a phone asks; recordings are kept 90 days and leave
    /// a gigabyte free.
    fn default() -> Self {
        RecordingSettings {
            inbound: RecordPolicy::OnDemand,
            outbound: RecordPolicy::OnDemand,
            internal: RecordPolicy::OnDemand,
            extensions: BTreeMap::new(),
            queues: BTreeMap::new(),
            trunks: BTreeMap::new(),
            code: switchboard_core::DEFAULT_RECORD_CODE.to_string(),
            announce: false,
            keep_days: 90,
            min_free_mb: 1024,
            agents_listen: false,
        }
    }
}

impl RecordingSettings {
    pub fn rules(&self) -> RecordingRules {
        let map = |m: &BTreeMap<String, RecordPolicy>| m.clone().into_iter().collect();
        RecordingRules {
            inbound: self.inbound,
            outbound: self.outbound,
            internal: self.internal,
            extensions: map(&self.extensions),
            queues: map(&self.queues),
            trunks: map(&self.trunks),
            announce: self.announce,
        }
    }
}

impl Config {
    pub(super) fn validate_recording(&self, errors: &mut Vec<FieldError>) {
        let r = &self.recording;
        let known = |what: &str, names: Vec<&str>, rules: &BTreeMap<String, RecordPolicy>| {
            rules
                .keys()
                .filter(|name| !names.contains(&name.as_str()))
                .map(|name| {
                    field_error(
                        format!("recording.{what}s.{name}"),
                        format!("there is no {what} {name}"),
                    )
                })
                .collect::<Vec<_>>()
        };
        let extensions = self.extensions.iter().map(|e| e.number.as_str()).collect();
        let queues = self.queues.iter().map(|q| q.number.as_str()).collect();
        let trunks = self.trunks.iter().map(|t| t.name.as_str()).collect();
        errors.extend(known("extension", extensions, &r.extensions));
        errors.extend(known("queue", queues, &r.queues));
        errors.extend(known("trunk", trunks, &r.trunks));
        if r.code.len() > 6
            || !r
                .code
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
        {
            errors.push(field_error(
                "recording.code",
                "must be up to 6 of the keys 0-9, * and #, or empty for off",
            ));
        } else if !r.code.is_empty()
            && [
                &self.calls.transfer_code,
                &self.calls.attended_transfer_code,
            ]
            .iter()
            .any(|c| !c.is_empty() && (c.starts_with(&r.code) || r.code.starts_with(c.as_str())))
        {
            errors.push(field_error(
                "recording.code",
                "is the same as a transfer code, or one begins the other",
            ));
        }
        if r.keep_days == 0 {
            errors.push(field_error("recording.keep_days", "must be at least 1"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_what_the_office_does_not_have_and_clashing_codes_are_named() {
        let mut config: Config = toml::from_str(
            "[recording]\ninbound = \"always\"\ncode = \"##\"\nkeep_days = 0\n\
             extensions = { \"999\" = \"never\" }\n",
        )
        .unwrap();
        config.extensions.clear();
        let mut errors = Vec::new();
        config.validate_recording(&mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "recording.extensions.999",
                "recording.code",
                "recording.keep_days"
            ]
        );
        assert_eq!(config.recording.rules().inbound, RecordPolicy::Always);
    }
}
