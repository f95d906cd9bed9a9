//! Call recordings beside the database: `recordings/<started>-<call>.opus`, one per
//! recorded call, written while the call is talked by a thread of its own (never the
//! media thread), stopped when the disk runs low, and removed once older than the
//! office keeps them.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime};

use switchboard_media::call_recording::{CallRecording, Heard};

use crate::metrics::Metrics;

/// The directory under the data directory that holds the recordings.
pub const RECORDINGS_DIR: &str = "recordings";
/// Packets a recording's thread may fall behind by before newer ones are dropped
/// (ten seconds of both legs): a stalled disk never holds up the call's audio.
const BACKLOG: usize = 1000;
/// How often a recording writes what is due even when nobody speaks.
const TICK: Duration = Duration::from_millis(200);
/// How often a recording looks at the disk's free space.
const DISK_CHECK: Duration = Duration::from_secs(5);

/// Where recordings lie: names to paths, never anywhere else.
#[derive(Debug, Clone)]
pub struct RecordingFolder {
    root: PathBuf,
}

/// Recordings being made: the folder, and the free space they must leave on its disk.
#[derive(Debug, Clone)]
pub struct Recordings {
    folder: RecordingFolder,
    /// Bytes; below this no recording starts and those going on stop.
    min_free: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
}

/// What a call's media task hands its recording: what the legs say.
pub type RecordingFeed = mpsc::SyncSender<Heard>;

impl RecordingFolder {
    pub fn new(data_dir: &Path) -> RecordingFolder {
        RecordingFolder {
            root: data_dir.join(RECORDINGS_DIR),
        }
    }

    /// Where recording `name` lies, if `name` can be one (never a path elsewhere).
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        let fits = name.len() <= 64
            && name.ends_with(".opus")
            && name
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '.' || c.is_ascii_lowercase())
            && !name.starts_with('.');
        fits.then(|| self.root.join(name))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).is_some_and(|p| p.is_file())
    }

    /// Removes recordings last written more than `days` ago; returns their names.
    pub fn remove_older_than(&self, days: u32, now: SystemTime) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let keep = Duration::from_secs(u64::from(days) * 86_400);
        let mut removed = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|at| now.duration_since(at).is_ok_and(|age| age > keep));
            if old && self.path(&name).is_some() && std::fs::remove_file(entry.path()).is_ok() {
                removed.push(name);
            }
        }
        removed
    }
}

impl Recordings {
    pub fn new(folder: RecordingFolder, metrics: Arc<Metrics>) -> Recordings {
        Recordings {
            folder,
            min_free: Arc::new(AtomicU64::new(
                u64::from(crate::config::RecordingSettings::default().min_free_mb) << 20,
            )),
            metrics,
        }
    }

    pub fn folder(&self) -> &RecordingFolder {
        &self.folder
    }

    /// The free space (MB) recordings leave on the disk.
    pub fn set_min_free_mb(&self, mb: u32) {
        self.min_free.store(u64::from(mb) << 20, Ordering::Relaxed);
    }

    /// Starts writing recording `name` on a thread of its own; it is complete once the
    /// feed is dropped (the call closed). Refused while the disk is low.
    pub fn start(&self, name: &str) -> io::Result<RecordingFeed> {
        let path = self
            .folder
            .path(name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a recording name"))?;
        // Inside the data directory, which only Switchboard's user may open.
        std::fs::create_dir_all(&self.folder.root)?;
        if !self.disk_has_room() {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "the disk is low",
            ));
        }
        // Written straight to the file, page by page: a kill loses only the page being
        // filled (a second at most).
        let file = crate::files::open_private(&path)?;
        let recording =
            CallRecording::new(Instant::now(), file, rand::random()).map_err(io::Error::other)?;
        let (feed, heard) = mpsc::sync_channel(BACKLOG);
        let guard = self.clone();
        std::thread::Builder::new()
            .name("recording".into())
            .spawn(move || write(recording, heard, &path, &guard))?;
        Ok(feed)
    }

    /// Whether the recordings' disk has the free space they must leave; says so on the
    /// wallboard (and clears it) as it changes.
    fn disk_has_room(&self) -> bool {
        let need = self.min_free.load(Ordering::Relaxed);
        // A disk whose space cannot be read is not held against the call.
        let free = fs4::available_space(&self.folder.root).unwrap_or(u64::MAX);
        let room = free >= need;
        let alert = (!room).then(|| {
            format!(
                "Recording stopped: {} MB free on the recordings' disk, {} MB to be left free",
                free >> 20,
                need >> 20
            )
        });
        if self.metrics.set_recording_alert(alert.clone()) {
            match alert {
                Some(a) => tracing::error!("{a}"),
                None => tracing::info!("the recordings' disk has room again"),
            }
        }
        room
    }
}

