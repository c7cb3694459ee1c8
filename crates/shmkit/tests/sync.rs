//! SPEC section 7 (and 1.5 across kinds): named mutexes, events and semaphores, through
//! the public API only, across threads and processes. Children are this test binary
//! re-run in a role (`child_entry`); every wait is bounded by a watchdog.

mod common;

use common::{child, child_role, report, unique, wait_output};
use shmkit::sync::{Acquire, Event, EventReset, Guarded, Mutex, Semaphore};
use shmkit::{Access, ErrorKind, Mapping};
use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a test waits for something that must happen.
const PATIENCE: Duration = Duration::from_secs(30);

#[test]
#[ignore = "entry point of the child processes of these tests"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    let arg = |i: usize| args[i].as_str();
    match role.as_str() {
        // Takes the mutex, says so, and holds it until killed (or stdin closes).
        "mutex-holder" => {
            let m = Mutex::open(arg(0)).unwrap();
            let g = m.lock().unwrap();
            report(format!("locked abandoned={}", g.was_abandoned()));
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        // Waits for the event, then reports.
        "event-waiter" => {
            let e = Event::open(arg(0)).unwrap();
            report("waiting");
            let released = e.wait_timeout(PATIENCE).unwrap();
            report(format!("released={released}"));
        }
        // Sets the event after reporting.
        "event-setter" => {
            let e = Event::open(arg(0)).unwrap();
            e.set().unwrap();
            report("set");
        }
        // Releases the semaphore by n and reports the previous count.
        "sem-releaser" => {
            let s = Semaphore::open(arg(0)).unwrap();
            let prev = s.release(arg(1).parse().unwrap()).unwrap();
            report(format!("previous={prev}"));
        }
        // Adds 1 to the guarded counter n times, each under the mutex.
        "incrementer" => {
            let g = Guarded::<Counter>::open(arg(0)).unwrap();
            let n: u64 = arg(1).parse().unwrap();
            for _ in 0..n {
                let mut guard = g.lock().unwrap();
                let v = guard.data().value;
                // A read-modify-write that loses updates unless the mutex excludes.
                std::hint::black_box(&v);
                guard.data_mut().value = v + 1;
                guard.data_mut().writes += 1;
            }
            report("done");
        }
        // Uses an inherited event: sets it.
        "inherited-event" => {
            let e = Event::from_inherited(arg(0)).unwrap();
            e.set().unwrap();
            report(format!("set name={:?}", e.name()));
        }
        // Opens an object of the given kind and reports the error kind.
        "open-kind" => {
            let r = match arg(1) {
                "mutex" => Mutex::open(arg(0)).map(|_| ()),
                "event" => Event::open(arg(0)).map(|_| ()),
                _ => Semaphore::open(arg(0)).map(|_| ()),
            };
            report(match r {
                Ok(()) => "ok".to_owned(),
                Err(e) => format!("{:?} {}", e.kind(), e.win32_code()),
            });
        }
        other => panic!("unknown role {other}"),
    }
}

shmkit::shm_safe! {
    /// The stress test's shared value.
    pub struct Counter {
        /// Incremented by read, then write: loses updates without the mutex.
        pub value: u64,
        /// How many writes were made.
        pub writes: u64,
    }
}

/// A running child whose `@@` lines arrive on a channel.
struct Kid {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
}

