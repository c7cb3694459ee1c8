//! Uncontended sync operations make no system call: a child process runs thousands of
//! them under `strace`, and the futex calls between its two markers are counted.
#![cfg(target_os = "linux")]

mod common;

use common::{child, child_role, unique, wait_output};
use shmkit::sync::{Event, EventReset, Mutex, Semaphore};
use std::io::Write;

const ROUNDS: usize = 10_000;

#[test]
#[ignore = "entry point of the child processes of these tests"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    assert_eq!(role, "uncontended");
    let name = &args[0];
    let m = Mutex::create(&format!("{name}-m")).unwrap();
    let e = Event::create(&format!("{name}-e"), EventReset::Manual, true).unwrap();
    let s = Semaphore::create(&format!("{name}-s"), 1, 1).unwrap();
    let mut out = std::io::stdout().lock();
    out.write_all(b"@@begin\n").unwrap();
    out.flush().unwrap();
    for _ in 0..ROUNDS {
        drop(m.lock().unwrap());
        assert!(e.wait_timeout(std::time::Duration::ZERO).unwrap());
        e.set().unwrap(); // already set: no change, no wake
        assert!(s.try_acquire().unwrap());
        s.release(1).unwrap(); // nobody waits: no wake
    }
    out.write_all(b"@@end\n").unwrap();
    out.flush().unwrap();
}

#[test]
fn uncontended_lock_wait_set_and_release_make_no_system_call() {
    let strace = ["/usr/bin/strace", "/bin/strace"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("strace is needed for this test (scripts/test installs it)");
    let log = std::env::temp_dir().join(format!("shmkit-strace-{}.log", std::process::id()));
    let test_cmd = child("uncontended", &[&unique("nosys")]);
    let mut cmd = std::process::Command::new(strace);
    cmd.args(["-f", "-qq", "-e", "trace=futex,write", "-o"])
        .arg(&log)
        .arg(test_cmd.get_program())
        .args(test_cmd.get_args())
        .envs(
            test_cmd
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = wait_output(cmd.spawn().unwrap());
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(
        out.status.success(),
        "{}\n{trace}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = trace.lines().collect();
    let at = |marker: &str| {
        lines
            .iter()
            .position(|l| l.contains("write(") && l.contains(marker))
            .unwrap_or_else(|| panic!("no {marker} in the trace:\n{trace}"))
    };
    let (begin, end) = (at("@@begin"), at("@@end"));
    let futexes = lines[begin..end]
        .iter()
        .filter(|l| l.contains("futex("))
        .count();
    // 4 * ROUNDS operations; a handful of futex calls may come from the test harness's
    // own threads, never one per operation.
    assert!(
        futexes < 10,
        "{futexes} futex calls for {} operations:\n{}",
        4 * ROUNDS,
        lines[begin..end].join("\n")
    );
}
