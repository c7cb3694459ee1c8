//! Waiting for several objects at once (WaitForMultipleObjects): a state machine over the
//! words of each object, with sleeping passed in as [`Futexes`] (on Linux, `futex_waitv`
//! over every object's `seq` word at once). No system call happens here, so the same code
//! runs over real shared memory and under the loom model checker (`tests/model.rs`
//! includes this file).
//!
//! The objects keep their own protocols (`lockword`, `state`), and releasers do not know
//! multi-waiters exist: a multi-waiter joins each object it has to sleep for as that
//! object's own waiters do, and the object's release wakes it.
//!
//! - **Registering.** Before it sleeps, a multi-waiter registers with every object it
//!   sleeps for: an event or a semaphore counts it among its waiters, a mutex gets the
//!   waiters bit. A set, a release or an unlock then bumps the object's `seq` and wakes.
//! - **No lost wake-up.** Each round reads an object's `seq` before it examines its state,
//!   and sleeps only while every `seq` still holds what it read: the kernel compares all
//!   the words as it queues the waiter, so a change between the look and the sleep ends
//!   the sleep at once. A registration is followed by a fresh look before any sleep.
//! - **Leaving.** A multi-waiter leaves every object it registered with and did not take.
//!   It may have taken a wake-up meant for another sleeper of that object (a release
//!   wakes one), so leaving hands the wake-up on; an auto-reset event's token handed out
//!   on its account goes back.
//!
//! **Wait-any** takes, in each round, the lowest-numbered object that is ready.
//!
//! **Wait-all** takes all its objects in one step, or none: a round first looks at every
//! object, changing none; only when all are ready does it reserve them, in order
//! (`super::reserve`): a reserved object is taken by nobody else and made not ready by
//! nobody (a reset waits), so once all are reserved it takes them all, and no other
//! thread ever sees some taken and others not. If one cannot be reserved (taken by
//! another thread since the look, or reserved by another wait-all), it gives up the
//! reservations it made and looks again. While some object is not ready, it owns no
//! mutex, holds no semaphore unit and consumes no auto-reset signal of the set; it
//! registers only with the objects that are not ready, and leaves those that become ready
//! (an auto-reset token then goes to the event's other waiters, or back as its signal).
//!
//! A wait that finds an object reserved by another thread's wait-all stands aside for
//! that moment (`Reservation::stand_aside`) and looks again; it never sleeps on a
//! reservation, which no wake ends.
//!
//! **Abandoned mutexes.** While a mutex of the set is held by another thread, each sleep
//! lasts at most [`Owners::recheck`]'s slice, and after a sleep in which the same
//! acquisition stayed in place its owner is asked whether it still runs, as a single wait
//! does: an abandoned mutex is found as soon in a multi-wait as in a single one.

use super::atomic::{AtomicU32, Ordering::SeqCst};
use super::lockword::{Me, MutexWords, Owners, Seen, Took, WAITERS};
use super::reserve::{self, Reservation, Reserved};
use super::state::{EventWords, Futex, SemaphoreWords};
use std::time::Instant;

/// The most objects one wait takes: Windows' MAXIMUM_WAIT_OBJECTS (and within
/// `futex_waitv`'s 128 words).
pub(crate) const MAX_OBJECTS: usize = 64;

/// Sleeping on several shared words at once.
pub(crate) trait Futexes: Futex {
    /// Sleeps while every word holds its expected value, until one of them is woken or
    /// until `deadline` (`None`: forever). May return early for no reason. Returns false
    /// only when the deadline has passed.
    fn wait_any(&self, words: &[(&AtomicU32, u32)], deadline: Option<Instant>) -> bool;
}

