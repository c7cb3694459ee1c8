//! The `Ex` forms of the sync object creators: `CreateEventEx`, `CreateMutexEx`,
//! `CreateSemaphoreEx` (A and W): the plain creators' objects, whose handle gets the
//! access asked for (`dwDesiredAccess`) instead of every right, as `DuplicateHandle`
//! grants it.

use crate::error::{self, ffi, Result};
use crate::handles;
use crate::sync;
use crate::types::*;
use std::ffi::c_char;

const CREATE_EVENT_MANUAL_RESET: DWORD = 0x1;
const CREATE_EVENT_INITIAL_SET: DWORD = 0x2;
const CREATE_MUTEX_INITIAL_OWNER: DWORD = 0x1;

/// Gives the handle `create` made the access asked for; keeps the creator's last error
/// (0, or `ERROR_ALREADY_EXISTS` for an existing object).
fn with_access(
    sa: *const SECURITY_ATTRIBUTES,
    access: DWORD,
    create: impl FnOnce() -> HANDLE,
) -> Result<HANDLE> {
    error::set(0);
    let h = create();
    if h.is_null() {
        return Err(error::Win32Error(error::get()));
    }
    let created = error::get();
    // SAFETY: NULL or valid, by the caller's contract.
    let inherit = unsafe { inheritable(sa) } as BOOL;
    let me = INVALID_HANDLE_VALUE;
    let mut out: HANDLE = std::ptr::null_mut();
    // SAFETY: `out` is a writable HANDLE; the source is the handle just made, closed by
    // the call.
    let ok = unsafe {
        handles::DuplicateHandle(me, h, me, &mut out, access, inherit, DUPLICATE_CLOSE_SOURCE)
    };
    if ok == 0 {
        let e = error::get();
        handles::CloseHandle(h);
        return error::fail(e);
    }
    error::set(created);
    Ok(out)
}

fn check(flags: DWORD, known: DWORD) -> Result<()> {
    if flags & !known != 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    Ok(())
}

/// `CreateEventExA`: `CreateEventA` with `CREATE_EVENT_MANUAL_RESET` and
/// `CREATE_EVENT_INITIAL_SET` as flags (others: `ERROR_INVALID_PARAMETER`), the handle
/// granted `dwDesiredAccess` (generic rights mapped as for an event). An existing
/// object opened by name sets `ERROR_ALREADY_EXISTS`, as `CreateEventA` does.
///
/// # Safety
/// As for `CreateEventA`.
#[no_mangle]
pub unsafe extern "C" fn CreateEventExA(
    sa: *const SECURITY_ATTRIBUTES,
    name: LPCSTR,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        check(flags, CREATE_EVENT_MANUAL_RESET | CREATE_EVENT_INITIAL_SET)?;
        let manual = (flags & CREATE_EVENT_MANUAL_RESET != 0) as BOOL;
        let set = (flags & CREATE_EVENT_INITIAL_SET != 0) as BOOL;
        // SAFETY: by the function's contract.
        with_access(sa, access, || unsafe {
            sync::CreateEventA(sa, manual, set, name)
        })
    })
}

/// `CreateEventExW`: [`CreateEventExA`] with a wide name.
///
/// # Safety
/// As for `CreateEventW`.
#[no_mangle]
pub unsafe extern "C" fn CreateEventExW(
    sa: *const SECURITY_ATTRIBUTES,
    name: LPCWSTR,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        check(flags, CREATE_EVENT_MANUAL_RESET | CREATE_EVENT_INITIAL_SET)?;
        let manual = (flags & CREATE_EVENT_MANUAL_RESET != 0) as BOOL;
        let set = (flags & CREATE_EVENT_INITIAL_SET != 0) as BOOL;
        // SAFETY: by the function's contract.
        with_access(sa, access, || unsafe {
            sync::CreateEventW(sa, manual, set, name)
        })
    })
}

/// `CreateMutexExA`: `CreateMutexA` with `CREATE_MUTEX_INITIAL_OWNER` as its flag
/// (others: `ERROR_INVALID_PARAMETER`), the handle granted `dwDesiredAccess`.
///
/// # Safety
/// As for `CreateMutexA`.
#[no_mangle]
pub unsafe extern "C" fn CreateMutexExA(
    sa: *const SECURITY_ATTRIBUTES,
    name: LPCSTR,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        check(flags, CREATE_MUTEX_INITIAL_OWNER)?;
        let owner = (flags & CREATE_MUTEX_INITIAL_OWNER != 0) as BOOL;
        // SAFETY: by the function's contract.
        with_access(sa, access, || unsafe {
            sync::CreateMutexA(sa, owner, name)
        })
    })
}

/// `CreateMutexExW`: [`CreateMutexExA`] with a wide name.
///
/// # Safety
/// As for `CreateMutexW`.
#[no_mangle]
pub unsafe extern "C" fn CreateMutexExW(
    sa: *const SECURITY_ATTRIBUTES,
    name: LPCWSTR,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        check(flags, CREATE_MUTEX_INITIAL_OWNER)?;
        let owner = (flags & CREATE_MUTEX_INITIAL_OWNER != 0) as BOOL;
        // SAFETY: by the function's contract.
        with_access(sa, access, || unsafe {
            sync::CreateMutexW(sa, owner, name)
        })
    })
}

/// `CreateSemaphoreExA`: `CreateSemaphoreA` (its flags are reserved: anything but 0 is
/// `ERROR_INVALID_PARAMETER`), the handle granted `dwDesiredAccess`.
///
/// # Safety
/// As for `CreateSemaphoreA`.
#[no_mangle]
pub unsafe extern "C" fn CreateSemaphoreExA(
    sa: *const SECURITY_ATTRIBUTES,
    initial: LONG,
    max: LONG,
    name: *const c_char,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        check(flags, 0)?;
        // SAFETY: by the function's contract.
        with_access(sa, access, || unsafe {
            sync::CreateSemaphoreA(sa, initial, max, name)
        })
    })
}

/// `CreateSemaphoreExW`: [`CreateSemaphoreExA`] with a wide name.
///
/// # Safety
/// As for `CreateSemaphoreW`.
#[no_mangle]
pub unsafe extern "C" fn CreateSemaphoreExW(
    sa: *const SECURITY_ATTRIBUTES,
    initial: LONG,
    max: LONG,
    name: LPCWSTR,
    flags: DWORD,
    access: DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        check(flags, 0)?;
        // SAFETY: by the function's contract.
        with_access(sa, access, || unsafe {
            sync::CreateSemaphoreW(sa, initial, max, name)
        })
    })
}
