//! The A and W string forms: narrow strings are UTF-8, wide strings the platform's
//! `wchar_t` (UTF-32 on Linux). Also the conversions the headers' inline helpers use.

use crate::error::{self, Result};
use crate::types::{err, LPCSTR, LPCWSTR, WCHAR};
use std::ffi::{c_char, c_int, CStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::OnceLock;

/// A NUL-terminated narrow string, as text; `None` for NULL. Names must be UTF-8
/// (`ERROR_INVALID_NAME` otherwise).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn narrow(p: LPCSTR) -> Result<Option<String>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated, by the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Some(s.to_owned())),
        Err(_) => error::fail(err::INVALID_NAME),
    }
}

/// A NUL-terminated narrow string as raw bytes (paths); `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn narrow_bytes(p: LPCSTR) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated, by the caller's contract.
    Some(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
}

/// The code units of a NUL-terminated wide string (without the NUL).
///
/// # Safety
/// `p` is non-NULL and points to a NUL-terminated wide string.
pub(crate) unsafe fn wide_units<'a>(p: LPCWSTR) -> &'a [WCHAR] {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, so every index up to the NUL is in bounds.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: `n` units were just read from `p`.
    unsafe { std::slice::from_raw_parts(p, n) }
}

/// A NUL-terminated wide string, as text; `None` for NULL. A unit that is no Unicode
/// scalar value is `ERROR_INVALID_NAME`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated wide string.
pub(crate) unsafe fn wide(p: LPCWSTR) -> Result<Option<String>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated, by the caller's contract.
    let units = unsafe { wide_units(p) };
    let mut s = String::with_capacity(units.len());
    for &u in units {
        match char::from_u32(u as u32) {
            Some(c) => s.push(c),
            None => return error::fail(err::INVALID_NAME),
        }
    }
    Ok(Some(s))
}

/// A wide string as bytes for a path: UTF-8, each invalid unit as U+FFFD.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated wide string.
pub(crate) unsafe fn wide_bytes(p: LPCWSTR) -> Option<Vec<u8>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated, by the caller's contract.
    let units = unsafe { wide_units(p) };
    Some(wide_to_string(units).into_bytes())
}

