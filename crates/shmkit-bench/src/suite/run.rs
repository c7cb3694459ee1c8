//! The orchestrating process: for each run and each system, it makes what the two ends
//! inherit, starts them (the bench binary again, with [`CHILD_COMMAND`]), collects their
//! reports with a deadline, and finally takes the medians across runs.

use super::child::{ChildReport, SizeLatency, Spec, Task};
use super::plan::{Scale, SIZES, STREAM_SIZE};
use super::report::{Distribution, LatencyRow, Lifecycle, Report, ThroughputRow, WakeRow};
use super::system::{Link, System};
use super::systems::{latency_systems, stream_systems};
use super::{iox, os, stats, wake};
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The hidden subcommand that makes the bench binary a child: `<exe> child <spec JSON>`.
pub const CHILD_COMMAND: &str = "child";

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs, each measuring every system; the figures are the medians.
    pub runs: usize,
    /// How much each measurement does.
    pub scale: Scale,
    /// The CPUs of the two ends: `[initiator or sender, responder or receiver]`; the
    /// single-process rates run on the first.
    pub cpus: [usize; 2],
    /// Only the systems whose name is one of these (all when empty); the
    /// single-process rates run unless `skip_solo`.
    pub only: Vec<String>,
    /// Leave out the read, memcpy and life-cycle rates.
    pub skip_solo: bool,
}

/// What the progress display is told.
#[derive(Debug, Clone)]
pub enum Event {
    /// The number of steps to come.
    Total(u64),
    /// A step begins.
    Start(String),
    /// The step ended (well or not).
    Done,
    /// Something went wrong; the run goes on without it.
    Failed(String),
}

/// The suite's result.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The medians.
    pub report: Report,
    /// The latency distributions (medians per percentile), for the plots.
    pub distributions: Vec<Distribution>,
    /// What failed, one line each.
    pub failures: Vec<String>,
    /// Files found and removed after the runs that a system should have removed itself.
    pub leftovers: Vec<PathBuf>,
}

#[derive(Default)]
struct RunResults {
    latency: Vec<(String, String, Vec<SizeLatency>)>,
    stream: Vec<(String, f64)>,
    /// Per wait of [`wake::WAITS`]: (p50, p99).
    wake: Vec<(wake::Wait, f64, f64)>,
    solo: Option<ChildReport>,
}

/// A private directory of the run, removed (with its contents) when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> io::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("shmkit-bench-{}", std::process::id()));
        if dir.exists() {
            // Left by an earlier process that had this pid and was killed.
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the suite.
pub fn run(opts: &Options, progress: &mut dyn FnMut(Event)) -> io::Result<Outcome> {
    let exe = std::env::current_exe()?;
    let scratch = Scratch::new()?;
    let wanted = |s: &System| opts.only.is_empty() || opts.only.iter().any(|o| o == s.system);
    let latency: Vec<System> = latency_systems().into_iter().filter(wanted).collect();
    let stream: Vec<System> = stream_systems().into_iter().filter(wanted).collect();
    let waits: &[wake::Wait] =
        if opts.only.is_empty() || opts.only.iter().any(|o| o == wake::SYSTEM) {
            &wake::WAITS
        } else {
            &[]
        };
    let per_run = latency.len() + stream.len() + waits.len() + usize::from(!opts.skip_solo);
    progress(Event::Total((opts.runs * per_run) as u64));
    let ctx = Ctx {
        exe: &exe,
        scratch: &scratch.0,
        opts,
    };
    let mut runs = Vec::new();
    let mut failures = Vec::new();
    for run in 1..=opts.runs {
        let mut results = RunResults::default();
        let mut step = |what: String, f: &mut dyn FnMut() -> Result<(), String>| {
            progress(Event::Start(format!("run {run}/{}: {what}", opts.runs)));
            if let Err(e) = f() {
                let line = format!("run {run}: {what}: {e}");
                progress(Event::Failed(line.clone()));
                failures.push(line);
            }
            progress(Event::Done);
        };
        for sys in &latency {
            step(
                format!("{} latency", sys.label()),
                &mut || match ctx.pair(sys, false, run)? {
                    ChildReport::Latency(sizes) => {
                        results
                            .latency
                            .push((sys.system.to_owned(), sys.mode.to_owned(), sizes));
                        Ok(())
                    }
                    other => Err(format!("unexpected report {other:?}")),
                },
            );
        }
        for &w in waits {
            step(
                format!("{} {} wake-up", wake::SYSTEM, wake::mode(w)),
                &mut || match ctx.wake(w, run)? {
                    ChildReport::Wake { p50, p99 } => {
                        results.wake.push((w, p50, p99));
                        Ok(())
                    }
                    other => Err(format!("unexpected report {other:?}")),
                },
            );
        }
        for sys in &stream {
            step(
                format!("{} streaming", sys.label()),
                &mut || match ctx.pair(sys, true, run)? {
                    ChildReport::Stream(gbps) => {
                        results.stream.push((sys.system.to_owned(), gbps));
                        Ok(())
                    }
                    other => Err(format!("unexpected report {other:?}")),
                },
            );
        }
        if !opts.skip_solo {
            step("read, memcpy, life cycle".to_owned(), &mut || {
                results.solo = Some(ctx.solo(run)?);
                Ok(())
            });
        }
        runs.push(results);
    }
    let leftovers = iox::remove_run_files(&scratch.0);
    drop(scratch);
    let (report, distributions) = medians(&latency, &stream, waits, &runs);
    Ok(Outcome {
        report,
        distributions,
        failures,
        leftovers,
    })
}

struct Ctx<'a> {
    exe: &'a Path,
    scratch: &'a Path,
    opts: &'a Options,
}

