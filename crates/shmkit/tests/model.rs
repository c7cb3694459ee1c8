//! Model checks of the mutex, event and semaphore state machines (`src/sync/lockword.rs`
//! and `src/sync/state.rs`) and of the channel ring (`src/channel/ring.rs`), included as
//! is, with loom: every interleaving of the threads below, up to a preemption bound,
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

#[path = "../src/sync/lockword.rs"]
#[allow(dead_code)]
mod lockword;

#[path = "../src/sync/reserve.rs"]
#[allow(dead_code)]
mod reserve;

#[path = "../src/channel/ring.rs"]
#[allow(dead_code)]
mod ring;

mod atomic {
    pub use loom::sync::atomic::*;
}

use lockword::{Locked, Me, MutexWords, Owners};
use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use reserve::Reservers;
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

/// No wait-all runs in these models (tests/model_multiwait.rs has them): a reservation
/// is never found.
impl Reservers for ModelFutex {
    fn reserver_id(&self) -> u64 {
        1
    }
    fn reserver_alive(&self, _: u64) -> bool {
        true
    }
    fn pause(&self, _: u32) {
        thread::yield_now();
    }
}

#[derive(Default)]
struct Words {
    state: AtomicU64,
    seq: AtomicU32,
    reserver: AtomicU64,
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
        reserver: &w.reserver,
        manual,
    }
}

fn semaphore(w: &Words, max: u32) -> SemaphoreWords<'_> {
    SemaphoreWords {
        state: &w.state,
        seq: &w.seq,
        reserver: &w.reserver,
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
        event(&w, true).reset(&w.futex);
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

// --- the mutex -------------------------------------------------------------------------

/// The words of a mutex, with the set of owner threads that died (bit `tid`).
#[derive(Default)]
struct MutexModel {
    state: AtomicU64,
    seq: AtomicU32,
    depth: AtomicU32,
    start: AtomicU64,
    sealed: AtomicU32,
    reserver: AtomicU64,
    dead: AtomicU32,
    futex: ModelFutex,
}

impl MutexModel {
    fn words(&self) -> MutexWords<'_> {
        MutexWords {
            state: &self.state,
            seq: &self.seq,
            depth: &self.depth,
            start: &self.start,
            sealed: &self.sealed,
            reserver: &self.reserver,
        }
    }

    fn lock(&self, tid: u32) -> Locked {
        self.words().lock(me(tid), self, self, None, false)
    }

    fn try_lock(&self, tid: u32) -> Locked {
        self.words()
            .lock(me(tid), self, self, Some(Instant::now()), true)
    }

    fn unlock(&self, tid: u32) {
        self.words()
            .unlock(me(tid), self)
            .expect("the owner releases it");
    }

    /// Thread `tid` ends, holding what it holds. Its sleeping waiters find out at their
    /// next look (see the `Futex` below); waking them stands for their sleeps ending.
    fn die(&self, tid: u32) {
        let (lock, cond) = &*self.futex.0;
        let _guard = lock.lock().unwrap();
        self.dead.fetch_or(1 << tid, SeqCst);
        cond.notify_all();
    }

    fn owner_dead(&self) -> bool {
        let owner = (self.state.load(SeqCst) & lockword::TID_MASK) as u32;
        owner != 0 && !self.alive(owner, None)
    }
}

impl Owners for MutexModel {
    fn alive(&self, tid: u32, _start: Option<u64>) -> bool {
        tid >= 32 || self.dead.load(SeqCst) & (1 << tid) == 0
    }

    fn recheck(&self, _round: u32) -> Option<std::time::Duration> {
        Some(std::time::Duration::ZERO) // a slice: see the `Futex` below
    }
}

/// The mutex's waits are all slices (`recheck`) or polls. A slice ends at once when the
/// owner is dead, which is when its end matters; otherwise it lasts until a wake, so a
/// lost wake-up shows as a deadlock instead of being covered up by the next look.
impl Reservers for MutexModel {
    fn reserver_id(&self) -> u64 {
        1
    }
    fn reserver_alive(&self, _: u64) -> bool {
        true
    }
    fn pause(&self, _: u32) {
        thread::yield_now();
    }
}

impl Futex for MutexModel {
    fn wait(&self, word: &AtomicU32, expected: u32, _deadline: Option<Instant>) -> bool {
        let (lock, cond) = &*self.futex.0;
        let guard = lock.lock().unwrap();
        if word.load(SeqCst) != expected {
            return true;
        }
        if self.owner_dead() {
            return false;
        }
        drop(cond.wait(guard).unwrap());
        true
    }

