//! Interlocked singly linked lists: `InitializeSListHead`, `InterlockedPushEntrySList`,
//! `InterlockedPopEntrySList`, `InterlockedFlushSList`, `QueryDepthSList`,
//! `InterlockedPushListSListEx` (and ntdll's `RtlInterlockedPushListSList(Ex)`).
//!
//! An `SLIST_HEADER` has Windows' x64 size (16 bytes, aligned to 16): here its first
//! word is the first entry and its second the depth (low 16 bits) and a sequence
//! number. Each operation holds one of a set of locks chosen by the header's address,
//! so operations on one list are atomic with respect to each other (Windows makes them
//! lock-free with a 16-byte compare-exchange; the results are the same).

use std::sync::Mutex;

/// Windows' `SLIST_ENTRY`: the next entry (16-byte aligned, as on x64).
#[repr(C, align(16))]
pub struct SLIST_ENTRY {
    next: *mut SLIST_ENTRY,
}

/// Windows' `SLIST_HEADER` (x64): the first entry, then the depth and a sequence.
#[repr(C, align(16))]
pub struct SLIST_HEADER {
    first: *mut SLIST_ENTRY,
    depth_and_sequence: u64,
}

/// The lock of a header's stripe.
fn lock_of(h: *const SLIST_HEADER) -> std::sync::MutexGuard<'static, ()> {
    static LOCKS: [Mutex<()>; 64] = [const { Mutex::new(()) }; 64];
    LOCKS[(h as usize >> 4) % LOCKS.len()]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The depth and sequence after one more (`+1`) or one fewer (`-1`) entry, or none.
fn counts(h: &SLIST_HEADER, change: i32) -> u64 {
    let depth = (h.depth_and_sequence & 0xFFFF) as i32 + change;
    let sequence = (h.depth_and_sequence >> 16).wrapping_add(1) & 0xFFFF_FFFF_FFFF;
    // The depth is a 16-bit field, which wraps as on Windows.
    (sequence << 16) | (depth as u64 & 0xFFFF)
}

/// `InitializeSListHead`: an empty list (the header all zeros).
///
/// # Safety
/// `h` is NULL (ignored) or a writable `SLIST_HEADER` no thread uses.
#[no_mangle]
pub unsafe extern "C" fn InitializeSListHead(h: *mut SLIST_HEADER) {
    if !h.is_null() {
        // SAFETY: writable, by the function's contract.
        unsafe {
            h.write(SLIST_HEADER {
                first: std::ptr::null_mut(),
                depth_and_sequence: 0,
            })
        };
    }
}

/// `InterlockedPushEntrySList`: puts `entry` first; returns the entry that was first
/// (NULL for an empty list).
///
/// # Safety
/// `h` is an initialized header; `entry` a writable entry in no list.
#[no_mangle]
pub unsafe extern "C" fn InterlockedPushEntrySList(
    h: *mut SLIST_HEADER,
    entry: *mut SLIST_ENTRY,
) -> *mut SLIST_ENTRY {
    if h.is_null() || entry.is_null() {
        return std::ptr::null_mut();
    }
    let _g = lock_of(h);
    // SAFETY: the header and entry are valid, by the function's contract; the stripe's
    // lock makes this the only operation on the list.
    unsafe {
        let before = (*h).first;
        (*entry).next = before;
        (*h).first = entry;
        (*h).depth_and_sequence = counts(&*h, 1);
        before
    }
}

/// `InterlockedPushListSListEx`: puts the chain `list`..`list_end` (already linked
/// through their `Next`, `count` entries) first in one step; returns the entry that was
/// first (NULL for an empty list). The depth grows by `count`.
///
/// # Safety
/// `h` is an initialized header; `list`..`list_end` a writable chain in no list.
#[no_mangle]
pub unsafe extern "C" fn InterlockedPushListSListEx(
    h: *mut SLIST_HEADER,
    list: *mut SLIST_ENTRY,
    list_end: *mut SLIST_ENTRY,
    count: u32,
) -> *mut SLIST_ENTRY {
    if h.is_null() || list.is_null() || list_end.is_null() {
        return std::ptr::null_mut();
    }
    let _g = lock_of(h);
    // SAFETY: as in InterlockedPushEntrySList, for the chain's last entry.
    unsafe {
        let before = (*h).first;
        (*list_end).next = before;
        (*h).first = list;
        let depth = ((*h).depth_and_sequence & 0xFFFF) as u32;
        let sequence = ((*h).depth_and_sequence >> 16).wrapping_add(1) & 0xFFFF_FFFF_FFFF;
        (*h).depth_and_sequence = (sequence << 16) | u64::from(depth.wrapping_add(count) & 0xFFFF);
        before
    }
}

