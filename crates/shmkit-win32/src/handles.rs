//! The process-wide handle table, `CloseHandle` and `DuplicateHandle`.
//!
//! A handle value is a key of the table: a multiple of 4 from 0x40 on, never reused, so
//! a closed or made-up value is always `ERROR_INVALID_HANDLE`, never a crash. As on
//! Windows (and in Wine), the two low bits of a value are not part of it: programs may
//! keep tags there, and `h | 1` names the same object as `h`. The pseudo handles
//! `GetCurrentProcess()` (-1) and `GetCurrentThread()` (-2) name the caller's process and
//! thread wherever a handle is taken. Objects
//! live behind `Arc`s: a call takes its object out of the table and works on it without
//! holding the table's lock, so a blocking wait never stalls another thread's calls.

use crate::access;
use crate::error::{self, ffi, Result};
use crate::inherit;
use crate::objects::{FileObject, MappingObject, Object, ProcessObject};
use crate::types::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

const FIRST_HANDLE: usize = 0x40;

struct Entry {
    object: Object,
    inheritable: bool,
    /// `HANDLE_FLAG_PROTECT_FROM_CLOSE`: `CloseHandle` refuses the handle.
    protected: bool,
    /// The access the handle was granted (`access`): what it may do.
    access: DWORD,
}

/// The table key of a handle value: its two low bits are ignored, as Windows does.
pub(crate) fn key(h: HANDLE) -> usize {
    h as usize & !3
}

pub(crate) struct Table {
    next: usize,
    entries: HashMap<usize, Entry>,
}

fn table_cell() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Table {
            next: FIRST_HANDLE,
            entries: HashMap::new(),
        };
        // The handles a parent passed keep their values: they are in the table before
        // any handle is made here.
        for (value, object, access) in inherit::take_from_environment() {
            table.entries.insert(
                value,
                Entry {
                    object,
                    inheritable: true,
                    protected: false,
                    access,
                },
            );
            table.next = table.next.max(value + 4);
        }
        Mutex::new(table)
    })
}

/// The table, locked. A panic while it was held cannot leave it inconsistent (every
/// change is one map operation), so a poisoned lock is simply taken over. While a thread
/// holds it, `SuspendThread` and `TerminateThread` of that thread wait until it lets go
/// (`threadctl::Unstoppable`): no stopped thread keeps the table from the others.
pub(crate) fn table() -> TableGuard {
    let unstoppable = crate::threadctl::Unstoppable::new();
    TableGuard {
        guard: table_cell().lock().unwrap_or_else(|p| p.into_inner()),
        _unstoppable: unstoppable,
    }
}

/// The locked table. Its fields drop in order: the lock is released, then the thread
/// may be stopped.
pub(crate) struct TableGuard {
    guard: MutexGuard<'static, Table>,
    _unstoppable: crate::threadctl::Unstoppable,
}

impl std::ops::Deref for TableGuard {
    type Target = Table;
    fn deref(&self) -> &Table {
        &self.guard
    }
}

impl std::ops::DerefMut for TableGuard {
    fn deref_mut(&mut self) -> &mut Table {
        &mut self.guard
    }
}

/// Builds the table now: called when the library loads.
pub(crate) fn init() {
    drop(table());
}

/// Adds an object with every access of its kind (a created object's handle); returns
/// its new handle.
pub(crate) fn insert(object: Object, inheritable: bool) -> HANDLE {
    let access = access::all(object.class());
    insert_with_access(object, inheritable, access)
}

/// Adds an object whose handle is granted `access`; returns its new handle.
pub(crate) fn insert_with_access(object: Object, inheritable: bool, access: DWORD) -> HANDLE {
    let mut t = table();
    let value = t.next;
    t.next += 4;
    t.entries.insert(
        value,
        Entry {
            object,
            inheritable,
            protected: false,
            access,
        },
    );
    value as HANDLE
}

