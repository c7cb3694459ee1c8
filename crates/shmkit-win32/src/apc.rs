//! What one thread can do to another of the same process: queue user APCs to it
//! (`QueueUserAPC`, run by its alertable waits), suspend and resume it (`SuspendThread`,
//! `ResumeThread`) and end it (`TerminateThread`).
//!
//! Each thread's [`Control`] (`threadctl`) lives in its `ThreadLife`. An APC is pushed on the thread's
//! queue and raises its `pending` word: an alertable wait sleeps on that word with its
//! objects (`wait`), and runs the queue on its own thread. Suspending another thread
//! sends it a real-time signal whose handler parks it on a futex word (its suspend count)
//! until the count is 0 again; terminating one sends another signal, whose handler makes
//! the raw `exit` system call of that thread alone. A signal goes only to a thread of
//! `CreateThread` (or to the caller itself): its `pthread_t` stays valid until the
//! library's joiner joins it, which it does holding the thread's `signals` lock.

use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::{Object, ProcessObject, ThreadLife};
use crate::suspend::{ERROR_SIGNAL_REFUSED, MAXIMUM_SUSPEND_COUNT};
use crate::threadctl::{
    futex_wait, futex_wake, install, suspend_signal, terminate_signal, Control,
};
use crate::types::*;
use std::ffi::{c_int, c_void};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

pub use crate::threadctl::ApcRoutine;

/// `WAIT_IO_COMPLETION`: an alertable wait ended because APCs ran.
pub(crate) const WAIT_IO_COMPLETION: DWORD = 0xC0;
/// Sends `sig` to the thread, unless it has been joined (then it is gone: nothing to
/// do). The thread is one of `CreateThread`, whose `pthread_t` is valid until joined.
fn send(life: &ThreadLife, sig: c_int) -> Result<()> {
    install()?;
    let ctl = &life.ctl;
    let joined = ctl.hold_signals();
    if *joined {
        return Ok(());
    }
    let value = libc::sigval {
        sival_ptr: ctl as *const Control as *mut c_void,
    };
    // SAFETY: the thread has not been joined (the joiner holds this lock to join it), so
    // its pthread_t is valid; an exited thread is simply not signalled.
    let r = unsafe {
        libc::pthread_sigqueue(
            ctl.pthread.load(Ordering::Acquire) as libc::pthread_t,
            sig,
            value,
        )
    };
    drop(joined);
    match r {
        0 | libc::ESRCH => Ok(()),
        _ => error::fail(err::GEN_FAILURE),
    }
}

/// The thread of this process that `h` names. A handle that is no thread handle is
/// `ERROR_INVALID_HANDLE`; another process's thread `ERROR_NOT_SUPPORTED`.
/// The process object of a child's main thread handle; `None` for a handle to a thread
/// of this process.
fn child_thread(h: HANDLE) -> Result<Option<Arc<ProcessObject>>> {
    match handles::get(h)? {
        Object::Thread(t) if !t.is_current() => Ok(Some(t)),
        Object::Thread(_) => Ok(None),
        _ => error::fail(err::INVALID_HANDLE),
    }
}

/// Queues `routine(data)` to the thread, as `QueueUserAPC` does, with `tag` (see
/// `Control::queue`); false (nothing queued) once the thread has ended, or while an APC
/// of the same tag waits.
pub(crate) fn queue_to(life: &ThreadLife, routine: ApcRoutine, data: usize, tag: usize) -> bool {
    !has_ended(life) && life.ctl.queue(routine, data, tag)
}

fn thread_of(h: HANDLE) -> Result<Arc<ThreadLife>> {
    let Object::Thread(t) = handles::get(h)? else {
        return error::fail(err::INVALID_HANDLE);
    };
    match t.thread_life() {
        Some(life) => Ok(life.clone()),
        None => error::fail(err::NOT_SUPPORTED),
    }
}

/// Whether the thread has ended, or its end is under way (its own exit or a
/// `TerminateThread` has claimed it): nothing may be queued to or asked of it any more.
fn has_ended(life: &ThreadLife) -> bool {
    life.exit_code().is_some() || life.ctl.exit_claimed.load(Ordering::Acquire)
}

fn is_caller(life: &ThreadLife) -> bool {
    // SAFETY: gettid has no preconditions.
    life.tid() == unsafe { libc::gettid() } as u32
}

