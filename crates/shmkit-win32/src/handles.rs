//! The process-wide handle table, handle inheritance, `CloseHandle` and `DuplicateHandle`.
//!
//! A handle value is a key of the table: a multiple of 4 from 0x40 on, never reused, so
//! a closed or made-up value is always `ERROR_INVALID_HANDLE`, never a crash. Objects
//! live behind `Arc`s: a call takes its object out of the table and works on it without
//! holding the table's lock, so a blocking wait never stalls another thread's calls.

use crate::error::{self, ffi, Result};
use crate::file::FileObject;
use crate::process::ProcessObject;
use crate::types::*;
use shmkit::sync::{Event, Mutex as SyncMutex, Semaphore};
use shmkit::{Mapping, View};
use std::collections::{BTreeMap, HashMap};
use std::os::fd::{FromRawFd, RawFd};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The environment variable that hands inherited handles to a child: one line per
/// handle, `VALUE KIND TOKEN`, the token being shmkit's inheritance token (or, for
/// files, the inherited descriptor's number).
pub(crate) const INHERIT_VAR: &str = "SHMKIT_WIN32_HANDLES";

const FIRST_HANDLE: usize = 0x40;

/// What a handle names.
#[derive(Clone)]
pub(crate) enum Object {
    Mapping(Arc<Mapping>),
    File(Arc<FileObject>),
    Process(Arc<ProcessObject>),
    /// A process's main thread: waits and exit codes are the process's.
    Thread(Arc<ProcessObject>),
    Mutex(Arc<SyncMutex>),
    Event(Arc<Event>),
    Semaphore(Arc<Semaphore>),
}

impl Object {
    fn kind(&self) -> &'static str {
        match self {
            Object::Mapping(_) => "mapping",
            Object::File(_) => "file",
            Object::Process(_) => "process",
            Object::Thread(_) => "thread",
            Object::Mutex(_) => "mutex",
            Object::Event(_) => "event",
            Object::Semaphore(_) => "semaphore",
        }
    }

    /// An independent handle to the same object (`DuplicateHandle`).
    fn duplicate(&self) -> Result<Object> {
        Ok(match self {
            Object::Mapping(m) => Object::Mapping(Arc::new(m.try_clone()?)),
            Object::File(f) => Object::File(Arc::new(f.try_clone()?)),
            Object::Process(p) => Object::Process(p.clone()),
            Object::Thread(p) => Object::Thread(p.clone()),
            Object::Mutex(m) => Object::Mutex(Arc::new(m.try_clone()?)),
            Object::Event(e) => Object::Event(Arc::new(e.try_clone()?)),
            Object::Semaphore(s) => Object::Semaphore(Arc::new(s.try_clone()?)),
        })
    }
}

struct Entry {
    object: Object,
    inheritable: bool,
}

/// A mapped view and the protection it was mapped with.
pub(crate) struct ViewEntry {
    pub view: View,
    pub protect: DWORD,
}

pub(crate) struct Table {
    next: usize,
    entries: HashMap<usize, Entry>,
    /// Views by base address.
    pub views: BTreeMap<usize, ViewEntry>,
}

impl Table {
    /// The view that contains `addr`.
    pub(crate) fn view_at(&self, addr: usize) -> Option<(usize, &ViewEntry)> {
        let (&base, entry) = self.views.range(..=addr).next_back()?;
        (addr < base + entry.view.len()).then_some((base, entry))
    }
}

fn table_cell() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Table {
            next: FIRST_HANDLE,
            entries: HashMap::new(),
            views: BTreeMap::new(),
        };
        import_inherited(&mut table);
        Mutex::new(table)
    })
}

/// The table, locked. A panic while it was held cannot leave it inconsistent (every
/// change is one map operation), so a poisoned lock is simply taken over.
pub(crate) fn table() -> MutexGuard<'static, Table> {
    table_cell().lock().unwrap_or_else(|p| p.into_inner())
}

/// Builds the table now: called when the library loads.
pub(crate) fn init() {
    drop(table());
}

