//! An empty data directory becomes a working PBX: five extensions with strong
//! generated passwords (shown once, because only their hashes are kept), a reception
//! queue and an auto-attendant menu.

use std::fmt::Write;
use std::net::SocketAddr;

use rand::Rng;
use switchboard_store::Store;

use crate::config::{Config, ConfigError, ExtensionConfig};

const FIRST_EXTENSIONS: std::ops::RangeInclusive<u32> = 100..=104;
/// The queue and menu a fresh office starts with.
const FIRST_OFFICE: &str = include_str!("first_office.toml");
const PASSWORD_LEN: usize = 16;
/// No look-alikes (0/O, 1/l/I), so a password read off the screen is typed right.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// An extension created on first run, with the password only this run knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub number: String,
    pub password: String,
}

/// Provisions a fresh store; returns `None` when it was already configured.
pub fn provision_if_empty(store: &mut Store) -> Result<Option<Vec<Credential>>, ConfigError> {
    if !store.settings()?.is_empty() || !store.extensions()?.is_empty() {
        return Ok(None);
    }
    let credentials: Vec<Credential> = FIRST_EXTENSIONS
        .map(|n| Credential {
            number: n.to_string(),
            password: generate_password(),
        })
        .collect();
    let config = Config {
        extensions: credentials
            .iter()
            .map(|c| ExtensionConfig {
                number: c.number.clone(),
                name: format!("Extension {}", c.number),
                password: Some(c.password.clone()),
                ha1_md5: None,
                ha1_sha256: None,
                enabled: true,
                encryption: Default::default(),
            })
            .collect(),
        ..first_office()
    };
    config.apply(store)?;
    Ok(Some(credentials))
}

/// The queue and menu alone: valid once the extensions they name are added.
fn first_office() -> Config {
    toml::from_str(FIRST_OFFICE).expect("the first office is valid TOML")
}

/// A strong password to be read off a screen and typed: 16 characters without
/// look-alikes, about 93 bits.
pub fn generate_password() -> String {
    let mut rng = rand::rng();
    (0..PASSWORD_LEN)
        .map(|_| char::from(PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())]))
        .collect()
}

/// The "register your phone" table printed on first run.
/// `config_command` is how this very server is invoked for `config`, so the hint at the
/// end can be pasted as it is.
pub fn phone_setup_table(
    credentials: &[Credential],
    sip: SocketAddr,
    sip_tls: SocketAddr,
    office: &Config,
    invocation: &str,
) -> String {
    let realm = &office.sip.realm;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nSwitchboard is ready. Register a phone (SIP over UDP, TCP or TLS) with:\n"
    );
    let _ = writeln!(
        out,
        "  SIP server : {}",
        advertised_addresses(sip).join(" or ")
    );
    let _ = writeln!(
        out,
        "  SIP TLS    : {} (a phone that checks certificates trusts tls/certificate.pem)",
        advertised_addresses(sip_tls).join(" or ")
    );
    let _ = writeln!(
        out,
        "  Realm      : {realm} (most phones fill it in themselves)\n"
    );
    let _ = writeln!(out, "  {:<10} Password", "User");
    for c in credentials {
        let _ = writeln!(out, "  {:<10} {}", c.number, c.password);
    }
    let mut dial = vec!["another extension".to_string()];
    dial.extend(office.queues.iter().map(|q| {
        let agents: Vec<&str> = q.agents.iter().map(|a| a.extension.as_str()).collect();
        format!(
            "{} for the {} queue (agents {})",
            q.number,
            q.name,
            agents.join(", ")
        )
    }));
    dial.extend(
        office
            .inbound
            .iter()
            .map(|i| format!("{} for the {:?} menu", i.number, i.scenario)),
    );
    let _ = writeln!(out, "\nThen dial {}.", dial.join(", "));
    let _ = writeln!(
        out,
        "\nSwitchboard keeps just the passwords' hashes, and this text in first-run.txt in its\n\
         data folder (for its own user alone), shown again by:\n\
         \n  {invocation} first-run-info\n\
         \nTo set your own passwords, export the configuration, edit it, and import it:\n\
         \n  {invocation} config export office.toml\n  {invocation} config import office.toml\n"
    );
    out
}

