//! What the library knows of each mapped view — its protection, and page by page
//! whether it is committed and what protection it has now — and the functions that read
//! or change it: `VirtualQuery`, and `VirtualAlloc`, `VirtualProtect` and `VirtualFree`
//! as far as views need them (committing pages of a `SEC_RESERVE` view, changing the
//! protection of a view's pages). Private memory is `privmem`'s, which these functions
//! hand it to; other memory is described from the system's map.
//!
//! Linux side: a view is one `mmap` of the object; its reserved and no-access pages are
//! `PROT_NONE`, its other pages get the protection they report (execute included), so
//! what a program may touch is what Windows lets it touch.

use crate::access::{self, Page};
use crate::error::{ffi, NtResult, NtStatus, Result};
use crate::objects::SectionState;
use crate::privmem;
use crate::types::*;
use shmkit::View;
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::Arc;

/// A mapped view.
pub(crate) struct ViewEntry {
    pub view: View,
    /// The section's state (shared by every view of the object in this process).
    pub state: Arc<SectionState>,
    /// The index, in the object, of the view's first page.
    pub first_page: usize,
    /// The protection the view was mapped with.
    pub page: Page,
    /// What `AllocationProtect` reports: the view's protection and its modifiers.
    pub alloc_protect: DWORD,
    /// The protection of each page while committed (what `Protect` reports).
    pub protect: Vec<DWORD>,
}

pub(crate) use crate::types::page_size;

/// The views of this process, by base address.
pub(crate) struct Views {
    pub map: BTreeMap<usize, ViewEntry>,
}

impl Views {
    /// The view that contains `addr`.
    pub(crate) fn view_at(&self, addr: usize) -> Option<(usize, &ViewEntry)> {
        let (&base, entry) = self.map.range(..=addr).next_back()?;
        (addr < base + entry.view.len()).then_some((base, entry))
    }
}

/// The views, locked. A panic while they were held cannot leave them inconsistent (every
/// change is one map operation), so a poisoned lock is simply taken over.
pub(crate) fn views() -> std::sync::MutexGuard<'static, Views> {
    static VIEWS: std::sync::Mutex<Views> = std::sync::Mutex::new(Views {
        map: BTreeMap::new(),
    });
    VIEWS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The Linux protection of pages of `protect` in a view mapped with `view` protection:
/// write-copy pages are writable only in a copy-on-write view (in a shared or read-only
/// view they are read-only until their first write gives them a private copy: `cow`).
fn prot_of(protect: DWORD, view: Page) -> i32 {
    let Ok((page, _)) = access::parse_page(protect) else {
        return libc::PROT_NONE;
    };
    let mut prot = libc::PROT_NONE;
    if page.reads() || page.executes() {
        prot |= libc::PROT_READ;
    }
    if page.writes_shared() || (page.copies() && view.copies()) {
        prot |= libc::PROT_WRITE;
    }
    if page.executes() {
        prot |= libc::PROT_EXEC;
    }
    prot
}

/// Write-copy pages of views that are not copy-on-write (a shared or read-only view whose
/// pages `VirtualProtect` or `VirtualAlloc` made write-copy), as Windows has them: the
/// page reads the object until it is first written; that write gives the view a private
/// copy of it, which the write then changes (the object is untouched).
///
/// Linux side: such a page is mapped read-only, and registered here. A SIGSEGV on a
/// registered page maps a private copy of it in its place (a new anonymous page, the
/// bytes copied, `mremap` over the page: async-signal-safe calls only) and returns, so
/// the write runs again on the copy. Any other SIGSEGV goes to the action installed
/// before (or the default one, which ends the process), as if this handler did not exist.
pub(crate) mod cow {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A handler (`fn(c_int, *mut siginfo_t, *mut c_void) -> bool`, as a `usize`; 0 for
    /// none) that a SIGSEGV which is not a write-copy page's goes to first: true when it
    /// handled the fault (the thread resumes), false to go on to the action installed
    /// before. `SetUnhandledExceptionFilter` sets it (src/exception.rs).
    pub(crate) static UNHANDLED: AtomicUsize = AtomicUsize::new(0);
    use std::sync::OnceLock;

    /// Pages registered at once, at most (more are left read-only).
    const SLOTS: usize = 4096;
    /// Flags in a slot's low bits (the page address is page-aligned).
    const EXEC: usize = 1;
    const BUSY: usize = 2;
    const DONE: usize = 4;
    const FLAGS: usize = EXEC | BUSY | DONE;

    static PAGES: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
    static PAGE: AtomicUsize = AtomicUsize::new(4096);

    pub(crate) fn install() {
        PREVIOUS.get_or_init(|| {
            PAGE.store(super::page_size(), Ordering::Relaxed);
            // SAFETY: `sigaction` with a zeroed, then filled, action struct; the handler
            // reads atomics and makes async-signal-safe calls only.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = handler
                    as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
                    as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(libc::SIGSEGV, &new, &mut old);
                old
            }
        });
    }

