//! Views on Linux: `mmap` of the object's file, unmapped on drop.

use super::sigbus;
use rustix::mm::MsyncFlags;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

/// One mapped view.
pub(crate) struct RawView {
    pub(super) ptr: *mut u8,
    pub(super) len: usize,
    /// Part of the view lost its backing (the file was truncated under it): its pages
    /// there are private zero pages now, so its copies report an error from then on.
    pub(super) damaged: AtomicBool,
}

// SAFETY: a RawView is an address range; nothing about it is tied to a thread.
unsafe impl Send for RawView {}
// SAFETY: shared use only reads `ptr` and `len`; access to the memory itself is governed
// by the public View API (copies and atomics).
unsafe impl Sync for RawView {}

impl RawView {
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    /// Copies `buf.len()` bytes at `offset` (in bounds: checked by the caller) into `buf`;
    /// an error, never SIGBUS, when the memory lost its backing.
    pub(crate) fn copy_out(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        self.check()?;
        // SAFETY: the source lies inside this view (checked by the caller), which stays
        // mapped while `self` is borrowed, and cannot overlap `buf`, a Rust allocation.
        let src = unsafe { self.ptr.add(offset) };
        // SAFETY: as above; the guarded range is the source.
        let whole = unsafe { sigbus::copy(src, buf.as_mut_ptr(), buf.len(), src as usize) };
        self.report(whole)
    }

    /// Copies `data` into the view at `offset` (in bounds and writable: checked by the
    /// caller); an error, never SIGBUS, when the memory lost its backing.
    pub(crate) fn copy_in(&self, offset: usize, data: &[u8]) -> io::Result<()> {
        self.check()?;
        // SAFETY: as in `copy_out`, with the view as the destination.
        let dst = unsafe { self.ptr.add(offset) };
        // SAFETY: as above; the guarded range is the destination.
        let whole = unsafe { sigbus::copy(data.as_ptr(), dst, data.len(), dst as usize) };
        self.report(whole)
    }

    fn check(&self) -> io::Result<()> {
        if self.damaged.load(Ordering::Relaxed) {
            return Err(truncated());
        }
        Ok(())
    }

    fn report(&self, whole: bool) -> io::Result<()> {
        if whole {
            return Ok(());
        }
        self.damaged.store(true, Ordering::Relaxed);
        Err(truncated())
    }

    pub(crate) fn flush(&self) -> io::Result<()> {
        // SAFETY: `ptr..ptr+len` is a mapping this value owns.
        unsafe { rustix::mm::msync(self.ptr.cast(), self.len, MsyncFlags::SYNC) }?;
        Ok(())
    }
}

impl Drop for RawView {
    fn drop(&mut self) {
        // SAFETY: the range was returned by mmap and is unmapped exactly once, here; the
        // public View that owned it is gone, so nothing refers to it any more.
        unsafe {
            let _ = rustix::mm::munmap(self.ptr.cast(), self.len);
        }
    }
}

fn truncated() -> io::Error {
    // EFAULT names it best: the address is mapped but has nothing behind it.
    io::Error::from_raw_os_error(libc::EFAULT)
}
