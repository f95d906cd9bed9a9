//! A call's recording as the legs keep it: decided by the office's rules when the call
//! is answered, started, paused and resumed by the record code, and named in the call's
//! record. The media edge writes it.

use switchboard_media::relay::Side;

use super::Legs;
use super::call::{Call, Recording};
use super::pickup::office_parties;
use crate::record::Direction;
use crate::recording::{Parties, RecordPolicy};
use crate::vocabulary::{CallKey, MediaCommand, Word};

impl Legs {
    /// Call `key` has just been answered: its parties' rules say whether it is recorded
    /// from now on. Decided once; a transfer later keeps the decision.
    pub(super) fn decide_recording(&mut self, key: CallKey) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.recording != Recording::Undecided {
            return;
        }
        let office = office_parties(call);
        let extension = |i: usize| office.get(i).map(|(_, e)| *e);
        let parties = Parties {
            direction: call.direction(),
            extensions: [extension(0), extension(1)],
            queue: call.log.queue.as_deref(),
            trunk: call.trunk(),
        };
        let recording = match self.recording_rules.policy(&parties) {
            RecordPolicy::Never => Recording::Never,
            RecordPolicy::OnDemand => Recording::OnDemand,
            RecordPolicy::Always => Recording::On {
                file: crate::recording::file_name(call.started_wall, key),
                paused: false,
            },
        };
        self.set_recording(key, recording);
    }

    /// The office phone on `side` of answered call `key` typed the record code: the
    /// recording starts, pauses or goes on. Whether it now records; none when the
    /// call's rules forbid it.
    pub fn toggle_recording(&mut self, key: CallKey, side: Side) -> Option<bool> {
        self.extension_on(key, side)?;
        self.decide_recording(key);
        let call = self.calls.get(&key)?;
        let next = match &call.recording {
            Recording::Undecided | Recording::Never => return None,
            Recording::OnDemand => Recording::On {
                file: crate::recording::file_name(call.started_wall, key),
                paused: false,
            },
            Recording::On { file, paused } => Recording::On {
                file: file.clone(),
                paused: !paused,
            },
        };
        let on = matches!(next, Recording::On { paused: false, .. });
        self.set_recording(key, next);
        Some(on)
    }

    /// The file call `key` is recorded into, if it has been.
    pub(super) fn recording_file(&self, key: CallKey) -> Option<String> {
        match &self.calls.get(&key)?.recording {
            Recording::On { file, .. } => Some(file.clone()),
            _ => None,
        }
    }

    fn set_recording(&mut self, key: CallKey, recording: Recording) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let starts = !matches!(call.recording, Recording::On { .. });
        let customer = customer_side(call);
        if let Recording::On { file, paused } = &recording {
            self.media(MediaCommand::RecordCall {
                call: key,
                file: file.clone(),
                on: !paused,
            });
            if let Some(to) = customer.filter(|_| starts && self.recording_rules.announce) {
                // Said before the customer hears the office (who hears music meanwhile).
                self.media(MediaCommand::Say {
                    call: key,
                    to,
                    words: vec![Word::CallRecorded],
                });
            }
        }
        if let Some(call) = self.calls.get_mut(&key) {
            call.recording = recording;
        }
    }
}

/// The side of a call in or out through a trunk that is not the office's.
fn customer_side(call: &Call) -> Option<Side> {
    if call.direction() == Direction::Internal {
        return None;
    }
    let office = office_parties(call);
    [Side::A, Side::B]
        .into_iter()
        .find(|side| office.iter().all(|(s, _)| s != side))
}
