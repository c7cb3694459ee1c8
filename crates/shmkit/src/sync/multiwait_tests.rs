//! Single-threaded tests of the multi-object wait (`multiwait.rs`) over real event,
//! semaphore and mutex words, with a fake futex: pure, so they run under Miri too. The
//! interleavings are loom's job (tests/model.rs); these pin what each wait takes, what it
//! leaves untouched and what it hands on.

use super::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use super::lockword::{Me, MutexWords, Owners};
use super::multiwait::{wait, Futexes, Item, Woken};
use super::reserve::Reservers;
use super::state::{EventWords, Futex, SemaphoreWords};
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

/// A futex whose sleeps each run the next queued move of "another thread" and return as
/// woken; a sleep with no move left returns at once, as woken only if a word it would
/// sleep on had changed. Records every wake.
#[derive(Default)]
struct Fake<'a> {
    moves: RefCell<Vec<Box<dyn FnOnce() + 'a>>>,
    sleeps: Cell<u32>,
    pauses: Cell<u32>,
    wakes: RefCell<Vec<u32>>,
}

impl<'a> Fake<'a> {
    fn then(self, f: impl FnOnce() + 'a) -> Self {
        self.moves.borrow_mut().insert(0, Box::new(f));
        self
    }
}

impl Futex for Fake<'_> {
    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        self.wait_any(&[(word, expected)], deadline)
    }

    fn wake(&self, _word: &AtomicU32, n: u32) {
        self.wakes.borrow_mut().push(n);
    }
}

/// The other thread of these tests is the fake's moves: a pause (standing aside for a
/// reservation) runs the next one, as a sleep does. Reservers in `LIVE_RESERVERS` run;
/// any other reservation found is a dead thread's.
impl Reservers for Fake<'_> {
    fn reserver_id(&self) -> u64 {
        1
    }
    fn reserver_alive(&self, id: u64) -> bool {
        LIVE_RESERVERS.contains(&id)
    }
    fn pause(&self, _: u32) {
        self.pauses.set(self.pauses.get() + 1);
        let next = self.moves.borrow_mut().pop();
        if let Some(f) = next {
            f();
        }
    }
}

/// The reserver ids of "other threads" that run.
const LIVE_RESERVERS: [u64; 1] = [0x55];

impl Futexes for Fake<'_> {
    fn wait_any(&self, words: &[(&AtomicU32, u32)], _deadline: Option<Instant>) -> bool {
        self.sleeps.set(self.sleeps.get() + 1);
        let next = self.moves.borrow_mut().pop();
        match next {
            Some(f) => {
                f();
                true
            }
            None => words.iter().any(|(w, v)| w.load(SeqCst) != *v),
        }
    }
}

/// Every thread runs but `dead`.
struct World {
    dead: u32,
}

impl Owners for World {
    fn alive(&self, tid: u32, _: Option<u64>) -> bool {
        tid != self.dead
    }
    fn recheck(&self, _: u32) -> Option<Duration> {
        Some(Duration::from_millis(1))
    }
}

const ME: Me = Me { tid: 7, start: 70 };
const OTHER: Me = Me { tid: 8, start: 80 };
const DEAD: u32 = 9;
const ALL_LIVE: World = World { dead: 0 };

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
    fn event(&self, manual: bool) -> EventWords<'_> {
        EventWords {
            state: &self.state,
            seq: &self.seq,
            reserver: &self.reserver,
            manual,
        }
    }
    fn semaphore(&self) -> SemaphoreWords<'_> {
        SemaphoreWords {
            state: &self.state,
            seq: &self.seq,
            reserver: &self.reserver,
            max: 10,
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
    fn locked_by(me: Me) -> Obj {
        let o = Obj::default();
        assert_eq!(
            o.mutex().lock(me, &Fake::default(), &ALL_LIVE, None, true),
            super::lockword::Locked::Acquired
        );
        o
    }
    fn load(&self) -> u64 {
        self.state.load(SeqCst)
    }
}

