//! Voicemail: every extension and every queue has a box. A caller sent to one hears
//! the box's greeting and a beep, then talks; the media edge records until they stop
//! talking, reach the longest message, press `#` or hang up, and reports what it kept.
//! The feature keeps each box's list of messages, so message waiting indications and
//! the voicemail menu ([`menu`]) never wait on the store; every change goes out as an
//! [`Output::Voicemail`] for the store to commit.

pub(crate) mod menu;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use super::{Ctx, Handoff};
use crate::legs::LegEvent;
use crate::record::{HangupBy, Outcome, VoicemailChange, VoicemailMessage};
use crate::vocabulary::{
    CallKey, MediaCommand, MessageCounts, Output, RecordInto, RecordLimits, Sound,
};

/// The built-in prompts voicemail plays.
pub const SAVED_PROMPT: &str = "vm_saved";
/// A phone still plays what its jitter buffer holds when the last packet has gone; a
/// BYE at once would cut the end of "message saved". A loaded phone (or a mobile
/// behind a provider) holds more than half a second.
const LAST_WORDS: std::time::Duration = std::time::Duration::from_millis(1500);
pub const GOODBYE_PROMPT: &str = "goodbye";

/// What a caller leaving a message is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Leaving {
    Greeting,
    Recording,
    /// The message is kept or dropped; the caller hears how it went, then Switchboard
    /// hangs up and the record gives the reason.
    Done {
        reason: String,
    },
    /// What they were told has been sent; Switchboard hangs up once the phone has had
    /// time to play it out ([`LAST_WORDS`]).
    Ending {
        reason: String,
    },
}

/// A message whose recording has begun, until the media edge reports it.
#[derive(Debug, Clone)]
struct Recording {
    mailbox: String,
    caller: String,
    started: SystemTime,
}

/// Every box's messages, the messages being recorded, and the callers leaving one or
/// in the menu.
#[derive(Debug, Default)]
pub(crate) struct Voicemail {
    boxes: HashMap<String, BTreeMap<i64, VoicemailMessage>>,
    recording: HashMap<i64, Recording>,
    next_id: i64,
    limits: RecordLimits,
    /// PIN hashes of the boxes that have one (see [`menu::pin_hash`]).
    pins: HashMap<String, String>,
    leaving: HashMap<CallKey, (String, Leaving)>,
    menus: HashMap<CallKey, menu::Menu>,
}

impl Voicemail {
    /// Loads the messages already left (the store's) and the office's limits.
    pub fn load(&mut self, messages: Vec<VoicemailMessage>, limits: RecordLimits) {
        let mut boxes: HashMap<String, BTreeMap<i64, VoicemailMessage>> = HashMap::new();
        let mut next_id = self.next_id;
        for m in messages {
            next_id = next_id.max(m.id + 1);
            boxes.entry(m.mailbox.clone()).or_default().insert(m.id, m);
        }
        self.boxes = boxes;
        self.next_id = next_id;
        self.limits = limits;
    }

    /// Changes the office's limits; messages being recorded keep theirs.
    pub fn set_limits(&mut self, limits: RecordLimits) {
        self.limits = limits;
    }

    pub fn set_pins(&mut self, pins: Vec<(String, String)>) {
        self.pins = pins.into_iter().collect();
    }

    /// A box's messages, oldest first.
    pub fn messages(&self, mailbox: &str) -> Vec<&VoicemailMessage> {
        self.boxes
            .get(mailbox)
            .into_iter()
            .flat_map(BTreeMap::values)
            .collect()
    }

    pub fn counts(&self, mailbox: &str) -> MessageCounts {
        let mut counts = MessageCounts::default();
        for m in self.messages(mailbox) {
            if m.heard {
                counts.heard += 1;
            } else {
                counts.new += 1;
            }
        }
        counts
    }

    /// Marks a message heard or new; false when the box has no such message.
    pub fn mark_heard(&mut self, cx: &mut Ctx<'_>, mailbox: &str, id: i64, heard: bool) -> bool {
        let Some(m) = self.boxes.get_mut(mailbox).and_then(|b| b.get_mut(&id)) else {
            return false;
        };
        if m.heard != heard {
            m.heard = heard;
            cx.legs
                .push(Output::Voicemail(VoicemailChange::Heard { id, heard }));
            cx.hand_off(Handoff::MailboxChanged(mailbox.to_string()));
        }
        true
    }

    /// Deletes a message; false when the box has no such message.
    pub fn delete(&mut self, cx: &mut Ctx<'_>, mailbox: &str, id: i64) -> bool {
        let removed = self.boxes.get_mut(mailbox).and_then(|b| b.remove(&id));
        if removed.is_none() {
            return false;
        }
        cx.legs.push(Output::Voicemail(VoicemailChange::Deleted {
            mailbox: mailbox.to_string(),
            id,
        }));
        cx.hand_off(Handoff::MailboxChanged(mailbox.to_string()));
        true
    }

