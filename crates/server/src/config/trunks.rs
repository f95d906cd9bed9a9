//! Trunks in the configuration file: the office's providers, each registered to with
//! an account or trusted by its addresses, reached over UDP, TCP or TLS. A trunk's password is a secret the office
//! cannot hash (it answers the provider's challenges), so exports and the API leave it
//! out, and a configuration given back without it keeps the one stored.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_sip::trunk_registration::{Account, LinkConfig};

use switchboard_core::{CalledFrom, CallerFrom, CallsIn};

use super::{Config, EncryptionPolicy, FieldError, field_error, parse_network};

/// The registration lifetime asked for when the file says none.
const DEFAULT_EXPIRES: u32 = 300;
/// Seconds between keep-alives when the file says none.
const DEFAULT_KEEPALIVE: u32 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrunkSettings {
    /// Unique; routes name trunks by it.
    pub name: String,
    /// The provider's domain or address, with a port when not 5060 ("sip.example.com",
    /// "192.0.2.10:5080").
    pub host: String,
    /// The office's account at the provider; absent for a trunk trusted by its
    /// addresses alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterSettings>,
    /// Where requests go instead of `host` ("proxy.example.com:5060").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_proxy: Option<String>,
    /// Seconds between OPTIONS keep-alives, which hold a NAT binding open and measure
    /// the round trip; 0: none.
    #[serde(default = "default_keepalive")]
    pub keepalive: u32,
    /// Networks or addresses the provider's calls come from besides the host's own
    /// addresses ("192.0.2.0/24", "198.51.100.7"). A call is from this trunk when it
    /// comes from one of them, never because of what it says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Where the office number the customer dialled is read.
    #[serde(default)]
    pub called_number: CalledNumberFrom,
    /// Where the customer's number is read.
    #[serde(default)]
    pub caller_number: CallerNumberFrom,
    /// The scenario calls to numbers that are no `[[inbound]]` number follow; absent:
    /// they are answered 404.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_numbers: Option<String>,
    /// How SIP reaches the provider: "udp", "tcp", or "tls" (port 5061 unless `host`
    /// names one; the provider's certificate must carry the host's name).
    #[serde(default, skip_serializing_if = "TrunkTransport::is_udp")]
    pub transport: TrunkTransport,
    /// "allow": SRTP when the provider offers it; "require": every call goes over TLS
    /// (`transport = "tls"`) with its audio in SRTP, both ways.
    #[serde(default, skip_serializing_if = "EncryptionPolicy::is_default")]
    pub encryption: EncryptionPolicy,
    /// Certificates (PEM) trusted for the provider's TLS besides the public
    /// authorities: a provider with its own authority, or a self-signed certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<String>,
    /// Calls out through this trunk at once (the channels the provider sells); a call
    /// past it tries the route's next trunk. 0: no limit. Emergency calls always go.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_calls_out: u32,
    /// The codecs offered to the provider and taken from it, most wanted first
    /// (["PCMA", "PCMU"] in Europe); empty: all of Switchboard's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<CodecName>,
}

/// An audio codec, as SDP names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum CodecName {
    #[serde(rename = "PCMA")]
    Pcma,
    #[serde(rename = "PCMU")]
    Pcmu,
    #[serde(rename = "G722")]
    G722,
    #[serde(rename = "opus")]
    Opus,
}

