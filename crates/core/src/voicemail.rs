//! Voicemail: every extension and every queue has a box. A caller sent to one hears
//! the box's greeting and a beep, then talks; the media edge records until they stop
//! talking, reach the longest message, press `#` or hang up, and reports what it kept.
//! The engine keeps each box's list of messages, so message waiting indications and
//! the voicemail menu never wait on the store; every change goes out as an
//! [`Output::Voicemail`] for the store to commit.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime};

use switchboard_media::relay::Side;

use crate::Clock;
use crate::call::Phase;
use crate::pbx::{CallKey, MediaCommand, Output, Pbx};
use crate::record::{Disposition, HangupBy};

/// One message in a box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailMessage {
    /// Unique across boxes; names the message's audio file.
    pub id: i64,
    pub mailbox: String,
    pub caller: String,
    pub received: SystemTime,
    pub duration: Duration,
    pub heard: bool,
}

/// A change to the boxes, for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoicemailChange {
    Left(VoicemailMessage),
    Heard {
        id: i64,
        heard: bool,
    },
    /// The message and its audio are gone.
    Deleted {
        mailbox: String,
        id: i64,
    },
}

/// How long messages may be.
pub use switchboard_media::message_recorder::Limits as RecordLimits;

/// What a recording becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordInto {
    Message {
        mailbox: String,
        id: i64,
    },
    /// The box's own greeting, replacing the one it had.
    Greeting {
        mailbox: String,
    },
}

/// A message's new and heard counts, as message waiting indications tell them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub new: usize,
    pub heard: usize,
}

/// A sound played to a caller, one of a list played one after another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sound {
    /// A built-in prompt or the office's own, by name.
    Named(String),
    /// The box's own greeting, or the built-in one when it has none.
    Greeting { mailbox: String },
    /// The tone after which the caller speaks.
    Beep,
    /// A message left in a box.
    Message { mailbox: String, id: i64 },
    /// A built-in word or number.
    Word(crate::pbx::Word),
}

/// What a caller leaving a message is doing (a caller in the voicemail menu has a
/// [`crate::voicemail_menu::Menu`] instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leaving {
    Greeting,
    Recording,
    /// The message is kept or dropped; the caller hears how it went, then Switchboard
    /// hangs up.
    Done,
}

/// A message whose recording has begun, until the media edge reports it.
#[derive(Debug, Clone)]
struct Recording {
    mailbox: String,
    caller: String,
    started: SystemTime,
}

/// Every box's messages and the messages being recorded.
#[derive(Debug, Default)]
pub(crate) struct Voicemail {
    boxes: HashMap<String, BTreeMap<i64, VoicemailMessage>>,
    recording: HashMap<i64, Recording>,
    next_id: i64,
    limits: RecordLimits,
}

impl Voicemail {
    pub fn has_message(&self, mailbox: &str, id: i64) -> bool {
        self.boxes.get(mailbox).is_some_and(|b| b.contains_key(&id))
    }

    pub fn counts(&self, mailbox: &str) -> MessageCounts {
        let mut counts = MessageCounts::default();
        for m in self
            .boxes
            .get(mailbox)
            .into_iter()
            .flat_map(BTreeMap::values)
        {
            if m.heard {
                counts.heard += 1;
            } else {
                counts.new += 1;
            }
        }
        counts
    }
}

/// The built-in prompts voicemail plays.
pub const SAVED_PROMPT: &str = "vm_saved";
pub const GOODBYE_PROMPT: &str = "goodbye";

impl Pbx {
    /// Loads the messages already left (the store's) and the office's limits.
    pub fn set_voicemail(&mut self, messages: Vec<VoicemailMessage>, limits: RecordLimits) {
        let mut boxes: HashMap<String, BTreeMap<i64, VoicemailMessage>> = HashMap::new();
        let mut next_id = self.voicemail.next_id;
        for m in messages {
            next_id = next_id.max(m.id + 1);
            boxes.entry(m.mailbox.clone()).or_default().insert(m.id, m);
        }
        self.voicemail.boxes = boxes;
        self.voicemail.next_id = next_id;
        self.voicemail.limits = limits;
    }

