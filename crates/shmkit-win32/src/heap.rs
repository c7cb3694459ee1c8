//! Heaps: `GetProcessHeap`, `HeapCreate`, `HeapDestroy`, `HeapAlloc`, `HeapReAlloc`,
//! `HeapFree`, `HeapSize`, `HeapValidate`.
//!
//! Blocks come from the C library's allocator. Each heap keeps the blocks it gave out
//! and their sizes, so that a block is known by its heap: freeing or sizing a pointer the
//! heap did not give (or gave and took back) fails with `ERROR_INVALID_PARAMETER`
//! instead of corrupting memory, `HeapSize` is the size asked for, and `HeapDestroy`
//! frees every block of its heap. A heap handle is no handle of the handle table (as on
//! Windows, `CloseHandle` does not take it).

use crate::error::{self, ffi, Result};
use crate::types::*;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard, OnceLock};

const HEAP_GENERATE_EXCEPTIONS: DWORD = 0x4;
const HEAP_ZERO_MEMORY: DWORD = 0x8;
const HEAP_REALLOC_IN_PLACE_ONLY: DWORD = 0x10;

/// The process heap's handle value; created heaps get the following ones (multiples
/// of 16, never reused).
const PROCESS_HEAP: usize = 0x0001_0000;

struct Heaps {
    next: usize,
    /// Each heap's blocks: address to size.
    heaps: HashMap<usize, HashMap<usize, usize>>,
}

fn heaps() -> MutexGuard<'static, Heaps> {
    static HEAPS: OnceLock<Mutex<Heaps>> = OnceLock::new();
    HEAPS
        .get_or_init(|| {
            let mut heaps = HashMap::new();
            heaps.insert(PROCESS_HEAP, HashMap::new());
            Mutex::new(Heaps {
                next: PROCESS_HEAP + 16,
                heaps,
            })
        })
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// `GetProcessHeap`: the process's heap.
#[no_mangle]
pub extern "C" fn GetProcessHeap() -> HANDLE {
    PROCESS_HEAP as HANDLE
}

/// `HeapCreate`: a new heap (the sizes are not limits here: it grows as needed).
#[no_mangle]
pub extern "C" fn HeapCreate(_options: DWORD, _initial: usize, _maximum: usize) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        let mut h = heaps();
        let value = h.next;
        h.next += 16;
        h.heaps.insert(value, HashMap::new());
        Ok(value as HANDLE)
    })
}

/// `HeapDestroy`: frees every block of a heap made by `HeapCreate` and the heap; the
/// process heap, or a value that is no heap, is `ERROR_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn HeapDestroy(heap: HANDLE) -> BOOL {
    ffi(FALSE, || {
        if heap as usize == PROCESS_HEAP {
            return error::fail(err::INVALID_HANDLE);
        }
        let blocks = heaps()
            .heaps
            .remove(&(heap as usize))
            .ok_or(error::Win32Error(err::INVALID_HANDLE))?;
        for &p in blocks.keys() {
            // SAFETY: every block of the heap came from malloc and is freed once, here.
            unsafe { libc::free(p as *mut c_void) };
        }
        Ok(TRUE)
    })
}

fn allocate(heap: HANDLE, flags: DWORD, size: usize) -> Result<*mut c_void> {
    let mut h = heaps();
    let blocks = h
        .heaps
        .get_mut(&(heap as usize))
        .ok_or(error::Win32Error(err::INVALID_HANDLE))?;
    if size > isize::MAX as usize {
        return error::fail(err::NOT_ENOUGH_MEMORY);
    }
    // SAFETY: plain allocations of at least one byte; NULL is checked.
    let p = unsafe {
        if flags & HEAP_ZERO_MEMORY != 0 {
            libc::calloc(1, size.max(1))
        } else {
            libc::malloc(size.max(1))
        }
    };
    if p.is_null() {
        return error::fail(err::NOT_ENOUGH_MEMORY);
    }
    blocks.insert(p as usize, size);
    Ok(p)
}

/// `HeapAlloc`: a block of `dwBytes` bytes of the heap (zeroed with `HEAP_ZERO_MEMORY`),
/// aligned to 16 bytes; NULL when memory is short (`ERROR_NOT_ENOUGH_MEMORY`; no
/// exception is raised, even with `HEAP_GENERATE_EXCEPTIONS`) or the heap is unknown
/// (`ERROR_INVALID_HANDLE`). A block of 0 bytes is a valid, distinct block.
#[no_mangle]
pub extern "C" fn HeapAlloc(heap: HANDLE, flags: DWORD, size: usize) -> *mut c_void {
    let _ = HEAP_GENERATE_EXCEPTIONS;
    ffi(std::ptr::null_mut(), || allocate(heap, flags, size))
}

fn reallocate(heap: HANDLE, flags: DWORD, p: *mut c_void, size: usize) -> Result<*mut c_void> {
    let mut h = heaps();
    let blocks = h
        .heaps
        .get_mut(&(heap as usize))
        .ok_or(error::Win32Error(err::INVALID_HANDLE))?;
    let Some(&old) = blocks.get(&(p as usize)) else {
        return error::fail(err::INVALID_PARAMETER);
    };
    if size > isize::MAX as usize {
        return error::fail(err::NOT_ENOUGH_MEMORY);
    }
    let q = if flags & HEAP_REALLOC_IN_PLACE_ONLY != 0 {
        // SAFETY: `p` is a live block of this heap.
        if size > old && unsafe { libc::malloc_usable_size(p) } < size {
            return error::fail(err::NOT_ENOUGH_MEMORY);
        }
        p
    } else {
        // SAFETY: `p` is a live malloc block of this heap; the new size is at least 1.
        let q = unsafe { libc::realloc(p, size.max(1)) };
        if q.is_null() {
            return error::fail(err::NOT_ENOUGH_MEMORY);
        }
        q
    };
    if flags & HEAP_ZERO_MEMORY != 0 && size > old {
        // SAFETY: the block holds `size` bytes; the bytes past the old size are zeroed.
        unsafe { std::ptr::write_bytes(q.cast::<u8>().add(old), 0, size - old) };
    }
    blocks.remove(&(p as usize));
    blocks.insert(q as usize, size);
    Ok(q)
}

