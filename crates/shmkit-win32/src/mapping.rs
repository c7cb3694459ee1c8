//! Mapping objects and views: `CreateFileMapping`, `OpenFileMapping`, `MapViewOfFile`,
//! `MapViewOfFileEx`, `UnmapViewOfFile`, `FlushViewOfFile`, `VirtualQuery`.

use crate::error::{self, ffi, Result};
use crate::handles::{self, table, ViewEntry};
use crate::objects::Object;
use crate::strings;
use crate::types::*;
use shmkit::{Access, Mapping, Protection};
use std::ffi::c_void;
use std::sync::Arc;

/// `flProtect` of `CreateFileMapping`: one page protection, optionally with `SEC_*`
/// attributes; anything else is `ERROR_INVALID_PARAMETER` (SPEC 2.5).
fn protection_of(protect: DWORD) -> Result<Protection> {
    let sec = protect & 0xFFFF_FF00;
    if sec & !(SEC_COMMIT | SEC_RESERVE | SEC_NOCACHE | SEC_WRITECOMBINE) != 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    match protect & 0xFF {
        PAGE_READONLY | PAGE_EXECUTE_READ => Ok(Protection::ReadOnly),
        PAGE_READWRITE | PAGE_EXECUTE_READWRITE => Ok(Protection::ReadWrite),
        PAGE_WRITECOPY | PAGE_EXECUTE_WRITECOPY => Ok(Protection::WriteCopy),
        _ => error::fail(err::INVALID_PARAMETER),
    }
}

/// The object size of `CreateFileMapping`, from its two halves.
pub(crate) fn size_of(high: DWORD, low: DWORD) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

fn create(
    file: HANDLE,
    sa: *const SECURITY_ATTRIBUTES,
    protect: DWORD,
    high: DWORD,
    low: DWORD,
    name: Option<String>,
) -> Result<HANDLE> {
    let protection = protection_of(protect)?;
    // SAFETY: `sa` comes from the C caller, NULL or valid by the function's contract.
    let inherit = unsafe { inheritable(sa) };
    // An empty name makes an unnamed object, as on Windows.
    let name = name.filter(|n| !n.is_empty());
    let backing = if file == INVALID_HANDLE_VALUE {
        None
    } else {
        Some(handles::file(file)?)
    };
    let mut options = Mapping::options();
    options.size(size_of(high, low)).protection(protection);
    // SAFETY: `sa` is NULL or valid, by the function's contract.
    let mode = unsafe { crate::security::permissions_of(sa, crate::security::ObjectKind::Mapping) };
    if let Some(mode) = mode? {
        options.permissions(mode);
    }
    if let Some(name) = &name {
        options.name(name);
    }
    if let Some(backing) = &backing {
        options.file(backing.file());
    }
    let mapping = options.create()?;
    let existed = mapping.already_existed();
    let mapping = Arc::new(mapping);
    if let Some(backing) = &backing {
        crate::objects::note_backing(backing.file(), &mapping);
    }
    let h = handles::insert(Object::Mapping(mapping), inherit);
    error::set(if existed {
        err::ALREADY_EXISTS
    } else {
        err::SUCCESS
    });
    Ok(h)
}

