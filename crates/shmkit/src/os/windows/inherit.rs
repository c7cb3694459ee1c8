//! Handles for other handles and other processes: duplication (`try_clone`), the
//! inheritable twin of `inheritable(true)`, and the child's side of a token, for mappings
//! and sync objects alike. The token itself is `crate::token`'s.
//!
//! A child cannot be made to inherit one handle only on Windows (short of
//! `PROC_THREAD_ATTRIBUTE_HANDLE_LIST`, which `Command` does not offer): an inheritable
//! handle reaches every child started meanwhile, by any thread, and keeps the name alive
//! in them. So `share_with` makes nothing inheritable: its token names the parent
//! ([`Token::process`]) and the parent's handle, and the child duplicates that handle
//! into itself in `from_inherited` ([`take`]); the parent keeps its handle until then.
//! A token without a process names an inherited handle, the twin of `inheritable(true)`.

use super::sys::{last_error, owned};
use crate::error::{Error, ErrorKind};
use crate::token::Token;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use windows_sys::Win32::Foundation::{
    DuplicateHandle, GetHandleInformation, SetHandleInformation, DUPLICATE_SAME_ACCESS, HANDLE,
    HANDLE_FLAG_INHERIT,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcess, PROCESS_DUP_HANDLE};

/// A duplicate of `h` in this process, with the same access; `inherit` makes it
/// inheritable by children started afterwards.
pub(crate) fn duplicate(h: RawHandle, inherit: bool) -> io::Result<OwnedHandle> {
    let mut out: HANDLE = std::ptr::null_mut();
    // SAFETY: plain FFI call; `h` is only read by the kernel, which validates it, and
    // `out` is a valid place for the new handle.
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            h as HANDLE,
            GetCurrentProcess(),
            &mut out,
            0,
            i32::from(inherit),
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    owned(out)
}

/// The handle flags of `h` (`HANDLE_FLAG_INHERIT`, ...), or an error when `h` is not an
/// open handle of this process.
fn handle_flags(h: RawHandle) -> io::Result<u32> {
    let mut flags = 0u32;
    // SAFETY: plain FFI call; the kernel validates `h`; `flags` is a valid out pointer.
    if unsafe { GetHandleInformation(h as HANDLE, &mut flags) } == 0 {
        return Err(last_error());
    }
    Ok(flags)
}

/// Makes `h` inheritable or not.
fn set_inheritable(h: &OwnedHandle, inherit: bool) -> io::Result<()> {
    let flags = if inherit { HANDLE_FLAG_INHERIT } else { 0 };
    // SAFETY: plain FFI call on a handle this process owns.
    if unsafe { SetHandleInformation(h.as_raw_handle() as HANDLE, HANDLE_FLAG_INHERIT, flags) } == 0
    {
        return Err(last_error());
    }
    Ok(())
}

/// The inheritable handles that objects of this process own (their `inheritable(true)`
/// twins): a token naming one of them is not an inherited handle, and adopting it would
/// close it twice.
static OWNED_INHERITABLE: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// An inheritable duplicate that an object of this process owns.
pub(crate) struct InheritableHandle(Option<OwnedHandle>);

impl InheritableHandle {
    pub(crate) fn new(of: RawHandle) -> io::Result<InheritableHandle> {
        let h = duplicate(of, true)?;
        OWNED_INHERITABLE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(h.as_raw_handle() as usize);
        Ok(InheritableHandle(Some(h)))
    }

    /// The handle's number, which a child inherits as it is.
    pub(crate) fn value(&self) -> u64 {
        self.0
            .as_ref()
            .map_or(0, |h| h.as_raw_handle() as usize as u64)
    }
}

impl Drop for InheritableHandle {
    fn drop(&mut self) {
        let mut owned = OWNED_INHERITABLE.lock().unwrap_or_else(|e| e.into_inner());
        let value = self.value() as usize;
        if let Some(i) = owned.iter().position(|&v| v == value) {
            owned.swap_remove(i);
        }
        // Closed while the lock is held, so that no new twin with the same number can
        // be listed in between and then unlisted here.
        drop(self.0.take());
        drop(owned);
    }
}

/// The number of `h` in this process and this process's id: where a child that was not
/// made to inherit anything takes its handle from (the `handle` and `process` of a
/// `share_with` token).
pub(crate) fn shared(h: &OwnedHandle) -> (u64, Option<u32>) {
    (h.as_raw_handle() as usize as u64, Some(std::process::id()))
}

/// The error of a token that names no usable handle (ERROR_INVALID_HANDLE).
pub(crate) fn refused(token: &Token, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        format!("inherited handle {:?}: {why}", token.encode()),
    )
}

/// The handle `token` names, in this process: duplicated from the process it names, or
/// adopted as inherited. Either way it must pass `is_kind` (the object is of the kind the
/// token says), else the token is refused.
pub(crate) fn take(
    token: &Token,
    is_kind: impl Fn(RawHandle) -> bool,
) -> crate::Result<OwnedHandle> {
    let value = usize::try_from(token.handle).map_err(|_| refused(token, "malformed handle"))?;
    match token.process {
        Some(pid) => {
            let h = take_from(pid, value)
                .map_err(|e| refused(token, &format!("cannot take it from process {pid}: {e}")))?;
            if !is_kind(h.as_raw_handle()) {
                return Err(refused(token, "not an object of the kind the token says"));
            }
            Ok(h)
        }
        None => adopt_inherited(value, is_kind).map_err(|why| refused(token, why)),
    }
}

/// Adopts the handle numbered `value` that this process inherited: it must be open,
/// inheritable, not owned by an object of this process, and pass `check`. Clears its
/// inherit flag, so that it is adopted once and reaches no grandchild.
fn adopt_inherited(
    value: usize,
    check: impl FnOnce(RawHandle) -> bool,
) -> Result<OwnedHandle, &'static str> {
    let raw = value as RawHandle;
    let owned = OWNED_INHERITABLE.lock().unwrap_or_else(|e| e.into_inner());
    if owned.contains(&value) {
        return Err("the handle is owned by an object of this process, not inherited");
    }
    match handle_flags(raw) {
        Ok(flags) if flags & HANDLE_FLAG_INHERIT != 0 => {}
        Ok(_) => return Err("the handle was not inherited"),
        Err(_) => return Err("no such open handle"),
    }
    if !check(raw) {
        return Err("not an object of the kind the token says");
    }
    // SAFETY: the handle is open and inheritable, and no object of this process owns it
    // (checked under the lock); presenting the token hands it over, and clearing the
    // inherit flag below makes a second adoption fail.
    let h = unsafe { OwnedHandle::from_raw_handle(raw) };
    drop(owned);
    set_inheritable(&h, false).map_err(|_| "cannot clear its inherit flag")?;
    Ok(h)
}

/// Duplicates handle `value` of process `pid` into this process (the child's side of
/// `share_with`).
fn take_from(pid: u32, value: usize) -> io::Result<OwnedHandle> {
    // SAFETY: plain FFI call; the returned process handle is owned below.
    let process = owned(unsafe { OpenProcess(PROCESS_DUP_HANDLE, 0, pid) })?;
    let mut out: HANDLE = std::ptr::null_mut();
    // SAFETY: plain FFI call; the kernel validates `value` in the source process;
    // `out` is a valid place for the new handle.
    let ok = unsafe {
        DuplicateHandle(
            process.as_raw_handle() as HANDLE,
            value as HANDLE,
            GetCurrentProcess(),
            &mut out,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    owned(out)
}