// ---- the functions ------------------------------------------------------------------------

/// `QueueUserAPC`: queues `pfnAPC(dwData)` to run on the thread `hThread` names (a
/// thread of this process: one of `CreateThread`, the calling thread, any thread a
/// duplicated `GetCurrentThread()` names) the next time it waits alertably (`SleepEx`,
/// `WaitForSingleObjectEx`, `WaitForMultipleObjectsEx`, `SignalObjectAndWait` with
/// `bAlertable`), which then runs every queued APC, first queued first, and returns
/// `WAIT_IO_COMPLETION`. Returns non-zero on success. A handle that is no thread handle
/// is `ERROR_INVALID_HANDLE`; a NULL routine `ERROR_INVALID_PARAMETER`; a thread that
/// has ended `ERROR_GEN_FAILURE`; a child process's thread `ERROR_NOT_SUPPORTED` (APCs
/// are queued to threads of this process only).
#[no_mangle]
pub extern "C" fn QueueUserAPC(routine: Option<ApcRoutine>, h: HANDLE, data: usize) -> DWORD {
    ffi(0, || {
        let life = thread_of(h)?;
        let Some(routine) = routine else {
            return error::fail(err::INVALID_PARAMETER);
        };
        if has_ended(&life) {
            return error::fail(err::GEN_FAILURE);
        }
        let _ = life.ctl.queue(routine, data, 0);
        Ok(1)
    })
}

/// `SuspendThread`: raises the thread's suspend count and returns the count before the
/// call; the thread stops while the count is above 0. Suspending another thread stops
/// it where it is (a signal parks it) and returns once it has stopped; suspending the
/// calling thread stops it until another thread resumes it (the call then returns 0).
/// The thread is one of `CreateThread` or the calling thread; another thread of the
/// process (the main thread, a thread the program made itself) is `ERROR_NOT_SUPPORTED`.
/// A child's main thread (`PROCESS_INFORMATION::hThread`) is suspended by stopping the
/// child, all its threads (`suspend`). A count at `MAXIMUM_SUSPEND_COUNT` (127) is
/// `ERROR_SIGNAL_REFUSED`; a thread that has ended `ERROR_ACCESS_DENIED`; a handle that
/// is no thread handle `ERROR_INVALID_HANDLE`. Failures return `(DWORD)-1`.
///
/// As on Windows, a thread suspended while it holds a lock (the C runtime's heap lock,
/// say) keeps it until resumed: meant for debuggers, not for synchronization.
#[no_mangle]
pub extern "C" fn SuspendThread(h: HANDLE) -> DWORD {
    ffi(DWORD::MAX, || {
        if let Some(child) = child_thread(h)? {
            return child.suspend_main();
        }
        let life = thread_of(h)?;
        let me = is_caller(&life);
        if !me && !life.is_created() {
            return error::fail(err::NOT_SUPPORTED);
        }
        if has_ended(&life) {
            return error::fail(err::ACCESS_DENIED);
        }
        let ctl = &life.ctl;
        let before = {
            let _counting = ctl.counting.lock().unwrap_or_else(|p| p.into_inner());
            let before = ctl.count.load(Ordering::SeqCst);
            if before >= MAXIMUM_SUSPEND_COUNT {
                return error::fail(ERROR_SIGNAL_REFUSED);
            }
            ctl.count.store(before + 1, Ordering::SeqCst);
            before
        };
        if before > 0 {
            // Already stopped (or stopping).
            return Ok(before);
        }
        if me {
            ctl.park();
            return Ok(0);
        }
        send(&life, suspend_signal())?;
        // Returns once the thread is parked, resumed meanwhile, or gone.
        let slice = libc::timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000,
        };
        while ctl.parked.load(Ordering::SeqCst) == 0
            && ctl.count.load(Ordering::SeqCst) > 0
            && life.exit_code().is_none()
            && !ctl.exit_claimed.load(Ordering::Acquire)
        {
            futex_wait(&ctl.parked, 0, Some(&slice));
        }
        Ok(0)
    })
}

