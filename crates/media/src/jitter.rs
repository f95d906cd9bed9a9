//! An adaptive jitter buffer for the places where Switchboard itself listens to a
//! phone: packets in arrival order go in, frames in play order come out every 20 ms,
//! with gaps marked for concealment. The in-app phone plays its calls through it, and
//! conference rooms each member's stream.
//!
//! The delay adapts to the network: the interarrival jitter (RFC 3550 §A.8) sets the
//! target depth (twice the jitter, at least one frame); when the buffer holds more
//! than it needs for a while, one frame is skipped to bring latency back down.

use std::collections::BTreeMap;

/// Frames of 20 ms at 8 kHz, in timestamp units.
const FRAME: u32 = 160;
const MAX_DEPTH: usize = 15;
/// Pops with surplus frames before one is skipped.
const SHRINK_AFTER: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout<T> {
    Frame(T),
    /// The frame due now never came (lost, or later than the buffer's delay).
    Missing,
    /// Still filling up to the target delay.
    Buffering,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    pub played: u64,
    pub missing: u64,
    /// Arrived after their turn had passed.
    pub late: u64,
    pub duplicates: u64,
    /// Skipped to shrink the delay.
    pub skipped: u64,
}

#[derive(Debug)]
pub struct JitterBuffer<T> {
    frames: BTreeMap<u64, T>,
    /// Extended sequence number of the next frame to play.
    next: Option<u64>,
    highest: Option<u64>,
    playing: bool,
    transit: Option<i64>,
    /// Jitter ×16 in timestamp units.
    jitter16: i64,
    surplus_pops: u32,
    stats: JitterStats,
}

impl<T> Default for JitterBuffer<T> {
    fn default() -> Self {
        JitterBuffer {
            frames: BTreeMap::new(),
            next: None,
            highest: None,
            playing: false,
            transit: None,
            jitter16: 0,
            surplus_pops: 0,
            stats: JitterStats::default(),
        }
    }
}

impl<T> JitterBuffer<T> {
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Frames the buffer aims to hold before playing.
    pub fn target_depth(&self) -> usize {
        let jitter = (self.jitter16 >> 4) as u32;
        ((2 * jitter).div_ceil(FRAME) as usize + 1).min(MAX_DEPTH)
    }

    /// A packet arrived; `arrival` is the local clock in timestamp units.
    pub fn push(&mut self, sequence: u16, timestamp: u32, arrival: u32, frame: T) {
        let extended = self.extend(sequence);
        let transit = i64::from(arrival.wrapping_sub(timestamp) as i32);
        if let Some(previous) = self.transit {
            let d = (transit - previous).abs();
            self.jitter16 += d * 16 - ((self.jitter16 + 8) >> 4);
        }
        self.transit = Some(transit);
        if self.next.is_some_and(|next| extended < next) {
            self.stats.late += 1;
            return;
        }
        if self.frames.insert(extended, frame).is_some() {
            self.stats.duplicates += 1;
        }
        self.highest = Some(self.highest.map_or(extended, |h| h.max(extended)));
        if self.frames.len() > 4 * MAX_DEPTH {
            // A burst far beyond any useful delay: keep the newest.
            while self.frames.len() > MAX_DEPTH {
                self.frames.pop_first();
            }
            self.next = self.frames.keys().next().copied();
        }
    }

    /// The frame due now; call every 20 ms.
    pub fn pop(&mut self) -> Playout<T> {
        if !self.playing {
            if self.frames.len() < self.target_depth() {
                return Playout::Buffering;
            }
            self.playing = true;
            self.next = self.frames.keys().next().copied();
        }
        let Some(next) = self.next else {
            return Playout::Buffering;
        };
        if self.frames.len() > self.target_depth() + 2 {
            self.surplus_pops += 1;
        } else {
            self.surplus_pops = 0;
        }
        let mut due = next;
        if self.surplus_pops >= SHRINK_AFTER && self.frames.contains_key(&(next + 1)) {
            self.frames.remove(&next);
            self.stats.skipped += 1;
            self.surplus_pops = 0;
            due = next + 1;
        }
        self.next = Some(due + 1);
        match self.frames.remove(&due) {
            Some(frame) => {
                self.stats.played += 1;
                Playout::Frame(frame)
            }
            None => {
                self.stats.missing += 1;
                if self.frames.is_empty() && self.highest.is_some_and(|h| h < due) {
                    // The stream paused (silence suppression, hold): start over.
                    self.playing = false;
                }
                Playout::Missing
            }
        }
    }

    fn extend(&self, sequence: u16) -> u64 {
        let Some(reference) = self.highest else {
            return u64::from(sequence) + (1 << 16);
        };
        let cycle = reference & !0xffff;
        let candidates = [cycle.saturating_sub(1 << 16), cycle, cycle + (1 << 16)]
            .map(|c| c + u64::from(sequence));
        candidates
            .into_iter()
            .min_by_key(|c| c.abs_diff(reference))
            .unwrap_or(reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(buffer: &mut JitterBuffer<u16>, n: usize) -> Vec<Playout<u16>> {
        (0..n).map(|_| buffer.pop()).collect()
    }

    #[test]
    fn reordered_packets_play_in_order() {
        let mut b = JitterBuffer::default();
        for seq in [1u16, 3, 2, 4] {
            b.push(seq, u32::from(seq) * FRAME, u32::from(seq) * FRAME, seq);
        }
        let played: Vec<_> = frames(&mut b, 4);
        assert_eq!(played, [1, 2, 3, 4].map(Playout::Frame));
    }

    #[test]
    fn a_lost_packet_is_a_gap_and_a_late_one_is_counted_not_played() {
        let mut b = JitterBuffer::default();
        for seq in [1u16, 2, 4, 5] {
            b.push(seq, u32::from(seq) * FRAME, u32::from(seq) * FRAME, seq);
        }
        let played = frames(&mut b, 4);
        assert_eq!(
            played,
            [
                Playout::Frame(1),
                Playout::Frame(2),
                Playout::Missing,
                Playout::Frame(4)
            ]
        );
        b.push(3, 3 * FRAME, 9 * FRAME, 3);
        assert_eq!(b.stats().late, 1);
        assert_eq!(b.pop(), Playout::Frame(5));
    }

    #[test]
    fn the_delay_grows_with_jitter_and_sequence_numbers_wrap() {
        let mut b = JitterBuffer::default();
        let mut arrival = 0u32;
        for i in 0..200u32 {
            let seq = (65_500 + i) as u16;
            // Alternately 0 and 60 ms of extra delay.
            let extra = if i % 2 == 0 { 0 } else { 480 };
            arrival = i * FRAME + extra;
            b.push(seq, i * FRAME, arrival, seq);
        }
        let _ = arrival;
        assert!(b.target_depth() >= 4, "{}", b.target_depth());
        let mut last = None;
        for _ in 0..50 {
            if let Playout::Frame(seq) = b.pop() {
                if let Some(l) = last {
                    assert_eq!(seq, u16::wrapping_add(l, 1), "in order across the wrap");
                }
                last = Some(seq);
            }
        }
    }

    #[test]
    fn a_steady_stream_settles_at_one_frame() {
        let mut b = JitterBuffer::default();
        b.push(10, 10 * FRAME, 0, 10u16);
        assert_eq!(b.target_depth(), 1);
        assert_eq!(b.pop(), Playout::Frame(10));
        assert_eq!(b.pop(), Playout::Missing);
        b.push(12, 12 * FRAME, 2 * FRAME, 12);
        assert_eq!(b.pop(), Playout::Frame(12));
    }
}
