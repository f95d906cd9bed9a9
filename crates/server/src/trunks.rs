//! Trunk hosts resolved to addresses away from the engine's thread (a name lookup may
//! take seconds), so the engine is given where each trunk's requests go and where its
//! calls come from.

use std::net::SocketAddr;

use switchboard_core::TrunkSetup;
use switchboard_sip::transaction::{Peer, Transport};

use crate::config::TrunkSettings;
use crate::config::trunks::split_host;

/// The trunks whose next hop resolves, in the configuration's order; one that does not
/// is left out with an error in the log.
pub async fn resolve(trunks: &[TrunkSettings]) -> Vec<TrunkSetup> {
    let mut setups = Vec::with_capacity(trunks.len());
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
        // The provider's calls may come from its host or from the proxy before it.
        let mut sources = hop_addrs.clone();
        if let Some(host) = split_host(&trunk.host).filter(|h| *h != hop)
            && let Ok(addrs) = lookup(&host).await
        {
            sources.extend(addrs);
        }
        sources.dedup();
        setups.push(TrunkSetup {
            name: trunk.name.clone(),
            link: trunk.link(),
            peer: Peer {
                transport: Transport::Udp,
                addr: hop_addrs[0],
            },
            calls_in: trunk.calls_in(&sources),
        });
    }
    setups
}

async fn lookup((host, port): &(String, u16)) -> std::io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host.as_str(), *port))
        .await?
        .collect())
}
