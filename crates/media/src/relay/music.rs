//! Music on hold towards one leg: a looping prompt cut into 20-ms frames on a steady
//! clock. A relay that fell behind (the task was busy) skips ahead rather than
//! bursting frames the phone would only drop.

use std::time::{Duration, Instant};

use crate::prompt::PromptPlayer;

const FRAME: Duration = Duration::from_millis(20);
/// Prompts and music are kept at 8 kHz, the rate every phone can take.
pub(super) const RATE: u32 = 8000;
const SAMPLES: usize = RATE as usize / 50;
/// Further behind than this, the clock is reset to now.
const MAX_LAG: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub(super) struct Music {
    player: PromptPlayer,
    next_at: Instant,
    started: bool,
}

pub(super) struct MusicFrame {
    pub samples: [i16; SAMPLES],
    /// The first frame of a talkspurt carries the RTP marker.
    pub first: bool,
}

impl Music {
    pub fn new(now: Instant, player: PromptPlayer) -> Self {
        Music {
            player,
            next_at: now,
            started: false,
        }
    }

    pub fn next_at(&self) -> Instant {
        self.next_at
    }

    pub fn finished(&self) -> bool {
        self.player.is_finished()
    }

    pub fn frame(&mut self, now: Instant) -> Option<MusicFrame> {
        if now < self.next_at {
            return None;
        }
        if now.saturating_duration_since(self.next_at) > MAX_LAG {
            self.next_at = now;
        }
        self.next_at += FRAME;
        let mut samples = [0i16; SAMPLES];
        self.player.fill(&mut samples);
        let first = !self.started;
        self.started = true;
        Some(MusicFrame { samples, first })
    }
}
