//! The state machine of the Linux mutex: words in shared memory that hold ids, never
//! addresses, changed only by compare-and-swap, with waiting passed in as a [`Futex`] and
//! the question "does this thread still run?" passed in as [`Owners`]. No system call
//! happens here, so the same code runs over real shared memory and under the loom model
//! checker (`tests/model.rs` includes this file).
//!
//! Why not a robust pthread mutex: glibc links a robust mutex into its owner thread's
//! robust list through pointers stored inside the mutex, so in a page that other users may
//! write those pointers are both an address leak and a write-what-where for the owner's
//! next unlock. Here the page holds only numbers, and whatever another process writes
//! there can at worst give the mutex to the wrong thread or report it abandoned; it can
//! never make this code touch memory outside the words.
//!
//! The words:
//!
//! | word | bits | meaning |
//! |---|---|---|
//! | `state` (64) | 0..30 | owner thread id (0: free) |
//! | | 30 | reserved by a wait-all (`super::reserve`): other takers stand aside |
//! | | 31 | waiters: some thread may be asleep on `seq` |
//! | | 32..64 | generation: bumped by every acquisition |
//! | `seq` (32) | | bumped by a release that may have waiters; waiters sleep on it |
//! | `depth` (32) | | recursive acquisitions beyond the first (owner only) |
//! | `start` (64) | | the owner thread's start time (0: unknown) |
//! | `sealed` (32) | | the generation whose acquirer wrote `start` |
//! | `reserver` (64) | | the wait-all reserving it (`super::reserve`) |
//!
//! The generation makes every acquisition distinct, so a waiter that concluded "the owner
//! is dead" takes the mutex over by a compare-and-swap of the exact `state` it examined:
//! if the owner released it and anyone (the same thread included) acquired it since, the
//! swap fails and the waiter looks again. An owner writes `start`, then `sealed`, right
//! after it acquires; a waiter trusts `start` only when `sealed` matches the generation it
//! sees (an owner killed between the two steps is then judged by its thread id alone).
//!
//! Abandonment: nothing in the kernel tells the waiters that an owner died (no robust
//! list), so a waiter that finds the same acquisition in place after a sleep asks
//! [`Owners::alive`]; the sleeps are bounded by [`Owners::recheck`]. A waiter reads `seq`
//! before it examines `state` and sleeps only while `seq` is unchanged, so a release
//! between its check and its sleep is never lost.

use super::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};
use super::reserve::{Reservation, Reserved};
use super::state::Futex;
use std::time::{Duration, Instant};

/// The owner-id bits of `state` (the kernel's thread ids fit in 30 bits).
pub(crate) const TID_MASK: u64 = 0x3fff_ffff;
const RESERVED: u64 = 1 << 30;
pub(crate) const WAITERS: u64 = 1 << 31;
const GEN_ONE: u64 = 1 << 32;

/// The calling thread, as the mutex records its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Me {
    /// Its thread id, 1..=TID_MASK.
    pub tid: u32,
    /// Its start time in the kernel's units (0: unknown).
    pub start: u64,
}

/// Who runs: the other OS service the mutex needs.
pub(crate) trait Owners {
    /// Whether the thread `tid` still runs; `start`, when known, is the start time the
    /// owner recorded (a thread of the same id started at another time is another thread).
    fn alive(&self, tid: u32, start: Option<u64>) -> bool;
    /// How long the `round`-th sleep of a waiter lasts before it looks at the owner again
    /// (`None`: until woken).
    fn recheck(&self, round: u32) -> Option<Duration>;
}

/// What a lock call ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    Acquired,
    /// Acquired from an owner that ended without releasing it.
    Abandoned,
    TimedOut,
    /// The owner already holds it `u32::MAX` times.
    TooDeep,
}

/// Releasing a mutex the calling thread does not own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotOwner;

/// Acquiring a mutex the calling thread already holds `u32::MAX` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep;

/// What one look of a multi-object wait (`super::multiwait`) sees of a mutex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Seen {
    /// Nobody owns it: a wait takes it.
    Free,
    /// The caller owns it: a wait takes it once more.
    Mine,
    /// Its owner ended holding it: a wait takes it over, abandoned.
    Abandoned,
    /// Another thread owns it, and runs (or has not been asked yet).
    #[default]
    Busy,
    /// A wait-all reserves it: it is taken or given up in a few instructions.
    Reserved,
}

