//! Code pages: `MultiByteToWideChar`, `WideCharToMultiByte`, `GetACP`, `GetOEMCP`,
//! `IsValidCodePage`.
//!
//! Narrow strings are UTF-8 throughout this library, so the ANSI and OEM code pages are
//! UTF-8 (65001, as on Windows set to use UTF-8 for the ANSI code page): `CP_ACP`,
//! `CP_OEMCP`, `CP_MACCP`, `CP_THREAD_ACP` and `CP_UTF8` convert UTF-8. Also US-ASCII
//! (20127) and ISO 8859-1 (28591). A wide character is a `wchar_t`, one Unicode code
//! point (UTF-32).

use std::ffi::{c_char, c_int};

use crate::error;
use crate::types::*;

const CP_ACP: u32 = 0;
const CP_OEMCP: u32 = 1;
const CP_MACCP: u32 = 2;
const CP_THREAD_ACP: u32 = 3;
const CP_UTF8: u32 = 65001;
const CP_ASCII: u32 = 20127;
const CP_LATIN1: u32 = 28591;
const MB_PRECOMPOSED: DWORD = 0x1;
const MB_USEGLYPHCHARS: DWORD = 0x4;
const MB_ERR_INVALID_CHARS: DWORD = 0x8;
const WC_COMPOSITECHECK: DWORD = 0x200;
const WC_DISCARDNS: DWORD = 0x10;
const WC_SEPCHARS: DWORD = 0x20;
const WC_DEFAULTCHAR: DWORD = 0x40;
const WC_ERR_INVALID_CHARS: DWORD = 0x80;
const WC_NO_BEST_FIT_CHARS: DWORD = 0x400;
const ERROR_INVALID_FLAGS: DWORD = 1004;
const ERROR_NO_UNICODE_TRANSLATION: DWORD = 1113;

#[derive(Clone, Copy, PartialEq)]
enum Page {
    Utf8,
    Ascii,
    Latin1,
}

fn page(cp: u32) -> Option<Page> {
    match cp {
        CP_ACP | CP_OEMCP | CP_MACCP | CP_THREAD_ACP | CP_UTF8 => Some(Page::Utf8),
        CP_ASCII => Some(Page::Ascii),
        CP_LATIN1 => Some(Page::Latin1),
        _ => None,
    }
}

/// `GetACP`: the ANSI code page, UTF-8 (65001).
#[no_mangle]
pub extern "C" fn GetACP() -> u32 {
    CP_UTF8
}

/// `GetOEMCP`: the OEM code page, UTF-8 (65001).
#[no_mangle]
pub extern "C" fn GetOEMCP() -> u32 {
    CP_UTF8
}

/// `IsValidCodePage`: whether the conversions know the code page (65001, 20127,
/// 28591; the symbolic `CP_ACP`... are not code pages).
#[no_mangle]
pub extern "C" fn IsValidCodePage(cp: u32) -> BOOL {
    BOOL::from(matches!(cp, CP_UTF8 | CP_ASCII | CP_LATIN1))
}

/// Decodes one UTF-8 sequence at the start of `b`: the code point (None: invalid) and
/// how many bytes it took (an invalid one: the bytes of its maximal valid prefix, at
/// least 1).
fn decode_utf8(b: &[u8]) -> (Option<u32>, usize) {
    let lead = b[0];
    let (len, min, init) = match lead {
        0x00..=0x7F => return (Some(u32::from(lead)), 1),
        0xC2..=0xDF => (2, 0x80, u32::from(lead & 0x1F)),
        0xE0..=0xEF => (3, 0x800, u32::from(lead & 0x0F)),
        0xF0..=0xF4 => (4, 0x1_0000, u32::from(lead & 0x07)),
        _ => return (None, 1),
    };
    let mut c = init;
    for i in 1..len {
        match b.get(i) {
            Some(&x) if x & 0xC0 == 0x80 => c = (c << 6) | u32::from(x & 0x3F),
            _ => return (None, i),
        }
    }
    if c < min || c > 0x10_FFFF || (0xD800..=0xDFFF).contains(&c) {
        return (None, len);
    }
    (Some(c), len)
}

