//! Small safe wrappers over what every Win32 call of the backend needs: wide strings, the
//! last error, owning a returned handle, and the access a handle was granted.

use std::ffi::c_void;
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

/// PUBLIC_OBJECT_BASIC_INFORMATION (winternl.h).
#[repr(C)]
#[derive(Default)]
struct ObjectBasicInformation {
    attributes: u32,
    granted_access: u32,
    handle_count: u32,
    pointer_count: u32,
    reserved: [u32; 10],
}

#[link(name = "ntdll", kind = "raw-dylib")]
extern "system" {
    /// Documented in winternl.h; class 0 (`ObjectBasicInformation`) tells the access a
    /// handle was opened with.
    fn NtQueryObject(
        h: HANDLE,
        class: u32,
        info: *mut c_void,
        len: u32,
        result_len: *mut u32,
    ) -> i32;
}

/// The access rights the handle `h` was granted (generic rights already mapped to the
/// object's specific ones), such as whether a file was opened for writing.
pub(crate) fn granted_access(h: RawHandle) -> io::Result<u32> {
    let mut info = ObjectBasicInformation::default();
    // SAFETY: `info` is a valid, writable PUBLIC_OBJECT_BASIC_INFORMATION of the size
    // passed; the kernel validates `h`.
    let status = unsafe {
        NtQueryObject(
            h as HANDLE,
            0,
            (&mut info as *mut ObjectBasicInformation).cast(),
            std::mem::size_of::<ObjectBasicInformation>() as u32,
            std::ptr::null_mut(),
        )
    };
    if status < 0 {
        return Err(io::Error::from_raw_os_error(
            crate::error::code::INVALID_HANDLE as i32,
        ));
    }
    Ok(info.granted_access)
}