/// One object of a multi-object wait.
pub(crate) enum Item<'a> {
    Mutex(MutexWords<'a>),
    Event(EventWords<'a>),
    Semaphore(SemaphoreWords<'a>),
    /// Signalled while non-zero, and never consumed (a process that ended). Whoever makes
    /// it non-zero wakes every sleeper on it.
    Flag(&'a AtomicU32),
}

impl Item<'_> {
    /// The word this object's waiters sleep on.
    fn word(&self) -> &AtomicU32 {
        match self {
            Item::Mutex(m) => m.seq,
            Item::Event(e) => e.seq,
            Item::Semaphore(s) => s.seq,
            Item::Flag(f) => f,
        }
    }

    /// This object's reservation by a wait-all (a flag has none: nobody takes it).
    fn reservation(&self) -> Option<Reservation<'_>> {
        match self {
            Item::Mutex(m) => Some(m.reservation()),
            Item::Event(e) => Some(e.reservation()),
            Item::Semaphore(s) => Some(s.reservation()),
            Item::Flag(_) => None,
        }
    }
}

/// How a multi-object wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woken {
    /// Wait-any: the object of this index was taken. Wait-all: every object (index 0).
    Signalled(usize),
    /// As `Signalled`, and a mutex taken was abandoned by its owner: wait-any's object
    /// itself; for wait-all, one of the set (the index is 0, as Windows reports it).
    Abandoned(usize),
    TimedOut,
    /// The mutex of this index is held `u32::MAX` times by the caller; nothing was taken.
    TooDeep(usize),
}

/// What the wait knows of one object.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// Registered with the object (an event's waiters, a semaphore's, a mutex's waiters
    /// bit), so leaving it must hand on a wake-up.
    registered: bool,
    /// An event's `seq` before it registered.
    since: Option<u32>,
    /// The object's word, read before this round examined its state.
    expect: u32,
    /// Whether this round found it ready.
    ready: bool,
    /// A mutex: the state this round saw, what it saw it as, and the state seen before
    /// the last sleep.
    state: u64,
    seen: Seen,
    before: Option<u64>,
    /// A mutex taken: how.
    took: Option<Took>,
    /// Reserved by this wait-all.
    reserved: bool,
}

/// What a round of looks ended with.
enum Step {
    Done(Woken),
    /// Something changed under a take or a registration: look again, without sleeping.
    Again,
    /// The object of this index is reserved by another thread's wait-all: stand aside,
    /// then look again.
    Aside(usize),
    /// Nothing to take.
    Wait,
}

/// A wait for the objects `items`.
struct Waiter<'i, 'a, F, O> {
    items: &'i [Item<'a>],
    slots: Vec<Slot>,
    all: bool,
    me: Me,
    /// `me` as a reserver.
    id: u64,
    futex: &'i F,
    owners: &'i O,
}

