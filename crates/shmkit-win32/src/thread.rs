//! Threads: `CreateThread`, `ExitThread`, `GetExitCodeThread`, `SwitchToThread`; thread
//! local storage (`TlsAlloc`...); and the alertable forms of the waits (`SleepEx`,
//! `WaitForSingleObjectEx`, `WaitForMultipleObjectsEx`), which run the thread's queued
//! APCs (`apc`) and then return `WAIT_IO_COMPLETION`.
//!
//! A thread of `CreateThread` is a joinable POSIX thread. Its handle names a
//! `ProcessObject::thread` whose word (`ThreadLife::ended`) is raised once the thread
//! has exited (the library's joiner joins it, then raises the word; its exit code was
//! stored before): waits for the handle sleep on that word, as for any other thread of
//! the process (`objects`). A mutex the thread owns when it ends is abandoned, as for
//! every thread (the core sees its owner gone) — already so when its handle is
//! signalled, as on Windows.

use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::{Object, ProcessObject, ThreadLife};
use crate::types::*;
use crate::wait;
use std::cell::RefCell;
use std::ffi::c_void;
use std::sync::{mpsc, Arc, Mutex};

/// A thread's routine, `DWORD WINAPI ThreadProc(LPVOID)`. `C-unwind`: `ExitThread` in it
/// ends the thread by unwinding its frames (`pthread_exit`).
pub type ThreadRoutine = unsafe extern "C-unwind" fn(*mut c_void) -> DWORD;

/// `CREATE_SUSPENDED`: the thread waits for `ResumeThread` before its routine runs.
const CREATE_SUSPENDED_FLAG: DWORD = 0x4;
/// `STACK_SIZE_PARAM_IS_A_RESERVATION`: the size is the stack's whole size here too.
const STACK_SIZE_RESERVATION: DWORD = 0x0001_0000;

extern "C-unwind" {
    // Declared here with the unwinding ABI: it ends the thread by a forced unwind.
    fn pthread_exit(value: *mut c_void) -> !;
}

/// What a new thread receives: its routine and argument, where it sends its life, and
/// whether it starts suspended.
struct Start {
    routine: ThreadRoutine,
    param: *mut c_void,
    reply: mpsc::SyncSender<Arc<ThreadLife>>,
    suspended: bool,
}

/// The new thread's first function. No value with a destructor lives across the call of
/// the routine, so `ExitThread` may unwind through this frame.
extern "C-unwind" fn thread_main(p: *mut c_void) -> *mut c_void {
    // SAFETY: `p` is the `Box<Start>` that `CreateThread` leaked for this thread alone.
    let start = unsafe { Box::from_raw(p.cast::<Start>()) };
    let Start {
        routine,
        param,
        reply,
        suspended,
    } = *start;
    // The thread's life is made (and its exit hook registered) before the routine runs;
    // the joiner will join the thread when it exits, then signal its handle. A suspended
    // start's count is 1 before anyone can see the thread.
    let life = ThreadLife::this_thread();
    life.join_on_exit();
    if suspended {
        life.ctl.start_suspended();
    }
    let _ = reply.send(life.clone());
    drop(reply);
    if suspended {
        life.ctl.wait_until_resumed();
    }
    drop(life);
    // SAFETY: the routine and its argument are the caller's, as `CreateThread` got them.
    let code = unsafe { routine(param) };
    ThreadLife::this_thread().set_exit_code(code);
    std::ptr::null_mut()
}

