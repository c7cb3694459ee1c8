//! Mapping objects and views: `CreateFileMapping`, `OpenFileMapping`, `MapViewOfFile`,
//! `MapViewOfFileEx`, `UnmapViewOfFile`, `FlushViewOfFile`. What views are afterwards
//! (`VirtualQuery`, `VirtualAlloc`, `VirtualProtect`) is in the `views` module; the
//! access rules are in `access`.

use crate::access::{self, Page, Section};
use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::{MappingObject, Object, SectionState};
use crate::strings;
use crate::types::*;
use crate::views;
use shmkit::{Access, ErrorKind, Mapping, Protection};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex, Weak};

/// The library's protection of a section: what its views may do with the object.
fn protection_of(page: Page) -> Protection {
    if page.writes_shared() {
        Protection::ReadWrite
    } else if page.copies() {
        Protection::WriteCopy
    } else {
        Protection::ReadOnly
    }
}

/// The object size of `CreateFileMapping`, from its two halves.
pub(crate) fn size_of(high: DWORD, low: DWORD) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

/// The sections of the named mappings this process made or opened, by name: a handle
/// opened by name shares its object's Win32 attributes and commit state with the others.
fn known_sections() -> std::sync::MutexGuard<'static, HashMap<String, Weak<SectionState>>> {
    static KNOWN: std::sync::OnceLock<Mutex<HashMap<String, Weak<SectionState>>>> =
        std::sync::OnceLock::new();
    let mut known = KNOWN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    known.retain(|_, w| w.strong_count() > 0);
    known
}

/// The sections of mappings opened by name that this process did not know (another
/// process made them): their protection is not known here, so their views are checked
/// against the handle's rights only.
fn unknown_sections() -> std::sync::MutexGuard<'static, Vec<Weak<SectionState>>> {
    static UNKNOWN: std::sync::OnceLock<Mutex<Vec<Weak<SectionState>>>> =
        std::sync::OnceLock::new();
    let mut unknown = UNKNOWN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    unknown.retain(|w| w.strong_count() > 0);
    unknown
}

/// The protection the mapping of `state` was made with, when this process knows it.
fn known_protection(state: &Arc<SectionState>) -> Option<Page> {
    let unknown = unknown_sections()
        .iter()
        .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(state)));
    (!unknown).then_some(state.section.page)
}

/// The state of the section `mapping` names: the one this process knows for its name,
/// or a new one made of `section`.
fn section_state(mapping: &Mapping, name: Option<&str>, section: Section) -> Arc<SectionState> {
    let Some(name) = name else {
        return SectionState::new(section, mapping.size(), views::page_size());
    };
    let mut known = known_sections();
    if let Some(state) = known.get(name).and_then(Weak::upgrade) {
        return state;
    }
    let state = SectionState::new(section, mapping.size(), views::page_size());
    known.insert(name.to_owned(), Arc::downgrade(&state));
    state
}

/// Whether `file` starts like an executable image (an `MZ` header).
fn is_image(file: &std::fs::File) -> bool {
    use std::os::unix::fs::FileExt;
    let mut magic = [0u8; 2];
    file.read_exact_at(&mut magic, 0).is_ok() && &magic == b"MZ"
}

fn create(
    file: HANDLE,
    sa: *const SECURITY_ATTRIBUTES,
    protect: DWORD,
    high: DWORD,
    low: DWORD,
    name: Option<String>,
) -> Result<HANDLE> {
    let file_backed = file != INVALID_HANDLE_VALUE;
    let section = access::parse_section(protect, file_backed).map_err(error::Win32Error)?;
    // SAFETY: `sa` comes from the C caller, NULL or valid by the function's contract.
    let inherit = unsafe { inheritable(sa) };
    // An empty name makes an unnamed object, as on Windows.
    let name = name.filter(|n| !n.is_empty());
    let (backing, writable) = if file_backed {
        let (f, granted) = handles::file_with_access(file)?;
        let needed = access::file_rights_needed(&section);
        if granted & needed != needed {
            return error::fail(err::ACCESS_DENIED);
        }
        (Some(f), granted & access::FILE_WRITE_DATA != 0)
    } else {
        (None, true)
    };
    if section.image {
        // Images are mapped as the loader would, which this library does not do: a file
        // that is not one is refused as Windows refuses it, and so is memory.
        let image = backing.as_ref().is_some_and(|f| is_image(f.file()));
        return error::fail(if image {
            err::NOT_SUPPORTED
        } else {
            err::BAD_EXE_FORMAT
        });
    }
    let mut options = Mapping::options();
    // The library's object is read-write whenever its backing can be: the handle's
    // rights and the section's protection decide what a view may do
    // (access::check_view), not the object.
    let protection = if writable {
        Protection::ReadWrite
    } else {
        protection_of(section.page)
    };
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
    let state = section_state(&mapping, name.as_deref(), section);
    if file_backed && !existed {
        state
            .file_backed
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let object = Arc::new(MappingObject { mapping, state });
    if let Some(backing) = &backing {
        crate::objects::note_backing(backing.file(), &object);
    }
    let access = access::created_mapping_access(object.state.section.page);
    let h = handles::insert_with_access(Object::Mapping(object), inherit, access);
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

fn open(desired: DWORD, inherit: BOOL, name: Option<String>) -> Result<HANDLE> {
    let Some(name) = name else {
        return error::fail(err::INVALID_PARAMETER);
    };
    let access = access::open_mapping_access(desired);
    // The handle's own rights decide what it maps; the library's handle is as wide as
    // the object allows, so that a duplicate may be granted more.
    let mapping = match Mapping::open(&name, Access::ReadWrite) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            if access & access::SECTION_MAP_WRITE != 0 {
                // Write access asked for an object this user may not write.
                let m = Mapping::open(&name, Access::Read)?;
                if m.protection() == Protection::ReadWrite {
                    return error::fail(err::ACCESS_DENIED);
                }
                m
            } else {
                Mapping::open(&name, Access::Read)?
            }
        }
        Err(e) => return Err(e.into()),
    };
    let section = SectionState::of_protection(mapping.protection());
    let was_known = known_sections()
        .get(&name)
        .is_some_and(|w| w.strong_count() > 0);
    let state = section_state(&mapping, Some(&name), section);
    if !was_known {
        unknown_sections().push(Arc::downgrade(&state));
    }
    let object = MappingObject { mapping, state };
    Ok(handles::insert_with_access(
        Object::Mapping(Arc::new(object)),
        inherit != 0,
        access,
    ))
}

