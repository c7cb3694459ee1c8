//! Model checks of the multi-object wait (`src/sync/multiwait.rs`) together with the
//! mutex, event and semaphore state machines it joins (`src/sync/lockword.rs`,
//! `src/sync/state.rs`), included as is, with loom: every interleaving of the threads
//! below, up to a preemption bound, with loom's atomics standing in for the shared words.
//!
//! The futex model is the kernel's: a sleeper is queued on every word it sleeps on (one,
//! or several for `futex_waitv`), a wake takes the first `n` sleepers queued on its word
//! (each off all its words at once), and a sleep begins only if every word still holds
//! its expected value, checked under the lock the wakes take. A sleeper nobody wakes
//! stays asleep, so a lost wake-up shows as a deadlock. Sleeps are not sliced (the owners
//! are asked after a wake); when a thread dies, every sleep ends at once, standing for the
//! slices that would end.

// As tests/model.rs: the state machines serve the Linux backend only.
#![cfg(target_os = "linux")]

#[path = "../src/sync/state.rs"]
#[allow(dead_code)]
mod state;

#[path = "../src/sync/lockword.rs"]
#[allow(dead_code)]
mod lockword;

#[path = "../src/sync/multiwait.rs"]
#[allow(dead_code)]
mod multiwait;

#[path = "../src/sync/reserve.rs"]
#[allow(dead_code)]
mod reserve;

mod atomic {
    pub use loom::sync::atomic::*;
}

use lockword::{Locked, Me, MutexWords, Owners};
use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use multiwait::{Futexes, Item, Woken};
use reserve::Reservers;
use state::{EventWords, Futex, SemaphoreWords};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Queue {
    next: u64,
    /// Each sleeper and the addresses of the words it sleeps on, in the order they came.
    sleepers: Vec<(u64, Vec<usize>)>,
    woken: Vec<u64>,
}

/// The kernel: futexes over every word, and which threads died.
#[derive(Default)]
struct Kernel {
    queue: Mutex<Queue>,
    cond: Condvar,
    dead: AtomicU32,
}

fn addr(word: &AtomicU32) -> usize {
    word as *const AtomicU32 as usize
}

impl Futex for Kernel {
    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        self.wait_any(&[(word, expected)], deadline)
    }

    fn wake(&self, word: &AtomicU32, n: u32) {
        let mut q = self.queue.lock().unwrap();
        let a = addr(word);
        let mut left = n;
        let mut i = 0;
        while left > 0 && i < q.sleepers.len() {
            if q.sleepers[i].1.contains(&a) {
                let (id, _) = q.sleepers.remove(i);
                q.woken.push(id);
                left -= 1;
            } else {
                i += 1;
            }
        }
        self.cond.notify_all();
    }
}

impl Futexes for Kernel {
    fn wait_any(&self, words: &[(&AtomicU32, u32)], deadline: Option<Instant>) -> bool {
        let mut q = self.queue.lock().unwrap();
        if words.iter().any(|(w, v)| w.load(SeqCst) != *v) {
            return true;
        }
        if deadline.is_some() || self.dead.load(SeqCst) != 0 {
            return false; // a timeout expires before any wake; a death ends every slice
        }
        let id = q.next;
        q.next += 1;
        q.sleepers
            .push((id, words.iter().map(|(w, _)| addr(w)).collect()));
        loop {
            q = self.cond.wait(q).unwrap();
            if let Some(p) = q.woken.iter().position(|&w| w == id) {
                q.woken.swap_remove(p);
                return true;
            }
            if self.dead.load(SeqCst) != 0 {
                q.sleepers.retain(|(s, _)| *s != id);
                return false;
            }
        }
    }
}

/// Reservers are the model's threads: a wait-all's id is made from its `me(tid)`, so
/// `die(tid)` ends it as a reserver too; any other id (a cleaner's) runs.
impl Reservers for Kernel {
    fn reserver_id(&self) -> u64 {
        let id = format!("{:?}", thread::current().id());
        let n: u64 = id
            .trim_start_matches("ThreadId(")
            .trim_end_matches(')')
            .parse()
            .unwrap_or(0);
        1000 + n
    }

    fn reserver_alive(&self, id: u64) -> bool {
        let tid = id as u32;
        tid >= 32 || self.dead.load(SeqCst) & (1 << tid) == 0
    }

    fn pause(&self, _round: u32) {
        thread::yield_now();
    }
}

