//! Runs every example (one per scenario of the reference documents) as a user would, and
//! checks its transcript: both processes speak, the data crosses, the flags and error
//! codes are the documented ones, and nothing is left behind in the store.
//!
//! Each run gets its own `SHMKIT_EXAMPLE_SUFFIX`, so runs in parallel (and other test
//! processes) never share an object. A run that lasts longer than [`TIMEOUT`] is killed,
//! with every process it started, and fails.

use std::io::Read;
#[cfg(unix)]
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// The longest an example may run.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The examples this file runs.
const EXAMPLES: [&str; 7] = [
    "parent_child",
    "open_or_create",
    "shared_library",
    "global_message",
    "create_exclusive",
    "channel_pingpong",
    "frames",
];

/// A finished run of an example.
struct Run {
    example: &'static str,
    suffix: String,
    pid: u32,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// A report of the run, for failure messages.
    fn describe(&self) -> String {
        format!(
            "example {} (suffix {}, pid {}) exited with {}\n--- stdout\n{}--- stderr\n{}---",
            self.example, self.suffix, self.pid, self.status, self.stdout, self.stderr
        )
    }
}

/// A suffix no other run uses: this process's id and a counter.
fn unique_suffix() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t{}n{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The directory of the example binaries, built once for all tests with the profile
/// (and target) of this test binary.
///
/// Cargo builds the examples along with the tests only when it builds every target, not
/// for `cargo test --test examples`; building them here makes sure that the binaries run
/// are the current ones.
///
/// Under Wine (a Windows build run on Linux) cargo cannot be started from the test:
/// there the binaries are those `cargo test` built along with the tests, which it does
/// when it builds every target (as the Windows test lane runs it).
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        #[cfg(windows)]
        {
            let exe = std::env::current_exe().expect("cannot locate the test binary");
            let dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("the test binary is not in <profile dir>/deps")
                .join("examples");
            for example in EXAMPLES {
                let path = dir.join(format!("{example}.exe"));
                assert!(
                    path.exists(),
                    "{} is missing: run `cargo test` without a target filter, which builds the examples",
                    path.display()
                );
            }
            dir
        }
        #[cfg(not(windows))]
        build_examples()
    })
}

/// Builds the examples with the profile (and target) of this test binary; returns their
/// directory.
#[cfg(not(windows))]
fn build_examples() -> PathBuf {
    // This binary is <target dir>/[<triple>/]<profile dir>/deps/examples-<hash>.
    let exe = std::env::current_exe().expect("cannot locate the test binary");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is not in <profile dir>/deps")
        .to_path_buf();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
        None => panic!("unexpected profile directory {}", profile_dir.display()),
    };
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR has no parent")
        .to_path_buf();
    let above = profile_dir
        .parent()
        .expect("the profile directory has no parent");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "build",
            "--quiet",
            "--package",
            "shmkit",
            "--profile",
            &profile,
        ]);
    if above != target_dir {
        let triple = above
            .file_name()
            .and_then(|n| n.to_str())
            .expect("unexpected target directory layout");
        cargo.args(["--target", triple]);
    }
    for example in EXAMPLES {
        cargo.args(["--example", example]);
    }
    // Quiet unless it fails: warnings of the library belong to its own build.
    let out = cargo
        .output()
        .expect("cannot run cargo to build the examples");
    assert!(
        out.status.success(),
        "building the examples failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    profile_dir.join("examples")
}

/// Runs `example` with a fresh suffix, killing it (and every process it started) after
/// [`TIMEOUT`].
fn run(example: &'static str) -> Run {
    run_with(example, &[])
}

/// [`run`], with arguments.
fn run_with(example: &'static str, args: &[&str]) -> Run {
    let suffix = unique_suffix();
    let exe = examples_dir().join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
    let mut cmd = Command::new(&exe);
    cmd.args(args)
        .env("SHMKIT_EXAMPLE_SUFFIX", &suffix)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that the watchdog can kill the processes it starts.
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let stdout = thread::spawn(move || read_all(stdout));
    let stderr = thread::spawn(move || read_all(stderr));

    let deadline = Instant::now() + TIMEOUT;
    let finished = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("cannot wait for example {example}: {e}"),
        }
    };
    let status = match finished {
        Some(status) => status,
        None => {
            #[cfg(unix)]
            kill_group(pid);
            // Windows has no process groups: the example itself is terminated; the
            // process it started ends when its own wait for the example's data fails.
            #[cfg(windows)]
            let _ = child.kill();
            child.wait().expect("cannot reap the killed example")
        }
    };
    let run = Run {
        example,
        suffix,
        pid,
        status,
        stdout: stdout.join().expect("stdout reader panicked"),
        stderr: stderr.join().expect("stderr reader panicked"),
    };
    assert!(
        finished.is_some(),
        "killed after {} s\n{}",
        TIMEOUT.as_secs(),
        run.describe()
    );
    run
}

