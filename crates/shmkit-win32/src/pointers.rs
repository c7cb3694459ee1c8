//! `IsBadReadPtr`, `IsBadWritePtr`, `IsBadCodePtr`, `IsBadStringPtr{A,W}`: whether
//! memory may be read or written, from the process's memory map
//! (`/proc/self/maps`): nothing is touched, so a bad pointer never faults.
//!
//! A view's pages have the protection they report (`views`), so a read-only view is
//! bad to write, a no-access or reserved page bad to read, and an unmapped view bad to
//! read. Guard pages (`PAGE_GUARD`, not armed here) read as their protection allows.

use crate::types::*;
use std::ffi::c_void;

/// One mapping of the process: its range and whether it may be read, written.
struct Region {
    start: usize,
    end: usize,
    read: bool,
    write: bool,
}

/// The process's mappings, in address order; empty if the map cannot be read.
fn regions() -> Vec<Region> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (range, perms) = (fields.next()?, fields.next()?.as_bytes());
            let (start, end) = range.split_once('-')?;
            Some(Region {
                start: usize::from_str_radix(start, 16).ok()?,
                end: usize::from_str_radix(end, 16).ok()?,
                read: perms.first() == Some(&b'r'),
                write: perms.get(1) == Some(&b'w'),
            })
        })
        .collect()
}

/// Whether every byte of `[p, p + n)` lies in mappings that allow `ok`.
fn all(regions: &[Region], p: usize, n: usize, ok: impl Fn(&Region) -> bool) -> bool {
    let Some(end) = p.checked_add(n) else {
        return false;
    };
    let mut at = p;
    for r in regions.iter().filter(|r| r.end > p) {
        if r.start > at || !ok(r) {
            return false;
        }
        at = r.end;
        if at >= end {
            return true;
        }
    }
    false
}

/// Whether `n` bytes at `p` are bad for `ok`: never for 0 bytes, always for NULL.
fn bad(p: *const c_void, n: usize, ok: impl Fn(&Region) -> bool) -> BOOL {
    if n == 0 {
        return FALSE;
    }
    if p.is_null() {
        return TRUE;
    }
    (!all(&regions(), p as usize, n, ok)) as BOOL
}

/// `IsBadReadPtr`: TRUE when any of the `ucb` bytes at `lp` may not be read (0 bytes:
/// FALSE; NULL: TRUE).
#[no_mangle]
pub extern "C" fn IsBadReadPtr(p: *const c_void, n: usize) -> BOOL {
    bad(p, n, |r| r.read)
}

/// `IsBadWritePtr`: TRUE when any of the `ucb` bytes at `lp` may not be written (a
/// write-copy view may be).
#[no_mangle]
pub extern "C" fn IsBadWritePtr(p: *mut c_void, n: usize) -> BOOL {
    bad(p, n, |r| r.write)
}

/// `IsBadCodePtr`: TRUE when the byte at `lpfn` may not be read (what Windows checks:
/// "read access to the memory at the specified address").
#[no_mangle]
pub extern "C" fn IsBadCodePtr(p: *const c_void) -> BOOL {
    bad(p, 1, |r| r.read)
}

/// Whether a string of `T` at `p`, up to `max` units or its NUL, may be read: each
/// unit's memory is looked up before the unit is read.
fn bad_string<T: Copy + Default + PartialEq>(p: *const T, max: usize) -> BOOL {
    if max == 0 {
        return FALSE;
    }
    if p.is_null() {
        return TRUE;
    }
    let regions = regions();
    let size = std::mem::size_of::<T>();
    let mut readable_to = p as usize;
    for i in 0..max {
        let Some(at) = (p as usize).checked_add(i * size) else {
            return TRUE;
        };
        if at.saturating_add(size) > readable_to {
            match regions
                .iter()
                .find(|r| r.start <= at && at < r.end && r.read)
            {
                Some(r) if all(&regions, at, size, |r| r.read) => readable_to = r.end,
                _ => return TRUE,
            }
        }
        // SAFETY: the unit lies in readable memory (looked up just above).
        if unsafe { (at as *const T).read_unaligned() } == T::default() {
            return FALSE;
        }
    }
    FALSE
}

/// `IsBadStringPtrA`: TRUE when the string at `lpsz` cannot be read up to its NUL or
/// `ucchMax` characters, whichever comes first.
#[no_mangle]
pub extern "C" fn IsBadStringPtrA(p: LPCSTR, max: usize) -> BOOL {
    bad_string(p, max)
}

/// `IsBadStringPtrW`: [`IsBadStringPtrA`] with wide characters.
#[no_mangle]
pub extern "C" fn IsBadStringPtrW(p: LPCWSTR, max: usize) -> BOOL {
    bad_string(p, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_writable_and_unmapped_memory() {
        let mut local = [1u8; 64];
        let p = local.as_mut_ptr().cast::<c_void>();
        assert_eq!(IsBadReadPtr(p, 64), FALSE);
        assert_eq!(IsBadWritePtr(p, 64), FALSE);
        assert_eq!(IsBadReadPtr(std::ptr::null(), 1), TRUE);
        assert_eq!(IsBadReadPtr(std::ptr::null(), 0), FALSE);
        assert_eq!(IsBadReadPtr(usize::MAX as *const c_void, 2), TRUE);
        let code = IsBadReadPtr as *const () as *const c_void;
        assert_eq!(IsBadCodePtr(code), FALSE);
        assert_eq!(IsBadWritePtr(code as *mut c_void, 1), TRUE);
        assert_eq!(IsBadCodePtr(std::ptr::null()), TRUE);
        let s = c"text";
        assert_eq!(IsBadStringPtrA(s.as_ptr(), usize::MAX), FALSE);
        assert_eq!(IsBadStringPtrA(0x10 as LPCSTR, 4), TRUE);
    }
}
