//! Waiting for several sync objects at once: the engine of shmkit-win32's
//! `WaitForMultipleObjects` and `SignalObjectAndWait` on Linux.
//!
//! Hidden from the documentation, and not a stable API: it exists for the C API crate,
//! which needs to wait for mutexes, events and semaphores together with objects of its own
//! (processes), and is only on Linux (on Windows the kernel's WaitForMultipleObjects is
//! there). The protocol is `multiwait`'s: every object keeps its own state machine, and a
//! multi-waiter joins each one as its own waiters do.

use super::multiwait::{Item, MAX_OBJECTS};
use super::{Event, Mutex, Semaphore};
use crate::error::{code, Error, ErrorKind, Result};
use crate::os::{self, SyncHandle};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// One object of a multi-object wait.
#[derive(Debug, Clone, Copy)]
pub enum Waitable<'a> {
    /// Taken by the wait (recursively, by its owner); abandoned when its owner died.
    Mutex(&'a Mutex),
    /// Signalled while set; an auto-reset event is consumed by the wait.
    Event(&'a Event),
    /// Signalled while its count is above 0; the wait takes one unit.
    Semaphore(&'a Semaphore),
    /// A word of the caller's: signalled while non-zero, never consumed. Made non-zero
    /// with [`raise`], which wakes its waiters.
    Flag(&'a AtomicU32),
}

/// How a multi-object wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// Wait-any: the object of this index was taken (the lowest ready one). Wait-all:
    /// every object was taken (the index is 0).
    Signalled(usize),
    /// As `Signalled`, and a mutex taken was abandoned by its owner (wait-any: the object
    /// of this index; wait-all: one of the set, and the index is 0, as Windows reports it).
    Abandoned(usize),
    /// The timeout passed first; nothing was taken.
    TimedOut,
}

impl Waitable<'_> {
    fn handle(&self) -> Option<&SyncHandle> {
        match self {
            Waitable::Mutex(m) => Some(m.sync_handle()),
            Waitable::Event(e) => Some(e.sync_handle()),
            Waitable::Semaphore(s) => Some(s.sync_handle()),
            Waitable::Flag(_) => None,
        }
    }

    /// Whether `other` names the same object (for a handle opened twice, or duplicated).
    pub fn same_object(&self, other: &Waitable<'_>) -> Result<bool> {
        Ok(self.identity()? == other.identity()?)
    }

    /// What the object is, whatever names it: a flag's address, or a sync object's kind
    /// and file.
    fn identity(&self) -> Result<Identity> {
        let handle = match self {
            Waitable::Flag(f) => return Ok(Identity::Flag(*f as *const AtomicU32 as usize)),
            Waitable::Mutex(m) => m.sync_handle(),
            Waitable::Event(e) => e.sync_handle(),
            Waitable::Semaphore(s) => s.sync_handle(),
        };
        handle.object_id().map(Identity::Object)
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Identity {
    Flag(usize),
    Object((crate::Kind, u64, u64)),
}

/// Waits until any of `set` is signalled and takes it (the lowest-numbered of those
/// signalled), or until `timeout` passes (`None`: forever; zero polls). `set` holds 1 to
/// 64 objects, in any order, the same one several times if need be.
pub fn wait_any(set: &[Waitable<'_>], timeout: Option<Duration>) -> Result<Woken> {
    wait(set, false, timeout)
}

/// Waits until every object of `set` is signalled at once and takes them all, or until
/// `timeout` passes. Until all are signalled, none is taken: no mutex owned, no semaphore
/// unit or auto-reset signal consumed. Taking them is one step, as on Windows: the wait
/// reserves every object before it takes any, and no other thread takes (or resets) a
/// reserved object, so no thread ever sees some of the set taken and others not.
/// `set` holds 1 to 64 objects, each once: an object named twice, even by two
/// handles, is [`ErrorKind::InvalidParameter`] (ERROR_INVALID_PARAMETER, as Windows).
pub fn wait_all(set: &[Waitable<'_>], timeout: Option<Duration>) -> Result<Woken> {
    // One identity per object (one fstat each), sorted: a repeat is then a neighbour.
    let mut ids = set
        .iter()
        .map(Waitable::identity)
        .collect::<Result<Vec<_>>>()?;
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            "waiting for all of a set that names one object twice",
        ));
    }
    wait(set, true, timeout)
}

fn wait(set: &[Waitable<'_>], all: bool, timeout: Option<Duration>) -> Result<Woken> {
    if set.is_empty() || set.len() > MAX_OBJECTS {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!(
                "waiting for {} objects: a wait takes 1 to {MAX_OBJECTS}",
                set.len()
            ),
        ));
    }
    let items: Vec<Item<'_>> = set
        .iter()
        .map(|w| match w {
            Waitable::Mutex(m) => m.sync_handle().item(),
            Waitable::Event(e) => e.sync_handle().item(),
            Waitable::Semaphore(s) => s.sync_handle().item(),
            Waitable::Flag(f) => Item::Flag(f),
        })
        .collect();
    let woken = os::wait_many(&items, all, timeout);
    for h in set.iter().filter_map(Waitable::handle) {
        h.check_intact("waiting for")?;
    }
    use super::multiwait::Woken as W;
    match woken {
        W::Signalled(i) => Ok(Woken::Signalled(i)),
        W::Abandoned(i) => Ok(Woken::Abandoned(i)),
        W::TimedOut => Ok(Woken::TimedOut),
        W::TooDeep(i) => Err(Error::with_code(
            ErrorKind::Other,
            code::GEN_FAILURE,
            format!(
                "waiting for object {i}: the calling thread has acquired that mutex too many times"
            ),
        )),
    }
}

/// Makes `flag` non-zero and wakes every thread, of any process, waiting for it.
pub fn raise(flag: &AtomicU32) {
    flag.store(1, Ordering::SeqCst);
    os::wake_all(flag);
}
