//! The errors of the lifetime protocol: each names the object and the cause.

use super::header::kind_name;
use crate::error::{code, Error, ErrorKind};
use crate::kind::Kind;
use crate::name::{quoted, Name};
use rustix::io::Errno;

pub(super) fn kept_changing(name: &Name, what: &str) -> Error {
    Error::new(
        ErrorKind::Other,
        format!("{what} {name:?}: the object kept changing under us; try again"),
    )
}

/// The error for a name held by another user's dead object, which this user cannot
/// remove.
pub(super) fn dead_foreign(name: &Name, kind: Kind, owner: u32, op: &str) -> Error {
    Error::new(
        if op == "create" {
            ErrorKind::PermissionDenied
        } else {
            ErrorKind::NotFound
        },
        format!(
            "cannot {op} {}: the name is held by a dead object of uid {owner} (all its \
             holders ended), which only uid {owner} or root can remove (`shmkit gc`)",
            crate::name::label(kind, Some(name.as_str()))
        ),
    )
}

/// The error for a name held by an object of kind `found` where `want` was asked for.
pub(super) fn wrong_kind(name: &Name, want: Kind, found: Option<Kind>) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind ({}), not a {want}",
            quoted(name.as_str()),
            kind_name(found),
        ),
    )
}

pub(super) fn open_error(e: Errno, name: &Name, what: &str, write: bool) -> Error {
    match e {
        Errno::LOOP => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what} {name:?}: its file in the store is a symbolic link; refusing it"),
        ),
        // A directory opened for writing fails with EISDIR; for reading, the regular-file
        // check does (NOTSUP).
        Errno::NOTSUP | Errno::ISDIR => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what} {name:?}: its file in the store is not a regular file; refusing it"),
        ),
        Errno::ACCESS | Errno::PERM => Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what} {name:?}: the object's permissions do not allow {} access",
                if write { "read-write" } else { "read" }
            ),
        ),
        e => Error::from_io(e.into(), format!("{what} {name:?}")),
    }
}

pub(super) fn no_space(e: Errno, name: &Name, size: u64, what: &str) -> Error {
    match e {
        Errno::NOSPC | Errno::DQUOT => Error::new(
            ErrorKind::NoSpace,
            format!(
                "{what} {name:?}: the shared-memory store cannot hold {size} more bytes \
                 (no space left)"
            ),
        ),
        Errno::NOMEM => Error::with_code(
            ErrorKind::NoSpace,
            code::NOT_ENOUGH_MEMORY,
            format!("{what} {name:?}: not enough memory to commit {size} bytes"),
        ),
        Errno::FBIG => Error::new(
            ErrorKind::InvalidSize,
            format!("{what} {name:?}: size {size} is larger than the system allows"),
        ),
        e => Error::from_io(e.into(), format!("{what} {name:?}")),
    }
}