/// `ResumeThread`: lowers the thread's suspend count (a thread suspended by
/// `SuspendThread` or made with `CREATE_SUSPENDED`) and returns the count before the
/// call; at 0 the thread goes on (or starts its routine). A thread that is not suspended
/// (or has ended) is left alone and 0 is returned. A handle that is no thread handle is
/// `(DWORD)-1` with `ERROR_INVALID_HANDLE`. A child's main thread (suspended by
/// `SuspendThread`, or started with `CREATE_SUSPENDED`) goes on at 0: a child held
/// before its program runs it, a stopped one continues.
#[no_mangle]
pub extern "C" fn ResumeThread(h: HANDLE) -> DWORD {
    ffi(DWORD::MAX, || {
        let Object::Thread(t) = handles::get(h)? else {
            return error::fail(err::INVALID_HANDLE);
        };
        if !t.is_current() {
            return t.resume_main();
        }
        let Some(life) = t.thread_life() else {
            return Ok(0);
        };
        let ctl = &life.ctl;
        let _counting = ctl.counting.lock().unwrap_or_else(|p| p.into_inner());
        let before = ctl.count.load(Ordering::SeqCst);
        if before > 0 {
            ctl.count.store(before - 1, Ordering::SeqCst);
            if before == 1 {
                futex_wake(&ctl.count);
            }
        }
        Ok(before)
    })
}

/// `TerminateThread`: ends the thread at once with exit code `dwExitCode`: its handle is
/// signalled once it is gone, `GetExitCodeThread` reports the code, and a mutex it owned
/// is abandoned (the next wait for it returns `WAIT_ABANDONED`). The thread is one of
/// `CreateThread` or the calling thread (which the call then ends); another thread of
/// the process is `ERROR_NOT_SUPPORTED`, as is a child's thread; a handle that is no
/// thread handle `ERROR_INVALID_HANDLE`. A thread that has ended already is left as it
/// is (TRUE).
///
/// As on Windows, this is dangerous: nothing of the thread runs — no C++ destructor, no
/// thread-local destructor, no cleanup handler — its stack is freed (once the library
/// has joined it) and any lock it held stays held for ever: a critical section, an SRW
/// lock, the C runtime's heap or stdio lock, a lock inside this library. A process whose
/// thread was ended in the middle of such a call may hang the next time one is needed.
#[no_mangle]
pub extern "C" fn TerminateThread(h: HANDLE, code: DWORD) -> BOOL {
    ffi(FALSE, || {
        let life = thread_of(h)?;
        let me = is_caller(&life);
        if !life.is_created() {
            if !me {
                return error::fail(err::NOT_SUPPORTED);
            }
            // A thread the library did not start: no one joins it; its handle is
            // signalled as it goes.
            life.set_exit_code(code);
            life.raise_ended();
            // SAFETY: ends the calling thread alone, at once.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
            unreachable!("the exit system call returned");
        }
        if life.exit_code().is_some() || !life.ctl.claim_exit() {
            // Ended, or already on its way out by itself.
            return Ok(TRUE);
        }
        life.set_exit_code(code);
        if me {
            crate::objects::hand_to_joiner(life.clone());
            drop(life);
            // SAFETY: ends the calling thread alone, at once; the joiner joins it.
            unsafe { libc::syscall(libc::SYS_exit, 0) };
            unreachable!("the exit system call returned");
        }
        install()?;
        send(&life, terminate_signal())?;
        crate::objects::hand_to_joiner(life);
        Ok(TRUE)
    })
}

/// How long an alertable wait-all sleeps between looks at its APC queue.
pub(crate) const ALL_SLICE: Duration = Duration::from_millis(5);

// ---- ntdll's APC calls -------------------------------------------------------------------

/// An APC of `NtQueueApcThread`: `VOID NTAPI ApcProc(ULONG_PTR, ULONG_PTR, ULONG_PTR)`.
type NtApcRoutine = unsafe extern "C-unwind" fn(usize, usize, usize);

/// What an `NtQueueApcThread` APC calls, boxed behind the one word a queued APC carries.
struct NtApc {
    routine: NtApcRoutine,
    args: [usize; 3],
}

/// Runs (and frees) an APC queued by `NtQueueApcThread`.
unsafe extern "C-unwind" fn run_nt_apc(data: usize) {
    // SAFETY: `data` is the box `NtQueueApcThread` leaked for this APC, run once.
    let apc = unsafe { Box::from_raw(data as *mut NtApc) };
    // SAFETY: the routine the program queued, called with its three arguments.
    unsafe { (apc.routine)(apc.args[0], apc.args[1], apc.args[2]) }
}

