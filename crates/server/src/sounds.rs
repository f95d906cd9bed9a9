//! The sounds Switchboard ships, built into the binary so a fresh install needs no
//! files beside it; decoded once at start by the media toolkit.

use switchboard_media::prompt::{Prompt, PromptError};

/// Music on hold as the calls' 8-kHz codecs play it.
#[derive(Debug, Clone)]
pub struct Sounds {
    pub hold_music: Prompt,
}

impl Sounds {
    pub fn load() -> Result<Sounds, PromptError> {
        let hold = include_bytes!("../../../sounds/music/hold.wav");
        Ok(Sounds {
            hold_music: Prompt::decode(hold.to_vec(), 8000)?,
        })
    }
}