    /// The caller leaves a message in `mailbox`: greeting, beep, then recording.
    pub fn leave_message(&mut self, cx: &mut Ctx<'_>, key: CallKey, mailbox: String) {
        let sounds = vec![
            Sound::Greeting {
                mailbox: mailbox.clone(),
            },
            Sound::Beep,
        ];
        self.leaving.insert(key, (mailbox, Leaving::Greeting));
        cx.legs.play(key, sounds);
    }

    /// What the legs report about a call leaving a message or in the menu.
    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) {
        match event {
            LegEvent::Key { call, key } => self.key(cx, call, key),
            LegEvent::Played { call } => self.played(cx, call),
            LegEvent::Wake { call } => match self.leaving.get(&call) {
                Some((_, Leaving::Ending { reason })) => {
                    let (d, by) = (Outcome::Answered, HangupBy::System);
                    let reason = reason.clone();
                    cx.legs.end_alone(cx.now, call, d, by, 200, &reason);
                }
                _ => self.menu_timeout(cx, call),
            },
            LegEvent::Closed { call, .. } => {
                self.leaving.remove(&call);
                self.menus.remove(&call);
            }
            other => cx.legs.end_held(cx.now, &other),
        }
    }

    /// A key from a caller leaving a message: `#` skips the greeting, or ends the
    /// message.
    fn key(&mut self, cx: &mut Ctx<'_>, key: CallKey, pressed: char) {
        if self.menus.contains_key(&key) {
            return self.menu_key(cx, key, pressed);
        }
        if pressed != '#' {
            return;
        }
        match self.leaving.get(&key) {
            Some((_, Leaving::Greeting)) => self.start_recording(cx, key),
            Some((_, Leaving::Recording)) => {
                cx.legs.media(MediaCommand::StopRecording { call: key })
            }
            _ => {}
        }
    }

    /// What the caller was played has ended.
    fn played(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        if self.menus.contains_key(&key) {
            return self.menu_prompt_done(cx, key);
        }
        match self.leaving.get(&key) {
            Some((_, Leaving::Greeting)) => self.start_recording(cx, key),
            Some((mailbox, Leaving::Done { reason })) => {
                let ending = Leaving::Ending {
                    reason: reason.clone(),
                };
                self.leaving.insert(key, (mailbox.clone(), ending));
                cx.legs.wake_at(key, cx.now + LAST_WORDS);
            }
            _ => {}
        }
    }

    fn start_recording(&mut self, cx: &mut Ctx<'_>, key: CallKey) {
        let Some(to) = cx.legs.caller_media(key) else {
            return;
        };
        let (Some(call), Some((mailbox, stage))) =
            (cx.legs.calls.get(&key), self.leaving.get_mut(&key))
        else {
            return;
        };
        // Ids start at 1.
        let id = self.next_id.max(1);
        *stage = Leaving::Recording;
        self.next_id = id + 1;
        self.recording.insert(
            id,
            Recording {
                mailbox: mailbox.clone(),
                caller: call.caller.clone(),
                started: cx.legs.wall(cx.now),
            },
        );
        let into = RecordInto::Message {
            mailbox: mailbox.clone(),
            id,
        };
        let limits = self.limits;
        cx.legs.media(MediaCommand::Record {
            call: key,
            to,
            into,
            limits,
        });
    }

    /// The media edge finished recording message `id` of call `key`: kept, lasting
    /// `duration`, or dropped (nobody spoke). The call may have ended already.
    pub fn recorded(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        id: i64,
        duration: Option<Duration>,
    ) {
        let Some(recording) = self.recording.remove(&id) else {
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
            self.boxes
                .entry(mailbox.clone())
                .or_default()
                .insert(id, message.clone());
            cx.legs
                .push(Output::Voicemail(VoicemailChange::Left(message)));
            cx.hand_off(Handoff::MailboxChanged(mailbox.clone()));
        }
        if let Some((_, stage @ Leaving::Recording)) = self.leaving.get_mut(&key) {
            let (prompt, reason) = match duration {
                Some(_) => (SAVED_PROMPT, format!("Voicemail left in box {mailbox}")),
                None => (
                    GOODBYE_PROMPT,
                    format!("Voicemail box {mailbox}: the caller left no message"),
                ),
            };
            *stage = Leaving::Done { reason };
            cx.legs.play(key, vec![Sound::Named(prompt.into())]);
        }
    }
}
