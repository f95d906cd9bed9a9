//! The sounds Switchboard ships, built into the binary so a fresh install needs no
//! files beside it; decoded once at start by the media toolkit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_core::{Announcement, Sound, Word};
use switchboard_media::conference::MIX_RATE;
use switchboard_media::playback::Backdrops;
use switchboard_media::prompt::{Prompt, PromptError};
use switchboard_media::tones::{Tone, ToneGenerator, ToneRegion, ToneSpec};

/// A language the built-in prompts are recorded in (see sounds/manifest.toml), by its
/// ISO 639-1 code.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Pl,
    Ru,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Pl, Language::Ru];
}

/// Prompts a scenario may play by name without the office uploading its own.
pub const SCENARIO_PROMPTS: [&str; 6] = [
    "welcome",
    "closed",
    "holiday",
    "enter_extension",
    "invalid_choice",
    "goodbye",
];

/// The pause between words said one after another.
const WORD_PAUSE_MS: usize = 150;

/// Music on hold and the office's announcements, as the calls' 8-kHz codecs play them.
#[derive(Debug, Clone)]
pub struct Sounds {
    pub hold_music: Prompt,
    /// One cycle of the ringing tone (Europe's 425 Hz, 1 s on, 4 s off), to loop.
    pub ringback: Prompt,
    /// Music and ringback at a conference room's mixing rate, for those it puts aside.
    pub room_backdrops: Backdrops,
    busy: Prompt,
    unavailable: Prompt,
    no_such_number: Prompt,
    blocked: Prompt,
    not_allowed: Prompt,
    queue_position: Prompt,
    queue_wait: Prompt,
    queue_wait_short: Prompt,
    more_than: Prompt,
    queue_comfort: Prompt,
    queue_whisper: Prompt,
    queue_waited: Prompt,
    queue_callback: Prompt,
    queue_callback_offer: Prompt,
    queue_hold: Prompt,
    queue_vip_warning: Prompt,
    transfer_to: Prompt,
    transfer_refused: Prompt,
    /// A call's recording started or went on: one beep; paused: two.
    recording_on: Prompt,
    recording_paused: Prompt,
    recording_refused: Prompt,
    call_recorded: Prompt,
    agent_logged_in: Prompt,
    agent_logged_out: Prompt,
    agent_on_break: Prompt,
    agent_back: Prompt,
    /// 0 to 19 and the tens to 60.
    numbers: BTreeMap<u32, Prompt>,
    /// [`SCENARIO_PROMPTS`] and voicemail's prompts by name.
    scenario: BTreeMap<&'static str, Prompt>,
    /// Where the office's own prompts are: `<name>.wav`, any rate, mono or stereo.
    uploads: Option<PathBuf>,
    /// Where boxes keep their own greetings.
    voicemail: Option<crate::voicemail::VoicemailFiles>,
}

/// The greeting of a box that has none of its own.
const DEFAULT_GREETING: &str = "vm_greeting";

/// The directory under the data directory that holds the office's own prompts.
pub const UPLOADS_DIR: &str = "prompts";

/// Whether `name` can name an uploaded prompt: a plain file name, never a path.
pub fn is_prompt_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

macro_rules! prompt {
    ($language:expr, $name:literal) => {
        match $language {
            Language::Pl => &include_bytes!(concat!("../../../sounds/pl/", $name, ".wav"))[..],
            Language::Ru => &include_bytes!(concat!("../../../sounds/ru/", $name, ".wav"))[..],
            Language::En => &include_bytes!(concat!("../../../sounds/en/", $name, ".wav"))[..],
        }
    };
}

/// The numbers recorded: 0 to 19 and the tens; the rest are tens then units.
macro_rules! numbers {
    ($language:literal) => {
        numbers!(@ $language; 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            19, 20, 30, 40, 50, 60)
    };
    (@ $language:literal; $($n:literal),*) => {
        [$(($n, &include_bytes!(concat!("../../../sounds/", $language, "/numbers/", $n,
            ".wav"))[..])),*]
    };
}

/// One whole cadence of `spec` at `rate`, so that looping it repeats the tone.
fn tone_cycle(spec: ToneSpec, rate: u32) -> Prompt {
    let ms: u32 = spec.cadence.iter().map(|(on, off)| on + off).sum();
    let mut samples = vec![0i16; (ms * rate / 1000) as usize];
    ToneGenerator::new(spec, rate).fill(&mut samples);
    Prompt {
        rate,
        samples: samples.into(),
    }
}

