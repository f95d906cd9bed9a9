//! Digest authentication as a server: RFC 3261 §22, RFC 7616 `qop=auth`, RFC 8760
//! SHA-256.
//!
//! Nonces are stateless: an HMAC over the time they were issued and a value drawn from
//! the challenged request, so any nonce we hand out can be checked without remembering
//! it, and old ones are answered `stale=true` (the phone retries silently with the new
//! nonce). Drawing it from the request makes a retransmitted REGISTER get the very same
//! challenge, byte for byte, without keeping a transaction for it. Only the nonce-counts
//! seen are remembered, to refuse replays, and only for the nonce lifetime.
//! Passwords are never held: accounts carry HA1 = H(user:realm:password) per algorithm.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::header::split_list;

/// Digest hash algorithms, in the order the server offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha256,
    Md5,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Md5 => "MD5",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "SHA-256" => Some(Algorithm::Sha256),
            "MD5" => Some(Algorithm::Md5),
            _ => None,
        }
    }

    pub(crate) fn hash(self, input: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(input.as_bytes())),
            Algorithm::Sha256 => hex::encode(Sha256::digest(input.as_bytes())),
        }
    }
}

/// HA1 = H(username:realm:password): what the store keeps instead of a password.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash(&format!("{username}:{realm}:{password}"))
}

/// The `Authorization` value a client sends in answer to a `WWW-Authenticate` challenge
/// (RFC 7616 §3.4): what a phone computes, and what Switchboard will compute when it
/// registers to a provider. `None` when the challenge is not a digest we can answer.
pub fn authorization(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    nc: u32,
    cnonce: &str,
) -> Option<String> {
    let params = DigestCredentials::parse(challenge)?;
    let realm = params.get("realm")?;
    let nonce = params.get("nonce")?;
    let algorithm = match params.get("algorithm") {
        Some(name) => Algorithm::from_name(name)?,
        None => Algorithm::Md5,
    };
    let ha1 = ha1(algorithm, username, realm, password);
    let ha2 = algorithm.hash(&format!("{method}:{uri}"));
    let prefix = format!(
        "Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm={}",
        algorithm.name()
    );
    let offers_auth = params
        .get("qop")
        .is_some_and(|q| q.split(',').any(|q| q.trim() == "auth"));
    Some(if offers_auth {
        let nc = format!("{nc:08x}");
        let response = algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        format!("{prefix}, response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{cnonce}\"")
    } else {
        let response = algorithm.hash(&format!("{ha1}:{nonce}:{ha2}"));
        format!("{prefix}, response=\"{response}\"")
    })
}

/// One account's stored secrets: hex HA1 for each algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSecrets {
    pub ha1_md5: String,
    pub ha1_sha256: String,
}

impl AccountSecrets {
    pub fn from_password(username: &str, realm: &str, password: &str) -> Self {
        AccountSecrets {
            ha1_md5: ha1(Algorithm::Md5, username, realm, password),
            ha1_sha256: ha1(Algorithm::Sha256, username, realm, password),
        }
    }

    fn ha1(&self, algorithm: Algorithm) -> &str {
        match algorithm {
            Algorithm::Md5 => &self.ha1_md5,
            Algorithm::Sha256 => &self.ha1_sha256,
        }
    }
}

