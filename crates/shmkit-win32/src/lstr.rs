//! The `lstr` string functions of kernel32: `lstrlen`, `lstrcpy`, `lstrcpyn`, `lstrcat`,
//! `lstrcmp`, `lstrcmpi` (A and W).
//!
//! As on Windows, a NULL string is no crash: `lstrlen` is 0, `lstrcpy`/`lstrcat` return
//! NULL, and `lstrcmp` sorts NULL first. The comparisons follow the order of Windows'
//! default sort for the common characters ("word sort"): punctuation and symbols before
//! digits, digits before letters, letters alphabetically whatever their case, the case
//! breaking ties only (lower case first), and hyphens and apostrophes weighing only when
//! the strings are otherwise equal. Symbols compare among themselves by code point
//! (Windows has a table of its own), and letters beyond ASCII by their lower-case code
//! point.

use std::cmp::Ordering;

use crate::types::WCHAR;
use std::ffi::{c_char, c_int};

/// The characters of a NUL-terminated string (a narrow one byte by byte, each byte
/// one character of its UTF-8 decoding where valid, else the byte itself).
///
/// # Safety
/// `p` is a NUL-terminated string of `T`.
unsafe fn units<T: Copy + Into<u32>>(p: *const T) -> Vec<u32> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        // SAFETY: reading up to the NUL, by the caller's contract.
        let c: u32 = unsafe { *p.add(i) }.into();
        if c == 0 {
            return out;
        }
        out.push(c);
        i += 1;
    }
}

fn narrow_chars(p: *const c_char) -> Vec<u32> {
    // SAFETY: the callers pass a NUL-terminated string.
    let bytes: Vec<u8> = unsafe { units(p.cast::<u8>()) }
        .into_iter()
        .map(|b| b as u8)
        .collect();
    match std::str::from_utf8(&bytes) {
        Ok(s) => s.chars().map(u32::from).collect(),
        Err(_) => bytes.into_iter().map(u32::from).collect(),
    }
}

fn wide_chars(p: *const WCHAR) -> Vec<u32> {
    // SAFETY: the callers pass a NUL-terminated string.
    unsafe { units(p.cast::<u32>()) }
}

fn lower(c: u32) -> u32 {
    char::from_u32(c)
        .and_then(|ch| ch.to_lowercase().next())
        .map_or(c, u32::from)
}

fn is_upper(c: u32) -> bool {
    char::from_u32(c).is_some_and(char::is_uppercase)
}

/// The primary weight of a character: its class (symbols, digits, letters), then the
/// character without case. None for the characters word sort leaves out.
fn primary(c: u32) -> Option<(u8, u32)> {
    if c == u32::from(b'-') || c == u32::from(b'\'') {
        return None;
    }
    let ch = char::from_u32(c)?;
    let class = if ch.is_numeric() {
        1
    } else if ch.is_alphabetic() {
        2
    } else {
        0
    };
    Some((class, lower(c)))
}

/// Windows' word-sort comparison of two strings.
fn compare(a: &[u32], b: &[u32], ignore_case: bool) -> Ordering {
    let pa = a.iter().filter_map(|&c| primary(c));
    let pb = b.iter().filter_map(|&c| primary(c));
    let order = pa.cmp(pb);
    if order != Ordering::Equal {
        return order;
    }
    // Then the characters word sort left out: a string with fewer sorts first, then
    // by where they are and which they are.
    let left_out = |s: &[u32]| -> Vec<(usize, u32)> {
        s.iter()
            .enumerate()
            .filter(|(_, &c)| primary(c).is_none())
            .map(|(i, &c)| (i, c))
            .collect()
    };
    let (la, lb) = (left_out(a), left_out(b));
    let order = la.len().cmp(&lb.len()).then_with(|| la.cmp(&lb));
    if order != Ordering::Equal || ignore_case {
        return order;
    }
    // Then case: at the first difference, lower case first.
    for (&x, &y) in a.iter().zip(b) {
        if x != y {
            return is_upper(x).cmp(&is_upper(y));
        }
    }
    Ordering::Equal
}