/// How often recordings past the office's retention are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Removes recordings older than the office keeps them (`[recording] keep_days`, read
/// afresh each time, with the free space to leave), at start and then hourly; the call
/// log stops naming them.
pub async fn keep_within_retention(
    recordings: Recordings,
    data_dir: PathBuf,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (recordings, data_dir) = (recordings.clone(), data_dir.clone());
        let swept = tokio::task::spawn_blocking(move || {
            let mut store = switchboard_store::Store::open(&data_dir.join(crate::DATABASE_FILE))
                .map_err(|e| e.to_string())?;
            let settings = crate::config::Config::recording(&store).map_err(|e| e.to_string())?;
            recordings.set_min_free_mb(settings.min_free_mb);
            let removed = recordings
                .folder()
                .remove_older_than(settings.keep_days, SystemTime::now());
            store
                .forget_recordings(&removed)
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(removed.len())
        })
        .await;
        match swept {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!("{n} recordings past the office's retention removed"),
            Ok(Err(e)) => tracing::error!("recordings past retention not removed: {e}"),
            Err(e) => tracing::error!("recordings past retention not removed: {e}"),
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

fn write(
    mut recording: CallRecording<std::fs::File>,
    heard: mpsc::Receiver<Heard>,
    path: &Path,
    guard: &Recordings,
) {
    let mut checked = Instant::now();
    let result = loop {
        if checked.elapsed() >= DISK_CHECK {
            checked = Instant::now();
            // The part recorded so far is kept whole; the call goes on unrecorded.
            if !guard.disk_has_room() {
                break recording.finish().map(drop);
            }
        }
        let done = match heard.recv_timeout(TICK) {
            Ok(h) => recording.push(&h),
            Err(mpsc::RecvTimeoutError::Timeout) => recording.handle_timeout(Instant::now()),
            Err(mpsc::RecvTimeoutError::Disconnected) => break recording.finish().map(drop),
        };
        if let Err(e) = done {
            break Err(e);
        }
    };
    if let Err(e) = result {
        tracing::error!("recording {} stopped: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_of_recordings_are_paths_in_the_folder() {
        let r = RecordingFolder::new(Path::new("/data"));
        assert_eq!(
            r.path("1700000000000-7.opus"),
            Some(PathBuf::from("/data/recordings/1700000000000-7.opus"))
        );
        for bad in [
            "../switchboard.db",
            "a/b.opus",
            "x.wav",
            ".opus",
            "/etc/passwd.opus",
        ] {
            assert_eq!(r.path(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_recordings_past_retention_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let r = RecordingFolder::new(dir.path());
        let folder = dir.path().join(RECORDINGS_DIR);
        std::fs::create_dir_all(&folder).unwrap();
        let now = SystemTime::now();
        for (name, days) in [("1-1.opus", 100), ("2-2.opus", 10), ("notes.txt", 100)] {
            let file = std::fs::File::create(folder.join(name)).unwrap();
            file.set_modified(now - Duration::from_secs(days * 86_400))
                .unwrap();
        }
        assert_eq!(r.remove_older_than(90, now), ["1-1.opus"]);
        assert!(r.exists("2-2.opus"));
        assert!(
            folder.join("notes.txt").exists(),
            "not a recording: left alone"
        );
    }
}