/// Waits for any of `items` (wait-all: for all of them) until `deadline` (`None`:
/// forever); `poll` means a zero timeout: one look, never a sleep. `items` holds 1 to
/// [`MAX_OBJECTS`] objects; a wait-all names each object once (the caller checks both).
pub(crate) fn wait<F: Futexes, O: Owners>(
    items: &[Item<'_>],
    all: bool,
    me: Me,
    futex: &F,
    owners: &O,
    deadline: Option<Instant>,
    poll: bool,
) -> Woken {
    let mut w = Waiter {
        items,
        slots: vec![Slot::default(); items.len()],
        all,
        me,
        id: reserve::reserver_id(me.tid, me.start),
        futex,
        owners,
    };
    let woken = w.run(deadline, poll);
    w.leave_all();
    woken
}

impl<F: Futexes, O: Owners> Waiter<'_, '_, F, O> {
    fn run(&mut self, deadline: Option<Instant>, mut poll: bool) -> Woken {
        let mut round = 0;
        let mut aside = 0;
        let mut words = Vec::with_capacity(self.items.len());
        loop {
            match self.look(poll) {
                Step::Done(woken) => return woken,
                Step::Again => continue,
                Step::Aside(i) => {
                    if let Some(r) = self.items[i].reservation() {
                        r.stand_aside(self.futex, &mut aside);
                    }
                    continue;
                }
                Step::Wait => {}
            }
            if poll {
                return Woken::TimedOut;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                poll = true; // one last look, as a timed-out single wait takes a late set
                continue;
            }
            if self.register() {
                continue;
            }
            // Sleep on the words of the objects that are not ready.
            words.clear();
            words.extend(
                self.items
                    .iter()
                    .zip(&self.slots)
                    .filter(|(_, slot)| !slot.ready)
                    .map(|(item, slot)| (item.word(), slot.expect)),
            );
            let held = self
                .items
                .iter()
                .zip(&self.slots)
                .any(|(item, slot)| matches!(item, Item::Mutex(_)) && !slot.ready);
            let slice = if held {
                let slice = self.owners.recheck(round);
                round = round.saturating_add(1);
                slice.and_then(|d| Instant::now().checked_add(d))
            } else {
                None
            };
            let until = match (deadline, slice) {
                (Some(d), Some(s)) => Some(d.min(s)),
                (d, s) => d.or(s),
            };
            let woken = self.futex.wait_any(&words, until);
            for (item, slot) in self.items.iter().zip(&mut self.slots) {
                if matches!(item, Item::Mutex(_)) {
                    slot.before = (!slot.ready).then_some(slot.state);
                }
            }
            if !woken && deadline.is_some_and(|d| Instant::now() >= d) {
                poll = true;
            }
        }
    }

    /// One look at every object, lowest index first; wait-any takes the first one ready,
    /// wait-all takes them all once all are ready.
    fn look(&mut self, poll: bool) -> Step {
        let mut aside = None;
        for i in 0..self.items.len() {
            let slot = &mut self.slots[i];
            slot.expect = self.items[i].word().load(SeqCst);
            if self.items[i].reservation().is_some_and(|r| r.held()) {
                // Another thread's wait-all: taken or given up in a moment.
                slot.ready = false;
                aside.get_or_insert(i);
                continue;
            }
            slot.ready = match &self.items[i] {
                Item::Mutex(m) => {
                    let (s, seen) = m.look(self.me, self.owners, slot.before, poll);
                    slot.state = s;
                    slot.seen = seen;
                    if seen == Seen::Reserved {
                        aside.get_or_insert(i);
                    }
                    !matches!(seen, Seen::Busy | Seen::Reserved)
                }
                Item::Event(e) => e.ready(slot.since),
                Item::Semaphore(s) => s.ready(),
                Item::Flag(_) => slot.expect != 0,
            };
            if slot.ready && !self.all {
                if let Some(j) = aside {
                    // A lower object, reserved: wait-any takes the lowest one ready.
                    return Step::Aside(j);
                }
                return match self.take(i) {
                    Ok(true) => Step::Done(self.outcome(i)),
                    Ok(false) => Step::Again,
                    Err(()) => Step::Done(Woken::TooDeep(i)),
                };
            }
        }
        if let Some(i) = aside {
            return Step::Aside(i);
        }
        if !self.all || !self.slots.iter().all(|s| s.ready) {
            return Step::Wait;
        }
        self.take_all()
    }

    /// Wait-all, every object found ready: reserves them all, then takes them all; or,
    /// when one cannot be reserved, gives up the reservations made and looks again.
    fn take_all(&mut self) -> Step {
        for (i, (item, slot)) in self.items.iter().zip(&self.slots).enumerate() {
            if let Item::Mutex(m) = item {
                if slot.seen == Seen::Mine && m.too_deep() {
                    return Step::Done(Woken::TooDeep(i));
                }
            }
        }
        for i in 0..self.items.len() {
            let slot = &self.slots[i];
            let got = match &self.items[i] {
                Item::Mutex(m) => match m.reserve(slot.state, slot.seen, self.id) {
                    // A mutex of the caller's needs no reservation: only it releases it.
                    Reserved::Yes if slot.seen == Seen::Mine => {
                        continue;
                    }
                    got => got,
                },
                Item::Event(e) => e.reserve(slot.since, self.id),
                Item::Semaphore(s) => s.reserve(self.id),
                Item::Flag(_) => continue, // only ever raised
            };
            match got {
                Reserved::Yes => self.slots[i].reserved = true,
                Reserved::NotReady | Reserved::Busy => {
                    for j in 0..i {
                        if self.slots[j].reserved {
                            self.slots[j].reserved = false;
                            if let Some(r) = self.items[j].reservation() {
                                r.cancel(self.id);
                            }
                        }
                    }
                    return if got == Reserved::Busy {
                        Step::Aside(i)
                    } else {
                        Step::Again
                    };
                }
            }
        }
        let mut abandoned = false;
        for (item, slot) in self.items.iter().zip(&mut self.slots) {
            slot.reserved = false;
            match item {
                Item::Mutex(m) => {
                    let took = m.commit(slot.seen, self.me, self.id, slot.registered);
                    abandoned |= took == Ok(Took::Abandoned);
                    slot.took = took.ok();
                }
                Item::Event(e) => e.commit(slot.since, self.id),
                Item::Semaphore(s) => s.commit(slot.registered, self.id),
                Item::Flag(_) => {}
            }
            // Taking an event or a semaphore left it; a mutex taken is ours to release.
            slot.registered = false;
            slot.since = None;
        }
        Step::Done(if abandoned {
            Woken::Abandoned(0)
        } else {
            Woken::Signalled(0)
        })
    }

    fn outcome(&self, i: usize) -> Woken {
        match self.slots[i].took {
            Some(Took::Abandoned) => Woken::Abandoned(i),
            _ => Woken::Signalled(i),
        }
    }

    /// Takes the object `i` that this round found ready: Ok(false) when it changed since
    /// (nothing taken), Err for a mutex held too often.
    fn take(&mut self, i: usize) -> Result<bool, ()> {
        let slot = &mut self.slots[i];
        let took = match &self.items[i] {
            Item::Mutex(m) => match m.take_seen(slot.state, slot.seen, self.me, slot.registered) {
                Ok(took) => {
                    slot.took = took;
                    took.is_some()
                }
                Err(_) => return Err(()),
            },
            Item::Event(e) => e.take(slot.since),
            Item::Semaphore(s) => s.take(slot.registered),
            Item::Flag(f) => f.load(SeqCst) != 0,
        };
        if took {
            // Taking an event or a semaphore left it; a mutex taken is ours to release.
            slot.registered = false;
            slot.since = None;
        }
        Ok(took)
    }

    /// Before a sleep: registers with every object that is not ready (then the caller
    /// looks again), and, for wait-all, leaves those that are ready. True when the caller
    /// must look again before it sleeps.
    fn register(&mut self) -> bool {
        let mut again = false;
        for (item, slot) in self.items.iter().zip(&mut self.slots) {
            if slot.ready {
                // Only wait-all sleeps with an object ready; it needs no wake-up from it.
                if slot.registered {
                    leave(item, slot, self.futex);
                }
                continue;
            }
            match item {
                Item::Mutex(m) => {
                    if m.ask_wake(slot.state) {
                        slot.registered = true;
                        slot.state |= WAITERS;
                    } else {
                        again = true;
                    }
                }
                Item::Event(e) if !slot.registered => {
                    slot.since = Some(e.register());
                    slot.registered = true;
                    again = true;
                }
                Item::Semaphore(s) if !slot.registered => {
                    s.register();
                    slot.registered = true;
                    again = true;
                }
                Item::Event(_) | Item::Semaphore(_) | Item::Flag(_) => {}
            }
        }
        again
    }

    /// Leaves every object still registered with (the wait is over).
    fn leave_all(&mut self) {
        for (item, slot) in self.items.iter().zip(&mut self.slots) {
            if slot.registered {
                leave(item, slot, self.futex);
            }
        }
    }
}

fn leave(item: &Item<'_>, slot: &mut Slot, futex: &impl Futex) {
    match item {
        Item::Mutex(m) => m.pass_wake_on(futex),
        Item::Event(e) => e.leave(futex),
        Item::Semaphore(s) => s.leave(futex),
        Item::Flag(_) => {}
    }
    slot.registered = false;
    slot.since = None;
}
