//! Trunk hosts resolved to addresses away from the engine's thread (a name lookup may
//! take seconds), so the engine is given where each trunk's requests go.

use switchboard_core::TrunkSetup;
use switchboard_sip::transaction::{Peer, Transport};

use crate::config::TrunkSettings;

/// The trunks whose next hop resolves, in the configuration's order; one that does not
/// is left out with an error in the log.
pub async fn resolve(trunks: &[TrunkSettings]) -> Vec<TrunkSetup> {
    let mut setups = Vec::with_capacity(trunks.len());
    for trunk in trunks {
        let Some((host, port)) = trunk.next_hop() else {
            continue;
        };
        match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(mut addrs) => match addrs.next() {
                Some(addr) => setups.push(TrunkSetup {
                    name: trunk.name.clone(),
                    link: trunk.link(),
                    peer: Peer {
                        transport: Transport::Udp,
                        addr,
                    },
                }),
                None => tracing::error!("trunk {}: {host} has no address", trunk.name),
            },
            Err(e) => tracing::error!("trunk {}: cannot resolve {host}: {e}", trunk.name),
        }
    }
    setups
}
