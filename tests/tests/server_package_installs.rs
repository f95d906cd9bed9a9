//! The headless server's Debian package, installed on this machine as an office's admin
//! would: dpkg puts the files in place and makes the service's own user and a private
//! data folder; the systemd unit passes `systemd-analyze verify`; the unit's command
//! runs as that user and answers SIP OPTIONS and `/health`; `first-run-info` shows the
//! passwords the first start made, and a phone registers with one and leaves a message;
//! an upgrade keeps the call log and the voicemail; purging removes the data and the user.
//!
//! What this machine cannot show: systemd is not the init system here, so the unit is
//! verified and its command started by hand as its user (`setpriv`), not by systemctl;
//! its capability to bind port 5060 is not exercised (the test takes free ports). The
//! package holds the debug binary the other tests use; a release package differs only in
//! the binary (`installer/linux/build-server-deb` builds one without `--binary`).
//! The upgrade is between two versions of this commit's package: the database migrations
//! themselves are tested in the store crate.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use switchboard_e2e::baresip::{self, Baresip, PhoneSetup};
use switchboard_e2e::*;

const DATA: &str = "/var/lib/switchboard";
const BINARY: &str = "/usr/bin/switchboard-server";
const UNIT: &str = "/lib/systemd/system/switchboard.service";

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

#[track_caller]
fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn build_package(version: &str, out: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../installer/linux/build-server-deb");
    let built = Command::new(script)
        .args(["--binary", server_binary().to_str().expect("utf-8")])
        .args(["--version", version, "--out", out.to_str().expect("utf-8")])
        .arg("--fast")
        .output()
        .expect("run build-server-deb");
    PathBuf::from(ok(built, "build-server-deb").trim())
}

fn uid_of(user: &str) -> Option<u32> {
    let found = run("id", &["-u", user]);
    found
        .status
        .success()
        .then(|| String::from_utf8_lossy(&found.stdout).trim().parse().ok())
        .flatten()
}

/// `first-run-info`'s password for `extension` (`  100        <password>`) or the admin's.
fn password_in(info: &str, extension: &str) -> String {
    info.lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(extension))
                .then(|| words.next())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no password for {extension} in:\n{info}"))
        .to_string()
}

fn admin_password_in(info: &str) -> String {
    info.split("password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no admin password in:\n{info}"))
        .to_string()
}

/// Calls in the log and voicemail messages, asked of the running server as the admin.
fn office_history(server: &Server, token: &str) -> (Vec<String>, usize) {
    let (status, calls) = server.api(Some(token), "GET", "/api/calls", None);
    assert_eq!(status, 200, "{calls}");
    let reasons = calls
        .as_array()
        .expect("a list of calls")
        .iter()
        .map(|c| c["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    let (status, messages) = server.api(Some(token), "GET", "/voicemail/101/messages", None);
    assert_eq!(status, 200, "{messages}");
    (reasons, messages.as_array().map_or(0, Vec::len))
}

#[test]
fn the_server_package_installs_runs_as_its_user_upgrades_and_purges() {
    assert_eq!(
        effective_uid(),
        0,
        "installing a package needs root (CI runs as root)"
    );
    require("dpkg-deb", "apt-get install dpkg");
    require("systemd-analyze", "apt-get install systemd");
    let dir = tempfile::tempdir().expect("tempdir");
    let old = build_package("0.1.0~older", dir.path());
    let new = build_package("0.1.0", dir.path());
    // A package left by an interrupted run goes first.
    let _ = run("dpkg", &["--purge", "switchboard-server"]);

    ok(run("dpkg", &["-i", old.to_str().unwrap()]), "dpkg -i");
    for file in [BINARY, UNIT, "/etc/default/switchboard"] {
        assert!(Path::new(file).is_file(), "{file} installed");
    }
    let uid = uid_of("switchboard").expect("the package made the user switchboard");
    let data = std::fs::metadata(DATA).expect("the data folder");
    assert_eq!(
        (data.uid(), data.permissions().mode() & 0o777),
        (uid, 0o700),
        "{DATA} belongs to switchboard alone"
    );
    let verify = run("systemd-analyze", &["verify", UNIT]);
    let complaints = String::from_utf8_lossy(&verify.stderr).into_owned();
    assert!(
        verify.status.success() && !complaints.contains("switchboard"),
        "systemd-analyze verify: {complaints}"
    );

    // The unit's command, with the package's settings, as its user.
    let mut server = Server::launch_as("switchboard", Path::new(BINARY), Path::new(DATA));
    sipp(&server, "options.xml", &["100".to_string()], &[]).expect(1, 0);
    assert_eq!(server.health()["status"], "ok", "{}", server.health());
    let info = ok(
        run(BINARY, &["--data-dir", DATA, "first-run-info"]),
        "first-run-info",
    );
    let database = std::fs::metadata(Path::new(DATA).join("switchboard.db")).expect("db");
    assert_eq!(
        (database.uid(), database.permissions().mode() & 0o777),
        (uid, 0o600)
    );

    // A phone with its first-run password leaves 101 a message (*101).
    let (_, microphone) = baresip::message_after_greeting(dir.path(), 4);
    let mut phone = Baresip::start_with_password(
        server.sip,
        PhoneSetup::pcmu("100", &microphone, false),
        &password_in(&info, "100"),
    );
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 1);
    baresip::leave_message(&mut phone, server.sip, "101");
    drop(phone);
    let token = server.admin_login(&admin_password_in(&info));
    let before = office_history(&server, &token);
    assert_eq!(before.1, 1, "one message left: {before:?}");
    assert!(!before.0.is_empty(), "the call is in the log");
    assert!(server.stop().success(), "clean exit on SIGTERM");

    // The upgrade keeps the office.
    ok(run("dpkg", &["-i", new.to_str().unwrap()]), "upgrade");
    let version = ok(
        run("dpkg-query", &["-W", "-f=${Version}", "switchboard-server"]),
        "dpkg-query",
    );
    assert_eq!(version, "0.1.0");
    let server = Server::launch_as("switchboard", Path::new(BINARY), Path::new(DATA));
    let token = server.admin_login(&admin_password_in(&info));
    assert_eq!(
        office_history(&server, &token),
        before,
        "kept across the upgrade"
    );
    drop(server);

    // Removing keeps the data; purging removes it and the user.
    ok(run("dpkg", &["--remove", "switchboard-server"]), "remove");
    assert!(!Path::new(BINARY).exists());
    assert!(
        Path::new(DATA).join("switchboard.db").exists(),
        "kept on remove"
    );
    ok(run("dpkg", &["--purge", "switchboard-server"]), "purge");
    assert!(!Path::new(DATA).exists(), "purge removes the data");
    assert_eq!(uid_of("switchboard"), None, "purge removes the user");
}

/// This process's effective user id, read from `id -u`.
fn effective_uid() -> u32 {
    String::from_utf8_lossy(&run("id", &["-u"]).stdout)
        .trim()
        .parse()
        .expect("a user id")
}
