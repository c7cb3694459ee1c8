//! Channels on Linux: an object file like a mapping's (the one create-or-open, lifetime and
//! reclamation of `object`), mapped whole by every end:
//!
//! | bytes | what |
//! |---|---|
//! | 0..4096 | the object header (kind channel, size = the ring's size) |
//! | 4096..8192 | the control page: the shape, then each shared word on a line of its own |
//! | 8192.. | the ring (`crate::channel::ring`) |
//!
//! The control page, by 128-byte line (each group written by one side has a line of its
//! own: two cache lines, for the adjacent-line prefetcher):
//!
//! | offset | what | written by |
//! |---|---|---|
//! | 0 | magic, ring size, max message, producers | the creator, once |
//! | 128 | `head`, the committed position | the senders |
//! | 256 | `tail`, the consumed position | the receiver |
//! | 384 | the receiver's wake-up sequence and sleeping flag | both |
//! | 512 | the senders' wake-up sequence and sleeping flag | both |
//! | 640 | the senders' claim lock | the senders |
//! | 768 | the receiver's state, "a sender attached once" | the ends, at attach and close |
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
use super::store;
use super::sync::futex::SharedFutex;
use super::sync::owner::{self, Threads};
use super::sys::{lock::byte, Errno};
use crate::channel::ring::{self, Ends, Geometry, Region, Words};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::Kind;
use crate::name::{label, Name};
use crate::os::{ChannelFound, ChannelRequest};
use crate::sync::lockword::{Locked, MutexWords};
use crate::sync::state::Futex;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::mm::{MapFlags, ProtFlags};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PAGE: u64 = 4096;
const CONTROL_AT: u64 = PAGE;
const RING_AT: u64 = 2 * PAGE;
/// The most senders a channel can have.
pub(crate) const MAX_PRODUCERS: u32 = 64;

// The control page: offsets from its start (the table in the module documentation).
const MAGIC: u64 = 0x3143_4b4d_4853; // "SHMKC1"
const MAGIC_AT: u64 = 0;
const SIZE_AT: u64 = 8;
const MAX_MESSAGE_AT: u64 = 16;
const PRODUCERS_AT: u64 = 24;
const HEAD_AT: u64 = 128;
const TAIL_AT: u64 = 256;
const RX_SEQ_AT: u64 = 384;
const RX_SLEEPING_AT: u64 = 388;
const TX_SEQ_AT: u64 = 512;
const TX_SLEEPING_AT: u64 = 516;
const CLAIM_STATE_AT: u64 = 640;
const CLAIM_START_AT: u64 = 648;
const CLAIM_SEQ_AT: u64 = 656;
const CLAIM_DEPTH_AT: u64 = 660;
const CLAIM_SEALED_AT: u64 = 664;
/// Receiver: 0 never attached, 1 attached, 2 closed. Senders: 1 once one attached.
const RX_STATE_AT: u64 = 768;
const TX_EVER_AT: u64 = 772;
/// The attached receiver's pid; sender place `i`'s at `TX_PID_AT + 4 * i`.
const RX_PID_AT: u64 = 896;
const TX_PID_AT: u64 = 1024;
/// The part of the control page `inspect` reads.
const INSPECTED: usize = (TX_PID_AT + 4 * MAX_PRODUCERS as u64) as usize;

const RX_ATTACHED: u32 = 1;
const RX_CLOSED: u32 = 2;

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
    ptr: NonNull<u8>,
    len: usize,
    geometry: Geometry,
    producers: u32,
    end: End,
    /// Whether `end`'s byte is this handle's: an end refused as Busy has nothing to detach.
    attached: bool,
    what: String,
    entry: Entry,
}

// SAFETY: the mapping is shared memory reached only through atomics and through the
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
    let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| corrupt(&what, "mapped at 0"))?;
    let mut h = ChannelHandle {
        ptr,
        len: len as usize,
        geometry: Geometry {
            size,
            max_message: 0,
        },
        producers: 1,
        end,
        attached: false,
        what,
        entry,
    };
    let magic = h.u64_at(MAGIC_AT).load(Ordering::SeqCst);
    let shape = Geometry::checked(
        h.u64_at(SIZE_AT).load(Ordering::SeqCst),
        h.u64_at(MAX_MESSAGE_AT).load(Ordering::SeqCst),
    );
    let producers = h.u64_at(PRODUCERS_AT).load(Ordering::SeqCst);
    match shape {
        Some(g)
            if magic == MAGIC
                && g.size == size
                && (1..=u64::from(MAX_PRODUCERS)).contains(&producers) =>
        {
            h.geometry = g;
            h.producers = producers as u32;
        }
        _ => {
            return Err(corrupt(
                &h.what,
                "its control page does not describe a ring",
            ))
        }
    }
    h.take_end(end)?;
    Ok(h)
}

impl ChannelHandle {
    fn u64_at(&self, at: u64) -> &AtomicU64 {
        // SAFETY: `at` is a constant offset inside the control page, 8-aligned (the
        // mapping is page-aligned); the mapping lives as long as `self`; every bit pattern
        // is a valid u64.
        unsafe {
            &*self
                .ptr
                .as_ptr()
                .add((CONTROL_AT + at) as usize)
                .cast::<AtomicU64>()
        }
    }

    fn u32_at(&self, at: u64) -> &AtomicU32 {
        // SAFETY: as in `u64_at`, 4-aligned.
        unsafe {
            &*self
                .ptr
                .as_ptr()
                .add((CONTROL_AT + at) as usize)
                .cast::<AtomicU32>()
        }
    }

