//! File-backed mappings (SPEC section 3): a section over the caller's file.
//!
//! The file is checked first, as the Linux backend checks it: a read-write object needs a
//! file opened for writing, and so does a size past the file's end (the file grows to
//! it). A named create then looks the name up before it makes a section over the file:
//! a create that finds the name taken returns the existing object with its own size
//! (ERROR_ALREADY_EXISTS, as `CreateFileMappingW` does) and leaves the caller's file as it
//! was, since the section call may grow the file before it finds the name taken.

use super::mapping::{self, Handle};
use super::section;
use super::security::Descriptor;
use super::sys::{self, code_of, wide};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Protection};
use crate::name::Name;
use crate::os::CreateRequest;
use crate::token::Origin;
use std::fs::File;
use std::os::windows::io::AsRawHandle;
use windows_sys::Win32::Foundation::ERROR_ALREADY_EXISTS;
use windows_sys::Win32::Storage::FileSystem::FILE_WRITE_DATA;

fn read_only_file(what: &str) -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        format!(
            "{what}: a read-write mapping needs a file opened for writing; this one is read-only"
        ),
    )
}

fn empty_file(what: &str) -> Error {
    Error::new(
        ErrorKind::EmptyFile,
        format!("{what}: the file is empty and no size was given"),
    )
}

fn cannot_grow(what: &str, size: u64, len: u64) -> Error {
    Error::with_code(
        ErrorKind::InvalidSize,
        code::NOT_ENOUGH_MEMORY,
        format!(
            "{what}: size {size} exceeds the file's {len} bytes and the file, \
             opened read-only, cannot grow"
        ),
    )
}

/// SPEC 2.1 with section 3: create-or-open of a mapping over `file`; the flag says
/// whether the object already existed.
pub(super) fn create(
    req: &CreateRequest<'_>,
    name: Option<&Name>,
    file: &File,
    what: &str,
) -> Result<(Handle, bool)> {
    let len = file.metadata().map_err(|e| Error::from_io(e, what))?.len();
    let writable = sys::granted_access(file.as_raw_handle())
        .map_err(|e| Error::from_io(e, what))?
        & FILE_WRITE_DATA
        != 0;
    if req.protection == Protection::ReadWrite && !writable {
        return Err(read_only_file(what));
    }
    let size = if req.size == 0 { len } else { req.size };
    if size == 0 {
        return Err(empty_file(what));
    }
    if size > len && !writable {
        return Err(cannot_grow(what, size, len));
    }
    if let Some(name) = name {
        if let Some(found) = mapping::find_for_create(name, what)? {
            return Ok((found, true));
        }
    }
    let sd = Descriptor::new(
        req.permissions,
        section::RIGHTS,
        req.protection == Protection::ReadWrite,
    )
    .map_err(|e| Error::from_io(e, what))?;
    let sa = sd.attributes(false);
    let wname = name.map(|n| wide(&n.full()));
    // Windows enforces SPEC section 3 itself too; its refusals keep SPEC's kinds.
    let (section, status) = section::create(
        file.as_raw_handle(),
        Some(&sa),
        section::page_protection(req.protection),
        req.size,
        wname.as_deref(),
    )
    .map_err(|e| match code_of(&e) {
        code::ACCESS_DENIED if req.protection == Protection::ReadWrite => read_only_file(what),
        code::ACCESS_DENIED | code::NOT_ENOUGH_MEMORY if size > len => cannot_grow(what, size, len),
        code::FILE_INVALID => empty_file(what),
        _ => section::error(e, name, size, what),
    })?;
    if status == ERROR_ALREADY_EXISTS {
        // Another process made the object since the look-up above.
        let name = name.expect("only named objects exist already");
        let access = if req.protection == Protection::ReadWrite {
            Access::ReadWrite
        } else {
            Access::Read
        };
        return Ok((mapping::existing(section, name, access, what)?, true));
    }
    let origin = if name.is_some() {
        Origin::Named
    } else {
        Origin::File
    };
    Ok((
        Handle::new(
            section,
            size,
            Access::ReadWrite,
            req.protection,
            origin,
            name,
        ),
        false,
    ))
}