/// `CreateFileMappingA`: creates a mapping object, or opens the existing one of that
/// name (then the last error is `ERROR_ALREADY_EXISTS`, and the object keeps its size).
/// `hFile` is `INVALID_HANDLE_VALUE` for memory (paging-file) backing, or a file handle
/// from `CreateFile` for a file-backed object (SPEC 3).
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES`; `name` is NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn CreateFileMappingA(
    file: HANDLE,
    sa: *const SECURITY_ATTRIBUTES,
    protect: DWORD,
    size_high: DWORD,
    size_low: DWORD,
    name: LPCSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        let name = unsafe { strings::narrow(name) }?;
        create(file, sa, protect, size_high, size_low, name)
    })
}

/// `CreateFileMappingW`: [`CreateFileMappingA`] with a wide name.
///
/// # Safety
/// `sa` is NULL or points to a `SECURITY_ATTRIBUTES`; `name` is NULL or a NUL-terminated
/// wide string.
#[no_mangle]
pub unsafe extern "C" fn CreateFileMappingW(
    file: HANDLE,
    sa: *const SECURITY_ATTRIBUTES,
    protect: DWORD,
    size_high: DWORD,
    size_low: DWORD,
    name: LPCWSTR,
) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        let name = unsafe { strings::wide(name) }?;
        create(file, sa, protect, size_high, size_low, name)
    })
}

/// The handle access of `OpenFileMapping`'s `dwDesiredAccess`.
fn open_access(access: DWORD) -> Access {
    if access & FILE_MAP_WRITE != 0 {
        Access::ReadWrite
    } else if access & (FILE_MAP_READ | FILE_MAP_EXECUTE) == 0 && access & FILE_MAP_COPY != 0 {
        Access::CopyOnWrite
    } else {
        Access::Read
    }
}

fn open(access: DWORD, inherit: BOOL, name: Option<String>) -> Result<HANDLE> {
    let Some(name) = name else {
        return error::fail(err::INVALID_PARAMETER);
    };
    let mapping = Mapping::open(&name, open_access(access))?;
    Ok(handles::insert(
        Object::Mapping(Arc::new(mapping)),
        inherit != 0,
    ))
}

/// `OpenFileMappingA`: opens the mapping object `name`; `ERROR_FILE_NOT_FOUND` when
/// there is none, `ERROR_INVALID_PARAMETER` for a NULL name. `FILE_MAP_WRITE` (or
/// `FILE_MAP_ALL_ACCESS`) is needed for read-write views through the handle.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn OpenFileMappingA(access: DWORD, inherit: BOOL, name: LPCSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        let name = unsafe { strings::narrow(name) }?;
        open(access, inherit, name)
    })
}

/// `OpenFileMappingW`: [`OpenFileMappingA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn OpenFileMappingW(access: DWORD, inherit: BOOL, name: LPCWSTR) -> HANDLE {
    ffi(std::ptr::null_mut(), || {
        // SAFETY: by the function's contract.
        let name = unsafe { strings::wide(name) }?;
        open(access, inherit, name)
    })
}

/// The view access of `MapViewOfFile`'s `dwDesiredAccess`, and the page protection the
/// view then has.
fn view_access(access: DWORD) -> Result<(Access, DWORD)> {
    if access & FILE_MAP_WRITE != 0 {
        Ok((Access::ReadWrite, PAGE_READWRITE))
    } else if access & FILE_MAP_COPY != 0 {
        Ok((Access::CopyOnWrite, PAGE_WRITECOPY))
    } else if access & (FILE_MAP_READ | FILE_MAP_EXECUTE) != 0 {
        Ok((Access::Read, PAGE_READONLY))
    } else {
        error::fail(err::INVALID_PARAMETER)
    }
}

fn map(
    h: HANDLE,
    access: DWORD,
    off_high: DWORD,
    off_low: DWORD,
    len: usize,
) -> Result<*mut c_void> {
    let mapping = handles::mapping(h)?;
    let (access, protect) = view_access(access)?;
    let view = mapping.map_range(size_of(off_high, off_low), len, access)?;
    let base = view.as_mut_ptr();
    table()
        .views
        .insert(base as usize, ViewEntry { view, protect });
    Ok(base.cast())
}

/// `MapViewOfFile`: maps `dwNumberOfBytesToMap` bytes (0: to the end of the object) at
/// the offset `dwFileOffsetHigh:dwFileOffsetLow`, a multiple of 64 KiB
/// (`ERROR_MAPPED_ALIGNMENT` otherwise). `FILE_MAP_WRITE`/`FILE_MAP_ALL_ACCESS` map it
/// read-write, `FILE_MAP_COPY` copy-on-write, `FILE_MAP_READ` read-only. Returns the
/// view's base address, NULL on failure. The view stays valid after its handle closes.
#[no_mangle]
pub extern "C" fn MapViewOfFile(
    h: HANDLE,
    access: DWORD,
    offset_high: DWORD,
    offset_low: DWORD,
    len: usize,
) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        map(h, access, offset_high, offset_low, len)
    })
}

/// `MapViewOfFileEx`: [`MapViewOfFile`] at a suggested address. NULL lets the system
/// choose. Another address is honoured only when the system places the view there;
/// otherwise the call fails with `ERROR_INVALID_ADDRESS`, as Windows does for an address
/// it cannot use.
///
/// # Safety
/// None beyond [`MapViewOfFile`]'s: the address is only compared, never written.
#[no_mangle]
pub unsafe extern "C" fn MapViewOfFileEx(
    h: HANDLE,
    access: DWORD,
    offset_high: DWORD,
    offset_low: DWORD,
    len: usize,
    base: *mut c_void,
) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        let got = map(h, access, offset_high, offset_low, len)?;
        if base.is_null() || got == base {
            return Ok(got);
        }
        let entry = table().views.remove(&(got as usize));
        drop(entry);
        error::fail(err::INVALID_ADDRESS)
    })
}

