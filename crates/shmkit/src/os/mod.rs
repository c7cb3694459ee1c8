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
//!   `command` (a holder's command name) and `collect_garbage(dry_run)`.
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
