//! The kernel objects of a channel and their names: the timer that holds the name, the
//! ring section (made and initialised, or waited for), and the wake-up events and the
//! senders' mutex (see the parent module's table).

use super::super::persist;
use super::super::section;
use super::super::security::{self, Descriptor, Rights};
use super::super::sync::kernel;
use super::super::sys::{self, code_of, last_error, wide};
use super::super::view::RawView;
use super::{corrupt, PAGE, PERMISSIONS_AT, RING_AT};
use crate::channel::control::{Control, MAGIC, MAGIC_AT, MAX_MESSAGE_AT, PRODUCERS_AT, SIZE_AT};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Kind};
use crate::name::{quoted, Name, MAX_NAME_LEN};
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{ERROR_ALREADY_EXISTS, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::{
    READ_CONTROL, STANDARD_RIGHTS_REQUIRED, SYNCHRONIZE,
};
use windows_sys::Win32::System::Memory::{
    FILE_MAP_READ, FILE_MAP_WRITE, PAGE_READWRITE, SECTION_QUERY, SEC_COMMIT,
};
use windows_sys::Win32::System::Threading::{
    CreateEventExW, CreateMutexExW, CreateWaitableTimerExW, OpenWaitableTimerW, EVENT_MODIFY_STATE,
    TIMER_MODIFY_STATE, TIMER_QUERY_STATE,
};

/// How long an end waits for another process to finish making the channel, or for the
/// parts of an earlier channel of the same name to go.
const PATIENCE: Duration = Duration::from_secs(5);
/// How long an end waits for a ring before it lets go of the name and looks again.
const LOOK_AGAIN: Duration = Duration::from_millis(50);

/// A part's name is at least this long: longer than any name shmkit accepts.
const PART_NAME_UNITS: usize = MAX_NAME_LEN + "Local\\".len() + 1;

/// The rights "read" and "write" grant on the timer that holds a channel's name.
const TIMER_RIGHTS: Rights = Rights {
    read: SYNCHRONIZE | TIMER_QUERY_STATE,
    write: TIMER_MODIFY_STATE,
    owner_extra: STANDARD_RIGHTS_REQUIRED,
};
/// What an end asks of the timer: read and write (SPEC 9.1).
const TIMER_OPEN: u32 = SYNCHRONIZE | TIMER_QUERY_STATE | TIMER_MODIFY_STATE;
/// What an end asks of the ring section.
pub(super) const SECTION_OPEN: u32 = SECTION_QUERY | FILE_MAP_READ | FILE_MAP_WRITE;
/// What an end asks of an event: waiting and setting.
const EVENT_OPEN: u32 = SYNCHRONIZE | EVENT_MODIFY_STATE;
/// What a sender asks of the claim mutex: waiting, and the query of its owner.
const MUTEX_OPEN: u32 = SYNCHRONIZE | 0x1; // MUTANT_QUERY_STATE

/// The ring section of a channel, mapped, before an end attaches.
pub(super) struct Ring {
    pub(super) control: Control,
    pub(super) section: OwnedHandle,
    pub(super) view: RawView,
    pub(super) permissions: u32,
}

/// The 64-bit word at `at` of the control page of `view`, before the page describes a
/// ring (while it is made, or waited for).
fn control_word(view: &RawView, at: u64) -> &AtomicU64 {
    assert!(at % 8 == 0 && at + 8 <= PAGE);
    // SAFETY: inside the view's first page (the view is longer than the page),
    // 8-aligned (views are page-aligned); the view lives as long as the borrow; every
    // bit pattern is a valid u64.
    unsafe { &*view.as_ptr().add(at as usize).cast::<AtomicU64>() }
}

/// The control of a mapped ring section whose page says it holds a ring of `size` bytes.
pub(super) fn control_of(view: &RawView, size: u64) -> std::result::Result<Control, &'static str> {
    let base = std::ptr::NonNull::new(view.as_ptr()).ok_or("its view is at 0")?;
    if RING_AT
        .checked_add(size)
        .is_none_or(|n| n > view.len() as u64)
    {
        return Err("its ring section is shorter than its control page says");
    }
    // SAFETY: the control page is the view's first page and the ring the `size` bytes
    // after it (checked against the view's length); `Control` goes before the view in
    // every struct that holds both, so the view outlives it.
    unsafe { Control::attach(base, base.add(RING_AT as usize), size) }
}

fn wrong_type(name: &Name) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind, not a channel",
            quoted(name.as_str())
        ),
    )
}

/// A failed call on the channel's name or one of its parts.
fn call_error(e: io::Error, name: &Name, doing: &str) -> Error {
    match code_of(&e) {
        code::INVALID_HANDLE => wrong_type(name),
        code::ACCESS_DENIED => Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{doing}: access denied by the channel's permissions (an end needs read and write)"
            ),
        ),
        code::FILE_NOT_FOUND => Error::new(
            ErrorKind::NotFound,
            format!("{doing}: no channel has that name"),
        ),
        _ => Error::from_io(e, doing.to_owned()),
    }
}

