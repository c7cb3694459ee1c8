//! Private memory: what `VirtualAlloc` reserves and commits outside views, and
//! `VirtualProtect`, `VirtualFree` and `VirtualQuery` of it.
//!
//! A reservation is an anonymous private mapping without access (`PROT_NONE`,
//! `MAP_NORESERVE`), its base aligned to the allocation granularity (64 KiB), its size
//! whole pages. Committing pages gives them their protection (`mprotect`); decommitting
//! drops their contents (`MADV_DONTNEED`: zero when committed again) and their access;
//! releasing unmaps the reservation. The library keeps each reservation's pages' states,
//! which `VirtualQuery` reports.
//!
//! This module imports nothing of the handle table or of the views.

use crate::access::{self, Page};
use crate::error::{NtResult, NtStatus};
use crate::types::*;
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard};

/// Windows' allocation granularity: a reservation's base is a multiple of it.
pub(crate) const GRANULARITY: usize = 64 * 1024;

/// One reservation.
struct Region {
    len: usize,
    /// The protection it was reserved with (what `AllocationProtect` reports).
    alloc_protect: DWORD,
    /// Each page's protection while committed; 0 while only reserved.
    protect: Vec<DWORD>,
}

fn regions() -> MutexGuard<'static, BTreeMap<usize, Region>> {
    static REGIONS: Mutex<BTreeMap<usize, Region>> = Mutex::new(BTreeMap::new());
    // Every change is one map operation or one page's value: a panic cannot leave them
    // inconsistent, so a poisoned lock is taken over.
    REGIONS.lock().unwrap_or_else(|p| p.into_inner())
}

fn page() -> usize {
    page_size()
}

fn fail<T>(s: i32) -> NtResult<T> {
    Err(NtStatus(s))
}

/// The reservation that holds `addr`: its base.
fn region_at(t: &BTreeMap<usize, Region>, addr: usize) -> Option<usize> {
    let (&base, r) = t.range(..=addr).next_back()?;
    (addr < base + r.len).then_some(base)
}

/// Whether `addr` lies in private memory of the library's.
pub(crate) fn holds(addr: usize) -> bool {
    region_at(&regions(), addr).is_some()
}

/// The Linux protection of a page protection; `PAGE_WRITECOPY` and
/// `PAGE_EXECUTE_WRITECOPY` are refused for private memory, as on Windows.
fn prot_of(protect: DWORD) -> NtResult<i32> {
    let (page, _) =
        access::parse_page(protect).map_err(|_| NtStatus(status::INVALID_PAGE_PROTECTION))?;
    Ok(match page {
        Page::NoAccess => libc::PROT_NONE,
        Page::ReadOnly => libc::PROT_READ,
        Page::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
        Page::Execute | Page::ExecuteRead => libc::PROT_READ | libc::PROT_EXEC,
        Page::ExecuteReadWrite => libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
        Page::WriteCopy | Page::ExecuteWriteCopy => return fail(status::INVALID_PAGE_PROTECTION),
    })
}

