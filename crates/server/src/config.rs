//! The whole configuration as one TOML document: what `config export` writes and
//! `config import` reads. Validation names the field at fault; applying is one
//! transaction, so a bad file changes nothing.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use switchboard_sip::auth::{AccountSecrets, Algorithm, AuthConfig};
use switchboard_sip::guard::GuardConfig;
use switchboard_sip::registrar::RegistrarConfig;
use switchboard_sip::service::{Account, ServiceConfig};
use switchboard_sip::transaction::TimerConfig;
use switchboard_store::{Extension, Store};

use crate::sounds::Language;

mod conferences;
mod email;
mod feature_codes;
mod import;
mod lists;
mod outbound;
mod pickup;
mod queues;
mod recording;
mod reports;
mod scenarios;
pub(crate) mod trunks;
mod voicemail;
mod webhooks;

pub use conferences::ConferenceSettings;
pub use email::{EmailSettings, SmtpSecurity};
pub use lists::{ListSettings, NumberSettings};
pub use outbound::{CallClassName, ExtensionClasses, OutboundSettings, RouteSettings};
pub use pickup::PickupGroupSettings;
pub use queues::{AgentSettings, QueueSettings};
pub use recording::RecordingSettings;
pub use reports::ReportSettings;
pub use scenarios::{ContactSettings, InboundNumber};
pub use trunks::{RegisterSettings, TrunkSettings, TrunkTransport};
pub use voicemail::{BoxSettings, VoicemailSettings};
pub use webhooks::{SECRET_PREFIX, WebhookEndpoint, WebhookSettings};

/// Shortest password accepted for an extension: long enough to resist online guessing.
const MIN_PASSWORD_LEN: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub sip: SipSettings,
    #[serde(default)]
    pub registrar: RegistrarSettings,
    #[serde(default)]
    pub security: SecuritySettings,
    #[serde(default)]
    pub calls: CallSettings,
    #[serde(default)]
    pub voicemail: VoicemailSettings,
    /// The SMTP server voicemail is e-mailed through.
    #[serde(default)]
    pub email: EmailSettings,
    #[serde(default)]
    pub extensions: Vec<ExtensionConfig>,
    #[serde(default)]
    pub queues: Vec<QueueSettings>,
    /// Agents whose settings differ from the defaults; every queue member is an agent.
    #[serde(default)]
    pub agents: Vec<AgentSettings>,
    #[serde(default)]
    pub numbers: NumberSettings,
    #[serde(default)]
    pub lists: Vec<ListSettings>,
    #[serde(default)]
    pub schedules: Vec<switchboard_scenario::schedule::ScheduleSettings>,
    /// Published on import: each changed scenario becomes its next version.
    #[serde(default)]
    pub scenarios: Vec<switchboard_scenario::model::Scenario>,
    #[serde(default)]
    pub inbound: Vec<InboundNumber>,
    #[serde(default)]
    pub contacts: Vec<ContactSettings>,
    /// The office's providers.
    #[serde(default)]
    pub trunks: Vec<TrunkSettings>,
    /// Which numbers go out through which trunks.
    #[serde(default)]
    pub routes: Vec<RouteSettings>,
    /// Who may call what out.
    #[serde(default)]
    pub outbound: OutboundSettings,
    /// Rooms office phones dial to talk together.
    #[serde(default)]
    pub conferences: Vec<ConferenceSettings>,
    /// Groups of extensions whose phones pick up each other's calls with `*8`.
    #[serde(default)]
    pub pickup_groups: Vec<PickupGroupSettings>,
    /// What office phones dial for pickup, park, supervision, voicemail and agents'
    /// status.
    #[serde(default)]
    pub feature_codes: switchboard_core::FeatureCodes,
    /// Which calls are recorded, and for how long recordings are kept.
    #[serde(default)]
    pub recording: RecordingSettings,
    /// Reports e-mailed each morning and each week.
    #[serde(default)]
    pub reports: ReportSettings,
    /// The office's systems told of calls and messages as they happen.
    #[serde(default)]
    pub webhooks: WebhookSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SipSettings {
    /// Digest realm phones authenticate against. Changing it invalidates stored HA1s.
    pub realm: String,
    /// Digest algorithms offered, first preferred.
    pub digest_algorithms: Vec<DigestAlgorithm>,
    /// Seconds a digest nonce stays valid before phones are told it is stale.
    pub nonce_lifetime: u32,
    /// RFC 3261 T1, the round-trip estimate every retransmission timer derives from (ms).
    pub timer_t1_ms: u32,
    /// RFC 3261 T2, the longest retransmission interval (ms).
    pub timer_t2_ms: u32,
    /// RFC 3261 T4, how long a message may linger in the network (ms).
    pub timer_t4_ms: u32,
    /// The office's address on the Internet when it is behind NAT ("203.0.113.9"):
    /// what providers and phones outside the office's networks are told in Via,
    /// Contact and SDP. Empty: the office's own address for everyone.
    pub public_address: String,
    /// Networks inside the office besides the private ranges (10/8, 172.16/12,
    /// 192.168/16, 100.64/10, link-local), whose phones are told the office's own address.
    pub local_networks: Vec<String>,
}

