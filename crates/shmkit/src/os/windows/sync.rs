//! Mutexes, events and semaphores on Windows: the kernel objects themselves
//! (`CreateMutexW`, `CreateEventW`, `CreateSemaphoreW`, `WaitForSingleObject`).
//!
//! Ownership, abandonment (`WAIT_ABANDONED`), ERROR_NOT_OWNER and ERROR_TOO_MANY_POSTS
//! are the kernel's. What an opened handle cannot be told by its creator (an event's
//! reset mode, a semaphore's maximum, whether the calling thread owns a mutex) comes
//! from the objects' basic-information queries (`NtQueryEvent`, `NtQuerySemaphore`,
//! `NtQueryMutant`). Permissions map as for mappings (see `security`): "read" is the
//! right to wait, "write" the right to set, reset or release.

use super::persist;
use super::security::{Descriptor, Rights};
use super::sys::{self, code_of, last_error, wide};
use crate::error::{code, Error, ErrorKind, Result};
use crate::name::Name;
use crate::os::{SyncParams, SyncRequest, SyncType};
use crate::sync::Acquire;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::process::Command;
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{
    ERROR_ALREADY_EXISTS, HANDLE, WAIT_ABANDONED, WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::Storage::FileSystem::{
    READ_CONTROL, STANDARD_RIGHTS_REQUIRED, SYNCHRONIZE,
};
use windows_sys::Win32::System::Threading::{
    CreateEventW, CreateMutexW, CreateSemaphoreW, OpenEventW, OpenMutexW, OpenSemaphoreW,
    ReleaseMutex, ReleaseSemaphore, ResetEvent, SetEvent, WaitForSingleObject, INFINITE,
};

const TOKEN_PREFIX: &str = "shmkit-sync:";
/// MUTANT_QUERY_STATE, EVENT_QUERY_STATE and SEMAPHORE_QUERY_STATE (all 1).
const QUERY_STATE: u32 = 0x1;
/// EVENT_MODIFY_STATE and SEMAPHORE_MODIFY_STATE (both 2).
const MODIFY_STATE: u32 = 0x2;

/// The rights that "read" and "write" grant on each kind. A mutex has no right of its
/// own to release it (ownership decides), so both bits give the right to wait on it.
fn rights(kind: SyncType) -> Rights {
    match kind {
        SyncType::Mutex => Rights {
            read: SYNCHRONIZE | QUERY_STATE,
            write: SYNCHRONIZE | QUERY_STATE,
            owner_extra: STANDARD_RIGHTS_REQUIRED,
        },
        SyncType::Event | SyncType::Semaphore => Rights {
            read: SYNCHRONIZE | QUERY_STATE,
            write: MODIFY_STATE,
            owner_extra: STANDARD_RIGHTS_REQUIRED,
        },
    }
}

/// What an open asks for: everything a handle of that kind can do.
fn open_rights(kind: SyncType) -> u32 {
    match kind {
        SyncType::Mutex => SYNCHRONIZE | QUERY_STATE,
        SyncType::Event | SyncType::Semaphore => SYNCHRONIZE | QUERY_STATE | MODIFY_STATE,
    }
}

fn label(kind: SyncType, name: Option<&Name>) -> String {
    crate::sync::label(kind, name.map(Name::as_str))
}

fn wrong_type(name: &Name, want: SyncType) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind, not a {}",
            crate::name::quoted(name.as_str()),
            want.as_str()
        ),
    )
}

fn call_error(e: io::Error, name: Option<&Name>, kind: SyncType, what: &str) -> Error {
    match (code_of(&e), name) {
        (code::INVALID_HANDLE, Some(n)) => wrong_type(n, kind),
        (code::ACCESS_DENIED, _) => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: access denied by the object's permissions"),
        ),
        _ => Error::from_io(e, what.to_owned()),
    }
}

/// One open handle to a mutex, an event or a semaphore.
pub(crate) struct SyncHandle {
    handle: OwnedHandle,
    kind: SyncType,
    /// The event's manual-reset flag (1) or the semaphore's maximum.
    param: u32,
    name: Option<String>,
    inheritable: Option<sys::InheritableHandle>,
}

fn create_call(
    params: SyncParams,
    sa: Option<&SECURITY_ATTRIBUTES>,
    name: Option<&[u16]>,
) -> io::Result<(OwnedHandle, u32)> {
    let sa = sa.map_or(std::ptr::null(), |s| s as *const SECURITY_ATTRIBUTES);
    let name = name.map_or(std::ptr::null(), <[u16]>::as_ptr);
    // SAFETY: `sa` and `name` (NUL-terminated) are null or valid for the call; the
    // returned handle is owned below.
    let h = unsafe {
        match params {
            SyncParams::Mutex { initial_owner } => CreateMutexW(sa, i32::from(initial_owner), name),
            SyncParams::Event {
                manual,
                initially_set,
            } => CreateEventW(sa, i32::from(manual), i32::from(initially_set), name),
            SyncParams::Semaphore { initial, max } => {
                CreateSemaphoreW(sa, initial as i32, max as i32, name)
            }
        }
    };
    let status = last_error();
    let handle = sys::owned(h)?;
    Ok((handle, code_of(&status)))
}