impl Owners for Kernel {
    fn alive(&self, tid: u32, _start: Option<u64>) -> bool {
        self.dead.load(SeqCst) & (1 << tid) == 0
    }

    fn recheck(&self, _round: u32) -> Option<Duration> {
        None // see the module comment: deaths end every sleep
    }
}

impl Kernel {
    /// Thread `tid` ends, holding what it holds.
    fn die(&self, tid: u32) {
        let _q = self.queue.lock().unwrap();
        self.dead.fetch_or(1 << tid, SeqCst);
        self.cond.notify_all();
    }
}

/// The words of one object: enough for any kind.
#[derive(Default)]
struct Obj {
    state: AtomicU64,
    seq: AtomicU32,
    depth: AtomicU32,
    start: AtomicU64,
    sealed: AtomicU32,
    reserver: AtomicU64,
}

impl Obj {
    fn with(state: u64) -> Obj {
        let o = Obj::default();
        o.state.store(state, SeqCst);
        o
    }
    fn auto(&self) -> EventWords<'_> {
        EventWords {
            state: &self.state,
            seq: &self.seq,
            reserver: &self.reserver,
            manual: false,
        }
    }
    fn sem(&self) -> SemaphoreWords<'_> {
        SemaphoreWords {
            state: &self.state,
            seq: &self.seq,
            reserver: &self.reserver,
            max: 4,
        }
    }
    fn mutex(&self) -> MutexWords<'_> {
        MutexWords {
            state: &self.state,
            seq: &self.seq,
            depth: &self.depth,
            start: &self.start,
            sealed: &self.sealed,
            reserver: &self.reserver,
        }
    }
}

fn me(tid: u32) -> Me {
    Me {
        tid,
        start: u64::from(tid) * 100,
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

fn wait(k: &Kernel, tid: u32, items: &[Item<'_>], all: bool) -> Woken {
    multiwait::wait(items, all, me(tid), k, k, None, false)
}

#[test]
fn two_wait_anys_crossing_two_auto_reset_events_are_each_released_once() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let ev = Arc::new([Obj::default(), Obj::default()]);
        let (k2, ev2) = (k.clone(), ev.clone());
        let other = thread::spawn(move || {
            let items = [Item::Event(ev2[1].auto()), Item::Event(ev2[0].auto())];
            wait(&k2, 2, &items, false)
        });
        ev[0].auto().set(&*k);
        ev[1].auto().set(&*k);
        let items = [Item::Event(ev[0].auto()), Item::Event(ev[1].auto())];
        assert!(matches!(wait(&k, 1, &items, false), Woken::Signalled(_)));
        assert!(matches!(other.join().unwrap(), Woken::Signalled(_)));
        for e in ev.iter() {
            assert_eq!(e.state.load(SeqCst), 0, "no signal, waiter or token left");
        }
    });
}

#[test]
fn a_wait_any_beside_a_single_waiter_never_strands_it() {
    // The wait-any may be woken by the set meant for the single waiter and take the
    // semaphore instead: the token must go on to the single waiter, with a wake-up.
    model(|| {
        let k = Arc::new(Kernel::default());
        let (e, s) = (Arc::new(Obj::default()), Arc::new(Obj::default()));
        let (k2, e2) = (k.clone(), e.clone());
        let single = thread::spawn(move || assert!(e2.auto().wait(&*k2, None, false)));
        let (k3, e3, s3) = (k.clone(), e.clone(), s.clone());
        let any = thread::spawn(move || {
            let items = [Item::Semaphore(s3.sem()), Item::Event(e3.auto())];
            wait(&k3, 3, &items, false)
        });
        // The set first: it may wake the wait-any (queued first), which may then find the
        // unit and take it instead, leaving the token to the single waiter.
        e.auto().set(&*k);
        s.sem().release(1, &*k).unwrap();
        // Whatever the order of the registrations and the releases: if the wait-any took
        // the event, the single waiter needs another set; if it took the unit, the set
        // was the single waiter's.
        let got = any.join().unwrap();
        if got == Woken::Signalled(1) {
            e.auto().set(&*k);
        } else {
            assert_eq!(got, Woken::Signalled(0));
        }
        single.join().unwrap();
        assert_eq!(e.state.load(SeqCst), 0, "no signal, waiter or token left");
    });
}