    pub(crate) fn voicemail_limits(&self) -> RecordLimits {
        self.voicemail.limits
    }

    /// Changes the office's limits; messages being recorded keep theirs.
    pub fn set_record_limits(&mut self, limits: RecordLimits) {
        self.voicemail.limits = limits;
    }

    /// A box's messages, oldest first.
    pub fn voicemail_messages(&self, mailbox: &str) -> Vec<&VoicemailMessage> {
        self.voicemail
            .boxes
            .get(mailbox)
            .into_iter()
            .flat_map(BTreeMap::values)
            .collect()
    }

    pub fn voicemail_counts(&self, mailbox: &str) -> MessageCounts {
        self.voicemail.counts(mailbox)
    }

    /// Whether `number` has a box: every extension and every queue does.
    pub fn is_mailbox(&self, number: &str) -> bool {
        self.sip.account(number).is_some() || self.queue_numbers.contains_key(number)
    }

    /// Marks a message heard or new; false when the box has no such message.
    pub fn mark_heard(&mut self, clock: Clock, mailbox: &str, id: i64, heard: bool) -> bool {
        let now = self.tick(clock);
        let Some(m) = self
            .voicemail
            .boxes
            .get_mut(mailbox)
            .and_then(|b| b.get_mut(&id))
        else {
            return false;
        };
        if m.heard != heard {
            m.heard = heard;
            self.outputs
                .push_back(Output::Voicemail(VoicemailChange::Heard { id, heard }));
            self.mailbox_changed(now, mailbox);
        }
        true
    }

    /// Deletes a message; false when the box has no such message.
    pub fn delete_message(&mut self, clock: Clock, mailbox: &str, id: i64) -> bool {
        let now = self.tick(clock);
        let removed = self
            .voicemail
            .boxes
            .get_mut(mailbox)
            .and_then(|b| b.remove(&id));
        if removed.is_none() {
            return false;
        }
        self.outputs
            .push_back(Output::Voicemail(VoicemailChange::Deleted {
                mailbox: mailbox.to_string(),
                id,
            }));
        self.mailbox_changed(now, mailbox);
        true
    }