    /// Registers the page at `page` (mapped read-only) as write-copy: its first write
    /// makes a private copy, executable when `exec`. False when no slot is free.
    pub(super) fn register(page: usize, exec: bool) -> bool {
        install();
        let value = page | if exec { EXEC } else { 0 };
        unregister(page, page + 1);
        for slot in &PAGES {
            if slot
                .compare_exchange(0, value, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
        }
        false
    }

    /// Forgets the pages of `start..end` (their protection changed, or they are
    /// unmapped).
    pub(super) fn unregister(start: usize, end: usize) {
        for slot in &PAGES {
            loop {
                let v = slot.load(Ordering::Acquire);
                let page = v & !FLAGS;
                if v == 0 || page < start || page >= end {
                    break;
                }
                if v & BUSY != 0 {
                    std::hint::spin_loop();
                    continue;
                }
                if slot
                    .compare_exchange(v, 0, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    break;
                }
            }
        }
    }

    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        let size = PAGE.load(Ordering::Relaxed);
        let page = addr & !(size - 1);
        for slot in &PAGES {
            let v = slot.load(Ordering::Acquire);
            if v == 0 || v & !FLAGS != page {
                continue;
            }
            if v & (BUSY | DONE) != 0 {
                // Another thread is copying it, or has: the write runs again on the copy.
                while slot.load(Ordering::Acquire) & BUSY != 0 {
                    std::hint::spin_loop();
                }
                return;
            }
            if slot
                .compare_exchange(v, v | BUSY, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                return;
            }
            let copied = copy_page(page, size, v & EXEC != 0);
            slot.store(
                if copied { (v & !BUSY) | DONE } else { v },
                Ordering::Release,
            );
            if copied {
                return;
            }
            break;
        }
        pass_on(sig, info, ctx);
    }

    /// Puts a private, writable copy of the page at `page` in its place.
    fn copy_page(page: usize, size: usize, exec: bool) -> bool {
        // SAFETY: a new anonymous page, filled from the registered page (mapped, readable)
        // and moved over it; the view that holds the page unmaps it with the rest later.
        unsafe {
            let new = libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if new == libc::MAP_FAILED {
                return false;
            }
            std::ptr::copy_nonoverlapping(page as *const u8, new.cast::<u8>(), size);
            let prot = libc::PROT_READ | libc::PROT_WRITE | if exec { libc::PROT_EXEC } else { 0 };
            if libc::mprotect(new, size, prot) != 0 {
                libc::munmap(new, size);
                return false;
            }
            let moved = libc::mremap(
                new,
                size,
                size,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                page as *mut libc::c_void,
            );
            if moved == libc::MAP_FAILED {
                libc::munmap(new, size);
                return false;
            }
            true
        }
    }

    /// Hands a fault that is not ours to the action installed before.
    fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let hook = UNHANDLED.load(Ordering::Acquire);
        if hook != 0 {
            // SAFETY: UNHANDLED holds 0 or a function of exactly this type.
            let f: fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) -> bool =
                unsafe { std::mem::transmute(hook) };
            if f(sig, info, ctx) {
                return;
            }
        }
        let Some(prev) = PREVIOUS.get() else { return };
        // SAFETY: called from the handler with the kernel's arguments; `prev` is the
        // action the kernel gave when the handler was installed.
        unsafe { shmkit::signal::pass_to_previous(prev, sig, info, ctx) }
    }
}

