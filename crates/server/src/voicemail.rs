//! Voicemail's files beside the database: `voicemail/<box>/<id>.wav` per message and
//! `voicemail/<box>/greeting.wav` for a box's own greeting. The store's row is what
//! makes a file a message; a file is complete before its row is written (written
//! aside, synced, then renamed), so a crash never leaves a row without its audio.

use std::io;
use std::path::{Path, PathBuf};

use switchboard_core::RecordInto;
use switchboard_media::message_recorder::Message;
use switchboard_media::recorder::{Layout, Recorder};

/// The directory under the data directory that holds the boxes.
pub const VOICEMAIL_DIR: &str = "voicemail";

#[derive(Debug, Clone)]
pub struct VoicemailFiles {
    root: PathBuf,
}

/// Where a message's audio lies, relative to the data directory.
pub fn message_path(mailbox: &str, id: i64) -> String {
    format!("{VOICEMAIL_DIR}/{mailbox}/{id}.wav")
}

/// Whether `mailbox` can name a box: an extension or queue number, never a path.
pub fn is_mailbox_name(mailbox: &str) -> bool {
    (1..=15).contains(&mailbox.len()) && mailbox.chars().all(|c| c.is_ascii_digit())
}

impl VoicemailFiles {
    pub fn new(data_dir: &Path) -> VoicemailFiles {
        VoicemailFiles {
            root: data_dir.join(VOICEMAIL_DIR),
        }
    }

    fn dir(&self, mailbox: &str) -> io::Result<PathBuf> {
        if !is_mailbox_name(mailbox) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{mailbox:?} is not a box number"),
            ));
        }
        Ok(self.root.join(mailbox))
    }

    pub fn message(&self, mailbox: &str, id: i64) -> io::Result<PathBuf> {
        Ok(self.dir(mailbox)?.join(format!("{id}.wav")))
    }

    pub fn greeting(&self, mailbox: &str) -> io::Result<PathBuf> {
        Ok(self.dir(mailbox)?.join("greeting.wav"))
    }

    /// Writes a recording as 16-bit mono WAV: a message, or the box's greeting.
    pub fn save(&self, into: &RecordInto, recorded: &Message) -> io::Result<()> {
        let path = match into {
            RecordInto::Message { mailbox, id } => self.message(mailbox, *id)?,
            RecordInto::Greeting { mailbox } => self.greeting(mailbox)?,
        };
        let mut wav = io::Cursor::new(Vec::new());
        let mut recorder =
            Recorder::new(&mut wav, recorded.rate, Layout::Mixed).map_err(io::Error::other)?;
        recorder
            .push(&recorded.samples, &[])
            .map_err(io::Error::other)?;
        recorder.finish().map_err(io::Error::other)?;
        crate::files::write_whole(&path, &wav.into_inner())
    }

    /// Replaces the box's greeting with `wav` (already checked to decode).
    pub fn save_greeting(&self, mailbox: &str, wav: &[u8]) -> io::Result<()> {
        crate::files::write_whole(&self.greeting(mailbox)?, wav)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_written_whole_and_box_names_are_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let files = VoicemailFiles::new(dir.path());
        let message = Message {
            rate: 8000,
            samples: vec![100; 8000],
        };
        let into = RecordInto::Message {
            mailbox: "101".into(),
            id: 7,
        };
        files.save(&into, &message).unwrap();
        let path = files.message("101", 7).unwrap();
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!((reader.spec().sample_rate, reader.duration()), (8000, 8000));
        assert!(!path.with_extension("part").exists());
        assert!(files.message("../101", 7).is_err());
        assert!(files.greeting("").is_err());
        crate::files::remove(&path).unwrap();
        crate::files::remove(&path).unwrap();
        assert!(!path.exists());
    }
}
