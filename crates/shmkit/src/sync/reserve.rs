//! Reservations: how a wait-all (`multiwait`) takes every object of its set in one step,
//! as Windows does, with no lock shared by the objects. No system call happens here, so
//! the same code runs over real shared memory and under the loom model checker
//! (`tests/model.rs` and `tests/model_multiwait.rs` include this file).
//!
//! Every object has a reserved bit in its `state` word and a `reserver` word beside it.
//!
//! - **Reserving.** A wait-all first takes the object's `reserver` word (0 to its id): the
//!   right to set the bit. Then it sets the bit, by a compare-and-swap that also checks
//!   that the object is ready. Only the holder of the `reserver` word sets the bit, and it
//!   clears the bit before it gives the word back, so a bit found set by a thread that
//!   holds the word is a dead holder's.
//! - **Standing aside.** While the bit is set, no other thread takes the object or makes
//!   it not ready (a reset): they stand aside ([`Reservation::stand_aside`]) for the few
//!   instructions the reserver needs, and look again. Releases (a set, a semaphore
//!   release) go on: they only make the object more ready.
//! - **Taking.** Once every object of its set is reserved, the wait-all takes each
//!   ([`Reservation::commit`]), clearing the bit in the same swap. The take cannot fail:
//!   nothing took the object since its reservation, and nothing made it not ready. When
//!   one object cannot be reserved (not ready any more, or reserved by another wait-all),
//!   the wait-all clears the bits it set ([`Reservation::cancel`]) and looks again. So
//!   every other thread sees a wait-all's objects either all taken or none taken.
//! - **A reserver that dies.** A thread that has stood aside [`ASK_EVERY`] times asks
//!   whether the holder of the `reserver` word still runs. If not, it takes the word over
//!   from it (a compare-and-swap of the exact id it examined), clears the bit (which is
//!   then surely the dead holder's) and gives the word back.
//!
//! A hostile writer of the page can set the bit or the word at will: then its objects
//! stand still for a moment, until the cleanup above, and nothing here ever follows what
//! the words hold.

use super::atomic::{AtomicU64, Ordering::SeqCst};

/// What reservations need of the system.
pub(crate) trait Reservers {
    /// The calling thread's id as a reserver: never 0.
    fn reserver_id(&self) -> u64;
    /// Whether the thread whose reserver id is `id` still runs.
    fn reserver_alive(&self, id: u64) -> bool;
    /// Lets the reserver run: the `round`-th pause of a thread standing aside.
    fn pause(&self, round: u32);
}

/// How many times a thread stands aside before it asks whether the reserver still runs.
pub(crate) const ASK_EVERY: u32 = 64;

/// The reserver id of the thread `tid` that started at `start`: its id in the low half,
/// the low half of its start time in the high half (two threads that had the same id
/// started at different times).
pub(crate) fn reserver_id(tid: u32, start: u64) -> u64 {
    u64::from(tid.max(1)) | (start & 0xffff_ffff) << 32
}

/// The reservation of one object: its `state` word, the bit of it that marks it
/// reserved, and its `reserver` word.
#[derive(Clone, Copy)]
pub(crate) struct Reservation<'a> {
    pub state: &'a AtomicU64,
    pub reserver: &'a AtomicU64,
    pub bit: u64,
}

/// What [`Reservation::reserve`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reserved {
    /// Reserved: the caller must [`commit`](Reservation::commit) or
    /// [`cancel`](Reservation::cancel).
    Yes,
    /// Not ready: nothing changed.
    NotReady,
    /// Another thread reserves it: nothing changed; stand aside and look again.
    Busy,
}

impl Reservation<'_> {
    /// Whether some thread reserves the object now.
    pub(crate) fn held(&self) -> bool {
        self.state.load(SeqCst) & self.bit != 0
    }

    /// Reserves the object for the thread `me` (a reserver id) if `ready` says its state
    /// is ready.
    pub(crate) fn reserve(&self, me: u64, ready: impl Fn(u64) -> bool) -> Reserved {
        if self
            .reserver
            .compare_exchange(0, me, SeqCst, SeqCst)
            .is_err()
        {
            return Reserved::Busy;
        }
        let mut s = self.state.load(SeqCst);
        loop {
            if s & self.bit != 0 {
                // Set while we hold the word: a dead holder's.
                s = self.state.fetch_and(!self.bit, SeqCst) & !self.bit;
                continue;
            }
            if !ready(s) {
                self.give_word_back(me);
                return Reserved::NotReady;
            }
            match self.state.compare_exchange(s, s | self.bit, SeqCst, SeqCst) {
                Ok(_) => return Reserved::Yes,
                Err(now) => s = now,
            }
        }
    }

    /// Takes the object reserved by `me`: `take` gives the state after the take from the
    /// state before it (without the bit); returns the state the take wrote.
    pub(crate) fn commit(&self, me: u64, take: impl Fn(u64) -> u64) -> u64 {
        let mut s = self.state.load(SeqCst);
        let new = loop {
            let new = take(s & !self.bit) & !self.bit;
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) => break new,
                Err(now) => s = now,
            }
        };
        self.give_word_back(me);
        new
    }

    /// Gives up the reservation of `me`, changing nothing else.
    pub(crate) fn cancel(&self, me: u64) {
        self.state.fetch_and(!self.bit, SeqCst);
        self.give_word_back(me);
    }

    fn give_word_back(&self, me: u64) {
        // Fails only if a writer of the page changed the word: then it is not ours.
        let _ = self.reserver.compare_exchange(me, 0, SeqCst, SeqCst);
    }

    /// Stands aside once for a reservation found in place; `round` counts the times the
    /// caller stood aside in this operation. Every [`ASK_EVERY`] times, asks whether the
    /// reserver runs, and clears a dead one's reservation.
    pub(crate) fn stand_aside(&self, r: &impl Reservers, round: &mut u32) {
        *round = round.wrapping_add(1);
        if *round % ASK_EVERY == 0 {
            let holder = self.reserver.load(SeqCst);
            if holder == 0 || !r.reserver_alive(holder) {
                self.clear_dead(r, holder);
            }
        }
        r.pause(*round);
    }

    /// Clears the reservation of `dead`, which does not run (or 0: no holder, and a bit
    /// left set by a writer of the page).
    fn clear_dead(&self, r: &impl Reservers, dead: u64) {
        let me = r.reserver_id();
        if self
            .reserver
            .compare_exchange(dead, me, SeqCst, SeqCst)
            .is_ok()
        {
            // We hold the word: nobody sets the bit now, and a bit set is `dead`'s.
            self.state.fetch_and(!self.bit, SeqCst);
            self.give_word_back(me);
        }
    }
}
