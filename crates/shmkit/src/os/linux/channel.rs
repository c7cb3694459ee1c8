//! Channels on Linux: an object file like a mapping's (the one create-or-open, lifetime and
//! reclamation of `object`), mapped whole by every end:
//!
//! | bytes | what |
//! |---|---|
//! | 0..4096 | the object header (kind channel, size = the ring's size) |
//! | 4096..8192 | the control page: the shape, then each shared word on a line of its own |
//! | 8192.. | the ring (`crate::channel::ring`) |
//!
//! The control page is `crate::channel::control`'s, with the lines it leaves to the
//! backend used so:
//!
//! | offset | what | written by |
//! |---|---|---|
//! | 640 | the senders' claim lock (`crate::sync::lockword`) | the senders |
//! | 896 | the attached receiver's pid (0: none) | the receiver, at attach and close |
//! | 1024 | sender place `i`'s pid at `1024 + 4 i` (64 places) | each sender, likewise |
//!
//! Which ends are attached is kept by the kernel, not in memory anyone may write: an end
//! holds a write lock on one byte of the file past the lifetime locks (the receiver byte
//! 0, sender `i` byte `1 + i`) for as long as it is attached; the kernel drops it when the
//! end closes or its process dies. A second receiver, or a sender when every sender place
//! is taken, finds the byte taken: ERROR_BUSY. The pid words are for `inspect` only, and
//! only hints (any end may write them): it believes one only when that place's byte is
//! taken and that process holds the channel's file.

use super::object::{self, Entry, Header, NewObject};
use super::sigbus::GuardedRange;
use super::store;
use super::sync::futex::SharedFutex;
use super::sync::owner::{self, Threads};
use super::sys::{self, lock::byte, Errno};
use crate::channel::control::{
    Control, Receiving, HEAD_AT, MAGIC, MAGIC_AT, MAX_MESSAGE_AT, MAX_PRODUCERS, PRODUCERS_AT,
    SIZE_AT, TAIL_AT,
};
use crate::channel::ring::{self, Ends, Geometry};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::Kind;
use crate::name::{label, Name};
use crate::os::{ChannelFound, ChannelRequest};
use crate::sync::lockword::{Locked, MutexWords};
use crate::sync::state::Futex;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::mm::{MapFlags, ProtFlags};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const PAGE: u64 = 4096;
const CONTROL_AT: u64 = PAGE;
const RING_AT: u64 = 2 * PAGE;

// The backend's own words of the control page (the table in the module documentation).
const CLAIM_STATE_AT: u64 = 640;
const CLAIM_START_AT: u64 = 648;
const CLAIM_SEQ_AT: u64 = 656;
const CLAIM_DEPTH_AT: u64 = 660;
const CLAIM_SEALED_AT: u64 = 664;
/// Never set: no wait-all reserves the claim lock (`crate::sync::reserve`).
const CLAIM_RESERVER_AT: u64 = 672;
/// The attached receiver's pid; sender place `i`'s at `TX_PID_AT + 4 * i`.
const RX_PID_AT: u64 = 896;
const TX_PID_AT: u64 = 1024;
/// The part of the control page `inspect` reads.
const INSPECTED: usize = (TX_PID_AT + 4 * MAX_PRODUCERS as u64) as usize;

/// The longest sleep before a waiting end looks at the other side's byte lock again.
const RECHECK: Duration = Duration::from_millis(25);

/// Which end a handle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Receiver,
    Sender(u32),
}

/// One open channel end.
pub(crate) struct ChannelHandle {
    /// The mapping of the whole file, `len` bytes, unmapped when the handle drops.
    ptr: NonNull<u8>,
    len: usize,
    /// Answers a SIGBUS in the mapping (its file truncated by a peer); taken before the
    /// mapping goes.
    guard: Option<GuardedRange>,
    control: Control,
    end: End,
    /// Whether `end`'s byte is this handle's: an end refused as Busy has nothing to detach.
    attached: bool,
    /// The process that attached the end: a forked child's copy of the handle never
    /// detaches its parent's end (it would close the parent's channel under it).
    pid: u32,
    what: String,
    entry: Entry,
}

// SAFETY: the mapping is shared memory reached only through `control`'s atomics and the
// slices the channel hands out under its protocol; any thread may hold the handle.
unsafe impl Send for ChannelHandle {}
// SAFETY: as above; the public ends are not `Sync` anyway.
unsafe impl Sync for ChannelHandle {}

fn sys_err(e: Errno, what: &str) -> Error {
    Error::from_io(e.into(), what.to_owned())
}

