//! What the library keeps of each thread of the process for other threads to act on it
//! (`apc`): its [`Control`] (APC queue, suspend count, the lock of signals sent to it),
//! and the two signals that suspend and end a thread, with their handlers. A thread that
//! holds the handle table ([`Unstoppable`]) takes them only once it lets go of it.
//!
//! This module imports nothing of the handle table or of the objects: the objects hold a
//! thread's control, the handle table's guard holds an [`Unstoppable`].

use crate::error::{self, Result};
use crate::types::err;
use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// A user APC, `VOID CALLBACK ApcProc(ULONG_PTR)`.
pub type ApcRoutine = unsafe extern "C-unwind" fn(usize);

/// `si_code` of a signal sent by `pthread_sigqueue`.
const SI_QUEUE: c_int = -1;

/// One thread's APC queue, suspend count and the locks of signals sent to it.
pub(crate) struct Control {
    /// Each APC: its routine, its argument and the tag it was queued with (0: none).
    apcs: Mutex<VecDeque<(ApcRoutine, usize, usize)>>,
    /// Non-zero while APCs are queued: raised as one is queued, lowered (under the
    /// queue's lock) once the queue is empty.
    pending: AtomicU32,
    /// The suspend count: the thread is parked while it is above 0.
    pub(crate) count: AtomicU32,
    /// Non-zero while the thread is parked by a suspension.
    pub(crate) parked: AtomicU32,
    /// Serializes `SuspendThread` and `ResumeThread` of the thread.
    pub(crate) counting: Mutex<()>,
    /// Held while a signal is sent to the thread, and by the joiner while it joins the
    /// thread; true once it has been joined (its `pthread_t` is then gone).
    signals: Mutex<bool>,
    /// Taken once, by the thread's own exit or by `TerminateThread`: whoever takes it
    /// hands the thread to the joiner.
    pub(crate) exit_claimed: AtomicBool,
    /// The thread's `pthread_t`, recorded on the thread itself.
    pub(crate) pthread: AtomicU64,
}

impl Control {
    /// The calling thread's control (called when its life is made, on that thread).
    pub(crate) fn new() -> Control {
        Control {
            apcs: Mutex::new(VecDeque::new()),
            pending: AtomicU32::new(0),
            count: AtomicU32::new(0),
            parked: AtomicU32::new(0),
            counting: Mutex::new(()),
            signals: Mutex::new(false),
            exit_claimed: AtomicBool::new(false),
            // SAFETY: pthread_self has no preconditions.
            pthread: AtomicU64::new(unsafe { libc::pthread_self() } as u64),
        }
    }

    /// Takes the thread's exit: true for the first caller only.
    pub(crate) fn claim_exit(&self) -> bool {
        !self.exit_claimed.swap(true, Ordering::AcqRel)
    }

    /// The lock the joiner holds while it joins the thread (see [`Control::mark_joined`]).
    pub(crate) fn hold_signals(&self) -> MutexGuard<'_, bool> {
        self.signals.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The word an alertable wait of this thread sleeps on.
    pub(crate) fn pending_word(&self) -> &AtomicU32 {
        &self.pending
    }

    /// A thread made with `CREATE_SUSPENDED`: its count starts at 1.
    pub(crate) fn start_suspended(&self) {
        self.count.store(1, Ordering::SeqCst);
    }

    /// Parks the calling thread (this control's own) while its suspend count is above 0.
    /// Only futex system calls and atomics: safe in a signal handler.
    pub(crate) fn park(&self) {
        self.parked.store(1, Ordering::SeqCst);
        futex_wake(&self.parked);
        loop {
            let c = self.count.load(Ordering::SeqCst);
            if c == 0 {
                break;
            }
            futex_wait(&self.count, c, None);
        }
        self.parked.store(0, Ordering::SeqCst);
    }

    /// Parks a thread made with `CREATE_SUSPENDED` before its routine.
    pub(crate) fn wait_until_resumed(&self) {
        self.park();
    }

    /// Runs the calling thread's queued APCs (its own control), first queued first, on
    /// this thread; true when any ran. APCs that they queue run too.
    pub(crate) fn run_pending(&self) -> bool {
        let mut ran = false;
        loop {
            let next = {
                let mut q = self.apcs.lock().unwrap_or_else(|p| p.into_inner());
                let next = q.pop_front();
                if q.is_empty() {
                    self.pending.store(0, Ordering::SeqCst);
                }
                next
            };
            let Some((routine, data, _)) = next else {
                return ran;
            };
            // SAFETY: the routine and its argument are what `QueueUserAPC` was given, to
            // be called on this thread.
            unsafe { routine(data) };
            ran = true;
        }
    }

    /// Queues `routine(data)`; a non-zero `tag` lets [`Control::withdraw`] take it back
    /// before it runs, and is queued once at most: while an APC of that tag waits, the
    /// call queues nothing and returns false (Windows' timer has one APC object, which
    /// cannot be queued twice).
    pub(crate) fn queue(&self, routine: ApcRoutine, data: usize, tag: usize) -> bool {
        let mut q = self.apcs.lock().unwrap_or_else(|p| p.into_inner());
        if tag != 0 && q.iter().any(|&(_, _, t)| t == tag) {
            return false;
        }
        q.push_back((routine, data, tag));
        drop(q);
        shmkit::sync::multi::raise(&self.pending);
        true
    }