/// Reserves `len` bytes (whole pages) at `at` (a multiple of [`GRANULARITY`]; 0: where
/// the system chooses, aligned to it).
fn reserve(
    t: &mut BTreeMap<usize, Region>,
    at: usize,
    len: usize,
    protect: DWORD,
) -> NtResult<usize> {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
    let base = if at != 0 {
        // SAFETY: a new mapping where nothing is mapped (MAP_FIXED_NOREPLACE refuses to
        // replace anything); nothing of the process's is touched.
        let p = unsafe {
            libc::mmap(
                at as *mut c_void,
                len,
                libc::PROT_NONE,
                flags | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return fail(status::CONFLICTING_ADDRESSES);
        }
        if p as usize != at {
            // A kernel without MAP_FIXED_NOREPLACE put it elsewhere.
            // SAFETY: the mapping just made, unmapped whole.
            unsafe { libc::munmap(p, len) };
            return fail(status::CONFLICTING_ADDRESSES);
        }
        at
    } else {
        let span = len
            .checked_add(GRANULARITY)
            .ok_or(NtStatus(status::NO_MEMORY))?;
        // SAFETY: a new mapping where the system chooses.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), span, libc::PROT_NONE, flags, -1, 0) };
        if p == libc::MAP_FAILED {
            return fail(status::NO_MEMORY);
        }
        let start = p as usize;
        let base = start.next_multiple_of(GRANULARITY);
        // SAFETY: the parts of the mapping just made before and after the aligned
        // reservation, which nothing else uses.
        unsafe {
            if base > start {
                libc::munmap(p, base - start);
            }
            let end = base + len;
            if start + span > end {
                libc::munmap(end as *mut c_void, start + span - end);
            }
        }
        base
    };
    t.insert(
        base,
        Region {
            len,
            alloc_protect: protect,
            protect: vec![0; len / page()],
        },
    );
    Ok(base)
}

/// `VirtualAlloc` and `NtAllocateVirtualMemory` of private memory: `MEM_RESERVE`
/// reserves (at `addr` rounded down to the granularity, or anywhere for 0), `MEM_COMMIT`
/// commits the pages of `addr..addr+len` of a reservation (or of the one reserved with
/// it) with `protect`. Returns the first page and the size: the reservation's for a
/// reserve, the pages committed for a commit alone.
pub(crate) fn allocate(
    addr: usize,
    len: usize,
    kind: DWORD,
    protect: DWORD,
) -> NtResult<(usize, usize)> {
    let prot = prot_of(protect)?;
    let pg = page();
    let mut t = regions();
    // A commit at NULL reserves too, as on Windows.
    let (base, from, to) = if kind & MEM_RESERVE != 0 || addr == 0 {
        let at = addr - addr % GRANULARITY;
        let end = addr
            .checked_add(len)
            .ok_or(NtStatus(status::INVALID_PARAMETER))?;
        let size = (end - at).next_multiple_of(pg);
        let base = reserve(&mut t, at, size, protect)?;
        if kind & MEM_COMMIT == 0 {
            return Ok((base, size));
        }
        (base, 0, size / pg)
    } else {
        let Some(base) = region_at(&t, addr) else {
            return fail(status::NOT_MAPPED_VIEW);
        };
        let end = addr
            .checked_add(len)
            .ok_or(NtStatus(status::INVALID_PARAMETER))?;
        if end > base + t[&base].len {
            return fail(status::CONFLICTING_ADDRESSES);
        }
        (base, (addr - base) / pg, (end - base).div_ceil(pg))
    };
    let start = base + from * pg;
    // SAFETY: pages of a reservation of this module's.
    if unsafe { libc::mprotect(start as *mut c_void, (to - from) * pg, prot) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let r = t.get_mut(&base).expect("the reservation was just found");
    r.protect[from..to].fill(protect);
    if kind & MEM_RESERVE != 0 || addr == 0 {
        return Ok((base, r.len));
    }
    Ok((start, (to - from) * pg))
}

/// `VirtualProtect` of private memory: every page of `addr..addr+len` (at least one) must
/// be committed. Returns the first page, the size, and the first page's old protection.
pub(crate) fn protect(addr: usize, len: usize, protect: DWORD) -> NtResult<(usize, usize, DWORD)> {
    let prot = prot_of(protect)?;
    let pg = page();
    let mut t = regions();
    let Some(base) = region_at(&t, addr) else {
        return fail(status::CONFLICTING_ADDRESSES);
    };
    let end = addr
        .checked_add(len.max(1))
        .ok_or(NtStatus(status::INVALID_PARAMETER))?;
    let r = t.get_mut(&base).expect("the reservation was just found");
    if end > base + r.len {
        return fail(status::CONFLICTING_ADDRESSES);
    }
    let (from, to) = ((addr - base) / pg, (end - base).div_ceil(pg));
    if r.protect[from..to].contains(&0) {
        return fail(status::NOT_COMMITTED);
    }
    let start = base + from * pg;
    // SAFETY: committed pages of a reservation of this module's.
    if unsafe { libc::mprotect(start as *mut c_void, (to - from) * pg, prot) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let old = r.protect[from];
    r.protect[from..to].fill(protect);
    Ok((start, (to - from) * pg, old))
}

/// `VirtualFree` of private memory. `MEM_RELEASE` releases a whole reservation: `addr`
/// its base and `len` 0 (`STATUS_INVALID_PARAMETER` otherwise, and
/// `STATUS_FREE_VM_NOT_AT_BASE` for an address inside it). `MEM_DECOMMIT` decommits the
/// pages of `addr..addr+len` (`len` 0 at the base: all of them). Returns the first page
/// and the size freed. `None`: `addr` is not private memory of the library's.
pub(crate) fn free(addr: usize, len: usize, kind: DWORD) -> Option<NtResult<(usize, usize)>> {
    let pg = page();
    let mut t = regions();
    let base = region_at(&t, addr)?;
    let region_len = t[&base].len;
    Some(match kind {
        MEM_RELEASE if addr != base => fail(status::FREE_VM_NOT_AT_BASE),
        MEM_RELEASE if len != 0 => fail(status::INVALID_PARAMETER),
        MEM_RELEASE => {
            t.remove(&base);
            // SAFETY: the whole reservation, which this module made and forgets now.
            unsafe { libc::munmap(base as *mut c_void, region_len) };
            Ok((base, region_len))
        }
        MEM_DECOMMIT => {
            let end = if len == 0 && addr == base {
                base + region_len
            } else {
                match addr.checked_add(len) {
                    Some(end) if len != 0 && end <= base + region_len => end,
                    _ => return Some(fail(status::INVALID_PARAMETER)),
                }
            };
            let (from, to) = ((addr - base) / pg, (end - base).div_ceil(pg));
            let start = base + from * pg;
            let size = (to - from) * pg;
            // SAFETY: pages of a reservation of this module's; their contents are
            // dropped, as a decommit drops them.
            unsafe {
                libc::madvise(start as *mut c_void, size, libc::MADV_DONTNEED);
                libc::mprotect(start as *mut c_void, size, libc::PROT_NONE);
            }
            let r = t.get_mut(&base).expect("the reservation was just found");
            r.protect[from..to].fill(0);
            Ok((start, size))
        }
        _ => fail(status::INVALID_PARAMETER),
    })
}

/// What `VirtualQuery` tells of `addr` in private memory of the library's; `None`
/// elsewhere.
pub(crate) fn query(addr: usize) -> Option<MEMORY_BASIC_INFORMATION> {
    let pg = page();
    let t = regions();
    let base = region_at(&t, addr)?;
    let r = &t[&base];
    let i = (addr - base) / pg;
    let mut j = i + 1;
    while j < r.protect.len() && r.protect[j] == r.protect[i] {
        j += 1;
    }
    Some(MEMORY_BASIC_INFORMATION {
        BaseAddress: (base + i * pg) as *mut c_void,
        AllocationBase: base as *mut c_void,
        AllocationProtect: r.alloc_protect,
        PartitionId: 0,
        RegionSize: (j - i) * pg,
        State: if r.protect[i] == 0 {
            MEM_RESERVE
        } else {
            MEM_COMMIT
        },
        Protect: r.protect[i],
        Type: MEM_PRIVATE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_commit_protect_decommit_release() {
        let pg = page();
        let (base, size) = allocate(0, 3 * pg, MEM_RESERVE, PAGE_READWRITE).unwrap();
        assert_eq!(base % GRANULARITY, 0);
        assert_eq!(size, 3 * pg);
        let q = query(base + 10).unwrap();
        assert_eq!((q.State, q.Protect, q.RegionSize), (MEM_RESERVE, 0, 3 * pg));
        let (at, n) = allocate(base + pg + 5, 10, MEM_COMMIT, PAGE_READWRITE).unwrap();
        assert_eq!((at, n), (base + pg, pg));
        // SAFETY: the page was just committed read-write.
        unsafe { *((base + pg) as *mut u8) = 7 };
        let q = query(base + pg).unwrap();
        assert_eq!(
            (q.State, q.Protect, q.RegionSize),
            (MEM_COMMIT, PAGE_READWRITE, pg)
        );
        assert_eq!(q.AllocationBase as usize, base);
        assert_eq!(
            protect(base, pg, PAGE_READONLY).err().map(|s| s.0),
            Some(status::NOT_COMMITTED)
        );
        assert_eq!(
            protect(base + pg, 1, PAGE_READONLY).unwrap(),
            (base + pg, pg, PAGE_READWRITE)
        );
        assert_eq!(query(base + pg).unwrap().Protect, PAGE_READONLY);
        assert_eq!(
            free(base + pg, pg, MEM_DECOMMIT).unwrap().unwrap(),
            (base + pg, pg)
        );
        allocate(base + pg, pg, MEM_COMMIT, PAGE_READWRITE).unwrap();
        // SAFETY: committed again read-write: a decommitted page comes back zeroed.
        assert_eq!(unsafe { *((base + pg) as *const u8) }, 0);
        assert_eq!(
            free(base + pg, 0, MEM_RELEASE).unwrap().err().map(|s| s.0),
            Some(status::FREE_VM_NOT_AT_BASE)
        );
        assert_eq!(
            free(base, pg, MEM_RELEASE).unwrap().err().map(|s| s.0),
            Some(status::INVALID_PARAMETER)
        );
        assert_eq!(free(base, 0, MEM_RELEASE).unwrap().unwrap(), (base, 3 * pg));
        assert!(query(base).is_none());
        assert!(free(base, 0, MEM_RELEASE).is_none());
    }

    #[test]
    fn reserve_at_an_address_and_commit_with_it() {
        let pg = page();
        let (base, _) = allocate(0, GRANULARITY, MEM_RESERVE, PAGE_NOACCESS).unwrap();
        free(base, 0, MEM_RELEASE).unwrap().unwrap();
        let (again, size) =
            allocate(base + 100, pg, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE).unwrap();
        assert_eq!(again, base, "rounded down to the granularity");
        assert_eq!(size, 2 * pg, "the pages of base..base+100+pg");
        // SAFETY: committed read-write with the reservation.
        unsafe { *(base as *mut u8) = 1 };
        assert_eq!(
            allocate(base, pg, MEM_RESERVE, PAGE_READWRITE)
                .err()
                .map(|s| s.0),
            Some(status::CONFLICTING_ADDRESSES)
        );
        assert_eq!(
            allocate(0, pg, MEM_RESERVE, access::PAGE_WRITECOPY)
                .err()
                .map(|s| s.0),
            Some(status::INVALID_PAGE_PROTECTION)
        );
        assert_eq!(
            allocate(base, 3 * pg, MEM_COMMIT, PAGE_READWRITE)
                .err()
                .map(|s| s.0),
            Some(status::CONFLICTING_ADDRESSES)
        );
        assert_eq!(
            free(base, 0, MEM_DECOMMIT).unwrap().unwrap(),
            (base, 2 * pg)
        );
        assert_eq!(query(base).unwrap().State, MEM_RESERVE);
        free(base, 0, MEM_RELEASE).unwrap().unwrap();
    }
}
