//! E-mail in the configuration file: the office's SMTP server Switchboard sends through
//! (voicemail to e-mail). The password is write-only, as a trunk's is.

use serde::{Deserialize, Serialize};

use super::{FieldError, field_error};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// The SMTP server as host:port (587 with STARTTLS, 465 with TLS); e-mail is off
    /// while it is empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub server: String,
    pub security: SmtpSecurity,
    /// The login at the SMTP server, when it asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Accepted on import and through the API, never shown back (left out of exports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The sender, such as `Switchboard <pbx@office.example>`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (refused if the server cannot).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only for a server on this computer or the office's own network.
    None,
}

impl EmailSettings {
    pub fn is_set_up(&self) -> bool {
        !self.server.is_empty()
    }

    /// Host and port of the server.
    pub fn server_address(&self) -> Option<(String, u16)> {
        let (host, port) = self.server.trim().rsplit_once(':')?;
        let port = port.parse().ok()?;
        let plausible = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c));
        plausible.then(|| (host.to_string(), port))
    }

    pub(super) fn validate(&self, errors: &mut Vec<FieldError>) {
        if !self.is_set_up() {
            return;
        }
        if self.server_address().is_none() {
            errors.push(field_error(
                "email.server",
                "must be host:port, such as smtp.office.example:587",
            ));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            errors.push(field_error(
                "email.from",
                "must be an address, such as Switchboard <pbx@office.example>",
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            errors.push(field_error("email.username", "is needed with a password"));
        }
    }

    /// Takes the password of `stored` when this one leaves it out for the same login.
    pub fn keep_password(&mut self, stored: &EmailSettings) {
        if self.password.is_none() && self.username == stored.username {
            self.password = stored.password.clone();
        }
    }

    /// As exports and the API show it: the password left out.
    pub fn without_password(&self) -> EmailSettings {
        EmailSettings {
            password: None,
            ..self.clone()
        }
    }
}

/// An e-mail address, as a box's `email` must be.
pub fn is_address(text: &str) -> bool {
    text.parse::<lettre::Address>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};

    const OFFICE: &str = r#"
[[extensions]]
number = "101"
password = "a-long-password-101"

[email]
server = "smtp.office.example:587"
username = "pbx@office.example"
password = "smtp-secret"
from = "Switchboard <pbx@office.example>"

[voicemail]
boxes = [{ number = "101", email = "anna@office.example" }]
"#;

    #[test]
    fn the_password_is_kept_but_never_shown() {
        let config = Config::from_toml(OFFICE).unwrap();
        let mut store = switchboard_store::Store::open_in_memory().unwrap();
        config.apply(&mut store).unwrap();
        let loaded = Config::load(&store).unwrap();
        assert_eq!(loaded.email.password.as_deref(), Some("smtp-secret"));
        assert_eq!(
            loaded.voicemail.boxes[0].email.as_deref(),
            Some("anna@office.example")
        );
        let exported = loaded.clone().without_secrets().to_toml();
        assert!(!exported.contains("smtp-secret"), "{exported}");
        // The exported file imported again keeps the stored password.
        let mut again = Config::from_toml(&exported).unwrap();
        again.keep_secrets(&loaded);
        assert_eq!(again.email.password.as_deref(), Some("smtp-secret"));
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = OFFICE
            .replace("smtp.office.example:587", "smtp.office.example")
            .replace("Switchboard <pbx@office.example>", "Switchboard")
            .replace("anna@office.example", "anna at the office");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&bad) else {
            panic!("expected field errors");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["voicemail.boxes[0].email", "email.server", "email.from"]
        );
        let off = OFFICE.replace("server = \"smtp.office.example:587\"\n", "");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&off) else {
            panic!("expected field errors");
        };
        assert_eq!(errors[0].field, "voicemail.boxes[0].email", "{errors:?}");
    }
}