    /// Takes back the APCs queued with `tag` (non-zero) that have not started, and
    /// returns their arguments, first queued first.
    pub(crate) fn withdraw(&self, tag: usize) -> Vec<usize> {
        let mut q = self.apcs.lock().unwrap_or_else(|p| p.into_inner());
        let mut taken = Vec::new();
        q.retain(|&(_, data, t)| {
            let keep = tag == 0 || t != tag;
            if !keep {
                taken.push(data);
            }
            keep
        });
        if q.is_empty() {
            self.pending.store(0, Ordering::SeqCst);
        }
        taken
    }
}

pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<&libc::timespec>) {
    let ts = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: a futex wait on a live word of this process; the timeout is NULL or valid.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            ts,
        )
    };
}

pub(crate) fn futex_wake(word: &AtomicU32) {
    // SAFETY: a futex wake of a live word of this process.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        )
    };
}

// ---- signals ----------------------------------------------------------------------------

pub(crate) fn suspend_signal() -> c_int {
    libc::SIGRTMIN() + 6
}

pub(crate) fn terminate_signal() -> c_int {
    libc::SIGRTMIN() + 7
}

/// Whether a signal came from `pthread_sigqueue` of this process (not `kill` from
/// elsewhere), so that its value is a `Control` of ours.
///
/// # Safety
/// `info` is the handler's siginfo.
unsafe fn ours(info: *mut libc::siginfo_t) -> bool {
    // SAFETY: by the function's contract; getpid is async-signal-safe.
    unsafe { (*info).si_code == SI_QUEUE && (*info).si_pid() == libc::getpid() }
}

const DEFER_SUSPEND: u32 = 1;
const DEFER_TERMINATE: u32 = 2;

thread_local! {
    /// How many of the library's own locks that a stopped thread must not keep (the
    /// handle table's) the thread holds now. Plain atomics without destructors: read and
    /// written by the signal handlers, on this thread.
    static HOLDING: AtomicU32 = const { AtomicU32::new(0) };
    /// What a handler left for the moment the thread lets go of them.
    static DEFERRED: AtomicU32 = const { AtomicU32::new(0) };
    /// The control a deferred suspension parks on.
    static DEFERRED_CTL: AtomicU64 = const { AtomicU64::new(0) };
}

/// Held (by the handle table's guard) while the thread holds a lock that the other
/// threads' calls need, `ResumeThread`'s among them: a suspension or termination that
/// comes meanwhile waits until it is dropped.
pub(crate) struct Unstoppable(());

impl Unstoppable {
    pub(crate) fn new() -> Unstoppable {
        HOLDING.with(|h| h.fetch_add(1, Ordering::SeqCst));
        Unstoppable(())
    }
}

impl Drop for Unstoppable {
    fn drop(&mut self) {
        if HOLDING.with(|h| h.fetch_sub(1, Ordering::SeqCst)) != 1 {
            return;
        }
        // A signal from here on acts at once; one that came before is done now.
        let deferred = DEFERRED.with(|d| d.swap(0, Ordering::SeqCst));
        if deferred & DEFER_TERMINATE != 0 {
            // SAFETY: ends the calling thread alone, as the handler would have.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
        }
        if deferred & DEFER_SUSPEND != 0 {
            let ctl = DEFERRED_CTL.with(|c| c.load(Ordering::SeqCst)) as *const Control;
            // SAFETY: the handler stored this thread's own control, which lives as long
            // as the thread does.
            unsafe { (*ctl).park() };
        }
    }
}

/// Whether the thread holds one of those locks now; if so, leaves `what` for later.
fn defer(what: u32, ctl: *const Control) -> bool {
    if HOLDING.with(|h| h.load(Ordering::SeqCst)) == 0 {
        return false;
    }
    DEFERRED_CTL.with(|c| c.store(ctl as u64, Ordering::SeqCst));
    DEFERRED.with(|d| d.fetch_or(what, Ordering::SeqCst));
    true
}

extern "C" fn on_suspend(_sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    // SAFETY: `info` is the kernel's; a signal of ours carries the address of the
    // target's `Control`, which lives as long as the thread (this one) does. Only atomics
    // (some thread-local, without destructors) and futex system calls run; errno is
    // kept.
    unsafe {
        if !ours(info) {
            return;
        }
        let errno = *libc::__errno_location();
        let ctl = (*info).si_value().sival_ptr as *const Control;
        if !defer(DEFER_SUSPEND, ctl) {
            (*ctl).park();
        }
        *libc::__errno_location() = errno;
    }
}

extern "C" fn on_terminate(_sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    // SAFETY: `info` is the kernel's. The raw exit system call ends this thread alone,
    // at once, running nothing of it (async-signal-safe); while the thread holds the
    // handle table, only once it lets go of it.
    unsafe {
        if ours(info) && !defer(DEFER_TERMINATE, std::ptr::null()) {
            libc::syscall(libc::SYS_exit, 0);
        }
    }
}

/// Installs (once) the handlers of the two signals.
pub(crate) fn install() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        let handlers: [(
            c_int,
            extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void),
        ); 2] = [
            (suspend_signal(), on_suspend),
            (terminate_signal(), on_terminate),
        ];
        handlers.iter().all(|&(sig, handler)| {
            // SAFETY: sigaction with a zeroed, then filled, action struct; the handlers
            // are async-signal-safe.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = handler as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, std::ptr::null_mut()) == 0
            }
        })
    });
    if ok {
        Ok(())
    } else {
        error::fail(err::GEN_FAILURE)
    }
}
