//! The named mutex.

use super::{object_methods, Acquire, Object};
use crate::error::Result;
use crate::kind::Kind;
use std::marker::PhantomData;
use std::time::Duration;

/// A named mutex (CreateMutex): owned by one thread at a time, recursive for its owner,
/// and robust: when the owning thread ends or its process is killed, the next thread to
/// wait acquires it and is told it was abandoned.
///
/// ```
/// # fn main() -> shmkit::Result<()> {
/// use shmkit::sync::Mutex;
/// # let name = format!("Local\\doc-mutex-{}", std::process::id());
/// let m = Mutex::create(&name)?;
/// let outer = m.lock()?;
/// let inner = m.lock()?; // recursive for the owning thread
/// drop(inner);
/// drop(outer); // released for other threads and processes
/// # Ok(()) }
/// ```
#[doc(alias = "CreateMutex")]
pub struct Mutex {
    object: Object,
}

object_methods!(Mutex, Kind::Mutex);

impl Mutex {
    pub(crate) fn from_object(object: Object) -> Mutex {
        Mutex { object }
    }

    /// Creates the mutex `name`, not owned, or opens it if it exists
    /// ([`already_existed`](Mutex::already_existed) then says so).
    pub fn create(name: &str) -> Result<Mutex> {
        Mutex::options().name(name).create_mutex(false)
    }

    /// Creates the mutex `name`; [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists)
    /// when the name is taken.
    pub fn create_new(name: &str) -> Result<Mutex> {
        Mutex::options()
            .name(name)
            .exclusive(true)
            .create_mutex(false)
    }

    /// Waits until the calling thread owns the mutex. The guard releases it when dropped;
    /// [`MutexGuard::was_abandoned`] tells whether its previous owner died holding it.
    #[doc(alias = "WaitForSingleObject")]
    #[inline]
    pub fn lock(&self) -> Result<MutexGuard<'_>> {
        let outcome = self.acquire(None)?;
        Ok(self.guard(outcome == Acquire::Abandoned))
    }

    /// Takes the mutex if it is free or already owned by the calling thread; `None`
    /// otherwise, without waiting.
    pub fn try_lock(&self) -> Result<Option<MutexGuard<'_>>> {
        self.lock_timeout(Duration::ZERO)
    }

    /// Waits at most `timeout` for the mutex; `None` when the time passed first.
    pub fn lock_timeout(&self, timeout: Duration) -> Result<Option<MutexGuard<'_>>> {
        Ok(match self.acquire(Some(timeout))? {
            Acquire::TimedOut => None,
            outcome => Some(self.guard(outcome == Acquire::Abandoned)),
        })
    }

    /// The guard-free form of a wait, as WaitForSingleObject has it: on `Acquired` or
    /// `Abandoned` the calling thread owns the mutex one more time and must call
    /// [`release`](Mutex::release) once for it. `None` waits forever; a zero timeout polls.
    #[inline]
    pub fn acquire(&self, timeout: Option<Duration>) -> Result<Acquire> {
        self.object.handle.mutex_acquire(timeout)
    }

    /// Releases one level of ownership taken by [`acquire`](Mutex::acquire) or by
    /// creating the mutex owned (ReleaseMutex).
    /// [`ErrorKind::NotOwner`](crate::ErrorKind::NotOwner) when the calling thread does
    /// not own it.
    #[doc(alias = "ReleaseMutex")]
    #[inline]
    pub fn release(&self) -> Result<()> {
        self.object.handle.mutex_release()
    }

    /// Whether the calling thread owns the mutex now.
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.object.handle.mutex_owned_by_caller()
    }

    #[inline]
    fn guard(&self, abandoned: bool) -> MutexGuard<'_> {
        MutexGuard {
            mutex: self,
            abandoned,
            _not_send: PhantomData,
        }
    }
}

/// Ownership of a [`Mutex`] by the current thread; dropping it releases the mutex.
///
/// A guard cannot move to another thread: the mutex belongs to the thread that took it.
#[must_use = "the mutex is released as soon as the guard is dropped"]
pub struct MutexGuard<'a> {
    mutex: &'a Mutex,
    abandoned: bool,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a `&MutexGuard` between threads only gives access to
// `was_abandoned`, a plain bool; the guard itself stays on its thread (`!Send`).
unsafe impl Sync for MutexGuard<'_> {}

impl MutexGuard<'_> {
    /// Whether the previous owner ended without releasing the mutex (WAIT_ABANDONED): the
    /// data it protects may be half-updated.
    pub fn was_abandoned(&self) -> bool {
        self.abandoned
    }

    /// The mutex this guard holds.
    pub fn mutex(&self) -> &Mutex {
        self.mutex
    }
}

impl Drop for MutexGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // The guard is `!Send`, so this runs on the thread that took the mutex and still
        // owns this level of it. A release can still fail (another process may have
        // corrupted the shared mutex); a destructor has no one to report that to, and the
        // next wait reports the damage.
        let _ = self.mutex.release();
    }
}

impl std::fmt::Debug for MutexGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutexGuard")
            .field("mutex", &self.mutex.name())
            .field("abandoned", &self.abandoned)
            .finish()
    }
}
