//! The kernel objects' own calls: `CreateMutexW`, `CreateEventW`, `CreateSemaphoreW`,
//! their `Open*W`, the rights each kind grants and asks for, and the basic-information
//! queries (`NtQueryMutant`, `NtQueryEvent`, `NtQuerySemaphore`) that tell an opened
//! handle what its creator knew: an event's reset mode, a semaphore's maximum, whether
//! the calling thread owns a mutex.

use super::super::security::Rights;
use super::super::sys::{self, code_of, last_error, wide};
use crate::error::code;
use crate::kind::Kind;
use crate::name::Name;
use crate::os::SyncParams;
use std::ffi::c_void;
use std::io;
use std::os::windows::io::{OwnedHandle, RawHandle};
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::Storage::FileSystem::{STANDARD_RIGHTS_REQUIRED, SYNCHRONIZE};
use windows_sys::Win32::System::Threading::{
    CreateEventW, CreateMutexW, CreateSemaphoreW, OpenEventW, OpenMutexW, OpenSemaphoreW,
};

/// MUTANT_QUERY_STATE, EVENT_QUERY_STATE and SEMAPHORE_QUERY_STATE (all 1).
const QUERY_STATE: u32 = 0x1;
/// EVENT_MODIFY_STATE and SEMAPHORE_MODIFY_STATE (both 2).
const MODIFY_STATE: u32 = 0x2;

/// A handle call on something that is not a mutex, an event or a semaphore.
fn not_sync() -> io::Error {
    io::Error::from_raw_os_error(code::INVALID_HANDLE as i32)
}

/// The rights that "read" and "write" grant on each kind. A mutex has no right of its
/// own to release it (ownership decides), so both bits give the right to wait on it.
pub(crate) fn rights(kind: Kind) -> Rights {
    match kind {
        Kind::Mutex => Rights {
            read: SYNCHRONIZE | QUERY_STATE,
            write: SYNCHRONIZE | QUERY_STATE,
            owner_extra: STANDARD_RIGHTS_REQUIRED,
        },
        _ => Rights {
            read: SYNCHRONIZE | QUERY_STATE,
            write: MODIFY_STATE,
            owner_extra: STANDARD_RIGHTS_REQUIRED,
        },
    }
}

/// What an open asks for: everything a handle of that kind can do.
pub(crate) fn open_rights(kind: Kind) -> u32 {
    match kind {
        Kind::Mutex => SYNCHRONIZE | QUERY_STATE,
        _ => SYNCHRONIZE | QUERY_STATE | MODIFY_STATE,
    }
}

/// `Create*W` of the kind `params` make; returns the handle and the last error
/// (ERROR_ALREADY_EXISTS when it opened an existing object).
pub(crate) fn create(
    params: SyncParams,
    sa: Option<&SECURITY_ATTRIBUTES>,
    name: Option<&[u16]>,
) -> io::Result<(OwnedHandle, u32)> {
    let sa = sa.map_or(std::ptr::null(), |s| s as *const SECURITY_ATTRIBUTES);
    let name = name.map_or(std::ptr::null(), <[u16]>::as_ptr);
    // SAFETY: `sa` and `name` (NUL-terminated) are null or valid for the call; the
    // returned handle is owned below.
    let h = unsafe {
        match params {
            SyncParams::Mutex { initial_owner } => CreateMutexW(sa, i32::from(initial_owner), name),
            SyncParams::Event {
                manual,
                initially_set,
            } => CreateEventW(sa, i32::from(manual), i32::from(initially_set), name),
            SyncParams::Semaphore { initial, max } => {
                CreateSemaphoreW(sa, initial as i32, max as i32, name)
            }
        }
    };
    let status = last_error();
    let handle = sys::owned(h)?;
    Ok((handle, code_of(&status)))
}

/// `Open*W` of `name`'s full name as an object of `kind`, with `rights`.
pub(crate) fn open(kind: Kind, name: &Name, rights: u32) -> io::Result<OwnedHandle> {
    let w = wide(&name.full());
    // SAFETY: `w` is NUL-terminated and outlives the call; the handle is owned below.
    let h = unsafe {
        match kind {
            Kind::Mutex => OpenMutexW(rights, 0, w.as_ptr()),
            Kind::Event => OpenEventW(rights, 0, w.as_ptr()),
            Kind::Semaphore => OpenSemaphoreW(rights, 0, w.as_ptr()),
            _ => return Err(not_sync()),
        }
    };
    sys::owned(h)
}

/// The kind-specific parameter of an object, asked of the object itself: the event's
/// manual-reset flag (1) or the semaphore's maximum (0 for a mutex). Fails when `h` is
/// not an object of `kind`.
pub(crate) fn param_of(h: RawHandle, kind: Kind) -> io::Result<u32> {
    Ok(match kind {
        Kind::Mutex => {
            query_mutant(h)?;
            0
        }
        Kind::Event => u32::from(query_event(h)?.event_type == 0),
        Kind::Semaphore => query_semaphore(h)?.maximum as u32,
        _ => return Err(not_sync()),
    })
}

#[link(name = "ntdll", kind = "raw-dylib")]
extern "system" {
    fn NtQueryMutant(h: HANDLE, class: u32, info: *mut c_void, len: u32, out: *mut u32) -> i32;
    fn NtQueryEvent(h: HANDLE, class: u32, info: *mut c_void, len: u32, out: *mut u32) -> i32;
    fn NtQuerySemaphore(h: HANDLE, class: u32, info: *mut c_void, len: u32, out: *mut u32) -> i32;
}

/// MUTANT_BASIC_INFORMATION.
#[repr(C)]
#[derive(Default)]
pub(crate) struct MutantInfo {
    pub current_count: i32,
    pub owned_by_caller: u8,
    pub abandoned: u8,
}

/// EVENT_BASIC_INFORMATION: `event_type` 0 is a manual-reset (notification) event.
#[repr(C)]
#[derive(Default)]
pub(crate) struct EventInfo {
    pub event_type: u32,
    pub state: i32,
}

/// SEMAPHORE_BASIC_INFORMATION.
#[repr(C)]
#[derive(Default)]
pub(crate) struct SemaphoreInfo {
    pub current: i32,
    pub maximum: i32,
}

macro_rules! basic_query {
    ($name:ident, $call:ident, $ty:ty) => {
        /// The object's basic information (class 0); fails for other kinds of handle.
        pub(crate) fn $name(h: RawHandle) -> io::Result<$ty> {
            let mut info = <$ty>::default();
            // SAFETY: `info` is a valid, writable structure of the size passed, of the
            // layout the kernel writes for class 0; the kernel validates `h`.
            let status = unsafe {
                $call(
                    h as HANDLE,
                    0,
                    (&mut info as *mut $ty).cast(),
                    std::mem::size_of::<$ty>() as u32,
                    std::ptr::null_mut(),
                )
            };
            if status < 0 {
                return Err(not_sync());
            }
            Ok(info)
        }
    };
}
basic_query!(query_mutant, NtQueryMutant, MutantInfo);
basic_query!(query_event, NtQueryEvent, EventInfo);
basic_query!(query_semaphore, NtQuerySemaphore, SemaphoreInfo);