/// Rebuilds the handles a parent passed in [`INHERIT_VAR`], under their values, and
/// removes the variable so that this process's own children do not see stale tokens.
fn import_inherited(table: &mut Table) {
    let Some(list) = std::env::var_os(INHERIT_VAR) else {
        return;
    };
    std::env::remove_var(INHERIT_VAR);
    let list = list.to_string_lossy().into_owned();
    for line in list.lines() {
        let mut parts = line.splitn(3, ' ');
        let (Some(value), Some(kind), Some(token)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(value) = usize::from_str_radix(value, 16) else {
            continue;
        };
        let object = match kind {
            "mapping" => Mapping::from_inherited(token)
                .ok()
                .map(|m| Object::Mapping(Arc::new(m))),
            "file" => inherited_file(token).map(|f| Object::File(Arc::new(f))),
            "mutex" => SyncMutex::from_inherited(token)
                .ok()
                .map(|m| Object::Mutex(Arc::new(m))),
            "event" => Event::from_inherited(token)
                .ok()
                .map(|e| Object::Event(Arc::new(e))),
            "semaphore" => Semaphore::from_inherited(token)
                .ok()
                .map(|s| Object::Semaphore(Arc::new(s))),
            _ => None,
        };
        if let Some(object) = object {
            table.entries.insert(
                value,
                Entry {
                    object,
                    inheritable: true,
                },
            );
            table.next = table.next.max(value + 4);
        }
    }
}

fn inherited_file(token: &str) -> Option<FileObject> {
    let fd: RawFd = token.parse().ok()?;
    // SAFETY: F_GETFD only inspects the descriptor number; a closed one fails (EBADF).
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if fd < 3 || flags < 0 || flags & libc::FD_CLOEXEC != 0 {
        return None;
    }
    // SAFETY: F_SETFD on a descriptor known to be open.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: the descriptor is open and was inherited without close-on-exec, so nothing
    // else in this process owns it: the parent handed it to this handle.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    Some(FileObject::new(file, None))
}

/// Adds an object; returns its new handle.
pub(crate) fn insert(object: Object, inheritable: bool) -> HANDLE {
    let mut t = table();
    let value = t.next;
    t.next += 4;
    t.entries.insert(
        value,
        Entry {
            object,
            inheritable,
        },
    );
    value as HANDLE
}

/// The object `h` names; `ERROR_INVALID_HANDLE` for anything else.
pub(crate) fn get(h: HANDLE) -> Result<Object> {
    match table().entries.get(&(h as usize)) {
        Some(e) => Ok(e.object.clone()),
        None => error::fail(err::INVALID_HANDLE),
    }
}

/// The mapping `h` names (`ERROR_INVALID_HANDLE` for another kind, as Windows says).
pub(crate) fn mapping(h: HANDLE) -> Result<Arc<Mapping>> {
    match get(h)? {
        Object::Mapping(m) => Ok(m),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

/// The file `h` names.
pub(crate) fn file(h: HANDLE) -> Result<Arc<FileObject>> {
    match get(h)? {
        Object::File(f) => Ok(f),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

fn is_pseudo(h: HANDLE) -> bool {
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

/// Hands every inheritable handle to the child `cmd` will start, and sets the variable
/// that tells the child's library their values.
pub(crate) fn share_inheritable(cmd: &mut Command) -> Result<()> {
    let shared: Vec<(usize, Object)> = table()
        .entries
        .iter()
        .filter(|(_, e)| e.inheritable)
        .map(|(&v, e)| (v, e.object.clone()))
        .collect();
    let mut lines = String::new();
    for (value, object) in shared {
        let token = match &object {
            Object::Mapping(m) => m.share_with(cmd)?,
            Object::File(f) => f.share_with(cmd)?,
            Object::Mutex(m) => m.share_with(cmd)?,
            Object::Event(e) => e.share_with(cmd)?,
            Object::Semaphore(s) => s.share_with(cmd)?,
            // A process handle means nothing in another process.
            Object::Process(_) | Object::Thread(_) => continue,
        };
        lines.push_str(&format!("{value:x} {} {token}\n", object.kind()));
    }
    if lines.is_empty() {
        cmd.env_remove(INHERIT_VAR);
    } else {
        cmd.env(INHERIT_VAR, lines);
    }
    Ok(())
}

/// `CloseHandle`: closes a handle. The object goes when its last handle (in every
/// process) has closed; views of a mapping stay valid until unmapped.
///
/// A handle that is closed or was never valid is `ERROR_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn CloseHandle(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        if is_pseudo(h) {
            return Ok(TRUE);
        }
        let entry = table().entries.remove(&(h as usize));
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
/// (both process handles must name it). `DUPLICATE_CLOSE_SOURCE` closes the source;
/// `bInheritHandle` makes the new handle inheritable. The new handle has the source's
/// access (`dwDesiredAccess` is not used to narrow it).
///
/// # Safety
/// `target` is NULL or points to a writable `HANDLE`.
#[no_mangle]
pub unsafe extern "C" fn DuplicateHandle(
    source_process: HANDLE,
    source: HANDLE,
    target_process: HANDLE,
    target: *mut HANDLE,
    _desired_access: DWORD,
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
            inherit,
            options,
        );
        if close_source && !is_pseudo(source) {
            let entry = table().entries.remove(&(source as usize));
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
    let object = if source == INVALID_HANDLE_VALUE {
        Object::Process(Arc::new(ProcessObject::current()))
    } else {
        get(source)?
    };
    if target.is_null() {
        if options & DUPLICATE_CLOSE_SOURCE != 0 {
            return Ok(TRUE);
        }
        return error::fail(err::INVALID_PARAMETER);
    }
    let copy = object.duplicate()?;
    let h = insert(copy, inherit != 0);
    // SAFETY: `target` is non-NULL and writable, by the caller's contract.
    unsafe { *target = h };
    Ok(TRUE)
}
