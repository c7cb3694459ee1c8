//! The state machines of events and semaphores: words in shared memory, changed only by
//! compare-and-swap, with waiting and waking passed in as a [`Futex`]. No system call
//! happens here, so the same code runs over real shared memory (with futexes) and under
//! the loom model checker (`tests/model.rs` includes this file).
//!
//! Both objects keep two words: `state`, a 64-bit word that holds the whole logical state,
//! and `seq`, a 32-bit sequence number that waiters sleep on. A change that may release
//! a waiter bumps `seq` before waking; a waiter reads `seq` before it checks `state`, and
//! sleeps only while `seq` is unchanged, so a release between its check and its sleep is
//! never lost (the kernel compares `seq` atomically with going to sleep).
//!
//! Event `state`:
//!
//! | bits   | meaning                                                        |
//! |--------|----------------------------------------------------------------|
//! | 0      | signaled                                                       |
//! | 1..31  | waiters: threads registered in a wait (30 bits)                |
//! | 31     | reserved by a wait-all (`super::reserve`)                      |
//! | 32..64 | tokens (auto-reset only): sets handed to registered waiters    |
//!
//! An auto-reset set with more registered waiters than tokens hands a token to one of
//! them instead of signaling, so exactly one waiter is released per set, as on Windows
//! (the event is never observed set while a waiter is left waiting for it). Invariant:
//! `tokens <= waiters`; a waiter that times out takes a token if one is there (the set
//! came first) and otherwise leaves without one.
//!
//! A manual-reset set bumps `seq` when it turns the event on; a waiter that saw `seq`
//! change is released even if the event was reset before it ran (Windows releases every
//! thread waiting at the moment of the set).
//!
//! Semaphore `state`: bits 0..31 the count (a maximum is at most `i32::MAX`), bit 31
//! reserved by a wait-all, bits 32..64 the registered waiters. The maximum is a constant
//! of the object, kept beside the words.
//!
//! A wait-all reserves an object before it takes it (`super::reserve`): while the
//! reserved bit is set, every other take, and a reset, stands aside.

use super::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use super::reserve::{Reservation, Reserved, Reservers};
use std::time::Instant;

/// Sleeping on a shared word and waking its sleepers, and letting a wait-all's
/// reservation pass ([`Reservers`]): the only OS services the state machines need.
pub(crate) trait Futex: Reservers {
    /// Sleeps while `word` holds `expected`, until woken or until `deadline` (`None`:
    /// forever). May return early for no reason. Returns false only when the deadline
    /// has passed.
    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool;
    /// Wakes up to `n` threads sleeping on `word`, in any process.
    fn wake(&self, word: &AtomicU32, n: u32);
}

const SIGNALED: u64 = 1;
const WAITER: u64 = 1 << 1;
const WAITERS: u64 = 0x7fff_fffe;
const RESERVED: u64 = 1 << 31;
const TOKEN: u64 = 1 << 32;

fn waiters(s: u64) -> u64 {
    (s & WAITERS) >> 1
}

fn tokens(s: u64) -> u64 {
    s >> 32
}

/// The two words of an event.
pub(crate) struct EventWords<'a> {
    pub state: &'a AtomicU64,
    pub seq: &'a AtomicU32,
    /// The wait-all reserving it (`super::reserve`).
    pub reserver: &'a AtomicU64,
    pub manual: bool,
}

