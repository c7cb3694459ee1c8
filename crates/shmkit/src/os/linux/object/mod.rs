//! Object files: the header every object file starts with, and the lifetime protocol
//! (create-or-open, open, close, reclamation) that all kinds of named object share, with
//! its errors and the access checks of file-backed objects.

mod access;
mod errors;
mod header;
mod protocol;
mod reclaim;

pub(crate) use header::{Backing, Header, DATA_OFFSET, FLAG_FILE, FLAG_PERSISTENT};
pub(crate) use protocol::{create_or_open, oflags, open, remove, Entry, NewObject};
pub(crate) use reclaim::{reclaim, reclaim_stale_objects};
