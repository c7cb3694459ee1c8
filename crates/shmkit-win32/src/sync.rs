//! Named synchronization objects: `CreateMutex`, `OpenMutex`, `ReleaseMutex`,
//! `CreateEvent`, `OpenEvent`, `SetEvent`, `ResetEvent`, `CreateSemaphore`,
//! `OpenSemaphore`, `ReleaseSemaphore`, and what `SignalObjectAndWait` signals. Waits are
//! in the `wait` module.

use crate::access::{self, Class};
use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::Object;
use crate::security::ObjectKind;
use crate::strings;
use crate::types::*;
use shmkit::sync::{Event, EventReset, Mutex, Semaphore, SyncOptions};
use std::sync::Arc;

/// Creates (or opens) a sync object with `make`, and sets the last error as Windows
/// does: `ERROR_ALREADY_EXISTS` when the name was taken by an object of the same kind,
/// 0 for a fresh one.
fn create<T>(
    sa: *const SECURITY_ATTRIBUTES,
    kind: ObjectKind,
    name: Option<String>,
    make: impl FnOnce(&SyncOptions<'_>) -> shmkit::Result<T>,
    existed: impl FnOnce(&T) -> bool,
    wrap: impl FnOnce(Arc<T>) -> Object,
) -> Result<HANDLE> {
    // SAFETY: `sa` comes from the C caller, NULL or valid by the function's contract.
    let inherit = unsafe { inheritable(sa) };
    // An empty name makes an unnamed object, as on Windows.
    let name = name.filter(|n| !n.is_empty());
    let mut options = SyncOptions::new();
    if let Some(name) = &name {
        options.name(name);
    }
    // SAFETY: as above.
    if let Some(mode) = unsafe { crate::security::permissions_of(sa, kind) }? {
        options.permissions(mode);
    }
    let object = make(&options)?;
    let was_there = existed(&object);
    let h = handles::insert(wrap(Arc::new(object)), inherit);
    error::set(if was_there {
        err::ALREADY_EXISTS
    } else {
        err::SUCCESS
    });
    Ok(h)
}

/// Opens a sync object by name: the handle is granted `desired` (generic rights mapped
/// to the kind's own). Access 0 and rights the kind does not have are refused, as
/// Windows refuses them (`access::open_refused`).
fn open<T>(
    desired: DWORD,
    inherit: BOOL,
    name: Option<String>,
    open: impl FnOnce(&str) -> shmkit::Result<T>,
    wrap: impl FnOnce(Arc<T>) -> Object,
) -> Result<HANDLE> {
    let Some(name) = name else {
        return error::fail(err::INVALID_PARAMETER);
    };
    let object = wrap(Arc::new(open(&name)?));
    if let Some(e) = access::open_refused(object.class(), desired) {
        return error::fail(e);
    }
    let access = access::granted(object.class(), desired);
    Ok(handles::insert_with_access(object, inherit != 0, access))
}

/// The object `h` names, when its handle may change its state (`ERROR_ACCESS_DENIED`
/// without the kind's `*_MODIFY_STATE` right).
fn modifiable(h: HANDLE) -> Result<Object> {
    let (object, granted) = handles::get_with_access(h)?;
    if !access::may_modify(object.class(), granted) {
        return match object.class() {
            Class::Mutex | Class::Event | Class::Semaphore => error::fail(err::ACCESS_DENIED),
            _ => error::fail(err::INVALID_HANDLE),
        };
    }
    Ok(object)
}

fn mutex(h: HANDLE) -> Result<Arc<Mutex>> {
    match handles::get(h)? {
        Object::Mutex(m) => Ok(m),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

fn event(h: HANDLE) -> Result<Arc<Event>> {
    match handles::get(h)? {
        Object::Event(_) => {}
        _ => return error::fail(err::INVALID_HANDLE),
    }
    match modifiable(h)? {
        Object::Event(e) => Ok(e),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

fn semaphore(h: HANDLE) -> Result<Arc<Semaphore>> {
    match handles::get(h)? {
        Object::Semaphore(_) => {}
        _ => return error::fail(err::INVALID_HANDLE),
    }
    match modifiable(h)? {
        Object::Semaphore(s) => Ok(s),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

/// An object `SignalObjectAndWait` can signal.
pub(crate) enum Signalable {
    Mutex(Arc<Mutex>),
    Event(Arc<Event>),
    Semaphore(Arc<Semaphore>),
}

/// The object `h` names, if it can be signalled: a mutex, an event or a semaphore
/// (anything else is `ERROR_INVALID_HANDLE`, as Windows says).
pub(crate) fn signalable(h: HANDLE) -> Result<Signalable> {
    match handles::get(h)? {
        Object::Mutex(m) => Ok(Signalable::Mutex(m)),
        Object::Event(e) => Ok(Signalable::Event(e)),
        Object::Semaphore(s) => Ok(Signalable::Semaphore(s)),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

impl Signalable {
    /// What `ReleaseMutex`, `SetEvent` or `ReleaseSemaphore(h, 1)` does.
    pub(crate) fn signal(&self) -> Result<()> {
        match self {
            Signalable::Mutex(m) => m.release()?,
            Signalable::Event(e) => e.set()?,
            Signalable::Semaphore(s) => {
                s.release(1)?;
            }
        }
        Ok(())
    }
}

fn create_mutex(
    sa: *const SECURITY_ATTRIBUTES,
    owner: BOOL,
    name: Option<String>,
) -> Result<HANDLE> {
    create(
        sa,
        ObjectKind::Mutex,
        name,
        |o| o.create_mutex(owner != 0),
        Mutex::already_existed,
        Object::Mutex,
    )
}

/// `CreateMutexA`: creates a mutex (owned by the calling thread when `bInitialOwner`
/// and the mutex is new), or opens the existing one of that name
/// (`ERROR_ALREADY_EXISTS`). A name held by another kind of object is
/// `ERROR_INVALID_HANDLE`. Mutexes are recursive and owned by threads (SPEC 7.1).
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES`; `name` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn CreateMutexA(
    sa: *const SECURITY_ATTRIBUTES,
    owner: BOOL,
    name: LPCSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        let name = unsafe { strings::narrow(name) }?;
        create_mutex(sa, owner, name)
    })
}

/// `CreateMutexW`: [`CreateMutexA`] with a wide name.
///
/// # Safety
/// As for [`CreateMutexA`], with a wide name.
#[no_mangle]
pub unsafe extern "C" fn CreateMutexW(
    sa: *const SECURITY_ATTRIBUTES,
    owner: BOOL,
    name: LPCWSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        let name = unsafe { strings::wide(name) }?;
        create_mutex(sa, owner, name)
    })
}

/// `OpenMutexA`: opens the mutex `name`; `ERROR_FILE_NOT_FOUND` when there is none,
/// `ERROR_INVALID_PARAMETER` for a NULL name; `ERROR_ACCESS_DENIED` for access 0 or a
/// right a mutex does not have, `ERROR_PRIVILEGE_NOT_HELD` for
/// `ACCESS_SYSTEM_SECURITY`, as on Windows (Wine 8 opens the mutex).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn OpenMutexA(access: DWORD, inherit: BOOL, name: LPCSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(
            access,
            inherit,
            unsafe { strings::narrow(name) }?,
            Mutex::open,
            Object::Mutex,
        )
    })
}

/// `OpenMutexW`: [`OpenMutexA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn OpenMutexW(access: DWORD, inherit: BOOL, name: LPCWSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(
            access,
            inherit,
            unsafe { strings::wide(name) }?,
            Mutex::open,
            Object::Mutex,
        )
    })
}

/// `ReleaseMutex`: releases one level of the calling thread's ownership;
/// `ERROR_NOT_OWNER` when it does not own the mutex.
#[no_mangle]
pub extern "C" fn ReleaseMutex(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        mutex(h)?.release()?;
        Ok(TRUE)
    })
}

fn create_event(
    sa: *const SECURITY_ATTRIBUTES,
    manual: BOOL,
    initial: BOOL,
    name: Option<String>,
) -> Result<HANDLE> {
    let reset = if manual != 0 {
        EventReset::Manual
    } else {
        EventReset::Auto
    };
    create(
        sa,
        ObjectKind::Event,
        name,
        |o| o.create_event(reset, initial != 0),
        Event::already_existed,
        Object::Event,
    )
}

/// `CreateEventA`: creates a manual-reset or auto-reset event, set or not, or opens the
/// existing one of that name (`ERROR_ALREADY_EXISTS`; it keeps its kind and state).
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES`; `name` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn CreateEventA(
    sa: *const SECURITY_ATTRIBUTES,
    manual: BOOL,
    initial: BOOL,
    name: LPCSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        create_event(sa, manual, initial, unsafe { strings::narrow(name) }?)
    })
}

/// `CreateEventW`: [`CreateEventA`] with a wide name.
///
/// # Safety
/// As for [`CreateEventA`], with a wide name.
#[no_mangle]
pub unsafe extern "C" fn CreateEventW(
    sa: *const SECURITY_ATTRIBUTES,
    manual: BOOL,
    initial: BOOL,
    name: LPCWSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        create_event(sa, manual, initial, unsafe { strings::wide(name) }?)
    })
}

/// `OpenEventA`: opens the event `name`; `ERROR_FILE_NOT_FOUND` when there is none.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn OpenEventA(access: DWORD, inherit: BOOL, name: LPCSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(
            access,
            inherit,
            unsafe { strings::narrow(name) }?,
            Event::open,
            Object::Event,
        )
    })
}

/// `OpenEventW`: [`OpenEventA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn OpenEventW(access: DWORD, inherit: BOOL, name: LPCWSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(
            access,
            inherit,
            unsafe { strings::wide(name) }?,
            Event::open,
            Object::Event,
        )
    })
}

/// `SetEvent`: sets the event (an auto-reset event releases one waiter and resets).
#[no_mangle]
pub extern "C" fn SetEvent(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        event(h)?.set()?;
        Ok(TRUE)
    })
}

/// `ResetEvent`: resets the event.
#[no_mangle]
pub extern "C" fn ResetEvent(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        event(h)?.reset()?;
        Ok(TRUE)
    })
}