impl EventWords<'_> {
    /// The initial `state` of an event.
    pub(crate) fn initial(initially_set: bool) -> u64 {
        if initially_set {
            SIGNALED
        } else {
            0
        }
    }

    /// SetEvent.
    pub(crate) fn set(&self, futex: &impl Futex) {
        if self.manual {
            let prev = self.state.fetch_or(SIGNALED, SeqCst);
            if prev & SIGNALED == 0 {
                self.seq.fetch_add(1, SeqCst);
                if waiters(prev) > 0 {
                    futex.wake(self.seq, u32::MAX);
                }
            }
            return;
        }
        let mut s = self.state.load(SeqCst);
        loop {
            if s & SIGNALED != 0 {
                return; // setting a set event changes nothing
            }
            let handoff = waiters(s) > tokens(s);
            let new = if handoff { s + TOKEN } else { s | SIGNALED };
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) => {
                    if handoff {
                        self.seq.fetch_add(1, SeqCst);
                        futex.wake(self.seq, 1);
                    }
                    return;
                }
                Err(now) => s = now,
            }
        }
    }

    /// The event's reservation by a wait-all.
    pub(crate) fn reservation(&self) -> Reservation<'_> {
        Reservation {
            state: self.state,
            reserver: self.reserver,
            bit: RESERVED,
        }
    }

    /// ResetEvent. Tokens already handed out stay with their waiters: those sets came
    /// first. Stands aside while a wait-all reserves the event, which it counted as set.
    pub(crate) fn reset(&self, futex: &impl Futex) {
        let mut round = 0;
        let mut s = self.state.load(SeqCst);
        loop {
            if s & RESERVED != 0 {
                self.reservation().stand_aside(futex, &mut round);
                s = self.state.load(SeqCst);
                continue;
            }
            match self
                .state
                .compare_exchange(s, s & !SIGNALED, SeqCst, SeqCst)
            {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
    }

    /// Takes the signal of an auto-reset event, or sees a manual-reset event set; `None`
    /// when a wait-all reserves the set event (look again after standing aside).
    #[inline]
    fn try_take(&self) -> Option<bool> {
        let mut s = self.state.load(SeqCst);
        if self.manual {
            return Some(s & SIGNALED != 0);
        }
        while s & SIGNALED != 0 {
            if s & RESERVED != 0 {
                return None;
            }
            match self
                .state
                .compare_exchange(s, s & !SIGNALED, SeqCst, SeqCst)
            {
                Ok(_) => return Some(true),
                Err(now) => s = now,
            }
        }
        Some(false)
    }

    /// WaitForSingleObject: true when released, false when `deadline` passed first.
    /// `poll` means a zero timeout: never sleep.
    pub(crate) fn wait(&self, futex: &impl Futex, deadline: Option<Instant>, poll: bool) -> bool {
        match self.try_take() {
            Some(true) => return true,
            Some(false) if poll => return false,
            _ => {}
        }
        self.wait_slow(futex, deadline, poll)
    }

    #[cold]
    fn wait_slow(&self, futex: &impl Futex, deadline: Option<Instant>, poll: bool) -> bool {
        if poll {
            // Only a reservation brings a poll here: it lasts a few instructions.
            let mut round = 0;
            loop {
                match self.try_take() {
                    Some(took) => return took,
                    None => self.reservation().stand_aside(futex, &mut round),
                }
            }
        }
        if self.manual {
            // `seq` first: a set after this read releases us even if reset at once.
            let seq0 = self.seq.load(SeqCst);
            self.state.fetch_add(WAITER, SeqCst);
            let released = loop {
                if self.state.load(SeqCst) & SIGNALED != 0 || self.seq.load(SeqCst) != seq0 {
                    break true;
                }
                if !futex.wait(self.seq, seq0, deadline) {
                    break self.state.load(SeqCst) & SIGNALED != 0 || self.seq.load(SeqCst) != seq0;
                }
            };
            self.state.fetch_sub(WAITER, SeqCst);
            return released;
        }
        // Auto-reset: register, unless the event got set meanwhile (and is not reserved).
        let mut s = self.state.load(SeqCst);
        loop {
            let take = s & SIGNALED != 0 && s & RESERVED == 0;
            let new = if take { s & !SIGNALED } else { s + WAITER };
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) if take => return true,
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        let mut round = 0;
        loop {
            let seq = self.seq.load(SeqCst);
            let s = self.state.load(SeqCst);
            match Self::registered_take(s) {
                Some(_) if s & RESERVED != 0 => {
                    self.reservation().stand_aside(futex, &mut round);
                    continue;
                }
                Some(new) => {
                    if self.state.compare_exchange(s, new, SeqCst, SeqCst).is_ok() {
                        return true;
                    }
                    continue;
                }
                None => {}
            }
            if !futex.wait(self.seq, seq, deadline) {
                return self.leave_auto(futex);
            }
        }
    }

    /// What a registered auto-reset waiter's take of the state `s` writes: a token (a set
    /// handed it out), or the signal (a set that came while a wait-all reserved the event,
    /// which then gave it up, leaves the event set with this waiter registered). `None`:
    /// nothing to take.
    fn registered_take(s: u64) -> Option<u64> {
        if tokens(s) > 0 {
            Some(s - TOKEN - WAITER)
        } else if s & SIGNALED != 0 {
            Some((s & !SIGNALED) - WAITER)
        } else {
            None
        }
    }

    /// A timed-out auto-reset waiter leaves, taking a token or the signal if one is there.
    fn leave_auto(&self, futex: &impl Futex) -> bool {
        let mut round = 0;
        let mut s = self.state.load(SeqCst);
        loop {
            let take = Self::registered_take(s);
            if take.is_some() && s & RESERVED != 0 {
                self.reservation().stand_aside(futex, &mut round);
                s = self.state.load(SeqCst);
                continue;
            }
            let new = take.unwrap_or(s - WAITER);
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) => return take.is_some(),
                Err(now) => s = now,
            }
        }
    }
}