/// Whether the page at `addr` (of a copy-on-write view) holds a private copy: it was
/// written since it was mapped. /proc/self/pagemap tells: a page present or swapped out
/// that is not a page of the object's file (bit 61) is the view's own. Unknown (false)
/// when the map cannot be read.
fn copied(addr: usize) -> bool {
    use std::os::unix::fs::FileExt;
    // Opened each time: a descriptor kept open would still name this process in a child
    // forked from it.
    let Ok(map) = std::fs::File::open("/proc/self/pagemap") else {
        return false;
    };
    let mut entry = [0u8; 8];
    if map
        .read_exact_at(&mut entry, (addr / page_size() * 8) as u64)
        .is_err()
    {
        return false;
    }
    let entry = u64::from_le_bytes(entry);
    let (present, swapped, file) = (entry >> 63 & 1, entry >> 62 & 1, entry >> 61 & 1);
    (present == 1 || swapped == 1) && file == 0
}

impl ViewEntry {
    fn base(&self) -> usize {
        self.view.as_ptr() as usize
    }

    /// What page `i` (committed) reports: its protection, or for a write-copy page of a
    /// copy-on-write view that was written, the read-write protection of its private
    /// copy (as Windows reports it).
    fn reported(&self, i: usize) -> DWORD {
        let protect = self.protect[i];
        if self.written_copy(i) {
            access::written(protect)
        } else {
            protect
        }
    }

    /// Whether page `i` is write-copy and was written (holds its private copy).
    fn written_copy(&self, i: usize) -> bool {
        is_write_copy(self.protect[i]) && copied(self.base() + i * page_size())
    }

    /// Registers the write-copy pages of `from..to` of a view that is not copy-on-write
    /// (and not yet copied) for a copy on their first write; forgets the others.
    fn register_copies(&self, from: usize, to: usize) {
        let page = page_size();
        for i in from..to {
            let at = self.base() + i * page;
            if is_write_copy(self.protect[i]) && !self.page.copies() && !copied(at) {
                let exec = self.protect[i] & 0xFF == access::PAGE_EXECUTE_WRITECOPY;
                cow::register(at, exec);
            } else {
                cow::unregister(at, at + 1);
            }
        }
    }

    fn pages(&self) -> usize {
        self.protect.len()
    }

    /// Whether page `i` of the view is committed.
    fn committed(&self, committed: &[bool], i: usize) -> bool {
        committed.get(self.first_page + i).copied().unwrap_or(true)
    }

    /// Gives pages `from..to` of the view the Linux protection of what they report.
    fn apply(&self, committed: &[bool], from: usize, to: usize) -> NtResult<()> {
        let page = page_size();
        let mut i = from;
        while i < to {
            let prot = |i: usize| {
                if !self.committed(committed, i) {
                    libc::PROT_NONE
                } else if !self.page.copies() && self.written_copy(i) {
                    // The private copy of a write-copy page of a shared view.
                    prot_of(access::written(self.protect[i]), Page::ReadWrite)
                } else {
                    prot_of(self.protect[i], self.page)
                }
            };
            let p = prot(i);
            let mut j = i + 1;
            while j < to && prot(j) == p {
                j += 1;
            }
            let start = self.base() + i * page;
            let len = ((j - i) * page).min(self.view.len() - i * page);
            // SAFETY: the range lies inside this view's mapping, which this entry owns;
            // changing its protection touches no Rust object.
            let r = unsafe { libc::mprotect(start as *mut c_void, len, p) };
            if r != 0 {
                return Err(std::io::Error::last_os_error().into());
            }
            i = j;
        }
        Ok(())
    }
}

impl Drop for ViewEntry {
    fn drop(&mut self) {
        // Its pages are unmapped with it: none may stay registered for a copy.
        cow::unregister(self.base(), self.base() + self.view.len());
    }
}

/// Whether `protect` is write-copy or execute-write-copy.
fn is_write_copy(protect: DWORD) -> bool {
    matches!(
        protect & 0xFF,
        access::PAGE_WRITECOPY | access::PAGE_EXECUTE_WRITECOPY
    )
}

/// Registers a view just mapped, giving its pages the protection they report.
pub(crate) fn add(
    view: View,
    state: Arc<SectionState>,
    offset: u64,
    page: Page,
) -> Result<*mut c_void> {
    let size = page_size();
    let nocache = state.section.nocache;
    let alloc_protect = access::reported(page, nocache);
    let pages = view.len().div_ceil(size);
    let entry = ViewEntry {
        first_page: (offset / size as u64) as usize,
        page,
        alloc_protect,
        protect: vec![alloc_protect; pages],
        state,
        view,
    };
    {
        let committed = entry
            .state
            .committed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        entry.apply(&committed, 0, pages)?;
    }
    let base = entry.view.as_mut_ptr();
    views().map.insert(base as usize, entry);
    Ok(base.cast())
}