    /// The caller leaves a message in `mailbox`: greeting, beep, then recording.
    pub(crate) fn leave_message(&mut self, key: CallKey, mailbox: &str) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        call.phase = Phase::Voicemail;
        call.leaving = Some((mailbox.to_string(), Leaving::Greeting));
        let sounds = vec![
            Sound::Greeting {
                mailbox: mailbox.to_string(),
            },
            Sound::Beep,
        ];
        self.play_to_caller(key, sounds);
    }

    /// A key from a caller leaving a message: `#` skips the greeting, or ends the
    /// message.
    pub(crate) fn voicemail_key(&mut self, now: Instant, key: CallKey, pressed: char) {
        if self.calls.get(&key).is_some_and(|c| c.menu.is_some()) {
            return self.menu_key(now, key, pressed);
        }
        if pressed != '#' {
            return;
        }
        match self.calls.get(&key).and_then(|c| c.leaving.as_ref()) {
            Some((_, Leaving::Greeting)) => self.start_recording(now, key),
            Some((_, Leaving::Recording)) => self
                .outputs
                .push_back(Output::Media(MediaCommand::StopRecording { call: key })),
            _ => {}
        }
    }

    /// What the caller was played has ended.
    pub(crate) fn voicemail_prompt_done(&mut self, now: Instant, key: CallKey) {
        if self.calls.get(&key).is_some_and(|c| c.menu.is_some()) {
            return self.menu_prompt_done(now, key);
        }
        match self.calls.get(&key).and_then(|c| c.leaving.as_ref()) {
            Some((_, Leaving::Greeting)) => self.start_recording(now, key),
            Some((_, Leaving::Done)) => self.hang_up_told(now, key),
            _ => {}
        }
    }

    /// Switchboard hangs up on a caller once it has told them something; the record
    /// gives the call's `told_reason`.
    pub(crate) fn hang_up_told(&mut self, now: Instant, key: CallKey) {
        let reason = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.told_reason.take())
            .unwrap_or_default();
        self.hang_up_answered(now, key, &reason);
    }

    /// Switchboard hangs up on a caller it answered itself; the record gives `reason`.
    pub(crate) fn hang_up_answered(&mut self, now: Instant, key: CallKey, reason: &str) {
        self.end_unbridged(
            now,
            key,
            Disposition::Answered,
            HangupBy::System,
            200,
            reason,
        );
    }

    fn start_recording(&mut self, now: Instant, key: CallKey) {
        let Some(to) = self.caller_media(key) else {
            return;
        };
        let wall = self.wall(now);
        // Ids start at 1.
        let id = self.voicemail.next_id.max(1);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some((mailbox, stage)) = call.leaving.as_mut() else {
            return;
        };
        *stage = Leaving::Recording;
        self.voicemail.next_id = id + 1;
        self.voicemail.recording.insert(
            id,
            Recording {
                mailbox: mailbox.clone(),
                caller: call.caller.clone(),
                started: wall,
            },
        );
        let into = RecordInto::Message {
            mailbox: mailbox.clone(),
            id,
        };
        self.outputs.push_back(Output::Media(MediaCommand::Record {
            call: key,
            to,
            into,
            limits: self.voicemail.limits,
        }));
    }

    /// The media edge finished recording message `id` of call `key`: kept, lasting
    /// `duration`, or dropped (nobody spoke). The call may have ended already.
    pub fn handle_recorded(
        &mut self,
        clock: Clock,
        key: CallKey,
        id: i64,
        duration: Option<Duration>,
    ) {
        let now = self.tick(clock);
        let Some(recording) = self.voicemail.recording.remove(&id) else {
            return;
        };
        let mailbox = recording.mailbox.clone();
        if let Some(duration) = duration {
            let message = VoicemailMessage {
                id,
                mailbox: recording.mailbox,
                caller: recording.caller,
                received: recording.started,
                duration,
                heard: false,
            };
            self.voicemail
                .boxes
                .entry(mailbox.clone())
                .or_default()
                .insert(id, message.clone());
            self.outputs
                .push_back(Output::Voicemail(VoicemailChange::Left(message)));
            self.mailbox_changed(now, &mailbox);
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return self.drain(now);
        };
        if let Some((_, stage @ Leaving::Recording)) = call.leaving.as_mut() {
            *stage = Leaving::Done;
            let (prompt, reason) = match duration {
                Some(_) => (SAVED_PROMPT, format!("Voicemail left in box {mailbox}")),
                None => (
                    GOODBYE_PROMPT,
                    format!("Voicemail box {mailbox}: the caller left no message"),
                ),
            };
            call.told_reason = Some(reason);
            self.play_to_caller(key, vec![Sound::Named(prompt.into())]);
        }
        self.drain(now);
    }

    /// Sounds played to the caller one after another, replacing what they heard (none:
    /// silence); the media edge reports when they end.
    pub(crate) fn play_to_caller(&mut self, key: CallKey, sounds: Vec<Sound>) {
        let Some(to) = self.caller_media(key) else {
            return;
        };
        self.outputs.push_back(Output::Media(MediaCommand::Prompt {
            call: key,
            to,
            sounds,
        }));
    }

    /// The caller's media, once Switchboard has answered them.
    pub(crate) fn caller_media(&self, key: CallKey) -> Option<switchboard_media::relay::LegMedia> {
        let call = self.calls.get(&key)?;
        Some(crate::outcome::leg_media(
            &call.offer,
            call.local_sdp[Side::A as usize].as_ref()?,
            call.a_peer,
        ))
    }
}
