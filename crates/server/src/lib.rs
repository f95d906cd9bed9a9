//! `switchboard-server`: the headless Switchboard. It owns the edges (sockets, timers,
//! SQLite, HTTP) and feeds the sans-IO SIP engine; no call logic lives here.

pub mod admin_account;
mod after_commit;
mod agent_reports;

pub mod backup;
pub mod config;
mod engine_api;
mod files;
pub mod first_run;
mod http;
mod mailbox_api;
mod mailer;
mod media_edge;
mod media_rooms;
mod metrics;
mod persist;
mod recordings;
mod report_mail;
mod reports;
mod sip_edge;
mod sip_streams;
mod sounds;
mod spreadsheet;
mod tls;
mod trunks;
mod voicemail;
mod webhook_events;
mod webhooks;

pub use sounds::UPLOADS_DIR as PROMPTS_DIR;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use switchboard_core::{Pbx, PbxConfig};
use switchboard_store::Store;
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::engine_api::EngineRequest;
use crate::sip_edge::{Engine, SipSockets};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "switchboard.db";
/// What the first run told: the extensions' and the admin's passwords (0600).
pub const FIRST_RUN_FILE: &str = "first-run.txt";

/// The UDP port range calls' audio uses: an even RTP port and the RTCP port above it
/// per leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPorts {
    pub low: u16,
    pub high: u16,
}

impl std::str::FromStr for RtpPorts {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (low, high) = s
            .split_once('-')
            .ok_or("expected LOW-HIGH, such as 10000-20000")?;
        let low: u16 = low.trim().parse().map_err(|_| "LOW is not a port number")?;
        let high: u16 = high
            .trim()
            .parse()
            .map_err(|_| "HIGH is not a port number")?;
        if low < 1024 || low >= high {
            return Err("need 1024 <= LOW < HIGH".into());
        }
        if high - low < 3 {
            return Err("the range must hold at least two RTP/RTCP pairs".into());
        }
        Ok(RtpPorts { low, high })
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    pub sip_listen: SocketAddr,
    /// SIP over TLS; by default the SIP address with the port after the SIP one (5061
    /// for 5060), or any free port when the SIP port is chosen by the system.
    pub sip_tls_listen: Option<SocketAddr>,
    pub http_listen: SocketAddr,
    /// The panel over HTTPS, with the SIP certificate; none serves no HTTPS.
    pub https_listen: Option<SocketAddr>,
    pub rtp_ports: RtpPorts,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("TLS certificate: {0}")]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Store(#[from] switchboard_store::StoreError),
}

/// Now, in unix milliseconds, as the store keeps times.
pub(crate) fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The admin API's OpenAPI document, as the UI's types are generated from it.
pub fn openapi_json() -> String {
    serde_json::to_string_pretty(&http::openapi()).expect("the document serialises")
}

/// Opens the data directory's store, creating both when absent. The directory and
/// everything in it are kept for Switchboard's user alone: the database holds the
/// extensions' HA1 hashes, which register a phone as well as a password does.
pub fn open_store(data_dir: &Path) -> Result<Store, ServerError> {
    let private = || -> std::io::Result<()> {
        std::fs::create_dir_all(data_dir)?;
        files::keep_private(data_dir)?;
        // SQLite gives its WAL and shared-memory files the database file's mode.
        files::create_private(&data_dir.join(DATABASE_FILE))
    };
    private().map_err(|source| ServerError::DataDir {
        path: data_dir.into(),
        source,
    })?;
    Ok(Store::open(&data_dir.join(DATABASE_FILE))?)
}

/// Writes `config` to a new file under `backups/` in the data directory, for Switchboard's
/// user alone (it holds the extensions' HA1 hashes); returns its path.
pub fn back_up_config(data_dir: &Path, config: &Config) -> std::io::Result<std::path::PathBuf> {
    let stamp = jiff::Zoned::now().strftime("%Y%m%d-%H%M%S%.3f").to_string();
    let path = data_dir
        .join("backups")
        .join(format!("config-{stamp}.toml"));
    files::write_whole(&path, config.to_toml().as_bytes())?;
    files::keep_private(&data_dir.join("backups"))?;
    Ok(path)
}

