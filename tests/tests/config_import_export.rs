//! Admins and tests provision through one TOML file: a bad file is refused with the
//! field named and changes nothing; export and import round-trip without passwords.

use switchboard_e2e::*;

#[test]
fn first_run_creates_five_extensions_and_prints_how_to_register() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::launch(&dir.path().join("fresh"));
    for ext in ["100", "101", "102", "103", "104"] {
        assert!(
            server
                .stdout
                .lines()
                .any(|l| l.trim_start().starts_with(ext)),
            "{ext} in:\n{}",
            server.stdout
        );
    }
    assert!(
        server
            .stdout
            .contains(&format!("SIP server : {}", server.sip)),
        "{}",
        server.stdout
    );
    // A reception queue and a menu come with them, and the table says how to reach them.
    assert!(
        server
            .stdout
            .contains("600 for the Reception queue (agents 100, 101)"),
        "{}",
        server.stdout
    );
    let office = String::from_utf8(config_command(server.data_dir(), &["export"]).stdout).unwrap();
    assert!(office.contains("name = \"Main menu\""), "{office}");
    assert!(office.contains("number = \"500\""), "{office}");
    // Each printed password really registers its extension.
    let line = server
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("104"))
        .unwrap();
    let pass = line.split_whitespace().nth(1).unwrap().to_string();
    assert!(pass.len() >= 16);
    let run = sipp(
        &server,
        "register_auth.xml",
        &[format!("104;{pass};600")],
        &[],
    );
    run.expect(1, 0);
    // A second start prints no passwords: they are not kept.
    drop(server);
    let again = Server::launch(&dir.path().join("fresh"));
    assert!(!again.stdout.contains(&pass));
}

#[test]
fn bad_file_names_each_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_config(&data, &config("", FAST_REGISTRAR)).unwrap();
    let before = String::from_utf8(config_command(&data, &["export"]).stdout).unwrap();

    let bad = config("", FAST_REGISTRAR)
        .replace("min_expires = 10", "min_expires = 0")
        .replace(password("101"), "short");
    let err = import_config(&data, &bad).unwrap_err();
    assert!(
        err.contains("registrar.min_expires: must be at least 1 second"),
        "{err}"
    );
    assert!(
        err.contains("extensions[1].password: must be at least 10 characters"),
        "{err}"
    );
    let path = data.with_extension("toml");
    let status = config_command(&data, &["import", path.to_str().unwrap()]).status;
    assert_eq!(status.code(), Some(2));

    let after = String::from_utf8(config_command(&data, &["export"]).stdout).unwrap();
    assert_eq!(before, after);
}

#[test]
fn export_round_trips_and_never_contains_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_config(&data, &config("", FAST_REGISTRAR)).unwrap();
    let exported = String::from_utf8(config_command(&data, &["export"]).stdout).unwrap();
    assert!(!exported.contains(password("100")));
    assert!(exported.contains("ha1_md5"));
    let other = dir.path().join("other");
    import_config(&other, &exported).unwrap();
    // The copy authenticates with the original passwords.
    let server = Server::launch(&other);
    let run = sipp(
        &server,
        "register_auth.xml",
        &[format!("103;{};600", password("103"))],
        &[],
    );
    assert_eq!(run.successful, 1, "{}", run.log);
}

#[test]
fn sighup_picks_up_an_import_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_config(&data, &config("", FAST_REGISTRAR)).unwrap();
    let server = Server::launch(&data);
    let new_config = config("", FAST_REGISTRAR).replace(password("100"), "a-brand-new-password");
    import_config(&data, &new_config).unwrap();
    server.hangup();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let run = sipp(
        &server,
        "register_auth.xml",
        &["100;a-brand-new-password;600".to_string()],
        &[],
    );
    assert_eq!(run.successful, 1, "{}", run.log);
    let old = sipp(
        &server,
        "register_rejected.xml",
        &[format!("100;{}", password("100"))],
        &[],
    );
    assert_eq!(
        old.successful, 1,
        "the old password is refused: {}",
        old.log
    );
}

#[test]
fn a_partial_file_keeps_what_it_does_not_mention_and_the_old_one_is_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_config(&data, &config("", FAST_REGISTRAR)).unwrap();
    let before = String::from_utf8(config_command(&data, &["export"]).stdout).unwrap();
    // A file with only one setting: every extension stays.
    import_config(&data, "[registrar]\nmin_expires = 30\n").unwrap();
    let after = String::from_utf8(config_command(&data, &["export"]).stdout).unwrap();
    assert!(after.contains("min_expires = 30"), "{after}");
    assert_eq!(after.matches("[[extensions]]").count(), 4, "{after}");
    assert_eq!(
        before.replace("min_expires = 10", "min_expires = 30"),
        after
    );
    // What it replaced is in a backup only Switchboard's user can read.
    let backups: Vec<_> = std::fs::read_dir(data.join("backups"))
        .expect("a backups folder")
        .map(|e| e.expect("entry").path())
        .collect();
    let last = backups.iter().max().expect("a backup");
    assert_eq!(std::fs::read_to_string(last).unwrap(), before);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(last).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Only an explicit full replace drops what the file leaves out.
    let path = dir.path().join("only-registrar.toml");
    std::fs::write(&path, "[registrar]\nmin_expires = 30\n").unwrap();
    let replaced = config_command(&data, &["import", "--replace", path.to_str().unwrap()]);
    assert!(replaced.status.success());
    let after = String::from_utf8(config_command(&data, &["export"]).stdout).unwrap();
    assert_eq!(after.matches("[[extensions]]").count(), 0, "{after}");
}
