//! The shared page of a sync object: the object file's first page, mapped read-write by
//! every handle, whose bytes from [`SYNC_AT`] hold the object's state.
//!
//! Layout from [`SYNC_AT`]: the 64-bit state at [`STATE_AT`], the 32-bit `seq` at
//! [`SEQ_AT`], then at [`PARAM_AT`] a 32-bit parameter (the event's manual-reset flag,
//! the semaphore's maximum, the mutex's recursion depth). A mutex also keeps its owner's
//! start time at [`OWNER_START_AT`] and the generation that wrote it at [`SEALED_AT`]
//! (`crate::sync::lockword`). Every object keeps at [`RESERVER_AT`] the id of the
//! wait-all reserving it (`crate::sync::reserve`). Only numbers: nothing here is an
//! address.

use super::super::sigbus::{SyncSlot, SYNC_PAGE};
use rustix::fd::AsFd;
use rustix::io::Errno;
use rustix::mm::{MapFlags, ProtFlags};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Where the state starts in the object's first page (the header reserves 2048..4096).
pub(super) const SYNC_AT: usize = 2048;
pub(super) const PAGE: usize = 4096;
pub(super) const STATE_AT: usize = SYNC_AT;
pub(super) const SEQ_AT: usize = SYNC_AT + 8;
pub(super) const PARAM_AT: usize = SYNC_AT + 12;
pub(super) const OWNER_START_AT: usize = SYNC_AT + 16;
pub(super) const SEALED_AT: usize = SYNC_AT + 24;
pub(super) const RESERVER_AT: usize = SYNC_AT + 32;

const _: () = assert!(PAGE == SYNC_PAGE);
const _: () = assert!(
    RESERVER_AT + 8 <= PAGE
        && STATE_AT % 8 == 0
        && OWNER_START_AT % 8 == 0
        && RESERVER_AT % 8 == 0
        && SEALED_AT + 4 <= RESERVER_AT
);

/// The shared first page of a sync object, mapped read-write.
///
/// It lives in a slot of the range reserved for sync pages, so that a truncation of its
/// file under it is a damaged page ([`Page::damaged`]), never a SIGBUS.
pub(super) struct Page {
    ptr: NonNull<u8>,
    slot: SyncSlot,
}

// SAFETY: the page is plain shared memory that is only accessed through atomics; any
// thread may use it.
unsafe impl Send for Page {}
// SAFETY: as above: every access is atomic.
unsafe impl Sync for Page {}

impl Page {
    pub(super) fn map(fd: impl AsFd) -> std::result::Result<Page, Errno> {
        let slot =
            SyncSlot::take().map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::NOMEM))?;
        // SAFETY: a shared mapping of one page of the object's file over the slot this
        // page owns (MAP_FIXED replaces its reservation; nothing else refers to that
        // range). A truncation of the file later faults in that range, where the SIGBUS
        // handler answers it.
        let ptr = unsafe {
            rustix::mm::mmap(
                slot.addr,
                PAGE,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED | MapFlags::FIXED,
                fd,
                0,
            )?
        };
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(Errno::NOMEM)?;
        Ok(Page { ptr, slot })
    }

    /// Whether the file lost this page under it (truncated by someone who may write
    /// it): the page is then a private zero page, no longer the object's state.
    #[inline]
    pub(super) fn damaged(&self) -> bool {
        self.slot.damaged()
    }

    pub(super) fn u32_at(&self, at: usize) -> &AtomicU32 {
        // SAFETY: `at` is a constant inside the page, 4-aligned (the page is page-aligned);
        // the page lives as long as `self`; AtomicU32 has the layout of u32 and every bit
        // pattern is valid.
        unsafe { &*self.ptr.as_ptr().add(at).cast::<AtomicU32>() }
    }

    pub(super) fn u64_at(&self, at: usize) -> &AtomicU64 {
        // SAFETY: as in `u32_at`, with `at` 8-aligned.
        unsafe { &*self.ptr.as_ptr().add(at).cast::<AtomicU64>() }
    }
}

// Dropping the page gives its slot back, which maps the reservation over it in one step.