/// The regions of a memory map (`/proc/self/maps`, `/proc/<pid>/maps`): start, end, the
/// protection of their permissions, and whether they are shared (`s`).
fn os_regions(maps: &str) -> Vec<(usize, usize, DWORD, bool)> {
    let Ok(maps) = std::fs::read_to_string(maps) else {
        return Vec::new();
    };
    maps.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let (a, b) = range.split_once('-')?;
            let (a, b) = (
                usize::from_str_radix(a, 16).ok()?,
                usize::from_str_radix(b, 16).ok()?,
            );
            let p = perms.as_bytes();
            let (r, w, x) = (
                p.first() == Some(&b'r'),
                p.get(1) == Some(&b'w'),
                p.get(2) == Some(&b'x'),
            );
            let protect = match (r, w, x) {
                (_, true, true) => PAGE_EXECUTE_READWRITE,
                (_, true, false) => PAGE_READWRITE,
                (true, false, true) => PAGE_EXECUTE_READ,
                (false, false, true) => PAGE_EXECUTE,
                (true, false, false) => PAGE_READONLY,
                (false, false, false) => PAGE_NOACCESS,
            };
            Some((a, b, protect, p.get(3) == Some(&b's')))
        })
        .collect()
}

/// The highest address of the application range (`lpMaximumApplicationAddress`): above
/// it a query is `STATUS_INVALID_PARAMETER`, as on Windows.
pub(crate) const MAX_APPLICATION_ADDRESS: usize = 0x7FFF_FFFE_FFFF;

/// Describes `addr` from a memory map: a region of it (`MEM_COMMIT`, `MEM_PRIVATE` or,
/// when `shared_is_mapped` and the region is shared, `MEM_MAPPED`), else `MEM_FREE` up to
/// the next region.
fn describe_os(maps: &str, addr: usize, shared_is_mapped: bool) -> MEMORY_BASIC_INFORMATION {
    let page = page_size();
    let at = addr & !(page - 1);
    let regions = os_regions(maps);
    if let Some(&(start, end, protect, shared)) = regions.iter().find(|r| r.0 <= addr && addr < r.1)
    {
        return MEMORY_BASIC_INFORMATION {
            BaseAddress: at as *mut c_void,
            AllocationBase: start as *mut c_void,
            AllocationProtect: protect,
            PartitionId: 0,
            RegionSize: end - at,
            State: MEM_COMMIT,
            Protect: protect,
            Type: if shared && shared_is_mapped {
                MEM_MAPPED
            } else {
                MEM_PRIVATE
            },
        };
    }
    let next = regions
        .iter()
        .map(|r| r.0)
        .filter(|&s| s > addr)
        .min()
        .unwrap_or(MAX_APPLICATION_ADDRESS + 1);
    MEMORY_BASIC_INFORMATION {
        BaseAddress: at as *mut c_void,
        AllocationBase: std::ptr::null_mut(),
        AllocationProtect: 0,
        PartitionId: 0,
        RegionSize: next.saturating_sub(at),
        State: MEM_FREE,
        Protect: PAGE_NOACCESS,
        Type: 0,
    }
}

/// What `VirtualQuery` tells of `addr` in this process (see [`VirtualQuery`]).
pub(crate) fn query(addr: usize) -> MEMORY_BASIC_INFORMATION {
    let page = page_size();
    let at = addr & !(page - 1);
    let t = views();
    if let Some((base, entry)) = t.view_at(addr) {
        let committed = entry
            .state
            .committed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let describe = |i: usize| {
            if entry.committed(&committed, i) {
                (MEM_COMMIT, entry.reported(i))
            } else {
                (MEM_RESERVE, 0)
            }
        };
        let i = (at - base) / page;
        let (state, protect) = describe(i);
        let mut j = i + 1;
        while j < entry.pages() && describe(j) == (state, protect) {
            j += 1;
        }
        return MEMORY_BASIC_INFORMATION {
            BaseAddress: at as *mut c_void,
            AllocationBase: base as *mut c_void,
            AllocationProtect: entry.alloc_protect,
            PartitionId: 0,
            RegionSize: (j - i) * page,
            State: state,
            Protect: protect,
            Type: MEM_MAPPED,
        };
    }
    drop(t);
    privmem::query(addr).unwrap_or_else(|| describe_os("/proc/self/maps", addr, false))
}

