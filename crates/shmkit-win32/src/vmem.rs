//! The memory of a process named by a handle: ntdll's `NtAllocateVirtualMemory`,
//! `NtFreeVirtualMemory`, `NtProtectVirtualMemory` and `NtQueryVirtualMemory`, kernel32's
//! `VirtualAllocEx`, `VirtualFreeEx`, `VirtualProtectEx` and `VirtualQueryEx`, and
//! `ReadProcessMemory`/`WriteProcessMemory`.
//!
//! For the calling process (`GetCurrentProcess()`, or a real handle to it) the first
//! eight do what `VirtualAlloc`, `VirtualFree`, `VirtualProtect` and `VirtualQuery` do,
//! through the same code (`views`): the NT forms return its NTSTATUS and update their
//! in/out base address and size as Windows does (rounded to the pages concerned); the
//! Win32 forms report the Win32 code of that status. Another process (a child of
//! `CreateProcess`) is queried from its memory map (`/proc/<pid>/maps`), but its memory
//! cannot be allocated, freed or protected: Linux has no system call that maps or
//! changes memory in another process without its cooperation, so those are
//! `STATUS_NOT_SUPPORTED` (`ERROR_NOT_SUPPORTED`).
//!
//! `ReadProcessMemory`/`WriteProcessMemory` copy with `process_vm_readv`/
//! `process_vm_writev`, for the calling process too: a page that cannot be read or
//! written makes the copy stop there with an error (`ERROR_PARTIAL_COPY`), never a fault
//! of the program.
//!
//! A handle is checked as Windows checks it: not a handle is `STATUS_INVALID_HANDLE`, a
//! handle to something other than a process (a thread, an event) is
//! `STATUS_OBJECT_TYPE_MISMATCH` (both `ERROR_INVALID_HANDLE`), and a process handle
//! without the right the call needs (`PROCESS_VM_OPERATION` to allocate, free and
//! protect, `PROCESS_QUERY_INFORMATION` to query, `PROCESS_VM_READ` to read,
//! `PROCESS_VM_WRITE` and `PROCESS_VM_OPERATION` to write) is `STATUS_ACCESS_DENIED`.

use crate::access;
use crate::error::{ffi, nt_ffi, NtResult, NtStatus};
use crate::handles;
use crate::objects::{Object, ProcessObject};
use crate::types::*;
use crate::views;
use std::ffi::c_void;
use std::sync::Arc;

const PROCESS_VM_OPERATION: DWORD = 0x0008;
const PROCESS_VM_READ: DWORD = 0x0010;
const PROCESS_VM_WRITE: DWORD = 0x0020;
const PROCESS_QUERY_INFORMATION: DWORD = 0x0400;
/// The only information class of `NtQueryVirtualMemory` provided.
const MEMORY_BASIC_INFORMATION_CLASS: u32 = 0;
/// The first address that is no user buffer (x64's `MmUserProbeAddress`): a copy that
/// reaches it is `STATUS_ACCESS_VIOLATION`.
const USER_PROBE_ADDRESS: usize = 0x7FFF_FFFF_0000;

fn fail<T>(s: i32) -> NtResult<T> {
    Err(NtStatus(s))
}

/// The process a handle names.
enum Target {
    /// The calling process.
    Own,
    /// Another process (a child).
    Other(Arc<ProcessObject>),
}

/// The process `h` names, when its handle has every right of `need`.
fn target(h: HANDLE, need: DWORD) -> NtResult<Target> {
    if h == INVALID_HANDLE_VALUE {
        return Ok(Target::Own);
    }
    let Ok((object, access)) = handles::get_with_access(h) else {
        return fail(status::INVALID_HANDLE);
    };
    let Object::Process(p) = object else {
        return fail(status::OBJECT_TYPE_MISMATCH);
    };
    if access & need != need {
        return fail(status::ACCESS_DENIED);
    }
    Ok(if p.is_current() {
        Target::Own
    } else {
        Target::Other(p)
    })
}

/// The calling process, when `h` names it with the rights `need`; another process is
/// `STATUS_NOT_SUPPORTED` (its memory cannot be mapped or changed from here).
fn own(h: HANDLE, need: DWORD) -> NtResult<()> {
    match target(h, need)? {
        Target::Own => Ok(()),
        Target::Other(_) => fail(status::NOT_SUPPORTED),
    }
}

/// The id of a process still running (an ended child is `STATUS_PROCESS_IS_TERMINATING`:
/// once reaped its id may name another process).
fn live_pid(p: &ProcessObject) -> NtResult<u32> {
    if p.poll().is_some() {
        return fail(status::PROCESS_IS_TERMINATING);
    }
    Ok(p.pid())
}

/// The process id to copy from or to, `None` for the calling process.
fn pid_of(t: Target) -> NtResult<Option<u32>> {
    match t {
        Target::Own => Ok(None),
        Target::Other(p) => live_pid(&p).map(Some),
    }
}

/// The in-out `*BaseAddress` and `*RegionSize` of the NT memory functions: reads them
/// (NULL pointers are `STATUS_ACCESS_VIOLATION`), runs `f` on them, and writes back the
/// first page and the size `f` gives.
///
/// # Safety
/// `base` and `size` are NULL or point to a readable and writable pointer and size.
unsafe fn with_range(
    base: *mut *mut c_void,
    size: *mut usize,
    f: impl FnOnce(usize, usize) -> NtResult<(usize, usize)>,
) -> NtResult<()> {
    if base.is_null() || size.is_null() {
        return fail(status::ACCESS_VIOLATION);
    }
    // SAFETY: non-NULL, and readable by the function's contract.
    let (addr, len) = unsafe { (base.read_unaligned(), size.read_unaligned()) };
    let (first, bytes) = f(addr as usize, len)?;
    // SAFETY: non-NULL, and writable by the function's contract.
    unsafe {
        base.write_unaligned(first as *mut c_void);
        size.write_unaligned(bytes);
    }
    Ok(())
}

