//! File-backed mappings (SPEC section 3): a section over the caller's file. Windows
//! enforces SPEC section 3 itself; its refusals are reported with SPEC's kinds.

use super::mapping::Handle;
use super::section;
use super::security::Descriptor;
use super::sys::{code_of, wide};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Protection};
use crate::name::Name;
use crate::os::CreateRequest;
use crate::token::Origin;
use std::fs::File;
use std::os::windows::io::AsRawHandle;
use windows_sys::Win32::Foundation::ERROR_ALREADY_EXISTS;

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

/// SPEC 2.1 with section 3: a mapping over `file`; the flag says whether the object
/// already existed.
pub(super) fn create(
    req: &CreateRequest<'_>,
    name: Option<&Name>,
    file: &File,
    what: &str,
) -> Result<(Handle, bool)> {
    let len = file.metadata().map_err(|e| Error::from_io(e, what))?.len();
    let size = if req.size == 0 { len } else { req.size };
    if size == 0 {
        return Err(empty_file(what));
    }
    let sd = Descriptor::new(
        req.permissions,
        section::RIGHTS,
        req.protection == Protection::ReadWrite,
    )
    .map_err(|e| Error::from_io(e, what))?;
    let sa = sd.attributes(false);
    let wname = name.map(|n| wide(&n.full()));
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
        let name = name.expect("only named objects exist already");
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "cannot create {what} over a file: an object of that name already exists ({})",
                crate::name::quoted(name.as_str())
            ),
        ));
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
