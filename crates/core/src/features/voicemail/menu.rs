//! The voicemail menu by phone: *97 opens the caller's own box, *97 followed by a box
//! number opens that box. A box with a PIN asks for it (three tries); one without opens
//! from its own extension only, whose phone already proved who it is with its SIP
//! password. The caller hears how many new and saved messages wait, then each message,
//! new ones first, with a choice after each: 1 again, 7 delete, 9 next; 5, at any
//! point after the PIN, records the box's greeting.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{GOODBYE_PROMPT, Voicemail};
use crate::features::Ctx;
use crate::record::{HangupBy, Outcome, VoicemailMessage};
use crate::vocabulary::{CallKey, MediaCommand, RecordInto, RecordLimits, Sound, Word};

/// Wrong PINs before Switchboard hangs up.
const PIN_TRIES: u8 = 3;
/// The longest PIN read; more digits count as a wrong PIN.
const MAX_PIN: usize = 12;
/// How long Switchboard waits for a key once it has finished speaking.
const KEY_WAIT: Duration = Duration::from_secs(10);
/// The longest greeting recorded by phone.
const GREETING_MAX: Duration = Duration::from_secs(60);

/// A PIN kept as a salted SHA-256 hash: `sha256$SALT$HASH`, both in hex.
pub fn pin_hash(mailbox: &str, pin: &str, salt: &[u8]) -> String {
    let salt = hex(salt);
    format!("sha256${salt}${}", pin_digest(&salt, mailbox, pin))
}

fn pin_digest(salt: &str, mailbox: &str, pin: &str) -> String {
    hex(&Sha256::digest(format!("{salt}:{mailbox}:{pin}")))
}