/// Where a started server listens (ports chosen by the system when 0 was asked for),
/// and on its first run the passwords it made, to be shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listening {
    pub sip: SocketAddr,
    pub http: SocketAddr,
    /// The extensions a fresh database was given.
    pub first_extensions: Option<Vec<first_run::Credential>>,
    /// The admin's password, when the admin account was just made.
    pub admin_password: Option<String>,
}

/// Every socket Switchboard listens on, bound before anything else is done: a port in
/// use is told at once, before the data directory is touched, and whoever starts the
/// server (the command line, the desktop shell, a test) learns the ports the system
/// chose before the server runs.
pub struct Listeners {
    sip: SipSockets,
    tls: std::net::TcpListener,
    http: std::net::TcpListener,
    https: Option<std::net::TcpListener>,
    /// Where each listens, ports chosen by the system filled in.
    sip_addr: SocketAddr,
    tls_addr: SocketAddr,
    http_addr: SocketAddr,
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners")
            .field("sip", &self.sip_addr)
            .field("tls", &self.tls_addr)
            .field("http", &self.http_addr)
            .finish_non_exhaustive()
    }
}

impl Listeners {
    pub fn bind(options: &Options) -> Result<Self, ServerError> {
        let failed = |what, addr| move |source| ServerError::Bind { what, addr, source };
        let sip =
            SipSockets::bind(options.sip_listen).map_err(failed("SIP", options.sip_listen))?;
        let tls_listen = options.sip_tls_listen.unwrap_or_else(|| {
            let port = match options.sip_listen.port() {
                0 => 0,
                port => port.saturating_add(1),
            };
            SocketAddr::new(options.sip_listen.ip(), port)
        });
        let tcp = |what, addr| {
            let listener = std::net::TcpListener::bind(addr).map_err(failed(what, addr))?;
            listener.set_nonblocking(true).map_err(failed(what, addr))?;
            let local = listener.local_addr().map_err(failed(what, addr))?;
            Ok::<_, ServerError>((listener, local))
        };
        let sip_addr = sip
            .local_addr()
            .map_err(failed("SIP", options.sip_listen))?;
        let (tls, tls_addr) = tcp("SIP over TLS", tls_listen)?;
        let (http, http_addr) = tcp("HTTP", options.http_listen)?;
        let https = match options.https_listen {
            Some(addr) => Some(tcp("HTTPS", addr)?.0),
            None => None,
        };
        Ok(Listeners {
            sip,
            tls,
            http,
            https,
            sip_addr,
            tls_addr,
            http_addr,
        })
    }

    /// The SIP port (UDP and TCP).
    pub fn sip(&self) -> SocketAddr {
        self.sip_addr
    }

    /// The admin panel.
    pub fn http(&self) -> SocketAddr {
        self.http_addr
    }
}

