//! Unhandled exceptions and error modes: `SetUnhandledExceptionFilter`, `SetErrorMode`,
//! `GetErrorMode`.
//!
//! A fault the program does not handle is a Windows exception: SIGSEGV an access
//! violation (`STATUS_ACCESS_VIOLATION`, whether it read, wrote or executed and the
//! address), SIGBUS an in-page error (or a misalignment), SIGILL an illegal or
//! privileged instruction, SIGFPE the division or floating-point exception its code
//! says. The filter gets the exception's record and the thread's x64 context, built
//! from the signal's; what it returns decides: `EXCEPTION_EXECUTE_HANDLER` ends the
//! process with the exception code, `EXCEPTION_CONTINUE_EXECUTION` resumes the thread
//! with the context as the filter left it, anything else gives the signal the action
//! it had before (by default the end of the process by the signal).
//!
//! SIGSEGV reaches the filter through the write-copy handler of src/views.rs (which
//! takes the faults of write-copy pages first); the other signals through a handler of
//! this module, unless they had a handler before it (which keeps them).

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::types::DWORD;

/// `EXCEPTION_RECORD`, as the SDK lays it out.
#[repr(C)]
pub(crate) struct ExceptionRecord {
    code: DWORD,
    flags: DWORD,
    record: *mut ExceptionRecord,
    address: *mut c_void,
    parameters: DWORD,
    information: [usize; 15],
}

/// The x64 `CONTEXT`, as the SDK lays it out (1232 bytes).
#[repr(C, align(16))]
pub(crate) struct Context {
    home: [u64; 6],
    context_flags: u32,
    mx_csr: u32,
    /// Cs, Ds, Es, Fs, Gs, Ss.
    segments: [u16; 6],
    eflags: u32,
    debug: [u64; 6],
    /// Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8 to R15.
    integer: [u64; 16],
    rip: u64,
    /// The FXSAVE image (`XMM_SAVE_AREA32`).
    flt_save: [u8; 512],
    vector_register: [u8; 26 * 16],
    vector_control: u64,
    debug_control: u64,
    last_branch: [u64; 2],
    last_exception: [u64; 2],
}

const _: () = assert!(std::mem::size_of::<Context>() == 1232);
const _: () = assert!(std::mem::offset_of!(Context, rip) == 0xF8);
const _: () = assert!(std::mem::offset_of!(Context, flt_save) == 0x100);

/// `EXCEPTION_POINTERS`.
#[repr(C)]
pub(crate) struct ExceptionPointers {
    record: *mut ExceptionRecord,
    context: *mut Context,
}

type Filter = extern "C" fn(*mut ExceptionPointers) -> i32;

