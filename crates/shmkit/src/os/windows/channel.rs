//! Channels on Windows: a few kernel objects, one of them holding the channel's name.
//!
//! | object | name | what |
//! |---|---|---|
//! | waitable timer | the channel's name | holds the name; never set |
//! | section (`SEC_COMMIT`) | the part name of `ring` | the control page, then the ring (`crate::channel::ring`) |
//! | auto-reset event | the part name of `rx` | wakes the receiver |
//! | auto-reset event | the part name of `tx` | wakes a sender waiting for room |
//! | mutex | the part name of `claim` | the senders' turn (several producers only) |
//!
//! No other kind of shmkit object is a timer, so the one namespace does the rest: a
//! mapping, mutex, event or semaphore call on a channel's name, and a channel call on
//! theirs, meet an object of another type (ERROR_INVALID_HANDLE: WrongType). A part's
//! name is the channel's full name, `#` and the part, padded with `.` to more units than
//! any name shmkit accepts (266, `Local\` spelled out), so no object made or opened
//! through shmkit can take or reach a part. Every object gets the security descriptor of
//! the permission bits (`security`), with each kind's rights.
//!
//! Lifetime (SPEC 5) is the kernel's. An end opens the timer first and closes it last,
//! so while the name exists its parts are the ones of this channel; when the last end
//! closes, all go. A creator that makes the timer and finds a ring section still there
//! (a killed holder's handles being closed) waits for it to go, for at most
//! [`PATIENCE`]. A section is initialised by the creator of the timer, which writes the
//! shape and then the magic, the ready word; the others wait (as long) for the magic.
//! An opener that finds the timer but no ready ring (its maker died half-way) lets go
//! and looks again, so that a half-made channel goes with its last holder.
//!
//! The control page is the section's first page, `crate::channel::control`'s layout,
//! with the words it leaves to the backend used so:
//!
//! | bytes | what |
//! |---|---|
//! | 32 | the permission bits (every end makes the wake-up parts it misses with them) |
//! | 1024 + 8 × place | the end places: 0 the receiver, `1 + i` sender `i` |
//!
//! A place holds the attached process's id and a stamp of its start time (0: free). An
//! end takes a free place, or one whose process is dead, by compare-and-swap; closing
//! frees it. A process is alive while `OpenProcess` finds it, it has not exited and its
//! start time matches the stamp (a reused process id does not hold the place). Unlike
//! the Linux byte locks these words are shared memory: a peer that rewrites them can make
//! ends busy or gone, never reach outside the mapping (SPEC 9.8).

use super::inherit;
use super::persist;
use super::section;
use super::security::{self, Descriptor, Rights};
use super::sync::kernel;
use super::sys::{self, code_of, last_error, wide};
use super::view::RawView;
use crate::channel::control::{
    Control, Receiving, MAGIC, MAGIC_AT, MAX_MESSAGE_AT, MAX_PRODUCERS, PRODUCERS_AT, SIZE_AT,
};
use crate::channel::ring::{self, Ends};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Kind};
use crate::name::{label, quoted, Name, MAX_NAME_LEN};
use crate::os::ChannelRequest;
use crate::sync::lockword::Locked;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{
    ERROR_ALREADY_EXISTS, FILETIME, HANDLE, INVALID_HANDLE_VALUE, WAIT_ABANDONED, WAIT_OBJECT_0,
    WAIT_TIMEOUT,
};
use windows_sys::Win32::Storage::FileSystem::{
    READ_CONTROL, STANDARD_RIGHTS_REQUIRED, SYNCHRONIZE,
};
use windows_sys::Win32::System::Memory::{
    FILE_MAP_READ, FILE_MAP_WRITE, PAGE_READWRITE, SECTION_QUERY, SEC_COMMIT,
};
use windows_sys::Win32::System::Threading::{
    CreateEventExW, CreateMutexExW, CreateWaitableTimerExW, GetCurrentProcess, GetProcessTimes,
    OpenProcess, OpenWaitableTimerW, ReleaseMutex, SetEvent, WaitForSingleObject,
    EVENT_MODIFY_STATE, INFINITE, PROCESS_QUERY_LIMITED_INFORMATION, TIMER_MODIFY_STATE,
    TIMER_QUERY_STATE,
};

const PAGE: u64 = 4096;
const RING_AT: u64 = PAGE;

