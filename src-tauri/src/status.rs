//! The tray's status line: the PBX's health endpoint, read every few seconds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tauri::AppHandle;

const EVERY: Duration = Duration::from_secs(5);

/// Keeps the tray's tooltip telling how the PBX at `url` is.
pub fn watch(app: AppHandle, url: String) {
    std::thread::spawn(move || {
        loop {
            let text = match health(&url) {
                Some(h) => format!(
                    "Switchboard: {} phones registered, {} calls",
                    h["bindings"], h["active_calls"]
                ),
                None => "Switchboard: not reachable".to_string(),
            };
            if let Some(tray) = app.tray_by_id("status") {
                let _ = tray.set_tooltip(Some(text));
            }
            std::thread::sleep(EVERY);
        }
    });
}

/// GET /health at an `http://host:port` URL: one small request, no HTTP client needed.
fn health(url: &str) -> Option<serde_json::Value> {
    let host = url.strip_prefix("http://")?.split('/').next()?;
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .ok()?
        .next()?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    serde_json::from_str(answer.split("\r\n\r\n").nth(1)?).ok()
}