/// What `VirtualQueryEx` tells of `addr` in this process (`pid` None: see
/// [`VirtualQuery`]) or in process `pid`, from its memory map (a shared region is
/// `MEM_MAPPED`, any other `MEM_PRIVATE`).
pub(crate) fn query_of(pid: Option<u32>, addr: usize) -> MEMORY_BASIC_INFORMATION {
    match pid {
        None => query(addr),
        Some(pid) => describe_os(&format!("/proc/{pid}/maps"), addr, true),
    }
}

/// `VirtualQuery` and `NtQueryVirtualMemory(MemoryBasicInformation)`: describes `addr`
/// in this process (`pid` None) or in process `pid`, from its memory map (a shared region
/// is `MEM_MAPPED`), into the `len` bytes at `info`. Returns the bytes written.
/// `STATUS_INFO_LENGTH_MISMATCH` when `len` is too small, `STATUS_ACCESS_VIOLATION` for
/// a NULL `info`, `STATUS_INVALID_PARAMETER` above the application range.
///
/// # Safety
/// `info` is NULL or points to `len` writable bytes.
pub(crate) unsafe fn query_into(
    addr: usize,
    pid: Option<u32>,
    info: *mut c_void,
    len: usize,
) -> NtResult<usize> {
    let size = std::mem::size_of::<MEMORY_BASIC_INFORMATION>();
    if len < size {
        return Err(NtStatus(status::INFO_LENGTH_MISMATCH));
    }
    if info.is_null() {
        return Err(NtStatus(status::ACCESS_VIOLATION));
    }
    if addr > MAX_APPLICATION_ADDRESS {
        return Err(NtStatus(status::INVALID_PARAMETER));
    }
    let mbi = query_of(pid, addr);
    // SAFETY: non-NULL with room for the structure (checked above), by the contract.
    unsafe { info.cast::<MEMORY_BASIC_INFORMATION>().write_unaligned(mbi) };
    Ok(size)
}

/// `VirtualQuery`: describes the memory at `addr`. For a view: its base
/// (`AllocationBase`) and protection when mapped (`AllocationProtect`, with
/// `PAGE_NOCACHE` for a `SEC_NOCACHE` mapping), the page holding `addr` (`BaseAddress`),
/// and from there the run of pages in the same state (`RegionSize`): `MEM_COMMIT` with
/// their protection (a write-copy page of a copy-on-write view that was written reports
/// `PAGE_READWRITE`, or `PAGE_EXECUTE_READWRITE`, as on Windows), or `MEM_RESERVE` with
/// 0 for the pages of a `SEC_RESERVE` mapping not yet committed; `MEM_MAPPED`. Other memory is described from the system's map
/// (`MEM_PRIVATE`, or `MEM_FREE` where nothing is mapped). Returns the bytes written, 0
/// on failure (`ERROR_BAD_LENGTH` for a buffer too small, `ERROR_NOACCESS` for a NULL
/// one, `ERROR_INVALID_PARAMETER` above the application range).
///
/// # Safety
/// `info` is NULL or points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn VirtualQuery(
    addr: *const c_void,
    info: *mut MEMORY_BASIC_INFORMATION,
    len: usize,
) -> usize {
    ffi(0, || {
        // SAFETY: by the function's contract.
        Ok(unsafe { query_into(addr as usize, None, info.cast(), len) }?)
    })
}

/// The pages `addr..addr+len` of the view that holds `addr`, as page indexes of the view
/// (None when no view holds it or the range goes past its end).
fn pages_of(t: &Views, addr: usize, len: usize) -> Option<(usize, usize, usize)> {
    let page = page_size();
    let (base, entry) = t.view_at(addr)?;
    let from = (addr - base) / page;
    let end = addr.checked_add(len)?;
    let to = (end - base).div_ceil(page);
    (to <= entry.pages()).then_some((base, from, to))
}

fn fail<T>(s: i32) -> NtResult<T> {
    Err(NtStatus(s))
}