/// `UnmapViewOfFile`: unmaps the view that contains `base` (normally its base address);
/// `ERROR_INVALID_ADDRESS` when no view does.
#[no_mangle]
pub extern "C" fn UnmapViewOfFile(base: *const c_void) -> BOOL {
    ffi(FALSE, || {
        let mut t = table();
        let Some((start, _)) = t.view_at(base as usize) else {
            return error::fail(err::INVALID_ADDRESS);
        };
        let entry = t.views.remove(&start);
        drop(t);
        drop(entry);
        Ok(TRUE)
    })
}

/// `FlushViewOfFile`: writes the dirty pages of the view that contains `base` to its
/// backing file (SPEC 3.4); a no-op for memory-backed objects.
#[no_mangle]
pub extern "C" fn FlushViewOfFile(base: *const c_void, _len: usize) -> BOOL {
    ffi(FALSE, || {
        let t = table();
        let Some((_, entry)) = t.view_at(base as usize) else {
            return error::fail(err::INVALID_ADDRESS);
        };
        entry.view.flush()?;
        Ok(TRUE)
    })
}

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

/// One line of /proc/self/maps: start, end, and the protection of its permissions.
fn os_regions() -> Vec<(usize, usize, DWORD)> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    maps.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let (a, b) = range.split_once('-')?;
            let (a, b) = (
                usize::from_str_radix(a, 16).ok()?,
                usize::from_str_radix(b, 16).ok()?,
            );
            let p = perms.as_bytes();
            let (r, w, x) = (
                p.first() == Some(&b'r'),
                p.get(1) == Some(&b'w'),
                p.get(2) == Some(&b'x'),
            );
            let protect = match (r, w, x) {
                (_, true, true) => PAGE_EXECUTE_READWRITE,
                (_, true, false) => PAGE_READWRITE,
                (true, false, true) => PAGE_EXECUTE_READ,
                (false, false, true) => PAGE_EXECUTE,
                (true, false, false) => PAGE_READONLY,
                (false, false, false) => PAGE_NOACCESS,
            };
            Some((a, b, protect))
        })
        .collect()
}

fn query(addr: usize) -> MEMORY_BASIC_INFORMATION {
    let page = page_size();
    let at = addr & !(page - 1);
    let t = table();
    if let Some((base, entry)) = t.view_at(addr) {
        let end = (base + entry.view.len()).div_ceil(page) * page;
        return MEMORY_BASIC_INFORMATION {
            BaseAddress: at as *mut c_void,
            AllocationBase: base as *mut c_void,
            AllocationProtect: entry.protect,
            PartitionId: 0,
            RegionSize: end - at,
            State: MEM_COMMIT,
            Protect: entry.protect,
            Type: MEM_MAPPED,
        };
    }
    drop(t);
    let regions = os_regions();
    if let Some(&(start, end, protect)) = regions.iter().find(|r| r.0 <= addr && addr < r.1) {
        return MEMORY_BASIC_INFORMATION {
            BaseAddress: at as *mut c_void,
            AllocationBase: start as *mut c_void,
            AllocationProtect: protect,
            PartitionId: 0,
            RegionSize: end - at,
            State: MEM_COMMIT,
            Protect: protect,
            Type: MEM_PRIVATE,
        };
    }
    let next = regions
        .iter()
        .map(|r| r.0)
        .filter(|&s| s > addr)
        .min()
        .unwrap_or(usize::MAX & !(page - 1));
    MEMORY_BASIC_INFORMATION {
        BaseAddress: at as *mut c_void,
        AllocationBase: std::ptr::null_mut(),
        AllocationProtect: 0,
        PartitionId: 0,
        RegionSize: next - at,
        State: MEM_FREE,
        Protect: PAGE_NOACCESS,
        Type: 0,
    }
}

/// `VirtualQuery`: describes the memory at `addr`. For a view: its base
/// (`AllocationBase`), the page holding `addr` (`BaseAddress`), the pages from there to
/// the view's end (`RegionSize`), `MEM_COMMIT`, `MEM_MAPPED` and the view's protection.
/// Other memory is described from the system's map (`MEM_PRIVATE`, or `MEM_FREE` where
/// nothing is mapped). Returns the bytes written, 0 on failure.
///
/// # Safety
/// `info` is NULL or points to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn VirtualQuery(
    addr: *const c_void,
    info: *mut MEMORY_BASIC_INFORMATION,
    len: usize,
) -> usize {
    ffi(0, || {
        let size = std::mem::size_of::<MEMORY_BASIC_INFORMATION>();
        if info.is_null() || len < size {
            return error::fail(err::BAD_LENGTH);
        }
        let mbi = query(addr as usize);
        // SAFETY: `info` is non-NULL with room for the structure (checked above).
        unsafe { info.write_unaligned(mbi) };
        Ok(size)
    })
}