fn poll(items: &[Item<'_>], all: bool, world: &World) -> Woken {
    wait(items, all, ME, &Fake::default(), world, None, true)
}

fn forever(items: &[Item<'_>], all: bool, f: &Fake<'_>) -> Woken {
    wait(items, all, ME, f, &ALL_LIVE, None, false)
}

#[test]
fn wait_any_takes_the_lowest_ready_object_and_nothing_else() {
    let (auto, sem, manual) = (Obj::default(), Obj::with(2), Obj::with(1));
    let items = [
        Item::Event(auto.event(false)),
        Item::Semaphore(sem.semaphore()),
        Item::Event(manual.event(true)),
    ];
    assert_eq!(poll(&items, false, &ALL_LIVE), Woken::Signalled(1));
    assert_eq!((auto.load(), sem.load(), manual.load()), (0, 1, 1));
}

#[test]
fn a_poll_changes_nothing_when_nothing_is_ready() {
    let (auto, sem, m) = (Obj::default(), Obj::default(), Obj::locked_by(OTHER));
    let held = m.load();
    let items = [
        Item::Event(auto.event(false)),
        Item::Semaphore(sem.semaphore()),
        Item::Mutex(m.mutex()),
    ];
    assert_eq!(poll(&items, false, &ALL_LIVE), Woken::TimedOut);
    assert_eq!((auto.load(), sem.load(), m.load()), (0, 0, held));
}

#[test]
fn a_sleeping_wait_any_registers_takes_what_is_set_and_leaves_the_rest() {
    let (a, b, c) = (Obj::default(), Obj::default(), Obj::default());
    let f = Fake::default().then(|| {
        // Each is registered with: a set hands a token, a release wakes.
        assert_eq!(a.load(), 2, "one waiter of the auto-reset event");
        assert_eq!(b.load(), 1 << 32, "one waiter of the semaphore");
        c.event(false).set(&Fake::default());
    });
    let items = [
        Item::Event(a.event(false)),
        Item::Semaphore(b.semaphore()),
        Item::Event(c.event(false)),
    ];
    assert_eq!(forever(&items, false, &f), Woken::Signalled(2));
    assert_eq!(
        (a.load(), b.load(), c.load()),
        (0, 0, 0),
        "all left, c consumed"
    );
    assert_eq!(f.sleeps.get(), 1);
}

#[test]
fn a_token_handed_to_a_wait_that_took_another_object_goes_back_as_the_signal() {
    let (sem, auto) = (Obj::default(), Obj::default());
    let f = Fake::default().then(|| {
        auto.event(false).set(&Fake::default()); // a token, for the registered wait
        sem.semaphore().release(1, &Fake::default()).unwrap();
    });
    let items = [
        Item::Semaphore(sem.semaphore()),
        Item::Event(auto.event(false)),
    ];
    assert_eq!(forever(&items, false, &f), Woken::Signalled(0));
    assert_eq!(
        auto.load(),
        1,
        "set, no waiter, no token: the set is not lost"
    );
    assert!(f.wakes.borrow().is_empty(), "nobody else to wake");
}

#[test]
fn tokens_left_to_other_waiters_get_a_wake_up_when_the_wait_leaves() {
    // Another waiter is registered too; a set hands out one token, which the wait may
    // have been woken for: it hands the wake-up on as it leaves.
    let (sem, auto) = (Obj::default(), Obj::with(2));
    let f = Fake::default().then(|| {
        auto.event(false).set(&Fake::default());
        auto.event(false).set(&Fake::default());
        sem.semaphore().release(1, &Fake::default()).unwrap();
    });
    let items = [
        Item::Semaphore(sem.semaphore()),
        Item::Event(auto.event(false)),
    ];
    assert_eq!(forever(&items, false, &f), Woken::Signalled(0));
    // Two waiters, two tokens; the wait leaves: one token back as the signal, one left.
    assert_eq!(auto.load(), (1 << 32) | 2 | 1);
    assert_eq!(*f.wakes.borrow(), [1]);
}

#[test]
fn a_manual_reset_set_releases_a_waiting_wait_any_even_if_reset_at_once() {
    let (sem, manual) = (Obj::default(), Obj::default());
    let f = Fake::default().then(|| {
        let e = manual.event(true);
        e.set(&Fake::default());
        e.reset(&Fake::default());
    });
    let items = [
        Item::Semaphore(sem.semaphore()),
        Item::Event(manual.event(true)),
    ];
    assert_eq!(forever(&items, false, &f), Woken::Signalled(1));
    assert_eq!(manual.load(), 0, "reset, and the wait left");
}

#[test]
fn wait_all_takes_nothing_until_everything_is_ready() {
    let (m, sem, auto) = (Obj::default(), Obj::with(1), Obj::default());
    let f = Fake::default().then(|| {
        // Meanwhile the mutex is free and the semaphore keeps its unit.
        assert_eq!(m.load() & 0x3fff_ffff, 0, "the mutex is not owned");
        assert_eq!(sem.load(), 1, "the unit is not taken");
        let lock = m
            .mutex()
            .lock(OTHER, &Fake::default(), &ALL_LIVE, None, true);
        assert_eq!(
            lock,
            super::lockword::Locked::Acquired,
            "another thread takes it"
        );
        m.mutex().unlock(OTHER, &Fake::default()).unwrap();
        auto.event(false).set(&Fake::default());
    });
    let items = [
        Item::Mutex(m.mutex()),
        Item::Semaphore(sem.semaphore()),
        Item::Event(auto.event(false)),
    ];
    assert_eq!(forever(&items, true, &f), Woken::Signalled(0));
    assert!(m.mutex().owned_by(ME));
    assert_eq!(
        (sem.load(), auto.load()),
        (0, 0),
        "one unit and the signal taken, no waiter left"
    );
}

#[test]
fn a_wait_all_poll_with_one_object_missing_changes_nothing() {
    let (m, sem, auto) = (Obj::default(), Obj::with(1), Obj::default());
    let items = [
        Item::Mutex(m.mutex()),
        Item::Semaphore(sem.semaphore()),
        Item::Event(auto.event(false)),
    ];
    assert_eq!(poll(&items, true, &ALL_LIVE), Woken::TimedOut);
    assert_eq!((m.load(), sem.load(), auto.load()), (0, 1, 0));
}

#[test]
fn an_auto_reset_token_a_waiting_wait_all_cannot_use_goes_back_at_once() {
    let (auto, sem) = (Obj::default(), Obj::default());
    let f = Fake::default()
        .then(|| auto.event(false).set(&Fake::default()))
        .then(|| {
            // The wait left the event, which stays set for anyone else.
            assert_eq!(auto.load(), 1, "set, no waiter");
            sem.semaphore().release(1, &Fake::default()).unwrap();
        });
    let items = [
        Item::Event(auto.event(false)),
        Item::Semaphore(sem.semaphore()),
    ];
    assert_eq!(forever(&items, true, &f), Woken::Signalled(0));
    assert_eq!((auto.load(), sem.load()), (0, 0));
}

#[test]
fn an_abandoned_mutex_is_reported_with_its_index_by_wait_any_and_as_0_by_wait_all() {
    let dead = World { dead: DEAD };
    let dead_owner = Me {
        tid: DEAD,
        start: 90,
    };
    let (auto, m) = (Obj::default(), Obj::locked_by(dead_owner));
    let items = [Item::Event(auto.event(false)), Item::Mutex(m.mutex())];
    assert_eq!(poll(&items, false, &dead), Woken::Abandoned(1));
    assert!(m.mutex().owned_by(ME));
    assert_eq!(
        poll(&items, false, &dead),
        Woken::Signalled(1),
        "now ours, recursively"
    );

    let set = Obj::with(1);
    let m = Obj::locked_by(dead_owner);
    let items = [Item::Event(set.event(true)), Item::Mutex(m.mutex())];
    assert_eq!(poll(&items, true, &dead), Woken::Abandoned(0));
    assert!(m.mutex().owned_by(ME));
}

#[test]
fn a_sleeping_wait_asks_about_an_owner_only_once_it_held_on_through_a_sleep() {
    let asked = Cell::new(0);
    struct Counting<'a>(&'a Cell<u32>);
    impl Owners for Counting<'_> {
        fn alive(&self, tid: u32, _: Option<u64>) -> bool {
            self.0.set(self.0.get() + 1);
            tid != DEAD
        }
        fn recheck(&self, _: u32) -> Option<Duration> {
            Some(Duration::from_millis(1))
        }
    }
    let m = Obj::locked_by(Me {
        tid: DEAD,
        start: 90,
    });
    let sem = Obj::default();
    let items = [Item::Semaphore(sem.semaphore()), Item::Mutex(m.mutex())];
    let f = Fake::default().then(|| assert_eq!(asked.get(), 0, "not before a sleep"));
    let woken = wait(&items, false, ME, &f, &Counting(&asked), None, false);
    assert_eq!(woken, Woken::Abandoned(1));
    assert_eq!(asked.get(), 1);
    assert_eq!(sem.load(), 0, "the semaphore was left");
}