impl Default for SipSettings {
    fn default() -> Self {
        let d = ServiceConfig::default();
        SipSettings {
            realm: d.realm,
            digest_algorithms: d.auth.algorithms.iter().map(|&a| a.into()).collect(),
            nonce_lifetime: d.auth.nonce_lifetime.as_secs() as u32,
            timer_t1_ms: d.timers.t1.as_millis() as u32,
            timer_t2_ms: d.timers.t2.as_millis() as u32,
            timer_t4_ms: d.timers.t4.as_millis() as u32,
            public_address: String::new(),
            local_networks: Vec::new(),
        }
    }
}

/// A digest algorithm, as RFC 8760 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum DigestAlgorithm {
    #[serde(rename = "MD5")]
    Md5,
    #[serde(rename = "SHA-256")]
    Sha256,
}

impl From<Algorithm> for DigestAlgorithm {
    fn from(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Md5 => DigestAlgorithm::Md5,
            Algorithm::Sha256 => DigestAlgorithm::Sha256,
        }
    }
}

impl From<DigestAlgorithm> for Algorithm {
    fn from(algorithm: DigestAlgorithm) -> Self {
        match algorithm {
            DigestAlgorithm::Md5 => Algorithm::Md5,
            DigestAlgorithm::Sha256 => Algorithm::Sha256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrarSettings {
    pub default_expires: u32,
    pub min_expires: u32,
    pub max_expires: u32,
    pub max_contacts: usize,
}

impl Default for RegistrarSettings {
    fn default() -> Self {
        let d = RegistrarConfig::default();
        RegistrarSettings {
            default_expires: d.default_expires,
            min_expires: d.min_expires,
            max_expires: d.max_expires,
            max_contacts: d.max_contacts,
        }
    }
}

/// Brute-force and flood protection: a source that fails authentication too often, or
/// floods, is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// Failed authentications from one address (or on one extension) that ban it; 0
    /// turns these bans off.
    pub max_auth_failures: u32,
    /// Seconds over which failures are counted.
    pub failure_window: u32,
    /// Seconds a banned address is ignored.
    pub ban_seconds: u32,
    /// SIP requests a second one address may send on average (twice as many in a
    /// burst); past it they are answered 503, and an address that goes on is banned.
    /// 0 turns the limit off.
    pub max_request_rate: u32,
    /// Networks never banned nor limited, such as the office LAN ("192.168.1.0/24";
    /// a single address is a network of one).
    pub trusted_networks: Vec<String>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        let d = GuardConfig::default();
        SecuritySettings {
            max_auth_failures: d.max_auth_failures,
            failure_window: d.failure_window.as_secs() as u32,
            ban_seconds: d.ban.as_secs() as u32,
            max_request_rate: d.max_request_rate,
            trusted_networks: Vec::new(),
        }
    }
}

impl SipSettings {
    /// The office's public address, when one is set.
    pub fn public_ip(&self) -> Option<std::net::IpAddr> {
        self.public_address.parse().ok()
    }