fn corrupt(what: &str, why: &str) -> Error {
    Error::with_code(
        ErrorKind::Other,
        code::FILE_CORRUPT,
        format!("{what}: {why}; the channel is corrupt (a peer broke its protocol)"),
    )
}

/// SPEC 9.1: create-or-open the channel, then attach the end `sender` says.
pub(crate) fn create_channel(
    req: &ChannelRequest<'_>,
    sender: bool,
) -> Result<(ChannelHandle, bool)> {
    let what = label(Kind::Channel, Some(req.name.as_str()));
    let dir = store::ns_dir(req.name.namespace())?;
    let size = ring::ring_size(req.capacity, req.max_message, PAGE).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidSize,
            format!(
                "creating {what}: a capacity of {} bytes is too large",
                req.capacity
            ),
        )
    })?;
    let header = Header::new(Kind::Channel, req.name, size, dir.uid);
    let new = NewObject {
        header: &header,
        file_len: RING_AT + size,
        permissions: req.permissions,
        exclusive: false,
    };
    let mut init = |fd: &OwnedFd| -> Result<()> {
        let put = |at: u64, v: u64| {
            rustix::io::pwrite(fd, &v.to_le_bytes(), CONTROL_AT + at)
                .map(drop)
                .map_err(|e| sys_err(e, &format!("creating {what}")))
        };
        put(SIZE_AT, size)?;
        put(MAX_MESSAGE_AT, req.max_message)?;
        put(PRODUCERS_AT, u64::from(req.producers))?;
        put(MAGIC_AT, MAGIC)
    };
    let (entry, existed) = object::create_or_open(&dir, req.name, &new, &mut init, &mut || {})?;
    let end = if sender {
        End::Sender(0)
    } else {
        End::Receiver
    };
    Ok((attach(entry, end, what)?, existed))
}

/// SPEC 9.1: opens the existing channel `name` and attaches an end.
pub(crate) fn open_channel(name: &Name, sender: bool) -> Result<ChannelHandle> {
    let what = label(Kind::Channel, Some(name.as_str()));
    let entry = object::open(name, Kind::Channel, true)?;
    let end = if sender {
        End::Sender(0)
    } else {
        End::Receiver
    };
    attach(entry, end, what)
}

/// Maps the channel, reads and checks its shape, and takes the end's byte.
fn attach(entry: Entry, end: End, what: String) -> Result<ChannelHandle> {
    let size = entry.header.size;
    let len = RING_AT
        .checked_add(size)
        .filter(|&n| n <= entry.len && n <= isize::MAX as u64)
        .ok_or_else(|| corrupt(&what, "its file is shorter than its header says"))?;
    // SAFETY: a new shared mapping of the whole object file, placed by the kernel; the
    // file is at least `len` bytes (checked above against its length at open).
    let ptr = unsafe {
        rustix::mm::mmap(
            std::ptr::null_mut(),
            len as usize,
            ProtFlags::READ | ProtFlags::WRITE,
            // Populated: the first turn of the ring takes no page faults.
            MapFlags::SHARED | MapFlags::POPULATE,
            &entry.fd,
            0,
        )
    }
    .map_err(|e| sys_err(e, &format!("mapping {what}")))?;
    let Some(ptr) = NonNull::new(ptr.cast::<u8>()) else {
        return Err(corrupt(&what, "mapped at 0"));
    };
    let unmap = || {
        // SAFETY: the mapping just made, with this length, referred to by nothing else.
        let _ = unsafe { rustix::mm::munmap(ptr.as_ptr().cast(), len as usize) };
    };
    // SAFETY: the control page and the ring lie inside the mapping (its length checked
    // above), page-aligned; the mapping stays until the handle drops, after `control`'s
    // last use.
    let control = unsafe {
        Control::attach(
            ptr.add(CONTROL_AT as usize),
            ptr.add(RING_AT as usize),
            size,
        )
    };
    let control = match control {
        Ok(c) => c,
        Err(why) => {
            unmap();
            return Err(corrupt(&what, why));
        }
    };
    let guard = match GuardedRange::new(ptr.as_ptr() as usize, len as usize) {
        Ok(g) => g,
        Err(e) => {
            unmap();
            return Err(Error::from_io(e, format!("attaching to {what}")));
        }
    };
    let mut h = ChannelHandle {
        ptr,
        len: len as usize,
        guard: Some(guard),
        control,
        end,
        attached: false,
        pid: 0,
        what,
        entry,
    };
    h.take_end(end)?;
    Ok(h)
}