#[test]
fn a_wait_any_beside_a_single_semaphore_waiter_never_strands_it() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let (e, s) = (Arc::new(Obj::default()), Arc::new(Obj::default()));
        let (k2, s2) = (k.clone(), s.clone());
        let single = thread::spawn(move || assert!(s2.sem().acquire(&*k2, None, false)));
        let (k3, e3, s3) = (k.clone(), e.clone(), s.clone());
        let any = thread::spawn(move || {
            let items = [Item::Event(e3.auto()), Item::Semaphore(s3.sem())];
            wait(&k3, 3, &items, false)
        });
        // The release first: it may wake the wait-any, which may then find the event set
        // and take it instead, leaving the unit to the single waiter.
        s.sem().release(1, &*k).unwrap();
        e.auto().set(&*k);
        let got = any.join().unwrap();
        if got == Woken::Signalled(1) {
            s.sem().release(1, &*k).unwrap();
        } else {
            assert_eq!(got, Woken::Signalled(0));
        }
        single.join().unwrap();
        assert_eq!(s.state.load(SeqCst), 0, "no unit or waiter left");
    });
}

#[test]
fn a_waiting_wait_all_holds_no_mutex_another_thread_needs() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let (m, e) = (Arc::new(Obj::default()), Arc::new(Obj::default()));
        let (k2, m2, e2) = (k.clone(), m.clone(), e.clone());
        let all = thread::spawn(move || {
            let items = [Item::Mutex(m2.mutex()), Item::Event(e2.auto())];
            let got = wait(&k2, 2, &items, true);
            m2.mutex()
                .unlock(me(2), &*k2)
                .expect("the wait-all owns the mutex");
            got
        });
        // The event is set only after this thread had the mutex: a wait-all that held it
        // while waiting for the event would deadlock here.
        assert_eq!(
            m.mutex().lock(me(1), &*k, &*k, None, false),
            Locked::Acquired
        );
        m.mutex().unlock(me(1), &*k).unwrap();
        e.auto().set(&*k);
        assert_eq!(all.join().unwrap(), Woken::Signalled(0));
        assert_eq!(
            e.state.load(SeqCst),
            0,
            "the signal consumed once, no waiter left"
        );
    });
}

#[test]
fn a_wait_all_racing_for_its_objects_takes_each_once_and_loses_nothing() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let (s, e) = (Arc::new(Obj::with(1)), Arc::new(Obj::with(1)));
        let (k2, e2) = (k.clone(), e.clone());
        let thief = thread::spawn(move || {
            // Takes the event for a moment, then puts it back.
            if e2.auto().wait(&*k2, None, true) {
                e2.auto().set(&*k2);
            }
        });
        let items = [Item::Semaphore(s.sem()), Item::Event(e.auto())];
        assert_eq!(wait(&k, 1, &items, true), Woken::Signalled(0));
        thief.join().unwrap();
        assert_eq!(s.state.load(SeqCst), 0, "one unit, taken by the wait-all");
        assert_eq!(e.state.load(SeqCst), 0, "the signal, taken by the wait-all");
    });
}

#[test]
fn a_wait_any_that_took_another_object_hands_the_mutex_on_to_its_sleeper() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let (m, e) = (Arc::new(Obj::default()), Arc::new(Obj::default()));
        assert_eq!(
            m.mutex().lock(me(1), &*k, &*k, None, true),
            Locked::Acquired
        );
        let (k2, m2) = (k.clone(), m.clone());
        let single = thread::spawn(move || {
            assert_eq!(
                m2.mutex().lock(me(2), &*k2, &*k2, None, false),
                Locked::Acquired
            );
            m2.mutex().unlock(me(2), &*k2).unwrap();
        });
        let (k3, m3, e3) = (k.clone(), m.clone(), e.clone());
        let any = thread::spawn(move || {
            let items = [Item::Event(e3.auto()), Item::Mutex(m3.mutex())];
            let got = wait(&k3, 3, &items, false);
            if got == Woken::Signalled(1) {
                m3.mutex().unlock(me(3), &*k3).unwrap();
            }
            got
        });
        // The release first: it may wake the wait-any (queued first), which may then find
        // the event set and take it instead, leaving the free mutex to the single waiter.
        m.mutex().unlock(me(1), &*k).unwrap();
        e.auto().set(&*k);
        let got = any.join().unwrap();
        single.join().unwrap();
        if got == Woken::Signalled(1) {
            // It took the mutex: the set stays for the next waiter.
            assert_eq!(e.state.load(SeqCst), 1);
        } else {
            assert_eq!(got, Woken::Signalled(0));
        }
    });
}

