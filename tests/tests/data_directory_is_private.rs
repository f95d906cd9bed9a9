//! The data directory holds the extensions' HA1 hashes, which register a phone as well
//! as a password does: no other local user may read it. A fresh install creates it
//! private, and a directory an earlier version left open is tightened at start.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use switchboard_e2e::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn assert_private(data_dir: &Path) {
    assert_eq!(mode(data_dir), 0o700, "the data directory");
    for entry in std::fs::read_dir(data_dir).expect("read data dir") {
        let path = entry.expect("entry").path();
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
}

#[test]
fn a_new_data_directory_is_readable_by_switchboard_alone() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    assert!(server.data_dir().join("switchboard.db").exists());
    assert_private(server.data_dir());
}

#[test]
fn a_directory_left_open_is_tightened_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("data");
    import_config(&data_dir, &config("", FAST_REGISTRAR)).expect("import");
    let open = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    open(&data_dir, 0o755);
    open(&data_dir.join("switchboard.db"), 0o644);
    std::fs::create_dir_all(data_dir.join("voicemail")).expect("mkdir");
    open(&data_dir.join("voicemail"), 0o755);
    let server = Server::launch(&data_dir);
    assert_private(server.data_dir());
    assert_private(&server.data_dir().join("voicemail"));
}