/// `MultiByteToWideChar`: converts `cbMultiByte` bytes of `lpMultiByteStr` (-1: up to
/// and with its NUL) to wide characters in `lpWideCharStr` (`cchWideChar` of them; 0:
/// only count). Returns how many characters it wrote (or would write); 0 on failure
/// (`ERROR_INSUFFICIENT_BUFFER`, `ERROR_INVALID_PARAMETER`, `ERROR_INVALID_FLAGS`, and
/// with `MB_ERR_INVALID_CHARS` `ERROR_NO_UNICODE_TRANSLATION` for an invalid sequence,
/// which otherwise becomes U+FFFD).
///
/// # Safety
/// `src` has `cb` readable bytes (or is NUL-terminated for -1); `dst` has room for
/// `cch` characters.
#[no_mangle]
pub unsafe extern "C" fn MultiByteToWideChar(
    cp: u32,
    flags: DWORD,
    src: *const c_char,
    cb: c_int,
    dst: *mut WCHAR,
    cch: c_int,
) -> c_int {
    let Some(page) = page(cp) else {
        error::set(err::INVALID_PARAMETER);
        return 0;
    };
    if src.is_null() || cb == 0 || cb < -1 || cch < 0 || (dst.is_null() && cch > 0) {
        error::set(err::INVALID_PARAMETER);
        return 0;
    }
    if src.cast::<u8>() == dst.cast::<u8>().cast_const() {
        error::set(err::INVALID_PARAMETER);
        return 0;
    }
    // MB_PRECOMPOSED and MB_USEGLYPHCHARS change nothing for these code pages (as in
    // Wine 8, also for UTF-8); MB_COMPOSITE (decomposition) is not provided.
    if flags & !(MB_PRECOMPOSED | MB_USEGLYPHCHARS | MB_ERR_INVALID_CHARS) != 0 {
        error::set(ERROR_INVALID_FLAGS);
        return 0;
    }
    // SAFETY: by the function's contract.
    let bytes = unsafe {
        let n = if cb == -1 {
            libc::strlen(src) + 1
        } else {
            cb as usize
        };
        std::slice::from_raw_parts(src.cast::<u8>(), n)
    };
    let mut out: Vec<u32> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let (c, used) = match page {
            Page::Utf8 => decode_utf8(&bytes[i..]),
            Page::Latin1 => (Some(u32::from(bytes[i])), 1),
            Page::Ascii => (Some(u32::from(bytes[i] & 0x7F)), 1),
        };
        match c {
            Some(c) => out.push(c),
            None if flags & MB_ERR_INVALID_CHARS != 0 => {
                error::set(ERROR_NO_UNICODE_TRANSLATION);
                return 0;
            }
            None => out.push(0xFFFD),
        }
        i += used;
    }
    // SAFETY: `dst` has room for `cch` characters, by the function's contract.
    unsafe { deliver(&out, dst.cast::<u32>(), cch) }
}

/// Writes `out` to `dst` (room for `room` units; 0: only count): the count, or 0 with
/// `ERROR_INSUFFICIENT_BUFFER` when it does not fit (what fits is written).
///
/// # Safety
/// `dst` has room for `room` units.
unsafe fn deliver<T: Copy>(out: &[T], dst: *mut T, room: c_int) -> c_int {
    if room == 0 {
        return out.len() as c_int;
    }
    let room = room as usize;
    let n = out.len().min(room);
    // SAFETY: `n` ≤ `room`, by the caller's contract.
    unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), dst, n) };
    if out.len() > room {
        error::set(err::INSUFFICIENT_BUFFER);
        return 0;
    }
    n as c_int
}

