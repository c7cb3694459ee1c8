//! The measuring processes: the bench binary started again with a spec (a hidden
//! subcommand), pinned to one CPU, running one end of one system or the single-process
//! rates, and printing `ready` once open, then one JSON report line, on stdout. It then
//! waits for its stdin to close before it closes its end, so that no end goes away while
//! its peer may still be reading.

use super::plan::{Scale, SIZES, STREAM_SIZE};
use super::system::{Endpoint, Link, System};
use super::{os, stats, work};
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What a child process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// The latency responder (a latency system's `listen` end).
    LatencyListen,
    /// The latency initiator, which reports the figures.
    LatencyConnect,
    /// The streaming receiver, which reports the rate.
    StreamListen,
    /// The streaming sender.
    StreamConnect,
    /// The single-process rates: read, memcpy, mapping life cycle.
    Solo,
    /// The side of a wake-up measurement that waits, and reports ([`super::wake`]).
    WakeWait,
    /// The side of a wake-up measurement that sets the event.
    WakeSignal,
}

impl Task {
    /// Whether the task's system is in the streaming list (else the latency list).
    pub fn is_stream(self) -> bool {
        matches!(self, Task::StreamListen | Task::StreamConnect)
    }
}

/// Everything a child is told, as one JSON argument.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    /// What to do.
    pub task: Task,
    /// The system's `system` and `mode` (empty for [`Task::Solo`]).
    pub system: String,
    /// See [`System::mode`].
    pub mode: String,
    /// [`Link::name`].
    pub name: String,
    /// [`Link::max_message`].
    pub max_message: usize,
    /// [`Link::scratch`].
    pub scratch: PathBuf,
    /// The inherited descriptors, in [`Link::take_fd`] order.
    pub fds: Vec<i32>,
    /// The CPU to pin to.
    pub cpu: usize,
    /// How much to do.
    pub scale: Scale,
}

/// The percentiles of one size, one-way, in nanoseconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SizeLatency {
    /// Message size in bytes.
    pub size: usize,
    /// The values at [`stats::CURVE`]'s percentiles.
    pub curve: Vec<f64>,
    /// 50th percentile.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
}

/// A child's one report line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ChildReport {
    /// The initiator's figures, per size.
    Latency(Vec<SizeLatency>),
    /// The receiver's rate, GB/s.
    Stream(f64),
    /// The wake-up latencies of one wait, nanoseconds.
    Wake {
        /// 50th percentile.
        p50: f64,
        /// 99th percentile.
        p99: f64,
    },
    /// The single-process rates.
    Solo {
        /// Reading every byte of a 1 MiB buffer, GB/s.
        read_gbps: f64,
        /// Copying a 1 MiB buffer, GB/s.
        memcpy_gbps: f64,
        /// shmkit life cycles per second.
        shmkit_ops_per_s: f64,
        /// Raw POSIX life cycles per second.
        raw_ops_per_s: f64,
    },
    /// The end that reports nothing is done.
    Done,
    /// What failed.
    Error(String),
}

/// Finds `system`/`mode` in the list a task uses.
pub fn find_system(task: Task, system: &str, mode: &str) -> Option<System> {
    let list = if task.is_stream() {
        super::systems::stream_systems()
    } else {
        super::systems::latency_systems()
    };
    list.into_iter()
        .find(|s| s.system == system && s.mode == mode)
}