fn read_all(mut from: impl Read) -> String {
    let mut bytes = Vec::new();
    let _ = from.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(unix)]
fn kill_group(pgid: u32) {
    let pgid = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .expect("a process id");
    let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
}

/// Checks that the run succeeded and printed exactly `expected`, line by line, where
/// `{pid}` stands for a process id and `{..}` for any text (at most one of them a line);
/// returns the process ids found there.
fn expect_transcript(run: &Run, expected: &[String]) -> Vec<u32> {
    assert!(
        run.status.success(),
        "the example failed\n{}",
        run.describe()
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        expected.len(),
        "expected {} lines:\n{}\n{}",
        expected.len(),
        expected.join("\n"),
        run.describe()
    );
    let mut pids = Vec::new();
    for (line, want) in lines.iter().zip(expected) {
        let hole = |mark: &str| {
            let (before, after) = want.split_once(mark)?;
            line.strip_prefix(before)?.strip_suffix(after)
        };
        let matched = if let Some(digits) = hole("{pid}") {
            match digits.parse::<u32>() {
                Ok(pid) => {
                    pids.push(pid);
                    true
                }
                Err(_) => false,
            }
        } else {
            hole("{..}").is_some() || line == want
        };
        assert!(
            matched,
            "line {line:?} does not match {want:?}\n{}",
            run.describe()
        );
    }
    pids
}

/// Checks that every line comes from one of the two sides, and that both spoke.
fn expect_sides(run: &Run, first: &str, second: &str) {
    let (a, b) = (format!("[{first}] "), format!("[{second}] "));
    for line in run.stdout.lines() {
        assert!(
            line.starts_with(&a) || line.starts_with(&b),
            "line {line:?} is from neither side\n{}",
            run.describe()
        );
    }
    for side in [&a, &b] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(side.as_str())),
            "nothing from {side}\n{}",
            run.describe()
        );
    }
}

/// The size in a transcript line of a process that opened an object of `size` bytes:
/// Windows reports whole pages for a paging-file-backed section opened by name (see
/// `opened_size` in tests/conformance.rs for the Microsoft documents).
fn opened(size: u64) -> u64 {
    if cfg!(windows) {
        size.next_multiple_of(4096)
    } else {
        size
    }
}

/// The store root, as the library finds it.
#[cfg(target_os = "linux")]
fn store_root() -> PathBuf {
    std::env::var_os("SHMKIT_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/dev/shm"))
}

/// Checks that the object `name` of the run is gone and, on Linux, that no object of the
/// run (a name ending in its suffix) and no lease of the processes `pids` is left in any
/// namespace directory of the store.
fn expect_nothing_left(run: &Run, pids: &[u32], name: &str) {
    let e = shmkit::Mapping::open(name, shmkit::Access::Read)
        .expect_err("the object outlived the example");
    assert_eq!(
        e.kind(),
        shmkit::ErrorKind::NotFound,
        "{e}\n{}",
        run.describe()
    );
    #[cfg(target_os = "linux")]
    expect_nothing_left_in_store(run, pids);
    #[cfg(not(target_os = "linux"))]
    let _ = pids;
}

