//! Section objects, the kernel's mapping objects: `CreateFileMappingW`,
//! `OpenFileMappingW`, the size of a section (`NtQuerySection`), the rights and page
//! protections that mappings ask for, and what a failed section call means in SPEC's
//! words.

use super::security::Rights;
use super::sys::{self, code_of, last_error, wide};
use crate::error::{code, Error, ErrorKind};
use crate::kind::{Access, Protection};
use crate::name::{quoted, Name};
use std::ffi::c_void;
use std::io;
use std::os::windows::io::{OwnedHandle, RawHandle};
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, OpenFileMappingW, FILE_MAP_READ, FILE_MAP_WRITE, PAGE_READONLY,
    PAGE_READWRITE, PAGE_WRITECOPY, SECTION_QUERY,
};

/// ERROR_COMMITMENT_LIMIT: the paging file cannot back the object.
const ERROR_COMMITMENT_LIMIT: u32 = 1455;
/// STANDARD_RIGHTS_REQUIRED: what `CreateFileMappingW` asks of an existing object, on
/// top of the map rights.
const STANDARD_RIGHTS_REQUIRED: u32 = 0x000F_0000;

/// The rights "read" and "write" grant on a mapping object.
pub(crate) const RIGHTS: Rights = Rights {
    read: SECTION_QUERY | FILE_MAP_READ,
    write: FILE_MAP_WRITE,
    owner_extra: STANDARD_RIGHTS_REQUIRED,
};

/// The `PAGE_*` protection of `p`.
pub(crate) fn page_protection(p: Protection) -> u32 {
    match p {
        Protection::ReadOnly => PAGE_READONLY,
        Protection::ReadWrite => PAGE_READWRITE,
        Protection::WriteCopy => PAGE_WRITECOPY,
    }
}

/// The `OpenFileMappingW` rights of a handle with `access`.
pub(crate) fn open_rights(access: Access) -> u32 {
    match access {
        Access::Read | Access::CopyOnWrite => SECTION_QUERY | FILE_MAP_READ,
        Access::ReadWrite => SECTION_QUERY | FILE_MAP_READ | FILE_MAP_WRITE,
    }
}

/// `CreateFileMappingW`; returns the handle and the last error (ERROR_ALREADY_EXISTS
/// when it opened an existing object).
pub(crate) fn create(
    file: RawHandle,
    sa: Option<&SECURITY_ATTRIBUTES>,
    protect: u32,
    size: u64,
    name: Option<&[u16]>,
) -> io::Result<(OwnedHandle, u32)> {
    // SAFETY: `file` is a file handle the caller keeps open for the call, or
    // INVALID_HANDLE_VALUE; `sa` and `name` (NUL-terminated) outlive the call.
    let h = unsafe {
        CreateFileMappingW(
            file as HANDLE,
            sa.map_or(std::ptr::null(), |s| s as *const SECURITY_ATTRIBUTES),
            protect,
            (size >> 32) as u32,
            size as u32,
            name.map_or(std::ptr::null(), <[u16]>::as_ptr),
        )
    };
    let status = last_error();
    let handle = sys::owned(h)?;
    Ok((handle, code_of(&status)))
}

/// `OpenFileMappingW` of `name`'s full name with `rights`.
pub(crate) fn open(name: &Name, rights: u32) -> io::Result<OwnedHandle> {
    let w = wide(&name.full());
    // SAFETY: `w` is NUL-terminated and outlives the call.
    sys::owned(unsafe { OpenFileMappingW(rights, 0, w.as_ptr()) })
}

#[repr(C)]
struct SectionBasicInformation {
    base_address: *mut c_void,
    allocation_attributes: u32,
    maximum_size: i64,
}

#[link(name = "ntdll", kind = "raw-dylib")]
extern "system" {
    /// Documented in the Windows Driver Kit as `ZwQuerySection`; the one way to learn
    /// the size of a section object from a handle.
    fn NtQuerySection(
        section: HANDLE,
        class: u32,
        info: *mut c_void,
        len: usize,
        result_len: *mut usize,
    ) -> i32;
}

/// The size of the section object `h` as Windows reports it: whole pages for paging-file
/// objects, the file's size for file-backed ones. Fails for handles of other kinds.
pub(crate) fn size(h: RawHandle) -> io::Result<u64> {
    let mut info = SectionBasicInformation {
        base_address: std::ptr::null_mut(),
        allocation_attributes: 0,
        maximum_size: 0,
    };
    // SAFETY: `info` is a valid, writable SECTION_BASIC_INFORMATION (class 0) of the
    // size passed; the kernel validates `h` and its access (SECTION_QUERY).
    let status = unsafe {
        NtQuerySection(
            h as HANDLE,
            0,
            (&mut info as *mut SectionBasicInformation).cast(),
            std::mem::size_of::<SectionBasicInformation>(),
            std::ptr::null_mut(),
        )
    };
    if status < 0 {
        // STATUS_OBJECT_TYPE_MISMATCH and STATUS_INVALID_HANDLE: not a section handle.
        return Err(io::Error::from_raw_os_error(code::INVALID_HANDLE as i32));
    }
    u64::try_from(info.maximum_size).map_err(|_| io::Error::other("negative section size"))
}

/// The name is held by a mutex, an event or a semaphore (SPEC 1.5).
pub(crate) fn wrong_type(name: &Name) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind, not a mapping",
            quoted(name.as_str())
        ),
    )
}

fn no_space(what: &str, size: u64) -> Error {
    Error::with_code(
        ErrorKind::NoSpace,
        code::NOT_ENOUGH_MEMORY,
        format!("{what}: the system cannot commit {size} bytes"),
    )
}

/// A failed section call's error, with SPEC's kind and code.
pub(crate) fn error(e: io::Error, name: Option<&Name>, size: u64, what: &str) -> Error {
    match (code_of(&e), name) {
        (code::INVALID_HANDLE, Some(name)) => wrong_type(name),
        (code::NOT_ENOUGH_MEMORY | ERROR_COMMITMENT_LIMIT | code::DISK_FULL, _) => {
            no_space(what, size)
        }
        (code::ACCESS_DENIED, _) => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: access denied by the object's permissions"),
        ),
        _ => Error::from_io(e, what.to_owned()),
    }
}
