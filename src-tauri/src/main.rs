//! Switchboard's desktop window: a thin shell over the same server and UI the browser
//! uses. In office mode (the default) this computer is the PBX: the server runs inside
//! the app and the window shows its admin panel; closing the window leaves the PBX
//! running in the tray, and Quit stops it cleanly. In desk mode (`--desk URL`, or
//! SWITCHBOARD_DESK_URL) the window shows a Switchboard elsewhere on the LAN.
//! The shell adds only what a browser cannot do: the tray with the PBX's status,
//! desktop notifications for incoming calls, and the phone (sound devices).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod office;
mod phone;
mod status;

use std::sync::Mutex;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_notification::NotificationExt;

use office::Office;

/// Where the window's Switchboard runs.
#[derive(Debug, Clone)]
enum Mode {
    Office(office::Settings),
    Desk(String),
}

impl Mode {
    fn from_args() -> Result<Mode, String> {
        let mut args = std::env::args().skip(1);
        let mut desk = std::env::var("SWITCHBOARD_DESK_URL").ok();
        let mut settings = office::Settings::from_env();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--desk" => desk = Some(args.next().ok_or("--desk needs the server's URL")?),
                "--data-dir" => {
                    settings.data_dir = Some(args.next().ok_or("--data-dir needs a folder")?.into())
                }
                other => {
                    return Err(format!(
                        "unknown argument {other:?}; use --desk URL or --data-dir DIR"
                    ));
                }
            }
        }
        Ok(match desk {
            Some(url) => Mode::Desk(url.trim_end_matches('/').to_string()),
            None => Mode::Office(settings),
        })
    }
}

/// The PBX this app runs, stopped when the app quits.
struct Running(Mutex<Option<Office>>);

/// Asked by the UI when a caller starts waiting: a browser tab cannot notify the
/// desktop reliably, the app can.
#[tauri::command]
fn incoming_call(app: AppHandle, title: String, body: String) {
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::warn!("notification not shown: {e}");
    }
}

fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mode = match Mode::from_args() {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(phone::PhoneState::default())
        .invoke_handler(tauri::generate_handler![
            incoming_call,
            phone::phone_status,
            phone::phone_sign_in,
            phone::phone_act,
            phone::phone_devices,
            phone::phone_use_devices
        ])
        .setup(move |app| {
            let (url, office) = match mode {
                Mode::Desk(url) => (url, None),
                Mode::Office(mut settings) => {
                    if settings.data_dir.is_none() {
                        settings.data_dir = Some(app.path().app_data_dir()?);
                    }
                    let office = Office::start(settings)?;
                    (format!("http://{}", office.http), Some(office))
                }
            };
            let first_run = office.as_ref().and_then(|o| o.first_run.clone());
            let account = office
                .as_ref()
                .and_then(|o| {
                    phone::office_account(app.handle(), o.sip, o.phone_extension.as_ref())
                })
                .or_else(|| phone::Account::load(app.handle()));
            if let Some(account) = account {
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = phone::start(&handle, account).await {
                        tracing::warn!("the window's phone did not start: {}", e.message);
                    }
                });
            }
            app.manage(Running(Mutex::new(office)));
            let window = WebviewWindowBuilder::new(app, "main", WebviewUrl::External(url.parse()?))
                .title("Switchboard")
                .inner_size(1280.0, 820.0)
                .build()?;
            let handle = app.handle().clone();
            window.on_window_event(move |event| {
                // The PBX goes on with the window closed: phones keep calling.
                if let WindowEvent::CloseRequested { api, .. } = event {
                    api.prevent_close();
                    if let Some(w) = handle.get_webview_window("main") {
                        let _ = w.hide();
                    }
                }
            });
            let open = MenuItem::with_id(app, "open", "Open Switchboard", true, None::<&str>)?;
            let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
            let menu = Menu::with_items(app, &[&open, &quit])?;
            let mut tray = TrayIconBuilder::with_id("status")
                .tooltip("Switchboard: starting")
                .menu(&menu)
                .on_menu_event(|app, event| match event.id().as_ref() {
                    "open" => show_window(app),
                    "quit" => app.exit(0),
                    _ => {}
                });
            if let Some(icon) = app.default_window_icon() {
                tray = tray.icon(icon.clone());
            }
            tray.build(app)?;
            status::watch(app.handle().clone(), url);
            if let Some(message) = first_run {
                app.dialog()
                    .message(message)
                    .title("Switchboard is ready")
                    .show(|_| {});
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the app starts");
    app.run(|app, event| {
        if let RunEvent::Exit = event
            && let Some(office) = app
                .try_state::<Running>()
                .and_then(|r| r.0.lock().ok()?.take())
        {
            office.stop();
        }
    });
}
