//! Model checks of the event and semaphore state machines (`src/sync/state.rs`, included
//! as is) with loom: every interleaving of the threads below, up to a preemption bound,
//! with loom's atomics standing in for the shared words and a spinning futex model.
//!
//! The futex model sleeps on a condition variable: a release that forgets to wake a
//! sleeper shows up as a deadlock. A timed wait that finds the word unchanged times out
//! at once, so every timeout races with every release.

// The state machines serve the Linux backend only (Windows has kernel objects), and
// loom's switching between thread stacks aborts on the first panic under Wine.
#![cfg(target_os = "linux")]

#[path = "../src/sync/state.rs"]
#[allow(dead_code)]
mod state;

mod atomic {
    pub use loom::sync::atomic::*;
}

use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use state::{EventWords, Futex, SemaphoreWords};
use std::time::Instant;

/// A futex as the kernel has it: `wait` sleeps only if the word still holds the expected
/// value, checked under the same lock that `wake` takes, so a wake is never lost between
/// the check and the sleep, and a sleeper nobody wakes stays asleep (loom then reports
/// the deadlock).
#[derive(Clone, Default)]
struct ModelFutex(Arc<(Mutex<()>, Condvar)>);

impl Futex for ModelFutex {
    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        let (lock, cond) = &*self.0;
        let guard = lock.lock().unwrap();
        if word.load(SeqCst) != expected {
            return true;
        }
        if deadline.is_some() {
            return false; // the timeout expires before any wake
        }
        drop(cond.wait(guard).unwrap());
        true
    }

    fn wake(&self, _word: &AtomicU32, n: u32) {
        let (lock, cond) = &*self.0;
        let _guard = lock.lock().unwrap();
        if n == 1 {
            cond.notify_one();
        } else {
            cond.notify_all();
        }
    }
}

#[derive(Default)]
struct Words {
    state: AtomicU64,
    seq: AtomicU32,
    futex: ModelFutex,
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

fn event(w: &Words, manual: bool) -> EventWords<'_> {
    EventWords {
        state: &w.state,
        seq: &w.seq,
        manual,
    }
}

fn semaphore(w: &Words, max: u32) -> SemaphoreWords<'_> {
    SemaphoreWords {
        state: &w.state,
        seq: &w.seq,
        max,
    }
}

const SIGNALED: u64 = 1;

#[test]
fn auto_reset_two_sets_release_two_waiters_and_leave_it_reset() {
    model(|| {
        let w = Arc::new(Words::default());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                thread::spawn(move || assert!(event(&w, false).wait(&w.futex, None, false)))
            })
            .collect();
        // Two sets release two waiters only if both wait by then: setting a set event
        // changes nothing. Wait for both registrations (the waiter count, bits 1..).
        while w.state.load(SeqCst) != 2 << 1 {
            thread::yield_now();
        }
        event(&w, false).set(&w.futex);
        event(&w, false).set(&w.futex);
        for t in waiters {
            t.join().unwrap();
        }
        assert_eq!(w.state.load(SeqCst), 0, "no signal, waiter or token left");
    });
}

#[test]
fn auto_reset_one_set_releases_exactly_one_of_a_timed_waiter_and_the_event() {
    model(|| {
        let w = Arc::new(Words::default());
        let w2 = w.clone();
        let waiter =
            thread::spawn(move || event(&w2, false).wait(&w2.futex, Some(Instant::now()), false));
        event(&w, false).set(&w.futex);
        let released = waiter.join().unwrap();
        let left = w.state.load(SeqCst);
        // Either the waiter took the set, or it timed out first and the event stays set:
        // one set, one release, never both and never neither.
        if released {
            assert_eq!(left, 0);
        } else {
            assert_eq!(left, SIGNALED);
        }
    });
}

#[test]
fn auto_reset_a_set_hands_off_to_a_waiter_even_if_a_poller_comes() {
    model(|| {
        let w = Arc::new(Words::default());
        let w2 = w.clone();
        let waiter = thread::spawn(move || event(&w2, false).wait(&w2.futex, None, false));
        let w3 = w.clone();
        let poller = thread::spawn(move || event(&w3, false).wait(&w3.futex, None, true));
        event(&w, false).set(&w.futex);
        let polled = poller.join().unwrap();
        if polled {
            // The poller took the only set; the waiter needs a second one.
            event(&w, false).set(&w.futex);
        }
        assert!(waiter.join().unwrap());
        assert_eq!(w.state.load(SeqCst), 0);
    });
}

#[test]
fn manual_reset_set_then_reset_releases_the_waiter() {
    model(|| {
        let w = Arc::new(Words::default());
        let w2 = w.clone();
        let waiter = thread::spawn(move || event(&w2, true).wait(&w2.futex, None, false));
        // Only a waiter that registered before the set is sure to see it, so wait for the
        // registration (the waiter count) before setting.
        while w.state.load(SeqCst) == 0 {
            thread::yield_now();
        }
        event(&w, true).set(&w.futex);
        event(&w, true).reset();
        assert!(waiter.join().unwrap());
        assert_eq!(w.state.load(SeqCst), 0, "reset, and the waiter left");
    });
}

#[test]
fn manual_reset_set_releases_every_waiter() {
    model(|| {
        let w = Arc::new(Words::default());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                thread::spawn(move || event(&w, true).wait(&w.futex, None, false))
            })
            .collect();
        event(&w, true).set(&w.futex);
        for t in waiters {
            assert!(t.join().unwrap());
        }
        assert_eq!(w.state.load(SeqCst), SIGNALED, "still set");
    });
}

#[test]
fn semaphore_units_are_conserved_across_waits_timeouts_and_releases() {
    model(|| {
        let w = Arc::new(Words::default());
        let w1 = w.clone();
        let blocking = thread::spawn(move || semaphore(&w1, 2).acquire(&w1.futex, None, false));
        let w2 = w.clone();
        let timed = thread::spawn(move || {
            semaphore(&w2, 2).acquire(&w2.futex, Some(Instant::now()), false)
        });
        assert_eq!(semaphore(&w, 2).release(1, &w.futex), Ok(0));
        let timed_got = timed.join().unwrap();
        if timed_got {
            // The timed waiter took the unit: the blocking one needs another.
            semaphore(&w, 2).release(1, &w.futex).unwrap();
        }
        assert!(blocking.join().unwrap());
        assert_eq!(w.state.load(SeqCst), 0, "no unit and no waiter left");
    });
}

#[test]
fn semaphore_releases_never_pass_the_maximum() {
    model(|| {
        let w = Arc::new(Words::default());
        let releasers: Vec<_> = (0..2)
            .map(|_| {
                let w = w.clone();
                thread::spawn(move || semaphore(&w, 1).release(1, &w.futex).is_ok())
            })
            .collect();
        let ok: usize = releasers
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(ok, 1, "exactly one release fits under a maximum of 1");
        assert_eq!(w.state.load(SeqCst), 1);
    });
}