/// The name of the part `part` of channel `name` (see the module's notes).
pub(super) fn part_name(name: &Name, part: &str) -> Vec<u16> {
    let mut s = format!("{}#{part}", name.full());
    let units = s.encode_utf16().count();
    s.extend(std::iter::repeat_n(
        '.',
        PART_NAME_UNITS.saturating_sub(units),
    ));
    wide(&s)
}

/// Creates the timer that holds the channel's name, or opens it; whether it existed.
pub(super) fn create_timer(
    name: &Name,
    permissions: u32,
    doing: &str,
) -> Result<(OwnedHandle, bool)> {
    let sd = Descriptor::new(permissions, TIMER_RIGHTS, true)
        .map_err(|e| Error::from_io(e, doing.to_owned()))?;
    let sa = sd.attributes(false);
    let w = wide(&name.full());
    // SAFETY: `sa` and the NUL-terminated `w` outlive the call; the handle is owned below.
    // READ_CONTROL: the squatting check of a timer that exists reads its owner.
    let h = unsafe { CreateWaitableTimerExW(&sa, w.as_ptr(), 0, TIMER_OPEN | READ_CONTROL) };
    let status = last_error();
    let timer = sys::owned(h).map_err(|e| call_error(e, name, doing))?;
    let existed = code_of(&status) == ERROR_ALREADY_EXISTS;
    if existed && !owned_by_caller(&timer, doing)? {
        return Err(squatted(doing));
    }
    Ok((timer, existed))
}

fn open_timer(name: &Name, doing: &str) -> Result<OwnedHandle> {
    let w = wide(&name.full());
    // SAFETY: the NUL-terminated `w` outlives the call; the handle is owned below.
    let h = unsafe { OpenWaitableTimerW(TIMER_OPEN, 0, w.as_ptr()) };
    sys::owned(h).map_err(|e| call_error(e, name, doing))
}

fn owned_by_caller(h: &OwnedHandle, doing: &str) -> Result<bool> {
    security::owned_by_caller(h.as_raw_handle(), false).map_err(|e| Error::from_io(e, doing))
}

fn squatted(doing: &str) -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        format!(
            "{doing}: the name is held by another user's object; refusing a name another \
             user may have squatted (use open to use another user's object on purpose)"
        ),
    )
}

/// The shape a creator asks for.
pub(super) struct Shape {
    pub(super) size: u64,
    pub(super) max_message: u64,
    pub(super) producers: u32,
    pub(super) permissions: u32,
}

