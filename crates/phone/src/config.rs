//! What the phone needs to know to sign in: where the office's Switchboard is, the
//! extension it signs in as, and the local addresses the edge bound for it.

use std::net::SocketAddr;
use std::time::Duration;

use switchboard_media::codec::Codec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneConfig {
    /// The office's Switchboard (SIP over UDP).
    pub server: SocketAddr,
    /// The domain of the phone's address of record: the server's realm host.
    pub domain: String,
    /// The extension the phone signs in as, and its SIP password.
    pub user: String,
    pub password: String,
    /// The name shown to the people it calls.
    pub display_name: Option<String>,
    /// The SIP socket's address as the server can reach it.
    pub local: SocketAddr,
    /// One RTP socket per line, as the server can reach them: their number is the
    /// phone's number of lines.
    pub media: Vec<SocketAddr>,
    /// The registration's lifetime asked for.
    pub expires: u32,
    /// How often the phone checks that the server still hears it (an OPTIONS): a
    /// silent server makes it register again.
    pub keepalive: Duration,
    /// Codecs offered, best first.
    pub codecs: Vec<Codec>,
}

impl PhoneConfig {
    /// A phone for extension `user` of the Switchboard at `server`, with the usual
    /// lifetimes and codecs: wideband G.722 first (the office LAN has the bandwidth),
    /// then Opus, then G.711 that every phone speaks.
    pub fn new(
        server: SocketAddr,
        user: &str,
        password: &str,
        local: SocketAddr,
        media: Vec<SocketAddr>,
    ) -> Self {
        PhoneConfig {
            server,
            domain: server.ip().to_string(),
            user: user.to_string(),
            password: password.to_string(),
            display_name: None,
            local,
            media,
            expires: 300,
            keepalive: Duration::from_secs(25),
            codecs: vec![Codec::G722, Codec::Opus, Codec::Pcmu, Codec::Pcma],
        }
    }
}