/// `NtAllocateVirtualMemory`: for the calling process, what `VirtualAlloc` does (only
/// `MEM_COMMIT` of pages of a view), then `*BaseAddress` is the first page committed and
/// `*RegionSize` the size of the pages committed. `ZeroBits` from 22 to 31 is
/// `STATUS_INVALID_PARAMETER_3`; a NULL `BaseAddress` or `RegionSize` is
/// `STATUS_ACCESS_VIOLATION`; the other failures are `VirtualAlloc`'s as statuses
/// (`STATUS_INVALID_PARAMETER`, `STATUS_INVALID_PAGE_PROTECTION`,
/// `STATUS_NOT_MAPPED_VIEW`, `STATUS_CONFLICTING_ADDRESSES` for a reservation in a view,
/// `STATUS_ALREADY_COMMITTED` for a view of a file, `STATUS_NO_MEMORY` when a private
/// reservation cannot be made). Another process: `STATUS_NOT_SUPPORTED`.
///
/// # Safety
/// `base` and `size` are NULL or point to a readable and writable pointer and size.
#[no_mangle]
pub unsafe extern "C" fn NtAllocateVirtualMemory(
    process: HANDLE,
    base: *mut *mut c_void,
    zero_bits: usize,
    size: *mut usize,
    kind: u32,
    protect: u32,
) -> i32 {
    nt_ffi(|| {
        own(process, PROCESS_VM_OPERATION)?;
        // SAFETY: by the function's contract.
        unsafe {
            with_range(base, size, |addr, len| {
                if (22..32).contains(&zero_bits) {
                    return fail(status::INVALID_PARAMETER_3);
                }
                views::commit(addr, len, kind, protect)
            })
        }
    })
}

/// `NtFreeVirtualMemory`: for the calling process, what `VirtualFree` does: private
/// memory is decommitted or released (`*BaseAddress` and `*RegionSize` then give what
/// was freed), views cannot be freed or decommitted (`STATUS_INVALID_PARAMETER`), other
/// memory is not this library's (`STATUS_MEMORY_NOT_ALLOCATED`), a type other than `MEM_DECOMMIT` or
/// `MEM_RELEASE` is `STATUS_INVALID_PARAMETER`; NULL pointers are
/// `STATUS_ACCESS_VIOLATION`. Another process: `STATUS_NOT_SUPPORTED`.
///
/// # Safety
/// `base` and `size` are NULL or point to a readable and writable pointer and size.
#[no_mangle]
pub unsafe extern "C" fn NtFreeVirtualMemory(
    process: HANDLE,
    base: *mut *mut c_void,
    size: *mut usize,
    kind: u32,
) -> i32 {
    nt_ffi(|| {
        own(process, PROCESS_VM_OPERATION)?;
        // SAFETY: by the function's contract.
        unsafe { with_range(base, size, |addr, len| views::free(addr, len, kind)) }
    })
}

/// `NtProtectVirtualMemory`: for the calling process, what `VirtualProtect` does; then
/// `*BaseAddress` is the first page changed and `*RegionSize` the size of the pages
/// changed (a size of 0 is one page). Pages not committed are `STATUS_NOT_COMMITTED`, a
/// protection the view does not allow `STATUS_INVALID_PAGE_PROTECTION`, a range past the
/// view's end `STATUS_INVALID_PARAMETER`, memory that is no view
/// `STATUS_CONFLICTING_ADDRESSES`, NULL pointers `STATUS_ACCESS_VIOLATION`. Another
/// process: `STATUS_NOT_SUPPORTED`.
///
/// # Safety
/// `base` and `size` are NULL or point to a readable and writable pointer and size;
/// `old` is NULL or points to a writable ULONG.
#[no_mangle]
pub unsafe extern "C" fn NtProtectVirtualMemory(
    process: HANDLE,
    base: *mut *mut c_void,
    size: *mut usize,
    protect: u32,
    old: *mut u32,
) -> i32 {
    nt_ffi(|| {
        own(process, PROCESS_VM_OPERATION)?;
        let protect_range = |addr, len| {
            // SAFETY: `old` is NULL or writable, by the function's contract.
            unsafe { views::protect_pages(addr, len, protect, old) }
        };
        // SAFETY: by the function's contract.
        unsafe { with_range(base, size, protect_range) }
    })
}

/// `NtQueryVirtualMemory`, class `MemoryBasicInformation` (0) only (any other:
/// `STATUS_INVALID_INFO_CLASS`): what `VirtualQuery` tells of `BaseAddress` in the
/// calling process; another process (a child) is described from its memory map. A
/// buffer smaller than `MEMORY_BASIC_INFORMATION` is `STATUS_INFO_LENGTH_MISMATCH`, a
/// NULL one `STATUS_ACCESS_VIOLATION`, an address above the application range
/// `STATUS_INVALID_PARAMETER`; `*ReturnLength` (when not NULL) gets the size written.
///
/// # Safety
/// `info` is NULL or points to `len` writable bytes; `ret` is NULL or points to a
/// writable size.
#[no_mangle]
pub unsafe extern "C" fn NtQueryVirtualMemory(
    process: HANDLE,
    addr: *const c_void,
    class: u32,
    info: *mut c_void,
    len: usize,
    ret: *mut usize,
) -> i32 {
    nt_ffi(|| {
        let pid = pid_of(target(process, PROCESS_QUERY_INFORMATION)?)?;
        if class != MEMORY_BASIC_INFORMATION_CLASS {
            return fail(status::INVALID_INFO_CLASS);
        }
        // SAFETY: by the function's contract.
        let written = unsafe { views::query_into(addr as usize, pid, info, len) }?;
        if !ret.is_null() {
            // SAFETY: non-NULL, and writable by the function's contract.
            unsafe { ret.write_unaligned(written) };
        }
        Ok(())
    })
}

/// `VirtualAllocEx`: `VirtualAlloc` in the calling process; another process is
/// `ERROR_NOT_SUPPORTED`; a handle that is not a process's `ERROR_INVALID_HANDLE`, one
/// without `PROCESS_VM_OPERATION` `ERROR_ACCESS_DENIED`.
#[no_mangle]
pub extern "C" fn VirtualAllocEx(
    process: HANDLE,
    addr: *mut c_void,
    len: usize,
    kind: DWORD,
    protect: DWORD,
) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        own(process, PROCESS_VM_OPERATION)?;
        Ok(views::commit(addr as usize, len, kind, protect)?.0 as *mut c_void)
    })
}