/// The filter, as a `usize` (0: none).
static FILTER: AtomicUsize = AtomicUsize::new(0);
/// The actions SIGBUS, SIGILL and SIGFPE had before this module's handler.
static PREVIOUS: OnceLock<[libc::sigaction; 3]> = OnceLock::new();
const SIGNALS: [libc::c_int; 3] = [libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

const CONTEXT_FULL: u32 = 0x0010_000B;
const CONTEXT_SEGMENTS: u32 = 0x0010_0004;

/// Linux's `gregs` index of each of CONTEXT's integer registers, in CONTEXT's order.
#[cfg(target_arch = "x86_64")]
const GREGS: [usize; 16] = [
    libc::REG_RAX as usize,
    libc::REG_RCX as usize,
    libc::REG_RDX as usize,
    libc::REG_RBX as usize,
    libc::REG_RSP as usize,
    libc::REG_RBP as usize,
    libc::REG_RSI as usize,
    libc::REG_RDI as usize,
    libc::REG_R8 as usize,
    libc::REG_R9 as usize,
    libc::REG_R10 as usize,
    libc::REG_R11 as usize,
    libc::REG_R12 as usize,
    libc::REG_R13 as usize,
    libc::REG_R14 as usize,
    libc::REG_R15 as usize,
];

/// The exception code of a signal, from its number and `si_code`.
fn code_of(sig: libc::c_int, si_code: libc::c_int) -> DWORD {
    // si_code values of <signal.h> (asm-generic/siginfo.h).
    const ILL_PRVOPC: i32 = 5;
    const FPE_INTDIV: i32 = 1;
    const FPE_INTOVF: i32 = 2;
    const FPE_FLTDIV: i32 = 3;
    const FPE_FLTOVF: i32 = 4;
    const FPE_FLTUND: i32 = 5;
    const FPE_FLTRES: i32 = 6;
    const FPE_FLTSUB: i32 = 8;
    const BUS_ADRALN: i32 = 1;
    match (sig, si_code) {
        (libc::SIGSEGV, _) => 0xC000_0005,
        (libc::SIGBUS, BUS_ADRALN) => 0x8000_0002,
        (libc::SIGBUS, _) => 0xC000_0006,
        (libc::SIGILL, ILL_PRVOPC) => 0xC000_0096,
        (libc::SIGILL, _) => 0xC000_001D,
        (libc::SIGFPE, FPE_INTDIV) => 0xC000_0094,
        (libc::SIGFPE, FPE_INTOVF) => 0xC000_0095,
        (libc::SIGFPE, FPE_FLTDIV) => 0xC000_008E,
        (libc::SIGFPE, FPE_FLTOVF) => 0xC000_0091,
        (libc::SIGFPE, FPE_FLTUND) => 0xC000_0093,
        (libc::SIGFPE, FPE_FLTRES) => 0xC000_008F,
        (libc::SIGFPE, FPE_FLTSUB) => 0xC000_008C,
        (libc::SIGFPE, _) => 0xC000_0090,
        _ => 0xC000_0005,
    }
}

/// Calls the filter for a fault; true when the thread is to resume (the filter said
/// `EXCEPTION_CONTINUE_EXECUTION`). Async-signal-safe (no allocation, no lock).
#[cfg(target_arch = "x86_64")]
fn dispatch(sig: libc::c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) -> bool {
    let filter = FILTER.load(Ordering::Acquire);
    if filter == 0 || info.is_null() || uctx.is_null() {
        return false;
    }
    // SAFETY: the kernel passes a valid siginfo and ucontext to an SA_SIGINFO handler;
    // FILTER holds a filter function the program gave.
    unsafe {
        let uc = &mut *uctx.cast::<libc::ucontext_t>();
        let g = &mut uc.uc_mcontext.gregs;
        let fault = (*info).si_addr() as usize;
        let rip = g[libc::REG_RIP as usize] as u64;
        let mut record: ExceptionRecord = std::mem::zeroed();
        record.code = code_of(sig, (*info).si_code);
        record.address = rip as usize as *mut c_void;
        match sig {
            libc::SIGSEGV | libc::SIGBUS if record.code != 0x8000_0002 => {
                // The page-fault error code: bit 1 a write, bit 4 an instruction fetch.
                let err = g[libc::REG_ERR as usize] as u64;
                let kind = if err & 0x10 != 0 || fault as u64 == rip {
                    8
                } else if err & 0x2 != 0 {
                    1
                } else {
                    0
                };
                record.parameters = 2;
                record.information[0] = kind;
                record.information[1] = fault;
                if sig == libc::SIGBUS {
                    record.parameters = 3;
                    record.information[2] = 0xC000_00B5; // STATUS_IO_DEVICE_ERROR
                }
            }
            _ => {}
        }
        let mut context: Context = std::mem::zeroed();
        context.context_flags = CONTEXT_FULL | CONTEXT_SEGMENTS;
        for (i, &r) in GREGS.iter().enumerate() {
            context.integer[i] = g[r] as u64;
        }
        context.rip = rip;
        context.eflags = g[libc::REG_EFL as usize] as u32;
        let csgsfs = g[libc::REG_CSGSFS as usize] as u64;
        // Cs, Ds, Es, Fs, Gs, Ss: Linux gives Cs, Gs and Fs; the data selectors of a
        // 64-bit process are the user data selector (0x2b), as on Windows.
        context.segments = [
            csgsfs as u16,
            0x2B,
            0x2B,
            (csgsfs >> 32) as u16,
            (csgsfs >> 16) as u16,
            0x2B,
        ];
        let fp = uc.uc_mcontext.fpregs;
        if !fp.is_null() {
            std::ptr::copy_nonoverlapping(fp.cast::<u8>(), context.flt_save.as_mut_ptr(), 512);
            context.mx_csr = (*fp).mxcsr;
        }
        let mut pointers = ExceptionPointers {
            record: &mut record,
            context: &mut context,
        };
        let f: Filter = std::mem::transmute(filter);
        match f(&mut pointers) {
            1 => {
                // EXCEPTION_EXECUTE_HANDLER: the process ends with the exception code.
                libc::_exit(record.code as i32);
            }
            -1 => {
                // EXCEPTION_CONTINUE_EXECUTION: the context, as the filter left it.
                for (i, &r) in GREGS.iter().enumerate() {
                    g[r] = context.integer[i] as i64;
                }
                g[libc::REG_RIP as usize] = context.rip as i64;
                g[libc::REG_EFL as usize] = context.eflags as i64;
                if !fp.is_null() {
                    std::ptr::copy_nonoverlapping(context.flt_save.as_ptr(), fp.cast::<u8>(), 512);
                }
                true
            }
            _ => false,
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn dispatch(_sig: libc::c_int, _info: *mut libc::siginfo_t, _uctx: *mut c_void) -> bool {
    false
}

/// The handler of SIGBUS, SIGILL and SIGFPE. A signal that had a handler before this
/// one (the core's SIGBUS handler of sync pages, or the program's own) goes to that
/// handler, as before: the filter sees only the signals that had none.
extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    let Some(previous) = PREVIOUS.get() else {
        return;
    };
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    let prev = &previous[i];
    let action = prev.sa_sigaction;
    if (action == libc::SIG_DFL || action == libc::SIG_IGN) && dispatch(sig, info, uctx) {
        return;
    }
    // SAFETY: called from this handler with the kernel's arguments; `prev` is an action
    // the kernel gave.
    unsafe { shmkit::signal::pass_to_previous(prev, sig, info, uctx) }
}

fn install() {
    PREVIOUS.get_or_init(|| {
        crate::views::cow::install();
        crate::views::cow::UNHANDLED.store(
            dispatch as fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) -> bool as usize,
            Ordering::Release,
        );
        // SAFETY: sigaction with a zeroed, then filled, action struct; the handler makes
        // async-signal-safe calls only.
        unsafe {
            let mut old: [libc::sigaction; 3] = std::mem::zeroed();
            for (i, &sig) in SIGNALS.iter().enumerate() {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = handler
                    as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void)
                    as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, &mut old[i]);
            }
            old
        }
    });
}

/// `SetUnhandledExceptionFilter`: the filter called for a fault no handler takes;
/// returns the previous filter (NULL at first).
#[no_mangle]
pub extern "C" fn SetUnhandledExceptionFilter(filter: Option<Filter>) -> Option<Filter> {
    let new = filter.map_or(0, |f| f as usize);
    if new != 0 {
        install();
    }
    let old = FILTER.swap(new, Ordering::AcqRel);
    // SAFETY: FILTER holds 0 or a filter function the program gave.
    (old != 0).then(|| unsafe { std::mem::transmute::<usize, Filter>(old) })
}

/// The process's error mode.
static ERROR_MODE: AtomicU32 = AtomicU32::new(0);

/// `SetErrorMode`: sets the process's error mode and returns the previous one. No
/// dialog box is ever shown here, whatever the mode.
#[no_mangle]
pub extern "C" fn SetErrorMode(mode: u32) -> u32 {
    ERROR_MODE.swap(mode, Ordering::AcqRel)
}

/// `GetErrorMode`: the process's error mode.
#[no_mangle]
pub extern "C" fn GetErrorMode() -> u32 {
    ERROR_MODE.load(Ordering::Acquire)
}