impl Kid {
    fn start(role: &str, args: &[&str]) -> Kid {
        let mut c = child(role, args).spawn().unwrap();
        let out = c.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(l) = line.strip_prefix("@@") {
                    let _ = tx.send(l.to_owned());
                }
            }
        });
        Kid {
            child: Some(c),
            lines: rx,
        }
    }

    /// The next reported line; panics (after killing the child) when none comes in time.
    fn next(&mut self) -> String {
        match self.lines.recv_timeout(PATIENCE) {
            Ok(l) => l,
            Err(_) => {
                let out = wait_output_killed(self.child.take().unwrap());
                panic!(
                    "watchdog: the child reported nothing; stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    /// A reported line if one arrives within `d`.
    fn poll(&mut self, d: Duration) -> Option<String> {
        self.lines.recv_timeout(d).ok()
    }

    /// Kills the child (SIGKILL; TerminateProcess on Windows) and reaps it.
    fn kill(mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// Waits for a clean exit.
    fn finish(mut self) {
        let mut c = self.child.take().unwrap();
        drop(c.stdin.take());
        let out = wait_output(c);
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_output_killed(mut c: Child) -> std::process::Output {
    let _ = c.kill();
    c.wait_with_output().unwrap()
}

// ---- 7.1 mutex -------------------------------------------------------------------------

#[test]
fn rule_7_1_a_mutex_is_recursive_for_its_owner_and_exclusive_for_other_threads() {
    let name = unique("mutex-recursive");
    let m = Mutex::create(&name).unwrap();
    assert!(!m.already_existed());
    let outer = m.lock().unwrap();
    let inner = m.try_lock().unwrap().expect("the owner takes it again");
    assert!(m.is_owned_by_current_thread());
    let other = Mutex::open(&name).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(
                other.try_lock().unwrap().is_none(),
                "held by the main thread"
            );
            assert!(!other.is_owned_by_current_thread());
        });
    });
    drop(inner);
    std::thread::scope(|s| {
        s.spawn(|| assert!(other.try_lock().unwrap().is_none(), "still held once"));
    });
    drop(outer);
    std::thread::scope(|s| {
        s.spawn(|| {
            let g = other.try_lock().unwrap().expect("free after both releases");
            assert!(!g.was_abandoned());
        });
    });
}

#[test]
fn rule_7_1_releasing_a_mutex_one_does_not_own_is_error_288() {
    let name = unique("mutex-not-owner");
    let m = Mutex::create(&name).unwrap();
    let e = m.release().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotOwner);
    assert_eq!(e.win32_code(), 288);
    assert!(e.to_string().contains(&name), "{e}");
    // Owned by this thread: another thread may not release it either.
    assert_eq!(m.acquire(None).unwrap(), Acquire::Acquired);
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(m.release().unwrap_err().win32_code(), 288));
    });
    m.release().unwrap();
    assert_eq!(m.release().unwrap_err().kind(), ErrorKind::NotOwner);
}

#[test]
fn rule_7_1_a_mutex_created_owned_belongs_to_its_creator() {
    let name = unique("mutex-initial-owner");
    let m = Mutex::options().name(&name).create_mutex(true).unwrap();
    assert!(m.is_owned_by_current_thread());
    let other = Mutex::open(&name).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| assert!(other.try_lock().unwrap().is_none()));
    });
    m.release().unwrap();
    // An existing mutex opened with an initial owner is not taken (CreateMutex).
    let again = Mutex::options().name(&name).create_mutex(true).unwrap();
    assert!(again.already_existed());
    assert!(!again.is_owned_by_current_thread());
}

#[test]
fn rule_7_1_a_mutex_whose_owner_is_killed_is_acquired_as_abandoned() {
    let name = unique("mutex-abandoned");
    let m = Mutex::create(&name).unwrap();
    let mut kid = Kid::start("mutex-holder", &[&name]);
    assert_eq!(kid.next(), "locked abandoned=false");
    assert!(m.try_lock().unwrap().is_none(), "the child holds it");
    kid.kill();
    let g = m
        .lock_timeout(PATIENCE)
        .unwrap()
        .expect("acquired after the owner died");
    assert!(g.was_abandoned(), "WAIT_ABANDONED");
    drop(g);
    let g = m.try_lock().unwrap().expect("usable again");
    assert!(!g.was_abandoned(), "abandonment is reported once");
}

#[test]
fn rule_7_1_a_waiter_blocked_on_a_mutex_wakes_as_abandoned_when_the_owner_is_killed() {
    let name = unique("mutex-abandoned-waiter");
    let m = Mutex::create(&name).unwrap();
    let mut kid = Kid::start("mutex-holder", &[&name]);
    assert_eq!(kid.next(), "locked abandoned=false");
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let outcome = m.acquire(Some(PATIENCE)).unwrap();
            tx.send(outcome).unwrap();
            if outcome != Acquire::TimedOut {
                m.release().unwrap();
            }
        });
        // Give the waiter time to block, then kill the owner under it.
        std::thread::sleep(Duration::from_millis(100));
        kid.kill();
        assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), Acquire::Abandoned);
    });
    // A second process sees an ordinary mutex again.
    let mut kid = Kid::start("mutex-holder", &[&name]);
    assert_eq!(kid.next(), "locked abandoned=false");
    kid.finish();
}

