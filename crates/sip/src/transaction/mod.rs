//! RFC 3261 §17 transactions: four state machines over one timer table, and the layer
//! that matches messages to them.
//!
//! Everything is sans-IO: the layer is fed datagrams' parsed messages and the current
//! `Instant`, and is drained with `poll_transmit`, `poll_event` and `poll_timeout`.
//! INVITE server and client transactions follow RFC 6026 (an `Accepted` state absorbs
//! 2xx retransmissions instead of spawning new transactions).

mod client_invite;
mod client_non_invite;
mod key;
mod layer;
mod lingering;
mod server_invite;
mod server_non_invite;
mod timers;

pub use key::TransactionKey;
pub use layer::{ClientId, ServerId, TransactionEvent, TransactionLayer, Transmit};
pub use timers::{Timer, TimerConfig};

use std::net::SocketAddr;

/// The transport a message travelled on; reliable ones need no retransmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    /// TLS over TCP (RFC 3261 §26.2), port 5061 by convention.
    Tls,
}

impl Transport {
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp | Transport::Tls)
    }

    /// Whether the peer's address is proved by a handshake (no forged sources).
    pub fn is_connected(self) -> bool {
        self.is_reliable()
    }

    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    pub fn from_via_name(name: &str) -> Option<Transport> {
        [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .find(|t| t.via_name().eq_ignore_ascii_case(name))
    }
}

/// Where a message came from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

/// What a single machine asks the layer to do after an input.
#[derive(Debug)]
enum Effect {
    Send(Vec<u8>),
    /// A response for the client transaction's user.
    Deliver(rsip::Response),
    /// Timer B, F or H: the other side never answered.
    TimedOut,
}

#[cfg(test)]
mod tests;