/// `VirtualFreeEx`: `VirtualFree` in the calling process; another process is
/// `ERROR_NOT_SUPPORTED`; handles as for `VirtualAllocEx`.
#[no_mangle]
pub extern "C" fn VirtualFreeEx(
    process: HANDLE,
    addr: *mut c_void,
    len: usize,
    kind: DWORD,
) -> BOOL {
    ffi(FALSE, || {
        own(process, PROCESS_VM_OPERATION)?;
        views::free(addr as usize, len, kind)?;
        Ok(TRUE)
    })
}

/// `VirtualProtectEx`: `VirtualProtect` in the calling process; another process is
/// `ERROR_NOT_SUPPORTED`; handles as for `VirtualAllocEx`.
///
/// # Safety
/// `old` is NULL or points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn VirtualProtectEx(
    process: HANDLE,
    addr: *mut c_void,
    len: usize,
    protect: DWORD,
    old: *mut DWORD,
) -> BOOL {
    ffi(FALSE, || {
        own(process, PROCESS_VM_OPERATION)?;
        // SAFETY: by the function's contract.
        unsafe { views::protect_pages(addr as usize, len, protect, old) }?;
        Ok(TRUE)
    })
}

/// `VirtualQueryEx`: `VirtualQuery` in the calling process; another process (a child)
/// is described from its memory map (`MEM_COMMIT` regions with the protection of their
/// permissions, `MEM_MAPPED` when shared, else `MEM_PRIVATE`; `MEM_FREE` between them).
/// A handle that is not a process's is `ERROR_INVALID_HANDLE`, one without
/// `PROCESS_QUERY_INFORMATION` `ERROR_ACCESS_DENIED`, an ended child
/// `ERROR_ACCESS_DENIED`.
///
/// # Safety
/// `info` is NULL or points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn VirtualQueryEx(
    process: HANDLE,
    addr: *const c_void,
    info: *mut MEMORY_BASIC_INFORMATION,
    len: usize,
) -> usize {
    ffi(0, || {
        let pid = pid_of(target(process, PROCESS_QUERY_INFORMATION)?)?;
        // SAFETY: by the function's contract.
        Ok(unsafe { views::query_into(addr as usize, pid, info.cast(), len) }?)
    })
}

/// One `process_vm_readv` (`write` false: `remote` in `pid` to `local`) or
/// `process_vm_writev` (`local` to `remote`) of `len` bytes: the bytes copied, or the
/// errno.
///
/// # Safety
/// When reading, `local..local+len` is memory the caller may have overwritten (the
/// kernel checks that it is mapped and writable, never the program's own invariants).
unsafe fn vm_rw(
    pid: u32,
    local: usize,
    remote: usize,
    len: usize,
    write: bool,
) -> Result<usize, i32> {
    let l = libc::iovec {
        iov_base: local as *mut c_void,
        iov_len: len,
    };
    let r = libc::iovec {
        iov_base: remote as *mut c_void,
        iov_len: len,
    };
    let pid = pid as libc::pid_t;
    // SAFETY: one iovec each, valid for the call; the kernel checks every address (an
    // unmapped or protected page is EFAULT or a short count, never a signal), and what
    // it writes into this process is what the caller asked for.
    let n = unsafe {
        if write {
            libc::process_vm_writev(pid, &l, 1, &r, 1, 0)
        } else {
            libc::process_vm_readv(pid, &l, 1, &r, 1, 0)
        }
    };
    if n < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EFAULT))
    } else {
        Ok(n as usize)
    }
}

/// Whether the byte at `addr` in process `pid` can be read.
fn readable(pid: u32, addr: usize) -> bool {
    let mut byte = 0u8;
    // SAFETY: the local side is this one byte.
    let n = unsafe { vm_rw(pid, &mut byte as *mut u8 as usize, addr, 1, false) };
    n == Ok(1)
}

/// The status of a failed `process_vm_readv`/`process_vm_writev` (not a fault).
fn status_of_errno(errno: i32) -> i32 {
    match errno {
        libc::ESRCH => status::PROCESS_IS_TERMINATING,
        libc::EPERM | libc::EACCES => status::ACCESS_DENIED,
        libc::ENOMEM => status::NO_MEMORY,
        libc::ENOSYS => status::NOT_SUPPORTED,
        libc::EINVAL => status::INVALID_PARAMETER,
        _ => status::UNSUCCESSFUL,
    }
}

/// Copies `len` bytes between `local` in this process and `remote` in process `pid`
/// (`write` false: from `remote` to `local`). Returns the count to report and the
/// outcome. A range that reaches past the user addresses is `STATUS_ACCESS_VIOLATION`
/// (nothing copied); a page that cannot be read or written stops the copy there:
/// `STATUS_PARTIAL_COPY`, reporting the bytes copied when the destination faulted and 0
/// when the source did, as Windows 10 (since 1607) reports them (Wine's
/// dlls/kernel32/tests/virtual.c, test_VirtualAllocEx, records both on Windows).
///
/// # Safety
/// As [`vm_rw`].
unsafe fn copy(
    pid: u32,
    local: usize,
    remote: usize,
    len: usize,
    write: bool,
) -> (usize, NtResult<()>) {
    if len == 0 {
        return (0, Ok(()));
    }
    let beyond = |a: usize| {
        a.checked_add(len)
            .is_none_or(|end| end > USER_PROBE_ADDRESS)
    };
    if beyond(local) || beyond(remote) {
        return (0, fail(status::ACCESS_VIOLATION));
    }
    let page = views::page_size();
    let mut done = 0;
    while done < len {
        // SAFETY: by the function's contract (a part of the same ranges).
        match unsafe { vm_rw(pid, local + done, remote + done, len - done, write) } {
            Ok(n) if n > 0 => {
                done += n;
                continue;
            }
            Ok(_) | Err(libc::EFAULT) => {}
            Err(e) => return (0, fail(status_of_errno(e))),
        }
        // No progress: the rest of the page alone (on both sides), to see whether the
        // fault is right here or further on.
        let chunk = (page - (local + done) % page)
            .min(page - (remote + done) % page)
            .min(len - done);
        // SAFETY: as above.
        match unsafe { vm_rw(pid, local + done, remote + done, chunk, write) } {
            Ok(n) if n > 0 => done += n,
            Ok(_) | Err(libc::EFAULT) => break,
            Err(e) => return (0, fail(status_of_errno(e))),
        }
    }
    if done == len {
        return (len, Ok(()));
    }
    let source_readable = if write {
        readable(std::process::id(), local + done)
    } else {
        readable(pid, remote + done)
    };
    (
        if source_readable { done } else { 0 },
        fail(status::PARTIAL_COPY),
    )
}

