//! The thread-local last error, and the panic fence around every exported function.

use crate::types::{err, DWORD};
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

/// The Win32 code closest to an I/O error of a file operation.
pub(crate) fn code_of_io(e: &std::io::Error) -> DWORD {
    match e.raw_os_error() {
        Some(libc::ENOENT) => err::FILE_NOT_FOUND,
        Some(libc::ENOTDIR) => err::PATH_NOT_FOUND,
        Some(libc::EACCES | libc::EPERM | libc::EISDIR) => err::ACCESS_DENIED,
        Some(libc::EBADF) => err::INVALID_HANDLE,
        Some(libc::ENOMEM) => err::NOT_ENOUGH_MEMORY,
        Some(libc::EEXIST) => err::FILE_EXISTS,
        Some(libc::EROFS) => err::WRITE_PROTECT,
        Some(libc::ENOSPC | libc::EDQUOT) => err::DISK_FULL,
        Some(libc::EINVAL) => err::INVALID_PARAMETER,
        Some(libc::ENAMETOOLONG) => 206,
        Some(libc::ENOTEMPTY) => err::DIR_NOT_EMPTY,
        Some(libc::ENOEXEC) => err::BAD_FORMAT,
        _ => err::GEN_FAILURE,
    }
}

pub(crate) type Result<T> = std::result::Result<T, Win32Error>;

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
