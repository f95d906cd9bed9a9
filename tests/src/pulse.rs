//! A private PulseAudio server for the tests of the app's phone with a real sound
//! device: two null sinks, "speaker" (the default sink: what the app plays) and "mic"
//! (whose monitor is the default source: what is played into it is what the app's
//! microphone captures). Recording the speaker's monitor hears what the app played.
//! The server lives in a temporary directory and dies with the test.
//!
//! cpal finds PulseAudio only through the environment (`PULSE_SERVER`), which a
//! running test cannot change safely, so the test runs again in a child process whose
//! environment names the server: see [`SoundServer::for_test`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Names the server's socket to the test's child process.
const SOCKET_VAR: &str = "SWITCHBOARD_TEST_PULSE_SOCKET";

#[derive(Debug)]
pub struct SoundServer {
    /// The server and its directory, in the process that started it.
    daemon: Option<(Child, tempfile::TempDir)>,
    socket: PathBuf,
}

impl SoundServer {
    /// In the test's own process: starts a server, runs the test `name` again in a
    /// child process pointed at it, fails if the child fails, and returns none (the
    /// test is over). In that child: the server, for the test's body to use.
    pub fn for_test(name: &str) -> Option<SoundServer> {
        SoundServer::in_child_process(&[name, "--exact", "--nocapture", "--test-threads=1"])
    }

    /// [`SoundServer::for_test`] for any program: run again with `args`.
    pub fn in_child_process(args: &[&str]) -> Option<SoundServer> {
        if let Some(socket) = std::env::var_os(SOCKET_VAR) {
            return Some(SoundServer {
                daemon: None,
                socket: socket.into(),
            });
        }
        let server = SoundServer::start();
        let socket = server.socket.display().to_string();
        run_again(
            args,
            &[(SOCKET_VAR, &socket), ("PULSE_SERVER", &server.address())],
        );
        None
    }

    /// Starts a server for child processes (the desktop app) to use.
    pub fn start() -> SoundServer {
        crate::require("pulseaudio", "apt-get install pulseaudio pulseaudio-utils");
        crate::require("parecord", "apt-get install pulseaudio-utils");
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("native");
        let daemon = Command::new("pulseaudio")
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "-n",
                "--use-pid-file=no",
            ])
            .arg("-L")
            .arg(format!(
                "module-native-protocol-unix socket={} auth-anonymous=1",
                socket.display()
            ))
            .args([
                "-L",
                "module-null-sink sink_name=speaker sink_properties=device.description=speaker",
                "-L",
                "module-null-sink sink_name=mic sink_properties=device.description=mic",
            ])
            .env("PULSE_RUNTIME_PATH", dir.path())
            .env("HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pulseaudio starts");
        let server = SoundServer {
            daemon: Some((daemon, dir)),
            socket,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.pactl(&["info"]) {
            assert!(Instant::now() < deadline, "pulseaudio did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(server.pactl(&["set-default-sink", "speaker"]));
        assert!(server.pactl(&["set-default-source", "mic.monitor"]));
        server
    }

    /// What `PULSE_SERVER` must say for a client to use this server.
    pub fn address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl")
            .args(args)
            .env("PULSE_SERVER", self.address())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Loads a module (`name arg=value...`) into the server, or fails naming it.
    pub fn load(&self, module: &str) {
        let mut args = vec!["load-module"];
        args.extend(module.split_whitespace());
        assert!(self.pactl(&args), "pulseaudio loads {module}");
    }

    /// Records what the app plays, as 8-kHz mono WAV at `out`, until finished.
    pub fn record_speaker(&self, out: &Path) -> Sound {
        self.record("speaker.monitor", 8000, 1, out)
    }

    /// Records the source `device` as 16-bit WAV at `out`, until finished.
    pub fn record(&self, device: &str, rate: u32, channels: u16, out: &Path) -> Sound {
        Sound(
            Command::new("parecord")
                .arg(format!("--device={device}"))
                .arg(format!("--rate={rate}"))
                .arg(format!("--channels={channels}"))
                .args(["--format=s16le", "--file-format=wav"])
                .arg(out)
                .env("PULSE_SERVER", self.address())
                .spawn()
                .expect("parecord starts"),
        )
    }

    /// Plays `file` into the app's microphone, until finished.
    pub fn play_into_microphone(&self, file: &Path) -> Sound {
        self.play("mic", file)
    }

    /// Plays `file` into the sink `device`, until finished.
    pub fn play(&self, device: &str, file: &Path) -> Sound {
        Sound(
            Command::new("paplay")
                .arg(format!("--device={device}"))
                .arg(file)
                .env("PULSE_SERVER", self.address())
                .spawn()
                .expect("paplay starts"),
        )
    }
}

/// A recording or a playback on the sound server.
#[derive(Debug)]
pub struct Sound(Child);

impl Sound {
    /// Waits until a playback has played its whole file.
    pub fn played(mut self) {
        let _ = self.0.wait();
    }

    /// Stops it the way that lets a recording finish its WAV header (SIGINT).
    pub fn finish(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// In the test's own process: runs the test `name` again in a child process that has
/// no sound server to find, fails if the child fails, and returns false (the test is
/// over). In that child: true.
pub fn without_sound_server(name: &str) -> bool {
    const CHILD: &str = "SWITCHBOARD_TEST_NO_SOUND";
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let nowhere = "/nonexistent/switchboard-test";
    run_again(
        &[name, "--exact", "--nocapture", "--test-threads=1"],
        &[
            (CHILD, "1"),
            ("PULSE_SERVER", &format!("unix:{nowhere}/native")),
            ("PULSE_RUNTIME_PATH", nowhere),
            ("XDG_RUNTIME_DIR", nowhere),
        ],
    );
    false
}

/// Runs this program again with `args` in a child process with `env` added.
fn run_again(args: &[&str], env: &[(&str, &str)]) {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"));
    child.args(args);
    for (key, value) in env {
        child.env(key, value);
    }
    let status = child.status().expect("the test runs again");
    assert!(status.success(), "{args:?} failed in its child process");
}

impl Drop for SoundServer {
    fn drop(&mut self) {
        if let Some((daemon, _)) = self.daemon.as_mut() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}