/// `HeapReAlloc`: resizes a block of the heap, keeping its contents (up to the smaller
/// size); the block may move, unless `HEAP_REALLOC_IN_PLACE_ONLY`, which fails with
/// `ERROR_NOT_ENOUGH_MEMORY` when the block cannot grow where it is. With
/// `HEAP_ZERO_MEMORY` the bytes it grows by are zeroed. A pointer that is no live block
/// of the heap is `ERROR_INVALID_PARAMETER` (nothing changes).
///
/// # Safety
/// No other thread uses the block while it is resized.
#[no_mangle]
pub unsafe extern "C" fn HeapReAlloc(
    heap: HANDLE,
    flags: DWORD,
    p: *mut c_void,
    size: usize,
) -> *mut c_void {
    ffi(std::ptr::null_mut(), || reallocate(heap, flags, p, size))
}

/// `HeapFree`: frees a block of the heap (NULL: TRUE, nothing to do). A pointer that is
/// no live block of the heap is `ERROR_INVALID_PARAMETER` and frees nothing.
///
/// # Safety
/// The block is not used after it is freed.
#[no_mangle]
pub unsafe extern "C" fn HeapFree(heap: HANDLE, _flags: DWORD, p: *mut c_void) -> BOOL {
    ffi(FALSE, || {
        let mut h = heaps();
        let blocks = h
            .heaps
            .get_mut(&(heap as usize))
            .ok_or(error::Win32Error(err::INVALID_HANDLE))?;
        if p.is_null() {
            return Ok(TRUE);
        }
        if blocks.remove(&(p as usize)).is_none() {
            return error::fail(err::INVALID_PARAMETER);
        }
        // SAFETY: a live malloc block of this heap, now out of its list: freed once.
        unsafe { libc::free(p) };
        Ok(TRUE)
    })
}

/// `HeapSize`: the size a block of the heap was allocated (or reallocated) with;
/// `(SIZE_T)-1` for a pointer that is no live block of the heap
/// (`ERROR_INVALID_PARAMETER`) or an unknown heap (`ERROR_INVALID_HANDLE`).
#[no_mangle]
pub extern "C" fn HeapSize(heap: HANDLE, _flags: DWORD, p: *const c_void) -> usize {
    ffi(usize::MAX, || {
        let h = heaps();
        let blocks = h
            .heaps
            .get(&(heap as usize))
            .ok_or(error::Win32Error(err::INVALID_HANDLE))?;
        blocks
            .get(&(p as usize))
            .copied()
            .ok_or(error::Win32Error(err::INVALID_PARAMETER))
    })
}

/// `HeapValidate`: TRUE when `lpMem` is a live block of the heap, or (NULL) when the heap
/// exists; FALSE otherwise.
#[no_mangle]
pub extern "C" fn HeapValidate(heap: HANDLE, _flags: DWORD, p: *const c_void) -> BOOL {
    let h = heaps();
    let ok = h
        .heaps
        .get(&(heap as usize))
        .is_some_and(|blocks| p.is_null() || blocks.contains_key(&(p as usize)));
    ok as BOOL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_zeroed_resized_with_their_contents_and_known_to_their_heap() {
        let heap = HeapCreate(0, 0, 0);
        assert!(!heap.is_null());
        let p = HeapAlloc(heap, HEAP_ZERO_MEMORY, 100).cast::<u8>();
        assert!(!p.is_null());
        // SAFETY: `p` holds 100 bytes.
        unsafe {
            assert!(std::slice::from_raw_parts(p, 100).iter().all(|&b| b == 0));
            p.write_bytes(7, 100);
        }
        assert_eq!(HeapSize(heap, 0, p.cast()), 100);
        // SAFETY: nothing else uses the block.
        let q = unsafe { HeapReAlloc(heap, HEAP_ZERO_MEMORY, p.cast(), 1000) }.cast::<u8>();
        assert!(!q.is_null());
        // SAFETY: `q` holds 1000 bytes.
        unsafe {
            let s = std::slice::from_raw_parts(q, 1000);
            assert!(s[..100].iter().all(|&b| b == 7));
            assert!(s[100..].iter().all(|&b| b == 0));
        }
        assert_eq!(HeapSize(heap, 0, q.cast()), 1000);
        assert_eq!(HeapSize(GetProcessHeap(), 0, q.cast()), usize::MAX);
        // SAFETY: a block of another heap is refused, not freed.
        assert_eq!(unsafe { HeapFree(GetProcessHeap(), 0, q.cast()) }, FALSE);
        assert_eq!(error::get(), err::INVALID_PARAMETER);
        assert_eq!(HeapDestroy(heap), TRUE);
        assert_eq!(HeapDestroy(heap), FALSE);
        assert_eq!(HeapDestroy(GetProcessHeap()), FALSE);
    }
}
