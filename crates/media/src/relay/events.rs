//! One key press sent as RFC 4733 telephone events (§2.5): a packet every 50 ms with
//! the duration so far, all with the event's start timestamp, the first marked, then
//! the end packet three times.

use std::time::{Duration, Instant};

use crate::dtmf::{Dtmf, TelephoneEvent, event_code};

const UPDATE: Duration = Duration::from_millis(50);
const END_COPIES: u8 = 3;
/// Loudness of generated tones, in -dBm0 (RFC 4733 §2.3.4): a typical phone's.
const VOLUME: u8 = 10;

/// A packet's worth of the train.
#[derive(Debug, Clone, Copy)]
pub(super) struct EventPacket {
    pub first: bool,
    pub timestamp: u32,
    pub payload: TelephoneEvent,
}

#[derive(Debug)]
pub(super) struct EventTrain {
    code: u8,
    /// Whole length in timestamp units (8 kHz).
    length: u16,
    next_at: Instant,
    sent: u16,
    ends_sent: u8,
    /// Fixed by the first packet from the stream's current timestamp.
    timestamp: Option<u32>,
}

impl EventTrain {
    pub fn new(now: Instant, dtmf: Dtmf) -> Option<Self> {
        let ms = dtmf.duration_ms.clamp(40, 2000);
        Some(EventTrain {
            code: event_code(dtmf.key)?,
            length: (ms * 8) as u16,
            next_at: now,
            sent: 0,
            ends_sent: 0,
            timestamp: None,
        })
    }

    pub fn next_at(&self) -> Instant {
        self.next_at
    }

    pub fn is_done(&self) -> bool {
        self.ends_sent >= END_COPIES
    }

    /// The packet due at `now`, if one is; `stream_timestamp` is where the outgoing
    /// stream stands, used for the event's timestamp.
    pub fn poll(&mut self, now: Instant, stream_timestamp: u32) -> Option<EventPacket> {
        if now < self.next_at || self.is_done() {
            return None;
        }
        let first = self.timestamp.is_none();
        let timestamp = *self.timestamp.get_or_insert(stream_timestamp);
        let step = (UPDATE.as_millis() * 8) as u16;
        self.sent = (self.sent + step).min(self.length);
        let end = self.sent >= self.length;
        if end {
            self.ends_sent += 1;
        }
        self.next_at = now + UPDATE;
        Some(EventPacket {
            first,
            timestamp,
            payload: TelephoneEvent {
                code: self.code,
                end,
                volume: VOLUME,
                duration: self.sent,
            },
        })
    }
}
