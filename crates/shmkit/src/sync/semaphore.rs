//! The named semaphore.

use super::{object_methods, Object};
use crate::error::Result;
use crate::kind::Kind;
use crate::params;
use std::time::Duration;

/// A named semaphore (CreateSemaphore): a count between 0 and a maximum; a wait takes
/// one unit, a release gives units back.
///
/// ```
/// # fn main() -> shmkit::Result<()> {
/// use shmkit::sync::Semaphore;
/// use shmkit::ErrorKind;
/// # let name = format!("Local\\doc-sem-{}", std::process::id());
/// let sem = Semaphore::create(&name, 1, 2)?;
/// sem.acquire()?;                          // 1 -> 0
/// assert_eq!(sem.release(2)?, 0);          // 0 -> 2, reports the previous count
/// let err = sem.release(1).unwrap_err();   // past the maximum: refused, count stays 2
/// assert_eq!(err.kind(), ErrorKind::TooManyPosts);
/// # Ok(()) }
/// ```
#[doc(alias = "CreateSemaphore")]
pub struct Semaphore {
    object: Object,
}

object_methods!(Semaphore, Kind::Semaphore);

impl Semaphore {
    pub(crate) fn from_object(object: Object) -> Semaphore {
        Semaphore { object }
    }

    /// Creates the semaphore `name` with `initial` of `max` units, or opens it if it
    /// exists (then it keeps its own count and maximum).
    pub fn create(name: &str, initial: u32, max: u32) -> Result<Semaphore> {
        Semaphore::options()
            .name(name)
            .create_semaphore(initial, max)
    }

    /// Creates the semaphore `name`;
    /// [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists) when the name is taken.
    pub fn create_new(name: &str, initial: u32, max: u32) -> Result<Semaphore> {
        Semaphore::options()
            .name(name)
            .exclusive(true)
            .create_semaphore(initial, max)
    }

    /// Gives `n` units back and returns the count before. A release that would pass the
    /// maximum fails with [`ErrorKind::TooManyPosts`](crate::ErrorKind::TooManyPosts) and changes nothing; `n = 0` is
    /// an invalid parameter.
    #[doc(alias = "ReleaseSemaphore")]
    pub fn release(&self, n: u32) -> Result<u32> {
        params::release_count(n, &format!("releasing {}", self.object.label()))?;
        self.object.handle.semaphore_release(n)
    }

    /// Waits until a unit is free and takes it.
    #[doc(alias = "WaitForSingleObject")]
    pub fn acquire(&self) -> Result<()> {
        self.object.handle.semaphore_acquire(None).map(|_| ())
    }

    /// Waits at most `timeout` for a unit: true when one was taken, false when the time
    /// passed first (WAIT_TIMEOUT). A zero timeout polls.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool> {
        self.object.handle.semaphore_acquire(Some(timeout))
    }

    /// Takes a unit if one is free, without waiting.
    pub fn try_acquire(&self) -> Result<bool> {
        self.acquire_timeout(Duration::ZERO)
    }

    /// The maximum count (fixed by the creator).
    pub fn max(&self) -> u32 {
        self.object.handle.semaphore_max()
    }
}