/// `RtlInterlockedPushListSListEx`: ntdll's name of [`InterlockedPushListSListEx`].
///
/// # Safety
/// As [`InterlockedPushListSListEx`].
#[no_mangle]
pub unsafe extern "C" fn RtlInterlockedPushListSListEx(
    h: *mut SLIST_HEADER,
    list: *mut SLIST_ENTRY,
    list_end: *mut SLIST_ENTRY,
    count: u32,
) -> *mut SLIST_ENTRY {
    // SAFETY: the same contract.
    unsafe { InterlockedPushListSListEx(h, list, list_end, count) }
}

/// `RtlInterlockedPushListSList`: the same (on x64 `__fastcall` is the usual
/// convention).
///
/// # Safety
/// As [`InterlockedPushListSListEx`].
#[no_mangle]
pub unsafe extern "C" fn RtlInterlockedPushListSList(
    h: *mut SLIST_HEADER,
    list: *mut SLIST_ENTRY,
    list_end: *mut SLIST_ENTRY,
    count: u32,
) -> *mut SLIST_ENTRY {
    // SAFETY: the same contract.
    unsafe { InterlockedPushListSListEx(h, list, list_end, count) }
}

/// `InterlockedPopEntrySList`: takes the first entry off and returns it (NULL for an
/// empty list).
///
/// # Safety
/// `h` is an initialized header.
#[no_mangle]
pub unsafe extern "C" fn InterlockedPopEntrySList(h: *mut SLIST_HEADER) -> *mut SLIST_ENTRY {
    if h.is_null() {
        return std::ptr::null_mut();
    }
    let _g = lock_of(h);
    // SAFETY: as in InterlockedPushEntrySList; the entries in the list are valid.
    unsafe {
        let first = (*h).first;
        if !first.is_null() {
            (*h).first = (*first).next;
            (*h).depth_and_sequence = counts(&*h, -1);
        }
        first
    }
}

/// `InterlockedFlushSList`: empties the list; returns its first entry (the others
/// follow it, linked as they were), or NULL.
///
/// # Safety
/// `h` is an initialized header.
#[no_mangle]
pub unsafe extern "C" fn InterlockedFlushSList(h: *mut SLIST_HEADER) -> *mut SLIST_ENTRY {
    if h.is_null() {
        return std::ptr::null_mut();
    }
    let _g = lock_of(h);
    // SAFETY: as in InterlockedPushEntrySList.
    unsafe {
        let first = (*h).first;
        (*h).first = std::ptr::null_mut();
        let depth = ((*h).depth_and_sequence & 0xFFFF) as i32;
        (*h).depth_and_sequence = counts(&*h, -depth);
        first
    }
}

/// `QueryDepthSList`: how many entries the list has (at most 65535 are counted).
///
/// # Safety
/// `h` is an initialized header.
#[no_mangle]
pub unsafe extern "C" fn QueryDepthSList(h: *mut SLIST_HEADER) -> u16 {
    if h.is_null() {
        return 0;
    }
    let _g = lock_of(h);
    // SAFETY: as in InterlockedPushEntrySList.
    unsafe { ((*h).depth_and_sequence & 0xFFFF) as u16 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_flush_and_depth() {
        let mut h = SLIST_HEADER {
            first: std::ptr::dangling_mut(),
            depth_and_sequence: u64::MAX,
        };
        let mut e: [SLIST_ENTRY; 3] = std::array::from_fn(|_| SLIST_ENTRY {
            next: std::ptr::null_mut(),
        });
        let p: Vec<*mut SLIST_ENTRY> = e.iter_mut().map(|x| x as *mut _).collect();
        // SAFETY: the header and entries live for the test.
        unsafe {
            InitializeSListHead(&mut h);
            assert_eq!(QueryDepthSList(&mut h), 0);
            assert!(InterlockedPushEntrySList(&mut h, p[0]).is_null());
            assert_eq!(InterlockedPushEntrySList(&mut h, p[1]), p[0]);
            assert_eq!(InterlockedPushEntrySList(&mut h, p[2]), p[1]);
            assert_eq!(QueryDepthSList(&mut h), 3);
            assert_eq!(InterlockedPopEntrySList(&mut h), p[2]);
            assert_eq!(QueryDepthSList(&mut h), 2);
            let first = InterlockedFlushSList(&mut h);
            assert_eq!(first, p[1]);
            assert_eq!((*first).next, p[0]);
            assert_eq!(QueryDepthSList(&mut h), 0);
            assert!(InterlockedPopEntrySList(&mut h).is_null());
        }
    }
}