#[test]
fn rule_7_1_a_mutex_held_by_a_thread_that_ends_is_abandoned() {
    let name = unique("mutex-thread-ends");
    let m = Mutex::create(&name).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let g = m.lock().unwrap();
            std::mem::forget(g); // the thread ends owning it
        });
    });
    // The scope ends when the thread's closure returns, which may be before the system
    // has ended the thread (under Wine, always): wait for it, under the watchdog.
    let g = m
        .lock_timeout(common::WATCHDOG)
        .unwrap()
        .expect("the owner thread has ended");
    assert!(g.was_abandoned());
}

#[test]
fn rule_7_1_a_mutex_handle_closed_by_its_owner_stays_owned_until_the_thread_ends() {
    let name = unique("mutex-closed-owned");
    let keeper = Mutex::create(&name).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let m = Mutex::open(&name).unwrap();
            std::mem::forget(m.lock().unwrap());
            drop(m); // closing the handle does not release the mutex (Windows)
            std::thread::scope(|s2| {
                s2.spawn(|| assert!(keeper.try_lock().unwrap().is_none()));
            });
        });
    });
    // As above: the thread may still be ending when the scope returns.
    let g = keeper
        .lock_timeout(common::WATCHDOG)
        .unwrap()
        .expect("released when the thread ended");
    assert!(g.was_abandoned());
}

// ---- 7.2 event -------------------------------------------------------------------------

#[test]
fn rule_7_2_a_manual_reset_event_releases_every_waiter_and_stays_set() {
    let name = unique("event-manual");
    let e = Event::create(&name, EventReset::Manual, false).unwrap();
    assert_eq!(e.reset_kind(), EventReset::Manual);
    let mut kids: Vec<Kid> = (0..3)
        .map(|_| Kid::start("event-waiter", &[&name]))
        .collect();
    for k in &mut kids {
        assert_eq!(k.next(), "waiting");
    }
    e.set().unwrap();
    for k in &mut kids {
        assert_eq!(k.next(), "released=true");
    }
    assert!(e.wait_timeout(Duration::ZERO).unwrap(), "still set");
    e.reset().unwrap();
    assert!(!e.wait_timeout(Duration::ZERO).unwrap(), "reset");
    for k in kids {
        k.finish();
    }
}

#[test]
fn rule_7_2_an_auto_reset_event_releases_one_waiter_per_set() {
    let name = unique("event-auto");
    let e = Event::create(&name, EventReset::Auto, false).unwrap();
    let mut kids: Vec<Kid> = (0..3)
        .map(|_| Kid::start("event-waiter", &[&name]))
        .collect();
    for k in &mut kids {
        assert_eq!(k.next(), "waiting");
    }
    let released = |kids: &mut Vec<Kid>| {
        kids.iter_mut()
            .filter_map(|k| k.poll(Duration::from_millis(300)))
            .inspect(|l| assert_eq!(l, "released=true"))
            .count()
    };
    let mut total = 0;
    for set in 1..=3 {
        e.set().unwrap();
        // Each set releases exactly one waiter, whenever the waiters got to wait.
        let deadline = Instant::now() + PATIENCE;
        while total < set && Instant::now() < deadline {
            total += released(&mut kids);
        }
        total += released(&mut kids);
        assert_eq!(total, set, "after {set} sets");
    }
    assert!(
        !e.wait_timeout(Duration::ZERO).unwrap(),
        "reset by the release"
    );
    for k in kids {
        k.finish();
    }
}

#[test]
fn rule_7_2_an_auto_reset_event_set_with_no_waiter_stays_set_for_one_wait() {
    let name = unique("event-auto-no-waiter");
    let e = Event::create(&name, EventReset::Auto, false).unwrap();
    e.set().unwrap();
    e.set().unwrap(); // setting a set event changes nothing
    let other = Event::open(&name).unwrap();
    assert_eq!(other.reset_kind(), EventReset::Auto, "the creator's kind");
    assert!(other.wait_timeout(Duration::ZERO).unwrap());
    assert!(!other.wait_timeout(Duration::ZERO).unwrap());
    assert!(!e.wait_timeout(Duration::ZERO).unwrap());
}

