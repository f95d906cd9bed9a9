//! Trunk hosts resolved to addresses away from the engine's thread (a name lookup may
//! take seconds), so the engine is given where each trunk's requests go and where its
//! calls come from, and the SIP edge how to reach a provider over TLS.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use switchboard_core::{TrunkMedia, TrunkSetup};
use switchboard_sip::transaction::{Peer, Transport};

use crate::config::{EncryptionPolicy, TrunkSettings, TrunkTransport};
use crate::sip_streams::{ConnectTo, TlsDial};

/// The office's trunks as the engine and the edge take them.
#[derive(Debug, Default)]
pub struct ResolvedTrunks {
    pub setups: Vec<TrunkSetup>,
    /// How the edge opens a connection to each TCP or TLS trunk's next hop.
    pub connect: HashMap<SocketAddr, ConnectTo>,
}

/// The trunks whose next hop resolves, in the configuration's order; one that does not
/// is left out with an error in the log.
pub async fn resolve(trunks: &[TrunkSettings]) -> ResolvedTrunks {
    let mut resolved = ResolvedTrunks::default();
    for trunk in trunks {
        let Some(hop) = trunk.next_hop() else {
            continue;
        };
        let hop_addrs = match lookup(&hop).await {
            Ok(addrs) if !addrs.is_empty() => addrs,
            Ok(_) => {
                tracing::error!("trunk {}: {} has no address", trunk.name, hop.0);
                continue;
            }
            Err(e) => {
                tracing::error!("trunk {}: cannot resolve {}: {e}", trunk.name, hop.0);
                continue;
            }
        };
        let (transport, connect) = match trunk.transport {
            TrunkTransport::Udp => (Transport::Udp, None),
            TrunkTransport::Tcp => (Transport::Tcp, Some(ConnectTo::Tcp)),
            TrunkTransport::Tls => match tls_dial(&hop.0, trunk.tls_ca.as_deref()) {
                Ok(dial) => (Transport::Tls, Some(ConnectTo::Tls(dial))),
                Err(why) => {
                    tracing::error!("trunk {}: {why}", trunk.name);
                    continue;
                }
            },
        };
        if let Some(connect) = connect {
            resolved.connect.insert(hop_addrs[0], connect);
        }
        // The provider's calls may come from its host or from the proxy before it.
        let mut sources = hop_addrs.clone();
        if let Some(host) = trunk.host_and_port().filter(|h| *h != hop)
            && let Ok(addrs) = lookup(&host).await
        {
            sources.extend(addrs);
        }
        sources.dedup();
        resolved.setups.push(TrunkSetup {
            name: trunk.name.clone(),
            link: trunk.link(),
            peer: Peer {
                transport,
                addr: hop_addrs[0],
            },
            calls_in: trunk.calls_in(&sources),
            media: TrunkMedia {
                encrypted: trunk.encryption == EncryptionPolicy::Require,
                codecs: trunk.codecs.iter().map(|&c| c.into()).collect(),
            },
            max_calls_out: (trunk.max_calls_out > 0).then_some(trunk.max_calls_out),
        });
    }
    resolved
}

/// Connecting to `host` over TLS: its certificate must name it and come from a public
/// authority or from `extra_trust` (PEM).
pub(crate) fn tls_dial(host: &str, extra_trust: Option<&str>) -> Result<TlsDial, String> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| format!("{host:?} cannot be checked against a certificate"))?;
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for certificate in extra_trust
        .map(trusted_certificates)
        .transpose()?
        .unwrap_or_default()
    {
        roots
            .add(certificate)
            .map_err(|e| format!("a trusted certificate is unusable: {e}"))?;
    }
    // ring, as for the server side (see tls.rs).
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsDial {
        name,
        config: Arc::new(config),
    })
}

/// The certificates in `pem`; at least one, else why not.
pub fn trusted_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("must be certificates in PEM: {e}"))?;
    if certificates.is_empty() {
        return Err("must hold at least one certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certificates)
}

async fn lookup((host, port): &(String, u16)) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host.as_str(), *port))
        .await?
        .collect())
}