#[test]
fn a_wait_that_took_another_object_hands_a_mutex_release_on() {
    // The owner releases (clearing the waiters bit, waking one: maybe this wait) and
    // another thread takes the mutex at once, without the bit; the event is set too. The
    // wait takes the event and leaves the mutex with the bit set again, so that the new
    // owner's release wakes the mutex's other sleepers.
    let (m, auto) = (Obj::locked_by(OTHER), Obj::default());
    let third = Me {
        tid: 10,
        start: 100,
    };
    let f = Fake::default().then(|| {
        m.mutex().unlock(OTHER, &Fake::default()).unwrap();
        let got = m
            .mutex()
            .lock(third, &Fake::default(), &ALL_LIVE, None, true);
        assert_eq!(got, super::lockword::Locked::Acquired);
        assert_eq!(m.load() & super::lockword::WAITERS, 0);
        auto.event(false).set(&Fake::default());
    });
    let items = [Item::Mutex(m.mutex()), Item::Event(auto.event(false))];
    assert_eq!(forever(&items, false, &f), Woken::Signalled(1));
    assert_ne!(
        m.load() & super::lockword::WAITERS,
        0,
        "asked to wake the sleepers"
    );

    // Left free, the mutex gets a wake-up for a sleeper instead.
    let (m, auto) = (Obj::locked_by(OTHER), Obj::default());
    let f = Fake::default().then(|| {
        m.mutex().unlock(OTHER, &Fake::default()).unwrap();
        auto.event(false).set(&Fake::default());
    });
    let items = [Item::Event(auto.event(false)), Item::Mutex(m.mutex())];
    assert_eq!(forever(&items, false, &f), Woken::Signalled(0));
    assert_eq!(*f.wakes.borrow(), [1]);
    assert_eq!(m.load() & 0x3fff_ffff, 0, "still free");
}

