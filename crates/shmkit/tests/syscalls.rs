//! Uncontended sync operations make no system call: a child process runs thousands of
//! them under `strace`, and the futex calls between its two markers are counted.
#![cfg(target_os = "linux")]

mod common;

use common::{child, child_role, unique};
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
    let (out, trace) = common::strace(&child("uncontended", &[&unique("nosys")]), "futex", |_| {});
    assert!(
        out.status.success(),
        "{}\n{trace}",
        String::from_utf8_lossy(&out.stderr)
    );
    let between = common::traced_between_markers(&trace);
    let futexes = between.iter().filter(|l| l.contains("futex(")).count();
    // 4 * ROUNDS operations; a handful of futex calls may come from the test harness's
    // own threads, never one per operation.
    assert!(
        futexes < 10,
        "{futexes} futex calls for {} operations:\n{}",
        4 * ROUNDS,
        between.join("\n")
    );
}
