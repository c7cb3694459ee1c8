//! Small safe wrappers over what every Win32 call of the backend needs: wide strings, the
//! last error, owning a returned handle.

use std::io;
use std::os::windows::io::{FromRawHandle, OwnedHandle, RawHandle};
use windows_sys::Win32::Foundation::HANDLE;

/// `s` as a NUL-terminated UTF-16 string.
pub(crate) fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The calling thread's last Win32 error.
pub(crate) fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// The Win32 code of `e` (0 when it has none).
pub(crate) fn code_of(e: &io::Error) -> u32 {
    e.raw_os_error().map_or(0, |c| c as u32)
}

/// Takes ownership of a handle a Win32 call returned; the last error for the null handle
/// that reports failure.
pub(crate) fn owned(h: HANDLE) -> io::Result<OwnedHandle> {
    if h.is_null() {
        return Err(last_error());
    }
    // SAFETY: `h` is a fresh handle that the call just returned to this process and that
    // nothing else owns; the OwnedHandle closes it exactly once.
    Ok(unsafe { OwnedHandle::from_raw_handle(h as RawHandle) })
}