fn open_call(kind: SyncType, name: &Name, rights: u32) -> io::Result<OwnedHandle> {
    let w = wide(&name.full());
    // SAFETY: `w` is NUL-terminated and outlives the call; the handle is owned below.
    let h = unsafe {
        match kind {
            SyncType::Mutex => OpenMutexW(rights, 0, w.as_ptr()),
            SyncType::Event => OpenEventW(rights, 0, w.as_ptr()),
            SyncType::Semaphore => OpenSemaphoreW(rights, 0, w.as_ptr()),
        }
    };
    sys::owned(h)
}

/// The kind-specific parameter of an object, asked of the object itself.
fn param_of(h: RawHandle, kind: SyncType) -> io::Result<u32> {
    Ok(match kind {
        SyncType::Mutex => {
            sys::query_mutant(h)?;
            0
        }
        SyncType::Event => u32::from(sys::query_event(h)?.event_type == 0),
        SyncType::Semaphore => sys::query_semaphore(h)?.maximum as u32,
    })
}

/// SPEC 7.5 with 2.1: create-or-open (or create-new).
pub(crate) fn create_sync(req: &SyncRequest<'_>) -> Result<(SyncHandle, bool)> {
    let kind = req.params.sync_type();
    let what = label(kind, req.name);
    let creating = format!("creating {what}");
    if let Some(name) = req.name {
        // A persistent mapping holds its name through a file, not a live object.
        if persist::exists(name) {
            return Err(wrong_type(name, kind));
        }
    }
    let sd = Descriptor::new(req.permissions, rights(kind), true)
        .map_err(|e| Error::from_io(e, creating.clone()))?;
    let sa = sd.attributes(false);
    let wname = req.name.map(|n| wide(&n.full()));
    let (handle, existed) = match create_call(req.params, Some(&sa), wname.as_deref()) {
        Ok((h, status)) => (h, status == ERROR_ALREADY_EXISTS),
        // An existing object whose permissions refuse the all-access handle that a
        // create asks for: open it with what an open asks for.
        Err(e) if code_of(&e) == code::ACCESS_DENIED && req.name.is_some() => {
            let name = req.name.expect("checked");
            let h = open_call(kind, name, open_rights(kind) | READ_CONTROL)
                .map_err(|e| call_error(e, Some(name), kind, &creating))?;
            (h, true)
        }
        Err(e) => return Err(call_error(e, req.name, kind, &creating)),
    };
    if existed {
        if req.exclusive {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("cannot create {what}: an object of that name already exists"),
            ));
        }
        let mine = sys::owned_by_caller(handle.as_raw_handle(), false)
            .map_err(|e| Error::from_io(e, creating.clone()))?;
        if !mine {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{creating}: the name is held by another user's object; refusing a name \
                     another user may have squatted (use open to use another user's object \
                     on purpose)"
                ),
            ));
        }
    }
    let param = match (existed, req.params) {
        (false, SyncParams::Event { manual, .. }) => u32::from(manual),
        (false, SyncParams::Semaphore { max, .. }) => max,
        (false, SyncParams::Mutex { .. }) => 0,
        (true, _) => param_of(handle.as_raw_handle(), kind)
            .map_err(|e| Error::from_io(e, creating.clone()))?,
    };
    let mut h = SyncHandle {
        handle,
        kind,
        param,
        name: req.name.map(|n| n.as_str().to_owned()),
        inheritable: None,
    };
    if req.inheritable {
        h.inheritable = Some(
            sys::InheritableHandle::new(h.handle.as_raw_handle())
                .map_err(|e| Error::from_io(e, creating.clone()))?,
        );
    }
    Ok((h, existed))
}

/// SPEC 7.5 with 2.6: opens an existing object of kind `kind`.
pub(crate) fn open_sync(name: &Name, kind: SyncType) -> Result<SyncHandle> {
    let what = label(kind, Some(name));
    let handle = match open_call(kind, name, open_rights(kind)) {
        Ok(h) => h,
        Err(e) if code_of(&e) == code::FILE_NOT_FOUND => {
            if persist::exists(name) {
                return Err(wrong_type(name, kind));
            }
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("cannot open {what}: no object of that name exists"),
            ));
        }
        Err(e) => {
            return Err(call_error(
                e,
                Some(name),
                kind,
                &format!("cannot open {what}"),
            ))
        }
    };
    let param =
        param_of(handle.as_raw_handle(), kind).map_err(|e| Error::from_io(e, what.clone()))?;
    Ok(SyncHandle {
        handle,
        kind,
        param,
        name: Some(name.as_str().to_owned()),
        inheritable: None,
    })
}

