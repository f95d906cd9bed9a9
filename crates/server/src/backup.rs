//! A whole office in one file, taken while calls go on: a consistent copy of the
//! database (one read transaction, so what was committed when it began) and every file
//! beside it (prompts, greetings, voicemail, the certificate, configuration backups), as
//! a gzipped tar only Switchboard's user may read. Restoring unpacks it into a new data
//! directory; the copy's schema is brought up to date when it is opened, so a backup
//! from an older version restores into a newer one.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::{DATABASE_FILE, ServerError, files, open_store};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Store(#[from] switchboard_store::StoreError),
    #[error("{}: no office here (no {DATABASE_FILE})", .0.display())]
    NoOffice(PathBuf),
    #[error("{} is not empty; restore into a new or empty directory", .0.display())]
    NotEmpty(PathBuf),
    #[error("{} is not a Switchboard backup (it holds no {DATABASE_FILE})", .0.display())]
    NotABackup(PathBuf),
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.into(),
        source,
    }
}

/// What an office holds, told after a backup or a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    pub extensions: usize,
    pub calls: u64,
    pub voicemail: usize,
    /// Files beside the database.
    pub files: usize,
}

impl std::fmt::Display for Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{}, {} in the log, {}, {} beside the database",
            count(self.extensions as u64, "extension", "extensions"),
            count(self.calls, "call", "calls"),
            count(
                self.voicemail as u64,
                "voicemail message",
                "voicemail messages"
            ),
            count(self.files as u64, "file", "files"),
        )
    }
}

/// Writes the office in `data_dir` to `file` (replacing it whole, never half-written).
pub fn back_up(data_dir: &Path, file: &Path) -> Result<Contents, BackupError> {
    if !data_dir.join(DATABASE_FILE).is_file() {
        return Err(BackupError::NoOffice(data_dir.into()));
    }
    let store = open_store(data_dir)?;
    let snapshot = tempfile::Builder::new()
        .prefix(".backup-")
        .tempdir_in(data_dir)
        .map_err(at(data_dir))?;
    let copy = snapshot.path().join(DATABASE_FILE);
    store.copy_to(&copy)?;
    let mut contents = contents(&store, 0)?;
    drop(store);

    let part = file.with_extension("part");
    let beside = beside_the_database(data_dir, &[snapshot.path(), file, &part])?;
    let written = (|| {
        let out = files::private_file(&part)?;
        let mut tar = tar::Builder::new(GzEncoder::new(out, Compression::default()));
        tar.append_path_with_name(&copy, DATABASE_FILE)?;
        for name in &beside {
            tar.append_path_with_name(data_dir.join(name), name)?;
            contents.files += 1;
        }
        tar.into_inner()?.finish()?.sync_all()
    })();
    written
        .and_then(|()| std::fs::rename(&part, file))
        .map_err(|e| {
            let _ = std::fs::remove_file(&part);
            at(file)(e)
        })?;
    Ok(contents)
}

