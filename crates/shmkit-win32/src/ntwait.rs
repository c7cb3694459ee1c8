//! ntdll's waits: `NtWaitForSingleObject` and `NtWaitForMultipleObjects`, over the
//! Win32 waits, with NT's conventions: the result is an NTSTATUS (`STATUS_WAIT_0 + i`,
//! `STATUS_ABANDONED_WAIT_0 + i`, `STATUS_TIMEOUT`, or the failure's status), the
//! last-error code is left alone, and the timeout is a `LARGE_INTEGER` of 100 ns units
//! (NULL: none; negative: relative; positive: an absolute system time, as
//! `GetSystemTimeAsFileTime` gives). An alertable wait runs the thread's queued APCs, as
//! the Win32 `Ex` waits do, and returns `STATUS_USER_APC` (0xC0, `WAIT_IO_COMPLETION`'s
//! value).

use crate::error;
use crate::system::{GetSystemTimeAsFileTime, FILETIME};
use crate::thread::{WaitForMultipleObjectsEx, WaitForSingleObjectEx};
use crate::types::*;

const WAIT_TIMEOUT: DWORD = 0x102;
const WAIT_FAILED: DWORD = 0xFFFF_FFFF;
/// The longest wait in one Win32 call (INFINITE is 0xFFFFFFFF).
const LONGEST_MS: u64 = 0xFFFF_FFFE;

/// The status of a Win32 failure.
fn status_of(code: DWORD) -> i32 {
    match code {
        err::INVALID_HANDLE => status::INVALID_HANDLE,
        err::ACCESS_DENIED => status::ACCESS_DENIED,
        err::INVALID_PARAMETER => status::INVALID_PARAMETER,
        err::NOT_ENOUGH_MEMORY => status::NO_MEMORY,
        _ => status::UNSUCCESSFUL,
    }
}

/// The system time, in 100 ns units since 1601.
fn now() -> u64 {
    let mut ft = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    // SAFETY: a local FILETIME.
    unsafe { GetSystemTimeAsFileTime(&mut ft) };
    (u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime)
}

/// Waits with `wait(ms)` until it is satisfied or the NT timeout has passed.
///
/// # Safety
/// `timeout` is NULL or a readable LARGE_INTEGER.
unsafe fn nt_wait(timeout: *const i64, wait: impl Fn(DWORD) -> DWORD) -> i32 {
    let saved = error::get();
    // The absolute deadline, fixed at the start.
    let deadline = if timeout.is_null() {
        None
    } else {
        // SAFETY: by the function's contract.
        let t = unsafe { timeout.read_unaligned() };
        Some(if t >= 0 {
            t as u64
        } else {
            now().saturating_add(t.unsigned_abs())
        })
    };
    let status = loop {
        // The milliseconds left, rounded up (a zero timeout polls).
        let ms = match deadline {
            None => INFINITE,
            Some(d) => d.saturating_sub(now()).div_ceil(10_000).min(LONGEST_MS) as DWORD,
        };
        match wait(ms) {
            WAIT_FAILED => break status_of(error::get()),
            WAIT_TIMEOUT => {
                if deadline.is_none_or(|d| now() >= d) {
                    break status::TIMEOUT;
                }
            }
            r => break r as i32,
        }
    };
    error::set(saved);
    status
}

/// `NtWaitForSingleObject`: waits for one object.
///
/// # Safety
/// `timeout` is NULL or a readable LARGE_INTEGER.
#[no_mangle]
pub unsafe extern "C" fn NtWaitForSingleObject(
    h: HANDLE,
    alertable: u8,
    timeout: *const i64,
) -> i32 {
    let alertable = BOOL::from(alertable != 0);
    // SAFETY: by the function's contract.
    unsafe { nt_wait(timeout, |ms| WaitForSingleObjectEx(h, ms, alertable)) }
}

/// `NtWaitForMultipleObjects`: waits for any (`wait_type` 1, `WaitAnyObject`) or all
/// (0, `WaitAllObject`) of `count` objects.
///
/// # Safety
/// `handles` points to `count` handles; `timeout` is NULL or a readable LARGE_INTEGER.
#[no_mangle]
pub unsafe extern "C" fn NtWaitForMultipleObjects(
    count: u32,
    handles: *const HANDLE,
    wait_type: u32,
    alertable: u8,
    timeout: *const i64,
) -> i32 {
    if wait_type > 1 {
        return status::INVALID_PARAMETER;
    }
    let all = BOOL::from(wait_type == 0);
    let alertable = BOOL::from(alertable != 0);
    // SAFETY: by the function's contract.
    unsafe {
        nt_wait(timeout, |ms| {
            WaitForMultipleObjectsEx(count, handles, all, ms, alertable)
        })
    }
}
