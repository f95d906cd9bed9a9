//! Call park: a phone transfers its caller to the park code (`*70`); the caller waits
//! with music in the first free slot (`*71` to `*79`), which busy lamps show, until
//! someone dials the slot and takes the call (a pickup of the parked call). A call
//! parked too long rings the phones of whoever parked it (as a transfer's ring-back
//! does, see [`super::transfer`]).

use std::time::{Duration, Instant};

use switchboard_media::relay::Side;

use super::Ctx;
use crate::feature_codes::{FeatureCodes, PARK_SLOTS};
use crate::legs::LegEvent;
use crate::vocabulary::{CallKey, MediaCommand, Waiting};

/// How long a call stays parked before the phones that parked it ring.
pub(crate) const PARKED_FOR: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
pub(crate) struct Parking {
    slots: [Option<Parked>; PARK_SLOTS],
}

#[derive(Debug, Clone)]
struct Parked {
    call: CallKey,
    /// The extension that parked it.
    by: String,
    until: Instant,
}

/// What the park feature asks of the engine for one of its calls.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParkOutcome {
    /// Nothing for now.
    Waits,
    /// Parked too long in `slot`: the engine rings `by` back.
    RingBack {
        call: CallKey,
        slot: String,
        by: String,
    },
}

impl Parking {
    /// The first free slot, if any.
    pub fn free_slot(&self) -> Option<usize> {
        self.slots.iter().position(Option::is_none)
    }

    pub fn is_free(&self, index: usize) -> bool {
        self.slots.get(index).is_some_and(Option::is_none)
    }

    /// Parks call `key` (its caller answered already) in free slot `index`; returns
    /// the slot's number.
    pub fn park(
        &mut self,
        cx: &mut Ctx<'_>,
        key: CallKey,
        index: usize,
        by: &str,
    ) -> Option<String> {
        if !self.is_free(index) {
            return None;
        }
        let media = cx.legs.caller_media(key)?;
        let until = cx.now + PARKED_FOR;
        self.slots[index] = Some(Parked {
            call: key,
            by: by.to_string(),
            until,
        });
        cx.legs.media(MediaCommand::Wait {
            call: key,
            side: Side::A,
            media,
            hears: Waiting::Music,
        });
        cx.legs.wake_at(key, until);
        Some(cx.office.codes.park_slot(index))
    }

    /// Takes the call parked in the slot `dialled` names (`*7N`) out of it.
    pub fn take(&mut self, codes: &FeatureCodes, dialled: &str) -> Option<CallKey> {
        Some(self.slots[codes.park_slot_index(dialled)?].take()?.call)
    }

    /// The slots taken, as (slot number, call).
    pub fn taken(&self, codes: &FeatureCodes) -> Vec<(String, CallKey)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((codes.park_slot(i), s.as_ref()?.call)))
            .collect()
    }

    /// What the legs report about a parked call. The call leaves its slot when it is
    /// taken, parked too long, or gone.
    pub fn call_event(&mut self, cx: &mut Ctx<'_>, event: LegEvent) -> ParkOutcome {
        let Some(call) = event.call() else {
            return ParkOutcome::Waits;
        };
        let Some(index) = self
            .slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|p| p.call == call))
        else {
            return ParkOutcome::Waits;
        };
        match event {
            LegEvent::Wake { .. } => {
                let due = self.slots[index]
                    .as_ref()
                    .is_some_and(|p| p.until <= cx.now);
                match self.slots[index].take_if(|_| due) {
                    Some(parked) => ParkOutcome::RingBack {
                        call,
                        slot: cx.office.codes.park_slot(index),
                        by: parked.by,
                    },
                    None => ParkOutcome::Waits,
                }
            }
            LegEvent::PickedUp { .. } | LegEvent::Closed { .. } => {
                self.slots[index] = None;
                ParkOutcome::Waits
            }
            other => {
                cx.legs.end_held(cx.now, &other);
                ParkOutcome::Waits
            }
        }
    }
}