fn create_semaphore(
    sa: *const SECURITY_ATTRIBUTES,
    initial: LONG,
    max: LONG,
    name: Option<String>,
) -> Result<HANDLE> {
    if initial < 0 || max <= 0 || initial > max {
        return error::fail(err::INVALID_PARAMETER);
    }
    create(
        sa,
        ObjectKind::Semaphore,
        name,
        |o| o.create_semaphore(initial as u32, max as u32),
        Semaphore::already_existed,
        Object::Semaphore,
    )
}

/// `CreateSemaphoreA`: creates a semaphore with `lInitialCount` of `lMaximumCount` units
/// (`ERROR_INVALID_PARAMETER` unless 0 <= initial <= maximum and maximum > 0), or opens
/// the existing one of that name (`ERROR_ALREADY_EXISTS`; it keeps its count).
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES`; `name` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn CreateSemaphoreA(
    sa: *const SECURITY_ATTRIBUTES,
    initial: LONG,
    max: LONG,
    name: LPCSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        create_semaphore(sa, initial, max, unsafe { strings::narrow(name) }?)
    })
}

/// `CreateSemaphoreW`: [`CreateSemaphoreA`] with a wide name.
///
/// # Safety
/// As for [`CreateSemaphoreA`], with a wide name.
#[no_mangle]
pub unsafe extern "C" fn CreateSemaphoreW(
    sa: *const SECURITY_ATTRIBUTES,
    initial: LONG,
    max: LONG,
    name: LPCWSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        create_semaphore(sa, initial, max, unsafe { strings::wide(name) }?)
    })
}

/// `OpenSemaphoreA`: opens the semaphore `name`; `ERROR_FILE_NOT_FOUND` when there is
/// none.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn OpenSemaphoreA(access: DWORD, inherit: BOOL, name: LPCSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(
            access,
            inherit,
            unsafe { strings::narrow(name) }?,
            Semaphore::open,
            Object::Semaphore,
        )
    })
}

/// `OpenSemaphoreW`: [`OpenSemaphoreA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn OpenSemaphoreW(access: DWORD, inherit: BOOL, name: LPCWSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        open(
            access,
            inherit,
            unsafe { strings::wide(name) }?,
            Semaphore::open,
            Object::Semaphore,
        )
    })
}

/// `ReleaseSemaphore`: adds `lReleaseCount` (> 0) units and stores the count before;
/// past the maximum it fails with `ERROR_TOO_MANY_POSTS` and changes nothing.
///
/// # Safety
/// `previous` is NULL or points to a writable LONG.
#[no_mangle]
pub unsafe extern "C" fn ReleaseSemaphore(h: HANDLE, count: LONG, previous: *mut LONG) -> BOOL {
    ffi(FALSE, || {
        let s = semaphore(h)?;
        if count <= 0 {
            return error::fail(err::INVALID_PARAMETER);
        }
        let before = s.release(count as u32)?;
        if !previous.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { *previous = before as LONG };
        }
        Ok(TRUE)
    })
}
