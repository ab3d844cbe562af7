//! What the relay reports about itself at `/api/stats`: the hub's counters and how long recent
//! frames waited in it.
//!
//! The hub delay is the time from a frame reaching the hub's queue to the hub handing its answers
//! to the connections: queueing behind other work, handling, and the batch's commit. Network and
//! the clients' own processing are not in it, so beside an end-to-end latency it says how much of
//! that the relay added.

use serde::Serialize;

/// Frames whose delay is kept: the most recent this many (512 KB).
const KEPT: usize = 1 << 17;

/// The delays of recent frames, in microseconds, oldest overwritten first.
#[derive(Debug, Default)]
pub struct Delays {
    recent: Vec<u32>,
    next: usize,
    max_us: u32,
}

impl Delays {
    /// Records one frame's delay.
    pub fn record(&mut self, delay: std::time::Duration) {
        let us = u32::try_from(delay.as_micros()).unwrap_or(u32::MAX);
        self.max_us = self.max_us.max(us);
        if self.recent.len() < KEPT {
            self.recent.push(us);
        } else {
            self.recent[self.next] = us;
        }
        self.next = (self.next + 1) % KEPT;
    }

    /// Median, 99th percentile and maximum over the frames kept (the maximum since start).
    pub fn summary(&self) -> Delay {
        self.summary_of_last(KEPT)
    }

    /// The same over the last `frames` frames only (at most those kept), so a benchmark can leave
    /// out what came before its timed part; the maximum is then theirs too.
    pub fn summary_of_last(&self, frames: usize) -> Delay {
        let n = frames.min(self.recent.len());
        // `next` is where the oldest kept delay sits once the ring is full, else the end.
        let newest_first = (1..=n)
            .map(|back| self.recent[(self.next + self.recent.len() - back) % self.recent.len()]);
        let mut sorted: Vec<u32> = newest_first.collect();
        sorted.sort_unstable();
        let max_us = if n == self.recent.len() {
            self.max_us
        } else {
            sorted.last().copied().unwrap_or(0)
        };
        let at = |q: f64| {
            let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
            sorted.get(i).map_or(0.0, |us| f64::from(*us) / 1000.0)
        };
        Delay {
            frames: sorted.len(),
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: f64::from(max_us) / 1000.0,
        }
    }
}

/// A summary of hub delays.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Delay {
    /// Frames summarised (the most recent, up to 131,072).
    pub frames: usize,
    /// Median, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
    /// Longest, in milliseconds: since the relay started, or over the frames asked for.
    pub max_ms: f64,
}

/// Everything `/api/stats` returns.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServiceStats {
    /// Open sync connections.
    pub connections: usize,
    /// Documents the hub holds in memory.
    pub documents_in_memory: usize,
    /// Frames received since start.
    pub frames_in: u64,
    /// Messages sent since start.
    pub messages_out: u64,
    /// Documents changed by incoming syncs since start.
    pub documents_changed: u64,
    /// Connections closed because they stopped reading (outbox full).
    pub closed_not_reading: u64,
    /// How long recent frames waited in the hub.
    pub hub_delay: Delay,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn quantiles_come_from_the_recorded_delays() {
        let mut d = Delays::default();
        assert_eq!(d.summary(), Delay::default());
        for ms in 1..=100 {
            d.record(Duration::from_millis(ms));
        }
        let s = d.summary();
        assert_eq!(s.frames, 100);
        assert_eq!(s.p50_ms, 51.0);
        assert_eq!(s.p99_ms, 99.0);
        assert_eq!(s.max_ms, 100.0);
    }

    #[test]
    fn a_summary_of_the_last_frames_leaves_out_the_ones_before() {
        let mut d = Delays::default();
        for ms in [900, 800, 3, 1, 2] {
            d.record(Duration::from_millis(ms));
        }
        let s = d.summary_of_last(3);
        assert_eq!((s.frames, s.p50_ms, s.max_ms), (3, 2.0, 3.0));
        assert_eq!(d.summary_of_last(99).max_ms, 900.0);
        // Across the ring's wrap, too.
        let mut d = Delays::default();
        for _ in 0..KEPT {
            d.record(Duration::from_millis(500));
        }
        for ms in [4, 5, 6] {
            d.record(Duration::from_millis(ms));
        }
        let s = d.summary_of_last(3);
        assert_eq!((s.frames, s.p50_ms, s.max_ms), (3, 5.0, 6.0));
    }

    #[test]
    fn only_the_most_recent_are_kept_but_the_maximum_stays() {
        let mut d = Delays::default();
        d.record(Duration::from_secs(9));
        for _ in 0..KEPT {
            d.record(Duration::from_micros(250));
        }
        let s = d.summary();
        assert_eq!(s.frames, KEPT);
        assert_eq!(s.p99_ms, 0.25);
        assert_eq!(s.max_ms, 9000.0);
    }
}
