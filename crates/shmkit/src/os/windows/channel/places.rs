//! The end places' owners: a process id and a stamp of its start time, and whether that
//! process still runs (see the parent module's notes).

use super::super::sys::{self, code_of};
use crate::error::code;
use std::os::windows::io::AsRawHandle;
use std::sync::OnceLock;
use windows_sys::Win32::Foundation::{FILETIME, HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::Storage::FileSystem::SYNCHRONIZE;
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessTimes, OpenProcess, WaitForSingleObject,
    PROCESS_QUERY_LIMITED_INFORMATION,
};

fn process_time(process: HANDLE) -> Option<u32> {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: plain FFI call; the four out pointers are valid FILETIMEs.
    let ok = unsafe { GetProcessTimes(process, &mut created, &mut exited, &mut kernel, &mut user) };
    let t = u64::from(created.dwHighDateTime) << 32 | u64::from(created.dwLowDateTime);
    (ok != 0).then_some((t ^ (t >> 32)) as u32)
}

/// This process's place word: its id and the stamp of its start time.
pub(super) fn me() -> u64 {
    static ME: OnceLock<u64> = OnceLock::new();
    *ME.get_or_init(|| {
        // SAFETY: the pseudo-handle of the calling process needs no closing.
        let stamp = process_time(unsafe { GetCurrentProcess() }).unwrap_or(0);
        u64::from(std::process::id()) << 32 | u64::from(stamp)
    })
}

/// Whether the process of place word `word` still runs (see the parent module's notes). One
/// that cannot be asked (another user's, say) counts as alive.
pub(super) fn alive(word: u64) -> bool {
    let me = me();
    if word == me {
        return true;
    }
    let pid = (word >> 32) as u32;
    if pid == (me >> 32) as u32 {
        return false; // an earlier process with this process's id
    }
    // SAFETY: plain FFI call; the handle it returns is owned below.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, 0, pid) };
    let process = match sys::owned(h) {
        Ok(p) => p,
        Err(e) => return code_of(&e) != code::INVALID_PARAMETER,
    };
    let raw = process.as_raw_handle() as HANDLE;
    // SAFETY: plain FFI call on a handle owned here.
    if unsafe { WaitForSingleObject(raw, 0) } == WAIT_OBJECT_0 {
        return false;
    }
    process_time(raw).is_none_or(|t| t == word as u32)
}
