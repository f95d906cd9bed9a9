//! `[webhooks]`: the office's own systems (a CRM, a ticket desk, a chat) told of calls,
//! messages and callers as they happen, each receiver with its own signing secret and
//! choice of events.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{Config, FieldError, field_error};
use crate::webhook_events::WebhookEventType;

/// The prefix Standard Webhooks gives a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where events are sent.
    pub endpoints: Vec<WebhookEndpoint>,
    /// A caller from outside who calls this many times within `repeated_within_minutes`
    /// is told of as `caller.repeated` (0: never).
    pub repeated_calls: u32,
    pub repeated_within_minutes: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            endpoints: Vec::new(),
            repeated_calls: 3,
            repeated_within_minutes: 60,
        }
    }
}

/// One receiver of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// An `http://` or `https://` URL that takes a POST.
    pub url: String,
    /// The signing secret as Standard Webhooks writes it: `whsec_` and 24 to 64 random
    /// bytes in base64. The receiver checks each request's signature with it.
    pub secret: String,
    /// The events sent here; every event when empty.
    #[serde(default)]
    pub events: Vec<WebhookEventType>,
}

impl WebhookEndpoint {
    pub fn wants(&self, event: WebhookEventType) -> bool {
        self.events.is_empty() || self.events.contains(&event)
    }

    /// The key the signatures are made with, when the secret is well formed.
    pub fn key(&self) -> Option<Vec<u8>> {
        let encoded = self.secret.strip_prefix(SECRET_PREFIX)?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        (24..=64).contains(&key.len()).then_some(key)
    }
}

impl WebhookSettings {
    /// Whether any receiver takes `event`.
    pub fn wanted(&self, event: WebhookEventType) -> bool {
        self.endpoints.iter().any(|e| e.wants(event))
    }

    pub fn endpoint(&self, url: &str) -> Option<&WebhookEndpoint> {
        self.endpoints.iter().find(|e| e.url == url)
    }
}

impl Config {
    pub(super) fn validate_webhooks(&self, errors: &mut Vec<FieldError>) {
        let w = &self.webhooks;
        for (i, endpoint) in w.endpoints.iter().enumerate() {
            let at = |field: &str| format!("webhooks.endpoints[{i}].{field}");
            if let Err(why) = crate::webhooks::Target::parse(&endpoint.url) {
                errors.push(field_error(at("url"), why));
            } else if w.endpoints[..i].iter().any(|e| e.url == endpoint.url) {
                errors.push(field_error(at("url"), "another receiver has this URL"));
            }
            if endpoint.key().is_none() {
                errors.push(field_error(
                    at("secret"),
                    "must be whsec_ followed by 24 to 64 random bytes in base64",
                ));
            }
            for (j, event) in endpoint.events.iter().enumerate() {
                if endpoint.events[..j].contains(event) {
                    errors.push(field_error(at(&format!("events[{j}]")), "is listed twice"));
                }
            }
        }
        if w.repeated_calls == 1 {
            errors.push(field_error(
                "webhooks.repeated_calls",
                "a repeated caller calls at least twice (0 turns it off)",
            ));
        }
        if w.repeated_calls > 0 && !(1..=10_080).contains(&w.repeated_within_minutes) {
            errors.push(field_error(
                "webhooks.repeated_within_minutes",
                "must be 1 to 10080 (a week)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};

    fn errors(webhooks: &str) -> Vec<String> {
        let toml = format!(
            "[[extensions]]\nnumber = \"101\"\npassword = \"a-long-password-101\"\n{webhooks}"
        );
        match Config::from_toml(&toml) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(problems)) => problems.into_iter().map(|p| p.field).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_receiver_needs_a_url_a_well_formed_secret_and_each_event_once() {
        let good = "[[webhooks.endpoints]]\nurl = \"https://crm.example/hooks\"\n\
                    secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
                    events = [\"call.missed\", \"voicemail.left\"]\n";
        assert!(errors(good).is_empty(), "{:?}", errors(good));
        let bad = "[webhooks]\nrepeated_calls = 1\n\
                   [[webhooks.endpoints]]\nurl = \"crm.example/hooks\"\nsecret = \"hunter2\"\n\
                   events = [\"call.ended\", \"call.ended\"]\n\
                   [[webhooks.endpoints]]\nurl = \"https://crm.example/hooks\"\n\
                   secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
                   [[webhooks.endpoints]]\nurl = \"https://crm.example/hooks\"\n\
                   secret = \"whsec_c2hvcnQ=\"\n";
        assert_eq!(
            errors(bad),
            [
                "webhooks.endpoints[0].url",
                "webhooks.endpoints[0].secret",
                "webhooks.endpoints[0].events[1]",
                "webhooks.endpoints[2].url",
                "webhooks.endpoints[2].secret",
                "webhooks.repeated_calls",
            ]
        );
    }
}
