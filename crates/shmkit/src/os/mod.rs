//! Operating-system backends: the contract every backend fulfils.
//!
//! The backend of the target (`linux/` or `windows/`) is compiled as `imp` and its items
//! are re-exported here by name; the public layer (`Mapping`, `View`, the sync types,
//! `inspect`) wraps them and nothing else reaches into a backend. A backend imports only
//! the crate's leaves: `kind` (the shared words), `error`, `name`, `token`, `params`'s
//! limits and the pure algorithms of `sync::state`; never a public type's module.
//!
//! What every backend provides (the `const _` items at the end of this file check each
//! signature when the crate is compiled for any target, so a backend that drifts from the
//! contract does not build):
//!
//! - `Handle`: one open handle to a mapping object, made by `create(&CreateRequest) ->
//!   (Handle, already_existed)` (create-or-open, or create-new when `exclusive`),
//!   `open(&Name, Access)`, `open_os(os_name, Access)` (a plain POSIX shared-memory
//!   object) or `Handle::from_inherited(&Token)`; `remove(&Name)` removes a persistent
//!   object's name. Its methods: `size`, `access`, `protection`, `is_persistent`, `name`,
//!   `map(offset, len, access) -> RawView`, `try_clone`, `inherit_token`,
//!   `share_with(&mut Command) -> Token`. `Drop` closes the handle; for the last handle
//!   of a non-persistent named object it makes the name disappear (SPEC 5.1).
//! - `RawView`: one mapped view: `as_ptr`, `len`, `copy_out(offset, buf)` and
//!   `copy_in(offset, data)` (the safe copies, in bounds; an error, never a crash, when
//!   the memory lost its backing), `flush`; `Drop` unmaps it.
//! - `SyncHandle`: one open handle to a mutex, event or semaphore (SPEC section 7), made
//!   by `create_sync(&SyncRequest) -> (SyncHandle, already_existed)`,
//!   `open_sync(&Name, Kind)` or `SyncHandle::from_inherited(&Token)`. Its methods:
//!   `kind`, `name`, `mutex_acquire(Option<Duration>) -> Acquire` (`None` waits forever,
//!   `Some(ZERO)` polls), `mutex_release` (ERROR_NOT_OWNER when the calling thread does
//!   not own it), `mutex_owned_by_caller`, `event_set`, `event_reset`,
//!   `event_wait(Option<Duration>) -> bool`, `event_manual`, `semaphore_release(n) ->
//!   previous count` (ERROR_TOO_MANY_POSTS past the maximum, changing nothing),
//!   `semaphore_acquire(Option<Duration>) -> bool`, `semaphore_max`, and as for mappings
//!   `try_clone`, `inherit_token`, `share_with`. `Drop` closes it with the lifetime of
//!   SPEC 5.1; a mutex owned by a thread whose handle is dropped stays owned until that
//!   thread releases it or ends (then it is abandoned), as on Windows.
//! - `ChannelHandle`: one attached channel end (SPEC section 9), made by
//!   `create_channel(&ChannelRequest, sender) -> (ChannelHandle, already_existed)` or
//!   `open_channel(&Name, sender)`; a second receiver, or a sender beyond the channel's
//!   places, is ERROR_BUSY. Its methods: `another_sender`, `what`, `control` (the
//!   mapped control page and ring, `crate::channel::control::Control`: the shape, the
//!   shared words, the payloads, the ring's headers), `peer_gone` (before the other
//!   end ever attached: false), `damaged` (the memory lost its backing under the end),
//!   `claim(deadline, poll) -> Locked`, `unclaim`, `claim_owned` (the senders' turn),
//!   `corrupt(why)`; it implements `ring::Ends`. `Drop` detaches the end (its place is
//!   free for a new one, as when its process dies) and wakes the other side.
//! - `inspect`: `list(all_users)`, `find(&Name)`, `holders(&[Found])`, `command(pid)`,
//!   `collect_garbage(dry_run)`, over [`Found`], [`RawHolder`] and [`Garbage`], with
//!   `inspect::Ids`, the backend's identity of an object's files (a backend that cannot
//!   list objects answers `NotSupported`).
//!
//! Requests reach a backend validated (`crate::params`): sizes, permission bits and
//! semaphore counts are within their ranges, a create-new has a name, a persistent object
//! has a name. A backend checks only what needs the system to know (a file's length, an
//! existing object's kind and owner).
//!
//! **How backends report errors — one rule.** Every contract function that finds, makes
//! or changes an object returns [`crate::Error`], whose message names the object (its
//! [`crate::name::label`]) and the cause, and whose kind and Win32 code follow SPEC; a
//! backend builds it where it knows the cause (with `Error::new` for a rule, `Error::
//! from_io` for a failed system call). The calls on an object the caller already holds and
//! names — `Handle::map`, and `RawView`'s copies and `flush` — return `io::Error`, and the
//! public layer wraps it with the object's label. System-call helpers inside a backend
//! (`sys`) speak `Errno` / `io::Error` only.

