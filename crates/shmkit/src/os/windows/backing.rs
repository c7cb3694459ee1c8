//! File-backed mappings (SPEC section 3): a section over the caller's file.
//!
//! The file is checked first, as the Linux backend checks it: a read-write object needs a
//! file opened for writing, and so does a size past the file's end (the file grows to
//! it). A named create then looks the name up before it makes a section over the file:
//! a create that finds the name taken returns the existing object with its own size
//! (ERROR_ALREADY_EXISTS, as `CreateFileMappingW` does) and leaves the caller's file as it
//! was, since the section call may grow the file before it finds the name taken.

use super::section;
use super::security::Descriptor;
use super::sys::{self, code_of, wide};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::Protection;
use crate::name::Name;
use crate::os::CreateRequest;
use std::fs::File;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
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

/// The caller's file, checked against SPEC section 3 (nothing made yet).
pub(super) struct FileSource<'a> {
    file: &'a File,
    len: u64,
    /// The object's size: the requested one, or the file's length for size 0.
    pub size: u64,
}

impl<'a> FileSource<'a> {
    /// Checks `file` for the create `req`.
    pub(super) fn check(req: &CreateRequest<'_>, file: &'a File, what: &str) -> Result<Self> {
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
        Ok(FileSource { file, len, size })
    }

    /// Makes the section over the file (named `name`), growing the file to the object's
    /// size; with the status `CreateFileMappingW` left (ERROR_ALREADY_EXISTS when another
    /// process made the object first).
    pub(super) fn section(
        &self,
        req: &CreateRequest<'_>,
        name: Option<&Name>,
        what: &str,
    ) -> Result<(OwnedHandle, u32)> {
        let (size, len) = (self.size, self.len);
        let sd = Descriptor::new(
            req.permissions,
            section::RIGHTS,
            req.protection == Protection::ReadWrite,
        )
        .map_err(|e| Error::from_io(e, what))?;
        let sa = sd.attributes(false);
        let wname = name.map(|n| wide(&n.full()));
        // Windows enforces SPEC section 3 itself too; its refusals keep SPEC's kinds.
        section::create(
            self.file.as_raw_handle(),
            Some(&sa),
            section::page_protection(req.protection),
            req.size,
            wname.as_deref(),
        )
        .map_err(|e| match code_of(&e) {
            code::ACCESS_DENIED if req.protection == Protection::ReadWrite => read_only_file(what),
            code::ACCESS_DENIED | code::NOT_ENOUGH_MEMORY if size > len => {
                cannot_grow(what, size, len)
            }
            code::FILE_INVALID => empty_file(what),
            _ => section::error(e, name, size, what),
        })
    }
}