    fn wake(&self, word: &AtomicU32, n: u32) {
        self.futex.wake(word, n)
    }
}

fn me(tid: u32) -> Me {
    Me {
        tid,
        start: u64::from(tid) * 100,
    }
}

/// Holds the mutex for a moment, checking that nobody else is inside.
fn critical(inside: &AtomicU32) {
    assert_eq!(inside.fetch_add(1, SeqCst), 0, "two owners at once");
    thread::yield_now();
    inside.fetch_sub(1, SeqCst);
}

#[test]
fn mutex_excludes_and_no_release_is_lost() {
    model(|| {
        let m = Arc::new(MutexModel::default());
        let inside = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (1..=2)
            .map(|tid| {
                let (m, inside) = (m.clone(), inside.clone());
                thread::spawn(move || {
                    assert_eq!(m.lock(tid), Locked::Acquired);
                    critical(&inside);
                    m.unlock(tid);
                })
            })
            .collect();
        assert_eq!(m.lock(3), Locked::Acquired);
        critical(&inside);
        m.unlock(3);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(m.try_lock(4), Locked::Acquired, "free at the end");
    });
}

#[test]
fn mutex_recursion_needs_as_many_releases() {
    model(|| {
        let m = Arc::new(MutexModel::default());
        assert_eq!(m.lock(1), Locked::Acquired);
        assert_eq!(m.lock(1), Locked::Acquired);
        let m2 = m.clone();
        let other = thread::spawn(move || {
            let got = m2.lock(2);
            m2.unlock(2);
            got
        });
        m.unlock(1);
        assert!(m.words().owned_by(me(1)), "still held once");
        m.unlock(1);
        assert_eq!(other.join().unwrap(), Locked::Acquired);
    });
}

#[test]
fn mutex_an_owner_that_dies_is_reported_to_exactly_one_waiter() {
    model(|| {
        let m = Arc::new(MutexModel::default());
        assert_eq!(m.lock(1), Locked::Acquired);
        let waiters: Vec<_> = (2..=3)
            .map(|tid| {
                let m = m.clone();
                thread::spawn(move || {
                    let got = m.lock(tid);
                    m.unlock(tid);
                    got
                })
            })
            .collect();
        // Thread 1 dies holding it, before or after the waiters arrive.
        m.die(1);
        let got: Vec<_> = waiters.into_iter().map(|t| t.join().unwrap()).collect();
        let abandoned = got.iter().filter(|g| **g == Locked::Abandoned).count();
        assert_eq!(abandoned, 1, "{got:?}");
        assert!(got.contains(&Locked::Acquired), "{got:?}");
    });
}

#[test]
fn mutex_a_new_thread_with_a_dead_owners_id_does_not_inherit_its_hold() {
    model(|| {
        let m = Arc::new(MutexModel::default());
        assert_eq!(m.lock(1), Locked::Acquired);
        // The id 1 comes back, on a thread started at another time.
        let reborn = Me { tid: 1, start: 7 };
        assert!(!m.words().owned_by(reborn));
        assert!(m.words().unlock(reborn, &*m).is_err());
        let got = m.words().lock(reborn, &*m, &*m, None, false);
        assert_eq!(got, Locked::Abandoned);
        assert!(m.words().owned_by(reborn));
    });
}

#[test]
fn mutex_a_poll_never_takes_a_live_owners_mutex() {
    model(|| {
        let m = Arc::new(MutexModel::default());
        assert_eq!(m.lock(1), Locked::Acquired);
        let m2 = m.clone();
        let poller = thread::spawn(move || m2.try_lock(2));
        let polled = poller.join().unwrap();
        assert_eq!(polled, Locked::TimedOut);
        assert!(m.words().owned_by(me(1)));
        m.unlock(1);
    });
}

// --- the channel ring ------------------------------------------------------------------

/// A ring of 64 bytes (four records of up to 8 bytes), its shared words, the senders'
/// claim lock, and whether each side is gone.
struct RingModel {
    headers: Vec<AtomicU64>,
    words: [AtomicU64; 2],
    flags: [AtomicU32; 4],
    claim: MutexModel,
    senders_gone: AtomicU32,
    futex: ModelFutex,
}

const G: ring::Geometry = ring::Geometry {
    size: 64,
    max_message: 8,
};

impl RingModel {
    fn new() -> RingModel {
        RingModel {
            headers: (0..8).map(|_| AtomicU64::new(0)).collect(),
            words: Default::default(),
            flags: Default::default(),
            claim: MutexModel::default(),
            senders_gone: AtomicU32::new(0),
            futex: ModelFutex::default(),
        }
    }