fn create_thread(
    tsa: *const SECURITY_ATTRIBUTES,
    stack: usize,
    routine: Option<ThreadRoutine>,
    param: *mut c_void,
    flags: DWORD,
    id: *mut DWORD,
) -> Result<HANDLE> {
    let Some(routine) = routine else {
        return error::fail(err::INVALID_PARAMETER);
    };
    let _ = STACK_SIZE_RESERVATION;
    crate::objects::start_joiner()?;
    // SAFETY: NULL or valid, by the caller's contract.
    let inheritable = unsafe { tsa.as_ref() }.is_some_and(|a| a.bInheritHandle != 0);
    let (reply, answer) = mpsc::sync_channel(1);
    let start = Box::into_raw(Box::new(Start {
        routine,
        param,
        reply,
        suspended: flags & CREATE_SUSPENDED_FLAG != 0,
    }));
    // SAFETY: a zeroed pthread_attr_t is initialized by pthread_attr_init before use and
    // destroyed after; `thread` is written by pthread_create.
    let created = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        libc::pthread_attr_init(&mut attr);
        if stack != 0 {
            let page = 4096;
            let size = stack.max(libc::PTHREAD_STACK_MIN).div_ceil(page) * page;
            libc::pthread_attr_setstacksize(&mut attr, size);
        }
        let mut thread: libc::pthread_t = 0;
        // SAFETY (of the cast): `thread_main` has the C calling convention that
        // pthread_create calls; only its unwinding behaviour differs.
        let main: extern "C" fn(*mut c_void) -> *mut c_void =
            std::mem::transmute(thread_main as extern "C-unwind" fn(*mut c_void) -> *mut c_void);
        let r = libc::pthread_create(&mut thread, &attr, main, start.cast());
        libc::pthread_attr_destroy(&mut attr);
        r
    };
    if created != 0 {
        // SAFETY: the thread was not made, so the box is still this function's.
        drop(unsafe { Box::from_raw(start) });
        return error::fail(match created {
            libc::EAGAIN => err::NOT_ENOUGH_MEMORY,
            _ => err::INVALID_PARAMETER,
        });
    }
    // The thread sends its life before anything else; it cannot fail to.
    let life = answer
        .recv()
        .map_err(|_| error::Win32Error(err::GEN_FAILURE))?;
    let tid = life.tid();
    let h = handles::insert(
        Object::Thread(Arc::new(ProcessObject::thread(life))),
        inheritable,
    );
    if !id.is_null() {
        // SAFETY: non-NULL and writable, by the caller's contract.
        unsafe { *id = tid };
    }
    Ok(h)
}

/// `CreateThread`: starts a thread of this process that runs `lpStartAddress(lpParameter)`.
/// Returns its handle (with every thread right; inheritable when `lpThreadAttributes`
/// says so, though thread handles are not passed to children), and its id in
/// `*lpThreadId` when that is not NULL. The handle is signalled when the thread ends,
/// and `GetExitCodeThread` then gives the routine's return value (or `ExitThread`'s
/// code). `dwStackSize` is the stack's size (0: the system's default; at least
/// `PTHREAD_STACK_MIN`). With `CREATE_SUSPENDED` the thread exists (its id and handle
/// are valid) but its routine runs only once `ResumeThread` has lowered its suspend
/// count to 0. A NULL routine is `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `tsa` is NULL or valid; `id` NULL or writable; the routine may be called with `param`
/// on another thread.
#[no_mangle]
pub unsafe extern "C" fn CreateThread(
    tsa: *const SECURITY_ATTRIBUTES,
    stack: usize,
    routine: Option<ThreadRoutine>,
    param: *mut c_void,
    flags: DWORD,
    id: *mut DWORD,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        create_thread(tsa, stack, routine, param, flags, id)
    })
}

/// `ExitThread`: ends the calling thread with exit code `code` (what
/// `GetExitCodeThread` reports; its handle is then signalled). The thread's frames are
/// unwound as `pthread_exit` unwinds them (C++ destructors run); thread-local
/// destructors run; mutexes it owns are abandoned.
#[no_mangle]
pub extern "C-unwind" fn ExitThread(code: DWORD) -> ! {
    ThreadLife::this_thread().set_exit_code(code);
    // SAFETY: ends the calling thread; nothing of this frame needs dropping.
    unsafe { pthread_exit(std::ptr::null_mut()) }
}

/// `GetExitCodeThread`: the thread's exit code, or `STILL_ACTIVE` (259) while it runs.
/// A child process's main thread (`PROCESS_INFORMATION.hThread`) reports the process's
/// code. A handle that is no thread handle is `ERROR_INVALID_HANDLE`; a NULL `code`
/// `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `code` is NULL or a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn GetExitCodeThread(h: HANDLE, code: *mut DWORD) -> BOOL {
    ffi(FALSE, || {
        let Object::Thread(t) = handles::get(h)? else {
            return error::fail(err::INVALID_HANDLE);
        };
        if code.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let value = match t.thread_life() {
            Some(life) => life.exit_code(),
            None => t.poll(),
        };
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { *code = value.unwrap_or(STILL_ACTIVE) };
        Ok(TRUE)
    })
}

/// `SwitchToThread`: yields the processor; TRUE (another thread may have run).
#[no_mangle]
pub extern "C" fn SwitchToThread() -> BOOL {
    std::thread::yield_now();
    TRUE
}

// ---- alertable waits --------------------------------------------------------------------

/// `SleepEx`: sleeps as [`Sleep`](crate::process::Sleep) does (`INFINITE`: forever);
/// with `bAlertable`, APCs queued to the thread (`QueueUserAPC`), before the call or
/// during it, end the sleep: they run, first queued first, on this thread, and the call
/// returns `WAIT_IO_COMPLETION`. Otherwise it returns 0.
#[no_mangle]
pub extern "C" fn SleepEx(ms: DWORD, alertable: BOOL) -> DWORD {
    if alertable == 0 {
        crate::process::Sleep(ms);
        return 0;
    }
    wait::sleep_alertable(ms)
}

