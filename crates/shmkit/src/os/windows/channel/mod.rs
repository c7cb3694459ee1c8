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

mod parts;
mod places;
#[cfg(test)]
mod tests;

use self::parts::{connect, control_of, sync_part, Ring, Shape};
use self::places::{alive, me};
use super::inherit;
use super::sync::kernel;
use super::view::RawView;
use crate::channel::control::{Control, Receiving, MAX_PRODUCERS};
use crate::channel::ring::{self, Ends};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Kind};
use crate::name::{label, Name};
use crate::os::ChannelRequest;
use crate::sync::lockword::Locked;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{HANDLE, WAIT_ABANDONED, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Threading::{
    ReleaseMutex, SetEvent, WaitForSingleObject, INFINITE,
};

const PAGE: u64 = 4096;
const RING_AT: u64 = PAGE;

// The backend's own words of the control page (the table in the module documentation).
const PERMISSIONS_AT: u64 = 32;
const PLACES_AT: u64 = 1024;

/// The longest sleep before a waiting end looks at the other side's places again.
const RECHECK: Duration = Duration::from_millis(25);

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

fn corrupt(what: &str, why: &str) -> Error {
    Error::with_code(
        ErrorKind::Other,
        code::FILE_CORRUPT,
        format!("{what}: {why}; the channel is corrupt (a peer broke its protocol)"),
    )
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