/// How a multi-object wait (`super::multiwait`) joins an event: as a registered waiter,
/// like [`EventWords::wait`]'s, so that a set bumps `seq` and wakes it. `since` is the
/// `seq` it read before it registered ([`EventWords::register`]); `None` when it is not
/// registered.
impl EventWords<'_> {
    /// Whether the event releases this waiter now: it is set; or, registered, a set since
    /// `since` handed it a token (auto-reset) or turned the event on (manual-reset, even if
    /// it was reset again: Windows releases every thread waiting at the moment of a set).
    pub(crate) fn ready(&self, since: Option<u32>) -> bool {
        self.ready_in(self.state.load(SeqCst), since)
    }

    fn ready_in(&self, s: u64, since: Option<u32>) -> bool {
        s & SIGNALED != 0
            || match since {
                None => false,
                Some(_) if !self.manual => tokens(s) > 0,
                Some(seq0) => self.seq.load(SeqCst) != seq0,
            }
    }

    /// Wait-all: reserves the event for `me` (a reserver id) if it releases this waiter.
    pub(crate) fn reserve(&self, since: Option<u32>, me: u64) -> Reserved {
        self.reservation().reserve(me, |s| self.ready_in(s, since))
    }

    /// Wait-all: takes the event that `me` reserved, as [`take`](Self::take) does.
    pub(crate) fn commit(&self, since: Option<u32>, me: u64) {
        let manual = self.manual;
        self.reservation().commit(me, |s| {
            // A page another process wrote may count no waiter: then there is none to drop.
            let mine = if since.is_some() && waiters(s) > 0 {
                WAITER
            } else {
                0
            };
            if manual {
                s - mine
            } else if mine != 0 && tokens(s) > 0 {
                s - TOKEN - mine
            } else {
                // The signal: a reservation keeps the event ready (a writer of the page
                // aside), and a take of nothing takes nothing.
                (s & !SIGNALED) - if s & SIGNALED != 0 { mine } else { 0 }
            }
        });
    }

    /// Registers a waiter; returns the `seq` read first (a set after it releases it).
    pub(crate) fn register(&self) -> u32 {
        let since = self.seq.load(SeqCst);
        self.state.fetch_add(WAITER, SeqCst);
        since
    }

    /// Takes what [`ready`](Self::ready) saw, leaving the event if registered: an
    /// auto-reset event's token (first: a set handed it out) or its signal; a manual-reset
    /// event is only looked at. False, changing nothing, when it does not release this
    /// waiter.
    pub(crate) fn take(&self, since: Option<u32>) -> bool {
        if self.manual {
            if !self.ready(since) {
                return false;
            }
            if since.is_some() {
                self.unregister();
            }
            return true;
        }
        let mut s = self.state.load(SeqCst);
        loop {
            if s & RESERVED != 0 {
                return false; // a wait-all's: the caller looks again
            }
            // A page another process wrote may count no waiter: then there is none to drop.
            let me = if since.is_some() && waiters(s) > 0 {
                WAITER
            } else {
                0
            };
            let new = if me != 0 && tokens(s) > 0 {
                s - TOKEN - me
            } else if s & SIGNALED != 0 {
                (s & !SIGNALED) - me
            } else {
                return false;
            };
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// A registered waiter leaves without taking the event. A token a set handed out on
    /// its account (one token for every waiter: the last is its) goes back as the
    /// event's signal; tokens left to the other waiters get a wake-up, as this waiter may
    /// have taken the one meant for them.
    pub(crate) fn leave(&self, futex: &impl Futex) {
        if self.manual {
            self.unregister();
            return;
        }
        let mut s = self.state.load(SeqCst);
        loop {
            if waiters(s) == 0 {
                return;
            }
            let mut new = s - WAITER;
            if tokens(new) > waiters(new) {
                new = (new - TOKEN) | SIGNALED;
            }
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) => {
                    if tokens(new) > 0 {
                        self.seq.fetch_add(1, SeqCst);
                        futex.wake(self.seq, 1);
                    }
                    return;
                }
                Err(now) => s = now,
            }
        }
    }

    fn unregister(&self) {
        let _ = self
            .state
            .fetch_update(SeqCst, SeqCst, |s| (waiters(s) > 0).then(|| s - WAITER));
    }
}

