//! The phone in the window: crates/phone on its tokio edge with the PC's sound device,
//! signed in to this computer's Switchboard (office mode) or to the office's (desk
//! mode) like any desk phone. The shell only starts it, passes the panel's actions in
//! and its events out ("phone" events), and remembers the extension it signs in as.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use switchboard_phone::edge::{
    DeviceCard, DeviceChoice, PhoneHandle, SilentCard, Sockets, devices, spawn,
};
use switchboard_phone::{Action, LineId, LineInfo, PhoneConfig, RecentCall, SignIn};
use tauri::{AppHandle, Emitter, Manager, State};
use tokio::sync::Mutex;

/// The extension the window's phone signs in as and the sound devices it uses, kept
/// in the app's settings folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub server: SocketAddr,
    pub extension: String,
    pub password: String,
    /// The microphone and speaker by name; none: the system's default.
    #[serde(default)]
    pub microphone: Option<String>,
    #[serde(default)]
    pub speaker: Option<String>,
}

impl Account {
    fn path(app: &AppHandle) -> Option<PathBuf> {
        Some(app.path().app_config_dir().ok()?.join("phone.json"))
    }

    pub fn load(app: &AppHandle) -> Option<Account> {
        serde_json::from_slice(&std::fs::read(Account::path(app)?).ok()?).ok()
    }

    pub fn save(&self, app: &AppHandle) -> Result<(), Failure> {
        let path = Account::path(app)
            .ok_or_else(|| Failure::new("storage", "no folder for the app's settings"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Failure::new("storage", &e.to_string()))?;
        }
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| Failure::new("storage", &e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| Failure::new("storage", &e.to_string()))?;
        restrict(&path);
        Ok(())
    }
}

/// The password file is the user's alone.
fn restrict(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// An error for the panel: what went wrong as a code, and in words.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

impl Failure {
    fn new(code: &str, message: &str) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The phone as the panel sees it when it opens.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub extension: Option<String>,
    /// The devices chosen; none: the system's default.
    pub microphone: Option<String>,
    pub speaker: Option<String>,
    pub sign_in: Option<SignIn>,
    pub lines: Vec<LineInfo>,
    /// The calls that ended, newest first.
    pub recent: Vec<RecentCall>,
    pub muted: bool,
    /// Why nothing can be heard ("no audio device"), when that is so.
    pub sound: Option<String>,
}

struct Running {
    handle: PhoneHandle,
    account: Account,
    sound: Option<String>,
}

#[derive(Default)]
pub struct PhoneState(Mutex<Option<Running>>);

/// Signs the phone in as `account`, replacing the phone signed in before.
pub async fn start(app: &AppHandle, account: Account) -> Result<(), Failure> {
    let state = app.state::<PhoneState>();
    let mut running = state.0.lock().await;
    // The old phone signs out when its last handle goes.
    running.take();
    let sockets = Sockets::bind(account.server, 2)
        .await
        .map_err(|e| Failure::new("network", &e.to_string()))?;
    let config = PhoneConfig::new(
        account.server,
        &account.extension,
        &account.password,
        account.server,
        Vec::new(),
    );
    let choice = DeviceChoice {
        microphone: account.microphone.clone(),
        speaker: account.speaker.clone(),
    };
    let card = tokio::task::spawn_blocking(move || DeviceCard::open(&choice))
        .await
        .map_err(|e| Failure::new("sound", &e.to_string()))?;
    let key = fresh_key();
    let (handle, sound) = match card {
        Ok(card) => (spawn(config, sockets, card, key), None),
        Err(e) => {
            tracing::warn!("the phone runs without sound: {e}");
            (spawn(config, sockets, SilentCard, key), Some(e.to_string()))
        }
    };
    let handle = handle.map_err(|e| Failure::new("network", &e.to_string()))?;
    let mut events = handle.subscribe();
    let to_window = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Ok(event) = events.recv().await {
            let _ = to_window.emit("phone", &event);
        }
    });
    *running = Some(Running {
        handle,
        account,
        sound,
    });
    Ok(())
}

