//! SRTP (RFC 3711) with keys exchanged in the SDP (SDES, RFC 4568), as desk phones and
//! softphones offer it over SIP TLS: `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<key>`.
//! Each side sends with its own key: a leg's packets are decrypted with the key its
//! phone gave and what Switchboard sends it is encrypted with the key Switchboard gave.
//! The cipher itself is the sans-IO `rtc-srtp`, with `ring` for the primitives.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rtc_crypto::providers::RingCrypto;
use rtc_srtp::context::Context;
use rtc_srtp::protection_profile::ProtectionProfile;

/// The one suite offered and accepted: every SRTP phone has it.
pub const SUITE: &str = "AES_CM_128_HMAC_SHA1_80";
const KEY_LEN: usize = 16;
/// Master key and master salt, as `inline:` carries them.
pub const KEY_AND_SALT: usize = 30;

/// One side's key, with the tag of the `a=crypto` line that carried it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SdesKey {
    pub tag: u32,
    pub key: [u8; KEY_AND_SALT],
}

impl std::fmt::Debug for SdesKey {
    /// Keys stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SdesKey {{ tag: {} }}", self.tag)
    }
}

impl SdesKey {
    /// Reads an `a=crypto` value (`1 AES_CM_128_HMAC_SHA1_80 inline:…`); `None` for
    /// other suites, keys with a lifetime or MKI we do not take, and malformed lines.
    pub fn parse(value: &str) -> Option<SdesKey> {
        let mut parts = value.split_whitespace();
        let tag = parts.next()?.parse().ok()?;
        if parts.next()? != SUITE {
            return None;
        }
        let inline = parts.next()?.strip_prefix("inline:")?;
        // A lifetime or an MKI after `|`: only the default (2^31 packets, no MKI).
        let (encoded, rest) = inline.split_once('|').unwrap_or((inline, ""));
        if rest.split('|').any(|p| p.contains(':')) {
            return None;
        }
        let decoded = STANDARD.decode(encoded).ok()?;
        Some(SdesKey {
            tag,
            key: decoded.try_into().ok()?,
        })
    }

    /// The `a=crypto` value announcing this key.
    pub fn attribute(&self) -> String {
        format!("{} {SUITE} inline:{}", self.tag, STANDARD.encode(self.key))
    }
}

/// A leg's keys: the phone's, for what it sends, and Switchboard's, for what it hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrtpKeys {
    pub theirs: SdesKey,
    pub ours: SdesKey,
}

/// A packet that failed authentication or decryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected;

/// The SRTP state of one leg, both directions.
pub struct SrtpSession {
    keys: SrtpKeys,
    inbound: Context,
    outbound: Context,
}

impl std::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpSession")
            .field("keys", &self.keys)
            .finish()
    }
}

impl SrtpSession {
    pub fn new(keys: SrtpKeys) -> Option<SrtpSession> {
        let context = |key: &SdesKey| {
            let (master, salt) = key.key.split_at(KEY_LEN);
            Context::new(
                master,
                salt,
                ProtectionProfile::Aes128CmHmacSha1_80,
                None,
                None,
                &RingCrypto,
            )
            .ok()
        };
        Some(SrtpSession {
            keys,
            inbound: context(&keys.theirs)?,
            outbound: context(&keys.ours)?,
        })
    }

    pub fn keys(&self) -> SrtpKeys {
        self.keys
    }

    /// The plain RTP packet in `packet`'s place, or why not.
    pub fn unprotect(&mut self, packet: &[u8]) -> Result<Vec<u8>, Rejected> {
        self.inbound
            .decrypt_rtp(packet)
            .map(|p| p.to_vec())
            .map_err(|_| Rejected)
    }

    /// `packet` encrypted and authenticated for the phone.
    pub fn protect(&mut self, packet: &[u8]) -> Result<Vec<u8>, Rejected> {
        self.outbound
            .encrypt_rtp(packet)
            .map(|p| p.to_vec())
            .map_err(|_| Rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tag: u32, byte: u8) -> SdesKey {
        SdesKey {
            tag,
            key: [byte; KEY_AND_SALT],
        }
    }

    #[test]
    fn a_crypto_line_reads_back_and_other_suites_are_passed_over() {
        let k = key(1, 7);
        assert_eq!(SdesKey::parse(&k.attribute()), Some(k));
        let line = k.attribute().replace(SUITE, "AES_256_CM_HMAC_SHA1_80");
        assert_eq!(SdesKey::parse(&line), None);
        assert_eq!(
            SdesKey::parse("1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ="),
            None
        );
        let with_lifetime = format!("{}|2^20|1:4", k.attribute());
        assert_eq!(SdesKey::parse(&with_lifetime), None);
        assert!(!format!("{k:?}").contains('7'), "no key in logs");
    }

    #[test]
    fn what_one_side_protects_the_other_unprotects_and_tampering_is_caught() {
        let (a, b) = (key(1, 1), key(1, 2));
        let mut phone = SrtpSession::new(SrtpKeys { theirs: b, ours: a }).unwrap();
        let mut switchboard = SrtpSession::new(SrtpKeys { theirs: a, ours: b }).unwrap();
        let mut rtp = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        rtp.extend([0x55u8; 160]);
        let sent = phone.protect(&rtp).unwrap();
        assert_eq!(sent.len(), rtp.len() + 10, "an 80-bit tag");
        assert_ne!(&sent[12..172], &rtp[12..], "the audio is not in the clear");
        assert_eq!(switchboard.unprotect(&sent).unwrap(), rtp);
        let mut forged = phone.protect(&rtp).unwrap();
        forged[20] ^= 1;
        assert_eq!(switchboard.unprotect(&forged), Err(Rejected));
        let back = switchboard.protect(&rtp).unwrap();
        assert_eq!(phone.unprotect(&back).unwrap(), rtp);
    }
}