#[test]
fn rule_7_2_an_event_created_set_is_set_and_open_keeps_its_state() {
    let name = unique("event-initial");
    let e = Event::create(&name, EventReset::Manual, true).unwrap();
    let again = Event::create(&name, EventReset::Auto, false).unwrap();
    assert!(again.already_existed());
    assert_eq!(again.reset_kind(), EventReset::Manual);
    assert!(again.wait_timeout(Duration::ZERO).unwrap());
    drop(e);
}

#[test]
fn rule_7_2_a_set_then_reset_still_releases_the_thread_waiting_at_the_set() {
    let name = unique("event-set-reset");
    let e = Event::create(&name, EventReset::Manual, false).unwrap();
    let mut kid = Kid::start("event-waiter", &[&name]);
    assert_eq!(kid.next(), "waiting");
    std::thread::sleep(Duration::from_millis(100)); // let it block
    e.set().unwrap();
    e.reset().unwrap();
    assert_eq!(kid.next(), "released=true");
    kid.finish();
}

// ---- 7.3 semaphore ---------------------------------------------------------------------

#[test]
fn rule_7_3_initial_above_maximum_is_error_87() {
    let name = unique("sem-bad");
    for (initial, max) in [(3, 2), (0, 0)] {
        let e = Semaphore::create(&name, initial, max).unwrap_err();
        assert_eq!(e.win32_code(), 87, "{initial}/{max}: {e}");
    }
    assert_eq!(
        Semaphore::open(&name).unwrap_err().kind(),
        ErrorKind::NotFound,
        "nothing was created"
    );
}

#[test]
fn rule_7_3_a_release_past_the_maximum_is_error_298_and_changes_nothing() {
    let name = unique("sem-bounds");
    let s = Semaphore::create(&name, 1, 3).unwrap();
    assert_eq!(s.max(), 3);
    assert_eq!(s.release(1).unwrap(), 1, "reports the previous count");
    let e = s.release(2).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooManyPosts);
    assert_eq!(e.win32_code(), 298);
    assert_eq!(
        s.release(1).unwrap(),
        2,
        "the failed release changed nothing"
    );
    for _ in 0..3 {
        assert!(s.try_acquire().unwrap());
    }
    assert!(!s.try_acquire().unwrap(), "exactly the maximum was there");
    assert_eq!(s.release(0).unwrap_err().win32_code(), 87);
}

#[test]
fn rule_7_3_a_release_in_another_process_wakes_a_waiter_and_reports_the_count() {
    let name = unique("sem-cross");
    let s = Semaphore::create(&name, 0, 5).unwrap();
    std::thread::scope(|sc| {
        let waiter = sc.spawn(|| s.acquire_timeout(PATIENCE).unwrap());
        let mut kid = Kid::start("sem-releaser", &[&name, "2"]);
        assert_eq!(kid.next(), "previous=0");
        kid.finish();
        assert!(waiter.join().unwrap());
    });
    assert!(s.try_acquire().unwrap(), "the second unit");
    assert!(!s.try_acquire().unwrap());
    let again = Semaphore::create(&name, 5, 9).unwrap();
    assert!(again.already_existed());
    assert_eq!(again.max(), 5, "the creator's maximum");
}

// ---- 7.4 timeouts ----------------------------------------------------------------------

#[test]
fn rule_7_4_waits_time_out_and_zero_polls() {
    let e = Event::create(&unique("timeout-event"), EventReset::Auto, false).unwrap();
    let s = Semaphore::create(&unique("timeout-sem"), 0, 1).unwrap();
    let m = Mutex::create(&unique("timeout-mutex")).unwrap();
    assert!(!e.wait_timeout(Duration::ZERO).unwrap());
    assert!(!s.acquire_timeout(Duration::ZERO).unwrap());
    let t = Duration::from_millis(50);
    let start = Instant::now();
    assert!(!e.wait_timeout(t).unwrap(), "WAIT_TIMEOUT");
    assert!(start.elapsed() >= t, "waited the timeout out");
    let start = Instant::now();
    assert!(!s.acquire_timeout(t).unwrap());
    assert!(start.elapsed() >= t);
    let _g = m.lock().unwrap();
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let start = Instant::now();
            assert_eq!(m.acquire(Some(t)).unwrap(), Acquire::TimedOut);
            assert!(start.elapsed() >= t);
            assert_eq!(m.acquire(Some(Duration::ZERO)).unwrap(), Acquire::TimedOut);
        });
    });
}