/// Waits for `h`; `None` waits forever, `Some(ZERO)` polls. Timeouts longer than
/// `WaitForSingleObject` can express are waited in several calls.
fn wait(h: RawHandle, timeout: Option<Duration>) -> io::Result<u32> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        let ms = match (timeout, deadline) {
            (None, _) | (Some(_), None) => INFINITE,
            (Some(_), Some(d)) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up, so that a wait never ends before its timeout.
                let ms = left.as_nanos().div_ceil(1_000_000);
                u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
            }
        };
        // SAFETY: plain FFI call on a handle the caller owns.
        let r = unsafe { WaitForSingleObject(h as HANDLE, ms) };
        match r {
            WAIT_TIMEOUT if deadline.is_some_and(|d| Instant::now() < d) => continue,
            WAIT_OBJECT_0 | WAIT_ABANDONED | WAIT_TIMEOUT => return Ok(r),
            _ => return Err(last_error()),
        }
    }
}

impl SyncHandle {
    pub(crate) fn sync_type(&self) -> SyncType {
        self.kind
    }

    /// The object's name, for a handle adopted from a parent.
    pub(crate) fn name(&self) -> Option<String> {
        self.name.clone()
    }

    fn what(&self) -> String {
        crate::sync::label(self.kind, self.name.as_deref())
    }

    fn raw(&self) -> RawHandle {
        self.handle.as_raw_handle()
    }

    fn wrong_op(&self, op: &str) -> Error {
        Error::new(
            ErrorKind::InvalidHandle,
            format!("{op}: {} is not of the right kind", self.what()),
        )
    }

    fn fail(&self, op: &str, e: io::Error) -> Error {
        Error::from_io(e, format!("{op} {}", self.what()))
    }

    pub(crate) fn mutex_acquire(&self, timeout: Option<Duration>) -> Result<Acquire> {
        if self.kind != SyncType::Mutex {
            return Err(self.wrong_op("waiting for a mutex"));
        }
        match wait(self.raw(), timeout).map_err(|e| self.fail("waiting for", e))? {
            WAIT_OBJECT_0 => Ok(Acquire::Acquired),
            WAIT_ABANDONED => Ok(Acquire::Abandoned),
            _ => Ok(Acquire::TimedOut),
        }
    }

    pub(crate) fn mutex_release(&self) -> Result<()> {
        if self.kind != SyncType::Mutex {
            return Err(self.wrong_op("releasing a mutex"));
        }
        // SAFETY: plain FFI call on a handle this value owns.
        if unsafe { ReleaseMutex(self.raw() as HANDLE) } == 0 {
            let e = last_error();
            if code_of(&e) == code::NOT_OWNER {
                return Err(Error::new(
                    ErrorKind::NotOwner,
                    format!(
                        "releasing {}: the calling thread does not own it",
                        self.what()
                    ),
                ));
            }
            return Err(self.fail("releasing", e));
        }
        Ok(())
    }

    pub(crate) fn mutex_owned_by_caller(&self) -> bool {
        self.kind == SyncType::Mutex
            && sys::query_mutant(self.raw()).is_ok_and(|i| i.owned_by_caller != 0)
    }

    pub(crate) fn event_set(&self) -> Result<()> {
        if self.kind != SyncType::Event {
            return Err(self.wrong_op("setting an event"));
        }
        // SAFETY: plain FFI call on a handle this value owns.
        if unsafe { SetEvent(self.raw() as HANDLE) } == 0 {
            return Err(self.fail("setting", last_error()));
        }
        Ok(())
    }

    pub(crate) fn event_reset(&self) -> Result<()> {
        if self.kind != SyncType::Event {
            return Err(self.wrong_op("resetting an event"));
        }
        // SAFETY: plain FFI call on a handle this value owns.
        if unsafe { ResetEvent(self.raw() as HANDLE) } == 0 {
            return Err(self.fail("resetting", last_error()));
        }
        Ok(())
    }

    pub(crate) fn event_wait(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != SyncType::Event {
            return Err(self.wrong_op("waiting for an event"));
        }
        let r = wait(self.raw(), timeout).map_err(|e| self.fail("waiting for", e))?;
        Ok(r == WAIT_OBJECT_0)
    }

