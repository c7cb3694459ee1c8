//! Single-threaded tests of the event and semaphore state machines (`state.rs`), with a
//! fake futex: pure, so they run under Miri too. The interleavings are loom's job
//! (tests/model.rs); these pin each transition and what it wakes.

use super::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use super::reserve::Reservers;
use super::state::{EventWords, Futex, SemaphoreWords, TooManyPosts};
use std::cell::RefCell;
use std::time::Instant;

/// A futex whose one sleep runs `on_wait` (another thread's move) and returns as woken;
/// a sleep with nothing left to run times out. Records every wake.
#[derive(Default)]
struct Fake<'a> {
    on_wait: RefCell<Vec<Box<dyn FnOnce() + 'a>>>,
    waits: RefCell<u32>,
    wakes: RefCell<Vec<u32>>,
}

impl<'a> Fake<'a> {
    fn then(self, f: impl FnOnce() + 'a) -> Self {
        self.on_wait.borrow_mut().insert(0, Box::new(f));
        self
    }
}

impl Futex for Fake<'_> {
    fn wait(&self, word: &AtomicU32, expected: u32, _deadline: Option<Instant>) -> bool {
        *self.waits.borrow_mut() += 1;
        let next = self.on_wait.borrow_mut().pop();
        match next {
            Some(f) => {
                f();
                true
            }
            // The kernel returns at once when the word changed; otherwise time runs out.
            None => word.load(SeqCst) != expected,
        }
    }

    fn wake(&self, _word: &AtomicU32, n: u32) {
        self.wakes.borrow_mut().push(n);
    }
}

/// One thread: nobody else reserves anything, so a reservation found is a dead one's.
impl Reservers for Fake<'_> {
    fn reserver_id(&self) -> u64 {
        1
    }
    fn reserver_alive(&self, _: u64) -> bool {
        false
    }
    fn pause(&self, _: u32) {}
}

/// The reserver word of the objects here: no test reserves them.
static NO_RESERVER: AtomicU64 = AtomicU64::new(0);

fn soon() -> Option<Instant> {
    Some(Instant::now())
}

fn event<'a>(state: &'a AtomicU64, seq: &'a AtomicU32, manual: bool) -> EventWords<'a> {
    EventWords {
        state,
        seq,
        reserver: &NO_RESERVER,
        manual,
    }
}

#[test]
fn an_auto_reset_event_releases_one_wait_per_set() {
    let (state, seq) = (AtomicU64::new(EventWords::initial(true)), AtomicU32::new(0));
    let e = event(&state, &seq, false);
    let f = Fake::default();
    assert!(e.wait(&f, None, true), "initially set");
    assert!(!e.wait(&f, None, true), "the wait reset it");
    e.set(&f);
    e.set(&f);
    assert!(e.wait(&f, None, true), "two sets, no waiter: one release");
    assert!(!e.wait(&f, None, true));
    e.set(&f);
    e.reset(&f);
    assert!(!e.wait(&f, None, true), "reset");
    assert_eq!((state.load(SeqCst), f.wakes.borrow().len()), (0, 0));
}

#[test]
fn a_manual_reset_event_stays_set_until_reset() {
    let (state, seq) = (
        AtomicU64::new(EventWords::initial(false)),
        AtomicU32::new(0),
    );
    let e = event(&state, &seq, true);
    let f = Fake::default();
    assert!(!e.wait(&f, None, true));
    e.set(&f);
    assert!(e.wait(&f, None, true) && e.wait(&f, soon(), false));
    assert_eq!(seq.load(SeqCst), 1, "the set bumped seq");
    assert!(f.wakes.borrow().is_empty(), "no waiter, no wake");
    e.reset(&f);
    assert!(!e.wait(&f, soon(), false), "timed out");
    assert_eq!(state.load(SeqCst), 0, "the timed-out waiter left");
}

#[test]
fn a_manual_reset_set_releases_a_waiter_even_if_reset_at_once() {
    let (state, seq) = (AtomicU64::new(0), AtomicU32::new(0));
    let e = event(&state, &seq, true);
    let f = Fake::default().then(|| {
        let other = event(&state, &seq, true);
        other.set(&Fake::default());
        other.reset(&Fake::default());
    });
    assert!(
        e.wait(&f, None, false),
        "released by the set it slept through"
    );
    assert_eq!(state.load(SeqCst), 0);
}

#[test]
fn an_auto_reset_set_hands_its_token_to_a_registered_waiter() {
    let (state, seq) = (AtomicU64::new(0), AtomicU32::new(0));
    let e = event(&state, &seq, false);
    let setter = Fake::default();
    let f = Fake::default().then(|| {
        event(&state, &seq, false).set(&setter);
        // With a waiter registered the set hands over a token instead of signalling.
        assert_eq!(state.load(SeqCst) & 1, 0, "never seen set");
    });
    assert!(e.wait(&f, None, false));
    assert_eq!(state.load(SeqCst), 0, "token and waiter gone");
    assert_eq!(*setter.wakes.borrow(), [1], "one waiter woken");
}

#[test]
fn a_timed_out_auto_reset_waiter_leaves_without_a_token() {
    let (state, seq) = (AtomicU64::new(0), AtomicU32::new(0));
    let e = event(&state, &seq, false);
    let f = Fake::default();
    assert!(!e.wait(&f, soon(), false));
    assert_eq!((state.load(SeqCst), *f.waits.borrow()), (0, 1));
    e.set(&f);
    assert!(
        e.wait(&f, None, true),
        "the set signalled: nobody was waiting"
    );
}

fn semaphore<'a>(state: &'a AtomicU64, seq: &'a AtomicU32, max: u32) -> SemaphoreWords<'a> {
    SemaphoreWords {
        state,
        seq,
        reserver: &NO_RESERVER,
        max,
    }
}

#[test]
fn a_semaphore_counts_between_zero_and_its_maximum() {
    let (state, seq) = (
        AtomicU64::new(SemaphoreWords::initial(1)),
        AtomicU32::new(0),
    );
    let s = semaphore(&state, &seq, 3);
    let f = Fake::default();
    assert_eq!(s.release(2, &f), Ok(1), "the previous count");
    assert_eq!(s.release(1, &f), Err(TooManyPosts { count: 3 }));
    assert_eq!(s.release(u32::MAX, &f), Err(TooManyPosts { count: 3 }));
    assert_eq!(state.load(SeqCst), 3, "a refused release changes nothing");
    for _ in 0..3 {
        assert!(s.acquire(&f, None, true));
    }
    assert!(!s.acquire(&f, None, true));
    assert!(!s.acquire(&f, soon(), false), "timed out");
    assert_eq!(state.load(SeqCst), 0, "the timed-out waiter left");
    assert!(f.wakes.borrow().is_empty());
}

#[test]
fn a_release_wakes_at_most_as_many_sleepers_as_units() {
    let (state, seq) = (AtomicU64::new(0), AtomicU32::new(0));
    let s = semaphore(&state, &seq, i32::MAX as u32);
    let releaser = Fake::default();
    let f = Fake::default().then(|| {
        assert_eq!(
            semaphore(&state, &seq, i32::MAX as u32).release(5, &releaser),
            Ok(0)
        );
    });
    assert!(s.acquire(&f, None, false));
    assert_eq!(state.load(SeqCst), 4, "one unit taken, no waiter left");
    assert_eq!(*releaser.wakes.borrow(), [1], "one sleeper");
    assert_eq!(s.release(i32::MAX as u32 - 4, &releaser), Ok(4));
    assert_eq!(
        s.release(1, &releaser),
        Err(TooManyPosts {
            count: i32::MAX as u32
        })
    );
}