#[test]
fn rule_7_4_an_infinite_wait_is_released_by_another_process() {
    let name = unique("event-infinite");
    let e = Event::create(&name, EventReset::Auto, false).unwrap();
    std::thread::scope(|sc| {
        let waiter = sc.spawn(|| e.wait().unwrap());
        let mut kid = Kid::start("event-setter", &[&name]);
        assert_eq!(kid.next(), "set");
        kid.finish();
        waiter.join().unwrap();
    });
}

// ---- 7.5 create-or-open and lifetime; 1.5 one namespace --------------------------------

#[test]
fn rule_7_5_create_opens_an_existing_object_and_open_needs_one() {
    let name = unique("sync-create-open");
    for kind in ["mutex", "event", "semaphore"] {
        let n = format!("{name}-{kind}");
        let e = match kind {
            "mutex" => Mutex::open(&n).map(|_| ()),
            "event" => Event::open(&n).map(|_| ()),
            _ => Semaphore::open(&n).map(|_| ()),
        }
        .unwrap_err();
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::NotFound, 2),
            "{kind}"
        );
        assert!(e.to_string().contains(&n), "{e}");
    }
    let a = Mutex::create(&name).unwrap();
    let b = Mutex::create(&name).unwrap();
    assert!(!a.already_existed());
    assert!(b.already_existed());
    assert_eq!(
        Mutex::create_new(&name).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(b.name(), Some(name.as_str()));
}

#[test]
fn rule_7_5_the_name_goes_with_the_last_handle_in_every_process() {
    let name = unique("sync-lifetime");
    let e = Event::create(&name, EventReset::Manual, true).unwrap();
    let clone = e.try_clone().unwrap();
    drop(e);
    assert!(Event::open(&name).is_ok(), "the clone keeps the name");
    drop(clone);
    let err = Event::open(&name).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let fresh = Event::create(&name, EventReset::Manual, false).unwrap();
    assert!(!fresh.already_existed());
    assert!(
        !fresh.wait_timeout(Duration::ZERO).unwrap(),
        "a new object, not the old set one"
    );
}

#[test]
fn rule_7_5_a_killed_sole_holder_leaves_no_object() {
    let name = unique("sync-stale");
    let m = Mutex::create(&name).unwrap();
    let mut kid = Kid::start("mutex-holder", &[&name]);
    assert_eq!(kid.next(), "locked abandoned=false");
    drop(m);
    kid.kill();
    assert_eq!(Mutex::open(&name).unwrap_err().kind(), ErrorKind::NotFound);
    let fresh = Mutex::create(&name).unwrap();
    assert!(!fresh.already_existed());
    let g = fresh.try_lock().unwrap().expect("a new mutex, free");
    assert!(!g.was_abandoned());
}