#[test]
fn a_timed_out_wait_leaves_every_object_as_it_was() {
    let (auto, sem, m) = (Obj::default(), Obj::default(), Obj::locked_by(OTHER));
    let items = [
        Item::Event(auto.event(false)),
        Item::Semaphore(sem.semaphore()),
        Item::Mutex(m.mutex()),
    ];
    let f = Fake::default();
    let woken = wait(
        &items,
        false,
        ME,
        &f,
        &ALL_LIVE,
        Some(Instant::now()),
        false,
    );
    assert_eq!(woken, Woken::TimedOut);
    assert_eq!((auto.load(), sem.load()), (0, 0), "registrations undone");
    assert!(f.wakes.borrow().is_empty());
}

#[test]
fn a_mutex_held_too_often_is_too_deep_and_a_wait_all_gives_back_what_it_took() {
    let (sem, m) = (Obj::with(1), Obj::locked_by(ME));
    m.depth.store(u32::MAX, SeqCst);
    let items = [Item::Semaphore(sem.semaphore()), Item::Mutex(m.mutex())];
    assert_eq!(poll(&items, true, &ALL_LIVE), Woken::TooDeep(1));
    assert_eq!(sem.load(), 1, "the unit taken first was given back");
    assert_eq!(poll(&items[1..], false, &ALL_LIVE), Woken::TooDeep(0));
}

