//! The report: what `--json` writes (exactly these fields), and what the table and the
//! plots are drawn from.

use serde::{Deserialize, Serialize};

/// The whole report; each figure is the median of the runs that measured it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// One-way latency, one row per system, mode and message size.
    pub latency: Vec<LatencyRow>,
    /// Streaming throughput, and the single-core read rate (`"read-1core"`).
    pub throughput: Vec<ThroughputRow>,
    /// The single-core memcpy rate of a [`super::plan::STREAM_SIZE`] buffer, GB/s.
    pub memcpy_gbps: f64,
    /// The mapping life cycle.
    pub lifecycle: Lifecycle,
    /// The wake-up latency of shmkit-win32's waits, one row per wait.
    pub wake: Vec<WakeRow>,
}

/// How long after a `SetEvent` in another process a sleeping wait returns, in
/// nanoseconds ([`super::wake`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WakeRow {
    /// `"WaitForSingleObject"`, `"WaitForMultipleObjects"` (wait-any) or
    /// `"WaitForMultipleObjects(all)"` (wait-all: `bWaitAll` TRUE).
    pub wait: String,
    /// The handles it waits for (the one set is the last; a wait-all's others are set
    /// before it waits).
    pub handles: usize,
    /// Median.
    pub p50_ns: f64,
    /// 99th percentile.
    pub p99_ns: f64,
}

/// One-way latency (half the round trip) of one system, mode and size, in nanoseconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LatencyRow {
    /// `"flag-spin"`, `"iceoryx2"`, `"shmkit-channel"`, ...
    pub system: String,
    /// `"busy"`, `"block"`, `"adaptive"`, `"event"`.
    pub mode: String,
    /// Message size in bytes.
    pub size: usize,
    /// Median.
    pub p50_ns: f64,
    /// 99th percentile.
    pub p99_ns: f64,
    /// 99.9th percentile.
    pub p999_ns: f64,
}

/// The rate of one system at one message size, in GB/s (10^9 bytes per second).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ThroughputRow {
    /// `"iceoryx2"`, `"read-1core"`, `"shmkit-channel"`, ...
    pub system: String,
    /// Message size in bytes.
    pub size: usize,
    /// Payload bytes per second, in 10^9.
    pub gbps: f64,
}

/// Life cycles per second: create, map, write a byte, unmap, close (the name goes).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Lifecycle {
    /// `shmkit::Mapping::create` + `map` + `View::write` + drop.
    pub shmkit_ops_per_s: f64,
    /// `shm_open` + `ftruncate` + `mmap` + a write + `munmap` + `close` + `shm_unlink`.
    pub raw_ops_per_s: f64,
}

/// The latency distribution of one system at one size: [`super::stats::CURVE`]'s
/// percentiles, one-way, in nanoseconds (medians across runs). Plotted, not in the JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// As in [`LatencyRow`].
    pub system: String,
    /// As in [`LatencyRow`].
    pub mode: String,
    /// Message size in bytes.
    pub size: usize,
    /// (percentile, nanoseconds), ascending.
    pub points: Vec<(f64, f64)>,
}