const COUNT: u64 = 0x7fff_ffff;
const SEM_RESERVED: u64 = 1 << 31;
const SEM_WAITER: u64 = 1 << 32;

/// The words of a semaphore.
pub(crate) struct SemaphoreWords<'a> {
    pub state: &'a AtomicU64,
    pub seq: &'a AtomicU32,
    /// The wait-all reserving it (`super::reserve`).
    pub reserver: &'a AtomicU64,
    /// At most `i32::MAX`.
    pub max: u32,
}

/// A release that would pass the maximum; nothing changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooManyPosts {
    /// The count, which the release left as it was.
    pub count: u32,
}

impl SemaphoreWords<'_> {
    /// The initial `state` of a semaphore.
    pub(crate) fn initial(count: u32) -> u64 {
        u64::from(count)
    }

    /// ReleaseSemaphore: adds `n`, returns the previous count.
    pub(crate) fn release(&self, n: u32, futex: &impl Futex) -> Result<u32, TooManyPosts> {
        let mut s = self.state.load(SeqCst);
        loop {
            let count = s & COUNT;
            if count + u64::from(n) > u64::from(self.max) {
                return Err(TooManyPosts {
                    count: count as u32,
                });
            }
            match self
                .state
                .compare_exchange(s, s + u64::from(n), SeqCst, SeqCst)
            {
                Ok(_) => {
                    let sleeping = s >> 32;
                    if sleeping > 0 {
                        self.seq.fetch_add(1, SeqCst);
                        futex.wake(self.seq, n.min(sleeping as u32));
                    }
                    return Ok(count as u32);
                }
                Err(now) => s = now,
            }
        }
    }

    /// The semaphore's reservation by a wait-all.
    pub(crate) fn reservation(&self) -> Reservation<'_> {
        Reservation {
            state: self.state,
            reserver: self.reserver,
            bit: SEM_RESERVED,
        }
    }

    /// Takes a unit; `None` when a wait-all reserves the semaphore (look again after
    /// standing aside).
    #[inline]
    fn try_take(&self) -> Option<bool> {
        let mut s = self.state.load(SeqCst);
        while s & COUNT > 0 {
            if s & SEM_RESERVED != 0 {
                return None;
            }
            match self.state.compare_exchange(s, s - 1, SeqCst, SeqCst) {
                Ok(_) => return Some(true),
                Err(now) => s = now,
            }
        }
        Some(false)
    }

    /// WaitForSingleObject: true when a unit was taken, false when `deadline` passed.
    pub(crate) fn acquire(
        &self,
        futex: &impl Futex,
        deadline: Option<Instant>,
        poll: bool,
    ) -> bool {
        match self.try_take() {
            Some(true) => return true,
            Some(false) if poll => return false,
            _ => {}
        }
        self.acquire_slow(futex, deadline, poll)
    }

    #[cold]
    fn acquire_slow(&self, futex: &impl Futex, deadline: Option<Instant>, poll: bool) -> bool {
        let mut round = 0;
        if poll {
            // Only a reservation brings a poll here: it lasts a few instructions.
            loop {
                match self.try_take() {
                    Some(took) => return took,
                    None => self.reservation().stand_aside(futex, &mut round),
                }
            }
        }
        let mut s = self.state.load(SeqCst);
        loop {
            let took = s & COUNT > 0 && s & SEM_RESERVED == 0;
            let new = if took { s - 1 } else { s + SEM_WAITER };
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) if took => return true,
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        loop {
            let seq = self.seq.load(SeqCst);
            let s = self.state.load(SeqCst);
            if s & COUNT > 0 {
                if s & SEM_RESERVED != 0 {
                    self.reservation().stand_aside(futex, &mut round);
                } else if self
                    .state
                    .compare_exchange(s, s - 1 - SEM_WAITER, SeqCst, SeqCst)
                    .is_ok()
                {
                    return true;
                }
                continue;
            }
            if !futex.wait(self.seq, seq, deadline) {
                let mut s = self.state.load(SeqCst);
                loop {
                    let took = s & COUNT > 0;
                    if took && s & SEM_RESERVED != 0 {
                        self.reservation().stand_aside(futex, &mut round);
                        s = self.state.load(SeqCst);
                        continue;
                    }
                    let new = if took {
                        s - 1 - SEM_WAITER
                    } else {
                        s - SEM_WAITER
                    };
                    match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                        Ok(_) => return took,
                        Err(now) => s = now,
                    }
                }
            }
        }
    }
}