/// `WaitForSingleObjectEx`: [`WaitForSingleObject`](wait::WaitForSingleObject); with
/// `bAlertable`, a wait that finds the object unsignalled is also ended by APCs queued
/// to the thread: they run, first queued first, and the call returns
/// `WAIT_IO_COMPLETION`. An object signalled at once is taken, and the APCs wait.
#[no_mangle]
pub extern "C" fn WaitForSingleObjectEx(h: HANDLE, ms: DWORD, alertable: BOOL) -> DWORD {
    if alertable == 0 {
        return wait::WaitForSingleObject(h, ms);
    }
    wait::single_alertable(h, ms)
}

/// `WaitForMultipleObjectsEx`: [`WaitForMultipleObjects`](wait::WaitForMultipleObjects);
/// with `bAlertable`, as [`WaitForSingleObjectEx`]: queued APCs end a wait that is not
/// satisfied at once, and it returns `WAIT_IO_COMPLETION`. A wait-all notices an APC
/// queued while it sleeps within 5 ms (it looks at the queue between sleeps); a wait-any
/// at once.
///
/// # Safety
/// `handles` points to `count` handles.
#[no_mangle]
pub unsafe extern "C" fn WaitForMultipleObjectsEx(
    count: DWORD,
    handles: *const HANDLE,
    wait_all: BOOL,
    ms: DWORD,
    alertable: BOOL,
) -> DWORD {
    // SAFETY: by the function's contract.
    unsafe { wait::multiple(count, handles, wait_all, ms, alertable != 0) }
}

// ---- thread local storage ---------------------------------------------------------------

/// Windows' number of TLS slots.
const TLS_SLOTS: usize = 1088;
/// `ERROR_NO_MORE_ITEMS`.
const ERROR_NO_MORE_ITEMS: DWORD = 259;
/// `TLS_OUT_OF_INDEXES`.
const TLS_OUT_OF_INDEXES: DWORD = 0xFFFF_FFFF;

/// Each slot's generation: odd while allocated. A thread's value counts only if it was
/// set under the slot's current generation, so a freed and reallocated slot reads as
/// NULL in every thread, as Windows clears it.
fn slots() -> std::sync::MutexGuard<'static, Vec<u64>> {
    static SLOTS: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    let mut s = SLOTS.lock().unwrap_or_else(|p| p.into_inner());
    if s.is_empty() {
        s.resize(TLS_SLOTS, 0);
    }
    s
}

thread_local! {
    static VALUES: RefCell<Vec<(u64, usize)>> = const { RefCell::new(Vec::new()) };
}

fn allocated(index: DWORD) -> Result<u64> {
    match slots().get(index as usize) {
        Some(&g) if g % 2 == 1 => Ok(g),
        _ => error::fail(err::INVALID_PARAMETER),
    }
}

/// `TlsAlloc`: a free thread-local slot, NULL in every thread; `TLS_OUT_OF_INDEXES`
/// (with `ERROR_NO_MORE_ITEMS`) when all 1088 are taken.
#[no_mangle]
pub extern "C" fn TlsAlloc() -> DWORD {
    ffi(TLS_OUT_OF_INDEXES, || {
        let mut s = slots();
        match s.iter().position(|g| g % 2 == 0) {
            Some(i) => {
                s[i] += 1;
                Ok(i as DWORD)
            }
            None => error::fail(ERROR_NO_MORE_ITEMS),
        }
    })
}

/// `TlsFree`: frees a slot (its values in every thread are gone); an index not allocated
/// is `ERROR_INVALID_PARAMETER`.
#[no_mangle]
pub extern "C" fn TlsFree(index: DWORD) -> BOOL {
    ffi(FALSE, || {
        let mut s = slots();
        match s.get_mut(index as usize) {
            Some(g) if *g % 2 == 1 => {
                *g += 1;
                Ok(TRUE)
            }
            _ => error::fail(err::INVALID_PARAMETER),
        }
    })
}

/// `TlsGetValue`: the calling thread's value of a slot (NULL until set); sets the last
/// error to 0 on success, as Windows does. An index not allocated is NULL with
/// `ERROR_INVALID_PARAMETER`.
#[no_mangle]
pub extern "C" fn TlsGetValue(index: DWORD) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        let generation = allocated(index)?;
        let value = VALUES.with(|v| match v.borrow().get(index as usize) {
            Some(&(g, value)) if g == generation => value,
            _ => 0,
        });
        error::set(err::SUCCESS);
        Ok(value as *mut c_void)
    })
}