    /// The office's own networks that read as networks.
    pub fn local_networks(&self) -> Vec<ipnet::IpNet> {
        self.local_networks
            .iter()
            .filter_map(|n| parse_network(n))
            .collect()
    }
}

impl SecuritySettings {
    /// The trusted networks that read as networks or addresses.
    fn networks(&self) -> Vec<ipnet::IpNet> {
        self.trusted_networks
            .iter()
            .filter_map(|n| parse_network(n))
            .collect()
    }
}

/// A network ("10.0.0.0/8") or one address ("10.0.0.7").
pub(crate) fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse().ok().or_else(|| {
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// How calls between extensions behave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CallSettings {
    /// Seconds the callee's phones ring before the caller hears "no answer".
    pub ring_timeout: u32,
    /// Language of the announcements callers hear.
    pub language: Language,
    /// Extensions whose phones may listen to (`*90`), whisper to (`*91`) and barge
    /// into (`*92`) another extension's call; none by default.
    pub supervisors: Vec<String>,
    /// What an office phone types during a call to transfer it by its keys, then the
    /// number and `#`; empty: off.
    pub transfer_code: String,
    /// What an office phone types during a call, then a colleague's extension and
    /// `#`, to talk to the colleague before the transfer (hanging up completes it,
    /// `*3` makes a three-way call, `*1` goes back); empty: off.
    pub attended_transfer_code: String,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            ring_timeout: 30,
            language: Language::default(),
            supervisors: Vec::new(),
            transfer_code: switchboard_core::DEFAULT_TRANSFER_CODE.to_string(),
            attended_transfer_code: switchboard_core::DEFAULT_ATTENDED_TRANSFER_CODE.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionConfig {
    pub number: String,
    #[serde(default)]
    pub name: String,
    /// Plain password, accepted on import only; it is hashed and never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Digest HA1 hashes, as export writes them, so a round trip keeps passwords.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha1_md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha1_sha256: Option<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// "allow": TLS and SRTP when the phone offers them; "require": the phone registers
    /// and calls over TLS only, with its audio in SRTP.
    #[serde(default, skip_serializing_if = "EncryptionPolicy::is_default")]
    pub encryption: EncryptionPolicy,
}

/// An extension's encryption policy, as the configuration says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionPolicy {
    #[default]
    Allow,
    Require,
}

impl EncryptionPolicy {
    fn is_default(&self) -> bool {
        *self == EncryptionPolicy::Allow
    }
}

impl From<EncryptionPolicy> for switchboard_sip::service::Encryption {
    fn from(policy: EncryptionPolicy) -> Self {
        match policy {
            EncryptionPolicy::Allow => Self::Allow,
            EncryptionPolicy::Require => Self::Require,
        }
    }
}

fn enabled_by_default() -> bool {
    true
}

/// One problem found in a configuration, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

pub(crate) fn field_error(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the file as TOML: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] switchboard_store::StoreError),
}