/// Makes and initialises the ring section of a channel whose timer this process just
/// made. A section still there is an earlier channel's, going with a holder that is
/// being torn down: wait for it to go.
fn make_ring(name: &Name, shape: &Shape, doing: &str, deadline: Instant) -> Result<Ring> {
    let total = RING_AT + shape.size;
    let sd = Descriptor::new(shape.permissions, section::RIGHTS, true)
        .map_err(|e| Error::from_io(e, doing.to_owned()))?;
    let sa = sd.attributes(false);
    let w = part_name(name, "ring");
    let section = loop {
        match section::create(
            INVALID_HANDLE_VALUE as RawHandle,
            Some(&sa),
            PAGE_READWRITE | SEC_COMMIT,
            total,
            Some(&w),
        ) {
            Ok((s, status)) if status != ERROR_ALREADY_EXISTS => break s,
            // Still there (the handle closes at once, so as not to hold it), another
            // user's, or an object of another kind under the part's name.
            Ok(_) => {}
            Err(e) if matches!(code_of(&e), code::ACCESS_DENIED | code::INVALID_HANDLE) => {}
            Err(e) => return Err(section::error(e, None, total, doing)),
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Busy,
                format!(
                    "{doing}: the ring of an earlier channel of that name is still held (by a \
                     process being torn down, or by a program outside shmkit)"
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let view = RawView::map(&section, 0, total as usize, Access::ReadWrite)
        .map_err(|e| Error::from_io(e, format!("mapping the ring of {doing}")))?;
    control_word(&view, SIZE_AT).store(shape.size, SeqCst);
    control_word(&view, MAX_MESSAGE_AT).store(shape.max_message, SeqCst);
    control_word(&view, PRODUCERS_AT).store(u64::from(shape.producers), SeqCst);
    control_word(&view, PERMISSIONS_AT).store(u64::from(shape.permissions), SeqCst);
    // The ready word, last: openers wait for it.
    control_word(&view, MAGIC_AT).store(MAGIC, SeqCst);
    let control = control_of(&view, shape.size).map_err(|why| corrupt(doing, why))?;
    Ok(Ring {
        control,
        section,
        view,
        permissions: shape.permissions,
    })
}

/// Opens the ring section of a channel another process made, once it is ready: `None`
/// when there is none yet, or it is not ready after [`LOOK_AGAIN`].
fn open_ring(name: &Name, what: &str, doing: &str) -> Result<Option<Ring>> {
    let w = part_name(name, "ring");
    let until = Instant::now() + LOOK_AGAIN;
    let section = loop {
        // SAFETY: the NUL-terminated `w` outlives the call; the handle is owned below.
        let h = unsafe {
            windows_sys::Win32::System::Memory::OpenFileMappingW(SECTION_OPEN, 0, w.as_ptr())
        };
        match sys::owned(h) {
            Ok(s) => break s,
            Err(e) if code_of(&e) == code::FILE_NOT_FOUND => {
                if Instant::now() >= until {
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(call_error(e, name, doing)),
        }
    };
    let len =
        section::size(section.as_raw_handle()).map_err(|e| Error::from_io(e, doing.to_owned()))?;
    if !(RING_AT + 64..=isize::MAX as u64).contains(&len) {
        return Err(corrupt(what, "its ring section has an impossible size"));
    }
    let view = RawView::map(&section, 0, len as usize, Access::ReadWrite)
        .map_err(|e| Error::from_io(e, format!("mapping the ring of {what}")))?;
    loop {
        match control_word(&view, MAGIC_AT).load(SeqCst) {
            MAGIC => break,
            0 if Instant::now() < until => std::thread::sleep(Duration::from_millis(1)),
            0 => return Ok(None),
            _ => return Err(corrupt(what, "its control page does not describe a ring")),
        }
    }
    let size = control_word(&view, SIZE_AT).load(SeqCst);
    let permissions = control_word(&view, PERMISSIONS_AT).load(SeqCst);
    if permissions > 0o777 {
        return Err(corrupt(what, "its control page does not describe a ring"));
    }
    let control = control_of(&view, size).map_err(|why| corrupt(what, why))?;
    Ok(Some(Ring {
        control,
        section,
        view,
        permissions: permissions as u32,
    }))
}

/// SPEC 9.1: create-or-open (with `shape`) or open the channel's name and ring; whether
/// the channel existed.
pub(super) fn connect(
    name: &Name,
    shape: Option<&Shape>,
    what: &str,
) -> Result<(OwnedHandle, Ring, bool)> {
    let doing = match shape {
        Some(_) => format!("creating {what}"),
        None => format!("opening {what}"),
    };
    // A persistent mapping holds its name through a file, not a live object.
    if persist::exists(name) {
        return Err(wrong_type(name));
    }
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (timer, existed) = match shape {
            Some(s) => create_timer(name, s.permissions, &doing)?,
            None => (open_timer(name, &doing)?, true),
        };
        let ring = match (existed, shape) {
            (false, Some(s)) => Some(make_ring(name, s, &doing, deadline)?),
            _ => open_ring(name, what, &doing)?,
        };
        if let Some(ring) = ring {
            return Ok((timer, ring, existed));
        }
        // No ready ring: its maker is slow, or died half-way. Let go of the name (the
        // last holder of a half-made channel makes it go) and look again.
        drop(timer);
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Busy,
                format!("{doing}: its creator did not finish making it"),
            ));
        }
    }
}

/// Creates or opens one of the channel's events or its mutex, with the channel's
/// permissions; `fresh` (this process made the channel) refuses another user's object.
pub(super) fn sync_part(
    name: &Name,
    part: &str,
    kind: Kind,
    permissions: u32,
    fresh: bool,
    doing: &str,
) -> Result<OwnedHandle> {
    let sd = Descriptor::new(permissions, kernel::rights(kind), true)
        .map_err(|e| Error::from_io(e, doing.to_owned()))?;
    let sa = sd.attributes(false);
    let w = part_name(name, part);
    let extra = if fresh { READ_CONTROL } else { 0 };
    // SAFETY: `sa` and the NUL-terminated `w` outlive the call; flags 0 make an
    // auto-reset event that is not set, or a mutex no one owns.
    let h = unsafe {
        if kind == Kind::Mutex {
            CreateMutexExW(&sa, w.as_ptr(), 0, MUTEX_OPEN | extra)
        } else {
            CreateEventExW(&sa, w.as_ptr(), 0, EVENT_OPEN | extra)
        }
    };
    let status = last_error();
    let h = sys::owned(h).map_err(|e| match code_of(&e) {
        code::INVALID_HANDLE => corrupt(doing, "a part of it is an object of another kind"),
        _ => call_error(e, name, doing),
    })?;
    if fresh && code_of(&status) == ERROR_ALREADY_EXISTS && !owned_by_caller(&h, doing)? {
        return Err(squatted(doing));
    }
    Ok(h)
}