impl Sounds {
    /// The prompts in `language`.
    pub fn load(language: Language) -> Result<Sounds, PromptError> {
        let decode = |bytes: &[u8]| Prompt::decode(bytes.to_vec(), 8000);
        let music = include_bytes!("../../../sounds/music/hold.wav");
        let ringing = ToneRegion::Europe.spec(Tone::Ringback);
        Ok(Sounds {
            hold_music: decode(music)?,
            ringback: tone_cycle(ringing, 8000),
            room_backdrops: Backdrops {
                music: Prompt::decode(music.to_vec(), MIX_RATE)?,
                ringback: tone_cycle(ringing, MIX_RATE),
            },
            busy: decode(prompt!(language, "busy"))?,
            unavailable: decode(prompt!(language, "unavailable"))?,
            no_such_number: decode(prompt!(language, "no_such_number"))?,
            blocked: decode(prompt!(language, "blocked"))?,
            not_allowed: decode(prompt!(language, "not_allowed"))?,
            queue_position: decode(prompt!(language, "queue_position"))?,
            queue_wait: decode(prompt!(language, "queue_wait"))?,
            queue_wait_short: decode(prompt!(language, "queue_wait_short"))?,
            more_than: decode(prompt!(language, "more_than"))?,
            queue_comfort: decode(prompt!(language, "queue_comfort"))?,
            queue_whisper: decode(prompt!(language, "queue_whisper"))?,
            queue_waited: decode(prompt!(language, "queue_waited"))?,
            queue_callback: decode(prompt!(language, "queue_callback"))?,
            queue_callback_offer: decode(prompt!(language, "queue_callback_offer"))?,
            queue_hold: decode(prompt!(language, "queue_hold"))?,
            queue_vip_warning: decode(prompt!(language, "queue_vip_warning"))?,
            transfer_to: decode(prompt!(language, "transfer_to"))?,
            transfer_refused: decode(prompt!(language, "transfer_refused"))?,
            recording_on: beeps(8000, 1, 300),
            recording_paused: beeps(8000, 2, 150),
            recording_refused: decode(prompt!(language, "recording_refused"))?,
            call_recorded: decode(prompt!(language, "call_recorded"))?,
            agent_logged_in: decode(prompt!(language, "agent_logged_in"))?,
            agent_logged_out: decode(prompt!(language, "agent_logged_out"))?,
            agent_on_break: decode(prompt!(language, "agent_on_break"))?,
            agent_back: decode(prompt!(language, "agent_back"))?,
            numbers: match language {
                Language::Pl => numbers!("pl").to_vec(),
                Language::Ru => numbers!("ru").to_vec(),
                Language::En => numbers!("en").to_vec(),
            }
            .into_iter()
            .map(|(n, bytes)| Ok((n, decode(bytes)?)))
            .collect::<Result<_, PromptError>>()?,
            scenario: [
                ("welcome", prompt!(language, "welcome")),
                ("closed", prompt!(language, "closed")),
                ("holiday", prompt!(language, "holiday")),
                ("enter_extension", prompt!(language, "enter_extension")),
                ("invalid_choice", prompt!(language, "invalid_choice")),
                ("goodbye", prompt!(language, "goodbye")),
                (DEFAULT_GREETING, prompt!(language, "vm_greeting")),
                ("vm_saved", prompt!(language, "vm_saved")),
                ("vm_enter_pin", prompt!(language, "vm_enter_pin")),
                ("vm_wrong_pin", prompt!(language, "vm_wrong_pin")),
                ("vm_new_messages", prompt!(language, "vm_new_messages")),
                ("vm_old_messages", prompt!(language, "vm_old_messages")),
                ("vm_message_menu", prompt!(language, "vm_message_menu")),
                ("vm_deleted", prompt!(language, "vm_deleted")),
                (
                    "vm_no_more_messages",
                    prompt!(language, "vm_no_more_messages"),
                ),
                (
                    "vm_greeting_option",
                    prompt!(language, "vm_greeting_option"),
                ),
                (
                    "vm_record_greeting",
                    prompt!(language, "vm_record_greeting"),
                ),
                ("vm_greeting_saved", prompt!(language, "vm_greeting_saved")),
                ("vm_greeting_kept", prompt!(language, "vm_greeting_kept")),
                ("conf_enter_pin", prompt!(language, "conf_enter_pin")),
                ("conf_alone", prompt!(language, "conf_alone")),
                ("conf_full", prompt!(language, "conf_full")),
            ]
            .into_iter()
            .map(|(name, bytes)| Ok((name, decode(bytes)?)))
            .collect::<Result<_, PromptError>>()?,
            uploads: None,
            voicemail: None,
        })
    }

    /// Looks for the office's own prompts in `dir` too.
    pub fn with_uploads(mut self, dir: &Path) -> Sounds {
        self.uploads = Some(dir.to_path_buf());
        self
    }

    /// Looks for boxes' own greetings in `files`.
    pub fn with_voicemail(mut self, files: crate::voicemail::VoicemailFiles) -> Sounds {
        self.voicemail = Some(files);
        self
    }