fn result(o: Ordering) -> c_int {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

fn compare_ptrs<T>(
    a: *const T,
    b: *const T,
    chars: fn(*const T) -> Vec<u32>,
    ignore_case: bool,
) -> c_int {
    match (a.is_null(), b.is_null()) {
        (true, true) => 0,
        (true, false) => -1,
        (false, true) => 1,
        (false, false) => result(compare(&chars(a), &chars(b), ignore_case)),
    }
}

/// `lstrcmpA`: compares two strings as Windows' word sort does (see above): -1, 0 or 1.
///
/// # Safety
/// Each string is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lstrcmpA(a: *const c_char, b: *const c_char) -> c_int {
    compare_ptrs(a, b, narrow_chars, false)
}

/// `lstrcmpW`: as [`lstrcmpA`], for wide strings.
///
/// # Safety
/// Each string is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lstrcmpW(a: *const WCHAR, b: *const WCHAR) -> c_int {
    compare_ptrs(a, b, wide_chars, false)
}

/// `lstrcmpiA`: as [`lstrcmpA`], without regard to case.
///
/// # Safety
/// Each string is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lstrcmpiA(a: *const c_char, b: *const c_char) -> c_int {
    compare_ptrs(a, b, narrow_chars, true)
}

/// `lstrcmpiW`: as [`lstrcmpiA`], for wide strings.
///
/// # Safety
/// Each string is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lstrcmpiW(a: *const WCHAR, b: *const WCHAR) -> c_int {
    compare_ptrs(a, b, wide_chars, true)
}

/// The length of a NUL-terminated string of `T` (0 for NULL).
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn length<T: Copy + Into<u32>>(p: *const T) -> usize {
    if p.is_null() {
        return 0;
    }
    let mut n = 0;
    // SAFETY: reading up to the NUL, by the caller's contract.
    while unsafe { *p.add(n) }.into() != 0 {
        n += 1;
    }
    n
}

/// `lstrlenA`: the length of a string in bytes, without the NUL (0 for NULL).
///
/// # Safety
/// `s` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lstrlenA(s: *const c_char) -> c_int {
    // SAFETY: by the function's contract.
    unsafe { length(s.cast::<u8>()) as c_int }
}

/// `lstrlenW`: the length of a wide string in characters (0 for NULL).
///
/// # Safety
/// `s` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn lstrlenW(s: *const WCHAR) -> c_int {
    // SAFETY: by the function's contract.
    unsafe { length(s.cast::<u32>()) as c_int }
}

/// Copies `src` with its NUL to `dst`; `dst`, or NULL when either is NULL.
///
/// # Safety
/// `src` NUL-terminated; `dst` has room for it.
unsafe fn copy<T: Copy + Into<u32>>(dst: *mut T, src: *const T) -> *mut T {
    if dst.is_null() || src.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: by the caller's contract; `copy` allows the two to overlap.
    unsafe {
        let n = length(src) + 1;
        std::ptr::copy(src, dst, n);
    }
    dst
}

/// `lstrcpyA`: copies `src` to `dst`; returns `dst` (NULL when either is NULL).
///
/// # Safety
/// `src` is NUL-terminated; `dst` has room for it.
#[no_mangle]
pub unsafe extern "C" fn lstrcpyA(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    // SAFETY: by the function's contract.
    unsafe { copy(dst.cast::<u8>(), src.cast::<u8>()).cast() }
}

/// `lstrcpyW`: as [`lstrcpyA`], for wide strings.
///
/// # Safety
/// As [`lstrcpyA`].
#[no_mangle]
pub unsafe extern "C" fn lstrcpyW(dst: *mut WCHAR, src: *const WCHAR) -> *mut WCHAR {
    // SAFETY: by the function's contract.
    unsafe { copy(dst.cast::<u32>(), src.cast::<u32>()).cast() }
}