/// The outcome of checking an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The credentials are right; the request is from this user.
    Authenticated { username: String },
    /// Right credentials on an expired nonce: challenge again with `stale=true`.
    Stale,
    /// Wrong, unknown, replayed or malformed: challenge again. Unknown users and wrong
    /// passwords get the same answer, so extensions cannot be enumerated.
    Rejected(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub nonce_lifetime: Duration,
    /// Offered in this order, one `WWW-Authenticate` each. The default is MD5 alone:
    /// SIPp 3.6 gives up when the first challenge is SHA-256, and baresip 1.0 (libre)
    /// fails the whole REGISTER when any challenge is, instead of picking the one it
    /// knows as RFC 8760 asks. Offices whose phones all speak SHA-256 can turn it on.
    pub algorithms: Vec<Algorithm>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            nonce_lifetime: Duration::from_secs(300),
            algorithms: vec![Algorithm::Md5],
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Issues challenges and checks answers for one realm.
#[derive(Debug)]
pub struct DigestAuthenticator {
    realm: String,
    secret: [u8; 32],
    epoch: Instant,
    config: AuthConfig,
    /// Highest nonce-count seen per nonce (by its stamp), with its issue second.
    seen: HashMap<u128, (u64, u32)>,
    last_prune: u64,
}

impl DigestAuthenticator {
    /// `secret` keys the nonce HMAC; a new one at each start invalidates old nonces
    /// (phones then get `stale=true` and retry transparently).
    pub fn new(realm: &str, secret: [u8; 32], epoch: Instant, config: AuthConfig) -> Self {
        DigestAuthenticator {
            realm: realm.to_string(),
            secret,
            epoch,
            config,
            seen: HashMap::new(),
            last_prune: 0,
        }
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// `WWW-Authenticate` values, most preferred first (RFC 8760 §2.4). `request_id`
    /// names the challenged request (its branch, Call-ID, CSeq and source): the same
    /// request gets the same nonce, different requests different ones.
    pub fn challenge(&self, now: Instant, stale: bool, request_id: &[u8]) -> Vec<String> {
        let nonce = self.nonce(now, request_id);
        let stale = if stale { ", stale=true" } else { "" };
        self.config
            .algorithms
            .iter()
            .map(|alg| {
                format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{stale}",
                    self.realm,
                    alg.name()
                )
            })
            .collect()
    }

    /// Checks an `Authorization` value for a request with this method.
    pub fn verify<'a>(
        &mut self,
        now: Instant,
        method: &str,
        authorization: &str,
        account: impl FnOnce(&str) -> Option<&'a AccountSecrets>,
    ) -> Verdict {
        let Some(creds) = DigestCredentials::parse(authorization) else {
            return Verdict::Rejected("malformed credentials");
        };
        let (Some(username), Some(nonce), Some(uri), Some(response)) = (
            creds.get("username"),
            creds.get("nonce"),
            creds.get("uri"),
            creds.get("response"),
        ) else {
            return Verdict::Rejected("incomplete credentials");
        };
        if creds.get("realm") != Some(self.realm.as_str()) {
            return Verdict::Rejected("wrong realm");
        }
        let algorithm = match creds.get("algorithm") {
            None => Algorithm::Md5,
            Some(name) => match Algorithm::from_name(name) {
                Some(a) => a,
                None => return Verdict::Rejected("unsupported algorithm"),
            },
        };
        if !self.config.algorithms.contains(&algorithm) {
            return Verdict::Rejected("algorithm not offered");
        }
        let Some(issued_at) = self.check_nonce(nonce) else {
            return Verdict::Rejected("forged nonce");
        };

        // An unknown user is checked against a keyed dummy so the work and the answer
        // look the same as for a wrong password.
        let known = account(username);
        let dummy;
        let ha1 = match known {
            Some(secrets) => secrets.ha1(algorithm),
            None => {
                dummy = hex::encode(self.mac(username.as_bytes()));
                &dummy
            }
        };
        let ha2 = algorithm.hash(&format!("{method}:{uri}"));
        let expected = match creds.get("qop") {
            None => algorithm.hash(&format!("{ha1}:{nonce}:{ha2}")),
            Some(qop) if qop.eq_ignore_ascii_case("auth") => {
                let (Some(nc), Some(cnonce)) = (creds.get("nc"), creds.get("cnonce")) else {
                    return Verdict::Rejected("incomplete credentials");
                };
                algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
            }
            Some(_) => return Verdict::Rejected("unsupported qop"),
        };
        if known.is_none()
            || !constant_time_eq(
                expected.as_bytes(),
                response.to_ascii_lowercase().as_bytes(),
            )
        {
            return Verdict::Rejected("wrong credentials");
        }
        let age = self.seconds(now).saturating_sub(issued_at);
        if age > self.config.nonce_lifetime.as_secs() {
            return Verdict::Stale;
        }
        if let Some(nc) = creds.get("nc") {
            let Ok(nc) = u32::from_str_radix(nc, 16) else {
                return Verdict::Rejected("malformed nonce-count");
            };
            self.prune(now);
            // check_nonce proved the first 32 characters are our hex stamp.
            let key = u128::from_str_radix(&nonce[..32], 16).unwrap_or_default();
            let entry = self.seen.entry(key).or_insert((issued_at, 0));
            if nc <= entry.1 {
                return Verdict::Rejected("replayed nonce-count");
            }
            entry.1 = nc;
        }
        Verdict::Authenticated {
            username: username.to_string(),
        }
    }

    fn seconds(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(data);
        mac.update(self.realm.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Nonce = hex(issue time ‖ request value) ‖ hex(first 12 bytes of their HMAC). The
    /// issue time is kept in steps of a sixteenth of the lifetime (1 to 16 s), so that a
    /// retransmission a few seconds later still gets the same nonce; a nonce thus lives
    /// its lifetime plus up to one step.
    fn nonce(&self, now: Instant, request_id: &[u8]) -> String {
        let step = (self.config.nonce_lifetime.as_secs() / 16).clamp(1, 16);
        let issued = self.seconds(now) / step * step;
        let mut stamp = [0u8; 16];
        stamp[..8].copy_from_slice(&issued.to_be_bytes());
        stamp[8..].copy_from_slice(&self.mac(request_id)[..8]);
        format!(
            "{}{}",
            hex::encode(stamp),
            hex::encode(&self.mac(&stamp)[..12])
        )
    }

    /// The issue second of a nonce we made, or `None` for anything else.
    fn check_nonce(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != 56 {
            return None;
        }
        let stamp = hex::decode(&nonce[..32]).ok()?;
        let tag = hex::decode(&nonce[32..]).ok()?;
        constant_time_eq(&self.mac(&stamp)[..12], &tag).then(|| {
            let mut secs = [0u8; 8];
            secs.copy_from_slice(&stamp[..8]);
            u64::from_be_bytes(secs)
        })
    }

    /// Forgets nonce-counts of nonces that can no longer be used, once per lifetime.
    fn prune(&mut self, now: Instant) {
        let now = self.seconds(now);
        let lifetime = self.config.nonce_lifetime.as_secs();
        if now.saturating_sub(self.last_prune) >= lifetime {
            self.seen
                .retain(|_, (issued, _)| now.saturating_sub(*issued) <= lifetime);
            self.last_prune = now;
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The user an `Authorization` or `Proxy-Authorization` value claims to be, right or
/// wrong.
pub fn claimed_user(credentials: &str) -> Option<&str> {
    DigestCredentials::parse(credentials)?.get("username")
}

/// The `name=value` pairs of a `Digest` credentials header, unquoted.
#[derive(Debug)]
struct DigestCredentials<'a>(Vec<(&'a str, &'a str)>);

impl<'a> DigestCredentials<'a> {
    fn parse(value: &'a str) -> Option<Self> {
        let value = value.trim();
        let (scheme, rest) = value.split_once(char::is_whitespace)?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let pairs = split_list(rest)
            .into_iter()
            .map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                Some((k.trim(), v))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(DigestCredentials(pairs))
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REALM: &str = "switchboard";

    /// SHA-256 first, as RFC 8760 prefers.
    fn setup() -> (DigestAuthenticator, Instant) {
        let t0 = Instant::now();
        let config = AuthConfig {
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            ..AuthConfig::default()
        };
        (DigestAuthenticator::new(REALM, [7; 32], t0, config), t0)
    }

    fn nonce_of(challenge: &str) -> String {
        challenge
            .split("nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    }

    /// A phone's answer to a challenge with this algorithm and nonce.
    fn answer(alg: Algorithm, user: &str, password: &str, nonce: &str, nc: u32) -> String {
        let challenge = format!(
            "Digest realm=\"{REALM}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"",
            alg.name()
        );
        authorization(
            &challenge,
            "REGISTER",
            "sip:switchboard",
            user,
            password,
            nc,
            "c0ffee",
        )
        .unwrap()
    }

    fn accounts(user: &str) -> Option<&'static AccountSecrets> {
        static SECRETS: std::sync::LazyLock<AccountSecrets> =
            std::sync::LazyLock::new(|| AccountSecrets::from_password("100", REALM, "s3cret"));
        (user == "100").then(|| &*SECRETS)
    }

    #[test]
    fn client_answer_matches_rfc7616_examples() {
        // RFC 7616 §3.9.1, with SIP's method in place of HTTP's.
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        for (alg, expected) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let challenge = format!(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={alg}, nonce=\"{nonce}\""
            );
            let answer = authorization(
                &challenge,
                "GET",
                "/dir/index.html",
                "Mufasa",
                "Circle of Life",
                1,
                cnonce,
            )
            .unwrap();
            assert!(
                answer.contains(&format!("response=\"{expected}\"")),
                "{answer}"
            );
            assert!(answer.contains("nc=00000001"));
        }
        assert_eq!(
            authorization("Basic realm=\"x\"", "GET", "/", "u", "p", 1, "c"),
            None
        );
    }

    #[test]
    fn sha256_and_md5_answers_are_accepted() {
        let (mut auth, t0) = setup();
        let challenges = auth.challenge(t0, false, b"req-1");
        assert!(challenges[0].contains("algorithm=SHA-256"));
        assert!(challenges[1].contains("algorithm=MD5"));
        // Both challenges carry one nonce, so the second answer counts on from the first.
        for (nc, alg, challenge) in [
            (1, Algorithm::Sha256, &challenges[0]),
            (2, Algorithm::Md5, &challenges[1]),
        ] {
            let creds = answer(alg, "100", "s3cret", &nonce_of(challenge), nc);
            assert_eq!(
                auth.verify(t0, "REGISTER", &creds, accounts),
                Verdict::Authenticated {
                    username: "100".into()
                }
            );
        }
    }

    #[test]
    fn rfc2617_answer_without_qop_is_accepted() {
        let (mut auth, t0) = setup();
        let nonce = nonce_of(&auth.challenge(t0, false, b"req-1")[1]);
        let ha1 = ha1(Algorithm::Md5, "100", REALM, "s3cret");
        let ha2 = Algorithm::Md5.hash("REGISTER:sip:switchboard");
        let response = Algorithm::Md5.hash(&format!("{ha1}:{nonce}:{ha2}"));
        let creds = format!(
            "Digest username=\"100\",realm=\"{REALM}\",nonce=\"{nonce}\",uri=\"sip:switchboard\",response=\"{response}\""
        );
        assert!(matches!(
            auth.verify(t0, "REGISTER", &creds, accounts),
            Verdict::Authenticated { .. }
        ));
    }

    #[test]
    fn wrong_password_and_unknown_user_look_the_same() {
        let (mut auth, t0) = setup();
        let nonce = nonce_of(&auth.challenge(t0, false, b"req-1")[0]);
        let wrong = answer(Algorithm::Sha256, "100", "guess", &nonce, 1);
        let unknown = answer(Algorithm::Sha256, "999", "guess", &nonce, 2);
        assert_eq!(
            auth.verify(t0, "REGISTER", &wrong, accounts),
            Verdict::Rejected("wrong credentials")
        );
        assert_eq!(
            auth.verify(t0, "REGISTER", &unknown, accounts),
            Verdict::Rejected("wrong credentials")
        );
    }

    #[test]
    fn expired_nonce_is_stale_only_with_right_password() {
        let (mut auth, t0) = setup();
        let nonce = nonce_of(&auth.challenge(t0, false, b"req-1")[0]);
        let later = t0 + Duration::from_secs(301);
        let right = answer(Algorithm::Sha256, "100", "s3cret", &nonce, 1);
        assert_eq!(
            auth.verify(later, "REGISTER", &right, accounts),
            Verdict::Stale
        );
        let wrong = answer(Algorithm::Sha256, "100", "nope", &nonce, 1);
        assert_eq!(
            auth.verify(later, "REGISTER", &wrong, accounts),
            Verdict::Rejected("wrong credentials")
        );
        assert!(auth.challenge(later, true, b"req-1")[0].ends_with("stale=true"));
    }

    #[test]
    fn a_short_lifetime_still_gives_fresh_nonces() {
        let t0 = Instant::now();
        let config = AuthConfig {
            nonce_lifetime: Duration::from_secs(1),
            ..AuthConfig::default()
        };
        let mut auth = DigestAuthenticator::new(REALM, [7; 32], t0, config);
        let issued = t0 + Duration::from_millis(5700);
        let nonce = nonce_of(&auth.challenge(issued, false, b"req-1")[0]);
        let creds = answer(Algorithm::Md5, "100", "s3cret", &nonce, 1);
        let soon = issued + Duration::from_millis(200);
        assert!(matches!(
            auth.verify(soon, "REGISTER", &creds, accounts),
            Verdict::Authenticated { .. }
        ));
        let creds = answer(Algorithm::Md5, "100", "s3cret", &nonce, 2);
        assert_eq!(
            auth.verify(
                issued + Duration::from_secs(3),
                "REGISTER",
                &creds,
                accounts
            ),
            Verdict::Stale
        );
    }

    #[test]
    fn replayed_nonce_count_is_refused_and_higher_counts_pass() {
        let (mut auth, t0) = setup();
        let nonce = nonce_of(&auth.challenge(t0, false, b"req-1")[0]);
        let first = answer(Algorithm::Sha256, "100", "s3cret", &nonce, 1);
        assert!(matches!(
            auth.verify(t0, "REGISTER", &first, accounts),
            Verdict::Authenticated { .. }
        ));
        assert_eq!(
            auth.verify(t0, "REGISTER", &first, accounts),
            Verdict::Rejected("replayed nonce-count")
        );
        let second = answer(Algorithm::Sha256, "100", "s3cret", &nonce, 2);
        assert!(matches!(
            auth.verify(t0, "REGISTER", &second, accounts),
            Verdict::Authenticated { .. }
        ));
    }

    #[test]
    fn forged_or_foreign_nonces_are_refused() {
        let (mut auth, t0) = setup();
        let nonce = nonce_of(&auth.challenge(t0, false, b"req-1")[0]);
        let mut forged = nonce.clone();
        forged.replace_range(0..2, if &nonce[..2] == "ff" { "00" } else { "ff" });
        let creds = answer(Algorithm::Sha256, "100", "s3cret", &forged, 1);
        assert_eq!(
            auth.verify(t0, "REGISTER", &creds, accounts),
            Verdict::Rejected("forged nonce")
        );
        let mut other = DigestAuthenticator::new(REALM, [8; 32], t0, AuthConfig::default());
        let creds = answer(Algorithm::Md5, "100", "s3cret", &nonce, 1);
        assert_eq!(
            other.verify(t0, "REGISTER", &creds, accounts),
            Verdict::Rejected("forged nonce")
        );
    }

    #[test]
    fn default_offers_md5_alone_and_refuses_what_was_not_offered() {
        let t0 = Instant::now();
        let mut auth = DigestAuthenticator::new(REALM, [7; 32], t0, AuthConfig::default());
        let challenges = auth.challenge(t0, false, b"req-1");
        assert_eq!(challenges.len(), 1);
        assert!(challenges[0].contains("algorithm=MD5"));
        let nonce = nonce_of(&challenges[0]);
        let creds = answer(Algorithm::Sha256, "100", "s3cret", &nonce, 1);
        assert_eq!(
            auth.verify(t0, "REGISTER", &creds, accounts),
            Verdict::Rejected("algorithm not offered")
        );
    }

    #[test]
    fn a_retransmission_gets_the_same_nonce_another_request_a_new_one() {
        let (auth, t0) = setup();
        let a = nonce_of(&auth.challenge(t0, false, b"req-1")[0]);
        let again = nonce_of(&auth.challenge(t0 + Duration::from_secs(2), false, b"req-1")[0]);
        let other = nonce_of(&auth.challenge(t0, false, b"req-2")[0]);
        assert_eq!(a, again);
        assert_ne!(a, other);
    }
}