    /// `sounds` one after another, as one prompt.
    pub fn playlist(&self, sounds: &[Sound]) -> Prompt {
        let parts: Vec<Prompt> = sounds
            .iter()
            .map(|sound| match sound {
                Sound::Named(name) => self.named(name),
                Sound::Greeting { mailbox } => self.greeting(mailbox),
                Sound::Beep => beep(self.hold_music.rate),
                Sound::Message { mailbox, id } => self.message(mailbox, *id),
                Sound::Word(word) => self.say(&[*word]),
            })
            .collect();
        Prompt {
            rate: self.hold_music.rate,
            samples: parts
                .iter()
                .flat_map(|p| p.samples.iter().copied())
                .collect(),
        }
    }

    /// A message left in a box; a tone where it cannot be read.
    fn message(&self, mailbox: &str, id: i64) -> Prompt {
        let read = self
            .voicemail
            .as_ref()
            .ok_or_else(|| "no voicemail directory".to_string())
            .and_then(|files| files.message(mailbox, id).map_err(|e| e.to_string()))
            .and_then(|path| std::fs::read(path).map_err(|e| e.to_string()))
            .and_then(|bytes| {
                Prompt::decode(bytes, self.hold_music.rate).map_err(|e| e.to_string())
            });
        read.unwrap_or_else(|e| {
            tracing::warn!("box {mailbox}: message {id} cannot be played, a tone instead: {e}");
            fallback_tone(self.hold_music.rate)
        })
    }

    /// A box's own greeting, else the built-in one.
    fn greeting(&self, mailbox: &str) -> Prompt {
        let own = self
            .voicemail
            .as_ref()
            .and_then(|files| files.greeting(mailbox).ok())
            .and_then(|path| std::fs::read(path).ok())
            .map(|bytes| Prompt::decode(bytes, self.hold_music.rate));
        match own {
            Some(Ok(prompt)) => prompt,
            Some(Err(e)) => {
                tracing::warn!(
                    "box {mailbox}'s greeting cannot be played, the built-in one instead: {e}"
                );
                self.named(DEFAULT_GREETING)
            }
            None => self.named(DEFAULT_GREETING),
        }
    }

    /// The prompt a scenario names: built-in, or the office's own file, read when it is
    /// played so a replaced file is heard at once. One that is missing or unreadable
    /// plays a fallback tone, and the log says why: the caller is never left in silence.
    pub fn named(&self, name: &str) -> Prompt {
        if let Some(prompt) = self.scenario.get(name) {
            return prompt.clone();
        }
        let file = self
            .uploads
            .as_ref()
            .filter(|_| is_prompt_name(name))
            .map(|dir| dir.join(format!("{name}.wav")));
        let read = match &file {
            Some(file) => std::fs::read(file)
                .map_err(|e| e.to_string())
                .and_then(|bytes| Prompt::decode(bytes, 8000).map_err(|e| e.to_string())),
            None => Err("no such built-in prompt".to_string()),
        };
        read.unwrap_or_else(|e| {
            tracing::warn!("prompt {name:?} ({file:?}) cannot be played, a tone instead: {e}");
            fallback_tone(self.hold_music.rate)
        })
    }

    /// `words` said one after another, as one prompt: each word's voice, a short
    /// pause between them.
    pub fn say(&self, words: &[Word]) -> Prompt {
        let pause = self.hold_music.rate as usize * WORD_PAUSE_MS / 1000;
        let mut samples: Vec<i16> = Vec::new();
        for word in words {
            for prompt in self.prompts_for(*word) {
                if !samples.is_empty() {
                    samples.resize(samples.len() + pause, 0);
                }
                samples.extend_from_slice(prompt.voiced());
            }
        }
        Prompt {
            rate: self.hold_music.rate,
            samples: Arc::from(samples),
        }
    }

    fn prompts_for(&self, word: Word) -> Vec<&Prompt> {
        match word {
            Word::QueuePosition => vec![&self.queue_position],
            Word::QueueWait => vec![&self.queue_wait],
            Word::QueueWaitShort => vec![&self.queue_wait_short],
            Word::MoreThan => vec![&self.more_than],
            Word::QueueComfort => vec![&self.queue_comfort],
            Word::QueueWhisper => vec![&self.queue_whisper],
            Word::QueueWaited => vec![&self.queue_waited],
            Word::QueueCallbackOffer => vec![&self.queue_callback_offer],
            Word::QueueHold => vec![&self.queue_hold],
            Word::QueueVipWarning => vec![&self.queue_vip_warning],
            Word::TransferTo => vec![&self.transfer_to],
            Word::TransferRefused => vec![&self.transfer_refused],
            Word::RecordingOn => vec![&self.recording_on],
            Word::RecordingPaused => vec![&self.recording_paused],
            Word::RecordingRefused => vec![&self.recording_refused],
            Word::CallRecorded => vec![&self.call_recorded],
            Word::Number(n) => match self.numbers.get(&n) {
                Some(p) => vec![p],
                // Tens then units: "twenty" "seven".
                None => [n / 10 * 10, n % 10]
                    .iter()
                    .filter_map(|part| self.numbers.get(part))
                    .collect(),
            },
        }
    }