/// `OpenFileMappingA`: opens the mapping object `name` with `dwDesiredAccess`;
/// `ERROR_FILE_NOT_FOUND` when there is none, `ERROR_INVALID_PARAMETER` for a NULL name.
/// The handle's access decides its views, within the mapping's protection (see
/// `MapViewOfFile`): `FILE_MAP_WRITE` for read-write ones, `FILE_MAP_READ` for the
/// others, `SECTION_MAP_EXECUTE` too for executable ones; `FILE_MAP_COPY` alone stands
/// for `FILE_MAP_READ`. Access 0 opens a handle that maps nothing (Wine; no conformance
/// test records Windows' answer).
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

fn map(
    h: HANDLE,
    desired: DWORD,
    off_high: DWORD,
    off_low: DWORD,
    len: usize,
) -> Result<*mut c_void> {
    let (mapping, granted) = handles::mapping(h)?;
    let protection = known_protection(&mapping.state);
    let page = access::check_view(desired, granted, protection).map_err(error::Win32Error)?;
    let core_access = if page.writes_shared() {
        Access::ReadWrite
    } else if page.copies() {
        Access::CopyOnWrite
    } else {
        Access::Read
    };
    let offset = size_of(off_high, off_low);
    let view = mapping.map_range(offset, len, core_access)?;
    views::add(view, mapping.state.clone(), offset, page)
}

/// `MapViewOfFile`: maps `dwNumberOfBytesToMap` bytes (0: to the end of the object) at
/// the offset `dwFileOffsetHigh:dwFileOffsetLow`, a multiple of 64 KiB
/// (`ERROR_MAPPED_ALIGNMENT` otherwise). `FILE_MAP_WRITE`/`FILE_MAP_ALL_ACCESS` map it
/// read-write, exactly `FILE_MAP_COPY` copy-on-write, `FILE_MAP_READ` read-only, and
/// `FILE_MAP_EXECUTE` adds execute; none of these maps a no-access view. The handle
/// needs `FILE_MAP_WRITE` for a read-write view, `FILE_MAP_READ` for the others and
/// `SECTION_MAP_EXECUTE` too for an executable one (`ERROR_ACCESS_DENIED`); the
/// mapping must be read-write for a read-write view and executable for an executable
/// one (`ERROR_INVALID_PARAMETER`, as Windows says for a handle opened or duplicated
/// with more rights than its mapping's protection gives; Wine 8 maps such views).
/// Returns the view's base address, NULL on failure. The view stays valid after its
/// handle closes.
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
        let entry = views::views().map.remove(&(got as usize));
        drop(entry);
        error::fail(err::INVALID_ADDRESS)
    })
}

/// `UnmapViewOfFile`: unmaps the view that contains `base` (normally its base address);
/// `ERROR_INVALID_ADDRESS` when no view does.
#[no_mangle]
pub extern "C" fn UnmapViewOfFile(base: *const c_void) -> BOOL {
    ffi(FALSE, || {
        let mut t = views::views();
        let Some((start, _)) = t.view_at(base as usize) else {
            return error::fail(err::INVALID_ADDRESS);
        };
        let entry = t.map.remove(&start);
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
        let t = views::views();
        let Some((_, entry)) = t.view_at(base as usize) else {
            return error::fail(err::INVALID_ADDRESS);
        };
        entry.view.flush()?;
        Ok(TRUE)
    })
}
