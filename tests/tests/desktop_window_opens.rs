//! The desktop app (src-tauri, office mode) opens its window under Xvfb: the PBX
//! starts inside it, the window shows the admin panel, an owner logs in and sees the
//! wallboard. Then the window's phone, signed in as agent 101 of queue 600 on a real
//! sound device (a private PulseAudio server): baresip calls the queue, the phone's
//! card shows the caller and the queue, a click on Answer connects them, and each
//! hears the other (what the caller says at the app's speaker, what is played into
//! the app's microphone at the caller). Driven over WebDriver by tauri-driver and
//! WebKitWebDriver; the screenshots are kept under target/test-artifacts/desktop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use switchboard_e2e::app_phone::{QUEUE_CALL_TALK, queue_office};
use switchboard_e2e::audio::{self, Voices, heard};
use switchboard_e2e::baresip::{Baresip, PhoneSetup};
use switchboard_e2e::pulse::SoundServer;
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
        let socket = format!("/tmp/.X11-unix/X{number}");
        let lock = format!("/tmp/.X{number}-lock");
        if Path::new(&socket).exists() || Path::new(&lock).exists() {
            // A display whose server was killed leaves both behind: take it over.
            let owner = std::fs::read_to_string(&lock).unwrap_or_default();
            let alive = owner
                .trim()
                .parse::<u32>()
                .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if alive || std::fs::remove_file(&lock).is_err() && Path::new(&lock).exists() {
                continue;
            }
            let _ = std::fs::remove_file(&socket);
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

/// The desktop app under tauri-driver on a display of its own.
struct Desktop {
    port: u16,
    _driver: Killed,
    _xvfb: Killed,
}

impl Desktop {
    /// The app's WebDriver port, once tauri-driver listens; the app starts with the
    /// session. Its office keeps `data_dir`, its settings `config_home`, its SIP
    /// port is `sip_port` and its sound goes through `sound`.
    fn launch(data_dir: &Path, config_home: &Path, sip_port: u16, sound: &SoundServer) -> Desktop {
        require("tauri-driver", "cargo install tauri-driver --locked");
        require("WebKitWebDriver", "apt-get install webkit2gtk-driver");
        let (xvfb, display) = xvfb();
        let port = free_port();
        let native = free_port();
        let (low, high) = rtp_range();
        let driver = Killed(
            Command::new("tauri-driver")
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native.to_string(),
                ])
                .env("DISPLAY", &display)
                .env("SWITCHBOARD_DATA_DIR", data_dir)
                .env("SWITCHBOARD_SIP_LISTEN", format!("127.0.0.1:{sip_port}"))
                .env("XDG_CONFIG_HOME", config_home)
                .env("PULSE_SERVER", sound.address())
                .env("SWITCHBOARD_RTP_PORTS", format!("{low}-{high}"))
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
        Desktop {
            port,
            _driver: driver,
            _xvfb: xvfb,
        }
    }
}

