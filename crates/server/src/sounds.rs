//! The sounds Switchboard ships, built into the binary so a fresh install needs no
//! files beside it; decoded once at start by the media toolkit.

use switchboard_core::Announcement;
use switchboard_media::prompt::{Prompt, PromptError};

/// Languages the built-in prompts are recorded in (see sounds/manifest.toml).
pub const LANGUAGES: [&str; 3] = ["en", "pl", "ru"];

/// Music on hold and the office's announcements, as the calls' 8-kHz codecs play them.
#[derive(Debug, Clone)]
pub struct Sounds {
    pub hold_music: Prompt,
    busy: Prompt,
    unavailable: Prompt,
    no_such_number: Prompt,
}

macro_rules! prompt {
    ($language:expr, $name:literal) => {
        match $language {
            "pl" => &include_bytes!(concat!("../../../sounds/pl/", $name, ".wav"))[..],
            "ru" => &include_bytes!(concat!("../../../sounds/ru/", $name, ".wav"))[..],
            _ => &include_bytes!(concat!("../../../sounds/en/", $name, ".wav"))[..],
        }
    };
}

impl Sounds {
    /// The prompts in `language` (one of [`LANGUAGES`]; others fall back to English).
    pub fn load(language: &str) -> Result<Sounds, PromptError> {
        let decode = |bytes: &[u8]| Prompt::decode(bytes.to_vec(), 8000);
        Ok(Sounds {
            hold_music: decode(include_bytes!("../../../sounds/music/hold.wav"))?,
            busy: decode(prompt!(language, "busy"))?,
            unavailable: decode(prompt!(language, "unavailable"))?,
            no_such_number: decode(prompt!(language, "no_such_number"))?,
        })
    }

    pub fn announcement(&self, what: Announcement) -> &Prompt {
        match what {
            Announcement::Busy => &self.busy,
            Announcement::Unavailable => &self.unavailable,
            Announcement::NoSuchNumber => &self.no_such_number,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_loads_its_own_prompts() {
        let english = Sounds::load("en").unwrap();
        for language in LANGUAGES {
            let sounds = Sounds::load(language).unwrap();
            for what in [
                Announcement::Busy,
                Announcement::Unavailable,
                Announcement::NoSuchNumber,
            ] {
                assert!(
                    sounds.announcement(what).duration_ms() > 2000,
                    "{language} {what:?}"
                );
            }
            if language != "en" {
                assert_ne!(sounds.busy.samples, english.busy.samples, "{language}");
            }
        }
    }
}