/// `VirtualAlloc` and `NtAllocateVirtualMemory` in this process: commits (`kind`
/// `MEM_COMMIT`) the pages of `addr..addr+len` of a view with `protect` (see
/// [`VirtualAlloc`]). Returns the first page and the size of the pages committed.
pub(crate) fn commit(
    addr: usize,
    len: usize,
    kind: DWORD,
    protect: DWORD,
) -> NtResult<(usize, usize)> {
    if len == 0 {
        return fail(status::INVALID_PARAMETER);
    }
    if kind & (MEM_COMMIT | MEM_RESERVE) == 0 || kind & !(MEM_COMMIT | MEM_RESERVE) != 0 {
        return fail(status::INVALID_PARAMETER);
    }
    if addr == 0 || privmem::holds(addr) {
        return privmem::allocate(addr, len, kind, protect);
    }
    if kind & MEM_RESERVE != 0 && views().view_at(addr).is_none() {
        // A reservation at an address of the caller's choosing.
        return privmem::allocate(addr, len, kind, protect);
    }
    let mut t = views();
    let Some((base, from, to)) = pages_of(&t, addr, len) else {
        return fail(status::NOT_MAPPED_VIEW);
    };
    if kind != MEM_COMMIT {
        // A reservation where a view is.
        return fail(status::CONFLICTING_ADDRESSES);
    }
    let (new, _) =
        access::parse_page(protect).map_err(|_| NtStatus(status::INVALID_PAGE_PROTECTION))?;
    let entry = t.map.get_mut(&base).expect("the view was just found");
    if entry
        .state
        .file_backed
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        // A file's pages are always committed; Windows refuses to commit them again.
        return fail(status::ALREADY_COMMITTED);
    }
    if !access::may_commit(entry.page, new) {
        return fail(status::INVALID_PAGE_PROTECTION);
    }
    let state = entry.state.clone();
    let mut committed = state.committed.lock().unwrap_or_else(|p| p.into_inner());
    for i in from..to {
        entry.protect[i] = access::kept(protect, entry.alloc_protect);
    }
    let first = entry.first_page;
    for i in from..to {
        if let Some(c) = committed.get_mut(first + i) {
            *c = true;
        }
    }
    entry.register_copies(from, to);
    // Every view of the object in this process sees the pages committed.
    for other in t.map.values() {
        if Arc::ptr_eq(&other.state, &state) {
            other.apply(&committed, 0, other.pages())?;
        }
    }
    Ok((base + from * page_size(), (to - from) * page_size()))
}

/// `VirtualAlloc`. Outside views (a NULL address, private memory, or a reservation at an
/// address where no view is), private memory: see `privmem`. In a view: `MEM_COMMIT` of pages of a view commits those of a
/// `SEC_RESERVE` mapping (every view of the object in this process then sees them
/// committed) and gives them `flProtect` in this view; pages already committed just
/// take the protection. The protection must be within the view's (no write through a
/// read-only or copy view, no execute through a view without it:
/// `ERROR_INVALID_PARAMETER`); the range must lie in the view (`ERROR_INVALID_ADDRESS`,
/// as `MEM_RESERVE` in a view is); 0 bytes or a type without `MEM_COMMIT` or
/// `MEM_RESERVE` is `ERROR_INVALID_PARAMETER`. Returns the first committed page.
/// A commit at an address that is neither in a view nor private memory is
/// `ERROR_INVALID_ADDRESS`. A view of a
/// file-backed mapping is `ERROR_ACCESS_DENIED`, as on Windows.
#[no_mangle]
pub extern "C" fn VirtualAlloc(
    addr: *mut c_void,
    len: usize,
    kind: DWORD,
    protect: DWORD,
) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        Ok(commit(addr as usize, len, kind, protect)?.0 as *mut c_void)
    })
}

