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
        let mut file = std::fs::File::create(&part)?;
        io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&part, path)
}

/// Removes a file if it is there.
pub fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