#[test]
fn flags_are_signalled_while_non_zero_and_never_consumed() {
    let (never, ended) = (AtomicU32::new(0), AtomicU32::new(1));
    let items = [Item::Flag(&never), Item::Flag(&ended)];
    assert_eq!(poll(&items, false, &ALL_LIVE), Woken::Signalled(1));
    assert_eq!(poll(&items, false, &ALL_LIVE), Woken::Signalled(1));
    assert_eq!(poll(&items, true, &ALL_LIVE), Woken::TimedOut);
    let f = Fake::default().then(|| never.store(1, SeqCst));
    assert_eq!(forever(&items, true, &f), Woken::Signalled(0));
}

#[test]
fn a_wait_all_that_loses_a_dead_owners_mutex_race_leaves_it_abandoned_for_the_next_waiter() {
    let dead = World { dead: DEAD };
    let m = Obj::locked_by(Me {
        tid: DEAD,
        start: 90,
    });
    let before = m.load();
    // The mutex is ready (abandoned), the semaphore is not: nothing is taken.
    let sem = Obj::default();
    let items = [Item::Mutex(m.mutex()), Item::Semaphore(sem.semaphore())];
    assert_eq!(poll(&items, true, &dead), Woken::TimedOut);
    assert_eq!(m.load(), before, "the dead owner's acquisition, as it was");
    let got = m.mutex().lock(OTHER, &Fake::default(), &dead, None, true);
    assert_eq!(got, super::lockword::Locked::Abandoned);
}

/// Reserves `o`'s state for the live reserver 0x55, as another thread's wait-all does.
fn reserve_as_other(o: &Obj, bit: u64) {
    o.reserver.store(LIVE_RESERVERS[0], SeqCst);
    o.state.fetch_or(bit, SeqCst);
}

const SEM_RESERVED: u64 = 1 << 31;
const EVENT_RESERVED: u64 = 1 << 31;
const MUTEX_RESERVED: u64 = 1 << 30;

#[test]
fn a_poll_of_an_object_another_wait_all_reserves_waits_for_its_outcome() {
    // Given up by the other wait-all: the poll takes the unit.
    let sem = Obj::with(1);
    reserve_as_other(&sem, SEM_RESERVED);
    let f = Fake::default().then(|| {
        sem.semaphore().reservation().cancel(LIVE_RESERVERS[0]);
    });
    let items = [Item::Semaphore(sem.semaphore())];
    assert_eq!(
        wait(&items, false, ME, &f, &ALL_LIVE, None, true),
        Woken::Signalled(0)
    );
    assert_eq!(sem.load(), 0);
    assert_eq!(sem.reserver.load(SeqCst), 0, "the reservation is over");
    assert!(f.pauses.get() >= 1, "the poll stood aside");

    // Taken by the other wait-all: the poll finds nothing, having changed nothing.
    let auto = Obj::with(1);
    reserve_as_other(&auto, EVENT_RESERVED);
    let f = Fake::default().then(|| {
        auto.event(false).commit(None, LIVE_RESERVERS[0]);
    });
    let items = [Item::Event(auto.event(false))];
    assert_eq!(
        wait(&items, false, ME, &f, &ALL_LIVE, None, true),
        Woken::TimedOut
    );
    assert_eq!(auto.load(), 0, "the other wait-all took the signal");

    // The single-object waits stand aside too: a mutex free but reserved is not taken
    // by a poll until the reservation ends.
    let m = Obj::default();
    reserve_as_other(&m, MUTEX_RESERVED);
    let f = Fake::default().then(|| {
        assert_eq!(m.load(), MUTEX_RESERVED, "not taken while reserved");
        m.mutex().reservation().cancel(LIVE_RESERVERS[0]);
    });
    let got = m.mutex().lock(ME, &f, &ALL_LIVE, None, true);
    assert_eq!(got, super::lockword::Locked::Acquired);
}