    pub(crate) fn event_manual(&self) -> bool {
        self.kind == SyncType::Event && self.param != 0
    }

    pub(crate) fn semaphore_release(&self, n: u32) -> Result<u32> {
        if self.kind != SyncType::Semaphore {
            return Err(self.wrong_op("releasing a semaphore"));
        }
        let mut previous = 0i32;
        // SAFETY: plain FFI call on a handle this value owns; `previous` is a valid out
        // pointer. The caller checked that `n` fits an i32.
        if unsafe { ReleaseSemaphore(self.raw() as HANDLE, n as i32, &mut previous) } == 0 {
            let e = last_error();
            if code_of(&e) == code::TOO_MANY_POSTS {
                return Err(Error::new(
                    ErrorKind::TooManyPosts,
                    format!(
                        "releasing {} by {n}: its count would pass its maximum {}; \
                         nothing changed",
                        self.what(),
                        self.param
                    ),
                ));
            }
            return Err(self.fail("releasing", e));
        }
        Ok(previous as u32)
    }

    pub(crate) fn semaphore_acquire(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != SyncType::Semaphore {
            return Err(self.wrong_op("waiting for a semaphore"));
        }
        let r = wait(self.raw(), timeout).map_err(|e| self.fail("waiting for", e))?;
        Ok(r == WAIT_OBJECT_0)
    }

    pub(crate) fn semaphore_max(&self) -> u32 {
        if self.kind == SyncType::Semaphore {
            self.param
        } else {
            0
        }
    }

    /// `where_` is the handle's number, followed by `@pid` for a handle the child takes
    /// from its parent. A name is carried in hexadecimal (names may hold `:`).
    fn token(&self, where_: &str) -> String {
        let named = match &self.name {
            Some(n) => {
                let hex: String = n.bytes().map(|b| format!("{b:02x}")).collect();
                format!("n{hex}")
            }
            None => "unnamed".to_owned(),
        };
        format!("{TOKEN_PREFIX}{where_}:{}:{named}", self.kind.as_str())
    }

    pub(crate) fn inherit_token(&self) -> Option<String> {
        self.inheritable
            .as_ref()
            .map(|h| self.token(&h.value().to_string()))
    }

    /// As for mappings (see `Handle::share_with`): the child takes its handle from this
    /// process in `from_inherited`, so no other child inherits it.
    pub(crate) fn share_with(&self, _cmd: &mut Command) -> Result<String> {
        Ok(self.token(&format!("{}@{}", self.raw() as usize, std::process::id())))
    }

    pub(crate) fn from_inherited(token: &str) -> Result<SyncHandle> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidHandle,
                format!("inherited handle {token:?}: {why}"),
            )
        };
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| bad("not a shmkit sync-object token"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [where_, k, named] = parts[..] else {
            return Err(bad("malformed token"));
        };
        let kind = SyncType::parse(k).ok_or_else(|| bad("malformed kind"))?;
        let name = match named.strip_prefix('n') {
            _ if named == "unnamed" => None,
            Some(hex) if hex.len() % 2 == 0 => {
                let bytes: Option<Vec<u8>> = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                    .collect();
                let text = bytes.and_then(|b| String::from_utf8(b).ok());
                Some(text.ok_or_else(|| bad("malformed name"))?)
            }
            _ => return Err(bad("malformed token")),
        };
        let is_kind = |h: RawHandle| param_of(h, kind).is_ok();
        let handle = match where_.split_once('@') {
            Some((value, pid)) => {
                let value: usize = value.parse().map_err(|_| bad("malformed handle"))?;
                let pid: u32 = pid.parse().map_err(|_| bad("malformed process id"))?;
                let h = sys::take_from(pid, value)
                    .map_err(|e| bad(&format!("cannot take it from process {pid}: {e}")))?;
                if !is_kind(h.as_raw_handle()) {
                    return Err(bad("not an object of the kind the token says"));
                }
                h
            }
            None => {
                let value: usize = where_.parse().map_err(|_| bad("malformed handle"))?;
                sys::adopt_inherited(value, is_kind).map_err(bad)?
            }
        };
        let param = param_of(handle.as_raw_handle(), kind)
            .map_err(|_| bad("not an object of the kind the token says"))?;
        Ok(SyncHandle {
            handle,
            kind,
            param,
            name,
            inheritable: None,
        })
    }

    pub(crate) fn try_clone(&self) -> Result<SyncHandle> {
        let handle = sys::duplicate(self.raw(), false)
            .map_err(|e| Error::from_io(e, format!("duplicating a handle to {}", self.what())))?;
        Ok(SyncHandle {
            handle,
            kind: self.kind,
            param: self.param,
            name: self.name.clone(),
            inheritable: None,
        })
    }
}