use crate::kind::{Kind, Protection};
use crate::name::{Name, Namespace};
use std::fs::File;

#[cfg(target_os = "linux")]
#[path = "linux/mod.rs"]
mod imp;
#[cfg(windows)]
#[path = "windows/mod.rs"]
mod imp;

#[cfg(all(fuzzing, target_os = "linux"))]
pub(crate) use imp::fuzzing;
#[cfg(target_os = "linux")]
pub(crate) use imp::inherit;
// Waits for several objects at once: Linux only (`crate::sync::multi`); Windows programs
// have the kernel's WaitForMultipleObjects.
pub(crate) use imp::{
    create, create_sync, inspect, open, open_os, open_sync, remove, Handle, RawView, SyncHandle,
};
pub(crate) use imp::{create_channel, open_channel, ChannelHandle};
#[cfg(target_os = "linux")]
pub(crate) use imp::{wait_many, wake_all};

/// The kind-specific part of a sync create call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncParams {
    Mutex { initial_owner: bool },
    Event { manual: bool, initially_set: bool },
    Semaphore { initial: u32, max: u32 },
}

impl SyncParams {
    /// The kind of object these parameters create.
    pub(crate) fn kind(self) -> Kind {
        match self {
            SyncParams::Mutex { .. } => Kind::Mutex,
            SyncParams::Event { .. } => Kind::Event,
            SyncParams::Semaphore { .. } => Kind::Semaphore,
        }
    }
}

/// One live object, as `inspect::list` and `inspect::find` report it.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The full name, `Local\x` or `Global\x`.
    pub name: String,
    pub namespace: Namespace,
    /// `None` for a kind this version does not know.
    pub kind: Option<Kind>,
    pub size: u64,
    pub owner: u32,
    /// Unix-style permission bits.
    pub mode: u32,
    pub persistent: bool,
    /// What the backend needs to find the object's holders (Windows finds none).
    #[cfg_attr(windows, allow(dead_code))]
    pub ids: inspect::Ids,
    /// A channel's details, when its control page could be read and made sense.
    pub channel: Option<ChannelFound>,
}

/// A channel's shape and state as `inspect` reads them (a copy, not one instant). The
/// attached flags come from the kernel's byte locks; the pids from words any end may
/// write, given only for places that are taken, so they are hints.
#[derive(Debug, Clone)]
pub(crate) struct ChannelFound {
    pub capacity: u64,
    pub max_message: u64,
    pub producers: u32,
    /// Committed minus consumed position, in ring bytes.
    pub depth: u64,
    pub receiver_attached: bool,
    pub receiver: Option<u32>,
    pub senders_attached: u32,
    pub senders: Vec<u32>,
}

/// A process that holds an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawHolder {
    pub pid: u32,
    /// It has a handle to the object.
    pub handle: bool,
    /// It maps a view of the object.
    pub view: bool,
}

/// A reclaimed (or, in a dry run, reclaimable) object.
#[derive(Debug, Clone)]
pub(crate) struct Garbage {
    pub name: String,
    pub namespace: Namespace,
    pub kind: Option<Kind>,
    pub size: u64,
    pub owner: u32,
}

/// Everything a sync create call asks of a backend (validated by `crate::params`).
pub(crate) struct SyncRequest<'a> {
    pub name: Option<&'a Name>,
    pub params: SyncParams,
    pub permissions: u32,
    pub inheritable: bool,
    pub exclusive: bool,
}

/// Everything a mapping create call asks of a backend (validated by `crate::params`).
pub(crate) struct CreateRequest<'a> {
    pub name: Option<&'a Name>,
    /// 0 only for file-backed objects, where it means "the file's length".
    pub size: u64,
    pub protection: Protection,
    pub file: Option<&'a File>,
    /// Unix-style permission bits (0o600 by default).
    pub permissions: u32,
    pub inheritable: bool,
    pub persistent: bool,
    pub exclusive: bool,
}

/// A channel create call, validated (`crate::params`): `capacity` is at least 1,
/// `max_message` at most `capacity`, `producers` within 1..=64.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChannelRequest<'a> {
    pub name: &'a Name,
    pub capacity: u64,
    pub max_message: u64,
    pub producers: u32,
    pub permissions: u32,
}