fn pin_matches(hash: &str, mailbox: &str, pin: &str) -> bool {
    let mut parts = hash.split('$');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("sha256"), Some(salt), Some(digest)) => pin_digest(salt, mailbox, pin) == digest,
        _ => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// Asking for the PIN, or told it was wrong.
    Pin,
    /// Saying how many messages wait.
    Summary,
    /// Playing message `at`, then the choices.
    Message,
    /// Saying the message is deleted.
    Deleted,
    /// Asking for the greeting, then recording it, then saying it is saved.
    Greeting(GreetingStep),
    /// Saying goodbye, then hanging up; the record gives `reason`.
    Ending { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GreetingStep {
    Asking,
    Recording,
    Saved,
}

#[derive(Debug)]
pub(super) struct Menu {
    mailbox: String,
    stage: Stage,
    wrong: u8,
    typed: String,
    /// The box's messages as they were when it was opened, new ones first.
    messages: Vec<i64>,
    at: usize,
    waiting_since: Option<Instant>,
}

impl Voicemail {
    /// Answers the caller and opens `mailbox`'s menu.
    pub fn open_menu(&mut self, cx: &mut Ctx<'_>, key: CallKey, mailbox: String) {
        let now = cx.now;
        if !cx.legs.answer_held(now, key) {
            return;
        }
        let has_pin = self.pins.contains_key(&mailbox);
        let Some(call) = cx.legs.calls.get(&key) else {
            return;
        };
        let own = call.caller == mailbox;
        self.menus.insert(
            key,
            Menu {
                mailbox: mailbox.clone(),
                stage: Stage::Pin,
                wrong: 0,
                typed: String::new(),
                messages: Vec::new(),
                at: 0,
                waiting_since: None,
            },
        );
        if has_pin {
            self.menu_says(cx, key, Stage::Pin, vec![named("vm_enter_pin")]);
        } else if own {
            self.menu_summary(cx, key);
        } else {
            let reason =
                format!("Voicemail box {mailbox} has no PIN: it opens from its own extension only");
            self.menu_ends(cx, key, reason, Vec::new());
        }
    }

    /// A key pressed in the menu.
    pub(super) fn menu_key(&mut self, cx: &mut Ctx<'_>, key: CallKey, pressed: char) {
        let now = cx.now;
        let Some(menu) = self.menus.get_mut(&key) else {
            return;
        };
        menu.waiting_since = None;
        match (&menu.stage, pressed) {
            (Stage::Pin, '#') => {
                let typed = std::mem::take(&mut menu.typed);
                self.check_pin(cx, key, &typed);
            }
            (Stage::Pin, digit) if digit.is_ascii_digit() => {
                menu.typed.push(digit);
                if menu.typed.len() > MAX_PIN {
                    menu.typed.clear();
                    return self.check_pin(cx, key, "");
                }
                // The wait for `#` starts again after each digit.
                menu.waiting_since = Some(now);
                cx.legs.wake_at(key, now + KEY_WAIT);
            }
            (Stage::Message, '1') => self.menu_play_message(cx, key),
            (Stage::Message, '7') => {
                let (mailbox, id) = (menu.mailbox.clone(), menu.messages[menu.at]);
                self.delete(cx, &mailbox, id);
                self.menu_says(cx, key, Stage::Deleted, vec![named("vm_deleted")]);
            }
            (Stage::Message, '9') => self.menu_next(cx, key),
            (Stage::Summary | Stage::Message | Stage::Deleted, '5') => {
                let asked = vec![named("vm_record_greeting"), Sound::Beep];
                self.menu_says(cx, key, Stage::Greeting(GreetingStep::Asking), asked);
            }
            (Stage::Greeting(GreetingStep::Recording), '#') => {
                cx.legs.media(MediaCommand::StopRecording { call: key })
            }
            _ => {}
        }
    }

    /// What the menu said has ended: wait for a key, or go on.
    pub(super) fn menu_prompt_done(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let now = cx.now;
        let Some(menu) = self.menus.get_mut(&key) else {
            return;
        };
        match &menu.stage {
            Stage::Pin | Stage::Message => {
                menu.waiting_since = Some(now);
                cx.legs.wake_at(key, now + KEY_WAIT);
            }
            Stage::Summary | Stage::Greeting(GreetingStep::Saved) => {
                self.menu_play_message(cx, key)
            }
            Stage::Deleted => self.menu_next(cx, key),
            Stage::Greeting(GreetingStep::Asking) => self.record_greeting(cx, key),
            Stage::Greeting(GreetingStep::Recording) => {}
            Stage::Ending { reason } => {
                let (d, by, reason) = (Outcome::Answered, HangupBy::System, reason.clone());
                cx.legs.end_alone(now, key, d, by, 200, &reason);
            }
        }
    }

    /// Nobody pressed a key in time: a PIN not ended by `#` is checked as it is, a
    /// message's choices default to the next message.
    pub(super) fn menu_timeout(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(menu) = self.menus.get_mut(&key) else {
            return;
        };
        if menu
            .waiting_since
            .is_none_or(|since| cx.now < since + KEY_WAIT)
        {
            return;
        }
        menu.waiting_since = None;
        match menu.stage {
            Stage::Pin => {
                let typed = std::mem::take(&mut menu.typed);
                self.check_pin(cx, key, &typed);
            }
            Stage::Message => self.menu_next(cx, key),
            _ => {}
        }
    }

    fn record_greeting(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(to) = cx.legs.caller_media(key) else {
            return;
        };
        let Some(menu) = self.menus.get_mut(&key) else {
            return;
        };
        menu.stage = Stage::Greeting(GreetingStep::Recording);
        let into = RecordInto::Greeting {
            mailbox: menu.mailbox.clone(),
        };
        let limits = RecordLimits {
            max: GREETING_MAX,
            ..self.limits
        };
        cx.legs.media(MediaCommand::Record {
            call: key,
            to,
            into,
            limits,
        });
    }

    /// The media edge saved the greeting being recorded on call `key` (`kept`), or
    /// heard nothing worth keeping; the menu goes back to the messages.
    pub fn greeting_recorded(&mut self, cx: &mut Ctx<'_>, key: CallKey, kept: bool) {
        let recording = self
            .menus
            .get(&key)
            .is_some_and(|m| m.stage == Stage::Greeting(GreetingStep::Recording));
        if recording {
            let said = if kept {
                "vm_greeting_saved"
            } else {
                "vm_greeting_kept"
            };
            let saved = Stage::Greeting(GreetingStep::Saved);
            self.menu_says(cx, key, saved, vec![named(said)]);
        }
    }

    fn check_pin(&mut self, cx: &mut Ctx<'_>, key: CallKey, typed: &str) {
        let Some(menu) = self.menus.get_mut(&key) else {
            return;
        };
        let right = self
            .pins
            .get(&menu.mailbox)
            .is_some_and(|hash| pin_matches(hash, &menu.mailbox, typed));
        if right {
            return self.menu_summary(cx, key);
        }
        menu.wrong += 1;
        if menu.wrong >= PIN_TRIES {
            let reason = format!(
                "Voicemail box {}: wrong PIN {PIN_TRIES} times",
                menu.mailbox
            );
            return self.menu_ends(cx, key, reason, vec![named("vm_wrong_pin")]);
        }
        let again = vec![named("vm_wrong_pin"), named("vm_enter_pin")];
        self.menu_says(cx, key, Stage::Pin, again);
    }

    /// "New messages: 2. Saved messages: 1."
    fn menu_summary(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(mailbox) = self.menus.get(&key).map(|m| m.mailbox.clone()) else {
            return;
        };
        let messages = self.messages(&mailbox);
        let (new, heard): (Vec<&VoicemailMessage>, Vec<&VoicemailMessage>) =
            messages.into_iter().partition(|m| !m.heard);
        let count = |n: usize| {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            if n > Word::MAX_NUMBER {
                vec![
                    Sound::Word(Word::MoreThan),
                    Sound::Word(Word::Number(Word::MAX_NUMBER)),
                ]
            } else {
                vec![Sound::Word(Word::Number(n))]
            }
        };
        let mut said = vec![named("vm_new_messages")];
        said.extend(count(new.len()));
        said.push(named("vm_old_messages"));
        said.extend(count(heard.len()));
        said.push(named("vm_greeting_option"));
        let order: Vec<i64> = new.iter().chain(&heard).map(|m| m.id).collect();
        if let Some(menu) = self.menus.get_mut(&key) {
            menu.messages = order;
            menu.at = 0;
        }
        self.menu_says(cx, key, Stage::Summary, said);
    }

    /// Plays the current message (marking it heard) and the choices after it; past
    /// the last one, says so and hangs up.
    fn menu_play_message(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(menu) = self.menus.get_mut(&key) else {
            return;
        };
        let mailbox = menu.mailbox.clone();
        // Messages deleted meanwhile (through the API) are skipped.
        while menu.at < menu.messages.len()
            && !self
                .boxes
                .get(&mailbox)
                .is_some_and(|b| b.contains_key(&menu.messages[menu.at]))
        {
            menu.at += 1;
        }
        let Some(&id) = menu.messages.get(menu.at) else {
            let reason = format!("Voicemail box {mailbox}: messages heard");
            return self.menu_ends(cx, key, reason, vec![named("vm_no_more_messages")]);
        };
        self.mark_heard(cx, &mailbox, id, true);
        let said = vec![Sound::Message { mailbox, id }, named("vm_message_menu")];
        self.menu_says(cx, key, Stage::Message, said);
    }

    fn menu_next(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        if let Some(menu) = self.menus.get_mut(&key) {
            menu.at += 1;
        }
        self.menu_play_message(cx, key);
    }

    fn menu_says(&mut self, cx: &mut Ctx<'_>, key: CallKey, stage: Stage, sounds: Vec<Sound>) {
        if let Some(menu) = self.menus.get_mut(&key) {
            menu.stage = stage;
            menu.waiting_since = None;
        }
        cx.legs.play(key, sounds);
    }

    /// Says `sounds` and goodbye, then hangs up; the record gives `reason`.
    fn menu_ends(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        reason: String,
        mut sounds: Vec<Sound>,
    ) {
        sounds.push(named(GOODBYE_PROMPT));
        self.menu_says(cx, key, Stage::Ending { reason }, sounds);
    }
}

fn named(prompt: &str) -> Sound {
    Sound::Named(prompt.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_salted_hashes_and_only_the_right_one_matches() {
        let hash = pin_hash("101", "4821", &[1, 2, 3, 4]);
        assert!(hash.starts_with("sha256$01020304$"), "{hash}");
        assert!(!hash.contains("4821"));
        assert!(pin_matches(&hash, "101", "4821"));
        assert!(!pin_matches(&hash, "101", "4822"));
        assert!(!pin_matches(&hash, "102", "4821"), "bound to its box");
        assert_ne!(hash, pin_hash("101", "4821", &[9, 9, 9, 9]));
        assert!(!pin_matches("plain", "101", "plain"));
    }
}
