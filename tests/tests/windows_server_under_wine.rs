//! The Windows build of the server (cross-compiled with mingw-w64, as
//! `cargo build --target x86_64-pc-windows-gnu -p switchboard-server`) runs under Wine:
//! it takes a configuration imported from a file, makes its database under the Windows
//! data path (`C:\ProgramData\Switchboard`), answers SIP OPTIONS and `/health`, and two
//! baresip phones registered to it call each other and hear each other.
//!
//! What Wine cannot show: the service manager (the `service` command is not started by
//! it here) and WebView2 (the desktop window). Wine 8 also lacks `bcryptprimitives.dll`,
//! which Windows 10 and later have and Rust's standard library draws random numbers
//! from; the test builds a stand-in for it (`tests/wine/bcryptprimitives.c`) into its
//! own Wine prefix.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use switchboard_e2e::audio;
use switchboard_e2e::baresip::{self, Baresip, PhoneSetup};
use switchboard_e2e::*;

const DATA_DIR: &str = r"C:\ProgramData\Switchboard";

fn windows_exe() -> PathBuf {
    let exe = std::env::var("SWITCHBOARD_WINDOWS_EXE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/x86_64-pc-windows-gnu/debug/switchboard-server.exe")
        });
    assert!(
        exe.exists(),
        "{} is not built: `cargo build --target x86_64-pc-windows-gnu -p switchboard-server` \
         (scripts/test does)",
        exe.display()
    );
    exe
}

/// A Wine prefix of its own, with the stand-in DLL Wine lacks.
struct Wine {
    prefix: tempfile::TempDir,
}

impl Wine {
    fn new() -> Wine {
        require("wine", "apt-get install wine wine64");
        require(
            "x86_64-w64-mingw32-gcc",
            "apt-get install gcc-mingw-w64-x86-64",
        );
        let wine = Wine {
            prefix: tempfile::tempdir().expect("tempdir"),
        };
        let booted = wine
            .command("wineboot")
            .arg("--init")
            .output()
            .expect("wineboot");
        assert!(booted.status.success(), "wineboot: {booted:?}");
        let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("wine/bcryptprimitives.c");
        let dll = wine.drive_c().join("windows/system32/bcryptprimitives.dll");
        let built = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-o"])
            .arg(&dll)
            .arg(&shim)
            .arg("-ladvapi32")
            .output()
            .expect("mingw gcc");
        assert!(built.status.success(), "{built:?}");
        wine
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all");
        command
    }

    fn drive_c(&self) -> PathBuf {
        self.prefix.path().join("drive_c")
    }

    /// The server's data folder as this machine sees it.
    fn data_dir(&self) -> PathBuf {
        self.drive_c().join("ProgramData/Switchboard")
    }

    fn server(&self, args: &[&str]) -> std::process::Output {
        let mut command = self.command("wine");
        command
            .arg(windows_exe())
            .args(["--data-dir", DATA_DIR])
            .args(args);
        command.output().expect("wine")
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let _ = self.command("wineserver").arg("--kill").status();
    }
}

#[test]
fn the_windows_server_runs_under_wine_and_connects_a_call() {
    let wine = Wine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let office = dir.path().join("office.toml");
    std::fs::write(&office, config("", FAST_REGISTRAR)).expect("write office.toml");
    // Wine sees this machine's root as drive Z:.
    let office_on_z = format!("Z:{}", office.display()).replace('/', "\\");
    let imported = wine.server(&["config", "import", &office_on_z]);
    assert!(imported.status.success(), "{imported:?}");

    let mut command = wine.command("wine");
    command.arg(windows_exe());
    let server = Server::launch_command(command, DATA_DIR, &wine.data_dir());
    assert!(
        wine.data_dir().join("switchboard.db").is_file(),
        "the database is under {DATA_DIR}"
    );
    assert_eq!(server.health()["status"], "ok", "{}", server.health());
    sipp(&server, "options.xml", &["100".to_string()], &[]).expect(1, 0);

    let voices = audio::Voices::new(dir.path());
    let mut caller = Baresip::start(server.sip, PhoneSetup::pcmu("100", &voices.en, false));
    let callee = Baresip::start(server.sip, PhoneSetup::pcmu("101", &voices.ru, true));
    server.wait_metric("bindings", Duration::from_secs(20), |b| b == 2);
    caller.command("dial", &format!("sip:101@{}", server.sip));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(20));
    let records = baresip::talk_then_hang_up(&server, &voices, (caller, callee));
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].outcome.as_str(), "answered", "{records:#?}");
}