// The contract above, checked wherever the crate compiles: each item must exist with
// exactly this signature.
const _: () = {
    use crate::channel::control::Control;
    use crate::channel::ring::Ends;
    use crate::error::Result;
    use crate::kind::{Access, Acquire};
    use crate::sync::lockword::Locked;
    use crate::token::Token;
    use std::io;
    use std::process::Command;
    use std::time::{Duration, Instant};

    let _: fn(&CreateRequest<'_>) -> Result<(Handle, bool)> = create;
    let _: fn(&Name, Access) -> Result<Handle> = open;
    let _: fn(&str, Access) -> Result<Handle> = open_os;
    let _: fn(&Name) -> Result<()> = remove;
    let _: fn(&Token) -> Result<Handle> = Handle::from_inherited;
    let _: fn(&Handle) -> u64 = Handle::size;
    let _: fn(&Handle) -> Access = Handle::access;
    let _: fn(&Handle) -> Protection = Handle::protection;
    let _: fn(&Handle) -> bool = Handle::is_persistent;
    let _: fn(&Handle) -> Option<String> = Handle::name;
    let _: fn(&Handle, u64, usize, Access) -> io::Result<RawView> = Handle::map;
    let _: fn(&Handle) -> Result<Handle> = Handle::try_clone;
    let _: fn(&Handle) -> Option<Token> = Handle::inherit_token;
    let _: fn(&Handle, &mut Command) -> Result<Token> = Handle::share_with;
    let _: fn(&RawView) -> *mut u8 = RawView::as_ptr;
    let _: fn(&RawView) -> usize = RawView::len;
    let _: fn(&RawView, usize, &mut [u8]) -> io::Result<()> = RawView::copy_out;
    let _: fn(&RawView, usize, &[u8]) -> io::Result<()> = RawView::copy_in;
    let _: fn(&RawView) -> io::Result<()> = RawView::flush;

    let _: fn(&SyncRequest<'_>) -> Result<(SyncHandle, bool)> = create_sync;
    let _: fn(&Name, Kind) -> Result<SyncHandle> = open_sync;
    let _: fn(&Token) -> Result<SyncHandle> = SyncHandle::from_inherited;
    let _: fn(&SyncHandle) -> Kind = SyncHandle::kind;
    let _: fn(&SyncHandle) -> Option<String> = SyncHandle::name;
    let _: fn(&SyncHandle, Option<Duration>) -> Result<Acquire> = SyncHandle::mutex_acquire;
    let _: fn(&SyncHandle) -> Result<()> = SyncHandle::mutex_release;
    let _: fn(&SyncHandle) -> bool = SyncHandle::mutex_owned_by_caller;
    let _: fn(&SyncHandle) -> Result<()> = SyncHandle::event_set;
    let _: fn(&SyncHandle) -> Result<()> = SyncHandle::event_reset;
    let _: fn(&SyncHandle, Option<Duration>) -> Result<bool> = SyncHandle::event_wait;
    let _: fn(&SyncHandle) -> bool = SyncHandle::event_manual;
    let _: fn(&SyncHandle, u32) -> Result<u32> = SyncHandle::semaphore_release;
    let _: fn(&SyncHandle, Option<Duration>) -> Result<bool> = SyncHandle::semaphore_acquire;
    let _: fn(&SyncHandle) -> u32 = SyncHandle::semaphore_max;
    let _: fn(&SyncHandle) -> Result<SyncHandle> = SyncHandle::try_clone;
    let _: fn(&SyncHandle) -> Option<Token> = SyncHandle::inherit_token;
    let _: fn(&SyncHandle, &mut Command) -> Result<Token> = SyncHandle::share_with;

    let _: fn(&ChannelRequest<'_>, bool) -> Result<(ChannelHandle, bool)> = create_channel;
    let _: fn(&Name, bool) -> Result<ChannelHandle> = open_channel;
    let _: fn(&ChannelHandle) -> Result<ChannelHandle> = ChannelHandle::another_sender;
    let _: fn(&ChannelHandle) -> &str = ChannelHandle::what;
    let _: fn(&ChannelHandle) -> &Control = ChannelHandle::control;
    let _: fn(&ChannelHandle) -> bool = ChannelHandle::damaged;
    let _: fn(&ChannelHandle) -> bool = ChannelHandle::peer_gone;
    let _: fn(&ChannelHandle, Option<Instant>, bool) -> Locked = ChannelHandle::claim;
    let _: fn(&ChannelHandle) = ChannelHandle::unclaim;
    let _: fn(&ChannelHandle) -> bool = ChannelHandle::claim_owned;
    let _: fn(&ChannelHandle, &str) -> crate::Error = ChannelHandle::corrupt;
    const fn ends<T: Ends>() {}
    ends::<ChannelHandle>();

    let _: fn(bool) -> Result<Vec<Found>> = inspect::list;
    let _: fn(&Name) -> Result<Found> = inspect::find;
    let _: fn(&[Found]) -> Vec<Vec<RawHolder>> = inspect::holders;
    let _: fn(u32) -> Option<String> = inspect::command;
    let _: fn(bool) -> Result<Vec<Garbage>> = inspect::collect_garbage;
};