impl ChannelHandle {
    /// Takes the end's byte (a sender the first free place): Busy when taken.
    fn take_end(&mut self, end: End) -> Result<()> {
        let fd = self.entry.fd.as_fd();
        let taken = match end {
            End::Receiver => byte::take(fd, 0).map(|()| End::Receiver),
            End::Sender(_) => (0..self.control.producers())
                .find_map(|i| {
                    byte::take(fd, 1 + u64::from(i))
                        .ok()
                        .map(|()| End::Sender(i))
                })
                .ok_or(Errno::AGAIN),
        };
        match taken {
            Ok(e) => {
                self.end = e;
                self.attached = true;
                self.pid = sys::pid();
                self.pid_word().store(self.pid, Ordering::Relaxed);
                match e {
                    End::Receiver => self.control.set_receiving(Receiving::Attached),
                    End::Sender(_) => self.control.set_sender_ever(),
                }
                Ok(())
            }
            Err(Errno::AGAIN) => Err(Error::new(
                ErrorKind::Busy,
                match end {
                    End::Receiver => format!("{}: another receiver is attached", self.what),
                    End::Sender(_) => format!(
                        "{}: all of its {} sender places are taken",
                        self.what,
                        self.control.producers()
                    ),
                },
            )),
            Err(e) => Err(sys_err(e, &format!("attaching to {}", self.what))),
        }
    }

    /// This end's pid word (for `inspect`).
    fn pid_word(&self) -> &AtomicU32 {
        match self.end {
            End::Receiver => self.control.u32_at(RX_PID_AT),
            End::Sender(i) => self.control.u32_at(TX_PID_AT + 4 * u64::from(i)),
        }
    }

    /// Another sender on the same channel (SPEC 9.3: Busy when every place is taken).
    pub(crate) fn another_sender(&self) -> Result<ChannelHandle> {
        let what = format!("adding a sender to {}", self.what);
        let fd = self.entry.duplicate(true).map_err(|e| sys_err(e, &what))?;
        self.entry.dir.enter()?;
        let entry = Entry::new_held(fd, &self.entry);
        attach(entry, End::Sender(0), self.what.clone())
    }

    pub(crate) fn what(&self) -> &str {
        &self.what
    }

    /// The mapped control page and ring.
    #[inline]
    pub(crate) fn control(&self) -> &Control {
        &self.control
    }

    /// Whether the channel's file lost pages under this end (truncated by a peer): its
    /// ring is then zero pages of this process, no longer the channel's.
    #[inline]
    pub(crate) fn damaged(&self) -> bool {
        self.guard.as_ref().is_some_and(GuardedRange::damaged)
    }

    /// The other side is gone (see `ring::Ends::peer_gone`).
    pub(crate) fn peer_gone(&self) -> bool {
        let fd = self.entry.fd.as_fd();
        match self.end {
            End::Receiver => {
                self.control.sender_ever()
                    && byte::any_taken(fd, 1, u64::from(self.control.producers())) == Ok(false)
            }
            End::Sender(_) => match self.control.receiving() {
                Receiving::Closed => true,
                Receiving::Attached => byte::any_taken(fd, 0, 1) == Ok(false),
                Receiving::NeverAttached => false,
            },
        }
    }

    /// Takes the senders' claim lock (several producers only).
    pub(crate) fn claim(&self, deadline: Option<Instant>, poll: bool) -> Locked {
        self.claim_words()
            .lock(owner::me(), &SharedFutex, &Threads, deadline, poll)
    }

    /// Whether the calling thread holds the senders' claim lock.
    pub(crate) fn claim_owned(&self) -> bool {
        self.control.producers() > 1 && self.claim_words().owned_by(owner::me())
    }

    pub(crate) fn unclaim(&self) {
        let _ = self.claim_words().unlock(owner::me(), &SharedFutex);
    }

    fn claim_words(&self) -> MutexWords<'_> {
        let c = &self.control;
        MutexWords {
            state: c.u64_at(CLAIM_STATE_AT),
            seq: c.u32_at(CLAIM_SEQ_AT),
            depth: c.u32_at(CLAIM_DEPTH_AT),
            start: c.u64_at(CLAIM_START_AT),
            sealed: c.u32_at(CLAIM_SEALED_AT),
            reserver: c.u64_at(CLAIM_RESERVER_AT),
        }
    }

    pub(crate) fn corrupt(&self, why: &str) -> Error {
        corrupt(&self.what, why)
    }
}

