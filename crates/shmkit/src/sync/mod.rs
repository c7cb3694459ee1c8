//! Named synchronization objects: [`Mutex`], [`Event`] and [`Semaphore`], the Windows
//! kernel objects, in the same namespace as mappings (SPEC section 7).
//!
//! ```
//! # fn main() -> shmkit::Result<()> {
//! use shmkit::sync::{Event, EventReset, Mutex, Semaphore};
//! use std::time::Duration;
//! # let n = |what: &str| format!("Local\\doc-sync-{what}-{}", std::process::id());
//! let mutex = Mutex::create(&n("mutex"))?;
//! {
//!     let guard = mutex.lock()?;
//!     assert!(!guard.was_abandoned());
//! } // released here
//!
//! let ready = Event::create(&n("ready"), EventReset::Auto, false)?;
//! ready.set()?;
//! assert!(ready.wait_timeout(Duration::ZERO)?); // takes the signal...
//! assert!(!ready.wait_timeout(Duration::ZERO)?); // ...which auto-reset
//!
//! let slots = Semaphore::create(&n("slots"), 2, 2)?;
//! assert!(slots.acquire_timeout(Duration::ZERO)?);
//! assert_eq!(slots.release(1)?, 1); // the count before the release
//! # Ok(()) }
//! ```
//!
//! Like a mapping, an object's name lives as long as some process holds a handle to it,
//! and the objects of killed processes are reclaimed. A name held by an object of another
//! kind is [`ErrorKind::WrongType`].
//!
//! [`Guarded`] puts a value in a mapping under a named mutex; [`ShmSafe`] says which types
//! may live in shared memory.

mod event;
mod guarded;
// The Linux backend builds its mutexes, events and semaphores on these state machines;
// Windows has kernel ones.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) mod lockword;
#[cfg(test)]
mod lockword_tests;
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub mod multi;
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) mod multiwait;
#[cfg(test)]
mod multiwait_tests;
mod mutex;
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) mod reserve;
mod semaphore;
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) mod state;
// Beside `state.rs`, not in it: tests/model.rs includes that file with loom's atomics.
#[cfg(test)]
mod state_tests;

pub(crate) use std::sync::atomic;

pub use crate::kind::Acquire;
pub use event::{Event, EventReset};
pub use guarded::{tag_of, Guarded, GuardedRef, ShmSafe};
pub use mutex::{Mutex, MutexGuard};
pub use semaphore::Semaphore;

use crate::error::{Error, ErrorKind, Result};
use crate::kind::Kind;
use crate::name::{label, Name};
use crate::os::{self, SyncHandle, SyncParams, SyncRequest};
use crate::{params, token};
use std::process::Command;

/// Options for creating a mutex, an event or a semaphore; made by
/// [`Mutex::options`], [`Event::options`] or [`Semaphore::options`] (they are the same).
///
/// ```
/// # fn main() -> shmkit::Result<()> {
/// use shmkit::sync::Semaphore;
/// # let name = format!("Global\\doc-opts-{}", std::process::id());
/// let sem = Semaphore::options()
///     .name(&name)
///     .permissions(0o666) // every user may open it
///     .exclusive(true)    // fail if the name is taken
///     .create_semaphore(0, 10)?;
/// assert_eq!(sem.max(), 10);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SyncOptions<'a> {
    name: Option<&'a str>,
    permissions: u32,
    inheritable: bool,
    exclusive: bool,
}

impl Default for SyncOptions<'_> {
    fn default() -> Self {
        SyncOptions {
            name: None,
            permissions: 0o600,
            inheritable: false,
            exclusive: false,
        }
    }
}

impl<'a> SyncOptions<'a> {
    /// Options for an unnamed object, private to its creator, not inheritable.
    pub fn new() -> SyncOptions<'a> {
        SyncOptions::default()
    }

    /// The object's name (`Global\`, `Local\` or bare). Without one the object is unnamed:
    /// shared only by inheritance or by duplicating the handle.
    pub fn name(&mut self, name: &'a str) -> &mut Self {
        self.name = Some(name);
        self
    }

    /// Who may open the object, as Unix permission bits (default `0o600`: only the
    /// creating user). Opening a sync object needs read and write permission.
    pub fn permissions(&mut self, mode: u32) -> &mut Self {
        self.permissions = mode;
        self
    }

    /// Whether child processes may inherit the handle (see [`Mutex::share_with`]).
    pub fn inheritable(&mut self, yes: bool) -> &mut Self {
        self.inheritable = yes;
        self
    }

    /// Fail with [`ErrorKind::AlreadyExists`] when the name is taken, instead of opening
    /// the existing object.
    pub fn exclusive(&mut self, yes: bool) -> &mut Self {
        self.exclusive = yes;
        self
    }

    /// Creates (or opens) a mutex. With `initial_owner`, a newly created mutex is owned
    /// by the calling thread from the start (release it with [`Mutex::release`]); an
    /// existing one is opened without taking it, as CreateMutex does.
    #[doc(alias = "CreateMutex")]
    pub fn create_mutex(&self, initial_owner: bool) -> Result<Mutex> {
        let object = self.create(SyncParams::Mutex { initial_owner })?;
        Ok(Mutex::from_object(object))
    }

    /// Creates (or opens) an event; an existing one keeps its own reset kind and state.
    #[doc(alias = "CreateEvent")]
    pub fn create_event(&self, reset: EventReset, initially_set: bool) -> Result<Event> {
        let object = self.create(SyncParams::Event {
            manual: reset == EventReset::Manual,
            initially_set,
        })?;
        Ok(Event::from_object(object))
    }

    /// Creates (or opens) a semaphore with `initial` of `max` units; an existing one
    /// keeps its own count and maximum. `max` must be at least 1 and `initial` at most
    /// `max` (else ERROR_INVALID_PARAMETER, even when the object exists).
    #[doc(alias = "CreateSemaphore")]
    pub fn create_semaphore(&self, initial: u32, max: u32) -> Result<Semaphore> {
        let object = self.create(SyncParams::Semaphore { initial, max })?;
        Ok(Semaphore::from_object(object))
    }

    fn create(&self, params: SyncParams) -> Result<Object> {
        let kind = params.kind();
        let parsed = self.name.map(Name::parse).transpose()?;
        let what = format!(
            "creating {}",
            label(kind, parsed.as_ref().map(Name::as_str))
        );
        if let SyncParams::Semaphore { initial, max } = params {
            params::semaphore(initial, max, &what)?;
        }
        params::permissions(self.permissions, &what)?;
        let req = SyncRequest {
            name: parsed.as_ref(),
            params,
            permissions: self.permissions,
            inheritable: self.inheritable,
            exclusive: self.exclusive,
        };
        let (handle, already_existed) = os::create_sync(&req)?;
        Ok(Object {
            handle,
            name: parsed.map(|n| n.as_str().to_owned()),
            already_existed,
        })
    }
}