fn say(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

fn report(r: &ChildReport) {
    let line = serde_json::to_string(r).unwrap_or_else(|e| format!("{{\"Error\":\"{e}\"}}"));
    // The parent reads this line; if stdout is gone there is nobody to tell.
    let _ = say(&line);
}

/// Runs a child to the end; returns whether it succeeded.
pub fn main(spec: &Spec) -> bool {
    let outcome = run(spec);
    let ok = !matches!(outcome.0, ChildReport::Error(_));
    report(&outcome.0);
    // Wait for the parent to close stdin (or to go away) before closing the end.
    let _ = io::stdin().lock().read_to_end(&mut Vec::new());
    drop(outcome.1);
    ok
}

fn run(spec: &Spec) -> (ChildReport, Option<Box<dyn Endpoint>>) {
    if let Err(e) = os::pin_to_cpu(spec.cpu) {
        return (
            ChildReport::Error(format!("pin to CPU {}: {e}", spec.cpu)),
            None,
        );
    }
    if spec.task == Task::Solo {
        let _ = say("ready");
        return (solo(spec.scale), None);
    }
    if matches!(spec.task, Task::WakeWait | Task::WakeSignal) {
        return (wake(spec), None);
    }
    let Some(system) = find_system(spec.task, &spec.system, &spec.mode) else {
        return (
            ChildReport::Error(format!("no system {} {}", spec.system, spec.mode)),
            None,
        );
    };
    let mut link = Link::new(
        &spec.name,
        &spec.mode,
        spec.max_message,
        spec.scratch.clone(),
    );
    for &fd in &spec.fds {
        match os::adopt(fd) {
            Ok(fd) => link.fds.push(Some(fd)),
            Err(e) => {
                return (
                    ChildReport::Error(format!("inherited descriptor {fd}: {e}")),
                    None,
                )
            }
        }
    }
    let open = match spec.task {
        Task::LatencyListen | Task::StreamListen => system.listen,
        _ => system.connect,
    };
    let mut end = match open(&mut link) {
        Ok(end) => end,
        Err(e) => return (ChildReport::Error(format!("open: {e}")), None),
    };
    drop(link); // closes the descriptors of the other end
    if let Err(e) = say("ready") {
        return (ChildReport::Error(format!("stdout: {e}")), Some(end));
    }
    let result = match spec.task {
        Task::LatencyListen => respond(end.as_mut(), spec.scale).map(|()| ChildReport::Done),
        Task::LatencyConnect => initiate(end.as_mut(), spec.scale).map(ChildReport::Latency),
        Task::StreamListen => receive_stream(end.as_mut(), spec.scale).map(ChildReport::Stream),
        Task::StreamConnect => send_stream(end.as_mut(), spec.scale).map(|()| ChildReport::Done),
        Task::Solo | Task::WakeWait | Task::WakeSignal => unreachable!("handled above"),
    };
    let report = result.unwrap_or_else(|e| ChildReport::Error(e.to_string()));
    (report, Some(end))
}

fn wake(spec: &Spec) -> ChildReport {
    use super::wake;
    let done = if spec.task == Task::WakeWait {
        wake::waiter(&spec.name, &spec.mode, spec.scale, || {
            let _ = say("ready");
        })
        .map(|sorted| ChildReport::Wake {
            p50: stats::percentile(&sorted, 50.0),
            p99: stats::percentile(&sorted, 99.0),
        })
    } else {
        let _ = say("ready");
        wake::signaller(&spec.name, &spec.mode, spec.scale).map(|()| ChildReport::Done)
    };
    done.unwrap_or_else(|e| ChildReport::Error(e.to_string()))
}

fn bad_data(what: &str, i: usize, size: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what} {i} of {size} bytes does not hold what was sent"),
    )
}

/// The initiator: per size, round trips of a message and its answer, each timed.
pub fn initiate(end: &mut dyn Endpoint, scale: Scale) -> io::Result<Vec<SizeLatency>> {
    let mut out = Vec::new();
    for size in SIZES {
        let warm = scale.warm_up(size);
        let n = scale.round_trips(size);
        let mut one_way = Vec::with_capacity(n);
        for i in 0..warm + n {
            let tag = work::tag(i);
            let mut ok = false;
            let start = Instant::now();
            end.send(size, &mut |b| work::fill(b, tag))?;
            end.recv(size, &mut |b| ok = work::check(b, !tag))?;
            let rtt = start.elapsed();
            if !ok {
                return Err(bad_data("answer", i, size));
            }
            if i >= warm {
                one_way.push(rtt.as_nanos() as f64 / 2.0);
            }
        }
        one_way.sort_by(f64::total_cmp);
        out.push(SizeLatency {
            size,
            curve: stats::CURVE
                .iter()
                .map(|&p| stats::percentile(&one_way, p))
                .collect(),
            p50: stats::percentile(&one_way, 50.0),
            p99: stats::percentile(&one_way, 99.0),
            p999: stats::percentile(&one_way, 99.9),
        });
    }
    Ok(out)
}

