//! Modules by name: `GetModuleHandle`, `LoadLibrary`, `FreeLibrary`, `GetProcAddress`.
//!
//! The Windows system libraries whose functions this library provides (`kernel32.dll`,
//! `kernelbase.dll`, `ntdll.dll`, `advapi32.dll`) are this library: their module handle
//! is its own, and `GetProcAddress` finds in it exactly the functions it exports — so a
//! program that looks up an optional function (`VirtualAlloc2`, `NtMapViewOfSection`...)
//! finds it when it is provided and gets NULL (`ERROR_PROC_NOT_FOUND`) when it is not,
//! as on a Windows without it. Other libraries are shared libraries (`dlopen`). A module
//! handle is an address inside the module's file (as `GetModuleFileName` takes it): its
//! load address.

use crate::error::{self, ffi, Result};
use crate::strings;
use crate::types::*;
use std::collections::HashMap;
use std::ffi::{c_void, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// `ERROR_PROC_NOT_FOUND`.
const ERROR_PROC_NOT_FOUND: DWORD = 127;

/// The system libraries this library stands for, lower case, without `.dll`.
const SYSTEM: &[&str] = &["kernel32", "kernelbase", "ntdll", "advapi32"];

/// Whether `name` (a file name or path, any case, with or without `.dll`) is one of them.
fn is_system(name: &str) -> bool {
    let file = name
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    let stem = file.strip_suffix(".dll").unwrap_or(&file);
    SYSTEM.contains(&stem)
}

/// Where the object file that holds `addr` is loaded.
fn base_of(addr: *const c_void) -> Option<usize> {
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only looks the address up; `info` is a valid out-pointer.
    let found = unsafe { libc::dladdr(addr, info.as_mut_ptr()) };
    // SAFETY: zero-initialised, and filled by dladdr when it succeeded.
    let info = unsafe { info.assume_init() };
    (found != 0 && !info.dli_fbase.is_null()).then_some(info.dli_fbase as usize)
}

/// This library's module handle.
fn own_module() -> usize {
    base_of(GetProcAddress as *const () as *const c_void).unwrap_or(0)
}

/// The program's module handle: the address of its program headers, inside its file.
fn program_module() -> usize {
    // SAFETY: getauxval has no preconditions.
    unsafe { libc::getauxval(libc::AT_PHDR) as usize }
}

/// Libraries `LoadLibrary` opened: module handle to the `dlopen` handle and how often
/// it was loaded.
fn loaded() -> MutexGuard<'static, HashMap<usize, (usize, u32)>> {
    static LOADED: OnceLock<Mutex<HashMap<usize, (usize, u32)>>> = OnceLock::new();
    LOADED
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The module handle of a loaded library's `dlopen` handle.
fn module_of(handle: *mut c_void) -> Option<usize> {
    let mut map: *mut libc::c_void = std::ptr::null_mut();
    // SAFETY: `handle` came from dlopen; RTLD_DI_LINKMAP writes one link_map pointer.
    let r = unsafe {
        libc::dlinfo(
            handle,
            libc::RTLD_DI_LINKMAP,
            (&mut map as *mut *mut libc::c_void).cast(),
        )
    };
    if r != 0 || map.is_null() {
        return None;
    }
    // SAFETY: a link_map begins with its load address (`l_addr`).
    let l_addr = unsafe { *(map as *const usize) };
    if l_addr != 0 {
        return Some(l_addr);
    }
    // Loaded at its link address (a load address of 0): the address of its dynamic
    // section, the link map's third field, lies inside its file too.
    // SAFETY: as above; a link_map's third field is `l_ld`.
    let l_ld = unsafe { *(map as *const usize).add(2) };
    (l_ld != 0).then_some(l_ld)
}

/// The module a name names, among those loaded: the program (NULL), the system
/// libraries, or a shared library loaded under that name or path.
fn module_by_name(name: Option<String>) -> Result<usize> {
    let Some(name) = name else {
        return Ok(program_module());
    };
    if is_system(&name) {
        return Ok(own_module());
    }
    let handle = open(&name, libc::RTLD_LAZY | libc::RTLD_NOLOAD)
        .ok_or(error::Win32Error(err::MOD_NOT_FOUND))?;
    let module = module_of(handle);
    // SAFETY: RTLD_NOLOAD took one more reference to a library already loaded.
    unsafe { libc::dlclose(handle) };
    module.ok_or(error::Win32Error(err::MOD_NOT_FOUND))
}

/// `dlopen` of a Windows library name: as given (backslashes as slashes), then with
/// `.dll` as `.so`, then as `lib<name>.so` in the same directory.
fn open(name: &str, flags: libc::c_int) -> Option<*mut c_void> {
    let path = strings::path_of(name.as_bytes().to_vec());
    let mut candidates = vec![path.clone()];
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
    if let Some(stem) = file.as_deref().and_then(|f| {
        f.strip_suffix(".dll")
            .or_else(|| f.strip_suffix(".DLL"))
            .or(Some(f))
    }) {
        candidates.push(path.with_file_name(format!("{stem}.so")));
        candidates.push(path.with_file_name(format!("lib{stem}.so")));
    }
    candidates.into_iter().find_map(|c| {
        let c = CString::new(c.as_os_str().as_bytes()).ok()?;
        // SAFETY: a NUL-terminated path; dlopen runs the library's constructors.
        let h = unsafe { libc::dlopen(c.as_ptr(), flags) };
        (!h.is_null()).then_some(h)
    })
}

/// `GetModuleHandleA`: the handle of a loaded module: the program for NULL; this library
/// for `kernel32.dll`, `kernelbase.dll`, `ntdll.dll` and `advapi32.dll` (any case, with or
/// without `.dll`); a shared library loaded under the name. Anything else is NULL with
/// `ERROR_MOD_NOT_FOUND`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn GetModuleHandleA(name: LPCSTR) -> HANDLE {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow(name) };
    ffi(
        std::ptr::null_mut(),
        || Ok(module_by_name(name?)? as HANDLE),
    )
}

