//! Single-threaded tests of the mutex state machine (`lockword.rs`), kept out of that
//! file because `tests/model.rs` includes it with loom's atomics.

use super::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use super::lockword::*;
use super::reserve::Reservers;
use super::state::Futex;
use std::cell::Cell;
use std::time::{Duration, Instant};

/// A futex for one thread: nobody else can change the word, so a wait is a timeout.
struct Alone;

impl Futex for Alone {
    fn wait(&self, _: &AtomicU32, _: u32, _: Option<Instant>) -> bool {
        false
    }
    fn wake(&self, _: &AtomicU32, _: u32) {}
}

/// Alone: no other thread reserves anything, so a reservation found is a dead one's.
impl Reservers for Alone {
    fn reserver_id(&self) -> u64 {
        1
    }
    fn reserver_alive(&self, _: u64) -> bool {
        false
    }
    fn pause(&self, _: u32) {}
}

/// Every thread but `dead` runs; counts the questions.
struct World {
    dead: u32,
    asked: Cell<u32>,
}

impl Owners for World {
    fn alive(&self, tid: u32, _: Option<u64>) -> bool {
        self.asked.set(self.asked.get() + 1);
        tid != self.dead
    }
    fn recheck(&self, _: u32) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

#[derive(Default)]
struct Words([AtomicU64; 3], AtomicU32, AtomicU32, AtomicU32);

impl Words {
    fn m(&self) -> MutexWords<'_> {
        MutexWords {
            state: &self.0[0],
            seq: &self.1,
            depth: &self.2,
            start: &self.0[1],
            sealed: &self.3,
            reserver: &self.0[2],
        }
    }
}

const A: Me = Me { tid: 7, start: 70 };
const B: Me = Me { tid: 8, start: 80 };

fn poll(w: &Words, me: Me, world: &World) -> Locked {
    w.m().lock(me, &Alone, world, Some(Instant::now()), true)
}

#[test]
fn an_uncontended_lock_asks_nobody_and_is_released_once_per_acquisition() {
    let w = Words::default();
    let world = World {
        dead: 0,
        asked: Cell::new(0),
    };
    assert_eq!(poll(&w, A, &world), Locked::Acquired);
    assert_eq!(poll(&w, A, &world), Locked::Acquired);
    assert!(w.m().owned_by(A) && !w.m().owned_by(B));
    assert_eq!(w.m().unlock(B, &Alone), Err(NotOwner));
    assert_eq!(w.m().unlock(A, &Alone), Ok(()));
    assert_eq!(w.m().unlock(A, &Alone), Ok(()));
    assert_eq!(w.m().unlock(A, &Alone), Err(NotOwner));
    assert_eq!(world.asked.get(), 0);
}

#[test]
fn a_poll_of_a_live_owners_mutex_times_out_and_of_a_dead_ones_takes_it() {
    let w = Words::default();
    let world = World {
        dead: 0,
        asked: Cell::new(0),
    };
    assert_eq!(poll(&w, A, &world), Locked::Acquired);
    assert_eq!(poll(&w, B, &world), Locked::TimedOut);
    assert!(w.m().owned_by(A));
    let world = World {
        dead: A.tid,
        asked: Cell::new(0),
    };
    assert_eq!(poll(&w, B, &world), Locked::Abandoned);
    assert!(w.m().owned_by(B) && !w.m().owned_by(A));
    assert_eq!(w.m().unlock(B, &Alone), Ok(()));
    assert_eq!(poll(&w, A, &world), Locked::Acquired, "abandoned once only");
}

#[test]
fn a_timed_wait_for_a_live_owner_times_out() {
    let w = Words::default();
    let world = World {
        dead: 0,
        asked: Cell::new(0),
    };
    assert_eq!(poll(&w, A, &world), Locked::Acquired);
    // Long enough for a second round, in which the owner is asked, even under Miri.
    let soon = Instant::now() + Duration::from_millis(100);
    let got = w.m().lock(B, &Alone, &world, Some(soon), false);
    assert_eq!(got, Locked::TimedOut);
    assert!(world.asked.get() >= 1, "the owner was looked at");
}

#[test]
fn recursion_stops_at_the_depth_limit() {
    let w = Words::default();
    let world = World {
        dead: 0,
        asked: Cell::new(0),
    };
    assert_eq!(poll(&w, A, &world), Locked::Acquired);
    w.2.store(u32::MAX, SeqCst);
    assert_eq!(poll(&w, A, &world), Locked::TooDeep);
}

#[test]
fn forged_words_give_the_mutex_away_but_never_more() {
    let world = World {
        dead: 0,
        asked: Cell::new(0),
    };
    for forged in [u64::MAX, WAITERS, TID_MASK, 1, u64::from(A.tid)] {
        let w = Words::default();
        w.0[0].store(forged, SeqCst);
        w.3.store(u32::MAX, SeqCst);
        // Owned by a live stranger, free, or ours by a forged id: any answer but a
        // hang or a panic, and a release only of what we then hold.
        let got = poll(&w, A, &world);
        if matches!(got, Locked::Acquired | Locked::Abandoned) {
            assert_eq!(w.m().unlock(A, &Alone), Ok(()));
        }
    }
}

#[test]
fn an_initial_owner_holds_it_from_the_start() {
    let w = Words::default();
    w.0[0].store(MutexWords::initial(Some(A)), SeqCst);
    w.m().init_owner(A);
    assert!(w.m().owned_by(A));
    assert_eq!(w.m().unlock(A, &Alone), Ok(()));
    assert_eq!(MutexWords::initial(None), 0);
}
