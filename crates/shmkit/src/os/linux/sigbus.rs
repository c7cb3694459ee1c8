//! Copies into and out of mapped memory that survive the memory going away under them.
//!
//! A shared file can be truncated while it is mapped — by its owner, by another user
//! granted write, or, for a file-backed mapping, by anyone who may write the file — and
//! touching a mapped page past the file's new end raises SIGBUS, which kills the process.
//! No check made before the copy can rule that out (the file can shrink right after it),
//! so the safe copies of `View::read`/`write` run under a guard instead:
//!
//! 1. The thread records the range it is about to copy to or from, in thread-local
//!    cells, and a process-wide SIGBUS handler is installed (once).
//! 2. A SIGBUS whose address lies in the calling thread's guarded range is answered by
//!    mapping a private zero page over the faulting page (`mmap` with `MAP_FIXED`, which
//!    is async-signal-safe) and noting the fault; the copy instruction then completes on
//!    that page.
//! 3. The copy reports the fault as an error, and the view remembers it: its bytes are no
//!    longer the object's.
//!
//! The pages of sync objects are touched by atomic instructions anywhere in their code,
//! not by one copy, so they get a place instead of a moment: every sync page is mapped
//! into one address range reserved for them ([`SyncSlot`]), and a SIGBUS in that range
//! is answered the same way and marks the slot damaged; the handle then reports every
//! operation as failed, since its state is no longer the object's.
//!
//! A channel's mapping (its ring, read and written in place by the caller) is a third
//! kind of guarded memory: a [`GuardedRange`] registers it whole, for as long as it is
//! mapped, and a SIGBUS in it is answered the same way and marks it damaged.
//!
//! Any other SIGBUS goes to the handler that was installed before (or the default
//! action, which ends the process), as if this one did not exist.

use std::cell::Cell;
use std::sync::atomic::{compiler_fence, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

thread_local! {
    /// The range the current thread is copying, `[start, end)`; `start == end` when none.
    static RANGE: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    /// Whether a SIGBUS hit the guarded range.
    static FAULTED: Cell<bool> = const { Cell::new(false) };
}

/// The SIGBUS action in place before ours, to pass other faults on to.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
/// The page size, read before the handler can run (the handler calls nothing else).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

fn install() {
    PREVIOUS.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page > 0 {
            PAGE.store(page as usize, Ordering::Relaxed);
        }
        // SAFETY: `sigaction` with a zeroed, then filled, action struct; the handler is
        // an `extern "C"` function that only touches thread-locals of `Cell`s with const
        // initialisers (no allocation, no lock) and makes async-signal-safe calls.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = handler
                as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
                as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGBUS, &new, &mut old);
            old
        }
    });
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let (start, end) = RANGE.with(Cell::get);
    if start <= addr && addr < end && zero_page_at(addr) {
        FAULTED.with(|f| f.set(true));
        return;
    }
    for g in &GUARDED {
        let start = g.start.load(Ordering::Relaxed);
        if start != 0 && start <= addr && addr < g.end.load(Ordering::Relaxed) && zero_page_at(addr)
        {
            g.damaged.store(true, Ordering::Relaxed);
            return;
        }
    }
    let base = SYNC_BASE.load(Ordering::Relaxed);
    if base != 0 && base <= addr && addr < base + SYNC_SLOTS * SYNC_PAGE && zero_page_at(addr) {
        let slot = (addr - base) / SYNC_PAGE;
        DAMAGED[slot / 64].fetch_or(1 << (slot % 64), Ordering::Relaxed);
        return;
    }
    pass_on(sig, info, ctx);
}

/// Maps a private zero page over the page of `addr` (async-signal-safe: one `mmap`).
fn zero_page_at(addr: usize) -> bool {
    let page = PAGE.load(Ordering::Relaxed);
    let at = addr & !(page - 1);
    // SAFETY: replaces one page of a guarded mapping — the range a thread is copying, or
    // a sync page, which stays mapped while its handle lives — with a private zero page;
    // the mapping's owner unmaps or releases it later as usual.
    let p = unsafe {
        libc::mmap(
            at as *mut libc::c_void,
            page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        )
    };
    p != libc::MAP_FAILED
}

/// Hands a fault that is not ours to the action installed before.
fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(prev) = PREVIOUS.get() else { return };
    // SAFETY: called from this handler with the kernel's arguments; `prev` is the action
    // the kernel gave when the handler was installed.
    unsafe { crate::signal::pass_to_previous(prev, sig, info, ctx) }
}

/// Copies `len` bytes from `src` to `dst`, where the range `[guarded, guarded + len)`
/// (one of the two) is mapped memory that may lose its backing. Returns whether the copy
/// completed on the object's own pages: false when part of the range had been truncated
/// away (those bytes were read as zeros, or written to a private page, and are lost).
///
/// # Safety
/// `src` is readable and `dst` writable for `len` bytes, they do not overlap, and
/// `guarded` is `src` or `dst`, inside a mapping that stays mapped during the call.
pub(super) unsafe fn copy(src: *const u8, dst: *mut u8, len: usize, guarded: usize) -> bool {
    install();
    RANGE.with(|r| r.set((guarded, guarded + len)));
    FAULTED.with(|f| f.set(false));
    // The handler runs on this thread, in the middle of the copy: keep the compiler from
    // moving the guard's cells across it.
    compiler_fence(Ordering::SeqCst);
    // SAFETY: by the function's contract.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, len) };
    compiler_fence(Ordering::SeqCst);
    RANGE.with(|r| r.set((0, 0)));
    !FAULTED.with(Cell::get)
}