/// How a multi-object wait (`super::multiwait`) joins a semaphore: as a registered
/// waiter, like [`SemaphoreWords::acquire`]'s, so that a release bumps `seq` and wakes it.
impl SemaphoreWords<'_> {
    /// Whether a unit is free.
    pub(crate) fn ready(&self) -> bool {
        self.state.load(SeqCst) & COUNT > 0
    }

    /// Registers a waiter.
    pub(crate) fn register(&self) {
        self.state.fetch_add(SEM_WAITER, SeqCst);
    }

    /// Wait-all: reserves the semaphore for `me` (a reserver id) if a unit is free.
    pub(crate) fn reserve(&self, me: u64) -> Reserved {
        self.reservation().reserve(me, |s| s & COUNT > 0)
    }

    /// Wait-all: takes a unit of the semaphore that `me` reserved, leaving it if
    /// `registered`.
    pub(crate) fn commit(&self, registered: bool, me: u64) {
        self.reservation().commit(me, |s| {
            let mine = if registered && s >> 32 > 0 {
                SEM_WAITER
            } else {
                0
            };
            // A reservation keeps the unit there (a writer of the page aside).
            s - (s & COUNT).min(1) - mine
        });
    }

    /// Takes a unit, leaving the semaphore if `registered`; false, changing nothing, when
    /// none is free or a wait-all reserves it.
    pub(crate) fn take(&self, registered: bool) -> bool {
        let mut s = self.state.load(SeqCst);
        while s & COUNT > 0 {
            if s & SEM_RESERVED != 0 {
                return false;
            }
            // A page another process wrote may count no waiter: then there is none to drop.
            let me = if registered && s >> 32 > 0 {
                SEM_WAITER
            } else {
                0
            };
            match self.state.compare_exchange(s, s - 1 - me, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
        false
    }

    /// A registered waiter leaves without a unit. If units are free and other waiters are
    /// left, one of them gets a wake-up, as this waiter may have taken the one a release
    /// meant for it.
    pub(crate) fn leave(&self, futex: &impl Futex) {
        let mut s = self.state.load(SeqCst);
        while s >> 32 > 0 {
            let new = s - SEM_WAITER;
            match self.state.compare_exchange(s, new, SeqCst, SeqCst) {
                Ok(_) => {
                    if new & COUNT > 0 && new >> 32 > 0 {
                        self.seq.fetch_add(1, SeqCst);
                        futex.wake(self.seq, 1);
                    }
                    return;
                }
                Err(now) => s = now,
            }
        }
    }
}