/// `lstrcatA`: appends `src` to `dst`; returns `dst` (NULL when either is NULL).
///
/// # Safety
/// Both NUL-terminated; `dst` has room for both.
#[no_mangle]
pub unsafe extern "C" fn lstrcatA(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    if dst.is_null() || src.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: by the function's contract.
    unsafe {
        copy(
            dst.add(length(dst.cast::<u8>())).cast::<u8>(),
            src.cast::<u8>(),
        );
    }
    dst
}

/// `lstrcatW`: as [`lstrcatA`], for wide strings.
///
/// # Safety
/// As [`lstrcatA`].
#[no_mangle]
pub unsafe extern "C" fn lstrcatW(dst: *mut WCHAR, src: *const WCHAR) -> *mut WCHAR {
    if dst.is_null() || src.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: by the function's contract.
    unsafe {
        copy(
            dst.add(length(dst.cast::<u32>())).cast::<u32>(),
            src.cast::<u32>(),
        );
    }
    dst
}

/// Copies at most `n - 1` characters of `src` to `dst` and a NUL; `dst` (NULL when
/// either is NULL). With `n` 0 nothing is written.
///
/// # Safety
/// `src` is NUL-terminated or has `n - 1` readable characters; `dst` has room for `n`.
unsafe fn copy_n<T: Copy + Into<u32> + Default>(dst: *mut T, src: *const T, n: c_int) -> *mut T {
    if dst.is_null() || src.is_null() {
        return std::ptr::null_mut();
    }
    let Ok(n) = usize::try_from(n) else {
        return dst;
    };
    if n == 0 {
        return dst;
    }
    let mut i = 0;
    // SAFETY: by the caller's contract.
    unsafe {
        while i + 1 < n {
            let c = *src.add(i);
            if c.into() == 0 {
                break;
            }
            *dst.add(i) = c;
            i += 1;
        }
        *dst.add(i) = T::default();
    }
    dst
}

/// `lstrcpynA`: copies at most `iMaxLength - 1` bytes of `src` and a NUL to `dst`;
/// returns `dst`.
///
/// # Safety
/// `src` is NUL-terminated (or long enough); `dst` has room for `iMaxLength` bytes.
#[no_mangle]
pub unsafe extern "C" fn lstrcpynA(dst: *mut c_char, src: *const c_char, n: c_int) -> *mut c_char {
    // SAFETY: by the function's contract.
    unsafe { copy_n(dst.cast::<u8>(), src.cast::<u8>(), n).cast() }
}

/// `lstrcpynW`: as [`lstrcpynA`], for wide strings.
///
/// # Safety
/// As [`lstrcpynA`], in characters.
#[no_mangle]
pub unsafe extern "C" fn lstrcpynW(dst: *mut WCHAR, src: *const WCHAR, n: c_int) -> *mut WCHAR {
    // SAFETY: by the function's contract.
    unsafe { copy_n(dst.cast::<u32>(), src.cast::<u32>(), n).cast() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str, i: bool) -> Ordering {
        let a: Vec<u32> = a.chars().map(u32::from).collect();
        let b: Vec<u32> = b.chars().map(u32::from).collect();
        compare(&a, &b, i)
    }

    #[test]
    fn word_sort() {
        assert_eq!(cmp("a", "B", false), Ordering::Less);
        assert_eq!(cmp("a", "A", false), Ordering::Less);
        assert_eq!(cmp("a", "A", true), Ordering::Equal);
        assert_eq!(cmp("_", "1", false), Ordering::Less);
        assert_eq!(cmp("9", "a", false), Ordering::Less);
        assert_eq!(cmp("coop", "co-op", false), Ordering::Less);
        assert_eq!(cmp("co-op", "coop", false), Ordering::Greater);
        assert_eq!(cmp("abc", "abcd", false), Ordering::Less);
    }
}