#[test]
fn rule_1_5_every_kind_refuses_a_name_held_by_another_kind() {
    let base = unique("kinds");
    let mapping = format!("{base}-mapping");
    let mutex = format!("{base}-mutex");
    let event = format!("{base}-event");
    let sem = format!("{base}-sem");
    let _m = Mapping::create(&mapping, 4096).unwrap();
    let _x = Mutex::create(&mutex).unwrap();
    let _e = Event::create(&event, EventReset::Auto, false).unwrap();
    let _s = Semaphore::create(&sem, 0, 1).unwrap();
    let wrong = |r: shmkit::Result<()>, what: &str| {
        let e = r.unwrap_err();
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::WrongType, 6),
            "{what}: {e}"
        );
    };
    wrong(Mutex::create(&mapping).map(|_| ()), "mutex on a mapping");
    wrong(Mutex::open(&event).map(|_| ()), "mutex on an event");
    wrong(
        Event::create(&sem, EventReset::Manual, false).map(|_| ()),
        "event on a semaphore",
    );
    wrong(Event::open(&mutex).map(|_| ()), "event on a mutex");
    wrong(
        Semaphore::create(&event, 0, 1).map(|_| ()),
        "semaphore on an event",
    );
    wrong(
        Semaphore::open(&mapping).map(|_| ()),
        "semaphore on a mapping",
    );
    wrong(
        Mapping::create(&mutex, 4096).map(|_| ()),
        "mapping on a mutex",
    );
    wrong(
        Mapping::open(&sem, Access::Read).map(|_| ()),
        "mapping on a semaphore",
    );
    // The same from another process.
    let mut kid = Kid::start("open-kind", &[&mutex, "event"]);
    assert_eq!(kid.next(), "WrongType 6");
    kid.finish();
}

// ---- 8.1 inheritance -------------------------------------------------------------------

#[test]
fn rule_8_1_a_child_uses_an_inherited_event() {
    for named in [true, false] {
        let name = unique("event-inherit");
        let mut opts = Event::options();
        if named {
            opts.name(&name);
        }
        let e = opts.create_event(EventReset::Auto, false).unwrap();
        let mut cmd = child("inherited-event", &[]);
        let token = e.share_with(&mut cmd).unwrap();
        cmd.env("SHMKIT_TEST_ARGS", &token);
        let out = wait_output(cmd.spawn().unwrap());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expect = if named {
            format!("set name={:?}", Some(&name))
        } else {
            "set name=None".to_owned()
        };
        assert_eq!(common::reported(&out), [expect]);
        assert!(e.wait_timeout(Duration::ZERO).unwrap(), "the child set it");
    }
}

#[test]
fn rule_8_2_bogus_inherit_tokens_are_invalid_handles() {
    for token in [
        "",
        "shmkit-sync:",
        "shmkit-sync:999999:event:named",
        "nonsense",
    ] {
        let e = Event::from_inherited(token).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidHandle, "{token:?}");
    }
    let m = Mutex::options()
        .inheritable(true)
        .create_mutex(false)
        .unwrap();
    let token = m.inherit_token().unwrap();
    // A descriptor of this process (close-on-exec) is not an inherited one.
    assert_eq!(
        Mutex::from_inherited(&token).unwrap_err().kind(),
        ErrorKind::InvalidHandle
    );
}

// ---- the guarded value, under load -----------------------------------------------------

#[test]
fn processes_incrementing_a_guarded_counter_end_at_the_exact_total() {
    let name = unique("guarded-stress");
    let shared = Guarded::<Counter>::create(&name).unwrap();
    const KIDS: usize = 4;
    const EACH: u64 = 5_000;
    let kids: Vec<Kid> = (0..KIDS)
        .map(|_| Kid::start("incrementer", &[&name, &EACH.to_string()]))
        .collect();
    // The parent competes too.
    for _ in 0..EACH {
        let mut g = shared.lock().unwrap();
        g.data_mut().value += 1;
        g.data_mut().writes += 1;
    }
    for mut k in kids {
        assert_eq!(k.next(), "done");
        k.finish();
    }
    let g = shared.lock().unwrap();
    assert_eq!(g.data().value, EACH * (KIDS as u64 + 1));
    assert_eq!(g.data().writes, EACH * (KIDS as u64 + 1));
    assert!(!g.was_abandoned());
}

#[test]
fn a_guarded_value_must_be_aligned_and_fit() {
    let name = unique("guarded-bounds");
    let m = Mapping::create(&name, 64).unwrap();
    let x = Mutex::create(&format!("{name}-lock")).unwrap();
    let e =
        Guarded::<Counter>::over(x.try_clone().unwrap(), m.try_clone().unwrap(), 4).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Misaligned, "{e}");
    let e =
        Guarded::<Counter>::over(x.try_clone().unwrap(), m.try_clone().unwrap(), 56).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfRange, "{e}");
    let ok = Guarded::<Counter>::over(x, m, 48).unwrap();
    ok.lock().unwrap().data_mut().value = 7;
}
