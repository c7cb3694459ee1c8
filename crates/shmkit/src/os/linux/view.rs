//! Views on Linux: `mmap` of the object's file, unmapped on drop.

use rustix::mm::MsyncFlags;
use std::io;

/// One mapped view.
pub(crate) struct RawView {
    pub(super) ptr: *mut u8,
    pub(super) len: usize,
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