    pub fn announcement(&self, what: Announcement) -> &Prompt {
        match what {
            Announcement::Busy => &self.busy,
            Announcement::Unavailable => &self.unavailable,
            Announcement::NoSuchNumber => &self.no_such_number,
            Announcement::AgentLoggedIn => &self.agent_logged_in,
            Announcement::AgentLoggedOut => &self.agent_logged_out,
            Announcement::AgentOnBreak => &self.agent_on_break,
            Announcement::AgentBack => &self.agent_back,
            Announcement::Blocked => &self.blocked,
            Announcement::NotAllowed => &self.not_allowed,
            Announcement::CallbackAccepted => &self.queue_callback,
            Announcement::CallbackWhisper => &self.queue_whisper,
        }
    }
}

/// The tone after which a caller leaves their message: 1 kHz for half a second.
fn beep(rate: u32) -> Prompt {
    beeps(rate, 1, 500)
}

/// Three short beeps: what a caller hears where a prompt is missing.
fn fallback_tone(rate: u32) -> Prompt {
    beeps(rate, 3, 200)
}

/// `count` beeps of 1 kHz, each `ms` long with as long a pause between them.
fn beeps(rate: u32, count: usize, ms: u32) -> Prompt {
    let beep = (rate * ms / 1000) as usize;
    let samples = (0..beep * (2 * count - 1))
        .map(|i| {
            if (i / beep) % 2 == 1 {
                return 0;
            }
            let t = i as f32 / rate as f32;
            (8000.0 * (2.0 * std::f32::consts::PI * 1000.0 * t).sin()) as i16
        })
        .collect::<Vec<i16>>();
    Prompt {
        rate,
        samples: Arc::from(samples),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_loads_its_own_prompts() {
        let english = Sounds::load(Language::En).unwrap();
        for language in Language::ALL {
            let sounds = Sounds::load(language).unwrap();
            for what in [
                Announcement::Busy,
                Announcement::Unavailable,
                Announcement::NoSuchNumber,
            ] {
                assert!(
                    sounds.announcement(what).duration_ms() > 2000,
                    "{language:?} {what:?}"
                );
            }
            if language != Language::En {
                assert_ne!(sounds.busy.samples, english.busy.samples, "{language:?}");
            }
            for name in SCENARIO_PROMPTS {
                let prompt = sounds.named(name);
                assert!(prompt.duration_ms() > 1000, "{language:?} {name}");
            }
        }
    }

    #[test]
    fn every_number_to_sixty_is_said_and_composed_ones_are_tens_then_units() {
        let sounds = Sounds::load(Language::Pl).unwrap();
        for n in 1..=Word::MAX_NUMBER {
            let said = sounds.say(&[Word::Number(n)]);
            assert!(said.duration_ms() > 150, "{n}");
        }
        let parts = |n| sounds.say(&[Word::Number(n)]).samples.len();
        let pause = 8000 * WORD_PAUSE_MS / 1000;
        assert_eq!(parts(27), parts(20) + pause + parts(7));
        let position = sounds.say(&[Word::QueuePosition, Word::Number(3)]);
        assert_eq!(
            position.samples.len(),
            sounds.queue_position.voiced().len() + pause + parts(3)
        );
        // Words are said without the silence their recordings carry around them.
        let whisper = sounds.say(&[Word::QueueWhisper]);
        assert!(whisper.samples.len() < sounds.queue_whisper.samples.len());
    }

    #[test]
    fn uploaded_prompts_are_read_and_missing_ones_beep() {
        let dir = tempfile::tempdir().unwrap();
        let sounds = Sounds::load(Language::En).unwrap().with_uploads(dir.path());
        let beeps = sounds.named("acme_welcome");
        assert_eq!(beeps.duration_ms(), 1000);
        // The office's own file, at 16 kHz: resampled to the calls' 8 kHz.
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.path().join("acme_welcome.wav"), spec).unwrap();
        for i in 0..32000 {
            w.write_sample(((i as f32 * 0.1).sin() * 9000.0) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
        let own = sounds.named("acme_welcome");
        assert_eq!((own.rate, own.duration_ms()), (8000, 2000));
        // Names are file names, never paths.
        assert!(!is_prompt_name("../switchboard"));
        assert_eq!(sounds.named("../acme_welcome").duration_ms(), 1000);
    }
}
