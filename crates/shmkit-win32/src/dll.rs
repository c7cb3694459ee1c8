//! `DllMain` for shared libraries: the headers give every shared object built from C
//! or C++ that includes `windows.h` a constructor and a destructor that call these.

use crate::types::*;
use std::ffi::c_void;
use std::sync::Mutex;

/// The type of a library's `DllMain`.
pub type DllMainFn = unsafe extern "C" fn(HANDLE, DWORD, *mut c_void) -> BOOL;

const DLL_PROCESS_DETACH: DWORD = 0;
const DLL_PROCESS_ATTACH: DWORD = 1;

/// `DllMain`s attached so far (by address), so that each runs once however many of its
/// library's translation units carry the constructor.
static ATTACHED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Calls `dll_main(module, DLL_PROCESS_ATTACH, NULL)` once per `DllMain`. A `DllMain`
/// that returns FALSE fails the load, as on Windows: the process exits with the low byte
/// of `STATUS_DLL_INIT_FAILED` after saying so on standard error.
///
/// # Safety
/// `dll_main` is the library's `DllMain`, which may be called with these arguments.
#[no_mangle]
pub unsafe extern "C" fn shmkit_win32_dll_attach(dll_main: Option<DllMainFn>, module: HANDLE) {
    let Some(f) = dll_main else { return };
    {
        let mut attached = ATTACHED.lock().unwrap_or_else(|p| p.into_inner());
        if attached.contains(&(f as usize)) {
            return;
        }
        attached.push(f as usize);
    }
    // SAFETY: the library's own DllMain, by the caller's contract.
    if unsafe { f(module, DLL_PROCESS_ATTACH, std::ptr::null_mut()) } == FALSE {
        let mut name = [0 as std::ffi::c_char; 512];
        // SAFETY: a 512-char buffer.
        unsafe { crate::module::GetModuleFileNameA(module, name.as_mut_ptr(), 512) };
        // SAFETY: GetModuleFileNameA NUL-terminates the buffer (or leaves it all zero).
        let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
        eprintln!(
            "shmkit-win32: DllMain of {} failed on DLL_PROCESS_ATTACH",
            name.to_string_lossy()
        );
        // SAFETY: ending the process; the loader is in no state to go on.
        unsafe { libc::_exit(0xC000_0142_u32 as i32) };
    }
}

/// Calls `dll_main(module, DLL_PROCESS_DETACH, NULL)` once, for a `DllMain` that was
/// attached: when its library unloads or the process exits.
///
/// # Safety
/// As for [`shmkit_win32_dll_attach`].
#[no_mangle]
pub unsafe extern "C" fn shmkit_win32_dll_detach(dll_main: Option<DllMainFn>, module: HANDLE) {
    let Some(f) = dll_main else { return };
    {
        let mut attached = ATTACHED.lock().unwrap_or_else(|p| p.into_inner());
        let Some(i) = attached.iter().position(|&a| a == f as usize) else {
            return;
        };
        attached.swap_remove(i);
    }
    // SAFETY: the library's own DllMain, by the caller's contract.
    unsafe { f(module, DLL_PROCESS_DETACH, std::ptr::null_mut()) };
}