#[cfg(target_os = "linux")]
fn expect_nothing_left_in_store(run: &Run, pids: &[u32]) {
    let tail = format!("-{}", run.suffix);
    let leases: Vec<String> = pids.iter().map(|p| format!("l.{p}.")).collect();
    let mut left = Vec::new();
    let dirs = std::fs::read_dir(store_root()).expect("cannot list the store root");
    for dir in dirs.flatten() {
        if !dir.file_name().to_string_lossy().starts_with("shmkit.") {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(dir.path()) else {
            continue; // another user's directory
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.ends_with(&tail) || leases.iter().any(|l| file.starts_with(l.as_str())) {
                left.push(entry.path());
            }
        }
    }
    assert!(left.is_empty(), "left behind: {left:?}\n{}", run.describe());
}

#[test]
fn parent_child() {
    let run = run("parent_child");
    let name = format!(r"Local\sharedmemory-{}", run.suffix);
    let message = r#""Message from the parent process.""#;
    let pids = expect_transcript(
        &run,
        &[
            format!("[parent] created {name} (1024 bytes)"),
            format!("[parent] wrote {message} to {name}"),
            "[parent] starting the child and waiting for it to exit".to_owned(),
            format!("[child] opened {name} ({} bytes)", opened(1024)),
            format!("[child] read {message}"),
            format!("[parent] the child (pid {{pid}}) has exited; closing {name}"),
        ],
    );
    expect_sides(&run, "parent", "child");
    expect_nothing_left(&run, &[&[run.pid][..], &pids].concat(), &name);
}

#[test]
fn open_or_create() {
    let run = run("open_or_create");
    let name = format!("sharememory-{}", run.suffix);
    let pids = expect_transcript(
        &run,
        &[
            format!(
                "[first] Mapping::create({name:?}, 1024): already_existed() == false (1024 bytes)"
            ),
            r#"[first] wrote "This is common data!""#.to_owned(),
            "[first] starting the second process and waiting for it to exit".to_owned(),
            format!(
                "[second] Mapping::create({name:?}, 1024): already_existed() == true ({} bytes)",
                opened(1024)
            ),
            r#"[second] read "This is common data!""#.to_owned(),
            format!("[first] the second process (pid {{pid}}) has exited; closing {name}"),
        ],
    );
    expect_sides(&run, "first", "second");
    expect_nothing_left(&run, &[&[run.pid][..], &pids].concat(), &name);
}

#[test]
fn shared_library() {
    let run = run("shared_library");
    let name = format!("dllmemfilemap-{}", run.suffix);
    let text = r#""This is a test string""#;
    let pids = expect_transcript(
        &run,
        &[
            format!("[parent] loaded the library: {name} (4096 bytes), first = true, so it zero-filled the memory"),
            format!("[parent] set_shared_mem({text})"),
            "[parent] starting the child and waiting for it to exit".to_owned(),
            format!("[child] loaded the library: {name} (4096 bytes), first = false, so it kept the memory as it was"),
            format!("[child] get_shared_mem() = {text}"),
            "[child] unloading the library".to_owned(),
            "[parent] the child (pid {pid}) has exited; unloading the library".to_owned(),
        ],
    );
    expect_sides(&run, "parent", "child");
    expect_nothing_left(&run, &[&[run.pid][..], &pids].concat(), &name);
}

#[test]
fn global_message() {
    let run = run("global_message");
    let name = format!(r"Global\MyFileMappingObject-{}", run.suffix);
    let message = r#""Message from first process.""#;
    let pids = expect_transcript(
        &run,
        &[
            format!("[first] created {name} (256 bytes)"),
            format!("[first] wrote {message} to {name}"),
            "[first] starting the second process and waiting for it to exit".to_owned(),
            format!("[second] opened {name} ({} bytes)", opened(256)),
            format!("[second] message: {message}"),
            format!("[first] the second process (pid {{pid}}) has exited; closing {name}"),
        ],
    );
    expect_sides(&run, "first", "second");
    expect_nothing_left(&run, &[&[run.pid][..], &pids].concat(), &name);
}

#[test]
fn create_exclusive() {
    let run = run("create_exclusive");
    let name = format!("MyFileMappingObject-{}", run.suffix);
    let message = r#""Message from first process.""#;
    let pids = expect_transcript(
        &run,
        &[
            format!("[first] Mapping::create_new({name:?}, 256) created the object (256 bytes)"),
            format!("[first] wrote {message} to {name}"),
            "[first] starting the second process and waiting for it to exit".to_owned(),
            format!(
                "[second] Mapping::create_new({name:?}, 256) failed: AlreadyExists, \
                 win32_code() == 183 ({{..}})"
            ),
            format!(
                "[second] Mapping::open({name:?}) opened the existing object ({} bytes)",
                opened(256)
            ),
            format!("[second] message: {message}"),
            format!("[first] the second process (pid {{pid}}) has exited; closing {name}"),
        ],
    );
    expect_sides(&run, "first", "second");
    expect_nothing_left(&run, &[&[run.pid][..], &pids].concat(), &name);
}

#[test]
fn channel_pingpong() {
    let run = run_with("channel_pingpong", &["200"]);
    let ping = format!(r"Local\ping-{}", run.suffix);
    let pong = format!(r"Local\pong-{}", run.suffix);
    let pids = expect_transcript(
        &run,
        &[
            format!("[parent] created {ping} and {pong}; starting the peer"),
            format!("[peer] opened {ping} and {pong}"),
            format!("[peer] sent back 200 messages; the parent closed {ping}"),
            "[parent] 200 round trips of 8 bytes: median {..}".to_owned(),
            "[parent] the peer (pid {pid}) has exited".to_owned(),
        ],
    );
    expect_sides(&run, "parent", "peer");
    let median = run.stdout.split("median ").nth(1).unwrap_or_default();
    assert!(median.contains(" µs (fastest "), "{}", run.describe());
    let pids = [&[run.pid][..], &pids].concat();
    expect_nothing_left(&run, &pids, &ping);
    expect_nothing_left(&run, &pids, &pong);
}

#[test]
fn frames() {
    let run = run_with("frames", &["40", "65536"]);
    let name = format!(r"Local\frames-{}", run.suffix);
    let pids = expect_transcript(
        &run,
        &[
            format!("[consumer] created {name} (ring 8 MiB); starting the producer"),
            format!("[producer] opened {name}; streaming 40 frames of 64 KiB"),
            "[producer] sent 40 frames".to_owned(),
            "[consumer] received 40 frames of 64 KiB, every one verified: {..} GB/s".to_owned(),
            "[consumer] the producer (pid {pid}) has exited".to_owned(),
        ],
    );
    expect_sides(&run, "consumer", "producer");
    expect_nothing_left(&run, &[&[run.pid][..], &pids].concat(), &name);
}
