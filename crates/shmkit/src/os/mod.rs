//! Operating-system backends.
//!
//! Every backend provides the same `pub(crate)` items, which the public types wrap:
//!
//! - `Handle`: one open handle to a mapping object. `Handle::size`, `protection`,
//!   `access`, `is_persistent`, `map(offset, len, access) -> RawView`, `try_clone`,
//!   `inherit_token`, `share_with(&mut Command)`, and `Drop`, which closes the handle and,
//!   for the last handle of a non-persistent named object, makes the name disappear
//!   (SPEC 5.1).
//! - `RawView`: one mapped view: `as_ptr`, `len`, `flush`, and `Drop`, which unmaps it.
//! - `create(&CreateRequest) -> Result<(Handle, bool)>`: create-or-open (or create-new
//!   when `exclusive`); the flag says whether the object already existed.
//! - `open(&Name, Access) -> Result<Handle>`, `open_os(os_name, Access)`,
//!   `from_inherited(token)`, `remove(&Name)`.
//! - `inspect`: what the public `inspect` module reports: `list`, `find`, `holders`,
//!   `command` (a holder's command name) and `collect_garbage(dry_run)` (Linux only: the
//!   module does not exist on Windows).
//! - `SyncHandle`: one open handle to a named (or unnamed) mutex, event or semaphore
//!   (SPEC section 7), made by `create_sync(&SyncRequest) -> Result<(SyncHandle, bool)>`
//!   (the flag: it already existed) and `open_sync(&Name, SyncType)`. Its methods:
//!   `sync_type`, `mutex_acquire(Option<Duration>) -> Result<Acquire>` (`None` waits
//!   forever; `Some(ZERO)` polls), `mutex_release` (ERROR_NOT_OWNER when the calling
//!   thread does not own it), `mutex_owned_by_caller`, `event_set`, `event_reset`,
//!   `event_wait(Option<Duration>) -> Result<bool>`, `event_manual`,
//!   `semaphore_release(n) -> Result<u32>` (the previous count; ERROR_TOO_MANY_POSTS past
//!   the maximum, changing nothing), `semaphore_acquire(Option<Duration>) -> Result<bool>`,
//!   `semaphore_max`, and as for mappings `try_clone`, `inherit_token`, `share_with`,
//!   `SyncHandle::from_inherited(token)`; `Drop` closes it with the lifetime of SPEC 5.1.
//!   A mutex owned by a thread whose handle is dropped stays owned until that thread
//!   releases it or ends (then it is abandoned), as on Windows.
//!
//! Backends speak `io::Error` internally and convert to [`crate::Error`] at this boundary,
//! naming the object in every message. Nothing in a backend knows about a face (the CLI,
//! the C API); nothing above this module makes a system call.

use crate::mapping::Protection;
use crate::name::Name;
use std::fs::File;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

/// The three kinds of synchronization object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncType {
    Mutex,
    Event,
    Semaphore,
}

/// The kind-specific part of a sync create call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncParams {
    Mutex { initial_owner: bool },
    Event { manual: bool, initially_set: bool },
    Semaphore { initial: u32, max: u32 },
}

impl SyncType {
    /// The kind in lower case, as messages and inherit tokens spell it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SyncType::Mutex => "mutex",
            SyncType::Event => "event",
            SyncType::Semaphore => "semaphore",
        }
    }

    /// The kind spelled by [`SyncType::as_str`].
    pub(crate) fn parse(s: &str) -> Option<SyncType> {
        [SyncType::Mutex, SyncType::Event, SyncType::Semaphore]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

impl SyncParams {
    /// The kind of object these parameters create.
    pub(crate) fn sync_type(self) -> SyncType {
        match self {
            SyncParams::Mutex { .. } => SyncType::Mutex,
            SyncParams::Event { .. } => SyncType::Event,
            SyncParams::Semaphore { .. } => SyncType::Semaphore,
        }
    }
}

/// Everything a sync create call asks of a backend. Parameters are already validated
/// (semaphore: `1 <= max`, `initial <= max`; permissions within 0o777).
pub(crate) struct SyncRequest<'a> {
    pub name: Option<&'a Name>,
    pub params: SyncParams,
    pub permissions: u32,
    pub inheritable: bool,
    pub exclusive: bool,
}

/// Everything a create call asks of a backend.
pub(crate) struct CreateRequest<'a> {
    pub name: Option<&'a Name>,
    /// 0 means "the file's length" for file-backed objects; refused otherwise.
    pub size: u64,
    pub protection: Protection,
    pub file: Option<&'a File>,
    /// Unix-style permission bits (0o600 by default).
    pub permissions: u32,
    pub inheritable: bool,
    pub persistent: bool,
    pub exclusive: bool,
}
