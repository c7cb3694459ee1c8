//! The named event.

use super::{object_methods, Object};
use crate::error::Result;
use crate::kind::Kind;
use std::time::Duration;

/// How an event returns to the reset state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventReset {
    /// Stays set, releasing every waiter, until [`Event::reset`].
    Manual,
    /// Releases one waiter, then resets itself; with no waiter it stays set until one
    /// comes.
    Auto,
}

/// A named event (CreateEvent): a flag that threads of any process wait for.
///
/// ```
/// # fn main() -> shmkit::Result<()> {
/// use shmkit::sync::{Event, EventReset};
/// use std::time::Duration;
/// # let name = format!("Local\\doc-event-{}", std::process::id());
/// let done = Event::create(&name, EventReset::Manual, false)?;
/// assert!(!done.wait_timeout(Duration::ZERO)?);
/// done.set()?;
/// assert!(done.wait_timeout(Duration::ZERO)?);
/// assert!(done.wait_timeout(Duration::ZERO)?); // manual reset: still set
/// # Ok(()) }
/// ```
#[doc(alias = "CreateEvent")]
pub struct Event {
    object: Object,
}

object_methods!(Event, Kind::Event);

impl Event {
    pub(crate) fn from_object(object: Object) -> Event {
        Event { object }
    }

    /// Creates the event `name`, or opens it if it exists (then it keeps its own reset
    /// kind and state, and [`already_existed`](Event::already_existed) says so).
    pub fn create(name: &str, reset: EventReset, initially_set: bool) -> Result<Event> {
        Event::options()
            .name(name)
            .create_event(reset, initially_set)
    }

    /// Creates the event `name`; [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists)
    /// when the name is taken.
    pub fn create_new(name: &str, reset: EventReset, initially_set: bool) -> Result<Event> {
        Event::options()
            .name(name)
            .exclusive(true)
            .create_event(reset, initially_set)
    }

    /// Sets the event: releases every waiter (manual reset) or exactly one (auto reset;
    /// with nobody waiting, the next wait).
    #[doc(alias = "SetEvent")]
    pub fn set(&self) -> Result<()> {
        self.object.handle.event_set()
    }

    /// Resets the event.
    #[doc(alias = "ResetEvent")]
    pub fn reset(&self) -> Result<()> {
        self.object.handle.event_reset()
    }

    /// Waits until the event is set (taking the signal of an auto-reset event).
    #[doc(alias = "WaitForSingleObject")]
    pub fn wait(&self) -> Result<()> {
        self.object.handle.event_wait(None).map(|_| ())
    }

    /// Waits at most `timeout`: true when released, false when the time passed first
    /// (WAIT_TIMEOUT). A zero timeout polls.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool> {
        self.object.handle.event_wait(Some(timeout))
    }

    /// How the event resets (fixed by its creator).
    pub fn reset_kind(&self) -> EventReset {
        if self.object.handle.event_manual() {
            EventReset::Manual
        } else {
            EventReset::Auto
        }
    }
}