/// The window script (`tests/ui/desktop_window.mjs`) driving the app at WebDriver
/// `port`, logging in with `admin` ("-": not at all), screenshots into `artifacts`.
fn window_script(port: u16, admin: &str, artifacts: &Path) -> Command {
    let mut command = Command::new("timeout");
    command
        .args(["180", "node"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/desktop_window.mjs"))
        .arg(port.to_string())
        .arg(desktop_binary())
        .arg(admin)
        .arg(artifacts);
    command
}

/// The window script run to its end: its steps.
fn window_steps(port: u16, admin: &str, artifacts: &Path) -> Vec<serde_json::Value> {
    let output = window_script(port, admin, artifacts)
        .output()
        .expect("run node");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    eprintln!("[window] {text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the window script failed: {text}");
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn a_fresh_office_gives_the_windows_phone_its_first_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    let config_home = dir.path().join("config");
    let sound = SoundServer::start();
    let desktop = Desktop::launch(&data_dir, &config_home, free_port(), &sound);
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/desktop");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    // "-": no admin login; the script waits for the phone to sign in and reads it.
    let steps = window_steps(desktop.port, "-", &artifacts);
    let signed_in = steps
        .iter()
        .find(|s| s["step"] == "phone-signed-in")
        .expect("the phone signed in");
    assert_eq!(signed_in["extension"], "100", "{signed_in}");
    let saved: serde_json::Value = serde_json::from_slice(
        &std::fs::read(config_home.join("app.switchboard.desktop/phone.json")).expect("saved"),
    )
    .expect("json");
    assert_eq!(saved["extension"], "100");
    assert!(
        saved["password"].as_str().is_some_and(|p| p.len() >= 16),
        "{saved}"
    );
}

#[test]
fn the_window_starts_the_pbx_and_shows_the_wallboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    import_config(&data_dir, &queue_office("101")).expect("the office imports");
    // The window's phone signs in as 101, as the app saved it (the extension a fresh
    // office makes for it is tested below).
    let config_home = dir.path().join("config");
    let app_config = config_home.join("app.switchboard.desktop");
    std::fs::create_dir_all(&app_config).expect("app config dir");
    let sip_port = free_port();
    std::fs::write(
        app_config.join("phone.json"),
        serde_json::json!({
            "server": format!("127.0.0.1:{sip_port}"),
            "extension": "101",
            "password": password("101"),
        })
        .to_string(),
    )
    .expect("phone settings");
    let sound = SoundServer::start();
    let voices = Voices::new(dir.path());
    let reset = server_command(&data_dir, &["admin", "reset-password"]);
    let admin = String::from_utf8_lossy(&reset.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("New admin password: ").map(str::to_string))
        .expect("an admin password");
    let desktop = Desktop::launch(&data_dir, &config_home, sip_port, &sound);
    let port = desktop.port;
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts/desktop");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let mut window = window_script(port, admin.trim(), &artifacts)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node");
    let at_speaker = dir.path().join("speaker.wav");
    let mut recorder = None;
    let mut talker = None;
    let mut caller: Option<Baresip> = None;
    let mut steps: Vec<serde_json::Value> = Vec::new();
    let lines = BufReader::new(window.stdout.take().expect("the script's output"));
    for line in lines.lines().map_while(Result::ok) {
        eprintln!("[window] {line}");
        let Ok(step) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        match step["step"].as_str() {
            Some("phone-signed-in") => {
                recorder = Some(sound.record_speaker(&at_speaker));
                talker = Some(sound.play_into_microphone(&voices.ru));
                let sip = format!("127.0.0.1:{sip_port}").parse().expect("address");
                let mut phone = Baresip::start(sip, PhoneSetup::pcmu("100", &voices.en, false));
                phone.command("dial", &format!("sip:600@{sip}"));
                caller = Some(phone);
            }
            Some("phone-answered") => {
                let phone = caller.as_mut().expect("the caller dialled");
                phone.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
                std::thread::sleep(QUEUE_CALL_TALK);
                phone.command("hangup", "");
            }
            _ => {}
        }
        steps.push(step);
    }
    let status = window.wait().expect("the script ends");
    assert!(status.success(), "the window script failed: {steps:?}");
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

    let ringing = steps
        .iter()
        .find(|s| s["step"] == "phone-ringing")
        .expect("the phone rang in the window");
    assert!(
        ringing["party"]
            .as_str()
            .unwrap_or_default()
            .contains("100"),
        "{ringing}"
    );
    assert!(
        ringing["facts"]
            .as_str()
            .unwrap_or_default()
            .contains("Sales (600)"),
        "{ringing}"
    );
    assert!(
        steps.iter().any(|s| s["step"] == "phone-call-ended"),
        "{steps:?}"
    );
    recorder.expect("recording").finish();
    talker.expect("playing").finish();
    let (en, _) = audio::read(&voices.en);
    let (ru, _) = audio::read(&voices.ru);
    let at_caller = audio::read_at_call_rate(&caller.expect("the caller").heard());
    audio::assert_heard(
        "the window's speaker, the caller",
        heard(&en, &audio::read_at_call_rate(&at_speaker)),
    );
    audio::assert_heard(
        "the caller, the window's microphone",
        heard(&ru, &at_caller),
    );
}
