//! Views: `MapViewOfFile`, `UnmapViewOfFile`, `FlushViewOfFile`.

use crate::error::{Error, ErrorKind, Result};
use crate::kind::Access;
use crate::os::RawView;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// A mapped range of a mapping object.
///
/// A view keeps the memory alive, not the name: it stays valid after every handle has
/// closed, until it is dropped (`UnmapViewOfFile`).
///
/// Other processes may write the memory at any time, so a plain `&[u8]` over it would be
/// a data race in Rust's memory model. The safe ways to move bytes are the bounds-checked
/// copies [`read`](View::read) and [`write`](View::write) and the atomics
/// [`atomic_u32`](View::atomic_u32) / [`atomic_u64`](View::atomic_u64); raw slices are
/// `unsafe`, with the contract written down.
#[doc(alias = "MapViewOfFile")]
#[doc(alias = "UnmapViewOfFile")]
pub struct View {
    raw: RawView,
    offset: u64,
    access: Access,
}

impl View {
    pub(crate) fn new(raw: RawView, offset: u64, access: Access) -> View {
        View {
            raw,
            offset,
            access,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the view is empty (never: views have at least one byte).
    pub fn is_empty(&self) -> bool {
        self.raw.len() == 0
    }

    /// Offset of the view in its object.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How the view may use the memory.
    pub fn access(&self) -> Access {
        self.access
    }

    fn range(&self, offset: usize, len: usize, op: &str) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len() => Ok(()),
            _ => Err(Error::new(
                ErrorKind::OutOfRange,
                format!(
                    "cannot {op} {len} bytes at offset {offset} of a {}-byte view",
                    self.len()
                ),
            )),
        }
    }

    fn writable(&self, op: &str) -> Result<()> {
        if self.access == Access::Read {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("cannot {op} through a read-only view"),
            ));
        }
        Ok(())
    }

    /// Copies `buf.len()` bytes at `offset` of the view into `buf`.
    ///
    /// Other processes may change the bytes during the copy, which then sees some mix of
    /// old and new bytes (shared memory without locking). When the memory has lost its
    /// backing — its file was truncated under the view, by its owner, another process or
    /// anyone who may write a backing file — the copy fails with an error (and so does
    /// every later copy through this view), where a plain memory access would be killed
    /// by SIGBUS.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<()> {
        self.range(offset, buf.len(), "read")?;
        self.raw
            .copy_out(offset, buf)
            .map_err(|e| self.lost(e, "read", offset, buf.len()))
    }

    /// Copies `data` into the view at `offset`. Refused on read-only views; an error, as
    /// for [`read`](View::read), when the memory has lost its backing.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<()> {
        self.writable("write")?;
        self.range(offset, data.len(), "write")?;
        self.raw
            .copy_in(offset, data)
            .map_err(|e| self.lost(e, "write", offset, data.len()))
    }

    fn lost(&self, e: std::io::Error, op: &str, offset: usize, len: usize) -> Error {
        Error::from_io(
            e,
            format!(
                "cannot {op} {len} bytes at offset {offset} of the view: the memory lost its \
                 backing (the object's file was truncated under it)"
            ),
        )
    }

    fn atomic_at<T>(&self, offset: usize) -> Result<*mut u8> {
        let size = std::mem::size_of::<T>();
        self.writable("use an atomic")?;
        self.range(offset, size, "use an atomic over")?;
        if (self.raw.as_ptr() as usize + offset) % size != 0 {
            return Err(Error::new(
                ErrorKind::Misaligned,
                format!("an atomic of {size} bytes needs an offset that is a multiple of {size}, not {offset}"),
            ));
        }
        // SAFETY: in bounds, checked above.
        Ok(unsafe { self.raw.as_ptr().add(offset) })
    }

    /// The 32-bit word at `offset` (a multiple of 4) as an atomic shared with every
    /// process that maps it. Needs a writable view.
    pub fn atomic_u32(&self, offset: usize) -> Result<&AtomicU32> {
        let p = self.atomic_at::<u32>(offset)?;
        // SAFETY: `p` is in bounds, 4-aligned and writable, and lives as long as `self`.
        // Atomics are the one sound way to share a word with other processes.
        Ok(unsafe { AtomicU32::from_ptr(p.cast()) })
    }

    /// The 64-bit word at `offset` (a multiple of 8); see [`atomic_u32`](View::atomic_u32).
    pub fn atomic_u64(&self, offset: usize) -> Result<&AtomicU64> {
        let p = self.atomic_at::<u64>(offset)?;
        // SAFETY: as for `atomic_u32`, with 8-byte alignment.
        Ok(unsafe { AtomicU64::from_ptr(p.cast()) })
    }

    /// The first byte of the view.
    pub fn as_ptr(&self) -> *const u8 {
        self.raw.as_ptr()
    }

    /// The first byte of the view, for writing (only through writable views).
    pub fn as_mut_ptr(&self) -> *mut u8 {
        self.raw.as_ptr()
    }

    /// The view as a byte slice.
    ///
    /// # Safety
    /// No process may write the bytes while the slice is alive (including through this
    /// view's own [`write`](View::write) or another thread's slice).
    pub unsafe fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is valid for `len` bytes for the life of `self`; the caller
        // guarantees the absence of concurrent writers.
        unsafe { std::slice::from_raw_parts(self.raw.as_ptr(), self.len()) }
    }

    /// The view as a mutable byte slice.
    ///
    /// # Safety
    /// The view must be writable, and no other slice, copy or process may access the
    /// bytes while this one is alive.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice(&self) -> &mut [u8] {
        // SAFETY: as for `as_slice`, with exclusive access guaranteed by the caller.
        unsafe { std::slice::from_raw_parts_mut(self.raw.as_ptr(), self.len()) }
    }

    /// Writes the view's dirty pages to its backing file (`FlushViewOfFile`); a no-op
    /// for memory-backed objects.
    #[doc(alias = "FlushViewOfFile")]
    pub fn flush(&self) -> Result<()> {
        self.raw
            .flush()
            .map_err(|e| Error::from_io(e, "cannot flush view"))
    }
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("View")
            .field("ptr", &self.raw.as_ptr())
            .field("len", &self.len())
            .field("offset", &self.offset)
            .field("access", &self.access)
            .finish()
    }
}
