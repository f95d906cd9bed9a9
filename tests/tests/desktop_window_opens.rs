//! The desktop app (src-tauri, office mode) opens its window under Xvfb: the PBX
//! starts inside it, the window shows the admin panel, an owner logs in and sees the
//! wallboard. Driven over WebDriver by tauri-driver and WebKitWebDriver; the
//! screenshot is kept under target/test-artifacts/desktop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use switchboard_e2e::*;

/// Kills a helper process, and every process it started, when the test ends however
/// it ends: tauri-driver's WebKitWebDriver would otherwise outlive it (holding the
/// test run's output open).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &self.0.id().to_string()])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `command` started with its output discarded.
fn spawn_quiet(command: &mut Command) -> Killed {
    Killed(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a helper"),
    )
}

fn desktop_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("switchboard-desktop"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "switchboard-desktop is not built: run `cargo build -p switchboard-desktop` (scripts/test does)"
    );
    bin
}

/// A free X display number, served by a new Xvfb.
fn xvfb() -> (Killed, String) {
    require("Xvfb", "apt-get install xvfb");
    for number in 90..130 {
        if Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
            continue;
        }
        let display = format!(":{number}");
        let child = spawn_quiet(Command::new("Xvfb").args([
            &display,
            "-screen",
            "0",
            "1400x900x24",
            "-nolisten",
            "tcp",
        ]));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&format!("/tmp/.X11-unix/X{number}")).exists() {
            assert!(Instant::now() < deadline, "Xvfb {display} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        return (child, display);
    }
    panic!("no free X display");
}

#[test]
fn the_window_starts_the_pbx_and_shows_the_wallboard() {
    require("tauri-driver", "cargo install tauri-driver --locked");
    require("WebKitWebDriver", "apt-get install webkit2gtk-driver");
    let app = desktop_binary();
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    import_config(
        &data_dir,
        &format!(
            "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\n[[queues.agents]]\nextension = \"101\"\n",
            config("", FAST_REGISTRAR)
        ),
    )
    .expect("the office imports");
    let reset = server_command(&data_dir, &["admin", "reset-password"]);
    let admin = String::from_utf8_lossy(&reset.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("New admin password: ").map(str::to_string))
        .expect("an admin password");
    let (_xvfb, display) = xvfb();
    let port = free_port();
    let native = free_port();
    let _driver = Killed(
        Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("SWITCHBOARD_DATA_DIR", &data_dir)
            .env("SWITCHBOARD_SIP_LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_RTP_PORTS", "41000-41100")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tauri-driver"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/desktop");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/desktop_window.mjs");
    let output = Command::new("timeout")
        .arg("120")
        .arg("node")
        .arg(script)
        .arg(port.to_string())
        .arg(&app)
        .arg(admin.trim())
        .arg(&artifacts)
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    eprintln!("[window] {text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the window script failed: {text}");
    let steps: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let heading = steps
        .iter()
        .find(|s| s["step"] == "logged-in")
        .and_then(|s| s["heading"].as_str())
        .unwrap_or_default();
    assert!(heading.contains("Wallboard"), "{steps:?}");
    let shown = steps
        .iter()
        .find(|s| s["step"] == "wallboard-shown")
        .expect("the wallboard was shown");
    assert_eq!(shown["title"], "Sales (600)", "{shown}");
    let queue = shown["queue"].as_str().unwrap_or_default();
    assert!(queue.contains("Waiting0"), "{queue}");
    assert!(artifacts.join("desktop-wallboard.png").exists());
}