/// Unpacks `file` into `data_dir`, which must be absent or empty.
pub fn restore(file: &Path, data_dir: &Path) -> Result<Contents, BackupError> {
    let occupied = match std::fs::read_dir(data_dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(at(data_dir)(e)),
    };
    if occupied {
        return Err(BackupError::NotEmpty(data_dir.into()));
    }
    // Unpacked beside the target first, so a bad file leaves no half office behind.
    let parent = match data_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(at(&parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".restoring-")
        .tempdir_in(&parent)
        .map_err(at(&parent))?;
    let archive = File::open(file).map_err(at(file))?;
    // `unpack` refuses entries that would land outside the directory (`..`, absolute).
    tar::Archive::new(GzDecoder::new(archive))
        .unpack(staging.path())
        .map_err(at(file))?;
    if !staging.path().join(DATABASE_FILE).is_file() {
        return Err(BackupError::NotABackup(file.into()));
    }
    let files = beside_the_database(staging.path(), &[])?.len();
    let store = open_store(staging.path())?;
    let contents = contents(&store, files)?;
    drop(store);
    if data_dir.exists() {
        std::fs::remove_dir(data_dir).map_err(at(data_dir))?;
    }
    std::fs::rename(staging.keep(), data_dir).map_err(at(data_dir))?;
    Ok(contents)
}

fn contents(store: &switchboard_store::Store, files: usize) -> Result<Contents, BackupError> {
    Ok(Contents {
        extensions: store.extensions()?.len(),
        calls: store.call_counts_since(0)?.iter().map(|c| c.calls).sum(),
        voicemail: store.voicemail_messages()?.len(),
        files,
    })
}

/// Every file under `dir` but the live database and files being written, as paths
/// relative to `dir`, leaving out the paths in `skip` (the backup's own files when it is
/// written inside `dir`).
fn beside_the_database(dir: &Path, skip: &[&Path]) -> Result<Vec<PathBuf>, BackupError> {
    let root = dir.canonicalize().map_err(at(dir))?;
    // Compared once made absolute; one that does not exist yet cannot be listed either.
    let skip: Vec<PathBuf> = skip.iter().filter_map(|s| s.canonicalize().ok()).collect();
    let live = [
        DATABASE_FILE.to_string(),
        format!("{DATABASE_FILE}-wal"),
        format!("{DATABASE_FILE}-shm"),
    ];
    let mut found = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(at(&folder))? {
            let path = entry.map_err(at(&folder))?.path();
            if skip.contains(&path) {
                continue;
            }
            let kind = std::fs::symlink_metadata(&path).map_err(at(&path))?;
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file()
                && !(folder == root && live.iter().any(|l| path.ends_with(l)))
                && path.extension().is_none_or(|e| e != "part")
                && let Ok(relative) = path.strip_prefix(&root)
            {
                found.push(relative.to_path_buf());
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office(dir: &Path) {
        let mut store = open_store(dir).unwrap();
        crate::first_run::provision_if_empty(&mut store).unwrap();
        std::fs::create_dir_all(dir.join("voicemail/101")).unwrap();
        std::fs::write(dir.join("voicemail/101/1.wav"), b"RIFF message").unwrap();
        std::fs::write(dir.join("voicemail/101/2.part"), b"half written").unwrap();
    }

    #[test]
    fn a_backup_restores_the_same_office_into_a_new_directory() {
        let root = tempfile::tempdir().unwrap();
        let (data, file) = (root.path().join("office"), root.path().join("office.tgz"));
        office(&data);
        let taken = back_up(&data, &file).unwrap();
        assert!(taken.extensions > 0);
        assert_eq!(taken.files, 1, "the message, not the half-written file");

        let restored_dir = root.path().join("restored");
        let restored = restore(&file, &restored_dir).unwrap();
        assert_eq!(restored, taken);
        assert_eq!(
            std::fs::read(restored_dir.join("voicemail/101/1.wav")).unwrap(),
            b"RIFF message"
        );
        assert!(!restored_dir.join("voicemail/101/2.part").exists());
        let before = open_store(&data).unwrap().extensions().unwrap();
        let after = open_store(&restored_dir).unwrap().extensions().unwrap();
        assert_eq!(before, after);
    }

    #[cfg(unix)]
    #[test]
    fn the_backup_file_is_for_switchboards_user_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("office");
        office(&data);
        // Written inside the data directory itself: it does not swallow itself.
        let file = data.join("backup.tgz");
        let taken = back_up(&data, &file).unwrap();
        assert_eq!(taken.files, 1);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn restore_refuses_a_directory_in_use_and_a_file_that_is_not_a_backup() {
        let root = tempfile::tempdir().unwrap();
        let (data, file) = (root.path().join("office"), root.path().join("office.tgz"));
        office(&data);
        back_up(&data, &file).unwrap();
        assert!(matches!(
            restore(&file, &data),
            Err(BackupError::NotEmpty(_))
        ));

        let other = root.path().join("other.tgz");
        let mut tar = tar::Builder::new(GzEncoder::new(
            File::create(&other).unwrap(),
            Compression::default(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_cksum();
        tar.append_data(&mut header, "notes.txt", &b"hello"[..])
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        let target = root.path().join("fresh");
        assert!(matches!(
            restore(&other, &target),
            Err(BackupError::NotABackup(_))
        ));
        assert!(!target.exists(), "nothing left behind");
        assert!(matches!(
            back_up(&root.path().join("nothing"), &file),
            Err(BackupError::NoOffice(_))
        ));
    }
}