/// `WideCharToMultiByte`: converts `cchWideChar` wide characters of `lpWideCharStr`
/// (-1: up to and with its NUL) to bytes in `lpMultiByteStr` (`cbMultiByte` of them;
/// 0: only count). For UTF-8 `lpDefaultChar` must be NULL (`ERROR_INVALID_PARAMETER`)
/// and an invalid character (a surrogate, or above
/// U+10FFFF) becomes U+FFFD, or with `WC_ERR_INVALID_CHARS` fails with
/// `ERROR_NO_UNICODE_TRANSLATION`; for the single-byte code pages a character they lack
/// becomes the default character (`?`, or `*lpDefaultChar`) and sets
/// `*lpUsedDefaultChar` (Windows maps some of them to a similar character unless
/// `WC_NO_BEST_FIT_CHARS`; there is no best fit here).
///
/// # Safety
/// `src` has `cch` readable characters (or is NUL-terminated for -1); `dst` room for
/// `cb` bytes; `default_char` NULL or readable; `used_default` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn WideCharToMultiByte(
    cp: u32,
    flags: DWORD,
    src: *const WCHAR,
    cch: c_int,
    dst: *mut c_char,
    cb: c_int,
    default_char: *const c_char,
    used_default: *mut BOOL,
) -> c_int {
    let Some(page) = page(cp) else {
        error::set(err::INVALID_PARAMETER);
        return 0;
    };
    if src.is_null() || cch == 0 || cch < -1 || cb < 0 || (dst.is_null() && cb > 0) {
        error::set(err::INVALID_PARAMETER);
        return 0;
    }
    if src.cast::<u8>() == dst.cast::<u8>().cast_const() {
        error::set(err::INVALID_PARAMETER);
        return 0;
    }
    if page == Page::Utf8 {
        if flags & !WC_ERR_INVALID_CHARS != 0 {
            error::set(ERROR_INVALID_FLAGS);
            return 0;
        }
        // lpUsedDefaultChar is accepted (and set FALSE), as Windows 10 does; a default
        // character has no meaning for UTF-8.
        if !default_char.is_null() {
            error::set(err::INVALID_PARAMETER);
            return 0;
        }
    } else if flags
        & !(WC_COMPOSITECHECK
            | WC_DISCARDNS
            | WC_SEPCHARS
            | WC_DEFAULTCHAR
            | WC_NO_BEST_FIT_CHARS
            | WC_ERR_INVALID_CHARS)
        != 0
    {
        error::set(ERROR_INVALID_FLAGS);
        return 0;
    }
    // SAFETY: by the function's contract.
    let chars = unsafe {
        let n = if cch == -1 {
            let mut n = 0;
            while *src.add(n) != 0 {
                n += 1;
            }
            n + 1
        } else {
            cch as usize
        };
        std::slice::from_raw_parts(src.cast::<u32>(), n)
    };
    let fallback = if default_char.is_null() {
        b'?'
    } else {
        // SAFETY: readable, by the function's contract.
        unsafe { *default_char.cast::<u8>() }
    };
    let mut used = false;
    let mut out: Vec<u8> = Vec::with_capacity(chars.len());
    for &c in chars {
        match page {
            Page::Utf8 => {
                let ch = match char::from_u32(c) {
                    Some(ch) => ch,
                    None if flags & WC_ERR_INVALID_CHARS != 0 => {
                        error::set(ERROR_NO_UNICODE_TRANSLATION);
                        return 0;
                    }
                    None => char::REPLACEMENT_CHARACTER,
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            Page::Ascii | Page::Latin1 => {
                let top = if page == Page::Ascii { 0x7F } else { 0xFF };
                if c <= top {
                    out.push(c as u8);
                } else {
                    used = true;
                    out.push(fallback);
                }
            }
        }
    }
    if !used_default.is_null() {
        // SAFETY: writable, by the function's contract.
        unsafe { *used_default = BOOL::from(used) };
    }
    // SAFETY: `dst` has room for `cb` bytes, by the function's contract.
    unsafe { deliver(&out, dst.cast::<u8>(), cb) }
}