#[test]
fn a_mutex_abandoned_under_a_wait_any_is_reported_with_its_index() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let (m, e) = (Arc::new(Obj::default()), Arc::new(Obj::default()));
        assert_eq!(
            m.mutex().lock(me(1), &*k, &*k, None, true),
            Locked::Acquired
        );
        let (k2, m2, e2) = (k.clone(), m.clone(), e.clone());
        let any = thread::spawn(move || {
            let items = [Item::Event(e2.auto()), Item::Mutex(m2.mutex())];
            wait(&k2, 2, &items, false)
        });
        // Thread 1 dies holding it, before or after the waiter arrives.
        k.die(1);
        assert_eq!(any.join().unwrap(), Woken::Abandoned(1));
        assert!(m.mutex().owned_by(me(2)));
        assert_eq!(e.state.load(SeqCst), 0, "the event was left");
    });
}

#[test]
fn no_thread_ever_sees_a_wait_all_holding_part_of_its_set() {
    // The wait-all wants both semaphores. The other thread takes the second, then polls
    // the first: the wait-all cannot have the first without the second, so the poll must
    // find its unit (a wait-all that took its objects one by one, giving them back when
    // it lost a race, could be seen holding the first alone).
    model(|| {
        let k = Arc::new(Kernel::default());
        let (a, b) = (Arc::new(Obj::with(1)), Arc::new(Obj::with(1)));
        let (k2, a2, b2) = (k.clone(), a.clone(), b.clone());
        let all = thread::spawn(move || {
            let items = [Item::Semaphore(a2.sem()), Item::Semaphore(b2.sem())];
            wait(&k2, 2, &items, true)
        });
        if b.sem().acquire(&*k, None, true) {
            assert!(
                a.sem().acquire(&*k, None, true),
                "the wait-all holds the first object without the second"
            );
            a.sem().release(1, &*k).unwrap();
            b.sem().release(1, &*k).unwrap();
        } else {
            assert!(!a.sem().acquire(&*k, None, true), "it took both");
        }
        assert_eq!(all.join().unwrap(), Woken::Signalled(0));
        assert_eq!(a.state.load(SeqCst), 0, "its unit, taken once");
        assert_eq!(b.state.load(SeqCst), 0, "its unit, taken once");
        assert_eq!(a.reserver.load(SeqCst) | b.reserver.load(SeqCst), 0);
    });
}

#[test]
fn a_wait_all_over_a_mutex_and_an_event_is_seen_whole_or_not_at_all() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let (m, e) = (Arc::new(Obj::default()), Arc::new(Obj::with(1)));
        let (k2, m2, e2) = (k.clone(), m.clone(), e.clone());
        let all = thread::spawn(move || {
            // It keeps the mutex: a thread that gets it later got it before the wait-all.
            let items = [Item::Event(e2.auto()), Item::Mutex(m2.mutex())];
            wait(&k2, 2, &items, true)
        });
        if m.mutex().lock(me(1), &*k, &*k, None, true) == Locked::Acquired {
            assert!(
                e.auto().wait(&*k, None, true),
                "the wait-all consumed the event without the mutex"
            );
            e.auto().set(&*k);
            m.mutex().unlock(me(1), &*k).unwrap();
        }
        assert_eq!(all.join().unwrap(), Woken::Signalled(0));
        assert!(m.mutex().owned_by(me(2)));
        assert_eq!(e.state.load(SeqCst), 0, "the signal, taken by the wait-all");
    });
}

#[test]
fn a_reservation_left_by_a_dead_wait_all_is_cleared_by_the_next_waiter() {
    model(|| {
        let k = Arc::new(Kernel::default());
        let s = Arc::new(Obj::with(1));
        let (k2, s2) = (k.clone(), s.clone());
        let dying = thread::spawn(move || {
            // Reserves, and dies before it takes or gives up.
            let id = reserve::reserver_id(3, 300);
            assert_eq!(s2.sem().reserve(id), reserve::Reserved::Yes);
            k2.die(3);
        });
        dying.join().unwrap();
        assert!(s.sem().acquire(&*k, None, false), "the unit, once cleared");
        assert_eq!(s.reserver.load(SeqCst), 0);
        assert_eq!(s.state.load(SeqCst), 0);
    });
}
