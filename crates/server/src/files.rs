//! Files beside the database (voicemail, greetings, prompts), written so that a reader
//! sees the old file or the whole new one, never half of it.

use std::io;
use std::path::Path;

/// Writes `bytes` to `path` aside, syncs them, then renames them into place.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let part = path.with_extension("part");
    {
        let mut file = private_file(&part)?;
        io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&part, path)
}

/// Creates or empties `path`, for Switchboard's user alone even if it was left open.
pub fn private_file(path: &Path) -> io::Result<std::fs::File> {
    let file = private_options().truncate(true).open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Opening options for a file only Switchboard's user may read (0600 on Unix; on
/// Windows the data folder's permissions apply).
fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Creates `path` empty for Switchboard's user alone, unless it exists.
pub fn create_private(path: &Path) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    private_options().open(path).map(drop)
}

/// Creates `path` (emptied if it was there) for Switchboard's user alone, to write.
pub fn open_private(path: &Path) -> io::Result<std::fs::File> {
    private_options().truncate(true).open(path)
}

/// Makes `dir` and everything below it private to Switchboard's user (folders 0700,
/// files 0600), tightening what an earlier version left open.
pub fn keep_private(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                keep_private(&entry.path())?;
            } else if kind.is_file() {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes a file if it is there.
pub fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
