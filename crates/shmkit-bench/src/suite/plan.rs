//! How much each measurement does, by scale.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The message sizes of the latency measurements, in bytes.
pub const SIZES: [usize; 4] = [64, 4096, 65_536, 1 << 20];

/// The message size of the streaming measurements.
pub const STREAM_SIZE: usize = 1 << 20;

/// The object size of the mapping life cycle.
pub const LIFECYCLE_SIZE: u64 = 4096;

/// How long the suite runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scale {
    /// The figures of BENCHMARKS.md.
    Full,
    /// A tenth of the work (`--quick`): well under a minute for one run.
    Quick,
    /// A handful of messages per measurement: checks that every part runs, not how fast.
    Smoke,
}

impl Scale {
    /// Measured round trips of `size` bytes (after the warm-up).
    pub fn round_trips(self, size: usize) -> usize {
        let full = match size {
            0..=1024 => 50_000,
            1025..=16_384 => 20_000,
            16_385..=262_144 => 5_000,
            _ => 1_000,
        };
        match self {
            Scale::Full => full,
            Scale::Quick => (full / 10).max(200),
            Scale::Smoke => 20,
        }
    }

    /// Round trips before the measured ones, to fault the pages in, fill the caches and
    /// let the CPUs settle.
    pub fn warm_up(self, size: usize) -> usize {
        (self.round_trips(size) / 10).max(match self {
            Scale::Smoke => 2,
            _ => 100,
        })
    }

    /// Streamed messages: (warm-up, measured).
    pub fn stream_messages(self) -> (usize, usize) {
        match self {
            Scale::Full => (1_000, 20_000),
            Scale::Quick => (200, 2_000),
            Scale::Smoke => (2, 20),
        }
    }

    /// How long each single-process rate (read, memcpy, life cycle) is measured.
    pub fn solo_time(self) -> Duration {
        match self {
            Scale::Full => Duration::from_millis(1_000),
            Scale::Quick => Duration::from_millis(200),
            Scale::Smoke => Duration::from_millis(5),
        }
    }

    /// How long the harness lets one system's two processes run before it kills them.
    pub fn deadline(self) -> Duration {
        match self {
            Scale::Full => Duration::from_secs(300),
            Scale::Quick => Duration::from_secs(60),
            Scale::Smoke => Duration::from_secs(60),
        }
    }
}