impl From<CodecName> for switchboard_media::codec::Codec {
    fn from(name: CodecName) -> Self {
        match name {
            CodecName::Pcma => Self::Pcma,
            CodecName::Pcmu => Self::Pcmu,
            CodecName::G722 => Self::G722,
            CodecName::Opus => Self::Opus,
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TrunkTransport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl TrunkTransport {
    fn is_udp(&self) -> bool {
        *self == TrunkTransport::Udp
    }

    /// The port a host without one is reached on.
    fn default_port(self) -> u16 {
        match self {
            TrunkTransport::Udp | TrunkTransport::Tcp => 5060,
            TrunkTransport::Tls => 5061,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CalledNumberFrom {
    #[default]
    RequestUri,
    To,
    /// P-Called-Party-ID, else the Request-URI.
    PCalledPartyId,
    /// The first Diversion, else the Request-URI.
    Diversion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CallerNumberFrom {
    /// P-Asserted-Identity, else Remote-Party-ID, else From.
    #[default]
    Asserted,
    From,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSettings {
    /// The account: the user part of the office's address at the provider.
    pub username: String,
    /// The name the provider's challenges are answered with, when not the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_username: Option<String>,
    /// Written, never read back: exports and the API leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Seconds the registration is asked to last.
    #[serde(default = "default_expires")]
    pub expires: u32,
}

fn default_keepalive() -> u32 {
    DEFAULT_KEEPALIVE
}

fn default_expires() -> u32 {
    DEFAULT_EXPIRES
}

/// A host name or address with an optional port (5060 when none).
pub(crate) fn split_host(text: &str) -> Option<(String, u16)> {
    split_host_or(text, 5060)
}

/// A host name or address with an optional port (`default` when none).
fn split_host_or(text: &str, default: u16) -> Option<(String, u16)> {
    let text = text.trim();
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, p.parse().ok()?),
        _ => (text, default),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let plausible = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:".contains(c));
    plausible.then(|| (host.to_string(), port))
}

impl TrunkSettings {
    fn validate(&self, at: &str, errors: &mut Vec<FieldError>) {
        let field = |f: &str| format!("{at}.{f}");
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            errors.push(field_error(
                field("name"),
                "must be given, without control characters",
            ));
        }
        if split_host(&self.host).is_none() {
            errors.push(field_error(
                field("host"),
                "must be a host name or address, with an optional :port",
            ));
        }
        if let Some(proxy) = &self.outbound_proxy
            && split_host(proxy).is_none()
        {
            errors.push(field_error(
                field("outbound_proxy"),
                "must be a host name or address, with an optional :port",
            ));
        }
        for (i, a) in self.addresses.iter().enumerate() {
            if parse_network(a).is_none() {
                errors.push(field_error(
                    field(&format!("addresses[{i}]")),
                    "must be a network such as 192.0.2.0/24, or one address",
                ));
            }
        }
        if self.encryption == EncryptionPolicy::Require && self.transport != TrunkTransport::Tls {
            errors.push(field_error(
                field("encryption"),
                "\"require\" needs transport = \"tls\": keys for SRTP must not cross the network in clear",
            ));
        }
        if let Some(pem) = &self.tls_ca
            && let Err(why) = crate::trunks::trusted_certificates(pem)
        {
            errors.push(field_error(field("tls_ca"), why));
        }
        for (i, codec) in self.codecs.iter().enumerate() {
            if self.codecs[..i].contains(codec) {
                errors.push(field_error(
                    field(&format!("codecs[{i}]")),
                    "is listed twice",
                ));
            }
        }
        if self.max_calls_out > 10_000 {
            errors.push(field_error(
                field("max_calls_out"),
                "must be 0 (no limit) or at most 10000",
            ));
        }
        if self.keepalive != 0 && !(10..=3600).contains(&self.keepalive) {
            errors.push(field_error(
                field("keepalive"),
                "must be 0 (none) or lie between 10 and 3600 seconds",
            ));
        }
        if let Some(r) = &self.register {
            let user_part = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/%".contains(c))
            };
            if !user_part(&r.username) {
                errors.push(field_error(
                    field("register.username"),
                    "must be given, as the provider writes it (letters, digits, -_.+)",
                ));
            }
            if r.auth_username.as_deref().is_some_and(|a| !user_part(a)) {
                errors.push(field_error(
                    field("register.auth_username"),
                    "must be empty or the name the provider gave (letters, digits, -_.+)",
                ));
            }
            match &r.password {
                None => errors.push(field_error(
                    field("register.password"),
                    "give the password the provider gave for this account",
                )),
                Some(p) if p.is_empty() || p.chars().any(char::is_control) => {
                    errors.push(field_error(
                        field("register.password"),
                        "must be given, without control characters",
                    ))
                }
                Some(_) => {}
            }
            if !(60..=86_400).contains(&r.expires) {
                errors.push(field_error(
                    field("register.expires"),
                    "must lie between 60 and 86400 seconds",
                ));
            }
        }
    }

    /// How the engine links to this trunk; call only on a validated trunk.
    pub fn link(&self) -> LinkConfig {
        let (host, port) = self.host_and_port().unwrap_or_default();
        let domain = if port == self.transport.default_port() {
            host
        } else {
            format!("{host}:{port}")
        };
        LinkConfig {
            domain,
            account: self.register.as_ref().map(|r| Account {
                user: r.username.clone(),
                auth_user: r
                    .auth_username
                    .clone()
                    .unwrap_or_else(|| r.username.clone()),
                password: r.password.clone().unwrap_or_default(),
                expires: r.expires,
            }),
            keepalive: (self.keepalive > 0).then(|| Duration::from_secs(u64::from(self.keepalive))),
        }
    }

    /// How calls from this trunk are read; `host` are the addresses (and ports) its
    /// host has.
    pub fn calls_in(&self, host: &[std::net::SocketAddr]) -> CallsIn {
        CallsIn {
            hosts: host.to_vec(),
            networks: self
                .addresses
                .iter()
                .filter_map(|a| parse_network(a))
                .collect(),
            called: match self.called_number {
                CalledNumberFrom::RequestUri => CalledFrom::RequestUri,
                CalledNumberFrom::To => CalledFrom::To,
                CalledNumberFrom::PCalledPartyId => CalledFrom::CalledPartyId,
                CalledNumberFrom::Diversion => CalledFrom::Diversion,
            },
            caller: match self.caller_number {
                CallerNumberFrom::Asserted => CallerFrom::Asserted,
                CallerNumberFrom::From => CallerFrom::From,
            },
            unknown_number: self.unknown_numbers.clone(),
        }
    }

    /// This trunk as exports and the API show it: the password left out.
    pub fn without_password(&self) -> TrunkSettings {
        let mut shown = self.clone();
        if let Some(r) = shown.register.as_mut() {
            r.password = None;
        }
        shown
    }

    /// Takes the password of `stored` (the same trunk as kept) when this one leaves it out.
    pub fn keep_password(&mut self, stored: Option<&TrunkSettings>) {
        if let Some(r) = self.register.as_mut()
            && r.password.is_none()
        {
            r.password = stored
                .and_then(|s| s.register.as_ref())
                .and_then(|s| s.password.clone());
        }
    }

    /// Where requests to this trunk go: its outbound proxy, else its host.
    pub fn next_hop(&self) -> Option<(String, u16)> {
        split_host_or(
            self.outbound_proxy.as_deref().unwrap_or(&self.host),
            self.transport.default_port(),
        )
    }

    /// The provider's host, and its port for the trunk's transport.
    pub fn host_and_port(&self) -> Option<(String, u16)> {
        split_host_or(&self.host, self.transport.default_port())
    }
}

impl Config {
    pub(super) fn validate_trunks(&self, errors: &mut Vec<FieldError>) {
        let mut names = std::collections::HashSet::new();
        for (i, t) in self.trunks.iter().enumerate() {
            let at = format!("trunks[{i}]");
            t.validate(&at, errors);
            if let Some(scenario) = &t.unknown_numbers
                && !self.scenarios.iter().any(|s| &s.name == scenario)
            {
                errors.push(field_error(
                    format!("{at}.unknown_numbers"),
                    format!("{scenario:?} is no scenario"),
                ));
            }
            if !names.insert(t.name.as_str()) {
                errors.push(field_error(
                    format!("{at}.name"),
                    format!("{:?} is listed twice", t.name),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use super::*;

    const TRUNKS: &str = r#"
[[trunks]]
name = "Provider"
host = "sip.provider.example"
[trunks.register]
username = "48225550100"
auth_username = "office"
password = "provider-secret"

[[trunks]]
name = "Gateway"
host = "192.0.2.10:5080"
keepalive = 0
addresses = ["198.51.100.0/24"]
called_number = "p-called-party-id"
caller_number = "from"
"#;

    #[test]
    fn trunks_are_read_and_become_links() {
        let config = Config::from_toml(TRUNKS).unwrap();
        let provider = config.trunks[0].link();
        assert_eq!(provider.domain, "sip.provider.example");
        let account = provider.account.unwrap();
        assert_eq!(
            (
                account.user.as_str(),
                account.auth_user.as_str(),
                account.expires
            ),
            ("48225550100", "office", 300)
        );
        assert_eq!(provider.keepalive, Some(Duration::from_secs(30)));
        let gateway = &config.trunks[1];
        assert_eq!(gateway.link().domain, "192.0.2.10:5080");
        assert_eq!(gateway.link().account, None);
        assert_eq!(gateway.link().keepalive, None);
        assert_eq!(gateway.next_hop(), Some(("192.0.2.10".into(), 5080)));
        let calls_in = gateway.calls_in(&["192.0.2.10:5080".parse().unwrap()]);
        assert_eq!(calls_in.hosts, ["192.0.2.10:5080".parse().unwrap()]);
        assert_eq!(calls_in.networks, ["198.51.100.0/24".parse().unwrap()]);
        assert_eq!(
            (calls_in.called, calls_in.caller),
            (CalledFrom::CalledPartyId, CallerFrom::From)
        );
        assert_eq!(config.trunks[0].calls_in(&[]).caller, CallerFrom::Asserted);
    }

    #[test]
    fn passwords_stay_out_of_exports_and_survive_a_round_trip() {
        let config = Config::from_toml(TRUNKS).unwrap();
        let exported = config.clone().without_secrets().to_toml();
        assert!(!exported.contains("provider-secret"), "{exported}");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&exported) else {
            panic!("a registration without a password is refused")
        };
        assert_eq!(errors[0].field, "trunks[0].register.password");
        let mut again: Config = toml::from_str(&exported).unwrap();
        again.keep_secrets(&config);
        assert_eq!(again, config);
        let mut store = switchboard_store::Store::open_in_memory().unwrap();
        config.apply(&mut store).unwrap();
        assert_eq!(Config::load(&store).unwrap().trunks, config.trunks);
    }

    #[test]
    fn every_bad_trunk_field_is_named() {
        let text = TRUNKS
            .replace("sip.provider.example", "sip provider")
            .replace("password = \"provider-secret\"\n", "expires = 5\n")
            .replace("keepalive = 0", "keepalive = 2")
            .replace("\"198.51.100.0/24\"", "\"the office\"")
            .replace(
                "keepalive = 2\n",
                "keepalive = 2\nunknown_numbers = \"Nowhere\"\n",
            )
            .replace("name = \"Gateway\"", "name = \"Provider\"");
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!("expected field errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "trunks[0].host",
                "trunks[0].register.password",
                "trunks[0].register.expires",
                "trunks[1].addresses[0]",
                "trunks[1].keepalive",
                "trunks[1].unknown_numbers",
                "trunks[1].name",
            ],
            "{errors:?}"
        );
    }

    #[test]
    fn a_tls_trunk_is_reached_on_5061_and_encryption_required_only_over_tls() {
        let tls = "[[trunks]]\nname = \"Secure\"\nhost = \"sip.provider.example\"\n\
                   transport = \"tls\"\nencryption = \"require\"\ncodecs = [\"PCMA\", \"PCMU\"]\n";
        let config = Config::from_toml(tls).unwrap();
        let trunk = &config.trunks[0];
        assert_eq!(
            trunk.next_hop(),
            Some(("sip.provider.example".into(), 5061))
        );
        assert_eq!(trunk.link().domain, "sip.provider.example");
        assert_eq!(trunk.codecs, [CodecName::Pcma, CodecName::Pcmu]);
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(
            &tls.replace("transport = \"tls\"\n", "")
                .replace("encryption", "tls_ca = \"not a certificate\"\nencryption")
                .replace("\"PCMU\"]", "\"PCMA\"]"),
        ) else {
            panic!("expected field errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "trunks[0].encryption",
                "trunks[0].tls_ca",
                "trunks[0].codecs[1]"
            ],
            "{errors:?}"
        );
    }

    #[test]
    fn hosts_read_with_and_without_ports() {
        assert_eq!(
            split_host("sip.example.com"),
            Some(("sip.example.com".into(), 5060))
        );
        assert_eq!(
            split_host("192.0.2.1:5080"),
            Some(("192.0.2.1".into(), 5080))
        );
        assert_eq!(
            split_host("[2001:db8::1]:5062"),
            Some(("2001:db8::1".into(), 5062))
        );
        assert_eq!(
            split_host("2001:db8::1"),
            Some(("2001:db8::1".into(), 5060))
        );
        assert_eq!(split_host("a b"), None);
        assert_eq!(split_host("host:port"), None);
    }
}
