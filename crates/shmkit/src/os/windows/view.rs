//! Views on Windows: `MapViewOfFile` of a section, flushed by `FlushViewOfFile` and
//! unmapped by `UnmapViewOfFile` on drop.

use super::sys::last_error;
use crate::kind::Access;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle};
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::Memory::{
    FlushViewOfFile, MapViewOfFile, UnmapViewOfFile, FILE_MAP_COPY, FILE_MAP_READ, FILE_MAP_WRITE,
    MEMORY_MAPPED_VIEW_ADDRESS,
};

/// One mapped view.
pub(crate) struct RawView {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a RawView is an address range; nothing about it is tied to a thread.
unsafe impl Send for RawView {}
// SAFETY: shared use only reads `ptr` and `len`; access to the memory itself is governed
// by the public View API (copies and atomics).
unsafe impl Sync for RawView {}

impl RawView {
    /// Maps `len` bytes of `section` at `offset` (already checked against the object's
    /// size and the handle's access).
    pub(crate) fn map(
        section: &OwnedHandle,
        offset: u64,
        len: usize,
        access: Access,
    ) -> io::Result<RawView> {
        let rights = match access {
            Access::Read => FILE_MAP_READ,
            Access::ReadWrite => FILE_MAP_WRITE | FILE_MAP_READ,
            Access::CopyOnWrite => FILE_MAP_COPY,
        };
        // SAFETY: a new view at an address the system chooses; it aliases no Rust
        // object, and the range lies inside the section (checked by the caller).
        let view = unsafe {
            MapViewOfFile(
                section.as_raw_handle() as HANDLE,
                rights,
                (offset >> 32) as u32,
                offset as u32,
                len,
            )
        };
        if view.Value.is_null() {
            return Err(last_error());
        }
        Ok(RawView {
            ptr: view.Value.cast(),
            len,
        })
    }

    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    /// Copies `buf.len()` bytes at `offset` (in bounds: checked by the caller) into `buf`.
    /// Windows keeps a mapped file from shrinking, so a view never loses its backing.
    pub(crate) fn copy_out(&self, offset: usize, buf: &mut [u8]) -> io::Result<()> {
        // SAFETY: the source lies inside this view (checked by the caller), which stays
        // mapped while `self` is borrowed, and cannot overlap `buf`, a Rust allocation.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(offset), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `data` into the view at `offset` (in bounds and writable: checked by the
    /// caller).
    pub(crate) fn copy_in(&self, offset: usize, data: &[u8]) -> io::Result<()> {
        // SAFETY: as in `copy_out`, with the view as the destination.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) };
        Ok(())
    }

    pub(crate) fn flush(&self) -> io::Result<()> {
        // SAFETY: `ptr..ptr+len` lies inside a view this value owns.
        if unsafe { FlushViewOfFile(self.ptr.cast(), self.len) } == 0 {
            return Err(last_error());
        }
        Ok(())
    }
}

impl Drop for RawView {
    fn drop(&mut self) {
        // SAFETY: `ptr` is the base address MapViewOfFile returned; it is unmapped
        // exactly once, here, when nothing refers to the view any more.
        unsafe {
            UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS {
                Value: self.ptr.cast(),
            });
        }
    }
}