// The backend's own words of the control page (the table in the module documentation).
const PERMISSIONS_AT: u64 = 32;
const PLACES_AT: u64 = 1024;

/// The longest sleep before a waiting end looks at the other side's places again.
const RECHECK: Duration = Duration::from_millis(25);
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
const SECTION_OPEN: u32 = SECTION_QUERY | FILE_MAP_READ | FILE_MAP_WRITE;
/// What an end asks of an event: waiting and setting.
const EVENT_OPEN: u32 = SYNCHRONIZE | EVENT_MODIFY_STATE;
/// What a sender asks of the claim mutex: waiting, and the query of its owner.
const MUTEX_OPEN: u32 = SYNCHRONIZE | 0x1; // MUTANT_QUERY_STATE

/// Which end a handle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Receiver,
    Sender(u32),
}

impl End {
    fn place(self) -> u32 {
        match self {
            End::Receiver => 0,
            End::Sender(i) => 1 + i,
        }
    }
}

/// One open channel end. The fields close in this order: the view, the parts, then the
/// timer that holds the name.
pub(crate) struct ChannelHandle {
    /// Points into `view`, and goes first.
    control: Control,
    /// The section's view, kept mapped for `control`.
    _view: RawView,
    permissions: u32,
    end: End,
    /// Whether `end`'s place is taken by this handle.
    attached: bool,
    what: String,
    /// The senders' turn; senders of a channel with several producers only.
    claim: Option<OwnedHandle>,
    rx_event: OwnedHandle,
    tx_event: OwnedHandle,
    section: OwnedHandle,
    timer: OwnedHandle,
}

