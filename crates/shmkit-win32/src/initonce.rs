//! One-time initialization without a callback: `InitOnceBeginInitialize` and
//! `InitOnceComplete`, over the `INIT_ONCE` word of `InitOnceExecuteOnce`
//! (src/critical.rs).
//!
//! The word is, as on Windows: 0 before any initialization; 1 while a synchronous one
//! runs (other synchronous callers wait for it); 3 while asynchronous ones are pending
//! (every asynchronous caller is told to initialize; the first to complete wins); the
//! context with its low bits 2 once done. A synchronous call meeting an asynchronous
//! initialization, or the reverse, is `ERROR_INVALID_PARAMETER`.

use std::ffi::c_void;
use std::sync::atomic::Ordering;

use crate::critical::INIT_ONCE;
use crate::critical::{futex_wait, futex_wake, once_futex, ONCE_DONE, ONCE_RUNNING, ONCE_STATE};
use crate::error;
use crate::types::*;

const INIT_ONCE_CHECK_ONLY: DWORD = 1;
const INIT_ONCE_ASYNC: DWORD = 2;
const INIT_ONCE_INIT_FAILED: DWORD = 4;
/// An asynchronous initialization is pending.
const ONCE_ASYNC: usize = ONCE_STATE;

/// `InitOnceBeginInitialize`: starts the initialization of `InitOnce`, or finds it
/// done. `*fPending` is TRUE when the caller is to initialize and call
/// `InitOnceComplete`, FALSE when it is done (`*lpContext` then gets its context). With
/// `INIT_ONCE_CHECK_ONLY` it only looks: `ERROR_GEN_FAILURE` when not done. Without
/// `INIT_ONCE_ASYNC` a caller waits while another thread's synchronous initialization
/// runs.
///
/// # Safety
/// `once` is NULL or an `INIT_ONCE`; `pending` and `context` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn InitOnceBeginInitialize(
    once: *mut INIT_ONCE,
    flags: DWORD,
    pending: *mut BOOL,
    context: *mut *mut c_void,
) -> BOOL {
    // SAFETY: by the function's contract.
    let Some(o) = (unsafe { once.as_ref() }) else {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    };
    // Other flag bits are ignored, as Wine 8 does (no conformance test records
    // Windows' answer).
    let flags = flags & (INIT_ONCE_CHECK_ONLY | INIT_ONCE_ASYNC);
    if flags == INIT_ONCE_CHECK_ONLY | INIT_ONCE_ASYNC || pending.is_null() {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    }
    let done = |v: usize| {
        // SAFETY: checked non-NULL; writable by the function's contract.
        unsafe {
            *pending = FALSE;
            if !context.is_null() {
                *context = (v & !ONCE_STATE) as *mut c_void;
            }
        }
        TRUE
    };
    let start = || {
        // SAFETY: as above.
        unsafe { *pending = TRUE };
        TRUE
    };
    loop {
        let v = o.word.load(Ordering::Acquire);
        if v & ONCE_STATE == ONCE_DONE {
            return done(v);
        }
        if flags == INIT_ONCE_CHECK_ONLY {
            error::set(err::GEN_FAILURE);
            return FALSE;
        }
        let asynchronous = flags & INIT_ONCE_ASYNC != 0;
        match (v & ONCE_STATE, asynchronous) {
            (0, _) => {
                let new = if asynchronous {
                    ONCE_ASYNC
                } else {
                    ONCE_RUNNING
                };
                if o.word
                    .compare_exchange(0, new, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return start();
                }
            }
            (ONCE_RUNNING, false) => {
                futex_wait(once_futex(o), v as u32, None);
            }
            (ONCE_ASYNC, true) => return start(),
            _ => {
                error::set(err::INVALID_PARAMETER);
                return FALSE;
            }
        }
    }
}

/// `InitOnceComplete`: ends the initialization `InitOnceBeginInitialize` started, with
/// its context (whose two low bits must be clear), or as failed with
/// `INIT_ONCE_INIT_FAILED` (a NULL context; synchronous only): `InitOnce` is then as
/// before it. `INIT_ONCE_ASYNC` is needed for an asynchronous one
/// (`ERROR_INVALID_PARAMETER` without); no initialization under way is
/// `ERROR_GEN_FAILURE`.
///
/// # Safety
/// `once` is NULL or an `INIT_ONCE`.
#[no_mangle]
pub unsafe extern "C" fn InitOnceComplete(
    once: *mut INIT_ONCE,
    flags: DWORD,
    context: *mut c_void,
) -> BOOL {
    // SAFETY: by the function's contract.
    let Some(o) = (unsafe { once.as_ref() }) else {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    };
    let failed = flags & INIT_ONCE_INIT_FAILED != 0;
    let asynchronous = flags & INIT_ONCE_ASYNC != 0;
    if flags & !(INIT_ONCE_ASYNC | INIT_ONCE_INIT_FAILED) != 0
        || (failed && (asynchronous || !context.is_null()))
        || context as usize & ONCE_STATE != 0
    {
        error::set(err::INVALID_PARAMETER);
        return FALSE;
    }
    let v = o.word.load(Ordering::Acquire);
    // A synchronous initialization may be completed with or without INIT_ONCE_ASYNC
    // (as Wine 8 does; no conformance test records Windows' answer); an asynchronous
    // one only with it.
    let expected = match v {
        ONCE_RUNNING => ONCE_RUNNING,
        ONCE_ASYNC if asynchronous => ONCE_ASYNC,
        ONCE_ASYNC => {
            error::set(err::INVALID_PARAMETER);
            return FALSE;
        }
        _ => {
            error::set(err::GEN_FAILURE);
            return FALSE;
        }
    };
    let new = if failed {
        0
    } else {
        context as usize | ONCE_DONE
    };
    if o.word
        .compare_exchange(expected, new, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        error::set(err::GEN_FAILURE);
        return FALSE;
    }
    futex_wake(once_futex(o), i32::MAX);
    TRUE
}