/// Waits up to a minute for `done` (the uninstaller goes on in the background).
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} within a minute"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_installer_sets_up_the_service_and_the_uninstaller_keeps_the_office_unless_purged() {
    require("makensis", "apt-get install nsis");
    let wine = Wine::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../installer/windows/build-installer");
    let built = Command::new(script)
        .args(["--binary", windows_exe().to_str().expect("utf-8")])
        .args(["--out", dir.path().to_str().expect("utf-8")])
        .output()
        .expect("build-installer");
    assert!(built.status.success(), "{built:?}");
    let setup = PathBuf::from(String::from_utf8_lossy(&built.stdout).trim());
    let install = || {
        let installed = wine
            .command("wine")
            .arg(&setup)
            .arg("/S")
            .output()
            .expect("setup");
        assert!(installed.status.success(), "{installed:?}");
    };
    let program_dir = wine.drive_c().join("Program Files/Switchboard");
    let reg = |key: &str| {
        let out = wine
            .command("wine")
            .args(["reg", "query", key])
            .output()
            .expect("reg");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let service_key = r"HKLM\System\CurrentControlSet\Services\Switchboard";
    let uninstall_key = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\Switchboard";

    install();
    assert!(program_dir.join("switchboard-server.exe").is_file());
    assert!(program_dir.join("Uninstall.exe").is_file());
    let service = reg(service_key);
    assert!(
        service.contains(
            r#""C:\Program Files\Switchboard\switchboard-server.exe" --data-dir "C:\ProgramData\Switchboard""#
        ) && service.contains(" service")
            && service.contains("0x2"),
        "a service that starts at boot: {service}"
    );
    assert!(reg(uninstall_key).contains("QuietUninstallString"));
    let menu = wine
        .drive_c()
        .join("ProgramData/Microsoft/Windows/Start Menu/Programs/Switchboard");
    assert!(
        menu.join("Switchboard admin panel.url").is_file(),
        "{}",
        menu.display()
    );

    // Wine's service manager runs services only while some Wine program runs, so the
    // test starts the installed program itself, on the service's data folder, with its
    // own ports; the service is stopped and left to be started by hand meanwhile.
    let sc = |args: &[&str]| {
        let _ = wine.command("wine").arg("sc").args(args).output();
    };
    sc(&["config", "Switchboard", "start=", "demand"]);
    sc(&["stop", "Switchboard"]);
    let mut command = wine.command("wine");
    command.arg(r"C:\Program Files\Switchboard\switchboard-server.exe");
    let server = Server::launch_command(command, DATA_DIR, &wine.data_dir());
    assert_eq!(server.health()["status"], "ok", "{}", server.health());
    sipp(&server, "options.xml", &["100".to_string()], &[]).expect(1, 0);
    drop(server);

    // Uninstalling keeps the office; /PURGE removes it.
    let uninstall = |args: &[&str]| {
        let done = wine
            .command("wine")
            .arg(program_dir.join("Uninstall.exe"))
            .args(args)
            .output()
            .expect("uninstall");
        assert!(done.status.success(), "{done:?}");
    };
    uninstall(&["/S"]);
    wait_until("the program removed", || !program_dir.exists());
    assert!(
        !reg(service_key).contains("ImagePath"),
        "the service is gone"
    );
    assert!(
        wine.data_dir().join("switchboard.db").is_file(),
        "the office is kept"
    );
    install();
    uninstall(&["/S", "/PURGE"]);
    wait_until("the office removed on /PURGE", || !wine.data_dir().exists());
}