/// The responder: answers each message with one of the same size.
pub fn respond(end: &mut dyn Endpoint, scale: Scale) -> io::Result<()> {
    for size in SIZES {
        for i in 0..scale.warm_up(size) + scale.round_trips(size) {
            let tag = work::tag(i);
            let mut ok = false;
            end.recv(size, &mut |b| ok = work::check(b, tag))?;
            if !ok {
                return Err(bad_data("message", i, size));
            }
            end.send(size, &mut |b| work::fill(b, !tag))?;
        }
    }
    Ok(())
}

/// The streaming sender.
pub fn send_stream(end: &mut dyn Endpoint, scale: Scale) -> io::Result<()> {
    let (warm, n) = scale.stream_messages();
    for i in 0..warm + n {
        let tag = work::tag(i);
        end.send(STREAM_SIZE, &mut |b| work::fill(b, tag))?;
    }
    Ok(())
}

/// The streaming receiver: the rate of the messages after the warm-up, GB/s.
pub fn receive_stream(end: &mut dyn Endpoint, scale: Scale) -> io::Result<f64> {
    let (warm, n) = scale.stream_messages();
    let mut start = Instant::now();
    for i in 0..warm + n {
        let tag = work::tag(i);
        let mut ok = false;
        end.recv(STREAM_SIZE, &mut |b| ok = work::check(b, tag))?;
        if !ok {
            return Err(bad_data("message", i, STREAM_SIZE));
        }
        if i + 1 == warm {
            start = Instant::now();
        }
    }
    Ok(gbps(n, STREAM_SIZE, start.elapsed()))
}

fn gbps(count: usize, size: usize, took: Duration) -> f64 {
    (count as f64 * size as f64) / took.as_secs_f64() / 1e9
}

/// Repeats `op` for `time` after a tenth of that as warm-up; returns (count, elapsed).
fn repeat(time: Duration, mut op: impl FnMut() -> io::Result<()>) -> io::Result<(usize, Duration)> {
    let warm = Instant::now();
    while warm.elapsed() < time / 10 {
        op()?;
    }
    let start = Instant::now();
    let mut count = 0;
    while count == 0 || start.elapsed() < time {
        op()?;
        count += 1;
    }
    Ok((count, start.elapsed()))
}

fn solo(scale: Scale) -> ChildReport {
    match solo_rates(scale) {
        Ok(r) => r,
        Err(e) => ChildReport::Error(e.to_string()),
    }
}

fn solo_rates(scale: Scale) -> io::Result<ChildReport> {
    let time = scale.solo_time();
    let tag = work::tag(7);
    let src = vec![tag; STREAM_SIZE];
    let (n, took) = repeat(time, || {
        if work::check(&src, tag) {
            Ok(())
        } else {
            Err(bad_data("buffer", 0, STREAM_SIZE))
        }
    })?;
    let read_gbps = gbps(n, STREAM_SIZE, took);
    let mut dst = vec![0u8; STREAM_SIZE];
    let (n, took) = repeat(time, || {
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
        Ok(())
    })?;
    let memcpy_gbps = gbps(n, STREAM_SIZE, took);
    let name = crate::shmkit_name();
    let (n, took) = repeat(time, || {
        crate::shmkit_lifecycle(&name, super::plan::LIFECYCLE_SIZE).map_err(io::Error::from)
    })?;
    let shmkit_ops_per_s = n as f64 / took.as_secs_f64();
    let raw_name = crate::raw::name();
    let size = super::plan::LIFECYCLE_SIZE as usize;
    let (n, took) = repeat(time, || crate::raw::lifecycle(&raw_name, size, false))?;
    let raw_ops_per_s = n as f64 / took.as_secs_f64();
    Ok(ChildReport::Solo {
        read_gbps,
        memcpy_gbps,
        shmkit_ops_per_s,
        raw_ops_per_s,
    })
}
