//! The Windows backend: the Win32 objects themselves, not an emulation.
//!
//! | file | what |
//! |---|---|
//! | `mapping.rs` | the mapping handle; create-or-open and open of memory, unnamed and persistent objects |
//! | `backing.rs` | file-backed mappings: the caller's file checked, then a section over it |
//! | `section.rs` | section objects: `CreateFileMappingW`, `OpenFileMappingW`, their sizes and rights |
//! | `view.rs` | views: `MapViewOfFile`, `FlushViewOfFile`, `UnmapViewOfFile` |
//! | `persist.rs` | the persistent store: a content file and a name record per object |
//! | `sync/` | mutexes, events and semaphores: the handle (`mod.rs`), the kernel calls (`kernel.rs`), waits and signals (`wait.rs`) |
//! | `channel/` | channels: the handle (`mod.rs`); the timer that holds the name, the ring section, the events that wake each side and the senders' mutex (`parts.rs`); the end places' owners (`places.rs`) |
//! | `inherit.rs` | handle duplication, inheritable twins, and taking a handle a token names |
//! | `security.rs` | security descriptors from permission bits, and the owner check of found objects |
//! | `inspect.rs` | inspection, which Windows does not offer (ERROR_NOT_SUPPORTED) |
//! | `sys.rs` | the small wrappers every Win32 call shares |
//!
//! A [`Mapping`](crate::Mapping) is a section object made by `CreateFileMappingW`
//! (`SEC_COMMIT`, so creation fails when the paging file cannot back it) or opened by
//! `OpenFileMappingW`; a [`View`](crate::View) is `MapViewOfFile`, unmapped by
//! `UnmapViewOfFile` and flushed by `FlushViewOfFile`. Names go to Windows as
//! `Global\BASE` or `Local\BASE` (a bare name is spelled out as `Local\BASE`), so native
//! programs that use the same names share the same objects. Lifetime (SPEC 5) is the
//! kernel's: a name lives while a handle does, in any process, and dies with its
//! holders whatever way they end.
//!
//! What Windows decides, and how it shows through the API:
//!
//! - Size. The creator knows the size it asked for. A handle opened by name (or by a
//!   create call that found the object) learns it from `NtQuerySection`, which reports
//!   whole pages for paging-file-backed objects: a 1024-byte object opens as 4096
//!   bytes, all of which every process can map and use.
//! - Protection. An object whose protection forbids writing gets a DACL that grants
//!   no write right, so read-write opens fail up front with ERROR_ACCESS_DENIED. A
//!   handle opened by name reports `ReadWrite` when it has write access and `ReadOnly`
//!   otherwise (read-only and write-copy objects look the same from outside).
//! - Permissions become a security descriptor: see `security` for the table.
//! - Squatting. A create call that finds an object owned by another user refuses it
//!   (ERROR_ACCESS_DENIED), as the Linux backend does; `open` uses another user's
//!   object on purpose.
//! - File-backed objects pass the file's handle to `CreateFileMappingW`, after the
//!   checks of SPEC section 3 that the Linux backend makes too (errors are reported with
//!   SPEC's kinds). A named create that finds the name taken returns the existing object
//!   (ERROR_ALREADY_EXISTS) without touching the caller's file.
//! - Inheritance (`inherit`, with `crate::token`'s tokens). `inheritable(true)` keeps an
//!   inheritable duplicate of the handle, which every child started afterwards inherits
//!   (the Windows rule); its token names the handle. `share_with` hands a handle to one
//!   child only: the token names this process and its handle, and the child duplicates
//!   it into itself with `DuplicateHandle` in `from_inherited` (the parent must keep its
//!   mapping until then). A named object's token carries its full name, which the
//!   child's handle keeps. `try_clone` is `DuplicateHandle`.
//! - `open_os` (POSIX shared-memory names) fails with ERROR_NOT_SUPPORTED.
//! - Mutexes, events and semaphores are the kernel objects: see `sync`.
//! - Inspection is not available: every `inspect` function answers
//!   ERROR_NOT_SUPPORTED, since Windows lists named objects only through undocumented
//!   calls.
//!
//! # Persistent objects
//!
//! Windows has no named object that outlives its handles for an ordinary user
//! (permanent objects need `SeCreatePermanentPrivilege`). A persistent shmkit object
//! is therefore kept in files: `%LOCALAPPDATA%\shmkit\Local\` holds the `Local\` ones,
//! `%ProgramData%\shmkit\Global\` the `Global\` ones (`%SHMKIT_DIR%\Local` and
//! `%SHMKIT_DIR%\Global` when `SHMKIT_DIR` is set). Each object is a content file,
//! whose length is the object's exact size and whose DACL comes from the permission
//! bits as for objects, and a small name record that names the content file and the
//! protection. The record is written aside and renamed into place, which fails when
//! the name is taken: that rename is the atomic step of creation. Each handle is an
//! unnamed section over the content file; views of sections over one file are
//! coherent (the `CreateFileMapping` documentation), so every process sees the same
//! bytes, and contents and name survive every handle, and reboots. `open` and
//! `create` look for the record when no live section has the name (and `create` of a
//! non-persistent object looks before making one). `Mapping::remove` deletes the
//! record: the name is gone at once, while open handles and views keep working. The
//! content file is deleted then, or, while sections still map it (Windows refuses to
//! delete a mapped file), by a sweep at a later persistent create.
//! Limits: such objects are invisible to programs that do not use shmkit; a
//! persistent and a non-persistent object created at the very same moment under one
//! name may both be made; a persistent object cannot be file-backed.

mod backing;
mod channel;
mod inherit;
pub(crate) mod inspect;
mod mapping;
mod persist;
mod section;
mod security;
mod sync;
mod sys;
mod view;

pub(crate) use channel::{create_channel, open_channel, ChannelHandle};
pub(crate) use mapping::{create, open, open_os, remove, Handle};
pub(crate) use sync::{create_sync, open_sync, SyncHandle};
pub(crate) use view::RawView;