/// Wide units to text, each unit that is no scalar value as U+FFFD.
pub(crate) fn wide_to_string(units: &[WCHAR]) -> String {
    units
        .iter()
        .map(|&u| char::from_u32(u as u32).unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Text to NUL-terminated wide units.
pub(crate) fn to_wide(s: &str) -> Vec<WCHAR> {
    s.chars().map(|c| c as WCHAR).chain([0]).collect()
}

/// A Windows path as a Linux one: backslashes become slashes.
pub(crate) fn path_of(bytes: Vec<u8>) -> std::path::PathBuf {
    let bytes: Vec<u8> = bytes
        .into_iter()
        .map(|b| if b == b'\\' { b'/' } else { b })
        .collect();
    OsString::from_vec(bytes).into()
}

/// Copies `s` into a caller's buffer of `cap` units as Windows' "get string" functions
/// do: the length without the NUL when it fits; otherwise truncated, NUL-terminated,
/// `cap` returned and `ERROR_INSUFFICIENT_BUFFER` set.
///
/// # Safety
/// `out` points to `cap` writable units (or `cap` is 0).
pub(crate) unsafe fn copy_out<T: Copy + Default>(src: &[T], out: *mut T, cap: usize) -> u32 {
    if cap == 0 || out.is_null() {
        error::set(err::INSUFFICIENT_BUFFER);
        return 0;
    }
    let fits = src.len() < cap;
    let n = src.len().min(cap - 1);
    // SAFETY: `n + 1 <= cap` units are written to a buffer the caller made `cap` long.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), out, n);
        *out.add(n) = T::default();
    }
    if fits {
        error::set(err::SUCCESS);
        n as u32
    } else {
        error::set(err::INSUFFICIENT_BUFFER);
        cap as u32
    }
}

/// The program's arguments as wide strings (for the `wmain` that `_tmain` becomes under
/// `_UNICODE`): a NULL-terminated array that lives as long as the process.
///
/// # Safety
/// `argv` holds `argc` NUL-terminated strings, as `main` receives them.
#[no_mangle]
pub unsafe extern "C" fn shmkit_win32_wide_argv(
    argc: c_int,
    argv: *const *const c_char,
) -> *mut *mut WCHAR {
    static ARGV: OnceLock<Vec<usize>> = OnceLock::new();
    let table = ARGV.get_or_init(|| {
        let mut out = Vec::new();
        for i in 0..argc.max(0) as usize {
            // SAFETY: `i < argc`, and each of the first `argc` entries is a C string.
            let arg = unsafe { *argv.add(i) };
            if arg.is_null() {
                break;
            }
            // SAFETY: a NUL-terminated string of the process's arguments.
            let bytes = unsafe { CStr::from_ptr(arg) }.to_bytes();
            let wide = to_wide(&String::from_utf8_lossy(bytes));
            out.push(Box::leak(wide.into_boxed_slice()).as_mut_ptr() as usize);
        }
        out.push(0);
        out
    });
    table.as_ptr() as *mut *mut WCHAR
}

/// The environment as wide `NAME=value` strings (for a three-argument `wmain`),
/// NULL-terminated, living as long as the process.
#[no_mangle]
pub extern "C" fn shmkit_win32_wide_envp() -> *mut *mut WCHAR {
    static ENVP: OnceLock<Vec<usize>> = OnceLock::new();
    let table = ENVP.get_or_init(|| {
        let mut out: Vec<usize> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                let wide = to_wide(&String::from_utf8_lossy(&kv));
                Box::leak(wide.into_boxed_slice()).as_mut_ptr() as usize
            })
            .collect();
        out.push(0);
        out
    });
    table.as_ptr() as *mut *mut WCHAR
}

/// A wide string as a newly `malloc`ed UTF-8 string (the caller frees it); NULL for
/// NULL or when memory runs out. Each unit that is no scalar value becomes U+FFFD.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn shmkit_win32_wcs_to_utf8(s: LPCWSTR) -> *mut c_char {
    if s.is_null() {
        return std::ptr::null_mut();
    }
    let text = std::panic::catch_unwind(|| {
        // SAFETY: non-NULL and NUL-terminated, by the caller's contract.
        wide_to_string(unsafe { wide_units(s) })
    });
    let Ok(text) = text else {
        return std::ptr::null_mut();
    };
    // SAFETY: malloc of the text's length plus the NUL; checked for NULL below.
    let out = unsafe { libc::malloc(text.len() + 1) } as *mut c_char;
    if !out.is_null() {
        // SAFETY: `out` has room for the bytes and the NUL.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr().cast(), out, text.len());
            *out.add(text.len()) = 0;
        }
    }
    out
}

/// A UTF-8 string as a newly `malloc`ed wide string (the caller frees it); NULL for
/// NULL or when memory runs out. Invalid bytes become U+FFFD.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn shmkit_win32_utf8_to_wcs(s: LPCSTR) -> *mut WCHAR {
    // SAFETY: by the caller's contract.
    let Some(bytes) = (unsafe { narrow_bytes(s) }) else {
        return std::ptr::null_mut();
    };
    let wide = to_wide(&String::from_utf8_lossy(&bytes));
    let size = std::mem::size_of_val(wide.as_slice());
    // SAFETY: malloc of the units' size; checked for NULL below.
    let out = unsafe { libc::malloc(size) } as *mut WCHAR;
    if !out.is_null() {
        // SAFETY: `out` has room for every unit, the NUL included.
        unsafe { std::ptr::copy_nonoverlapping(wide.as_ptr(), out, wide.len()) };
    }
    out
}