/// `GetModuleHandleW`: [`GetModuleHandleA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn GetModuleHandleW(name: LPCWSTR) -> HANDLE {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide(name) };
    ffi(
        std::ptr::null_mut(),
        || Ok(module_by_name(name?)? as HANDLE),
    )
}

fn load(name: Option<String>) -> Result<HANDLE> {
    let name = name.ok_or(error::Win32Error(err::INVALID_PARAMETER))?;
    if is_system(&name) {
        return Ok(own_module() as HANDLE);
    }
    let handle = open(&name, libc::RTLD_NOW).ok_or(error::Win32Error(err::MOD_NOT_FOUND))?;
    let Some(module) = module_of(handle) else {
        // SAFETY: the handle dlopen just gave.
        unsafe { libc::dlclose(handle) };
        return error::fail(err::MOD_NOT_FOUND);
    };
    let mut l = loaded();
    let entry = l.entry(module).or_insert((handle as usize, 0));
    if entry.0 != handle as usize {
        // Loaded before: one reference is enough to keep.
        // SAFETY: the handle dlopen just gave (the library stays loaded by the first).
        unsafe { libc::dlclose(handle) };
    }
    entry.1 += 1;
    Ok(module as HANDLE)
}

/// `LoadLibraryA`: loads a library and returns its module handle. The system libraries
/// are this library (always loaded); another name is a shared library, looked for as
/// given, with `.dll` as `.so`, and as `lib<name>.so` (its `DllMain`, if any, gets
/// `DLL_PROCESS_ATTACH` as it loads). A library that cannot be loaded is NULL with
/// `ERROR_MOD_NOT_FOUND`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn LoadLibraryA(name: LPCSTR) -> HANDLE {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow(name) };
    ffi(std::ptr::null_mut(), || load(name?))
}

/// `LoadLibraryW`: [`LoadLibraryA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn LoadLibraryW(name: LPCWSTR) -> HANDLE {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide(name) };
    ffi(std::ptr::null_mut(), || load(name?))
}

