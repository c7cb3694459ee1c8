//! The thread-local last error, and the panic fence around every exported function.

use crate::types::{err, status, DWORD};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static LAST_ERROR: Cell<DWORD> = const { Cell::new(0) };
}

/// Sets the calling thread's last error.
pub(crate) fn set(code: DWORD) {
    LAST_ERROR.with(|e| e.set(code));
}

/// The calling thread's last error.
pub(crate) fn get() -> DWORD {
    LAST_ERROR.with(|e| e.get())
}

/// A failed call: the Win32 code to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Win32Error(pub DWORD);

impl From<shmkit::Error> for Win32Error {
    fn from(e: shmkit::Error) -> Win32Error {
        Win32Error(e.win32_code())
    }
}

impl From<std::io::Error> for Win32Error {
    fn from(e: std::io::Error) -> Win32Error {
        Win32Error(code_of_io(&e))
    }
}

/// The Win32 code closest to an I/O error of a file operation: the library's errno
/// table (`shmkit::classify_errno`), but for an existing file, which Windows reports as
/// `ERROR_FILE_EXISTS` (`ERROR_ALREADY_EXISTS`, the library's answer, is for named
/// objects). An errno the table does not know, or an error with none, is
/// `ERROR_GEN_FAILURE`.
pub(crate) fn code_of_io(e: &std::io::Error) -> DWORD {
    match e.raw_os_error() {
        Some(libc::EEXIST) => err::FILE_EXISTS,
        Some(errno) => shmkit::classify_errno(errno).map_or(err::GEN_FAILURE, |(_, code)| code),
        None => err::GEN_FAILURE,
    }
}

pub(crate) type Result<T> = std::result::Result<T, Win32Error>;

/// A failed NT call: the NTSTATUS to report. The Win32 functions built on the same code
/// report its Win32 code ([`dos_error`]), as kernel32 does over ntdll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NtStatus(pub i32);

pub(crate) type NtResult<T> = std::result::Result<T, NtStatus>;

impl From<NtStatus> for Win32Error {
    fn from(s: NtStatus) -> Win32Error {
        Win32Error(dos_error(s.0))
    }
}

impl From<std::io::Error> for NtStatus {
    fn from(e: std::io::Error) -> NtStatus {
        NtStatus(match e.raw_os_error() {
            Some(libc::ENOMEM) => status::NO_MEMORY,
            Some(libc::EACCES | libc::EPERM) => status::ACCESS_DENIED,
            _ => status::UNSUCCESSFUL,
        })
    }
}

/// The Win32 code of an NTSTATUS, as `RtlNtStatusToDosError` gives it, for the statuses
/// this library returns (any other: `ERROR_GEN_FAILURE`).
pub(crate) fn dos_error(s: i32) -> DWORD {
    match s {
        status::SUCCESS => err::SUCCESS,
        status::INVALID_HANDLE | status::OBJECT_TYPE_MISMATCH => err::INVALID_HANDLE,
        status::ACCESS_DENIED | status::ALREADY_COMMITTED | status::PROCESS_IS_TERMINATING => {
            err::ACCESS_DENIED
        }
        status::INVALID_PARAMETER
        | status::INVALID_PARAMETER_3
        | status::INVALID_PAGE_PROTECTION
        | status::INVALID_INFO_CLASS => err::INVALID_PARAMETER,
        status::CONFLICTING_ADDRESSES
        | status::NOT_MAPPED_VIEW
        | status::NOT_COMMITTED
        | status::FREE_VM_NOT_AT_BASE
        | status::MEMORY_NOT_ALLOCATED => err::INVALID_ADDRESS,
        status::INFO_LENGTH_MISMATCH => err::BAD_LENGTH,
        status::ACCESS_VIOLATION => err::NOACCESS,
        status::PARTIAL_COPY => err::PARTIAL_COPY,
        status::NO_MEMORY => err::NOT_ENOUGH_MEMORY,
        status::NOT_SUPPORTED => err::NOT_SUPPORTED,
        status::INTERNAL_ERROR => err::INTERNAL_ERROR,
        _ => err::GEN_FAILURE,
    }
}

/// Runs the body of an exported NT function: its status is the result (the last-error
/// code is left alone); a panic (a bug) becomes `STATUS_INTERNAL_ERROR`, never an unwind
/// into C.
pub(crate) fn nt_ffi(body: impl FnOnce() -> NtResult<()>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => status::SUCCESS,
        Ok(Err(NtStatus(s))) => s,
        Err(_) => status::INTERNAL_ERROR,
    }
}

/// Fails with `code`.
pub(crate) fn fail<T>(code: DWORD) -> Result<T> {
    Err(Win32Error(code))
}

/// Runs the body of an exported function: its error becomes the last error and `failed`
/// the return value; a panic (a bug) becomes `ERROR_INTERNAL_ERROR`, never an unwind
/// into C. Success leaves the last error alone, as Windows does for most functions.
pub(crate) fn ffi<T>(failed: T, body: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(Win32Error(code))) => {
            set(code);
            failed
        }
        Err(_) => {
            set(err::INTERNAL_ERROR);
            failed
        }
    }
}

/// `GetLastError`: the calling thread's last-error code.
#[no_mangle]
pub extern "C" fn GetLastError() -> DWORD {
    get()
}

/// `SetLastError`: sets the calling thread's last-error code.
#[no_mangle]
pub extern "C" fn SetLastError(code: DWORD) {
    set(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Error;

    #[test]
    fn file_errors_take_the_library_table_but_for_an_existing_file() {
        let code = |errno| code_of_io(&Error::from_raw_os_error(errno));
        assert_eq!(code(libc::ENOENT), err::FILE_NOT_FOUND);
        assert_eq!(code(libc::EACCES), err::ACCESS_DENIED);
        assert_eq!(code(libc::ENOSPC), err::DISK_FULL);
        assert_eq!(code(libc::ENAMETOOLONG), err::FILENAME_EXCED_RANGE);
        assert_eq!(code(libc::EEXIST), err::FILE_EXISTS);
        assert_eq!(code(libc::EPIPE), err::GEN_FAILURE);
        assert_eq!(
            code_of_io(&Error::from(std::io::ErrorKind::WriteZero)),
            err::GEN_FAILURE
        );
    }
}
