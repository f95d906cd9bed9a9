//! The certificate Switchboard presents for SIP over TLS and the panel over HTTPS.
//!
//! At first start it makes a self-signed one for this PC's names and addresses and keeps
//! it, with its key, in `tls/` in the data directory (for Switchboard's user alone). An
//! office with its own certificate puts it there in place of those two PEM files.
//! TLS 1.2 and 1.3 are offered: desk phones still in service often speak no 1.3.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

pub const DIR: &str = "tls";
pub const CERTIFICATE: &str = "certificate.pem";
pub const KEY: &str = "key.pem";

/// A handshake must be over within this, so a silent client holds no slot.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    File { path: PathBuf, source: io::Error },
    #[error("{path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The TLS configuration for the certificate in `data_dir`, made first if there is
/// none; `addresses` are this PC's addresses, named in a new certificate.
pub fn load_or_create(data_dir: &Path, addresses: &[IpAddr]) -> Result<TlsAcceptor, TlsError> {
    let dir = data_dir.join(DIR);
    let (certificate, key) = (dir.join(CERTIFICATE), dir.join(KEY));
    let file_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsError::File { path, source }
    };
    if !certificate.exists() || !key.exists() {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        names.extend(addresses.iter().map(IpAddr::to_string));
        let made = rcgen::generate_simple_self_signed(names)?;
        crate::files::write_whole(&key, made.signing_key.serialize_pem().as_bytes())
            .map_err(file_error(&key))?;
        crate::files::write_whole(&certificate, made.cert.pem().as_bytes())
            .map_err(file_error(&certificate))?;
        crate::files::keep_private(&dir).map_err(file_error(&dir))?;
    }
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |e: rustls::pki_types::pem::Error| TlsError::Unreadable {
            path,
            message: e.to_string(),
        }
    };
    let chain = CertificateDer::pem_file_iter(&certificate)
        .map_err(unreadable(&certificate))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable(&certificate))?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(unreadable(&key))?;
    // ring, not aws-lc: it builds without cmake and nasm, for Windows too. Its missing
    // post-quantum key exchange is offered by no desk phone yet.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts TCP connections on `listener` and hands over those whose handshake ends
/// within [`HANDSHAKE_DEADLINE`]; handshakes run side by side, so a slow one delays
/// nobody else. Ends when the receiver is dropped.
pub fn accept_handshaken(
    listener: TcpListener,
    acceptor: TlsAcceptor,
) -> mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let Ok((stream, addr)) = listener.accept().await else {
                continue;
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            if tx.is_closed() {
                return;
            }
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(stream));
                if let Ok(Ok(stream)) = handshake.await {
                    let _ = tx.send((stream, addr)).await;
                }
            });
        }
    });
    rx
}

/// The panel over HTTPS: a listener axum serves like a TCP one.
pub struct HttpsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl HttpsListener {
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor) -> io::Result<HttpsListener> {
        let local = listener.local_addr()?;
        Ok(HttpsListener {
            accepted: accept_handshaken(listener, acceptor),
            local,
        })
    }
}

/// The address an HTTPS connection came from, as the handlers' `ConnectInfo` has it for
/// HTTP (see [`https_peer`]).
#[derive(Debug, Clone, Copy)]
pub struct HttpsPeer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, HttpsListener>>
    for HttpsPeer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, HttpsListener>) -> Self {
        HttpsPeer(*stream.remote_addr())
    }
}

/// Gives a request that came over HTTPS the `ConnectInfo<SocketAddr>` handlers read
/// (login throttling is per address) and marks it as HTTPS (cookies are `Secure`).
pub async fn https_peer(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<HttpsPeer>>()
        .map(|info| info.0.0);
    if let Some(addr) = peer {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        request.extensions_mut().insert(crate::http::Https);
    }
    next.run(request).await
}

impl axum::serve::Listener for HttpsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The acceptor task never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_made_once_kept_private_and_loaded_again() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), &["192.0.2.7".parse().unwrap()]).unwrap();
        let certificate = dir.path().join(DIR).join(CERTIFICATE);
        let first = std::fs::read(&certificate).unwrap();
        load_or_create(dir.path(), &[]).unwrap();
        assert_eq!(
            std::fs::read(&certificate).unwrap(),
            first,
            "kept, not made anew"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join(DIR).join(KEY)), 0o600);
            assert_eq!(mode(&dir.path().join(DIR)), 0o700);
        }
    }

    #[test]
    fn a_damaged_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), &[]).unwrap();
        std::fs::write(dir.path().join(DIR).join(KEY), "not a key").unwrap();
        let Err(err) = load_or_create(dir.path(), &[]) else {
            panic!("a damaged key loads");
        };
        let err = err.to_string();
        assert!(err.contains("key.pem"), "{err}");
    }
}