/// The object `h` names (the calling process for -1, the calling thread for -2);
/// `ERROR_INVALID_HANDLE` for anything else.
pub(crate) fn get(h: HANDLE) -> Result<Object> {
    get_with_access(h).map(|(object, _)| object)
}

/// The object `h` names and the access its handle was granted (every access of its
/// kind for the pseudo handles).
pub(crate) fn get_with_access(h: HANDLE) -> Result<(Object, DWORD)> {
    if h == INVALID_HANDLE_VALUE {
        let object = Object::Process(Arc::new(ProcessObject::current()));
        return Ok((object, access::all(access::Class::Process)));
    }
    if h as usize == CURRENT_THREAD {
        let object = Object::Thread(Arc::new(ProcessObject::current_thread()));
        return Ok((object, access::all(access::Class::Process)));
    }
    match table().entries.get(&key(h)) {
        Some(e) => Ok((e.object.clone(), e.access)),
        None => error::fail(err::INVALID_HANDLE),
    }
}

/// The mapping `h` names (`ERROR_INVALID_HANDLE` for another kind, as Windows says) and
/// its handle's access.
pub(crate) fn mapping(h: HANDLE) -> Result<(Arc<MappingObject>, DWORD)> {
    match get_with_access(h)? {
        (Object::Mapping(m), access) => Ok((m, access)),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

/// The file `h` names.
pub(crate) fn file(h: HANDLE) -> Result<Arc<FileObject>> {
    file_with_access(h).map(|(f, _)| f)
}

/// The file `h` names and its handle's access.
pub(crate) fn file_with_access(h: HANDLE) -> Result<(Arc<FileObject>, DWORD)> {
    match get_with_access(h)? {
        (Object::File(f), access) => Ok((f, access)),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

pub(crate) fn is_pseudo(h: HANDLE) -> bool {
    h == INVALID_HANDLE_VALUE || h as usize == CURRENT_THREAD
}

/// Whether `h` names the calling process (its pseudo handle or a handle to itself).
pub(crate) fn is_current_process(h: HANDLE) -> Result<bool> {
    if h == INVALID_HANDLE_VALUE {
        return Ok(true);
    }
    match get(h)? {
        Object::Process(p) => Ok(p.is_current()),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

/// Every inheritable handle, with its value and access (what `CreateProcess` hands a
/// child).
pub(crate) fn inheritable() -> Vec<(usize, Object, DWORD)> {
    table()
        .entries
        .iter()
        .filter(|(_, e)| e.inheritable)
        .map(|(&v, e)| (v, e.object.clone(), e.access))
        .collect()
}

/// `CloseHandle`: closes a handle. The object goes when its last handle (in every
/// process) has closed; views of a mapping stay valid until unmapped.
///
/// A handle that is closed or was never valid is `ERROR_INVALID_HANDLE`, and so is one
/// protected with `HANDLE_FLAG_PROTECT_FROM_CLOSE` (which stays open). Closing a pseudo
/// handle (`GetCurrentProcess()`, `GetCurrentThread()`) succeeds and does nothing.
#[no_mangle]
pub extern "C" fn CloseHandle(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        if is_pseudo(h) {
            return Ok(TRUE);
        }
        let entry = {
            let mut t = table();
            if t.entries.get(&key(h)).is_some_and(|e| e.protected) {
                return error::fail(err::INVALID_HANDLE);
            }
            t.entries.remove(&key(h))
        };
        match entry {
            // Dropped here, outside the table's lock: the last close of a named object
            // removes its name from the store.
            Some(entry) => {
                drop(entry);
                Ok(TRUE)
            }
            None => error::fail(err::INVALID_HANDLE),
        }
    })
}

/// `DuplicateHandle`: another handle to the same object, within the calling process
/// (both process handles must name it). Duplicating `GetCurrentProcess()` or
/// `GetCurrentThread()` gives a real handle to the process or the calling thread (the
/// thread's is signalled when that thread ends). `DUPLICATE_CLOSE_SOURCE` closes the source;
/// `bInheritHandle` makes the new handle inheritable. `DUPLICATE_SAME_ACCESS` gives the
/// new handle the source's access; otherwise it is granted `dwDesiredAccess` (generic
/// rights mapped to the kind's own), which may be narrower or wider than the source's,
/// as for any object the caller owns.
///
/// # Safety
/// `target` is NULL or points to a writable `HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn DuplicateHandle(
    source_process: HANDLE,
    source: HANDLE,
    target_process: HANDLE,
    target: *mut HANDLE,
    desired_access: DWORD,
    inherit: BOOL,
    options: DWORD,
) -> BOOL {
    ffi(FALSE, || {
        let close_source = options & DUPLICATE_CLOSE_SOURCE != 0;
        let result = duplicate(
            source_process,
            source,
            target_process,
            target,
            desired_access,
            inherit,
            options,
        );
        if close_source && !is_pseudo(source) {
            let entry = table().entries.remove(&key(source));
            drop(entry);
        }
        result
    })
}

fn duplicate(
    source_process: HANDLE,
    source: HANDLE,
    target_process: HANDLE,
    target: *mut HANDLE,
    desired_access: DWORD,
    inherit: BOOL,
    options: DWORD,
) -> Result<BOOL> {
    if !is_current_process(source_process)? || !is_current_process(target_process)? {
        // Handles cannot be planted in another process: only inheritance crosses over.
        return error::fail(err::NOT_SUPPORTED);
    }
    if options & !(DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS) != 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    // The pseudo handles give a real handle to the calling process or thread.
    let (object, source_access) = get_with_access(source)?;
    if target.is_null() {
        if options & DUPLICATE_CLOSE_SOURCE != 0 {
            return Ok(TRUE);
        }
        return error::fail(err::INVALID_PARAMETER);
    }
    let access = if options & DUPLICATE_SAME_ACCESS != 0 {
        source_access
    } else {
        access::granted(object.class(), desired_access)
    };
    let copy = object.duplicate()?;
    let h = insert_with_access(copy, inherit != 0, access);
    // SAFETY: `target` is non-NULL and writable, by the caller's contract.
    unsafe { *target = h };
    Ok(TRUE)
}

/// `GetHandleInformation`: the handle's flags, `HANDLE_FLAG_INHERIT` and
/// `HANDLE_FLAG_PROTECT_FROM_CLOSE`.
///
/// # Safety
/// `flags` is NULL or points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn GetHandleInformation(h: HANDLE, flags: *mut DWORD) -> BOOL {
    ffi(FALSE, || {
        let value = {
            let t = table();
            let Some(e) = t.entries.get(&key(h)) else {
                return error::fail(err::INVALID_HANDLE);
            };
            let mut v = 0;
            if e.inheritable {
                v |= HANDLE_FLAG_INHERIT;
            }
            if e.protected {
                v |= HANDLE_FLAG_PROTECT_FROM_CLOSE;
            }
            v
        };
        if flags.is_null() {
            return error::fail(err::NOACCESS);
        }
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { *flags = value };
        Ok(TRUE)
    })
}

/// `SetHandleInformation`: sets the flags of `mask` (`HANDLE_FLAG_INHERIT`,
/// `HANDLE_FLAG_PROTECT_FROM_CLOSE`) to their values in `flags`.
#[no_mangle]
pub extern "C" fn SetHandleInformation(h: HANDLE, mask: DWORD, flags: DWORD) -> BOOL {
    ffi(FALSE, || {
        let mut t = table();
        let Some(e) = t.entries.get_mut(&key(h)) else {
            return error::fail(err::INVALID_HANDLE);
        };
        if mask & HANDLE_FLAG_INHERIT != 0 {
            e.inheritable = flags & HANDLE_FLAG_INHERIT != 0;
        }
        if mask & HANDLE_FLAG_PROTECT_FROM_CLOSE != 0 {
            e.protected = flags & HANDLE_FLAG_PROTECT_FROM_CLOSE != 0;
        }
        Ok(TRUE)
    })
}