/// `NtQueueApcThread` (ntdll, found through `GetProcAddress`): queues a user APC with
/// three arguments to a thread of this process, as `QueueUserAPC` does. A NULL routine
/// queues nothing and succeeds; a thread that has ended is `STATUS_UNSUCCESSFUL`, a
/// handle that is no thread `STATUS_INVALID_HANDLE`, a child's thread
/// `STATUS_NOT_SUPPORTED`. The last-error code is left alone.
#[no_mangle]
pub extern "C" fn NtQueueApcThread(
    h: HANDLE,
    routine: Option<NtApcRoutine>,
    a1: usize,
    a2: usize,
    a3: usize,
) -> i32 {
    let keep = error::get();
    let status = match thread_of(h) {
        Err(error::Win32Error(err::NOT_SUPPORTED)) => status::NOT_SUPPORTED,
        Err(_) => status::INVALID_HANDLE,
        Ok(life) if has_ended(&life) => status::UNSUCCESSFUL,
        Ok(life) => {
            if let Some(routine) = routine {
                let apc = Box::new(NtApc {
                    routine,
                    args: [a1, a2, a3],
                });
                let _ = life.ctl.queue(run_nt_apc, Box::into_raw(apc) as usize, 0);
            }
            status::SUCCESS
        }
    };
    error::set(keep);
    status
}

/// `NtTestAlert` (ntdll): runs the calling thread's queued APCs now, as an alertable wait
/// would; `STATUS_SUCCESS`.
#[no_mangle]
pub extern "C" fn NtTestAlert() -> i32 {
    ThreadLife::this_thread().ctl.run_pending();
    status::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static SEEN: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C-unwind" fn record(d: usize) {
        SEEN.store(SEEN.load(Ordering::SeqCst) * 10 + d, Ordering::SeqCst);
    }

    static STOP: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C-unwind" fn calls_handle_functions(_: *mut c_void) -> DWORD {
        while STOP.load(Ordering::SeqCst) == 0 {
            // Holds the handle table most of the time, as a long handle call would.
            let table = crate::handles::table();
            let until = std::time::Instant::now() + Duration::from_micros(200);
            while std::time::Instant::now() < until {
                std::hint::spin_loop();
            }
            drop(table);
            crate::handles::CloseHandle(0x1230 as HANDLE);
        }
        0
    }

    /// A thread suspended while it holds the handle table stops only once it lets go:
    /// else the ResumeThread that follows would wait for the table for ever.
    #[test]
    fn a_thread_suspended_in_a_handle_call_can_be_resumed() {
        // SAFETY: NULL attributes and id; the routine ignores its argument.
        let h = unsafe {
            crate::thread::CreateThread(
                std::ptr::null(),
                0,
                Some(calls_handle_functions),
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
            )
        };
        assert!(!h.is_null());
        let value = h as usize;
        let (done, rounds) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let h = value as HANDLE;
            let ok = (0..200).all(|_| SuspendThread(h) == 0 && ResumeThread(h) == 1);
            let _ = done.send(ok);
        });
        let ok = rounds.recv_timeout(Duration::from_secs(20));
        assert_eq!(ok, Ok(true), "the rounds failed, or stalled on the table");
        STOP.store(1, Ordering::SeqCst);
        assert_eq!(crate::wait::WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        assert_eq!(crate::handles::CloseHandle(h), TRUE);
    }

    #[test]
    fn apcs_run_in_order_in_alertable_waits_only() {
        let me = crate::process::GetCurrentThread();
        error::set(0);
        assert_eq!(QueueUserAPC(None, me, 0), 0);
        assert_eq!(error::get(), err::INVALID_PARAMETER);
        assert_eq!(QueueUserAPC(Some(record), 0x1234 as HANDLE, 0), 0);
        assert_eq!(error::get(), err::INVALID_HANDLE);
        assert_ne!(QueueUserAPC(Some(record), me, 1), 0);
        assert_ne!(QueueUserAPC(Some(record), me, 2), 0);
        assert_eq!(crate::thread::SleepEx(0, FALSE), 0);
        assert_eq!(SEEN.load(Ordering::SeqCst), 0);
        assert_eq!(crate::thread::SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(SEEN.load(Ordering::SeqCst), 12);
        assert_eq!(crate::thread::SleepEx(0, TRUE), 0);
    }
}