impl Ends for ChannelHandle {
    fn wait(&self, word: &AtomicU32, seen: u32, deadline: Option<Instant>) {
        SharedFutex.wait(word, seen, deadline);
    }

    fn wake(&self, word: &AtomicU32, n: u32) {
        SharedFutex.wake(word, n);
    }

    fn peer_gone(&self) -> bool {
        // A ring truncated under this end goes nowhere: end the wait (the caller reports
        // the damage).
        self.damaged() || ChannelHandle::peer_gone(self)
    }

    fn recheck(&self) -> Option<Duration> {
        Some(RECHECK)
    }
}

impl Drop for ChannelHandle {
    fn drop(&mut self) {
        // A forked copy of an attached end only unmaps: the end, its byte lock (shared
        // with the parent's open file description) and its pid word stay the parent's.
        if self.attached && self.pid != sys::pid() {
            self.attached = false;
        }
        // Detach first, then tell the other side, which looks at the byte locks.
        let fd = self.entry.fd.as_fd();
        let words = self.control.words();
        if self.attached {
            // Cleared while the place is still this end's: the next end's pid stays.
            self.pid_word().store(0, Ordering::Relaxed);
        }
        match self.end {
            _ if !self.attached => {}
            End::Receiver => {
                self.control.set_receiving(Receiving::Closed);
                let _ = byte::give_back(fd, 0);
                words.tx_seq.fetch_add(1, Ordering::SeqCst);
                SharedFutex.wake(words.tx_seq, u32::MAX);
            }
            End::Sender(i) => {
                let _ = byte::give_back(fd, 1 + u64::from(i));
                words.rx_seq.fetch_add(1, Ordering::SeqCst);
                SharedFutex.wake(words.rx_seq, 1);
            }
        }
        drop(self.guard.take());
        // SAFETY: the mapping was made by `attach` with this length; the public ends'
        // loans and messages borrow them, so none outlives the handle.
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len) };
        // The entry closes after this: the lifetime protocol of SPEC 5.1.
    }
}

/// What `inspect` reads of a channel: its shape, its depth and the pids of its attached
/// ends, from the control page of the object file `fd` (`file_len` bytes long, its header
/// saying a ring of `size` bytes). Read with `pread`, never mapped, and checked: `None`
/// for a file too short to be the channel its header says, or a control page that does
/// not describe a ring. The pids are hints: one is given only for a place whose byte
/// lock is taken (the caller still checks that the process holds the file).
pub(crate) fn inspect(fd: BorrowedFd<'_>, file_len: u64, size: u64) -> Option<ChannelFound> {
    if RING_AT.checked_add(size)? > file_len {
        return None;
    }
    let mut page = vec![0u8; INSPECTED];
    let mut got = 0;
    while got < page.len() {
        match rustix::io::pread(fd, &mut page[got..], CONTROL_AT + got as u64) {
            Ok(0) => return None,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(_) => return None,
        }
    }
    let u64_at = |at: u64| {
        let at = at as usize;
        u64::from_le_bytes(page[at..at + 8].try_into().expect("8 bytes"))
    };
    let u32_at = |at: u64| {
        let at = at as usize;
        u32::from_le_bytes(page[at..at + 4].try_into().expect("4 bytes"))
    };
    let g = Geometry::checked(u64_at(SIZE_AT), u64_at(MAX_MESSAGE_AT))?;
    let producers = u64_at(PRODUCERS_AT);
    if u64_at(MAGIC_AT) != MAGIC
        || g.size != size
        || !(1..=u64::from(MAX_PRODUCERS)).contains(&producers)
    {
        return None;
    }
    let producers = producers as u32;
    // One copy, not one instant: `tail` may have passed the `head` copied before it.
    let depth = u64_at(HEAD_AT).saturating_sub(u64_at(TAIL_AT)).min(g.size);
    let taken = |i: u64| byte::any_taken(fd, i, 1) == Ok(true);
    let pid = |at: u64| Some(u32_at(at)).filter(|&p| p != 0);
    let receiver_attached = taken(0);
    let mut senders_attached = 0;
    let mut senders = Vec::new();
    for i in 0..u64::from(producers) {
        if taken(1 + i) {
            senders_attached += 1;
            senders.extend(pid(TX_PID_AT + 4 * i));
        }
    }
    Some(ChannelFound {
        capacity: g.size,
        max_message: g.max_message,
        producers,
        depth,
        receiver_attached,
        receiver: pid(RX_PID_AT).filter(|_| receiver_attached),
        senders_attached,
        senders,
    })
}