/// The ring section of a channel, mapped, before an end attaches.
struct Ring {
    control: Control,
    section: OwnedHandle,
    view: RawView,
    permissions: u32,
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
fn control_of(view: &RawView, size: u64) -> std::result::Result<Control, &'static str> {
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

fn corrupt(what: &str, why: &str) -> Error {
    Error::with_code(
        ErrorKind::Other,
        code::FILE_CORRUPT,
        format!("{what}: {why}; the channel is corrupt (a peer broke its protocol)"),
    )
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
fn part_name(name: &Name, part: &str) -> Vec<u16> {
    let mut s = format!("{}#{part}", name.full());
    let units = s.encode_utf16().count();
    s.extend(std::iter::repeat_n(
        '.',
        PART_NAME_UNITS.saturating_sub(units),
    ));
    wide(&s)
}

fn process_time(process: HANDLE) -> Option<u32> {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: plain FFI call; the four out pointers are valid FILETIMEs.
    let ok = unsafe { GetProcessTimes(process, &mut created, &mut exited, &mut kernel, &mut user) };
    let t = u64::from(created.dwHighDateTime) << 32 | u64::from(created.dwLowDateTime);
    (ok != 0).then_some((t ^ (t >> 32)) as u32)
}

/// This process's place word: its id and the stamp of its start time.
fn me() -> u64 {
    static ME: OnceLock<u64> = OnceLock::new();
    *ME.get_or_init(|| {
        // SAFETY: the pseudo-handle of the calling process needs no closing.
        let stamp = process_time(unsafe { GetCurrentProcess() }).unwrap_or(0);
        u64::from(std::process::id()) << 32 | u64::from(stamp)
    })
}

/// Whether the process of place word `word` still runs (see the module's notes). One
/// that cannot be asked (another user's, say) counts as alive.
fn alive(word: u64) -> bool {
    let me = me();
    if word == me {
        return true;
    }
    let pid = (word >> 32) as u32;
    if pid == (me >> 32) as u32 {
        return false; // an earlier process with this process's id
    }
    // SAFETY: plain FFI call; the handle it returns is owned below.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, 0, pid) };
    let process = match sys::owned(h) {
        Ok(p) => p,
        Err(e) => return code_of(&e) != code::INVALID_PARAMETER,
    };
    let raw = process.as_raw_handle() as HANDLE;
    // SAFETY: plain FFI call on a handle owned here.
    if unsafe { WaitForSingleObject(raw, 0) } == WAIT_OBJECT_0 {
        return false;
    }
    process_time(raw).is_none_or(|t| t == word as u32)
}

/// Milliseconds from now to `deadline`, rounded up (a wait never ends early), within
/// what one wait can express.
fn millis_until(deadline: Option<Instant>) -> u32 {
    deadline.map_or(INFINITE, |d| {
        let ms = d
            .saturating_duration_since(Instant::now())
            .as_nanos()
            .div_ceil(1_000_000);
        u32::try_from(ms).unwrap_or(INFINITE - 1).min(INFINITE - 1)
    })
}

/// Creates the timer that holds the channel's name, or opens it; whether it existed.
fn create_timer(name: &Name, permissions: u32, doing: &str) -> Result<(OwnedHandle, bool)> {
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
struct Shape {
    size: u64,
    max_message: u64,
    producers: u32,
    permissions: u32,
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
fn connect(name: &Name, shape: Option<&Shape>, what: &str) -> Result<(OwnedHandle, Ring, bool)> {
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
fn sync_part(
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

/// SPEC 9.1: create-or-open the channel, then attach the end `sender` says.
pub(crate) fn create_channel(
    req: &ChannelRequest<'_>,
    sender: bool,
) -> Result<(ChannelHandle, bool)> {
    let what = label(Kind::Channel, Some(req.name.as_str()));
    let size = ring::ring_size(req.capacity, req.max_message, PAGE)
        .filter(|s| {
            s.checked_add(RING_AT)
                .is_some_and(|n| n <= isize::MAX as u64)
        })
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "creating {what}: a capacity of {} bytes is too large",
                    req.capacity
                ),
            )
        })?;
    let shape = Shape {
        size,
        max_message: req.max_message,
        producers: req.producers,
        permissions: req.permissions,
    };
    let (timer, ring, existed) = connect(req.name, Some(&shape), &what)?;
    let end = if sender {
        End::Sender(0)
    } else {
        End::Receiver
    };
    Ok((attach(timer, ring, req.name, end, what, !existed)?, existed))
}

/// SPEC 9.1: opens the existing channel `name` and attaches an end.
pub(crate) fn open_channel(name: &Name, sender: bool) -> Result<ChannelHandle> {
    let what = label(Kind::Channel, Some(name.as_str()));
    let (timer, ring, _) = connect(name, None, &what)?;
    let end = if sender {
        End::Sender(0)
    } else {
        End::Receiver
    };
    attach(timer, ring, name, end, what, false)
}

/// Opens the wake-ups (and the senders' turn) and takes the end's place.
fn attach(
    timer: OwnedHandle,
    ring: Ring,
    name: &Name,
    end: End,
    what: String,
    fresh: bool,
) -> Result<ChannelHandle> {
    let doing = format!("attaching to {what}");
    let part = |part, kind| sync_part(name, part, kind, ring.permissions, fresh, &doing);
    let rx_event = part("rx", Kind::Event)?;
    let tx_event = part("tx", Kind::Event)?;
    let claim = match end {
        End::Sender(_) if ring.control.producers() > 1 => Some(part("claim", Kind::Mutex)?),
        _ => None,
    };
    let mut h = ChannelHandle {
        control: ring.control,
        _view: ring.view,
        permissions: ring.permissions,
        end,
        attached: false,
        what,
        claim,
        rx_event,
        tx_event,
        section: ring.section,
        timer,
    };
    h.take_end(end)?;
    Ok(h)
}

impl ChannelHandle {
    /// The word of end place `place` (at most `MAX_PRODUCERS`: inside the page).
    fn place(&self, place: u32) -> &AtomicU64 {
        self.control
            .u64_at(PLACES_AT + 8 * u64::from(place.min(MAX_PRODUCERS)))
    }

    /// Whether a live process holds place `place`.
    fn held(&self, place: u32) -> bool {
        let w = self.place(place).load(SeqCst);
        w != 0 && alive(w)
    }

    /// Takes place `place` if it is free or its process is dead.
    fn take_place(&self, place: u32) -> bool {
        let slot = self.place(place);
        let mut w = slot.load(SeqCst);
        loop {
            if w != 0 && alive(w) {
                return false;
            }
            match slot.compare_exchange(w, me(), SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => w = now,
            }
        }
    }

    /// Takes the end's place (a sender the first free one): Busy when taken.
    fn take_end(&mut self, end: End) -> Result<()> {
        let taken = match end {
            End::Receiver => self.take_place(0).then_some(End::Receiver),
            End::Sender(_) => (0..self.control.producers())
                .find(|&i| self.take_place(1 + i))
                .map(End::Sender),
        };
        let Some(e) = taken else {
            return Err(Error::new(
                ErrorKind::Busy,
                match end {
                    End::Receiver => format!("{}: another receiver is attached", self.what),
                    End::Sender(_) => format!(
                        "{}: all of its {} sender places are taken",
                        self.what,
                        self.control.producers()
                    ),
                },
            ));
        };
        self.end = e;
        self.attached = true;
        match e {
            End::Receiver => self.control.set_receiving(Receiving::Attached),
            End::Sender(_) => self.control.set_sender_ever(),
        }
        Ok(())
    }

    /// Another sender on the same channel (SPEC 9.3: Busy when every place is taken).
    pub(crate) fn another_sender(&self) -> Result<ChannelHandle> {
        let doing = format!("adding a sender to {}", self.what);
        let dup = |h: &OwnedHandle| {
            inherit::duplicate(h.as_raw_handle(), false).map_err(|e| Error::from_io(e, &*doing))
        };
        let section = dup(&self.section)?;
        let len = RING_AT + self.control.geometry().size;
        let view = RawView::map(&section, 0, len as usize, Access::ReadWrite)
            .map_err(|e| Error::from_io(e, &*doing))?;
        let control = control_of(&view, self.control.geometry().size)
            .map_err(|why| corrupt(&self.what, why))?;
        let claim = match &self.claim {
            Some(c) => Some(dup(c)?),
            None => None,
        };
        let mut h = ChannelHandle {
            control,
            _view: view,
            permissions: self.permissions,
            end: End::Sender(0),
            attached: false,
            what: self.what.clone(),
            claim,
            rx_event: dup(&self.rx_event)?,
            tx_event: dup(&self.tx_event)?,
            section,
            timer: dup(&self.timer)?,
        };
        h.take_end(End::Sender(0))?;
        Ok(h)
    }

    pub(crate) fn what(&self) -> &str {
        &self.what
    }

    /// The mapped control page and ring.
    #[inline]
    pub(crate) fn control(&self) -> &Control {
        &self.control
    }

    /// Never: a section cannot shrink under its views.
    #[inline]
    pub(crate) fn damaged(&self) -> bool {
        false
    }

    /// The other side is gone (see `ring::Ends::peer_gone`).
    pub(crate) fn peer_gone(&self) -> bool {
        match self.end {
            End::Receiver => {
                self.control.sender_ever() && !(1..=self.control.producers()).any(|p| self.held(p))
            }
            End::Sender(_) => match self.control.receiving() {
                Receiving::Closed => true,
                Receiving::Attached => !self.held(0),
                Receiving::NeverAttached => false,
            },
        }
    }

    /// Takes the senders' claim mutex (several producers only).
    pub(crate) fn claim(&self, deadline: Option<Instant>, poll: bool) -> Locked {
        let Some(m) = &self.claim else {
            return Locked::Acquired;
        };
        loop {
            let ms = if poll { 0 } else { millis_until(deadline) };
            // SAFETY: plain FFI call on a handle this value owns.
            match unsafe { WaitForSingleObject(m.as_raw_handle() as HANDLE, ms) } {
                WAIT_OBJECT_0 => return Locked::Acquired,
                WAIT_ABANDONED => return Locked::Abandoned,
                WAIT_TIMEOUT if !poll && deadline.is_none_or(|d| Instant::now() < d) => {}
                WAIT_TIMEOUT => return Locked::TimedOut,
                // The kernel's recursion limit, or a broken handle.
                _ => return Locked::TooDeep,
            }
        }
    }

    /// Whether the calling thread holds the senders' claim mutex.
    pub(crate) fn claim_owned(&self) -> bool {
        self.claim.as_ref().is_some_and(|m| {
            kernel::query_mutant(m.as_raw_handle()).is_ok_and(|i| i.owned_by_caller != 0)
        })
    }

    pub(crate) fn unclaim(&self) {
        if let Some(m) = &self.claim {
            // SAFETY: plain FFI call on a handle this value owns; a thread that does not
            // own the mutex gets ERROR_NOT_OWNER, and nothing changes.
            unsafe { ReleaseMutex(m.as_raw_handle() as HANDLE) };
        }
    }

    pub(crate) fn corrupt(&self, why: &str) -> Error {
        corrupt(&self.what, why)
    }

    fn event_of(&self, word: &AtomicU32) -> &OwnedHandle {
        if std::ptr::eq(word, self.control.words().rx_seq) {
            &self.rx_event
        } else {
            &self.tx_event
        }
    }

    fn set(event: &OwnedHandle) {
        // SAFETY: plain FFI call on a handle this value owns.
        unsafe { SetEvent(event.as_raw_handle() as HANDLE) };
    }
}

impl Ends for ChannelHandle {
    fn wait(&self, word: &AtomicU32, seen: u32, deadline: Option<Instant>) {
        // The event latches a wake-up that comes between this look and the wait.
        if word.load(SeqCst) != seen {
            return;
        }
        let event = self.event_of(word).as_raw_handle() as HANDLE;
        // SAFETY: plain FFI call on a handle this value owns.
        unsafe { WaitForSingleObject(event, millis_until(deadline)) };
    }

    fn wake(&self, word: &AtomicU32, _n: u32) {
        // One sleeper at most per side: the receiver, or the sender holding the turn.
        ChannelHandle::set(self.event_of(word));
    }

    fn peer_gone(&self) -> bool {
        ChannelHandle::peer_gone(self)
    }

    fn recheck(&self) -> Option<Duration> {
        Some(RECHECK)
    }
}

impl Drop for ChannelHandle {
    fn drop(&mut self) {
        if !self.attached {
            return;
        }
        // Detach first, then tell the other side, which looks at the places.
        let _ = self
            .place(self.end.place())
            .compare_exchange(me(), 0, SeqCst, SeqCst);
        let words = self.control.words();
        match self.end {
            End::Receiver => {
                self.control.set_receiving(Receiving::Closed);
                words.tx_seq.fetch_add(1, SeqCst);
                ChannelHandle::set(&self.tx_event);
            }
            End::Sender(_) => {
                words.rx_seq.fetch_add(1, SeqCst);
                ChannelHandle::set(&self.rx_event);
            }
        }
        // The fields close after this, the timer last (see the module's notes).
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::control::{HEAD_AT, TAIL_AT};
    use crate::channel::{Receiver, Sender};
    use windows_sys::Win32::System::Memory::OpenFileMappingW;

    fn unique(what: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "Local\\shmkit-test-winchan-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, SeqCst)
        )
    }

    /// The ring section of channel `name`, mapped through its part name (which no public
    /// call reaches): the control page and the first page of the ring.
    fn ring_view(name: &str) -> (OwnedHandle, RawView) {
        let w = part_name(&Name::parse(name).unwrap(), "ring");
        // SAFETY: the NUL-terminated `w` outlives the call; the handle is owned here.
        let section = sys::owned(unsafe { OpenFileMappingW(SECTION_OPEN, 0, w.as_ptr()) })
            .expect("the ring section");
        let view = RawView::map(&section, 0, (RING_AT + PAGE) as usize, Access::ReadWrite)
            .expect("a view of the ring");
        (section, view)
    }

    fn word(view: &RawView, at: u64) -> &AtomicU64 {
        // SAFETY: `at` is 8-aligned and inside the view, which outlives the borrow.
        unsafe { &*view.as_ptr().add(at as usize).cast::<AtomicU64>() }
    }

    #[test]
    fn part_names_are_longer_than_any_name_and_distinct() {
        let longest = "x".repeat(MAX_NAME_LEN);
        for name in ["a", "Global\\a", longest.as_str(), "a#ring"] {
            let n = Name::parse(name).unwrap();
            let parts: Vec<_> = ["ring", "rx", "tx", "claim"]
                .iter()
                .map(|p| part_name(&n, p))
                .collect();
            for (i, p) in parts.iter().enumerate() {
                assert!(p.len() - 1 > MAX_NAME_LEN + "Local\\".len(), "{name}");
                assert!(parts[..i].iter().all(|q| q != p), "{name}");
            }
        }
        assert_ne!(
            part_name(&Name::parse("a#ring").unwrap(), "rx"),
            part_name(&Name::parse("a").unwrap(), "ring")
        );
    }

    #[test]
    fn rule_9_8_a_corrupted_index_or_header_is_an_error_never_a_crash() {
        // (offset in the section, value, which end reads it): a record's tag and length
        // word with a length past the ring (the receiver's), the committed position past
        // one ring and the consumed position past the committed one (the senders').
        let cases = [
            (RING_AT + 8, 0x4d53_4731u64 << 32 | 0xffff_fff0, false),
            (HEAD_AT, u64::MAX, true),
            (TAIL_AT, 1u64 << 50, true),
        ];
        for (at, value, sender_reads) in cases {
            let name = unique("corrupt");
            let mut rx = Receiver::create(&name, 4096).unwrap();
            let mut tx = Sender::open(&name).unwrap();
            tx.send(b"one").unwrap();
            if sender_reads {
                assert_eq!(&*rx.recv().unwrap(), b"one");
            }
            let (_section, view) = ring_view(&name);
            word(&view, at).store(value, SeqCst);
            let e = if sender_reads {
                // The sender reads the consumed position when the ring looks full to it.
                (0..1000)
                    .find_map(|_| tx.try_send(&[2; 100]).err())
                    .expect("the corrupt position was never read")
            } else {
                let r = rx.recv_timeout(Duration::from_millis(100));
                r.map(|m| m.map(|m| m.len())).unwrap_err()
            };
            assert_eq!(e.win32_code(), code::FILE_CORRUPT, "at {at}: {e}");
            assert!(e.to_string().contains(&name), "{e}");
        }
    }

    #[test]
    fn rule_9_8_a_hostile_control_page_is_refused_at_attach() {
        for (at, value) in [
            (SIZE_AT, 12_345),
            (PRODUCERS_AT, 65),
            (PERMISSIONS_AT, 0o1777),
        ] {
            let name = unique("hostile");
            let _rx = Receiver::create(&name, 4096).unwrap();
            let (_section, view) = ring_view(&name);
            word(&view, at).store(value, SeqCst);
            let e = Sender::open(&name).unwrap_err();
            assert_eq!(e.win32_code(), code::FILE_CORRUPT, "at {at}: {e}");
        }
    }

    #[test]
    fn a_ring_left_by_an_earlier_channel_is_waited_for_never_reused() {
        let name = unique("stale");
        let n = Name::parse(&name).unwrap();
        // An earlier channel's ring, held for a moment by a holder being torn down.
        let sd = Descriptor::new(0o600, section::RIGHTS, true).unwrap();
        let (stale, _) = section::create(
            INVALID_HANDLE_VALUE as RawHandle,
            Some(&sd.attributes(false)),
            PAGE_READWRITE | SEC_COMMIT,
            RING_AT + PAGE,
            Some(&part_name(&n, "ring")),
        )
        .unwrap();
        let view = RawView::map(&stale, 0, (RING_AT + PAGE) as usize, Access::ReadWrite).unwrap();
        word(&view, MAGIC_AT).store(MAGIC, SeqCst);
        word(&view, HEAD_AT).store(64, SeqCst);
        let holder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop((view, stale));
        });
        let mut rx = Receiver::create(&name, 4096).unwrap();
        holder.join().unwrap();
        assert!(!rx.already_existed());
        assert!(
            rx.try_recv().unwrap().is_none(),
            "the earlier ring was reused"
        );
    }

