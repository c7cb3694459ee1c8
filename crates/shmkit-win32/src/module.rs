//! `GetModuleFileName`: the path of the program or of a shared library.

use crate::error::{self, ffi};
use crate::strings;
use crate::types::*;
use std::ffi::{c_char, c_void, CStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// The path of the program (`module` NULL) or of the shared library that holds the
/// address `module`; `None` when no loaded file holds it.
fn module_path(module: *mut c_void) -> Option<Vec<u8>> {
    if module.is_null() {
        return std::env::current_exe()
            .ok()
            .map(|p| p.into_os_string().into_vec());
    }
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only looks the address up; `info` is a valid out-pointer.
    let found = unsafe { libc::dladdr(module, info.as_mut_ptr()) };
    // SAFETY: zero-initialised, and filled by dladdr when it succeeded.
    let info = unsafe { info.assume_init() };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a NUL-terminated path that lives as long as the module.
    let path = OsString::from_vec(
        unsafe { CStr::from_ptr(info.dli_fname) }
            .to_bytes()
            .to_vec(),
    );
    // A relative path (the main program's, as the loader saw it) is made absolute.
    let path = std::fs::canonicalize(&path).unwrap_or_else(|_| PathBuf::from(path));
    Some(path.as_os_str().as_bytes().to_vec())
}

/// `GetModuleFileNameA`: the path of the program (`hModule` NULL) or of the shared
/// library a module handle (the `hinstDLL` given to `DllMain`) belongs to. Returns the
/// length copied; a short buffer gets a truncated copy and `ERROR_INSUFFICIENT_BUFFER`.
///
/// # Safety
/// `buf` points to `size` writable chars.
#[no_mangle]
pub unsafe extern "C" fn GetModuleFileNameA(
    module: *mut c_void,
    buf: *mut c_char,
    size: DWORD,
) -> DWORD {
    ffi(0, || {
        let path = module_path(module).ok_or(error::Win32Error(err::MOD_NOT_FOUND))?;
        let path: Vec<c_char> = path.into_iter().map(|b| b as c_char).collect();
        // SAFETY: `buf` holds `size` chars, by the function's contract.
        Ok(unsafe { strings::copy_out(&path, buf, size as usize) })
    })
}

/// `GetModuleFileNameW`: [`GetModuleFileNameA`] into a wide buffer.
///
/// # Safety
/// `buf` points to `size` writable wide chars.
#[no_mangle]
pub unsafe extern "C" fn GetModuleFileNameW(
    module: *mut c_void,
    buf: *mut WCHAR,
    size: DWORD,
) -> DWORD {
    ffi(0, || {
        let path = module_path(module).ok_or(error::Win32Error(err::MOD_NOT_FOUND))?;
        let mut wide = strings::to_wide(&String::from_utf8_lossy(&path));
        wide.pop();
        // SAFETY: `buf` holds `size` wide chars, by the function's contract.
        Ok(unsafe { strings::copy_out(&wide, buf, size as usize) })
    })
}