impl Ctx<'_> {
    fn spec(&self, task: Task, sys: Option<&System>, name: &str, fds: Vec<i32>) -> Spec {
        let cpu = match task {
            Task::LatencyListen | Task::StreamListen | Task::WakeSignal => self.opts.cpus[1],
            _ => self.opts.cpus[0],
        };
        Spec {
            task,
            system: sys.map_or(String::new(), |s| s.system.to_owned()),
            mode: sys.map_or(String::new(), |s| s.mode.to_owned()),
            name: name.to_owned(),
            max_message: max_message(),
            scratch: self.scratch.to_owned(),
            fds,
            cpu,
            scale: self.opts.scale,
        }
    }

    /// Both ends of one system; returns the report of the end that measures.
    fn pair(&self, sys: &System, stream: bool, run: usize) -> Result<ChildReport, String> {
        let name = format!(
            "sb{}r{run}-{}-{}{}",
            std::process::id(),
            sys.system,
            sys.mode,
            if stream { "-stream" } else { "" }
        );
        let link = Link::new(&name, sys.mode, max_message(), self.scratch.to_owned());
        let fds = match sys.prepare {
            Some(prepare) => prepare(&link).map_err(|e| format!("prepare: {e}"))?,
            None => Vec::new(),
        };
        for fd in &fds {
            os::inheritable(fd).map_err(|e| format!("prepare: {e}"))?;
        }
        let raw: Vec<i32> = fds.iter().map(AsRawFd::as_raw_fd).collect();
        let (listen, connect) = if stream {
            (Task::StreamListen, Task::StreamConnect)
        } else {
            (Task::LatencyListen, Task::LatencyConnect)
        };
        let first = self.spec(listen, Some(sys), &name, raw.clone());
        let second = self.spec(connect, Some(sys), &name, raw);
        // The children have their copies; the parent's go once both started.
        self.two(&first, &second, move || drop(fds))
    }

    /// A wake-up measurement of the wait `w`; returns the waiter's report.
    fn wake(&self, w: wake::Wait, run: usize) -> Result<ChildReport, String> {
        let name = format!("sb{}r{run}-wake-{}", std::process::id(), wake::mode(w));
        let mut first = self.spec(Task::WakeWait, None, &name, Vec::new());
        let mut second = self.spec(Task::WakeSignal, None, &name, Vec::new());
        for spec in [&mut first, &mut second] {
            spec.system = wake::SYSTEM.to_owned();
            spec.mode = wake::mode(w);
        }
        self.two(&first, &second, || {})
    }

    /// Starts `first`, then, once it is ready, `second` (then `started` runs); returns the
    /// report of the one that reports.
    fn two(
        &self,
        first: &Spec,
        second: &Spec,
        started: impl FnOnce(),
    ) -> Result<ChildReport, String> {
        let deadline = Instant::now() + self.opts.scale.deadline();
        let mut first = ChildProc::spawn(self.exe, first)?;
        first.wait_ready(deadline)?;
        let mut second = ChildProc::spawn(self.exe, second)?;
        started();
        let (a, b) = collect(&mut first, &mut second, deadline)?;
        first.finish(deadline)?;
        second.finish(deadline)?;
        match (a, b) {
            (ChildReport::Done, r) | (r, ChildReport::Done) => Ok(r),
            (a, b) => Err(format!("two reports: {a:?}, {b:?}")),
        }
    }

    fn solo(&self, run: usize) -> Result<ChildReport, String> {
        let name = format!("sb{}r{run}-solo", std::process::id());
        let deadline = Instant::now() + self.opts.scale.deadline();
        let mut child =
            ChildProc::spawn(self.exe, &self.spec(Task::Solo, None, &name, Vec::new()))?;
        let report = loop {
            match child.poll(Duration::from_millis(50)) {
                Some(r) => break r?,
                None if Instant::now() >= deadline => return Err(child.fail("timed out")),
                None => {}
            }
        };
        child.finish(deadline)?;
        Ok(report)
    }
}

