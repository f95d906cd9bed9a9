//! Voicemail in the configuration file: how long messages may be, and the PINs that
//! open boxes by phone. Every extension and every queue has a box; a box without a PIN
//! opens from its own extension only.

use std::time::Duration;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use switchboard_core::{RecordLimits, pin_hash};

use super::{FieldError, field_error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VoicemailSettings {
    /// The longest message, in seconds.
    pub max_message_seconds: u32,
    /// A message ends after this many seconds of silence.
    pub silence_seconds: u32,
    /// Boxes with a PIN.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<BoxSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoxSettings {
    /// The extension or queue number.
    pub number: String,
    /// 4 to 12 digits, accepted on import only: it is hashed and never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// The PIN's salted hash, as export writes it, so a round trip keeps PINs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_hash: Option<String>,
    /// Where each new message is e-mailed, its recording attached (needs `[email]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Calls to the number that nobody answered (the caller gave up, nobody answered
    /// in time, or it was busy) are e-mailed to `email` too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub missed_calls: bool,
}

impl Default for VoicemailSettings {
    fn default() -> Self {
        let limits = RecordLimits::default();
        VoicemailSettings {
            max_message_seconds: limits.max.as_secs() as u32,
            silence_seconds: limits.silence.as_secs() as u32,
            boxes: Vec::new(),
        }
    }
}

impl VoicemailSettings {
    pub fn record_limits(&self) -> RecordLimits {
        RecordLimits {
            max: Duration::from_secs(u64::from(self.max_message_seconds)),
            silence: Duration::from_secs(u64::from(self.silence_seconds)),
        }
    }

    /// These settings as stored: every PIN replaced by its hash.
    pub(super) fn hashed(&self) -> VoicemailSettings {
        let mut stored = self.clone();
        for b in &mut stored.boxes {
            if let Some(pin) = b.pin.take() {
                b.pin_hash = Some(pin_hash(&b.number, &pin, &rand::random::<[u8; 16]>()));
            }
        }
        stored
    }

    /// The boxes' PIN hashes, for the engine.
    pub fn pins(&self) -> Vec<(String, String)> {
        self.boxes
            .iter()
            .filter_map(|b| Some((b.number.clone(), b.pin_hash.clone()?)))
            .collect()
    }

    /// The address `mailbox`'s messages are e-mailed to.
    pub fn email_of(&self, mailbox: &str) -> Option<&str> {
        self.boxes
            .iter()
            .find(|b| b.number == mailbox)
            .and_then(|b| b.email.as_deref())
    }

    /// The address `number`'s missed calls are e-mailed to, when its box asks for it.
    pub fn missed_calls_email_of(&self, number: &str) -> Option<&str> {
        self.boxes
            .iter()
            .find(|b| b.number == number && b.missed_calls)
            .and_then(|b| b.email.as_deref())
    }

    /// `mailboxes`: the extension and queue numbers, which are the boxes there are.
    pub(super) fn validate(
        &self,
        mailboxes: &HashSet<&str>,
        email_set_up: bool,
        errors: &mut Vec<FieldError>,
    ) {
        let mut seen = HashSet::new();
        for (i, b) in self.boxes.iter().enumerate() {
            let at = |f: &str| format!("voicemail.boxes[{i}].{f}");
            if !mailboxes.contains(b.number.as_str()) {
                errors.push(field_error(
                    at("number"),
                    format!("{:?} is neither an extension nor a queue", b.number),
                ));
            } else if !seen.insert(b.number.as_str()) {
                errors.push(field_error(
                    at("number"),
                    format!("{} is listed twice", b.number),
                ));
            }
            match (&b.pin, &b.pin_hash) {
                (Some(pin), None) => {
                    if !(4..=12).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
                        errors.push(field_error(at("pin"), "must be 4 to 12 digits"));
                    }
                }
                (None, Some(hash)) if hash.starts_with("sha256$") => {}
                (None, Some(_)) => errors.push(field_error(
                    at("pin_hash"),
                    "is not a hash Switchboard wrote",
                )),
                (None, None) if b.email.is_some() => {}
                _ => errors.push(field_error(
                    at("pin"),
                    "give either pin or pin_hash (or only an email)",
                )),
            }
            if b.missed_calls && b.email.is_none() {
                errors.push(field_error(
                    at("missed_calls"),
                    "needs an e-mail address to send them to",
                ));
            }
            if let Some(address) = &b.email {
                if !super::email::is_address(address) {
                    errors.push(field_error(
                        at("email"),
                        "must be an e-mail address, such as anna@office.example",
                    ));
                } else if !email_set_up {
                    errors.push(field_error(
                        at("email"),
                        "e-mail is not set up: give [email] server and from",
                    ));
                }
            }
        }
        if !(10..=3600).contains(&self.max_message_seconds) {
            errors.push(field_error(
                "voicemail.max_message_seconds",
                "must lie between 10 and 3600 seconds",
            ));
        }
        if !(2..=60).contains(&self.silence_seconds) {
            errors.push(field_error(
                "voicemail.silence_seconds",
                "must lie between 2 and 60 seconds",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};

    const OFFICE: &str = r#"
[[extensions]]
number = "101"
password = "a-long-password-101"

[voicemail]
silence_seconds = 3
boxes = [{ number = "101", pin = "4821" }]
"#;

    #[test]
    fn pins_are_stored_as_hashes_and_survive_a_round_trip() {
        let config = Config::from_toml(OFFICE).unwrap();
        let mut store = switchboard_store::Store::open_in_memory().unwrap();
        config.apply(&mut store).unwrap();
        let loaded = Config::load(&store).unwrap();
        let stored = &loaded.voicemail.boxes[0];
        assert_eq!(stored.pin, None);
        let hash = stored.pin_hash.clone().unwrap();
        assert!(!hash.contains("4821"), "{hash}");
        assert_eq!(loaded.voicemail.pins(), [("101".to_string(), hash.clone())]);
        // Exported and imported again, the hash is kept as it is.
        loaded.apply(&mut store).unwrap();
        let again = Config::load(&store).unwrap();
        assert_eq!(again.voicemail.boxes[0].pin_hash, Some(hash));
        assert_eq!(again.voicemail.silence_seconds, 3);
    }

    #[test]
    fn bad_boxes_and_limits_are_named() {
        let bad = OFFICE
            .replace("pin = \"4821\"", "pin = \"48\"")
            .replace("silence_seconds = 3", "silence_seconds = 1")
            .replace(
                "boxes = [",
                "max_message_seconds = 5\nboxes = [{ number = \"555\", pin = \"1234\" }, ",
            );
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&bad) else {
            panic!("expected field errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "voicemail.boxes[0].number",
                "voicemail.boxes[1].pin",
                "voicemail.max_message_seconds",
                "voicemail.silence_seconds",
            ]
        );
    }
}