/// `ReadProcessMemory`: copies `nSize` bytes at `lpBaseAddress` in the process (the
/// calling one, or a child: any process this user may trace) to `lpBuffer`, and stores
/// the count copied in `*lpNumberOfBytesRead` (when not NULL; 0 on failure). A page
/// that cannot be read, or a buffer that cannot be written, stops the copy:
/// `ERROR_PARTIAL_COPY`, with the bytes copied when the buffer faulted (0 when the
/// source did), as Windows 10 reports it; a range past the user addresses is
/// `ERROR_NOACCESS`. A handle that is not a process's is `ERROR_INVALID_HANDLE`, one
/// without `PROCESS_VM_READ` (or a child that has ended, or one this user may not
/// trace) `ERROR_ACCESS_DENIED`. 0 bytes succeed.
///
/// # Safety
/// `lpBuffer..+nSize` is memory the caller lets be overwritten (a page that is not
/// mapped or not writable is reported, not touched); `read` is NULL or points to a
/// writable size.
#[no_mangle]
pub unsafe extern "C" fn ReadProcessMemory(
    process: HANDLE,
    base: *const c_void,
    buffer: *mut c_void,
    size: usize,
    read: *mut usize,
) -> BOOL {
    ffi(FALSE, || {
        let (n, outcome) = match target(process, PROCESS_VM_READ).and_then(pid_of) {
            // SAFETY: `buffer..+size` may be overwritten, by the function's contract.
            Ok(pid) => unsafe {
                copy(
                    pid.unwrap_or_else(std::process::id),
                    buffer as usize,
                    base as usize,
                    size,
                    false,
                )
            },
            Err(e) => (0, Err(e)),
        };
        if !read.is_null() {
            // SAFETY: non-NULL, and writable by the function's contract.
            unsafe { read.write_unaligned(n) };
        }
        outcome?;
        Ok(TRUE)
    })
}

/// Whether a page of protection `protect` (committed) may be written.
fn writable(protect: DWORD) -> bool {
    matches!(
        protect & 0xFF,
        PAGE_READWRITE
            | access::PAGE_WRITECOPY
            | PAGE_EXECUTE_READWRITE
            | access::PAGE_EXECUTE_WRITECOPY
    )
}