/// The largest message of a run.
fn max_message() -> usize {
    SIZES
        .iter()
        .copied()
        .chain([STREAM_SIZE])
        .max()
        .unwrap_or(STREAM_SIZE)
}

/// Waits for both children's reports; an error of either ends both.
fn collect(
    a: &mut ChildProc,
    b: &mut ChildProc,
    deadline: Instant,
) -> Result<(ChildReport, ChildReport), String> {
    let mut ra = None;
    let mut rb = None;
    while ra.is_none() || rb.is_none() {
        for (child, slot) in [(&mut *a, &mut ra), (&mut *b, &mut rb)] {
            if slot.is_none() {
                if let Some(r) = child.poll(Duration::from_millis(5)) {
                    *slot = Some(r?);
                }
            }
        }
        if Instant::now() >= deadline {
            let which = if ra.is_none() { &mut *a } else { &mut *b };
            return Err(which.fail("timed out"));
        }
    }
    Ok((
        ra.unwrap_or(ChildReport::Done),
        rb.unwrap_or(ChildReport::Done),
    ))
}

/// A child process and the lines of its stdout.
struct ChildProc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    what: String,
    done: bool,
}

impl ChildProc {
    fn spawn(exe: &Path, spec: &Spec) -> Result<ChildProc, String> {
        let what = format!("{:?} {} {}", spec.task, spec.system, spec.mode);
        let arg = serde_json::to_string(spec).map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg(CHILD_COMMAND)
            .arg(arg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {}: {e}", exe.display()))?;
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take();
        std::thread::spawn(move || {
            if let Some(out) = out {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        });
        let err = child.stderr.take();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut err) = err {
                let _ = err.read_to_string(&mut s);
            }
            s
        });
        Ok(ChildProc {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr: Some(stderr),
            what,
            done: false,
        })
    }

    /// Ends the child and describes the failure, with what it wrote on stderr.
    fn fail(&mut self, why: &str) -> String {
        self.kill();
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let stderr = stderr.trim();
        if stderr.is_empty() {
            format!("{}: {why}", self.what)
        } else {
            format!("{}: {why}; its stderr: {stderr}", self.what)
        }
    }

    fn kill(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.done = true;
        }
    }

    fn wait_ready(&mut self, deadline: Instant) -> Result<(), String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) if line == "ready" => Ok(()),
            Ok(line) => {
                let why = match serde_json::from_str::<ChildReport>(&line) {
                    Ok(ChildReport::Error(e)) => e,
                    _ => format!("said {line:?}"),
                };
                Err(self.fail(&why))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(self.fail("not ready in time")),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(self.fail("exited before it was ready"))
            }
        }
    }

    /// The report, if one came within `wait`.
    fn poll(&mut self, wait: Duration) -> Option<Result<ChildReport, String>> {
        loop {
            return match self.lines.recv_timeout(wait) {
                Ok(line) if line == "ready" => continue,
                Ok(line) => Some(match serde_json::from_str::<ChildReport>(&line) {
                    Ok(ChildReport::Error(e)) => Err(self.fail(&e)),
                    Ok(r) => Ok(r),
                    Err(_) => Err(self.fail(&format!("said {line:?}"))),
                }),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    Some(Err(self.fail("exited without a report")))
                }
            };
        }
    }

    /// Closes the child's stdin (its cue to close its end and exit) and waits for it.
    fn finish(&mut self, deadline: Instant) -> Result<(), String> {
        drop(self.stdin.take());
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.done = true;
                    return if status.success() {
                        Ok(())
                    } else {
                        Err(self.fail(&format!("exited with {status}")))
                    };
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(None) => return Err(self.fail("did not exit in time")),
                Err(e) => return Err(self.fail(&e.to_string())),
            }
        }
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn medians(
    latency: &[System],
    stream: &[System],
    waits: &[wake::Wait],
    runs: &[RunResults],
) -> (Report, Vec<Distribution>) {
    let mut report = Report::default();
    for &w in waits {
        let per_run: Vec<(f64, f64)> = runs
            .iter()
            .flat_map(|r| r.wake.iter())
            .filter(|(x, _, _)| *x == w)
            .map(|&(_, p50, p99)| (p50, p99))
            .collect();
        if !per_run.is_empty() {
            let med = |f: fn(&(f64, f64)) -> f64| {
                stats::median(&per_run.iter().map(f).collect::<Vec<_>>())
            };
            report.wake.push(WakeRow {
                wait: wake::api(w).to_owned(),
                handles: wake::handles(w),
                p50_ns: med(|r| r.0),
                p99_ns: med(|r| r.1),
            });
        }
    }
    let mut dists = Vec::new();
    for sys in latency {
        let per_run: Vec<&Vec<SizeLatency>> = runs
            .iter()
            .flat_map(|r| r.latency.iter())
            .filter(|(s, m, _)| s == sys.system && m == sys.mode)
            .map(|(_, _, sizes)| sizes)
            .collect();
        if per_run.is_empty() {
            continue;
        }
        for size in SIZES {
            let at: Vec<&SizeLatency> = per_run
                .iter()
                .filter_map(|sizes| sizes.iter().find(|s| s.size == size))
                .collect();
            if at.is_empty() {
                continue;
            }
            let med = |f: &dyn Fn(&SizeLatency) -> f64| {
                stats::median(&at.iter().map(|s| f(s)).collect::<Vec<_>>())
            };
            report.latency.push(LatencyRow {
                system: sys.system.to_owned(),
                mode: sys.mode.to_owned(),
                size,
                p50_ns: med(&|s| s.p50),
                p99_ns: med(&|s| s.p99),
                p999_ns: med(&|s| s.p999),
            });
            dists.push(Distribution {
                system: sys.system.to_owned(),
                mode: sys.mode.to_owned(),
                size,
                points: stats::CURVE
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| (p, med(&|s| s.curve.get(i).copied().unwrap_or(f64::NAN))))
                    .collect(),
            });
        }
    }
    for sys in stream {
        let rates: Vec<f64> = runs
            .iter()
            .flat_map(|r| r.stream.iter())
            .filter(|(s, _)| s == sys.system)
            .map(|&(_, g)| g)
            .collect();
        if !rates.is_empty() {
            report.throughput.push(ThroughputRow {
                system: sys.system.to_owned(),
                size: STREAM_SIZE,
                gbps: stats::median(&rates),
            });
        }
    }
    let solos: Vec<(f64, f64, f64, f64)> = runs
        .iter()
        .filter_map(|r| match r.solo {
            Some(ChildReport::Solo {
                read_gbps,
                memcpy_gbps,
                shmkit_ops_per_s,
                raw_ops_per_s,
            }) => Some((read_gbps, memcpy_gbps, shmkit_ops_per_s, raw_ops_per_s)),
            _ => None,
        })
        .collect();
    if !solos.is_empty() {
        let med = |f: fn(&(f64, f64, f64, f64)) -> f64| {
            stats::median(&solos.iter().map(f).collect::<Vec<_>>())
        };
        report.throughput.push(ThroughputRow {
            system: READ_1CORE.to_owned(),
            size: STREAM_SIZE,
            gbps: med(|s| s.0),
        });
        report.memcpy_gbps = med(|s| s.1);
        report.lifecycle = Lifecycle {
            shmkit_ops_per_s: med(|s| s.2),
            raw_ops_per_s: med(|s| s.3),
        };
    }
    (report, dists)
}

/// The `system` of the single-core read rate in the throughput rows.
pub const READ_1CORE: &str = "read-1core";