#[test]
fn a_reset_waits_for_a_wait_all_that_reserves_the_event() {
    let manual = Obj::with(1);
    reserve_as_other(&manual, EVENT_RESERVED);
    let f = Fake::default().then(|| {
        assert_eq!(manual.load() & 1, 1, "still set while reserved");
        manual.event(true).commit(None, LIVE_RESERVERS[0]);
    });
    manual.event(true).reset(&f);
    assert_eq!(manual.load(), 0, "reset after the wait-all took it");
    assert!(f.pauses.get() >= 1);
}

#[test]
fn a_reservation_of_a_dead_thread_is_cleared_by_whoever_finds_it() {
    // A wait-all that died between its reservation and its take: the bit and the
    // reserver word stay, and the next wait clears them after asking.
    let (sem, m) = (Obj::with(1), Obj::default());
    sem.reserver.store(0x99, SeqCst);
    sem.state.fetch_or(SEM_RESERVED, SeqCst);
    let items = [Item::Mutex(m.mutex()), Item::Semaphore(sem.semaphore())];
    let f = Fake::default();
    assert_eq!(
        wait(&items, true, ME, &f, &ALL_LIVE, None, true),
        Woken::Signalled(0)
    );
    assert_eq!(sem.load(), 0, "the unit taken by the wait-all");
    assert_eq!(sem.reserver.load(SeqCst), 0);
    assert!(m.mutex().owned_by(ME));
    assert_eq!(
        f.pauses.get(),
        super::reserve::ASK_EVERY,
        "it asked once it had stood aside that often"
    );

    // A reserver word held by a dead thread without the bit (it died between the two
    // steps) holds up the next wait-all the same way, and no longer.
    let sem = Obj::with(1);
    sem.reserver.store(0x99, SeqCst);
    let items = [Item::Semaphore(sem.semaphore())];
    assert_eq!(poll(&items, true, &ALL_LIVE), Woken::Signalled(0));
    assert_eq!(sem.reserver.load(SeqCst), 0);
}

#[test]
fn a_wait_all_leaves_no_reservation_behind_whatever_it_ends_with() {
    let (m, sem, auto) = (Obj::default(), Obj::with(1), Obj::with(1));
    let items = [
        Item::Mutex(m.mutex()),
        Item::Semaphore(sem.semaphore()),
        Item::Event(auto.event(false)),
    ];
    assert_eq!(poll(&items, true, &ALL_LIVE), Woken::Signalled(0));
    // Taken: no bit and no reserver word left.
    assert_eq!(m.load() & MUTEX_RESERVED, 0);
    assert_eq!((sem.load(), auto.load()), (0, 0));
    for o in [&m, &sem, &auto] {
        assert_eq!(o.reserver.load(SeqCst), 0);
    }
    // Not all ready: nothing reserved, nothing taken.
    m.mutex().unlock(ME, &Fake::default()).unwrap();
    sem.semaphore().release(1, &Fake::default()).unwrap();
    assert_eq!(poll(&items, true, &ALL_LIVE), Woken::TimedOut);
    assert_eq!(sem.load(), 1);
    for o in [&m, &sem, &auto] {
        assert_eq!(o.reserver.load(SeqCst), 0);
        assert_eq!(o.load() & (1 << 31 | 1 << 30), 0);
    }
}