/// What the three public types share: the backend handle and what it was opened as.
pub(crate) struct Object {
    pub(crate) handle: SyncHandle,
    name: Option<String>,
    already_existed: bool,
}

impl Object {
    fn open(name: &str, kind: Kind) -> Result<Object> {
        let parsed = Name::parse(name)?;
        let handle = os::open_sync(&parsed, kind)?;
        Ok(Object {
            handle,
            name: Some(parsed.as_str().to_owned()),
            already_existed: true,
        })
    }

    fn label(&self) -> String {
        label(self.handle.kind(), self.name.as_deref())
    }

    fn try_clone(&self) -> Result<Object> {
        Ok(Object {
            handle: self.handle.try_clone()?,
            name: self.name.clone(),
            already_existed: true,
        })
    }

    fn share_with(&self, cmd: &mut Command) -> Result<String> {
        Ok(self.handle.share_with(cmd)?.encode())
    }

    fn inherit_token(&self) -> Option<String> {
        self.handle.inherit_token().map(|t| t.encode())
    }

    fn from_inherited(text: &str, kind: Kind) -> Result<Object> {
        let handle = SyncHandle::from_inherited(&token::decode_for(text, kind)?)?;
        if handle.kind() != kind {
            return Err(Error::new(
                ErrorKind::WrongType,
                format!(
                    "inherited handle {text:?} is a {}, not a {kind}",
                    handle.kind()
                ),
            ));
        }
        let name = handle.name();
        Ok(Object {
            handle,
            name,
            already_existed: true,
        })
    }
}

/// The handle methods the three types share (they mirror [`crate::Mapping`]'s).
macro_rules! object_methods {
    ($ty:ident, $kind:expr) => {
        impl $ty {
            /// Opens the existing object `name` ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound)
            /// when there is none; [`ErrorKind::WrongType`](crate::ErrorKind::WrongType) when
            /// the name holds another kind of object).
            pub fn open(name: &str) -> $crate::Result<$ty> {
                Ok($ty::from_object($crate::sync::Object::open(name, $kind)?))
            }

            /// Options for creating one: name, permissions, inheritance, exclusivity.
            pub fn options<'a>() -> $crate::sync::SyncOptions<'a> {
                $crate::sync::SyncOptions::new()
            }

            /// The name, as given (`None` for an unnamed object).
            pub fn name(&self) -> Option<&str> {
                self.object.name.as_deref()
            }

            /// Whether a create call found the object already there (ERROR_ALREADY_EXISTS).
            pub fn already_existed(&self) -> bool {
                self.object.already_existed
            }

            /// A second, independent handle to the same object (DuplicateHandle).
            #[doc(alias = "DuplicateHandle")]
            pub fn try_clone(&self) -> $crate::Result<$ty> {
                Ok($ty::from_object(self.object.try_clone()?))
            }

            /// Lets the child process `cmd` will start inherit a handle; returns the token
            /// the child passes to `from_inherited`.
            pub fn share_with(&self, cmd: &mut std::process::Command) -> $crate::Result<String> {
                self.object.share_with(cmd)
            }

            /// The token of a handle created inheritable, for a child started by any means.
            pub fn inherit_token(&self) -> Option<String> {
                self.object.inherit_token()
            }

            /// Adopts a handle inherited from the parent process.
            pub fn from_inherited(token: &str) -> $crate::Result<$ty> {
                Ok($ty::from_object($crate::sync::Object::from_inherited(
                    token, $kind,
                )?))
            }

            /// Closes the handle (what dropping it does).
            #[doc(alias = "CloseHandle")]
            pub fn close(self) {}

            /// The backend handle (for waits on several objects at once).
            #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
            pub(crate) fn sync_handle(&self) -> &$crate::os::SyncHandle {
                &self.object.handle
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.object.name)
                    .field("already_existed", &self.object.already_existed)
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use object_methods;