/// The office-mode phone's account: the one saved, else the first extension a fresh
/// office made (which is saved for next time).
pub fn office_account(
    app: &AppHandle,
    sip: SocketAddr,
    first: Option<&switchboard_server::first_run::Credential>,
) -> Option<Account> {
    let server = SocketAddr::new(loopback_if_unspecified(sip.ip()), sip.port());
    if let Some(mut saved) = Account::load(app) {
        saved.server = server;
        return Some(saved);
    }
    let first = first?;
    let account = Account {
        server,
        extension: first.number.clone(),
        password: first.password.clone(),
        microphone: None,
        speaker: None,
    };
    if let Err(e) = account.save(app) {
        tracing::warn!("the phone's extension is not saved: {}", e.message);
    }
    Some(account)
}

fn loopback_if_unspecified(ip: IpAddr) -> IpAddr {
    if ip.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        ip
    }
}

/// The key of the phone's identifiers (tags, Call-IDs, branches): the OS's randomness.
fn fresh_key() -> [u8; 32] {
    rand::random()
}

#[tauri::command]
pub async fn phone_status(state: State<'_, PhoneState>) -> Result<Status, Failure> {
    let running = state.0.lock().await;
    let Some(running) = running.as_ref() else {
        return Ok(Status {
            extension: None,
            microphone: None,
            speaker: None,
            sign_in: None,
            lines: Vec::new(),
            recent: Vec::new(),
            muted: false,
            sound: None,
        });
    };
    let (sign_in, lines, recent, muted) = running
        .handle
        .act(|p, _| {
            (
                p.sign_in(),
                p.lines(),
                p.recent().cloned().collect(),
                p.is_muted(),
            )
        })
        .await
        .ok_or_else(|| Failure::new("stopped", "the phone stopped"))?;
    Ok(Status {
        extension: Some(running.account.extension.clone()),
        microphone: running.account.microphone.clone(),
        speaker: running.account.speaker.clone(),
        sign_in: Some(sign_in),
        lines,
        recent,
        muted,
        sound: running.sound.clone(),
    })
}

/// Signs the window's phone in as another extension (desk mode: the office's server
/// at `server`, port 5060 when none is given).
#[tauri::command]
pub async fn phone_sign_in(
    app: AppHandle,
    server: String,
    extension: String,
    password: String,
) -> Result<(), Failure> {
    let server = server
        .parse::<SocketAddr>()
        .or_else(|_| format!("{server}:5060").parse())
        .map_err(|_| {
            Failure::new(
                "server",
                "the server is an address such as 192.168.1.10 or 192.168.1.10:5060",
            )
        })?;
    if extension.trim().is_empty() {
        return Err(Failure::new("extension", "the extension is needed"));
    }
    let account = Account {
        server,
        extension: extension.trim().to_string(),
        password,
        microphone: None,
        speaker: None,
    };
    account.save(&app)?;
    start(&app, account).await
}

#[tauri::command]
pub async fn phone_act(
    state: State<'_, PhoneState>,
    action: Action,
) -> Result<Option<LineId>, Failure> {
    let running = state.0.lock().await;
    let running = running
        .as_ref()
        .ok_or_else(|| Failure::new("signed_out", "the phone is not signed in"))?;
    running
        .handle
        .act(move |p, now| p.act(now, action))
        .await
        .ok_or_else(|| Failure::new("stopped", "the phone stopped"))?
        .map_err(|e| Failure::new("refused", &e.to_string()))
}

/// The microphones and speakers this PC offers, by name.
#[tauri::command]
pub async fn phone_devices() -> Result<(Vec<String>, Vec<String>), Failure> {
    tokio::task::spawn_blocking(devices)
        .await
        .map_err(|e| Failure::new("sound", &e.to_string()))?
        .map_err(|e| Failure::new("sound", &e.to_string()))
}

/// Makes the phone use these devices (none: the system's default) from now on; the
/// phone signs in again with them, so it is refused while a call is on.
#[tauri::command]
pub async fn phone_use_devices(
    app: AppHandle,
    microphone: Option<String>,
    speaker: Option<String>,
) -> Result<(), Failure> {
    let account = {
        let state = app.state::<PhoneState>();
        let running = state.0.lock().await;
        let running = running
            .as_ref()
            .ok_or_else(|| Failure::new("signed_out", "the phone is not signed in"))?;
        let idle = running.handle.act(|p, _| p.is_idle()).await.unwrap_or(true);
        if !idle {
            return Err(Failure::new("busy", "finish the call first"));
        }
        Account {
            microphone,
            speaker,
            ..running.account.clone()
        }
    };
    account.save(&app)?;
    start(&app, account).await
}
