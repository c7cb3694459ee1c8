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
//! Any other SIGBUS goes to the handler that was installed before (or the default
//! action, which ends the process), as if this one did not exist.

use std::cell::Cell;
use std::sync::atomic::{compiler_fence, AtomicUsize, Ordering};
use std::sync::OnceLock;

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
    if start <= addr && addr < end {
        let page = PAGE.load(Ordering::Relaxed);
        let at = addr & !(page - 1);
        // SAFETY: replaces one page of the guarded mapping, which the copying thread owns
        // for the duration of the copy, with a private zero page; the mapping's owner
        // unmaps the whole range later as usual.
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
        if p != libc::MAP_FAILED {
            FAULTED.with(|f| f.set(true));
            return;
        }
    }
    pass_on(sig, info, ctx);
}

/// Hands a fault that is not ours to the action installed before.
fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(prev) = PREVIOUS.get() else { return };
    let action = prev.sa_sigaction;
    if action == libc::SIG_DFL || action == libc::SIG_IGN {
        // Restore it and return: the faulting instruction runs again and gets the
        // default action (the end of the process), as without us.
        // SAFETY: `prev` is an action the kernel gave us.
        unsafe { libc::sigaction(sig, prev, std::ptr::null_mut()) };
        return;
    }
    // SAFETY: calling the previous handler as the kernel would have, with the same
    // arguments, according to its SA_SIGINFO flag.
    unsafe {
        if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(action);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(action);
            f(sig);
        }
    }
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
