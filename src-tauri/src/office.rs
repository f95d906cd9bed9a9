//! Office mode: this app is the PBX. The server runs on its own runtime thread, as
//! `switchboard-server` would, and stops cleanly (registrations saved) when the app
//! quits. A fresh data folder is provisioned here rather than by the server, so the
//! window can show the generated passwords (a window has no terminal to print to).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use switchboard_server::{Listeners, Listening, Options, RtpPorts};
use tokio::sync::oneshot;

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: Option<PathBuf>,
    sip_listen: SocketAddr,
    /// This computer only by default; SWITCHBOARD_HTTP_LISTEN opens the panel to the LAN.
    http_listen: SocketAddr,
    rtp_ports: RtpPorts,
}

impl Settings {
    /// The server's defaults, overridden by SWITCHBOARD_DATA_DIR, SWITCHBOARD_SIP_LISTEN,
    /// SWITCHBOARD_HTTP_LISTEN and SWITCHBOARD_RTP_PORTS.
    pub fn from_env() -> Settings {
        fn env<T: std::str::FromStr>(name: &str, default: &str) -> T {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .or_else(|| default.parse().ok())
                .expect("the defaults parse")
        }
        Settings {
            data_dir: std::env::var_os("SWITCHBOARD_DATA_DIR").map(PathBuf::from),
            sip_listen: env("SWITCHBOARD_SIP_LISTEN", "0.0.0.0:5060"),
            http_listen: env("SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:0"),
            rtp_ports: env("SWITCHBOARD_RTP_PORTS", "10000-20000"),
        }
    }
}

/// The PBX running inside the app.
#[derive(Debug)]
pub struct Office {
    pub http: SocketAddr,
    pub sip: SocketAddr,
    /// The extension a fresh office made for the window's phone: the first one.
    pub phone_extension: Option<switchboard_server::first_run::Credential>,
    /// What the owner must be told once: the passwords a fresh data folder got.
    pub first_run: Option<String>,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Office {
    pub fn start(settings: Settings) -> Result<Office, String> {
        let data_dir = settings.data_dir.clone().ok_or("no data folder")?;
        let options = Options {
            data_dir,
            sip_listen: settings.sip_listen,
            sip_tls_listen: None,
            http_listen: settings.http_listen,
            // The window loads the panel from this computer over plain HTTP.
            https_listen: None,
            rtp_ports: settings.rtp_ports,
        };
        // Bound here, so that a port another program holds is told at once.
        let listeners = Listeners::bind(&options).map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel();
        let (ready_tx, ready) = mpsc::channel();
        let failed = ready_tx.clone();
        let thread = std::thread::Builder::new()
            .name("switchboard-server".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = failed.send(Err(format!("cannot start the runtime: {e}")));
                        return;
                    }
                };
                let ran = runtime.block_on(switchboard_server::run(
                    options,
                    listeners,
                    async move {
                        let _ = stopped.await;
                    },
                    move |listening| {
                        let _ = ready_tx.send(Ok(listening));
                    },
                ));
                if let Err(e) = ran {
                    let _ = failed.send(Err(e.to_string()));
                }
            })
            .map_err(|e| e.to_string())?;
        let Listening {
            sip,
            http,
            first_extensions,
            admin_password,
        } = ready
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "the server did not start within 30 s".to_string())??;
        let phone_extension = first_extensions.as_ref().and_then(|e| e.first().cloned());
        // The server did the first-run work; the window shows what it made.
        let first_run = match (first_extensions, admin_password) {
            (None, None) => None,
            (extensions, admin) => Some(first_run_message(sip, extensions, admin)),
        };
        Ok(Office {
            http,
            sip,
            first_run,
            phone_extension,
            stop,
            thread,
        })
    }

    /// Stops the server and waits for it to save what it holds.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

fn first_run_message(
    sip: SocketAddr,
    extensions: Option<Vec<switchboard_server::first_run::Credential>>,
    admin: Option<String>,
) -> String {
    let mut text = String::new();
    if let Some(password) = admin {
        text.push_str(&format!("Admin panel login: admin / {password}\n\n"));
    }
    if let Some(extensions) = extensions {
        text.push_str(&format!(
            "Register phones to {} (SIP over UDP or TCP):\n",
            switchboard_server::first_run::advertised_addresses(sip).join(" or ")
        ));
        for c in &extensions {
            text.push_str(&format!("  {}  {}\n", c.number, c.password));
        }
        text.push('\n');
        if let Some(first) = extensions.first() {
            text.push_str(&format!(
                "This window's phone answers as extension {}: the Phone page takes calls with a headset.\n\n",
                first.number
            ));
        }
    }
    text.push_str(
        "Write these passwords down. They are also kept in first-run.txt in Switchboard's data folder, readable by your user alone.",
    );
    text
}