/// A multi-object wait's acquisition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Took {
    /// Free or the caller's.
    Acquired,
    /// Taken over from an owner that ended.
    Abandoned,
}

/// The words of one mutex.
pub(crate) struct MutexWords<'a> {
    pub state: &'a AtomicU64,
    pub seq: &'a AtomicU32,
    pub depth: &'a AtomicU32,
    pub start: &'a AtomicU64,
    pub sealed: &'a AtomicU32,
    pub reserver: &'a AtomicU64,
}

fn owner(s: u64) -> u32 {
    (s & TID_MASK) as u32
}

fn generation(s: u64) -> u32 {
    (s >> 32) as u32
}

/// `s` acquired by `me`: the next generation, `me` as owner, the waiters bit as given,
/// not reserved.
fn taken(s: u64, me: Me, waiters: bool) -> u64 {
    let gen = (s & !(TID_MASK | RESERVED | WAITERS)).wrapping_add(GEN_ONE);
    gen | u64::from(me.tid) | if waiters { WAITERS } else { 0 }
}

impl MutexWords<'_> {
    /// The value of `state` for a new mutex: free, or owned by `me` (an initial owner).
    pub(crate) fn initial(me: Option<Me>) -> u64 {
        match me {
            None => 0,
            Some(me) => taken(0, me, false),
        }
    }

    /// Writes the owner record of a new mutex whose initial owner is `me`.
    pub(crate) fn init_owner(&self, me: Me) {
        self.seal(taken(0, me, false), me);
    }

    /// Records `me` as the owner of the acquisition `s`.
    #[inline]
    fn seal(&self, s: u64, me: Me) {
        // Plain stores: only the owner writes these, and `sealed` publishes `start`.
        self.depth.store(0, Relaxed);
        self.start.store(me.start, Relaxed);
        self.sealed.store(generation(s), Release);
    }

    /// Whether the acquisition `s` is `me`'s, not that of an earlier thread that had the
    /// same id.
    fn mine(&self, s: u64, me: Me) -> bool {
        owner(s) == me.tid
            && self.sealed.load(Acquire) == generation(s)
            && (me.start == 0 || self.start.load(Relaxed) == me.start)
    }

    /// Whether `me` owns the mutex.
    pub(crate) fn owned_by(&self, me: Me) -> bool {
        self.mine(self.state.load(SeqCst), me)
    }

    /// Whether the owner of the acquisition `s` still runs.
    fn owner_alive(&self, s: u64, owners: &impl Owners) -> bool {
        let known = self.sealed.load(Acquire) == generation(s);
        let start = self.start.load(Relaxed);
        let known = known && start != 0;
        owners.alive(owner(s), known.then_some(start))
    }

    /// Acquires the mutex for `me`: waits until `deadline` (`None`: forever); with `poll`,
    /// does not wait at all.
    #[inline]
    pub(crate) fn lock(
        &self,
        me: Me,
        futex: &impl Futex,
        owners: &impl Owners,
        deadline: Option<Instant>,
        poll: bool,
    ) -> Locked {
        let s = self.state.load(SeqCst);
        if owner(s) == 0 && s & RESERVED == 0 && self.take(s, me, s & WAITERS != 0) {
            return Locked::Acquired;
        }
        self.lock_contended(me, futex, owners, deadline, poll)
    }

    #[cold]
    fn lock_contended(
        &self,
        me: Me,
        futex: &impl Futex,
        owners: &impl Owners,
        deadline: Option<Instant>,
        poll: bool,
    ) -> Locked {
        // Whether the acquisition in place was already in place before our last sleep:
        // only then is its owner asked about (a poll asks at once).
        let mut stale = poll;
        let mut round = 0;
        let mut aside = 0;
        let mut last = None;
        loop {
            let seq = self.seq.load(SeqCst);
            let s = self.state.load(SeqCst);
            if s & RESERVED != 0 {
                // A wait-all takes it (or gives it up) in a few instructions; a poll too
                // waits for that.
                self.reservation().stand_aside(futex, &mut aside);
                continue;
            }
            if owner(s) == 0 {
                // Free. A waiter takes it with the waiters bit set: others may sleep.
                if self.take(s, me, true) {
                    return Locked::Acquired;
                }
                continue;
            }
            if owner(s) == me.tid {
                if self.mine(s, me) {
                    return match self.again() {
                        Ok(()) => Locked::Acquired,
                        Err(TooDeep) => Locked::TooDeep,
                    };
                }
                // Our id, but not our acquisition: a thread that had this id before us
                // ended holding it.
                if self.take(s, me, s & WAITERS != 0) {
                    return Locked::Abandoned;
                }
                continue;
            }
            stale |= last == Some(s);
            if stale && !self.owner_alive(s, owners) {
                if self.take(s, me, s & WAITERS != 0) {
                    return Locked::Abandoned;
                }
                continue;
            }
            if poll {
                return Locked::TimedOut;
            }
            if s & WAITERS == 0
                && self
                    .state
                    .compare_exchange(s, s | WAITERS, SeqCst, SeqCst)
                    .is_err()
            {
                continue;
            }
            let slice = owners
                .recheck(round)
                .and_then(|d| Instant::now().checked_add(d));
            round = round.saturating_add(1);
            let until = match (deadline, slice) {
                (Some(d), Some(s)) => Some(d.min(s)),
                (d, s) => d.or(s),
            };
            let woken = futex.wait(self.seq, seq, until);
            if !woken && deadline.is_some_and(|d| Instant::now() >= d) {
                self.pass_wake_on(futex);
                return Locked::TimedOut;
            }
            last = Some(s | WAITERS);
            stale = false;
        }
    }

    /// Takes the mutex from the state `s` (free, or a dead owner's acquisition), with the
    /// waiters bit `waiters`: succeeds only if nothing changed since `s` was read.
    fn take(&self, s: u64, me: Me, waiters: bool) -> bool {
        let new = taken(s, me, waiters);
        let done = self.state.compare_exchange(s, new, SeqCst, SeqCst).is_ok();
        if done {
            self.seal(new, me);
        }
        done
    }

    /// A waiter that leaves without the mutex (a timed-out wait, or a multi-object wait
    /// that took another object) may have taken the wake-up of a release meant for another
    /// sleeper, whose release cleared the waiters bit: it hands that wake-up on. A free
    /// mutex wakes one sleeper (who takes it with the bit set, or sets it again); a mutex
    /// another thread took since, without the bit, gets the bit, so that its release wakes
    /// one. (Without this, such a sleeper would wait for its next look, up to
    /// [`Owners::recheck`]'s slice.)
    pub(crate) fn pass_wake_on(&self, futex: &impl Futex) {
        let mut s = self.state.load(SeqCst);
        loop {
            if owner(s) == 0 {
                self.seq.fetch_add(1, SeqCst);
                futex.wake(self.seq, 1);
                return;
            }
            if s & WAITERS != 0 {
                return;
            }
            match self.state.compare_exchange(s, s | WAITERS, SeqCst, SeqCst) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
    }

    /// Multi-object wait: one look at the mutex for `me`. `before` is the state this
    /// waiter saw before its last sleep: if the same acquisition is still in place (or at
    /// once, with `poll`), its owner is asked whether it still runs, as a single wait does.
    pub(crate) fn look(
        &self,
        me: Me,
        owners: &impl Owners,
        before: Option<u64>,
        poll: bool,
    ) -> (u64, Seen) {
        let s = self.state.load(SeqCst);
        let seen = match owner(s) {
            _ if s & RESERVED != 0 => Seen::Reserved,
            0 => Seen::Free,
            t if t == me.tid && self.mine(s, me) => Seen::Mine,
            // Our id, not our acquisition: a thread that had the id before us ended in it.
            t if t == me.tid => Seen::Abandoned,
            _ if (poll || before == Some(s)) && !self.owner_alive(s, owners) => Seen::Abandoned,
            _ => Seen::Busy,
        };
        (s, seen)
    }

    /// Multi-object wait: takes the mutex from the state `s` that a look saw as `seen`;
    /// `Ok(None)` (nothing taken) when the state changed since, or for `Busy`. `asked`:
    /// this waiter set the waiters bit, so it takes the mutex with it (others may sleep).
    pub(crate) fn take_seen(
        &self,
        s: u64,
        seen: Seen,
        me: Me,
        asked: bool,
    ) -> Result<Option<Took>, TooDeep> {
        let waiters = asked || s & WAITERS != 0;
        Ok(match seen {
            Seen::Busy | Seen::Reserved => None,
            Seen::Free => self.take(s, me, waiters).then_some(Took::Acquired),
            Seen::Mine => {
                self.again()?;
                Some(Took::Acquired)
            }
            Seen::Abandoned => self.take(s, me, waiters).then_some(Took::Abandoned),
        })
    }

    /// The mutex's reservation by a wait-all.
    pub(crate) fn reservation(&self) -> Reservation<'_> {
        Reservation {
            state: self.state,
            reserver: self.reserver,
            bit: RESERVED,
        }
    }

    /// Wait-all: reserves for `me` (`id`, its reserver id) the mutex that a look saw as
    /// `seen` in the state `s`: free, or the same acquisition of a dead owner (the waiters
    /// bit aside). A mutex the caller owns needs no reservation (nobody else releases it);
    /// a busy one is not ready.
    pub(crate) fn reserve(&self, s: u64, seen: Seen, id: u64) -> Reserved {
        let ready = |now: u64| match seen {
            Seen::Free => owner(now) == 0,
            Seen::Abandoned => now & !WAITERS == s & !WAITERS,
            Seen::Mine | Seen::Busy | Seen::Reserved => false,
        };
        match seen {
            Seen::Mine => Reserved::Yes,
            Seen::Busy => Reserved::NotReady,
            Seen::Reserved => Reserved::Busy,
            Seen::Free | Seen::Abandoned => self.reservation().reserve(id, ready),
        }
    }

    /// Wait-all: takes the mutex that [`reserve`](Self::reserve) reserved for `me`, as
    /// [`take_seen`](Self::take_seen) does (with the waiters bit when `asked`).
    pub(crate) fn commit(&self, seen: Seen, me: Me, id: u64, asked: bool) -> Result<Took, TooDeep> {
        match seen {
            // Never reserved: nothing to take.
            Seen::Busy | Seen::Reserved => Ok(Took::Acquired),
            Seen::Mine => {
                self.again()?;
                Ok(Took::Acquired)
            }
            Seen::Free | Seen::Abandoned => {
                let new = self
                    .reservation()
                    .commit(id, |s| taken(s, me, asked || s & WAITERS != 0));
                self.seal(new, me);
                Ok(if seen == Seen::Abandoned {
                    Took::Abandoned
                } else {
                    Took::Acquired
                })
            }
        }
    }

    /// One more acquisition by the owner, which holds it already.
    fn again(&self) -> Result<(), TooDeep> {
        // Only the owner changes the depth, and nobody else can release it.
        let d = self.depth.load(Relaxed);
        if d == u32::MAX {
            return Err(TooDeep);
        }
        self.depth.store(d + 1, Relaxed);
        Ok(())
    }

    /// Whether the mutex is held `u32::MAX` times by its owner (a wait-all checks before
    /// it reserves anything).
    pub(crate) fn too_deep(&self) -> bool {
        self.depth.load(Relaxed) == u32::MAX
    }

    /// Multi-object wait: asks the release of the acquisition `s` to wake the sleepers
    /// (sets the waiters bit); false when the state changed since `s` was read.
    pub(crate) fn ask_wake(&self, s: u64) -> bool {
        s & WAITERS != 0
            || self
                .state
                .compare_exchange(s, s | WAITERS, SeqCst, SeqCst)
                .is_ok()
    }

    /// Releases one level of `me`'s ownership.
    #[inline]
    pub(crate) fn unlock(&self, me: Me, futex: &impl Futex) -> Result<(), NotOwner> {
        let mut s = self.state.load(SeqCst);
        if !self.mine(s, me) {
            return Err(NotOwner);
        }
        let d = self.depth.load(Relaxed);
        if d > 0 {
            self.depth.store(d - 1, Relaxed);
            return Ok(());
        }
        loop {
            // Free, keeping the generation; the waiters bit is cleared, and the waiter
            // woken sets it again if it goes back to sleep.
            let free = s & !(TID_MASK | WAITERS);
            match self.state.compare_exchange(s, free, SeqCst, SeqCst) {
                Ok(_) => break,
                // Only the waiters bit may change under an owner (or a forger: then the
                // mutex is no longer ours to release).
                Err(now) if owner(now) == me.tid && generation(now) == generation(s) => s = now,
                Err(_) => return Err(NotOwner),
            }
        }
        if s & WAITERS != 0 {
            self.seq.fetch_add(1, SeqCst);
            futex.wake(self.seq, 1);
        }
        Ok(())
    }
}