    /// Takes the end's byte (a sender the first free place): Busy when taken.
    fn take_end(&mut self, end: End) -> Result<()> {
        let fd = self.entry.fd.as_fd();
        let taken = match end {
            End::Receiver => byte::take(fd, 0).map(|()| End::Receiver),
            End::Sender(_) => (0..self.producers)
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
                self.pid_word().store(std::process::id(), Ordering::Relaxed);
                match e {
                    End::Receiver => self
                        .u32_at(RX_STATE_AT)
                        .store(RX_ATTACHED, Ordering::SeqCst),
                    End::Sender(_) => self.u32_at(TX_EVER_AT).store(1, Ordering::SeqCst),
                }
                Ok(())
            }
            Err(Errno::AGAIN) => Err(Error::new(
                ErrorKind::Busy,
                match end {
                    End::Receiver => format!("{}: another receiver is attached", self.what),
                    End::Sender(_) => format!(
                        "{}: all of its {} sender places are taken",
                        self.what, self.producers
                    ),
                },
            )),
            Err(e) => Err(sys_err(e, &format!("attaching to {}", self.what))),
        }
    }

    /// This end's pid word (for `inspect`).
    fn pid_word(&self) -> &AtomicU32 {
        match self.end {
            End::Receiver => self.u32_at(RX_PID_AT),
            End::Sender(i) => self.u32_at(TX_PID_AT + 4 * u64::from(i)),
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

    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }

    pub(crate) fn producers(&self) -> u32 {
        self.producers
    }

    pub(crate) fn words(&self) -> Words<'_> {
        Words {
            head: self.u64_at(HEAD_AT),
            tail: self.u64_at(TAIL_AT),
            rx_seq: self.u32_at(RX_SEQ_AT),
            rx_sleeping: self.u32_at(RX_SLEEPING_AT),
            tx_seq: self.u32_at(TX_SEQ_AT),
            tx_sleeping: self.u32_at(TX_SLEEPING_AT),
        }
    }

    /// The ring's bytes from ring offset `at`, `len` long (in the ring: the caller's
    /// offsets come from the ring's checked records and claims).
    pub(crate) fn payload(&self, at: u64, len: u64) -> *mut u8 {
        debug_assert!(at + len <= self.geometry.size);
        self.ptr.as_ptr().wrapping_add((RING_AT + at) as usize)
    }

    /// Whether the receiver closed (cleanly): a cheap look for the senders' hot path.
    pub(crate) fn receiver_closed(&self) -> bool {
        self.u32_at(RX_STATE_AT).load(Ordering::Relaxed) == RX_CLOSED
    }

    /// The other side is gone (see `ring::Ends::peer_gone`).
    pub(crate) fn peer_gone(&self) -> bool {
        let fd = self.entry.fd.as_fd();
        match self.end {
            End::Receiver => {
                self.u32_at(TX_EVER_AT).load(Ordering::SeqCst) != 0
                    && byte::any_taken(fd, 1, u64::from(self.producers)) == Ok(false)
            }
            End::Sender(_) => match self.u32_at(RX_STATE_AT).load(Ordering::SeqCst) {
                RX_CLOSED => true,
                RX_ATTACHED => byte::any_taken(fd, 0, 1) == Ok(false),
                _ => false,
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
        self.producers > 1 && self.claim_words().owned_by(owner::me())
    }

    pub(crate) fn unclaim(&self) {
        let _ = self.claim_words().unlock(owner::me(), &SharedFutex);
    }

    fn claim_words(&self) -> MutexWords<'_> {
        MutexWords {
            state: self.u64_at(CLAIM_STATE_AT),
            seq: self.u32_at(CLAIM_SEQ_AT),
            depth: self.u32_at(CLAIM_DEPTH_AT),
            start: self.u64_at(CLAIM_START_AT),
            sealed: self.u32_at(CLAIM_SEALED_AT),
        }
    }

    /// The header words of the ring.
    pub(crate) fn region(&self) -> RingRegion<'_> {
        RingRegion(self)
    }

    pub(crate) fn corrupt(&self, why: &str) -> Error {
        corrupt(&self.what, why)
    }
}

/// The ring of a mapped channel.
pub(crate) struct RingRegion<'a>(&'a ChannelHandle);

impl Region for RingRegion<'_> {
    fn header(&self, at: u64) -> &AtomicU64 {
        let at = (at & (self.0.geometry.size - 1)) & !7;
        // SAFETY: `at` is masked into the ring and 8-aligned; the ring lies inside the
        // mapping, which lives as long as the handle; every bit pattern is a valid u64.
        unsafe {
            &*self
                .0
                .ptr
                .as_ptr()
                .add((RING_AT + at) as usize)
                .cast::<AtomicU64>()
        }
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
        ChannelHandle::peer_gone(self)
    }

    fn recheck(&self) -> Option<Duration> {
        Some(RECHECK)
    }
}

impl Drop for ChannelHandle {
    fn drop(&mut self) {
        // Detach first, then tell the other side, which looks at the byte locks.
        let fd = self.entry.fd.as_fd();
        let words = self.words();
        if self.attached {
            // Cleared while the place is still this end's: the next end's pid stays.
            self.pid_word().store(0, Ordering::Relaxed);
        }
        match self.end {
            _ if !self.attached => {}
            End::Receiver => {
                self.u32_at(RX_STATE_AT).store(RX_CLOSED, Ordering::SeqCst);
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