/// `VirtualProtect` and `NtProtectVirtualMemory` in this process (see
/// [`VirtualProtect`]): returns the first page and the size of the pages changed, and
/// stores the first one's old protection at `old`.
///
/// # Safety
/// `old` is NULL or points to a writable DWORD.
pub(crate) unsafe fn protect_pages(
    addr: usize,
    len: usize,
    protect: DWORD,
    old: *mut DWORD,
) -> NtResult<(usize, usize)> {
    if old.is_null() {
        return fail(status::ACCESS_VIOLATION);
    }
    if privmem::holds(addr) {
        let (first, size, before) = privmem::protect(addr, len, protect)?;
        // SAFETY: non-NULL (checked) and writable, by the function's contract.
        unsafe { *old = before };
        return Ok((first, size));
    }
    let mut t = views();
    let Some((base, from, to)) = pages_of(&t, addr, len.max(1)) else {
        return fail(if t.view_at(addr).is_some() {
            // A range that starts in a view and goes past its end.
            status::INVALID_PARAMETER
        } else {
            status::CONFLICTING_ADDRESSES
        });
    };
    let entry = t.map.get_mut(&base).expect("the view was just found");
    let committed = entry
        .state
        .committed
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if (from..to).any(|i| !entry.committed(&committed, i)) {
        return fail(status::NOT_COMMITTED);
    }
    let (new, _) =
        access::parse_page(protect).map_err(|_| NtStatus(status::INVALID_PAGE_PROTECTION))?;
    let mapping = entry.state.section.page;
    if !access::may_protect(mapping, entry.page, new) {
        return fail(status::INVALID_PAGE_PROTECTION);
    }
    let before = entry.reported(from);
    for i in from..to {
        entry.protect[i] = access::kept(protect, entry.alloc_protect);
    }
    entry.register_copies(from, to);
    entry.apply(&committed, from, to)?;
    // SAFETY: non-NULL (checked) and writable, by the function's contract.
    unsafe { *old = before };
    Ok((base + from * page_size(), (to - from) * page_size()))
}

/// `VirtualProtect`, for views only: gives the pages of `lpAddress..+dwSize` of a view
/// the protection `flNewProtect` and stores the first page's old protection. Every page
/// must be committed (`ERROR_INVALID_ADDRESS`) and in the view (`ERROR_INVALID_PARAMETER`
/// for a range past its end); the protection must be one the view and its mapping allow
/// (the view's own always; otherwise nothing more than both allow; nothing else on a
/// no-access view), else `ERROR_INVALID_PARAMETER`; `lpflOldProtect` NULL is
/// `ERROR_NOACCESS`. `PAGE_GUARD` is kept and reported (a guard page is not armed:
/// touching it is an ordinary access); `PAGE_NOCACHE` and `PAGE_WRITECOMBINE` are the
/// view's: those asked for are dropped, a `SEC_NOCACHE` view's pages keep
/// `PAGE_NOCACHE`. A write-copy page of a shared or read-only view reads the object
/// until its first write, which gives the view a private copy of it (the object and
/// its other views do not see the write), as on Windows. The old protection of a
/// write-copy page that was written is read-write (its private copy's).
///
/// # Safety
/// `old` is NULL or points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn VirtualProtect(
    addr: *mut c_void,
    len: usize,
    protect: DWORD,
    old: *mut DWORD,
) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        unsafe { protect_pages(addr as usize, len, protect, old) }?;
        Ok(TRUE)
    })
}

/// `VirtualFree` and `NtFreeVirtualMemory` in this process: a type other than
/// `MEM_DECOMMIT` or `MEM_RELEASE` is `STATUS_INVALID_PARAMETER`; views cannot be freed
/// or decommitted (`STATUS_INVALID_PARAMETER`, as Wine says); other memory is not this
/// library's (`STATUS_MEMORY_NOT_ALLOCATED`).
pub(crate) fn free(addr: usize, len: usize, kind: DWORD) -> NtResult<(usize, usize)> {
    if kind != MEM_DECOMMIT && kind != MEM_RELEASE {
        return fail(status::INVALID_PARAMETER);
    }
    if let Some(freed) = privmem::free(addr, len, kind) {
        return freed;
    }
    if views().view_at(addr).is_some() {
        return fail(status::INVALID_PARAMETER);
    }
    fail(status::MEMORY_NOT_ALLOCATED)
}

/// `VirtualFree`: views cannot be freed or decommitted (`UnmapViewOfFile` unmaps them):
/// `ERROR_INVALID_PARAMETER` for a view, as Windows says; other memory is not this
/// library's (`ERROR_INVALID_ADDRESS`).
#[no_mangle]
pub extern "C" fn VirtualFree(addr: *mut c_void, len: usize, kind: DWORD) -> BOOL {
    ffi(FALSE, || {
        free(addr as usize, len, kind)?;
        Ok(TRUE)
    })
}