impl Config {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config = Self::read_toml(text)?;
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// `text` in place of `current` (`config import --replace`): what it leaves out is
    /// gone, except the trunks' passwords an export leaves out.
    pub fn replacing(current: &Config, text: &str) -> Result<Self, ConfigError> {
        let mut config = Self::read_toml(text)?;
        config.keep_secrets(current);
        config.validate().map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// The file read, not yet checked.
    fn read_toml(text: &str) -> Result<Self, ConfigError> {
        let document = toml::Deserializer::parse(text)?;
        // A value of the wrong kind (an unknown strategy, a word for a number) stops
        // reading there; it is still named by its field, as the checks below name theirs.
        let config: Config = serde_path_to_error::deserialize(document).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match path.as_str() {
                "." => ConfigError::Syntax(inner),
                _ => ConfigError::Invalid(vec![field_error(path, inner.message())]),
            }
        })?;
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the configuration always serialises")
    }

    /// Every problem at once, so an admin fixes the file in one go.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let realm = &self.sip.realm;
        if realm.is_empty()
            || !realm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        {
            errors.push(field_error(
                "sip.realm",
                "use letters, digits, '-', '.' or '_' (not empty)",
            ));
        }
        if self.sip.digest_algorithms.is_empty() {
            errors.push(field_error(
                "sip.digest_algorithms",
                "offer at least one of \"MD5\", \"SHA-256\"",
            ));
        }
        if !self.sip.public_address.is_empty()
            && self.sip.public_address.parse::<std::net::IpAddr>().is_err()
        {
            errors.push(field_error(
                "sip.public_address",
                "must be an IP address such as 203.0.113.9, or empty",
            ));
        }
        for (i, network) in self.sip.local_networks.iter().enumerate() {
            if parse_network(network).is_none() {
                errors.push(field_error(
                    format!("sip.local_networks[{i}]"),
                    "must be a network such as 192.168.1.0/24, or one address",
                ));
            }
        }
        if self.sip.nonce_lifetime == 0 {
            errors.push(field_error(
                "sip.nonce_lifetime",
                "must be at least 1 second",
            ));
        }
        let sip = &self.sip;
        if !(50..=5000).contains(&sip.timer_t1_ms) {
            errors.push(field_error(
                "sip.timer_t1_ms",
                "must lie between 50 and 5000",
            ));
        }
        if sip.timer_t2_ms < sip.timer_t1_ms {
            errors.push(field_error(
                "sip.timer_t2_ms",
                "must not be below sip.timer_t1_ms",
            ));
        }
        if sip.timer_t4_ms < sip.timer_t1_ms {
            errors.push(field_error(
                "sip.timer_t4_ms",
                "must not be below sip.timer_t1_ms",
            ));
        }
        if self.security.max_auth_failures > 0 && self.security.failure_window == 0 {
            errors.push(field_error(
                "security.failure_window",
                "must be at least 1 second",
            ));
        }
        for (i, network) in self.security.trusted_networks.iter().enumerate() {
            if parse_network(network).is_none() {
                errors.push(field_error(
                    format!("security.trusted_networks[{i}]"),
                    "must be a network such as 192.168.1.0/24, or one address",
                ));
            }
        }
        if self.security.max_auth_failures > 0 && self.security.ban_seconds == 0 {
            errors.push(field_error(
                "security.ban_seconds",
                "must be at least 1 second (or set max_auth_failures = 0)",
            ));
        }
        let r = &self.registrar;
        if r.min_expires == 0 {
            errors.push(field_error(
                "registrar.min_expires",
                "must be at least 1 second",
            ));
        }
        if r.min_expires > r.max_expires {
            errors.push(field_error(
                "registrar.min_expires",
                "must not exceed registrar.max_expires",
            ));
        }
        if r.default_expires < r.min_expires || r.default_expires > r.max_expires {
            errors.push(field_error(
                "registrar.default_expires",
                "must lie between registrar.min_expires and registrar.max_expires",
            ));
        }
        if r.max_contacts == 0 {
            errors.push(field_error("registrar.max_contacts", "must be at least 1"));
        }
        if !(5..=600).contains(&self.calls.ring_timeout) {
            errors.push(field_error(
                "calls.ring_timeout",
                "must lie between 5 and 600 seconds",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, e) in self.extensions.iter().enumerate() {
            let at = |f: &str| format!("extensions[{i}].{f}");
            if e.number.is_empty()
                || e.number.len() > 15
                || !e.number.chars().all(|c| c.is_ascii_digit())
            {
                errors.push(field_error(at("number"), "must be 1 to 15 digits"));
            } else if !seen.insert(e.number.as_str()) {
                errors.push(field_error(
                    at("number"),
                    format!("{} is listed twice", e.number),
                ));
            }
            if e.name.chars().any(char::is_control) {
                errors.push(field_error(
                    at("name"),
                    "must not contain control characters",
                ));
            }
            match (&e.password, &e.ha1_md5, &e.ha1_sha256) {
                (Some(p), None, None) => {
                    if p.chars().count() < MIN_PASSWORD_LEN {
                        errors.push(field_error(
                            at("password"),
                            format!("must be at least {MIN_PASSWORD_LEN} characters"),
                        ));
                    } else if p == &e.number || p.chars().all(|c| c.is_ascii_digit()) {
                        errors.push(field_error(
                            at("password"),
                            "must not be the number or digits only",
                        ));
                    }
                }
                (None, Some(md5), Some(sha)) => {
                    if !is_hex(md5, 32) {
                        errors.push(field_error(at("ha1_md5"), "must be 32 hex digits"));
                    }
                    if !is_hex(sha, 64) {
                        errors.push(field_error(at("ha1_sha256"), "must be 64 hex digits"));
                    }
                }
                _ => errors.push(field_error(
                    at("password"),
                    "give either password, or both ha1_md5 and ha1_sha256",
                )),
            }
        }
        let calls = &self.calls;
        let codes = [
            ("calls.transfer_code", &calls.transfer_code, "##"),
            (
                "calls.attended_transfer_code",
                &calls.attended_transfer_code,
                "*2",
            ),
        ];
        for (field, code, usual) in codes {
            if code.len() > 4 || !code.chars().all(|c| c.is_ascii_digit() || "*#".contains(c)) {
                errors.push(field_error(
                    field,
                    format!(
                        "must be up to 4 of the keys 0-9, * and # (\"{usual}\"), or empty for none"
                    ),
                ));
            }
        }
        if !calls.transfer_code.is_empty() && calls.transfer_code == calls.attended_transfer_code {
            errors.push(field_error(
                "calls.attended_transfer_code",
                "must differ from calls.transfer_code",
            ));
        }
        for (i, supervisor) in self.calls.supervisors.iter().enumerate() {
            if !self.extensions.iter().any(|e| &e.number == supervisor) {
                errors.push(field_error(
                    format!("calls.supervisors[{i}]"),
                    format!("{supervisor} is not an extension"),
                ));
            }
        }
        let mailboxes = self
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .chain(self.queues.iter().map(|q| q.number.as_str()))
            .collect();
        self.voicemail
            .validate(&mailboxes, self.email.is_set_up(), &mut errors);
        self.email.validate(&mut errors);
        self.validate_queues(&mut errors);
        self.validate_lists(&mut errors);
        self.validate_scenarios(&mut errors);
        self.validate_trunks(&mut errors);
        self.validate_outbound(&mut errors);
        self.validate_conferences(&mut errors);
        self.validate_pickup_groups(&mut errors);
        self.validate_feature_codes(&mut errors);
        self.validate_recording(&mut errors);
        self.validate_reports(&mut errors);
        self.validate_webhooks(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn validate_queues(&self, errors: &mut Vec<FieldError>) {
        let extensions: Vec<&str> = self.extensions.iter().map(|e| e.number.as_str()).collect();
        let mut numbers = std::collections::HashSet::new();
        for (i, q) in self.queues.iter().enumerate() {
            let at = format!("queues[{i}]");
            q.validate(&at, &extensions, errors);
            if !q.number.is_empty() && !numbers.insert(q.number.as_str()) {
                errors.push(field_error(
                    format!("{at}.number"),
                    format!("{} is listed twice", q.number),
                ));
            }
        }
        let mut agents = std::collections::HashSet::new();
        for (i, a) in self.agents.iter().enumerate() {
            let at = format!("agents[{i}]");
            a.validate(&at, &extensions, errors);
            if !agents.insert(a.extension.as_str()) {
                errors.push(field_error(
                    format!("{at}.extension"),
                    format!("{} is listed twice", a.extension),
                ));
            }
        }
    }

    fn validate_lists(&self, errors: &mut Vec<FieldError>) {
        self.numbers.validate(errors);
        let country = self.numbers.country_code();
        let mut names = std::collections::HashSet::new();
        for (i, list) in self.lists.iter().enumerate() {
            let at = format!("lists[{i}]");
            list.validate(&at, country.as_deref(), errors);
            if !names.insert(list.name.as_str()) {
                errors.push(field_error(
                    format!("{at}.name"),
                    format!("{:?} is listed twice", list.name),
                ));
            }
        }
    }

    /// The number lists as calls use them.
    pub fn number_lists(&self) -> Vec<switchboard_core::numbers::NumberList> {
        let country = self.numbers.country_code();
        self.lists
            .iter()
            .map(|l| l.list(country.as_deref()))
            .collect()
    }

    /// The queues as the engine takes them.
    pub fn queue_setups(&self) -> Vec<switchboard_core::QueueSetup> {
        self.queues.iter().map(QueueSettings::setup).collect()
    }

    /// Every agent (each extension that is a queue member), with its own settings or
    /// the defaults.
    pub fn agent_configs(&self) -> Vec<switchboard_queue::AgentConfig> {
        let mut members: Vec<&str> = self
            .queues
            .iter()
            .flat_map(|q| q.agents.iter().map(|m| m.extension.as_str()))
            .collect();
        members.sort_unstable();
        members.dedup();
        members
            .into_iter()
            .map(
                |ext| match self.agents.iter().find(|a| a.extension == ext) {
                    Some(a) => a.agent_config(),
                    None => switchboard_queue::AgentConfig {
                        follows_registration: true,
                        ..switchboard_queue::AgentConfig::new(ext)
                    },
                },
            )
            .collect()
    }

    /// This configuration with the trunks' and the SMTP server's passwords left out, for
    /// exports and the API.
    pub fn without_secrets(mut self) -> Config {
        self.trunks = self
            .trunks
            .iter()
            .map(TrunkSettings::without_password)
            .collect();
        self.email = self.email.without_password();
        self
    }

    /// Gives each trunk whose password was left out the one `current` holds for the
    /// trunk of the same name, and the SMTP server its stored password: an exported file
    /// imported again keeps the passwords.
    pub fn keep_secrets(&mut self, current: &Config) {
        for trunk in &mut self.trunks {
            let stored = current.trunks.iter().find(|t| t.name == trunk.name);
            trunk.keep_password(stored);
        }
        self.email.keep_password(&current.email);
    }

    /// The office's numbers settings alone (its country and time zone), for readers
    /// that need no more of the configuration.
    pub fn numbers(store: &Store) -> Result<NumberSettings, ConfigError> {
        section(store, "numbers")
    }

    /// The recording settings alone, without reading the rest.
    pub fn recording(store: &Store) -> Result<RecordingSettings, ConfigError> {
        section(store, "recording")
    }

    /// Reads the configuration the store holds. Each section is stored as one JSON
    /// setting, so a key added later simply takes its default in older databases.
    /// The webhook settings alone: read for every batch of calls the store writes.
    pub fn webhooks(store: &Store) -> Result<WebhookSettings, ConfigError> {
        section(store, "webhooks")
    }

    pub fn load(store: &Store) -> Result<Self, ConfigError> {
        Ok(Config {
            sip: section(store, "sip")?,
            registrar: section(store, "registrar")?,
            security: section(store, "security")?,
            calls: section(store, "calls")?,
            voicemail: section(store, "voicemail")?,
            email: section(store, "email")?,
            queues: section(store, "queues")?,
            agents: section(store, "agents")?,
            numbers: section(store, "numbers")?,
            lists: section(store, "lists")?,
            schedules: section(store, "schedules")?,
            scenarios: scenarios::published(store)?,
            inbound: section(store, "inbound")?,
            contacts: section(store, "contacts")?,
            trunks: section(store, "trunks")?,
            routes: section(store, "routes")?,
            outbound: section(store, "outbound")?,
            conferences: section(store, "conferences")?,
            pickup_groups: section(store, "pickup_groups")?,
            feature_codes: section(store, "feature_codes")?,
            recording: section(store, "recording")?,
            reports: section(store, "reports")?,
            webhooks: Config::webhooks(store)?,
            extensions: store
                .extensions()?
                .into_iter()
                .map(|e| ExtensionConfig {
                    number: e.number,
                    name: e.display_name,
                    password: None,
                    ha1_md5: Some(e.ha1_md5),
                    ha1_sha256: Some(e.ha1_sha256),
                    enabled: e.enabled,
                    encryption: match e.encryption.as_str() {
                        "require" => EncryptionPolicy::Require,
                        _ => EncryptionPolicy::Allow,
                    },
                })
                .collect(),
        })
    }

    /// Writes this configuration over the store's, all or nothing.
    pub fn apply(&self, store: &mut Store) -> Result<(), ConfigError> {
        self.validate().map_err(ConfigError::Invalid)?;
        let settings = vec![
            ("sip".to_string(), to_json(&self.sip)),
            ("registrar".to_string(), to_json(&self.registrar)),
            ("security".to_string(), to_json(&self.security)),
            ("calls".to_string(), to_json(&self.calls)),
            ("voicemail".to_string(), to_json(&self.voicemail.hashed())),
            ("email".to_string(), to_json(&self.email)),
            ("queues".to_string(), to_json(&self.queues)),
            ("agents".to_string(), to_json(&self.agents)),
            ("numbers".to_string(), to_json(&self.numbers)),
            ("lists".to_string(), to_json(&self.lists)),
            ("schedules".to_string(), to_json(&self.schedules)),
            ("inbound".to_string(), to_json(&self.inbound)),
            ("contacts".to_string(), to_json(&self.contacts)),
            ("trunks".to_string(), to_json(&self.trunks)),
            ("routes".to_string(), to_json(&self.routes)),
            ("conferences".to_string(), to_json(&self.conferences)),
            ("pickup_groups".to_string(), to_json(&self.pickup_groups)),
            ("feature_codes".to_string(), to_json(&self.feature_codes)),
            ("recording".to_string(), to_json(&self.recording)),
            ("reports".to_string(), to_json(&self.reports)),
            ("webhooks".to_string(), to_json(&self.webhooks)),
            ("outbound".to_string(), to_json(&self.outbound)),
        ];
        let extensions: Vec<Extension> = self
            .extensions
            .iter()
            .map(|e| {
                let secrets = self.secrets(e);
                Extension {
                    number: e.number.clone(),
                    display_name: e.name.clone(),
                    ha1_md5: secrets.ha1_md5,
                    ha1_sha256: secrets.ha1_sha256,
                    enabled: e.enabled,
                    encryption: match e.encryption {
                        EncryptionPolicy::Allow => "allow",
                        EncryptionPolicy::Require => "require",
                    }
                    .into(),
                }
            })
            .collect();
        store.replace_config(
            &settings,
            &extensions,
            &self.scenario_bodies(),
            crate::unix_ms(),
        )?;
        Ok(())
    }

    /// The SIP endpoint's settings.
    pub fn service_config(&self) -> ServiceConfig {
        let r = &self.registrar;
        ServiceConfig {
            realm: self.sip.realm.clone(),
            registrar: RegistrarConfig {
                default_expires: r.default_expires,
                min_expires: r.min_expires,
                max_expires: r.max_expires,
                max_contacts: r.max_contacts,
            },
            timers: TimerConfig {
                t1: Duration::from_millis(u64::from(self.sip.timer_t1_ms)),
                t2: Duration::from_millis(u64::from(self.sip.timer_t2_ms)),
                t4: Duration::from_millis(u64::from(self.sip.timer_t4_ms)),
            },
            guard: GuardConfig {
                max_auth_failures: self.security.max_auth_failures,
                failure_window: Duration::from_secs(u64::from(self.security.failure_window)),
                ban: Duration::from_secs(u64::from(self.security.ban_seconds)),
                max_request_rate: self.security.max_request_rate,
                trusted: self.security.networks(),
                ..GuardConfig::default()
            },
            auth: AuthConfig {
                nonce_lifetime: Duration::from_secs(u64::from(self.sip.nonce_lifetime)),
                algorithms: self
                    .sip
                    .digest_algorithms
                    .iter()
                    .map(|&a| a.into())
                    .collect(),
            },
        }
    }

    /// The accounts the endpoint authenticates, by extension number.
    pub fn accounts(&self) -> std::collections::HashMap<String, Account> {
        self.extensions
            .iter()
            .map(|e| {
                (
                    e.number.clone(),
                    Account {
                        secrets: self.secrets(e),
                        enabled: e.enabled,
                        encryption: e.encryption.into(),
                    },
                )
            })
            .collect()
    }

    /// An extension's HA1s: hashed from its password, or as given (validated as hex).
    fn secrets(&self, e: &ExtensionConfig) -> AccountSecrets {
        match &e.password {
            Some(p) => AccountSecrets::from_password(&e.number, &self.sip.realm, p),
            None => AccountSecrets {
                ha1_md5: e.ha1_md5.clone().unwrap_or_default().to_ascii_lowercase(),
                ha1_sha256: e
                    .ha1_sha256
                    .clone()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
            },
        }
    }
}

fn to_json(section: &impl Serialize) -> String {
    serde_json::to_string(section).expect("settings always serialise")
}

/// A stored section, or its defaults when the store has none yet.
fn section<T: serde::de::DeserializeOwned + Default>(
    store: &Store,
    key: &str,
) -> Result<T, ConfigError> {
    match store.setting(key)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            ConfigError::Invalid(vec![field_error(
                key,
                format!("stored settings unreadable: {e}"),
            )])
        }),
        None => Ok(T::default()),
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[sip]
realm = "office"

[registrar]
default_expires = 600
min_expires = 60
max_expires = 3600
max_contacts = 3

[[extensions]]
number = "100"
name = "Reception"
password = "correct-horse-battery"
"#;

    #[test]
    fn good_file_round_trips_through_the_store_without_passwords() {
        let config = Config::from_toml(GOOD).unwrap();
        let mut store = Store::open_in_memory().unwrap();
        config.apply(&mut store).unwrap();
        let loaded = Config::load(&store).unwrap();
        assert_eq!(loaded.sip.realm, "office");
        assert_eq!(loaded.registrar, config.registrar);
        let ext = &loaded.extensions[0];
        assert_eq!(ext.password, None);
        let expected = AccountSecrets::from_password("100", "office", "correct-horse-battery");
        assert_eq!(
            ext.ha1_sha256.as_deref(),
            Some(expected.ha1_sha256.as_str())
        );
        let exported = loaded.to_toml();
        assert!(!exported.contains("correct-horse-battery"));
        assert_eq!(Config::from_toml(&exported).unwrap(), loaded);
        assert_eq!(config.accounts(), loaded.accounts());
    }

    #[test]
    fn every_bad_field_is_named() {
        let text = GOOD
            .replace("min_expires = 60", "min_expires = 7200")
            .replace("correct-horse-battery", "1234")
            .replace("number = \"100\"", "number = \"10a\"");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!("expected field errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "registrar.min_expires",
                "registrar.default_expires",
                "extensions[0].number",
                "extensions[0].password"
            ]
        );
    }

    #[test]
    fn a_name_outside_a_fields_choices_is_named_with_the_choices() {
        for (setting, field) in [
            (
                "digest_algorithms = [\"MD5\", \"SHA-1\"]",
                "sip.digest_algorithms[1]",
            ),
            ("language = \"de\"", "calls.language"),
        ] {
            let section = if field.starts_with("sip") {
                ""
            } else {
                "\n[calls]"
            };
            let text = GOOD.replace(
                "realm = \"office\"",
                &format!("realm = \"office\"{section}\n{setting}"),
            );
            let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
                panic!("expected a field error for {setting}")
            };
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, field);
            assert!(errors[0].message.contains("expected"), "{errors:?}");
        }
    }

    #[test]
    fn transaction_timers_are_checked_and_reach_the_engine() {
        let fast = Config::from_toml(&GOOD.replace(
            "realm = \"office\"",
            "realm = \"office\"\ntimer_t1_ms = 250",
        ))
        .unwrap();
        assert_eq!(fast.service_config().timers.t1, Duration::from_millis(250));
        assert_eq!(fast.service_config().timers.t2, Duration::from_secs(4));
        let text = GOOD.replace(
            "realm = \"office\"",
            "realm = \"office\"\ntimer_t1_ms = 20\ntimer_t4_ms = 10",
        );
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["sip.timer_t1_ms", "sip.timer_t4_ms"]);
    }

    #[test]
    fn trusted_networks_are_checked_and_reach_the_guard() {
        let trusted = Config::from_toml(&format!(
            "{GOOD}\n[security]\ntrusted_networks = [\"192.168.1.0/24\", \"10.0.0.7\"]\n"
        ))
        .unwrap();
        let guard = trusted.service_config().guard;
        assert_eq!(
            guard.trusted,
            [
                "192.168.1.0/24".parse().unwrap(),
                "10.0.0.7/32".parse().unwrap()
            ]
        );
        assert_eq!(guard.max_request_rate, 100);
        let text =
            format!("{GOOD}\n[security]\ntrusted_networks = [\"10.0.0.0/8\", \"the office\"]\n");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["security.trusted_networks[1]"]);
    }

    #[test]
    fn the_public_address_behind_nat_is_checked_and_read() {
        let nat = Config::from_toml(&GOOD.replace(
            "realm = \"office\"",
            "realm = \"office\"\npublic_address = \"203.0.113.9\"\nlocal_networks = [\"192.0.2.0/24\"]",
        ))
        .unwrap();
        assert_eq!(nat.sip.public_ip(), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(nat.sip.local_networks(), ["192.0.2.0/24".parse().unwrap()]);
        assert_eq!(Config::from_toml(GOOD).unwrap().sip.public_ip(), None);
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&GOOD.replace(
            "realm = \"office\"",
            "realm = \"office\"\npublic_address = \"office.example\"\nlocal_networks = [\"lan\"]",
        )) else {
            panic!()
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sip.public_address", "sip.local_networks[0]"]);
    }

    #[test]
    fn duplicate_numbers_and_missing_secrets_are_refused() {
        let text = format!("{GOOD}\n[[extensions]]\nnumber = \"100\"\n");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!()
        };
        assert_eq!(
            errors[0].to_string(),
            "extensions[1].number: 100 is listed twice"
        );
        assert_eq!(errors[1].field, "extensions[1].password");
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_syntax_errors_naming_the_key() {
        let err = Config::from_toml(&GOOD.replace("max_contacts = 3", "max_contacts = \"three\""))
            .unwrap_err();
        assert!(err.to_string().contains("max_contacts"), "{err}");
        let err = Config::from_toml(&GOOD.replace("[sip]", "[sip]\nrelm = \"x\"")).unwrap_err();
        assert!(err.to_string().contains("relm"), "{err}");
    }

    #[test]
    fn a_bad_import_leaves_the_store_untouched() {
        let mut store = Store::open_in_memory().unwrap();
        Config::from_toml(GOOD).unwrap().apply(&mut store).unwrap();
        let mut bad = Config::from_toml(GOOD).unwrap();
        bad.extensions[0].password = Some("short".into());
        assert!(bad.apply(&mut store).is_err());
        assert_eq!(Config::load(&store).unwrap().extensions.len(), 1);
    }
}