/// How to open the admin panel, printed when its account is created.
pub fn admin_login_note(http: SocketAddr, password: &str) -> String {
    format!(
        "Admin panel: http://{http}/  user: {ADMIN_USER}  password: {password}\n\
         Change it in the panel (or make a new one with the `admin reset-password` \
         command).\n",
        ADMIN_USER = crate::admin_account::ADMIN_USER
    )
}

/// The addresses phones on the LAN reach Switchboard at: the listen address, or every
/// non-loopback address of the same family when it is a wildcard.
pub fn lan_ips(sip: SocketAddr) -> Vec<std::net::IpAddr> {
    if !sip.ip().is_unspecified() {
        return vec![sip.ip()];
    }
    if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback() && i.ip().is_ipv4() == sip.is_ipv4())
        .map(|i| i.ip())
        .collect()
}

/// Where phones should point: the listen address, or each LAN address when it is a
/// wildcard.
pub fn advertised_addresses(sip: SocketAddr) -> Vec<String> {
    if !sip.ip().is_unspecified() {
        return vec![sip.to_string()];
    }
    let mut found: Vec<String> = lan_ips(sip)
        .into_iter()
        .map(|ip| SocketAddr::new(ip, sip.port()).to_string())
        .collect();
    if found.is_empty() {
        found.push(format!("this computer's address, port {}", sip.port()));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sip::auth::AccountSecrets;

    #[test]
    fn fresh_store_gets_five_strong_distinct_extensions_once() {
        let mut store = Store::open_in_memory().unwrap();
        let creds = provision_if_empty(&mut store).unwrap().unwrap();
        assert_eq!(
            creds.iter().map(|c| c.number.as_str()).collect::<Vec<_>>(),
            ["100", "101", "102", "103", "104"]
        );
        let distinct: std::collections::HashSet<_> = creds.iter().map(|c| &c.password).collect();
        assert_eq!(distinct.len(), 5);
        assert!(creds.iter().all(|c| c.password.len() == PASSWORD_LEN));
        let stored = store.extensions().unwrap();
        let expected = AccountSecrets::from_password("100", "switchboard", &creds[0].password);
        assert_eq!(stored[0].ha1_sha256, expected.ha1_sha256);
        assert!(provision_if_empty(&mut store).unwrap().is_none());
        // The reception queue and the menu dialled at 500 come with them.
        let office = Config::load(&store).unwrap();
        assert_eq!(office.queues[0].number, "600");
        assert_eq!(office.scenarios[0].name, "Main menu");
        assert_eq!(office.inbound[0].number, "500");
    }

    #[test]
    fn table_lists_every_user_and_password() {
        let creds = vec![Credential {
            number: "100".into(),
            password: "pw-abc".into(),
        }];
        let office = first_office();
        let table = phone_setup_table(
            &creds,
            "192.0.2.5:5060".parse().unwrap(),
            "192.0.2.5:5061".parse().unwrap(),
            &office,
            "switchboard-server --data-dir /srv/pbx",
        );
        assert!(
            table.contains("  switchboard-server --data-dir /srv/pbx config export office.toml\n")
        );
        assert!(table.contains("  switchboard-server --data-dir /srv/pbx first-run-info\n"));
        assert!(table.contains("SIP server : 192.0.2.5:5060"));
        assert!(table.contains("SIP TLS    : 192.0.2.5:5061"));
        assert!(table.contains("100        pw-abc"));
        assert!(
            table.contains(
                "Then dial another extension, 600 for the Reception queue (agents 100, 101), \
                 500 for the \"Main menu\" menu."
            ),
            "{table}"
        );
    }
}
