//! Voicemail in the configuration file: how long messages may be. Every extension and
//! every queue has a box; nothing else needs setting up.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_core::RecordLimits;

use super::{FieldError, field_error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoicemailSettings {
    /// The longest message, in seconds.
    pub max_message_seconds: u32,
    /// A message ends after this many seconds of silence.
    pub silence_seconds: u32,
}

impl Default for VoicemailSettings {
    fn default() -> Self {
        let limits = RecordLimits::default();
        VoicemailSettings {
            max_message_seconds: limits.max.as_secs() as u32,
            silence_seconds: limits.silence.as_secs() as u32,
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

    pub(super) fn validate(&self, errors: &mut Vec<FieldError>) {
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