    #[test]
    fn a_name_whose_maker_died_half_way_is_made_again() {
        let name = unique("half-made");
        let n = Name::parse(&name).unwrap();
        // A timer without a ring: its maker died before making the section; the timer
        // goes with the last holder.
        let (timer, existed) = create_timer(&n, 0o600, "test").unwrap();
        assert!(!existed);
        let holder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(timer);
        });
        let mut rx = Receiver::create(&name, 4096).unwrap();
        holder.join().unwrap();
        let mut tx = Sender::open(&name).unwrap();
        tx.send(b"made").unwrap();
        assert_eq!(&*rx.recv().unwrap(), b"made");
    }

    #[test]
    fn rule_9_3_the_place_of_a_dead_process_is_free() {
        let name = unique("dead-place");
        let _tx = Sender::create(&name, 4096).unwrap();
        let (_section, view) = ring_view(&name);
        // No process has this id (ids are multiples of 4): the place's holder is dead.
        word(&view, PLACES_AT).store(0xffff_fffd << 32 | 1, SeqCst);
        let rx = Receiver::open(&name).unwrap();
        assert_eq!(word(&view, PLACES_AT).load(SeqCst), me());
        drop(rx);
        assert_eq!(word(&view, PLACES_AT).load(SeqCst), 0);
        // A live holder's place is taken.
        word(&view, PLACES_AT).store(me(), SeqCst);
        let e = Receiver::open(&name).unwrap_err();
        assert_eq!(e.win32_code(), code::BUSY, "{e}");
    }
}