/// The size of a sync page, and of a slot.
pub(super) const SYNC_PAGE: usize = 4096;
/// How many sync handles a process may have open at once (the reserved range is this many
/// pages of address space, with no memory behind them).
const SYNC_SLOTS: usize = 1 << 16;
/// The start of the range reserved for sync pages (0 until the first is mapped).
static SYNC_BASE: AtomicUsize = AtomicUsize::new(0);
/// One bit per slot: a SIGBUS replaced its page.
static DAMAGED: [AtomicU64; SYNC_SLOTS / 64] = [const { AtomicU64::new(0) }; SYNC_SLOTS / 64];
/// The slots in use: the next never used, and those given back.
static SLOTS: Mutex<(usize, Vec<usize>)> = Mutex::new((0, Vec::new()));

/// A page-sized place in the range reserved for sync pages, held until dropped. Its
/// address is mapped (PROT_NONE, with nothing behind it) until the owner maps a sync
/// page over it with `MAP_FIXED`; dropping it puts the reservation back over whatever is
/// mapped there.
pub(super) struct SyncSlot {
    index: usize,
    pub(super) addr: *mut libc::c_void,
}

// SAFETY: a slot is an address and an index; which thread gives it back does not matter.
unsafe impl Send for SyncSlot {}
// SAFETY: as above: shared references only read the address.
unsafe impl Sync for SyncSlot {}

/// Reserves `len` bytes of address space with nothing behind them.
fn reserve(at: *mut libc::c_void, len: usize) -> *mut libc::c_void {
    let fixed = if at.is_null() { 0 } else { libc::MAP_FIXED };
    // SAFETY: an anonymous PROT_NONE mapping, placed by the kernel, or (MAP_FIXED) over
    // a slot of the reserved range that the caller owns.
    unsafe {
        libc::mmap(
            at,
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | fixed,
            -1,
            0,
        )
    }
}

impl SyncSlot {
    pub(super) fn take() -> std::io::Result<SyncSlot> {
        install();
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        if SYNC_BASE.load(Ordering::Relaxed) == 0 {
            let base = reserve(std::ptr::null_mut(), SYNC_SLOTS * SYNC_PAGE);
            if base == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
            SYNC_BASE.store(base as usize, Ordering::Relaxed);
        }
        let index = match slots.1.pop() {
            Some(i) => i,
            None if slots.0 < SYNC_SLOTS => {
                slots.0 += 1;
                slots.0 - 1
            }
            None => {
                return Err(std::io::Error::other(format!(
                    "this process already has {SYNC_SLOTS} sync handles open"
                )))
            }
        };
        DAMAGED[index / 64].fetch_and(!(1 << (index % 64)), Ordering::Relaxed);
        let addr = (SYNC_BASE.load(Ordering::Relaxed) + index * SYNC_PAGE) as *mut libc::c_void;
        Ok(SyncSlot { index, addr })
    }

    /// Whether a SIGBUS replaced the page mapped in this slot.
    #[inline]
    pub(super) fn damaged(&self) -> bool {
        DAMAGED[self.index / 64].load(Ordering::Relaxed) & (1 << (self.index % 64)) != 0
    }
}

impl Drop for SyncSlot {
    fn drop(&mut self) {
        // Put the reservation back in one step (no moment where the kernel could place
        // another mapping there); if that fails, the slot is not reused.
        if reserve(self.addr, SYNC_PAGE) == self.addr {
            let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
            slots.1.push(self.index);
        }
    }
}

/// How many ranges can be guarded at once in a process (channel ends open).
const GUARDED_SLOTS: usize = 1024;

struct Guard {
    start: AtomicUsize,
    end: AtomicUsize,
    damaged: std::sync::atomic::AtomicBool,
}

static GUARDED: [Guard; GUARDED_SLOTS] = [const {
    Guard {
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        damaged: std::sync::atomic::AtomicBool::new(false),
    }
}; GUARDED_SLOTS];

/// A mapped range whose SIGBUS faults are answered with zero pages, registered until
/// dropped (drop it before unmapping the range).
pub(super) struct GuardedRange {
    slot: usize,
}

impl GuardedRange {
    /// Guards `[start, start + len)`.
    pub(super) fn new(start: usize, len: usize) -> std::io::Result<GuardedRange> {
        install();
        for (slot, g) in GUARDED.iter().enumerate() {
            if g.start
                .compare_exchange(0, usize::MAX, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                // Claimed with a start no address reaches; then the range, start last.
                g.damaged.store(false, Ordering::SeqCst);
                g.end.store(start + len, Ordering::SeqCst);
                g.start.store(start, Ordering::SeqCst);
                return Ok(GuardedRange { slot });
            }
        }
        Err(std::io::Error::other(format!(
            "this process already has {GUARDED_SLOTS} channel ends open"
        )))
    }

    /// Whether a SIGBUS replaced a page of the range (its file was truncated).
    #[inline]
    pub(super) fn damaged(&self) -> bool {
        GUARDED[self.slot].damaged.load(Ordering::Relaxed)
    }
}

impl Drop for GuardedRange {
    fn drop(&mut self) {
        let g = &GUARDED[self.slot];
        g.end.store(0, Ordering::SeqCst);
        g.start.store(0, Ordering::SeqCst);
    }
}