/// `TlsSetValue`: sets the calling thread's value of a slot; an index not allocated is
/// `ERROR_INVALID_PARAMETER`.
#[no_mangle]
pub extern "C" fn TlsSetValue(index: DWORD, value: *mut c_void) -> BOOL {
    ffi(FALSE, || {
        let generation = allocated(index)?;
        VALUES.with(|v| {
            let mut v = v.borrow_mut();
            if v.len() <= index as usize {
                v.resize(index as usize + 1, (0, 0));
            }
            v[index as usize] = (generation, value as usize);
        });
        Ok(TRUE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apc::ResumeThread;

    unsafe extern "C-unwind" fn returns_param(p: *mut c_void) -> DWORD {
        p as usize as DWORD
    }

    unsafe extern "C-unwind" fn exits(p: *mut c_void) -> DWORD {
        ExitThread(p as usize as DWORD + 1)
    }

    fn run(routine: ThreadRoutine, param: usize) -> (DWORD, DWORD) {
        let mut id = 0;
        // SAFETY: NULL attributes; `id` is writable.
        let h = unsafe {
            CreateThread(
                std::ptr::null(),
                0,
                Some(routine),
                param as *mut c_void,
                0,
                &mut id,
            )
        };
        assert!(!h.is_null());
        assert_eq!(crate::process::GetThreadId(h), id);
        assert_eq!(wait::WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        let mut code = 0;
        // SAFETY: `code` is writable.
        assert_eq!(unsafe { GetExitCodeThread(h, &mut code) }, TRUE);
        assert_eq!(handles::CloseHandle(h), TRUE);
        (code, id)
    }

    #[test]
    fn a_thread_ends_with_its_routines_value_or_exit_threads_code() {
        assert_eq!(run(returns_param, 42).0, 42);
        assert_eq!(run(exits, 6).0, 7);
        assert_ne!(run(returns_param, 1).1, GetCurrentThreadIdForTest());
    }

    #[allow(non_snake_case)]
    fn GetCurrentThreadIdForTest() -> DWORD {
        crate::process::GetCurrentThreadId()
    }

    #[test]
    fn bad_thread_calls_fail_with_their_codes() {
        let mut code = 0;
        error::set(0);
        // SAFETY: `code` is writable; the handle is made up.
        let r = unsafe { GetExitCodeThread(0x1234 as HANDLE, &mut code) };
        assert_eq!(r, FALSE);
        assert_eq!(error::get(), err::INVALID_HANDLE);
        // SAFETY: NULL routine: refused before anything runs.
        let h = unsafe {
            CreateThread(
                std::ptr::null(),
                0,
                None,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
            )
        };
        assert!(h.is_null());
        assert_eq!(error::get(), err::INVALID_PARAMETER);
        assert_eq!(ResumeThread(0x1234 as HANDLE), DWORD::MAX);
        assert_eq!(error::get(), err::INVALID_HANDLE);
    }

    #[test]
    fn a_suspended_thread_runs_its_routine_once_resumed() {
        // SAFETY: NULL attributes and id; the routine takes its argument as a number.
        let h = unsafe {
            CreateThread(
                std::ptr::null(),
                0,
                Some(returns_param),
                9 as *mut c_void,
                CREATE_SUSPENDED_FLAG,
                std::ptr::null_mut(),
            )
        };
        assert!(!h.is_null());
        assert_eq!(wait::WaitForSingleObject(h, 50), WAIT_TIMEOUT);
        assert_eq!(ResumeThread(h), 1);
        assert_eq!(wait::WaitForSingleObject(h, 10_000), WAIT_OBJECT_0);
        assert_eq!(ResumeThread(h), 0);
        let mut code = 0;
        // SAFETY: `code` is writable.
        assert_eq!(unsafe { GetExitCodeThread(h, &mut code) }, TRUE);
        assert_eq!(code, 9);
        assert_eq!(handles::CloseHandle(h), TRUE);
    }

    #[test]
    fn tls_slots_are_per_thread_and_cleared_when_freed() {
        let i = TlsAlloc();
        assert_ne!(i, TLS_OUT_OF_INDEXES);
        assert!(TlsGetValue(i).is_null());
        assert_eq!(TlsSetValue(i, 5 as *mut c_void), TRUE);
        assert_eq!(TlsGetValue(i) as usize, 5);
        let other = std::thread::spawn(move || TlsGetValue(i) as usize)
            .join()
            .unwrap();
        assert_eq!(other, 0);
        assert_eq!(TlsFree(i), TRUE);
        assert_eq!(TlsFree(i), FALSE);
        assert!(TlsGetValue(i).is_null());
        assert_eq!(error::get(), err::INVALID_PARAMETER);
    }
}