/// Serves on `listeners` until `shutdown` resolves, then stops cleanly: sockets
/// closed, pending registration writes flushed. `ready` is told once the engine and the
/// panel serve (the desktop app opens its window then), with what the first run made.
pub async fn run(
    options: Options,
    listeners: Listeners,
    shutdown: impl std::future::Future<Output = ()>,
    ready: impl FnOnce(Listening),
) -> Result<(), ServerError> {
    let Listeners {
        sip: mut sockets,
        tls: tls_listener,
        http,
        https,
        sip_addr,
        tls_addr,
        http_addr,
    } = listeners;

    let mut store = open_store(&options.data_dir)?;
    let first_run = first_run::provision_if_empty(&mut store)?;
    let admin_password = admin_account::ensure_admin(&mut store)?;
    let config = Config::load(&store)?;

    let hangups = listen_for_hangups();
    let acceptor = tls::load_or_create(&options.data_dir, &first_run::lan_ips(sip_addr))?;
    sockets.tls = Some((tls_listener, acceptor.clone()));
    let now = Instant::now();
    let pbx_config = PbxConfig {
        sip: config.service_config(),
        sip_port: sip_addr.port(),
        tls_port: Some(tls_addr.port()),
        advertise_ip: first_run::lan_ips(sip_addr)
            .into_iter()
            .next()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        public_ip: config.sip.public_ip(),
        local_networks: config.sip.local_networks(),
        media_ports: (options.rtp_ports.low, options.rtp_ports.high),
        ring_timeout: std::time::Duration::from_secs(u64::from(config.calls.ring_timeout)),
    };
    let mut pbx = Pbx::new(
        pbx_config,
        rand::random(),
        rand::random(),
        switchboard_core::Clock {
            mono: now,
            wall: std::time::SystemTime::now(),
        },
    );
    let held = media_edge::ports_held_elsewhere(
        sip_addr.ip(),
        options.rtp_ports.low,
        options.rtp_ports.high,
    );
    if !held.is_empty() {
        tracing::warn!(
            "{} RTP port pairs are held by other programs and will not be used",
            held.len()
        );
        pbx.retire_ports(&held);
    }
    // Registrations first: agents who follow their registration start available when
    // their phone is registered.
    let restored = persist::restore(&store, pbx.service_mut().registrar_mut(), now)?;
    persist::restore_bans(&store, pbx.service_mut(), now)?;
    pbx.set_voicemail(
        persist::voicemail_messages(&store)?,
        config.voicemail.record_limits(),
    );
    let trunks = trunks::resolve(&config.trunks).await;
    sip_edge::apply_config(&mut pbx, &config, trunks.setups);
    // The daily limit of minutes out counts what was talked today before this start.
    let talked = store
        .talk_out_since(config.numbers.midnight_ms())?
        .into_iter()
        .map(|(extension, ms)| {
            (
                extension,
                std::time::Duration::from_millis(ms.max(0) as u64),
            )
        })
        .collect();
    pbx.restore_talk_out(sip_edge::clock(), talked);
    // Callers waiting to be called back before this start wait again (once media is up).
    let callbacks = store.callback_requests()?;
    drop(store);
    let voicemail = voicemail::VoicemailFiles::new(&options.data_dir);
    let recording_folder = recordings::RecordingFolder::new(&options.data_dir);
    let mail_wake = Arc::new(tokio::sync::Notify::new());
    let webhook_wake = Arc::new(tokio::sync::Notify::new());
    let (writes, writer) = persist::spawn_writer(
        &options.data_dir.join(DATABASE_FILE),
        (voicemail.clone(), recording_folder.clone()),
        persist::Wakes {
            mail: mail_wake.clone(),
            webhooks: webhook_wake.clone(),
        },
    )?;
    let http_bind = |source| ServerError::Bind {
        what: "HTTP",
        addr: http_addr,
        source,
    };
    let http = tokio::net::TcpListener::from_std(http).map_err(http_bind)?;

    let mut told = Vec::new();
    if let Some(credentials) = &first_run {
        told.push(first_run::phone_setup_table(
            credentials,
            sip_addr,
            tls_addr,
            &config,
            &invocation(&options.data_dir),
        ));
    }
    if let Some(password) = &admin_password {
        told.push(first_run::admin_login_note(http_addr, password));
    }
    if !told.is_empty() {
        let told = told.join("\n");
        println!("{told}");
        // Kept for an install whose first start went to a service's log, shown again
        // by `switchboard-server first-run-info`.
        files::write_whole(&options.data_dir.join(FIRST_RUN_FILE), told.as_bytes()).map_err(
            |source| ServerError::DataDir {
                path: options.data_dir.clone(),
                source,
            },
        )?;
    }

    let metrics = Arc::new(metrics::Metrics::default());
    let _ = metrics.update(&pbx);
    let recordings = recordings::Recordings::new(recording_folder, metrics.clone());
    recordings.set_min_free_mb(config.recording.min_free_mb);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (engine_tx, engine_rx) = mpsc::channel(64);
    let (media_reports_tx, media_reports) = mpsc::unbounded_channel();
    let sounds = sounds::Sounds::load(config.calls.language)
        .expect("the built-in sounds decode")
        .with_uploads(&options.data_dir.join(sounds::UPLOADS_DIR))
        .with_voicemail(voicemail.clone());
    let admin_api = Arc::new(http::Api::new(
        open_store(&options.data_dir)?,
        engine_tx.clone(),
        options.data_dir.clone(),
        metrics.clone(),
    ));
    let voicemail_api = Arc::new(http::VoicemailApi::new(
        engine_tx.clone(),
        voicemail.clone(),
        admin_api.sessions.clone(),
    ));
    let media = media_edge::MediaEdge::spawn(
        sip_addr.ip(),
        Arc::new(sounds),
        (voicemail, recordings.clone()),
        metrics.clone(),
        media_reports_tx,
    );
    pbx.set_port_reserve(media.reserve());
    if !callbacks.is_empty() {
        tracing::info!("{} callback requests are waiting again", callbacks.len());
    }
    pbx.restore_callbacks(sip_edge::clock(), callbacks);
    let engine = Engine {
        pbx,
        writes,
        requests: engine_rx,
        media,
        media_reports,
        metrics: metrics.clone(),
        gate: Default::default(),
        trunk_connections: trunks.connect,
    };
    let engine = engine
        .spawn(sockets, tokio::runtime::Handle::current(), stop_rx.clone())
        .map_err(|source| ServerError::Bind {
            what: "SIP",
            addr: sip_addr,
            source,
        })?;
    let https = match https {
        Some(listener) => {
            let bind = |source| ServerError::Bind {
                what: "HTTPS",
                addr: http_addr,
                source,
            };
            let listener = tokio::net::TcpListener::from_std(listener).map_err(bind)?;
            Some(tls::HttpsListener::new(listener, acceptor).map_err(bind)?)
        }
        None => None,
    };
    let https_addr = https
        .as_ref()
        .and_then(|l| axum::serve::Listener::local_addr(l).ok());
    tokio::spawn(report_mail::run(
        options.data_dir.clone(),
        mail_wake.clone(),
        stop_rx.clone(),
    ));
    let mailer = tokio::spawn(mailer::run(
        options.data_dir.clone(),
        mail_wake,
        stop_rx.clone(),
    ));
    let webhooks = tokio::spawn(webhooks::run(
        options.data_dir.clone(),
        webhook_wake,
        stop_rx.clone(),
    ));
    tokio::spawn(recordings::keep_within_retention(
        recordings,
        options.data_dir.clone(),
        stop_rx.clone(),
    ));
    let mut http_stop = stop_rx.clone();
    let app = http::router(metrics, voicemail_api, admin_api);
    let https = https.map(|listener| {
        let app = app
            .clone()
            .layer(axum::middleware::from_fn(tls::https_peer))
            .into_make_service_with_connect_info::<tls::HttpsPeer>();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            });
            if let Err(e) = serve.await {
                tracing::error!("HTTPS server stopped: {e}");
            }
        })
    });
    let http = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(http, app).with_graceful_shutdown(async move {
            let _ = http_stop.changed().await;
        });
        if let Err(e) = serve.await {
            tracing::error!("HTTP server stopped: {e}");
        }
    });
    let reloader = tokio::spawn(reload_on_hangup(
        options.data_dir.clone(),
        engine_tx,
        hangups,
    ));

    // Said only once the engine and the HTTP server run: whoever waits for this line
    // (an admin, a test) can use both at once.
    let https_note = https_addr
        .map(|a| format!(" and https://{a}/"))
        .unwrap_or_default();
    tracing::info!(
        "Switchboard listening: SIP {sip_addr} (UDP+TCP), SIP over TLS {tls_addr}, admin panel http://{http_addr}/{https_note}, RTP ports {}-{}; {} extensions, {restored} registrations restored",
        options.rtp_ports.low,
        options.rtp_ports.high,
        config.extensions.len()
    );
    ready(Listening {
        sip: sip_addr,
        http: http_addr,
        first_extensions: first_run,
        admin_password,
    });
    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = http.await;
    if let Some(https) = https {
        let _ = https.await;
    }
    reloader.abort();
    // A send under way is cut; its e-mail or webhook stays queued for the next start.
    mailer.abort();
    webhooks.abort();
    // The engine hands over its last batch and drops the only sender; the writer then
    // saves what is queued and ends.
    let _ = tokio::task::spawn_blocking(move || {
        let _ = engine.join();
        writer.join()
    })
    .await;
    Ok(())
}