/// `FreeLibrary`: undoes one `LoadLibrary`; the library is unloaded when each has been
/// undone. The system libraries and the program stay (TRUE). A handle no `LoadLibrary`
/// gave is `ERROR_MOD_NOT_FOUND`.
#[no_mangle]
pub extern "C" fn FreeLibrary(module: HANDLE) -> BOOL {
    ffi(FALSE, || {
        let m = module as usize;
        if m != 0 && (m == own_module() || m == program_module()) {
            return Ok(TRUE);
        }
        let mut l = loaded();
        let Some(entry) = l.get_mut(&m) else {
            return error::fail(err::MOD_NOT_FOUND);
        };
        entry.1 -= 1;
        if entry.1 == 0 {
            let (handle, _) = l.remove(&m).expect("present above");
            drop(l);
            // SAFETY: the dlopen handle kept for this module, closed once.
            unsafe { libc::dlclose(handle as *mut c_void) };
        }
        Ok(TRUE)
    })
}

/// The `dlopen` handle to look names up in for a module handle.
fn lookup(module: usize, name: &CStr) -> Option<*mut c_void> {
    if module == own_module() {
        // SAFETY: a NUL-terminated name, looked up among every loaded object.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        // Only this library's own functions count for the system libraries.
        return (!p.is_null() && base_of(p) == Some(module)).then_some(p);
    }
    if module == program_module() {
        // SAFETY: dlopen(NULL) is the program; the reference is given back below.
        let h = unsafe { libc::dlopen(std::ptr::null(), libc::RTLD_LAZY) };
        // SAFETY: a valid handle and a NUL-terminated name.
        let p = unsafe { libc::dlsym(h, name.as_ptr()) };
        // SAFETY: the handle just taken.
        unsafe { libc::dlclose(h) };
        return (!p.is_null()).then_some(p);
    }
    let handle = loaded().get(&module).map(|&(h, _)| h)?;
    // SAFETY: a handle of a library loaded (and kept loaded) by LoadLibrary.
    let p = unsafe { libc::dlsym(handle as *mut c_void, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

/// `GetProcAddress`: the address of an exported function or variable of a module: of
/// this library's exports for the system libraries, of the program's (NULL: the
/// program), or of a library `LoadLibrary` loaded. A name not exported, or a module
/// unknown, is NULL with `ERROR_PROC_NOT_FOUND` (`ERROR_MOD_NOT_FOUND`); ordinals (a
/// value below 64 KiB instead of a name) are `ERROR_PROC_NOT_FOUND`.
///
/// # Safety
/// `name` is an ordinal or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn GetProcAddress(module: HANDLE, name: LPCSTR) -> *mut c_void {
    ffi(std::ptr::null_mut(), || {
        if (name as usize) >> 16 == 0 {
            return error::fail(ERROR_PROC_NOT_FOUND);
        }
        let m = if module.is_null() {
            program_module()
        } else {
            module as usize
        };
        if m != own_module() && m != program_module() && !loaded().contains_key(&m) {
            return error::fail(err::MOD_NOT_FOUND);
        }
        // SAFETY: a NUL-terminated string, by the function's contract.
        let name = unsafe { CStr::from_ptr(name) };
        lookup(m, name).ok_or(error::Win32Error(ERROR_PROC_NOT_FOUND))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_libraries_are_this_one_and_know_its_functions_only() {
        // SAFETY: NUL-terminated names.
        unsafe {
            let k = GetModuleHandleA(c"KERNEL32.DLL".as_ptr());
            assert!(!k.is_null());
            assert_eq!(GetModuleHandleA(c"ntdll".as_ptr()), k);
            assert_eq!(LoadLibraryA(c"kernel32.dll".as_ptr()), k);
            assert_eq!(FreeLibrary(k), TRUE);
            // (Finding this library's own functions needs them in the dynamic symbol
            // table, as in libshmkit_win32.so: fidelity_system checks that. This test
            // binary links the library statically.)
            assert!(GetProcAddress(k, c"VirtualAlloc2".as_ptr()).is_null());
            assert_eq!(error::get(), ERROR_PROC_NOT_FOUND);
            assert!(GetProcAddress(k, c"malloc".as_ptr()).is_null());
            assert!(GetModuleHandleA(c"no-such-library.dll".as_ptr()).is_null());
            assert_eq!(error::get(), err::MOD_NOT_FOUND);
            assert!(!GetModuleHandleA(std::ptr::null()).is_null());
            assert!(LoadLibraryA(c"no-such-library.dll".as_ptr()).is_null());
            assert_eq!(FreeLibrary(0x1000 as HANDLE), FALSE);
        }
    }
}