/// `WriteProcessMemory`: copies `nSize` bytes from `lpBuffer` to `lpBaseAddress` in the
/// process (the calling one, or a child), and stores the count copied in
/// `*lpNumberOfBytesWritten` (when not NULL). As on Windows, the first page is looked at
/// first: when it is not writable (read-only, no access, reserved, free) the call fails
/// with `ERROR_NOACCESS` and leaves the count alone (Windows first makes an execute or
/// execute-read page writable; here that too is `ERROR_NOACCESS`). Otherwise a page
/// that cannot be written, or a buffer that cannot be read, stops the copy:
/// `ERROR_PARTIAL_COPY`, with the bytes copied when the destination faulted (0 when the
/// buffer did). The handle needs `PROCESS_VM_WRITE` and `PROCESS_VM_OPERATION`
/// (`ERROR_ACCESS_DENIED`); handles otherwise as for `ReadProcessMemory`.
///
/// # Safety
/// `lpBaseAddress..+nSize` of the process is memory the caller lets be overwritten;
/// `written` is NULL or points to a writable size.
#[no_mangle]
pub unsafe extern "C" fn WriteProcessMemory(
    process: HANDLE,
    base: *mut c_void,
    buffer: *const c_void,
    size: usize,
    written: *mut usize,
) -> BOOL {
    ffi(FALSE, || {
        let report = |n: usize| {
            if !written.is_null() {
                // SAFETY: non-NULL, and writable by the function's contract.
                unsafe { written.write_unaligned(n) };
            }
        };
        let pid = match target(process, PROCESS_VM_WRITE | PROCESS_VM_OPERATION).and_then(pid_of) {
            Ok(pid) => pid,
            Err(e) => {
                report(0);
                return Err(e.into());
            }
        };
        if size == 0 {
            report(0);
            return Ok(TRUE);
        }
        let addr = base as usize;
        if addr <= views::MAX_APPLICATION_ADDRESS {
            let mbi = views::query_of(pid, addr);
            if mbi.State != MEM_COMMIT || !writable(mbi.Protect) {
                return Err(NtStatus(status::ACCESS_VIOLATION).into());
            }
        }
        let pid = pid.unwrap_or_else(std::process::id);
        // SAFETY: the destination may be overwritten, by the function's contract.
        let (n, outcome) = unsafe { copy(pid, buffer as usize, addr, size, true) };
        report(n);
        outcome?;
        Ok(TRUE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error;
    use crate::handles::{CloseHandle, DuplicateHandle};
    use crate::mapping::{CreateFileMappingA, MapViewOfFile, UnmapViewOfFile};
    use crate::process::GetCurrentProcess;

    const SIZE: usize = 0x10000;
    const CUR: HANDLE = INVALID_HANDLE_VALUE;

    /// A `SEC_RESERVE` read-write view of 64 KiB (nothing committed) and its mapping.
    fn reserved_view() -> (HANDLE, *mut u8) {
        // SAFETY: no attributes, no name.
        let m = unsafe {
            CreateFileMappingA(
                INVALID_HANDLE_VALUE,
                std::ptr::null(),
                PAGE_READWRITE | access::SEC_RESERVE,
                0,
                SIZE as DWORD,
                std::ptr::null(),
            )
        };
        assert!(!m.is_null());
        let v = MapViewOfFile(m, access::FILE_MAP_WRITE, 0, 0, 0).cast::<u8>();
        assert!(!v.is_null());
        (m, v)
    }

    fn event() -> HANDLE {
        // SAFETY: no attributes, no name.
        unsafe { crate::sync::CreateEventA(std::ptr::null(), TRUE, FALSE, std::ptr::null()) }
    }

    fn release(m: HANDLE, v: *mut u8) {
        assert_eq!(UnmapViewOfFile(v.cast()), TRUE);
        assert_eq!(CloseHandle(m), TRUE);
    }

    /// A real handle to the calling process with `access`.
    fn own_handle(access: DWORD) -> HANDLE {
        let mut h = std::ptr::null_mut();
        // SAFETY: a local out-handle.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                GetCurrentProcess(),
                GetCurrentProcess(),
                &mut h,
                access,
                FALSE,
                0,
            )
        };
        assert_eq!(ok, TRUE);
        h
    }

    fn nt_alloc(
        h: HANDLE,
        addr: *mut u8,
        len: usize,
        kind: u32,
        protect: u32,
    ) -> (i32, usize, usize) {
        let (mut b, mut s) = (addr.cast::<c_void>(), len);
        // SAFETY: local pointer and size.
        let r = unsafe { NtAllocateVirtualMemory(h, &mut b, 0, &mut s, kind, protect) };
        (r, b as usize, s)
    }

    fn nt_protect(h: HANDLE, addr: *mut u8, len: usize, protect: u32) -> (i32, usize, usize, u32) {
        let (mut b, mut s, mut old) = (addr.cast::<c_void>(), len, 0);
        // SAFETY: local pointer, size and old protection.
        let r = unsafe { NtProtectVirtualMemory(h, &mut b, &mut s, protect, &mut old) };
        (r, b as usize, s, old)
    }

    fn nt_query(h: HANDLE, addr: *const u8, class: u32) -> (i32, MEMORY_BASIC_INFORMATION, usize) {
        // SAFETY: all zeroes is a valid MEMORY_BASIC_INFORMATION (NULL pointers, 0s).
        let mut mbi: MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
        let mut ret = 0;
        // SAFETY: a local structure of the size given, and a local size.
        let r = unsafe {
            NtQueryVirtualMemory(
                h,
                addr.cast(),
                class,
                (&mut mbi as *mut MEMORY_BASIC_INFORMATION).cast(),
                std::mem::size_of_val(&mbi),
                &mut ret,
            )
        };
        (r, mbi, ret)
    }

    fn nt_free(h: HANDLE, addr: *mut u8, kind: u32) -> i32 {
        let (mut b, mut s) = (addr.cast::<c_void>(), 0);
        // SAFETY: local pointer and size.
        unsafe { NtFreeVirtualMemory(h, &mut b, &mut s, kind) }
    }

    #[test]
    fn the_nt_forms_commit_protect_query_and_refuse_to_free_a_view_with_rounded_ranges() {
        let (m, v) = reserved_view();
        let page = views::page_size();
        let base = v as usize;
        // SAFETY: inside the view.
        let inner = unsafe { v.add(100) };
        error::set(1234);
        assert_eq!(
            nt_alloc(CUR, inner, 5000, MEM_COMMIT, PAGE_READWRITE),
            (0, base, 5100usize.div_ceil(page) * page)
        );
        // The NT forms leave the last error alone.
        assert_eq!(error::get(), 1234);
        let (r, mbi, ret) = nt_query(CUR, inner, 0);
        assert_eq!(
            (r, ret),
            (0, std::mem::size_of::<MEMORY_BASIC_INFORMATION>())
        );
        assert_eq!(
            (mbi.BaseAddress as usize, mbi.AllocationBase as usize),
            (base, base)
        );
        assert_eq!(
            (mbi.State, mbi.Protect, mbi.Type),
            (MEM_COMMIT, PAGE_READWRITE, MEM_MAPPED)
        );
        assert_eq!(mbi.RegionSize, 5100usize.div_ceil(page) * page);
        // Protection: the first page's old protection; size 0 is one page.
        assert_eq!(
            nt_protect(CUR, inner, 10, PAGE_READONLY),
            (0, base, page, PAGE_READWRITE)
        );
        assert_eq!(
            nt_protect(CUR, inner, 0, PAGE_READWRITE),
            (0, base, page, PAGE_READONLY)
        );
        // A real handle to this process with PROCESS_VM_OPERATION does the same.
        let op = own_handle(PROCESS_VM_OPERATION);
        assert_eq!(nt_protect(op, inner, 10, PAGE_READWRITE).0, 0);
        assert_eq!(nt_alloc(op, inner, 1, MEM_COMMIT, PAGE_READWRITE).0, 0);
        // Views are not freed.
        assert_eq!(nt_free(CUR, v, MEM_RELEASE), status::INVALID_PARAMETER);
        assert_eq!(nt_free(CUR, v, MEM_DECOMMIT), status::INVALID_PARAMETER);
        assert_eq!(nt_free(op, v, 0), status::INVALID_PARAMETER);
        // Without PROCESS_QUERY_INFORMATION no query; without PROCESS_VM_OPERATION no change.
        assert_eq!(nt_query(op, inner, 0).0, status::ACCESS_DENIED);
        let q = own_handle(PROCESS_QUERY_INFORMATION);
        assert_eq!(nt_query(q, inner, 0).0, 0);
        assert_eq!(
            nt_alloc(q, inner, 1, MEM_COMMIT, PAGE_READWRITE).0,
            status::ACCESS_DENIED
        );
        assert_eq!(
            nt_protect(q, inner, 1, PAGE_READWRITE).0,
            status::ACCESS_DENIED
        );
        assert_eq!(nt_free(q, v, MEM_RELEASE), status::ACCESS_DENIED);
        CloseHandle(op);
        CloseHandle(q);
        release(m, v);
    }

    #[test]
    fn the_nt_forms_report_bad_input_as_statuses() {
        let (m, v) = reserved_view();
        let page = views::page_size();
        // SAFETY: inside the view.
        let (inner, last, pages_on) = unsafe { (v.add(100), v.add(SIZE - 10), v.add(4 * page)) };
        assert_eq!(
            nt_alloc(CUR, inner, 0, MEM_COMMIT, PAGE_READWRITE).0,
            status::INVALID_PARAMETER
        );
        assert_eq!(
            nt_alloc(CUR, inner, 10, 0, PAGE_READWRITE).0,
            status::INVALID_PARAMETER
        );
        assert_eq!(
            nt_alloc(CUR, inner, 10, MEM_COMMIT | 1, PAGE_READWRITE).0,
            status::INVALID_PARAMETER
        );
        assert_eq!(
            nt_alloc(CUR, inner, 10, MEM_COMMIT, 0x1234).0,
            status::INVALID_PAGE_PROTECTION
        );
        assert_eq!(
            nt_alloc(CUR, inner, 10, MEM_COMMIT, PAGE_EXECUTE_READWRITE).0,
            status::INVALID_PAGE_PROTECTION
        );
        assert_eq!(
            nt_alloc(CUR, inner, 10, MEM_RESERVE, PAGE_READWRITE).0,
            status::CONFLICTING_ADDRESSES
        );
        assert_eq!(
            nt_alloc(CUR, last, 5000, MEM_COMMIT, PAGE_READWRITE).0,
            status::NOT_MAPPED_VIEW
        );
        // A commit at NULL reserves too: private memory, one page of it.
        let (r, private, size) =
            nt_alloc(CUR, std::ptr::null_mut(), 10, MEM_COMMIT, PAGE_READWRITE);
        assert_eq!((r, size), (status::SUCCESS, views::page_size()));
        assert_eq!(
            nt_free(CUR, private as *mut u8, MEM_RELEASE),
            status::SUCCESS
        );
        let (mut b, mut s) = (inner.cast::<c_void>(), 10usize);
        // SAFETY: local pointer and size; NULL is refused before anything is read.
        unsafe {
            assert_eq!(
                NtAllocateVirtualMemory(CUR, &mut b, 22, &mut s, MEM_COMMIT, PAGE_READWRITE),
                status::INVALID_PARAMETER_3
            );
            assert_eq!(
                NtAllocateVirtualMemory(
                    CUR,
                    std::ptr::null_mut(),
                    0,
                    &mut s,
                    MEM_COMMIT,
                    PAGE_READWRITE
                ),
                status::ACCESS_VIOLATION
            );
            assert_eq!(
                NtAllocateVirtualMemory(
                    CUR,
                    &mut b,
                    0,
                    std::ptr::null_mut(),
                    MEM_COMMIT,
                    PAGE_READWRITE
                ),
                status::ACCESS_VIOLATION
            );
            assert_eq!(
                NtProtectVirtualMemory(CUR, &mut b, &mut s, PAGE_READONLY, std::ptr::null_mut()),
                status::ACCESS_VIOLATION
            );
            assert_eq!(
                NtFreeVirtualMemory(CUR, &mut b, std::ptr::null_mut(), MEM_RELEASE),
                status::ACCESS_VIOLATION
            );
        }
        // A failed call leaves the base and the size alone.
        assert_eq!((b, s), (inner.cast::<c_void>(), 10));
        // Protection of pages not committed, of a range past the view, of no view.
        assert_eq!(
            nt_protect(CUR, pages_on, 10, PAGE_READONLY).0,
            status::NOT_COMMITTED
        );
        assert_eq!(nt_alloc(CUR, inner, 10, MEM_COMMIT, PAGE_READWRITE).0, 0);
        assert_eq!(
            nt_protect(CUR, inner, SIZE, PAGE_READONLY).0,
            status::INVALID_PARAMETER
        );
        assert_eq!(
            nt_protect(CUR, inner, 10, 0x1234).0,
            status::INVALID_PAGE_PROTECTION
        );
        let mut local = 0u8;
        assert_eq!(
            nt_protect(CUR, &mut local, 1, PAGE_READONLY).0,
            status::CONFLICTING_ADDRESSES
        );
        assert_eq!(
            nt_free(CUR, &mut local, MEM_RELEASE),
            status::MEMORY_NOT_ALLOCATED
        );
        // Queries: classes, lengths, buffers, addresses.
        assert_eq!(nt_query(CUR, inner, 1).0, status::INVALID_INFO_CLASS);
        assert_eq!(nt_query(CUR, inner, 99).0, status::INVALID_INFO_CLASS);
        assert_eq!(
            nt_query(CUR, 0x7FFF_FFFF_0000 as *const u8, 0).0,
            status::INVALID_PARAMETER
        );
        let mut ret = 77;
        // SAFETY: a short buffer is refused before anything is written; NULL too.
        unsafe {
            let mut small = [0u8; 8];
            assert_eq!(
                NtQueryVirtualMemory(
                    CUR,
                    inner.cast(),
                    0,
                    small.as_mut_ptr().cast(),
                    small.len(),
                    &mut ret
                ),
                status::INFO_LENGTH_MISMATCH
            );
            assert_eq!(ret, 77);
            assert_eq!(
                NtQueryVirtualMemory(CUR, inner.cast(), 0, std::ptr::null_mut(), 48, &mut ret),
                status::ACCESS_VIOLATION
            );
            let mut big = [0u8; 64];
            assert_eq!(
                NtQueryVirtualMemory(
                    CUR,
                    inner.cast(),
                    0,
                    big.as_mut_ptr().cast(),
                    big.len(),
                    std::ptr::null_mut()
                ),
                0
            );
        }
        // Handles: none, not a process, the calling thread's pseudo handle.
        let event = event();
        for (h, s) in [
            (0x1234 as HANDLE, status::INVALID_HANDLE),
            (std::ptr::null_mut(), status::INVALID_HANDLE),
            (event, status::OBJECT_TYPE_MISMATCH),
            (CURRENT_THREAD as HANDLE, status::OBJECT_TYPE_MISMATCH),
        ] {
            assert_eq!(nt_alloc(h, inner, 10, MEM_COMMIT, PAGE_READWRITE).0, s);
            assert_eq!(nt_protect(h, inner, 10, PAGE_READWRITE).0, s);
            assert_eq!(nt_query(h, inner, 0).0, s);
            assert_eq!(nt_free(h, v, MEM_RELEASE), s);
        }
        CloseHandle(event);
        release(m, v);
    }

    #[test]
    fn the_ex_forms_are_the_plain_ones_with_win32_codes() {
        let (m, v) = reserved_view();
        // SAFETY: inside the view.
        let inner = unsafe { v.add(100) };
        assert_eq!(
            VirtualAllocEx(CUR, inner.cast(), 5000, MEM_COMMIT, PAGE_READWRITE),
            v.cast()
        );
        let mut old = 0;
        // SAFETY: a local DWORD.
        let ok = unsafe { VirtualProtectEx(CUR, inner.cast(), 1, PAGE_READONLY, &mut old) };
        assert_eq!(ok, TRUE);
        assert_eq!(old, PAGE_READWRITE);
        // SAFETY: all zeroes is a valid MEMORY_BASIC_INFORMATION.
        let mut mbi: MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of_val(&mbi);
        // SAFETY: a local structure of that size.
        let n = unsafe { VirtualQueryEx(CUR, inner.cast(), &mut mbi, size) };
        assert_eq!(n, size);
        assert_eq!((mbi.State, mbi.Protect), (MEM_COMMIT, PAGE_READONLY));
        let fails = |ok: bool, code: DWORD| {
            assert!(!ok);
            assert_eq!(error::get(), code);
        };
        fails(
            VirtualFreeEx(CUR, v.cast(), 0, MEM_RELEASE) != 0,
            err::INVALID_PARAMETER,
        );
        fails(
            VirtualFreeEx(CUR, v.cast(), 0, 0) != 0,
            err::INVALID_PARAMETER,
        );
        fails(
            !VirtualAllocEx(CUR, inner.cast(), 0, MEM_COMMIT, PAGE_READWRITE).is_null(),
            err::INVALID_PARAMETER,
        );
        fails(
            !VirtualAllocEx(CUR, inner.cast(), 10, MEM_COMMIT, 0x1234).is_null(),
            err::INVALID_PARAMETER,
        );
        fails(
            !VirtualAllocEx(CUR, inner.cast(), 10, MEM_RESERVE, PAGE_READWRITE).is_null(),
            err::INVALID_ADDRESS,
        );
        // SAFETY: NULL and short buffers are refused before anything is written.
        unsafe {
            fails(
                VirtualProtectEx(CUR, inner.cast(), 1, PAGE_READONLY, std::ptr::null_mut()) != 0,
                err::NOACCESS,
            );
            fails(
                VirtualQueryEx(CUR, inner.cast(), &mut mbi, size - 1) != 0,
                err::BAD_LENGTH,
            );
            fails(
                VirtualQueryEx(CUR, inner.cast(), std::ptr::null_mut(), size) != 0,
                err::NOACCESS,
            );
        }
        let event = event();
        let q = own_handle(PROCESS_QUERY_INFORMATION);
        for (h, code) in [
            (0x1234 as HANDLE, err::INVALID_HANDLE),
            (event, err::INVALID_HANDLE),
            (q, err::ACCESS_DENIED),
        ] {
            fails(
                !VirtualAllocEx(h, inner.cast(), 10, MEM_COMMIT, PAGE_READWRITE).is_null(),
                code,
            );
            fails(VirtualFreeEx(h, v.cast(), 0, MEM_RELEASE) != 0, code);
            // SAFETY: a local DWORD.
            fails(
                unsafe { VirtualProtectEx(h, inner.cast(), 1, PAGE_READONLY, &mut old) } != 0,
                code,
            );
        }
        // SAFETY: a local structure of that size.
        unsafe {
            assert_eq!(VirtualQueryEx(q, inner.cast(), &mut mbi, size), size);
            fails(
                VirtualQueryEx(event, inner.cast(), &mut mbi, size) != 0,
                err::INVALID_HANDLE,
            );
        }
        CloseHandle(q);
        CloseHandle(event);
        release(m, v);
    }

    fn read(h: HANDLE, from: *const u8, to: *mut u8, len: usize) -> (BOOL, DWORD, usize) {
        let mut n = 77;
        error::set(0);
        // SAFETY: the destination is the test's own buffer (or a page the kernel checks).
        let ok = unsafe { ReadProcessMemory(h, from.cast(), to.cast(), len, &mut n) };
        (ok, if ok == TRUE { 0 } else { error::get() }, n)
    }

    fn write(h: HANDLE, to: *mut u8, from: *const u8, len: usize) -> (BOOL, DWORD, usize) {
        let mut n = 77;
        error::set(0);
        // SAFETY: the destination is the test's own view (or a page the kernel checks).
        let ok = unsafe { WriteProcessMemory(h, to.cast(), from.cast(), len, &mut n) };
        (ok, if ok == TRUE { 0 } else { error::get() }, n)
    }

    #[test]
    fn own_memory_is_read_and_written_with_faults_as_errors() {
        let (m, v) = reserved_view();
        let page = views::page_size();
        assert!(!VirtualAllocEx(CUR, v.cast(), SIZE, MEM_COMMIT, PAGE_READWRITE).is_null());
        let mut old = 0;
        // SAFETY: pages of the view; a local DWORD.
        let (noaccess, readonly) = unsafe { (v.add(2 * page), v.add(4 * page)) };
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                views::VirtualProtect(noaccess.cast(), page, PAGE_NOACCESS, &mut old),
                TRUE
            );
            assert_eq!(
                views::VirtualProtect(readonly.cast(), page, PAGE_READONLY, &mut old),
                TRUE
            );
        }
        let mut buf = [0u8; 32];
        let b = buf.as_mut_ptr();
        assert_eq!(write(CUR, v, c"hello".as_ptr().cast(), 6), (TRUE, 0, 6));
        assert_eq!(read(CUR, v, b, 6), (TRUE, 0, 6));
        assert_eq!(&buf[..6], b"hello\0");
        assert_eq!(read(CUR, v, b, 0), (TRUE, 0, 0));
        // SAFETY: the test's buffer; NULL counts are allowed.
        let ok = unsafe { ReadProcessMemory(CUR, v.cast(), b.cast(), 6, std::ptr::null_mut()) };
        assert_eq!(ok, TRUE);
        // SAFETY: offsets inside the view.
        let (before_noaccess, before_readonly) = unsafe { (noaccess.sub(8), readonly.sub(8)) };
        // A source crossing into a no-access page: nothing reported; a destination: what was copied.
        assert_eq!(
            read(CUR, before_noaccess, b, 16),
            (FALSE, err::PARTIAL_COPY, 0)
        );
        assert_eq!(
            read(CUR, v, before_noaccess, 16),
            (FALSE, err::PARTIAL_COPY, 8)
        );
        assert_eq!(read(CUR, noaccess, b, 16), (FALSE, err::PARTIAL_COPY, 0));
        assert_eq!(
            write(CUR, b, before_noaccess, 16),
            (FALSE, err::PARTIAL_COPY, 0)
        );
        assert_eq!(
            write(CUR, before_readonly, b, 16),
            (FALSE, err::PARTIAL_COPY, 8)
        );
        // A first page that is not writable: ERROR_NOACCESS, the count left alone.
        assert_eq!(write(CUR, readonly, b, 4), (FALSE, err::NOACCESS, 77));
        assert_eq!(write(CUR, noaccess, b, 4), (FALSE, err::NOACCESS, 77));
        // Bad pointers and ranges past the user addresses.
        assert_eq!(
            read(CUR, std::ptr::null(), b, 4),
            (FALSE, err::PARTIAL_COPY, 0)
        );
        assert_eq!(
            read(CUR, v, std::ptr::null_mut(), 4),
            (FALSE, err::PARTIAL_COPY, 0)
        );
        assert_eq!(
            read(CUR, 0x7FFF_FFFF_0000 as *const u8, b, 8),
            (FALSE, err::NOACCESS, 0)
        );
        assert_eq!(read(CUR, v, b, usize::MAX), (FALSE, err::NOACCESS, 0));
        // Handles and their rights.
        let r = own_handle(PROCESS_VM_READ);
        let w = own_handle(PROCESS_VM_WRITE | PROCESS_VM_OPERATION);
        let op = own_handle(PROCESS_VM_OPERATION);
        assert_eq!(read(r, v, b, 6), (TRUE, 0, 6));
        assert_eq!(read(w, v, b, 6), (FALSE, err::ACCESS_DENIED, 0));
        assert_eq!(write(w, v, b"abc".as_ptr(), 4), (TRUE, 0, 4));
        assert_eq!(
            write(r, v, b"abc".as_ptr(), 4),
            (FALSE, err::ACCESS_DENIED, 0)
        );
        assert_eq!(
            write(op, v, b"abc".as_ptr(), 4),
            (FALSE, err::ACCESS_DENIED, 0)
        );
        let event = event();
        for h in [
            0x1234 as HANDLE,
            std::ptr::null_mut(),
            event,
            CURRENT_THREAD as HANDLE,
        ] {
            assert_eq!(read(h, v, b, 6), (FALSE, err::INVALID_HANDLE, 0));
            assert_eq!(write(h, v, b, 6), (FALSE, err::INVALID_HANDLE, 0));
        }
        for h in [r, w, op, event] {
            CloseHandle(h);
        }
        release(m, v);
    }

    #[test]
    fn a_childs_memory_is_read_written_and_queried_but_not_changed() {
        // SAFETY: all zeroes is a valid STARTUPINFO (NULL pointers and handles, 0s).
        let mut si: STARTUPINFO<i8> = unsafe { std::mem::zeroed() };
        si.cb = std::mem::size_of_val(&si) as DWORD;
        let mut pi = PROCESS_INFORMATION {
            hProcess: std::ptr::null_mut(),
            hThread: std::ptr::null_mut(),
            dwProcessId: 0,
            dwThreadId: 0,
        };
        let mut line = *b"sleep 30\0";
        // SAFETY: a NUL-terminated, writable command line; local structures.
        let ok = unsafe {
            crate::process::CreateProcessA(
                std::ptr::null(),
                line.as_mut_ptr().cast(),
                std::ptr::null(),
                std::ptr::null(),
                FALSE,
                0,
                std::ptr::null_mut(),
                std::ptr::null(),
                (&si as *const STARTUPINFO<i8>).cast(),
                &mut pi,
            )
        };
        assert_eq!(ok, TRUE);
        let child = pi.hProcess;
        // Its first region holds its program's ELF header; a writable one, some data. The
        // spawn returns as the exec closes the child's descriptors, which can be before the
        // kernel has mapped its program: its map is read once the vDSO, mapped last, is
        // in it.
        let start = std::time::Instant::now();
        let maps = loop {
            let maps = std::fs::read_to_string(format!("/proc/{}/maps", pi.dwProcessId)).unwrap();
            if maps.contains("[vdso]") {
                break maps;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "no program mapped"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        let region = |perms: &str| {
            maps.lines()
                .find(|l| l.split_whitespace().nth(1) == Some(perms))
                .and_then(|l| usize::from_str_radix(l.split('-').next()?, 16).ok())
                .unwrap()
        };
        let header = maps
            .lines()
            .next()
            .and_then(|l| usize::from_str_radix(l.split('-').next()?, 16).ok())
            .unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            read(child, header as *const u8, buf.as_mut_ptr(), 4),
            (TRUE, 0, 4)
        );
        assert_eq!(&buf[..4], b"\x7fELF");
        let data = region("rw-p") as *mut u8;
        let mut saved = [0u8; 4];
        assert_eq!(read(child, data, saved.as_mut_ptr(), 4), (TRUE, 0, 4));
        assert_eq!(write(child, data, b"abcd".as_ptr(), 4), (TRUE, 0, 4));
        assert_eq!(read(child, data, buf.as_mut_ptr(), 4), (TRUE, 0, 4));
        assert_eq!(&buf[..4], b"abcd");
        assert_eq!(write(child, data, saved.as_ptr(), 4), (TRUE, 0, 4));
        // Queried from its map; not allocated, freed or protected.
        // SAFETY: all zeroes is a valid MEMORY_BASIC_INFORMATION.
        let mut mbi: MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of_val(&mbi);
        // SAFETY: a local structure of that size.
        let n = unsafe { VirtualQueryEx(child, data.cast(), &mut mbi, size) };
        assert_eq!(n, size);
        assert_eq!(
            (mbi.State, mbi.Protect, mbi.Type),
            (MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE)
        );
        assert_eq!(nt_query(child, data, 0).0, 0);
        assert!(VirtualAllocEx(child, data.cast(), 10, MEM_COMMIT, PAGE_READWRITE).is_null());
        assert_eq!(error::get(), err::NOT_SUPPORTED);
        assert_eq!(VirtualFreeEx(child, data.cast(), 0, MEM_RELEASE), FALSE);
        assert_eq!(error::get(), err::NOT_SUPPORTED);
        assert_eq!(
            nt_alloc(child, data, 10, MEM_COMMIT, PAGE_READWRITE).0,
            status::NOT_SUPPORTED
        );
        assert_eq!(
            nt_protect(child, data, 10, PAGE_READONLY).0,
            status::NOT_SUPPORTED
        );
        assert_eq!(nt_free(child, data, MEM_RELEASE), status::NOT_SUPPORTED);
        // An ended child is no longer read.
        assert_eq!(crate::process::TerminateProcess(child, 3), TRUE);
        assert_eq!(crate::wait::WaitForSingleObject(child, 10_000), 0);
        assert_eq!(
            read(child, data, buf.as_mut_ptr(), 4),
            (FALSE, err::ACCESS_DENIED, 0)
        );
        CloseHandle(pi.hThread);
        CloseHandle(child);
    }
}