/// How to run this binary on this data directory, for the commands the first run names.
fn invocation(data_dir: &Path) -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| {
            let cwd = std::env::current_dir().ok()?;
            Some(
                p.strip_prefix(&cwd)
                    .map(|r| Path::new(".").join(r))
                    .unwrap_or(p),
            )
        })
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "switchboard-server".into());
    format!("{exe} --data-dir {}", data_dir.display())
}

/// SIGHUP re-reads the configuration from the store, so `config import` takes effect
/// without a restart. It is listened for from the very start: a hangup that arrived
/// before the listener was set up would end the process (the signal's default).
/// Windows has no such signal: there an import takes effect at the next start.
#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<std::convert::Infallible>;

fn listen_for_hangups() -> Hangups {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

async fn reload_on_hangup(
    data_dir: PathBuf,
    engine: mpsc::Sender<EngineRequest>,
    hangups: Hangups,
) {
    #[cfg(unix)]
    {
        let Some(mut hangups) = hangups else {
            return;
        };
        while hangups.recv().await.is_some() {
            match open_store(&data_dir).and_then(|s| Ok(Config::load(&s)?)) {
                Ok(config) => {
                    tracing::info!(
                        "reloaded {} extensions, {} queues",
                        config.extensions.len(),
                        config.queues.len()
                    );
                    let _ = engine.send(EngineRequest::reload(config).await).await;
                }
                Err(e) => tracing::error!("reload failed: {e}"),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (data_dir, engine, hangups);
        std::future::pending::<()>().await;
    }
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(data_dir: &Path, sip_listen: SocketAddr) -> Options {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Options {
            data_dir: data_dir.into(),
            sip_listen,
            sip_tls_listen: None,
            http_listen: any,
            https_listen: Some(any),
            rtp_ports: "30000-30100".parse().unwrap(),
        }
    }

    #[test]
    fn a_port_in_use_is_told_before_the_data_directory_is_touched() {
        let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("office");
        let error = Listeners::bind(&options(&data_dir, held.local_addr().unwrap())).unwrap_err();
        assert!(
            matches!(error, ServerError::Bind { what: "SIP", addr, .. } if addr == held.local_addr().unwrap()),
            "{error}"
        );
        assert!(
            !data_dir.exists(),
            "nothing made for a server that cannot start"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_server_serves_on_the_listeners_it_is_given_until_told_to_stop() {
        let dir = tempfile::tempdir().unwrap();
        let options = options(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0)));
        let listeners = Listeners::bind(&options).unwrap();
        let (sip, http) = (listeners.sip(), listeners.http());
        assert_ne!(sip.port(), 0);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (told, ready) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(run(
            options,
            listeners,
            async move {
                let _ = stopped.await;
            },
            move |listening| {
                let _ = told.send(listening);
            },
        ));
        let listening = ready.await.expect("the server got ready");
        assert_eq!((listening.sip, listening.http), (sip, http));
        assert!(
            listening.first_extensions.is_some_and(|e| !e.is_empty()),
            "a fresh office"
        );
        let mut panel = tokio::net::TcpStream::connect(http).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        panel
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        panel.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        assert!(
            tokio::net::TcpStream::connect(http).await.is_err(),
            "closed"
        );
    }

    #[test]
    fn rtp_port_ranges_are_checked() {
        assert_eq!(
            "10000-20000".parse(),
            Ok(RtpPorts {
                low: 10000,
                high: 20000
            })
        );
        for bad in [
            "10000",
            "20000-10000",
            "80-1000",
            "10000-10002",
            "a-b",
            "10000-70000",
        ] {
            assert!(bad.parse::<RtpPorts>().is_err(), "{bad}");
        }
    }
}
