//! Inspection on Windows: not available. Windows lists named objects, and the processes
//! that hold them, only through undocumented calls, so every listing answers
//! ERROR_NOT_SUPPORTED; `holders` and `command` know nothing.

use crate::error::{Error, ErrorKind, Result};
use crate::name::{quoted, Name};
use crate::os::{Found, Garbage, RawHolder};

/// Nothing identifies an object's files: no object is ever found.
#[derive(Debug, Clone)]
pub(crate) struct Ids;

fn not_supported(what: &str) -> Error {
    Error::new(
        ErrorKind::NotSupported,
        format!(
            "{what}: not supported on Windows, which lists named objects only through \
             undocumented calls"
        ),
    )
}

pub(crate) fn list(_all_users: bool) -> Result<Vec<Found>> {
    Err(not_supported("listing named objects"))
}

pub(crate) fn find(name: &Name) -> Result<Found> {
    Err(not_supported(&format!(
        "inspecting {}",
        quoted(name.as_str())
    )))
}

/// No holders for any object: there is no object to hold.
pub(crate) fn holders(objects: &[Found]) -> Vec<Vec<RawHolder>> {
    vec![Vec::new(); objects.len()]
}

pub(crate) fn command(_pid: u32) -> Option<String> {
    None
}

pub(crate) fn collect_garbage(_dry_run: bool) -> Result<Vec<Garbage>> {
    Err(not_supported("collecting garbage"))
}