    fn words(&self) -> ring::Words<'_> {
        ring::Words {
            head: &self.words[0],
            tail: &self.words[1],
            rx_seq: &self.flags[0],
            rx_sleeping: &self.flags[1],
            tx_seq: &self.flags[2],
            tx_sleeping: &self.flags[3],
        }
    }

    /// Sends a message of `len` bytes, sleeping while full; with `claim`, under the
    /// senders' lock as thread `tid`.
    fn send(&self, len: u64, claim: Option<u32>) {
        if let Some(tid) = claim {
            assert_eq!(self.claim.lock(tid), Locked::Acquired);
        }
        let w = self.words();
        let head = w.head.load(SeqCst);
        let mut tail = w.tail_before(&G, head).unwrap();
        let c = loop {
            if let Some(c) = w.claim(&G, head, tail, len) {
                break c;
            }
            let waited = w.wait_for_tail(
                &G,
                head,
                tail,
                ring::Waiting::Spin(Default::default()),
                None,
                self,
            );
            match waited.unwrap() {
                ring::Waited::Moved(t) => tail = t,
                other => panic!("{other:?}"),
            }
        };
        w.commit(&G, self, c, len, self);
        if let Some(tid) = claim {
            self.claim.unlock(tid);
        }
    }

    /// Receives the next message's length, sleeping while empty; `None`: disconnected.
    fn recv(&self, tail: &mut u64) -> Option<u64> {
        let w = self.words();
        loop {
            if let Some(r) = w.record_at(&G, self, *tail).unwrap() {
                w.consume(r.next, self);
                *tail = r.next;
                return Some(r.len);
            }
            let waited = w.wait_for_record(
                &G,
                self,
                *tail,
                ring::Waiting::Spin(Default::default()),
                None,
                self,
            );
            match waited.unwrap() {
                ring::Waited::Moved(_) => {}
                ring::Waited::Disconnected => return None,
                ring::Waited::TimedOut => panic!("no deadline"),
            }
        }
    }

    /// The last sender detaches, as its `Drop` does: gone, then a wake-up.
    fn senders_leave(&self) {
        self.senders_gone.store(1, SeqCst);
        let w = self.words();
        w.rx_seq.fetch_add(1, SeqCst);
        self.futex.wake(w.rx_seq, u32::MAX);
    }
}

impl ring::Region for RingModel {
    fn header(&self, at: u64) -> &AtomicU64 {
        &self.headers[(at / 8) as usize]
    }
}

impl ring::Ends for RingModel {
    fn wait(&self, word: &AtomicU32, seen: u32, deadline: Option<Instant>) {
        self.futex.wait(word, seen, deadline);
    }
    fn wake(&self, word: &AtomicU32, _n: u32) {
        // Both sides' words share one condition variable here: wake every sleeper, as a
        // wake of the right word would wake its own.
        self.futex.wake(word, u32::MAX);
    }
    fn peer_gone(&self) -> bool {
        self.senders_gone.load(SeqCst) != 0
    }
    fn recheck(&self) -> Option<std::time::Duration> {
        None // sleep until woken: a lost wake-up is a deadlock
    }
}

#[test]
fn ring_a_sleeping_receiver_and_a_sleeping_sender_always_wake_each_other() {
    model(|| {
        let r = Arc::new(RingModel::new());
        let r2 = r.clone();
        // Five 8-byte messages through a ring of four records: the sender waits for
        // room at least once, the receiver for messages.
        let sender = thread::spawn(move || {
            for len in [8, 1, 8, 2, 8] {
                r2.send(len, None);
            }
            r2.senders_leave();
        });
        let mut tail = 0;
        let got: Vec<_> = (0..5).map(|_| r.recv(&mut tail)).collect();
        assert_eq!(got, [Some(8), Some(1), Some(8), Some(2), Some(8)]);
        assert_eq!(
            r.recv(&mut tail),
            None,
            "disconnected after the last message"
        );
        sender.join().unwrap();
    });
}

#[test]
fn ring_two_senders_take_turns_and_every_message_arrives_once() {
    model(|| {
        let r = Arc::new(RingModel::new());
        let senders: Vec<_> = [(1u32, 3u64), (2, 5)]
            .into_iter()
            .map(|(tid, len)| {
                let r = r.clone();
                thread::spawn(move || r.send(len, Some(tid)))
            })
            .collect();
        let mut tail = 0;
        let mut got = [r.recv(&mut tail), r.recv(&mut tail)];
        got.sort();
        assert_eq!(got, [Some(3), Some(5)]);
        for s in senders {
            s.join().unwrap();
        }
    });
}
