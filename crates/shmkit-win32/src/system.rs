//! The system and the clock: `GetSystemInfo`, `GetNativeSystemInfo`, `GetTickCount(64)`,
//! `QueryPerformanceCounter`/`Frequency`, `GetSystemTimeAsFileTime`; system messages
//! (`FormatMessage` with `FORMAT_MESSAGE_FROM_SYSTEM`); and the environment
//! (`GetEnvironmentVariable`, `SetEnvironmentVariable`).

use crate::error::{self, ffi, Result};
use crate::strings;
use crate::types::*;
use std::ffi::c_void;

/// `ERROR_ENVVAR_NOT_FOUND`.
const ERROR_ENVVAR_NOT_FOUND: DWORD = 203;
/// `ERROR_MR_MID_NOT_FOUND`: no message for the number.
const ERROR_MR_MID_NOT_FOUND: DWORD = 317;
/// `ERROR_RESOURCE_LANG_NOT_FOUND`: no message in the language asked for.
const ERROR_RESOURCE_LANG_NOT_FOUND: DWORD = 1815;

/// Windows' `SYSTEM_INFO`.
#[repr(C)]
#[allow(non_snake_case)]
pub struct SYSTEM_INFO {
    /// `PROCESSOR_ARCHITECTURE_*` (the low word of the union with `dwOemId`).
    pub wProcessorArchitecture: u16,
    /// Reserved.
    pub wReserved: u16,
    /// The page size.
    pub dwPageSize: DWORD,
    /// The lowest address a program's memory may have (64 KiB).
    pub lpMinimumApplicationAddress: *mut c_void,
    /// The highest.
    pub lpMaximumApplicationAddress: *mut c_void,
    /// One bit per processor.
    pub dwActiveProcessorMask: usize,
    /// How many processors.
    pub dwNumberOfProcessors: DWORD,
    /// `PROCESSOR_AMD_X8664` (8664) or `PROCESSOR_INTEL_PENTIUM` (586).
    pub dwProcessorType: DWORD,
    /// The granularity of view addresses: 64 KiB, as on Windows.
    pub dwAllocationGranularity: DWORD,
    /// The processor's family.
    pub wProcessorLevel: u16,
    /// Its model and stepping (`0xMMSS`).
    pub wProcessorRevision: u16,
}

/// The processor's family and its model and stepping, as Windows reports them.
fn processor_level() -> (u16, u16) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: CPUID leaf 1 exists on every x86-64 processor (the call is safe in newer
        // compilers, unsafe in older ones).
        #[allow(unused_unsafe)]
        let r = unsafe { std::arch::x86_64::__cpuid(1) };
        let eax = r.eax;
        let (base_family, base_model, stepping) = ((eax >> 8) & 0xF, (eax >> 4) & 0xF, eax & 0xF);
        let family = if base_family == 0xF {
            base_family + ((eax >> 20) & 0xFF)
        } else {
            base_family
        };
        let model = if base_family == 0x6 || base_family == 0xF {
            base_model | (((eax >> 16) & 0xF) << 4)
        } else {
            base_model
        };
        (family as u16, ((model << 8) | stepping) as u16)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (0, 0)
    }
}

fn system_info() -> SYSTEM_INFO {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as DWORD;
    // SAFETY: as above.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.clamp(1, 64) as DWORD;
    let mask = if cpus >= 64 {
        usize::MAX
    } else {
        (1usize << cpus) - 1
    };
    let (level, revision) = processor_level();
    let (arch, kind, max) = if cfg!(target_arch = "x86_64") {
        (9u16, 8664, 0x7FFF_FFFE_FFFFusize)
    } else if cfg!(target_arch = "aarch64") {
        (12u16, 0, 0x7FFF_FFFE_FFFFusize)
    } else {
        (0xFFFFu16, 0, 0x7FFE_FFFFusize)
    };
    SYSTEM_INFO {
        wProcessorArchitecture: arch,
        wReserved: 0,
        dwPageSize: page,
        lpMinimumApplicationAddress: 0x10000 as *mut c_void,
        lpMaximumApplicationAddress: max as *mut c_void,
        dwActiveProcessorMask: mask,
        dwNumberOfProcessors: cpus,
        dwProcessorType: kind,
        dwAllocationGranularity: 0x10000,
        wProcessorLevel: level,
        wProcessorRevision: revision,
    }
}

/// `GetSystemInfo`: the page size, the 64 KiB allocation granularity, the application
/// address range (64 KiB to 128 TiB less 64 KiB, as x64 Windows), the online processors
/// (at most 64, one mask bit each) and the processor's architecture, type, family
/// (`wProcessorLevel`) and model and stepping (`wProcessorRevision`). NULL is ignored.
///
/// # Safety
/// `info` is NULL or a writable `SYSTEM_INFO`.
#[no_mangle]
pub unsafe extern "C" fn GetSystemInfo(info: *mut SYSTEM_INFO) {
    if !info.is_null() {
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { info.write(system_info()) };
    }
}

/// `GetNativeSystemInfo`: [`GetSystemInfo`] (a 64-bit process sees the native system).
///
/// # Safety
/// As for [`GetSystemInfo`].
#[no_mangle]
pub unsafe extern "C" fn GetNativeSystemInfo(info: *mut SYSTEM_INFO) {
    // SAFETY: by the function's contract.
    unsafe { GetSystemInfo(info) }
}

fn clock(id: libc::clockid_t) -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable; the clock ids used here exist on every Linux.
    unsafe { libc::clock_gettime(id, &mut ts) };
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `GetTickCount64`: milliseconds since the system started (suspended time included,
/// as on Windows).
#[no_mangle]
pub extern "C" fn GetTickCount64() -> u64 {
    clock(libc::CLOCK_BOOTTIME).as_millis() as u64
}

/// `GetTickCount`: [`GetTickCount64`]'s low 32 bits (it wraps after 49.7 days).
#[no_mangle]
pub extern "C" fn GetTickCount() -> DWORD {
    GetTickCount64() as DWORD
}

/// The performance counter's frequency: 10 MHz (100 ns ticks), as Windows 10 and Wine.
const PERFORMANCE_FREQUENCY: i64 = 10_000_000;

/// `QueryPerformanceCounter`: a monotonic count of 100 ns ticks. TRUE; NULL is
/// `ERROR_NOACCESS`.
///
/// # Safety
/// `count` is NULL or a writable `LARGE_INTEGER`.
#[no_mangle]
pub unsafe extern "C" fn QueryPerformanceCounter(count: *mut i64) -> BOOL {
    if count.is_null() {
        error::set(err::NOACCESS);
        return FALSE;
    }
    let ticks = clock(libc::CLOCK_MONOTONIC).as_nanos() / 100;
    // SAFETY: non-NULL and writable, by the function's contract.
    unsafe { count.write(ticks as i64) };
    TRUE
}

/// `QueryPerformanceFrequency`: 10,000,000 ticks a second. TRUE; NULL is
/// `ERROR_NOACCESS`.
///
/// # Safety
/// `freq` is NULL or a writable `LARGE_INTEGER`.
#[no_mangle]
pub unsafe extern "C" fn QueryPerformanceFrequency(freq: *mut i64) -> BOOL {
    if freq.is_null() {
        error::set(err::NOACCESS);
        return FALSE;
    }
    // SAFETY: non-NULL and writable, by the function's contract.
    unsafe { freq.write(PERFORMANCE_FREQUENCY) };
    TRUE
}

/// Windows' `FILETIME`: 100 ns intervals since 1601-01-01 UTC, in two halves.
#[repr(C)]
#[allow(non_snake_case)]
pub struct FILETIME {
    /// The low 32 bits.
    pub dwLowDateTime: DWORD,
    /// The high 32 bits.
    pub dwHighDateTime: DWORD,
}

/// 100 ns intervals from 1601-01-01 to 1970-01-01.
const EPOCH_1601: u64 = 116_444_736_000_000_000;

/// `GetSystemTimeAsFileTime`: the current time (UTC). NULL is ignored.
///
/// # Safety
/// `ft` is NULL or a writable `FILETIME`.
#[no_mangle]
pub unsafe extern "C" fn GetSystemTimeAsFileTime(ft: *mut FILETIME) {
    if ft.is_null() {
        return;
    }
    let t = (clock(libc::CLOCK_REALTIME).as_nanos() / 100) as u64 + EPOCH_1601;
    // SAFETY: non-NULL and writable, by the function's contract.
    unsafe {
        ft.write(FILETIME {
            dwLowDateTime: t as DWORD,
            dwHighDateTime: (t >> 32) as DWORD,
        })
    };
}

/// `GetSystemTimePreciseAsFileTime`: [`GetSystemTimeAsFileTime`] (already precise).
///
/// # Safety
/// As for [`GetSystemTimeAsFileTime`].
#[no_mangle]
pub unsafe extern "C" fn GetSystemTimePreciseAsFileTime(ft: *mut FILETIME) {
    // SAFETY: by the function's contract.
    unsafe { GetSystemTimeAsFileTime(ft) }
}

// ---- system messages -------------------------------------------------------------------

/// The system's messages (Windows' English texts) for the error codes programs meet.
const MESSAGES: &[(DWORD, &str)] = &[
    (0, "The operation completed successfully."),
    (1, "Incorrect function."),
    (2, "The system cannot find the file specified."),
    (3, "The system cannot find the path specified."),
    (4, "The system cannot open the file."),
    (5, "Access is denied."),
    (6, "The handle is invalid."),
    (8, "Not enough memory resources are available to process this command."),
    (12, "The access code is invalid."),
    (13, "The data is invalid."),
    (14, "Not enough memory resources are available to complete this operation."),
    (18, "There are no more files."),
    (24, "The program issued a command but the command length is incorrect."),
    (31, "A device attached to the system is not functioning."),
    (32, "The process cannot access the file because it is being used by another process."),
    (33, "The process cannot access the file because another process has locked a portion of the file."),
    (38, "Reached the end of the file."),
    (50, "The request is not supported."),
    (80, "The file exists."),
    (87, "The parameter is incorrect."),
    (109, "The pipe has been ended."),
    (112, "There is not enough space on the disk."),
    (120, "This function is not supported on this system."),
    (121, "The semaphore timeout period has expired."),
    (122, "The data area passed to a system call is too small."),
    (123, "The filename, directory name, or volume label syntax is incorrect."),
    (126, "The specified module could not be found."),
    (127, "The specified procedure could not be found."),
    (145, "The directory is not empty."),
    (161, "The specified path is invalid."),
    (183, "Cannot create a file when that file already exists."),
    (193, "%1 is not a valid Win32 application."),
    (203, "The system could not find the environment option that was entered."),
    (206, "The filename or extension is too long."),
    (234, "More data is available."),
    (258, "The wait operation timed out."),
    (259, "No more data is available."),
    (267, "The directory name is invalid."),
    (288, "Attempt to release mutex not owned by caller."),
    (298, "Too many posts were made to a semaphore."),
    (317, "The system cannot find message text for message number 0x%1 in the message file for %2."),
    (487, "Attempt to access invalid address."),
    (997, "Overlapped I/O operation is in progress."),
    (998, "Invalid access to memory location."),
    (1004, "Invalid flags."),
    (1224, "The requested operation cannot be performed on a file with a user-mapped section open."),
    (1305, "The revision level is unknown."),
    (1307, "This security ID may not be assigned as the owner of this object."),
    (1314, "A required privilege is not held by the client."),
    (1336, "The access control list (ACL) structure is invalid."),
    (1337, "The security ID structure is invalid."),
    (1338, "The security descriptor structure is invalid."),
    (1359, "An internal error occurred."),
    (1455, "The paging file is too small for this operation to complete."),
    (1460, "This operation returned because the timeout period expired."),
    (1815, "The specified resource language ID cannot be found in the image file."),
    (1816, "Not enough quota is available to process this command."),
];

const FORMAT_MESSAGE_ALLOCATE_BUFFER: DWORD = 0x100;
const FORMAT_MESSAGE_IGNORE_INSERTS: DWORD = 0x200;
const FORMAT_MESSAGE_FROM_STRING: DWORD = 0x400;
const FORMAT_MESSAGE_FROM_HMODULE: DWORD = 0x800;
const FORMAT_MESSAGE_FROM_SYSTEM: DWORD = 0x1000;
const FORMAT_MESSAGE_MAX_WIDTH_MASK: DWORD = 0xFF;

/// The message text `FormatMessage` gives: the system's text with its line break, or
/// with the break as a space under `FORMAT_MESSAGE_MAX_WIDTH_MASK`.
fn message(flags: DWORD, source: *const c_void, id: DWORD, lang: DWORD) -> Result<String> {
    if flags & FORMAT_MESSAGE_FROM_STRING != 0
        || (flags & FORMAT_MESSAGE_FROM_HMODULE != 0 && !source.is_null())
    {
        // Messages of a string or of a module's message table are not provided.
        return error::fail(err::NOT_SUPPORTED);
    }
    if flags & FORMAT_MESSAGE_FROM_SYSTEM == 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    let width = flags & FORMAT_MESSAGE_MAX_WIDTH_MASK;
    if width != 0 && width != FORMAT_MESSAGE_MAX_WIDTH_MASK {
        // Wrapping at a width is not provided.
        return error::fail(err::NOT_SUPPORTED);
    }
    // The messages are English: neutral (0, the user's or the system's default) and
    // English languages have them.
    let primary = lang & 0x3FF;
    if primary != 0 && primary != 0x09 {
        return error::fail(ERROR_RESOURCE_LANG_NOT_FOUND);
    }
    let Some(&(_, text)) = MESSAGES.iter().find(|&&(code, _)| code == id) else {
        return error::fail(ERROR_MR_MID_NOT_FOUND);
    };
    if flags & FORMAT_MESSAGE_IGNORE_INSERTS == 0 && text.contains('%') {
        // Inserts would need arguments, which are not read here.
        return error::fail(err::INVALID_PARAMETER);
    }
    Ok(if width == FORMAT_MESSAGE_MAX_WIDTH_MASK {
        format!("{text} ")
    } else {
        format!("{text}\r\n")
    })
}

/// Writes `units` (and a NUL) where `FormatMessage` was told to: into the caller's buffer
/// of `size` units, or into a new one (`FORMAT_MESSAGE_ALLOCATE_BUFFER`, freed with
/// `LocalFree`) whose address goes to `*buffer`.
///
/// # Safety
/// As for [`FormatMessageA`], with `T` the character type.
unsafe fn deliver<T: Copy + Default>(
    flags: DWORD,
    units: &[T],
    buffer: *mut c_void,
    size: DWORD,
) -> Result<DWORD> {
    if buffer.is_null() {
        return error::fail(err::INVALID_PARAMETER);
    }
    let n = units.len();
    let out: *mut T = if flags & FORMAT_MESSAGE_ALLOCATE_BUFFER != 0 {
        let count = (n + 1).max(size as usize);
        // SAFETY: a plain allocation (what LocalFree frees); NULL is checked.
        let p = unsafe { libc::malloc(count * std::mem::size_of::<T>()) }.cast::<T>();
        if p.is_null() {
            return error::fail(err::NOT_ENOUGH_MEMORY);
        }
        // SAFETY: `buffer` is a writable pointer to a string pointer, by the contract.
        unsafe { buffer.cast::<*mut T>().write(p) };
        p
    } else {
        if n + 1 > size as usize {
            return error::fail(err::INSUFFICIENT_BUFFER);
        }
        buffer.cast::<T>()
    };
    // SAFETY: `out` holds at least `n + 1` units (allocated so, or checked above).
    unsafe {
        std::ptr::copy_nonoverlapping(units.as_ptr(), out, n);
        out.add(n).write(T::default());
    }
    Ok(n as DWORD)
}

/// `FormatMessageA`: the system's message for error code `dwMessageId`
/// (`FORMAT_MESSAGE_FROM_SYSTEM`; `lpSource` is then ignored), in English (language 0,
/// neutral or an English language; another is `ERROR_RESOURCE_LANG_NOT_FOUND`), ended
/// by `"\r\n"` — or by a space with `FORMAT_MESSAGE_MAX_WIDTH_MASK`. Returns its length
/// without the NUL. With `FORMAT_MESSAGE_ALLOCATE_BUFFER`, `lpBuffer` is where the
/// address of a new buffer (at least `nSize` characters; free it with `LocalFree`) is
/// stored; otherwise the text goes into `lpBuffer`, which holds `nSize` characters
/// (`ERROR_INSUFFICIENT_BUFFER` when it is too small). A code without a message is
/// `ERROR_MR_MID_NOT_FOUND` (317). A message with inserts (`%1`) needs
/// `FORMAT_MESSAGE_IGNORE_INSERTS` (which keeps them as they are; `Arguments` is never
/// read): without it, `ERROR_INVALID_PARAMETER`. Messages of a string
/// (`FORMAT_MESSAGE_FROM_STRING`) or of a module, and wrapping at a width other than
/// `FORMAT_MESSAGE_MAX_WIDTH_MASK`, are not provided (`ERROR_NOT_SUPPORTED`).
///
/// # Safety
/// `buffer` is a writable buffer of `size` characters, or with
/// `FORMAT_MESSAGE_ALLOCATE_BUFFER` a writable `LPSTR`.
#[no_mangle]
pub unsafe extern "C" fn FormatMessageA(
    flags: DWORD,
    source: *const c_void,
    id: DWORD,
    lang: DWORD,
    buffer: *mut c_void,
    size: DWORD,
    _args: *mut c_void,
) -> DWORD {
    ffi(0, || {
        let text = message(flags, source, id, lang)?;
        // SAFETY: by the function's contract.
        unsafe { deliver(flags, text.as_bytes(), buffer, size) }
    })
}

/// `FormatMessageW`: [`FormatMessageA`] with wide characters.
///
/// # Safety
/// As for [`FormatMessageA`], with wide characters.
#[no_mangle]
pub unsafe extern "C" fn FormatMessageW(
    flags: DWORD,
    source: *const c_void,
    id: DWORD,
    lang: DWORD,
    buffer: *mut c_void,
    size: DWORD,
    _args: *mut c_void,
) -> DWORD {
    ffi(0, || {
        let text = message(flags, source, id, lang)?;
        let mut units = strings::to_wide(&text);
        units.pop();
        // SAFETY: by the function's contract.
        unsafe { deliver(flags, &units, buffer, size) }
    })
}

// ---- the environment --------------------------------------------------------------------

/// A variable's name as the environment takes it: not empty, without `=` (else
/// `ERROR_INVALID_PARAMETER`... for a set; a get finds nothing).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('=')
}

/// Copies `units` (and a NUL) into a buffer of `size` units as the variable getters do:
/// the length without the NUL when it fits, otherwise the size needed with the NUL, the
/// buffer untouched.
///
/// # Safety
/// `out` is NULL or holds `size` writable units.
unsafe fn give<T: Copy + Default>(units: &[T], out: *mut T, size: DWORD) -> DWORD {
    let n = units.len();
    if out.is_null() || n + 1 > size as usize {
        return (n + 1) as DWORD;
    }
    // SAFETY: `out` holds `size >= n + 1` units, by the caller's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(units.as_ptr(), out, n);
        out.add(n).write(T::default());
    }
    n as DWORD
}

fn get_var(name: Option<String>) -> Result<String> {
    let name = name.ok_or(error::Win32Error(ERROR_ENVVAR_NOT_FOUND))?;
    if !valid_name(&name) {
        return error::fail(ERROR_ENVVAR_NOT_FOUND);
    }
    match std::env::var_os(&name) {
        Some(v) => Ok(v.to_string_lossy().into_owned()),
        None => error::fail(ERROR_ENVVAR_NOT_FOUND),
    }
}

/// `GetEnvironmentVariableA`: copies the variable's value into `lpBuffer` (`nSize`
/// characters) and returns its length without the NUL; when the buffer is too small (or
/// NULL), returns the size needed with the NUL and leaves it alone. A variable that is
/// not set is 0 with `ERROR_ENVVAR_NOT_FOUND` (203); one set to the empty string is 0
/// too (the last error is left alone).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `buffer` NULL or `size` writable chars.
#[no_mangle]
pub unsafe extern "C" fn GetEnvironmentVariableA(
    name: LPCSTR,
    buffer: *mut std::ffi::c_char,
    size: DWORD,
) -> DWORD {
    ffi(0, || {
        // SAFETY: by the function's contract.
        let value = get_var(unsafe { strings::narrow(name) }?)?;
        let bytes: Vec<std::ffi::c_char> = value.bytes().map(|b| b as std::ffi::c_char).collect();
        // SAFETY: by the function's contract.
        Ok(unsafe { give(&bytes, buffer, size) })
    })
}

/// `GetEnvironmentVariableW`: [`GetEnvironmentVariableA`] with wide strings.
///
/// # Safety
/// As for [`GetEnvironmentVariableA`], with wide strings.
#[no_mangle]
pub unsafe extern "C" fn GetEnvironmentVariableW(
    name: LPCWSTR,
    buffer: *mut WCHAR,
    size: DWORD,
) -> DWORD {
    ffi(0, || {
        // SAFETY: by the function's contract.
        let value = get_var(unsafe { strings::wide(name) }?)?;
        let mut units = strings::to_wide(&value);
        units.pop();
        // SAFETY: by the function's contract.
        Ok(unsafe { give(&units, buffer, size) })
    })
}

fn set_var(name: Option<String>, value: Option<String>) -> Result<BOOL> {
    let Some(name) = name.filter(|n| valid_name(n)) else {
        return error::fail(err::INVALID_PARAMETER);
    };
    match value {
        Some(v) => std::env::set_var(&name, v),
        None => std::env::remove_var(&name),
    }
    Ok(TRUE)
}

/// `SetEnvironmentVariableA`: sets a variable of this process (children started later
/// inherit it); a NULL value removes it. An empty name, or one with `=`, is
/// `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `name` and `value` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn SetEnvironmentVariableA(name: LPCSTR, value: LPCSTR) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let (name, value) = unsafe { (strings::narrow(name)?, strings::narrow(value)?) };
        set_var(name, value)
    })
}

/// `SetEnvironmentVariableW`: [`SetEnvironmentVariableA`] with wide strings.
///
/// # Safety
/// As for [`SetEnvironmentVariableA`], with wide strings.
#[no_mangle]
pub unsafe extern "C" fn SetEnvironmentVariableW(name: LPCWSTR, value: LPCWSTR) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let (name, value) = unsafe { (strings::wide(name)?, strings::wide(value)?) };
        set_var(name, value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(flags: DWORD, id: DWORD, size: DWORD) -> (DWORD, String, DWORD) {
        let mut buf = [0u8; 256];
        error::set(0);
        // SAFETY: `buf` holds 256 bytes, at least `size`.
        let n = unsafe {
            FormatMessageA(
                flags,
                std::ptr::null(),
                id,
                0,
                buf.as_mut_ptr().cast(),
                size.min(256),
                std::ptr::null_mut(),
            )
        };
        let text = String::from_utf8_lossy(&buf[..n as usize]).into_owned();
        (n, text, error::get())
    }

    #[test]
    fn system_messages_their_buffers_and_their_failures() {
        let sys = FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS;
        let (n, text, _) = format(sys, 5, 256);
        assert_eq!(text, "Access is denied.\r\n");
        assert_eq!(n as usize, text.len());
        assert_eq!(format(sys | 0xFF, 5, 256).1, "Access is denied. ");
        assert_eq!(
            format(sys, 5, 5),
            (0, String::new(), err::INSUFFICIENT_BUFFER)
        );
        assert_eq!(format(sys, 0x12345, 256).2, ERROR_MR_MID_NOT_FOUND);
        assert_eq!(
            format(FORMAT_MESSAGE_FROM_SYSTEM, 193, 256).2,
            err::INVALID_PARAMETER
        );
        assert_eq!(
            format(sys, 193, 256).1,
            "%1 is not a valid Win32 application.\r\n"
        );
        let mut p: *mut u8 = std::ptr::null_mut();
        // SAFETY: `p` is a writable pointer for the allocated buffer.
        let n = unsafe {
            FormatMessageA(
                sys | FORMAT_MESSAGE_ALLOCATE_BUFFER,
                std::ptr::null(),
                2,
                0,
                (&mut p as *mut *mut u8).cast(),
                0,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: the buffer holds `n` bytes and a NUL; it is freed once.
        unsafe {
            assert_eq!(
                std::slice::from_raw_parts(p, n as usize),
                b"The system cannot find the file specified.\r\n"
            );
            assert_eq!(*p.add(n as usize), 0);
            crate::security::LocalFree(p.cast());
        }
    }

    #[test]
    fn environment_variables_set_get_and_remove() {
        let name = c"SHMKIT_WIN32_SYSTEM_TEST_VAR";
        // SAFETY: NUL-terminated strings; buffers of the sizes given.
        unsafe {
            assert_eq!(
                SetEnvironmentVariableA(name.as_ptr(), c"hello".as_ptr()),
                TRUE
            );
            let mut buf = [0 as std::ffi::c_char; 8];
            assert_eq!(
                GetEnvironmentVariableA(name.as_ptr(), buf.as_mut_ptr(), 3),
                6
            );
            assert_eq!(
                GetEnvironmentVariableA(name.as_ptr(), buf.as_mut_ptr(), 6),
                5
            );
            assert_eq!(
                GetEnvironmentVariableA(name.as_ptr(), std::ptr::null_mut(), 0),
                6
            );
            assert_eq!(
                SetEnvironmentVariableA(name.as_ptr(), std::ptr::null()),
                TRUE
            );
            error::set(0);
            assert_eq!(
                GetEnvironmentVariableA(name.as_ptr(), buf.as_mut_ptr(), 8),
                0
            );
            assert_eq!(error::get(), ERROR_ENVVAR_NOT_FOUND);
            assert_eq!(
                SetEnvironmentVariableA(c"A=B".as_ptr(), c"x".as_ptr()),
                FALSE
            );
            assert_eq!(error::get(), err::INVALID_PARAMETER);
        }
    }
}

// ---- calendar time ------------------------------------------------------------------------

/// Windows' `SYSTEMTIME`: a date and time by its fields.
#[repr(C)]
#[allow(non_snake_case)]
#[derive(Clone, Copy)]
pub struct SYSTEMTIME {
    /// 1601 to 30827.
    pub wYear: u16,
    /// 1 (January) to 12.
    pub wMonth: u16,
    /// 0 (Sunday) to 6.
    pub wDayOfWeek: u16,
    /// 1 to 31.
    pub wDay: u16,
    /// 0 to 23.
    pub wHour: u16,
    /// 0 to 59.
    pub wMinute: u16,
    /// 0 to 59.
    pub wSecond: u16,
    /// 0 to 999.
    pub wMilliseconds: u16,
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const TICKS_PER_DAY: u64 = 864_000_000_000;

/// A FILETIME value (100 ns since 1601) as a SYSTEMTIME; none past year 30827.
fn system_time_of(ticks: u64) -> Option<SYSTEMTIME> {
    // 1601-01-01 is 134774 days before 1970-01-01.
    let days = (ticks / TICKS_PER_DAY) as i64;
    let rest = ticks % TICKS_PER_DAY;
    let (y, m, d) = civil_from_days(days - 134_774);
    if y > 30827 {
        return None;
    }
    let ms = rest / 10_000;
    Some(SYSTEMTIME {
        wYear: y as u16,
        wMonth: m as u16,
        // 1601-01-01 was a Monday.
        wDayOfWeek: ((days + 1) % 7) as u16,
        wDay: d as u16,
        wHour: (ms / 3_600_000) as u16,
        wMinute: (ms / 60_000 % 60) as u16,
        wSecond: (ms / 1000 % 60) as u16,
        wMilliseconds: (ms % 1000) as u16,
    })
}

/// A SYSTEMTIME as a FILETIME value; none for a field out of range (the day of the
/// week is ignored, as Windows ignores it).
fn ticks_of(st: &SYSTEMTIME) -> Option<u64> {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let (y, m, d) = (
        i64::from(st.wYear),
        i64::from(st.wMonth),
        i64::from(st.wDay),
    );
    let month_days = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1601..=30827).contains(&y)
        || !(1..=12).contains(&m)
        || d < 1
        || d > month_days[(m - 1) as usize]
        || st.wHour > 23
        || st.wMinute > 59
        || st.wSecond > 59
        || st.wMilliseconds > 999
    {
        return None;
    }
    let days = (days_from_civil(y, m, d) + 134_774) as u64;
    let ms = u64::from(st.wHour) * 3_600_000
        + u64::from(st.wMinute) * 60_000
        + u64::from(st.wSecond) * 1000
        + u64::from(st.wMilliseconds);
    Some(days * TICKS_PER_DAY + ms * 10_000)
}

fn now_ticks() -> u64 {
    (clock(libc::CLOCK_REALTIME).as_nanos() / 100) as u64 + EPOCH_1601
}

/// The local time's offset from UTC at `unix` seconds, in seconds.
fn local_offset(unix: i64) -> i64 {
    // SAFETY: a zeroed tm is valid; localtime_r writes only into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let t = unix as libc::time_t;
    // SAFETY: both pointers are valid for the call.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        tm.tm_gmtoff
    } else {
        0
    }
}

/// `GetSystemTime`: the current time (UTC) by its fields. NULL is ignored.
///
/// # Safety
/// `st` is NULL or a writable `SYSTEMTIME`.
#[no_mangle]
pub unsafe extern "C" fn GetSystemTime(st: *mut SYSTEMTIME) {
    if let Some(t) = system_time_of(now_ticks()) {
        if !st.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { st.write(t) };
        }
    }
}

/// `GetLocalTime`: the current local time (the system's time zone, `TZ`) by its
/// fields. NULL is ignored.
///
/// # Safety
/// `st` is NULL or a writable `SYSTEMTIME`.
#[no_mangle]
pub unsafe extern "C" fn GetLocalTime(st: *mut SYSTEMTIME) {
    let ticks = now_ticks();
    let unix = ((ticks - EPOCH_1601) / 10_000_000) as i64;
    let local = ticks as i64 + local_offset(unix) * 10_000_000;
    if let Some(t) = system_time_of(local.max(0) as u64) {
        if !st.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { st.write(t) };
        }
    }
}

fn ticks_of_filetime(ft: &FILETIME) -> u64 {
    (u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime)
}

/// `FileTimeToSystemTime`: a FILETIME's date and time by fields (with the day of the
/// week). A time past 30827 (the high bit set, or beyond) is
/// `ERROR_INVALID_PARAMETER`; NULL pointers too.
///
/// # Safety
/// `ft` is NULL or a `FILETIME`; `st` NULL or a writable `SYSTEMTIME`.
#[no_mangle]
pub unsafe extern "C" fn FileTimeToSystemTime(ft: *const FILETIME, st: *mut SYSTEMTIME) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: NULL or valid, by the function's contract.
        let Some(ft) = (unsafe { ft.as_ref() }) else {
            return error::fail(err::INVALID_PARAMETER);
        };
        let ticks = ticks_of_filetime(ft);
        if st.is_null() || ticks >> 63 != 0 {
            return error::fail(err::INVALID_PARAMETER);
        }
        let t = system_time_of(ticks).ok_or(error::Win32Error(err::INVALID_PARAMETER))?;
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { st.write(t) };
        Ok(TRUE)
    })
}

/// `SystemTimeToFileTime`: a date and time by fields as a FILETIME (the day of the week
/// is ignored). A field out of range (month 13, February 30, hour 24...) or a year
/// outside 1601-30827 is `ERROR_INVALID_PARAMETER`.
///
/// # Safety
/// `st` is NULL or a `SYSTEMTIME`; `ft` NULL or a writable `FILETIME`.
#[no_mangle]
pub unsafe extern "C" fn SystemTimeToFileTime(st: *const SYSTEMTIME, ft: *mut FILETIME) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: NULL or valid, by the function's contract.
        let Some(st) = (unsafe { st.as_ref() }) else {
            return error::fail(err::INVALID_PARAMETER);
        };
        let ticks = ticks_of(st).ok_or(error::Win32Error(err::INVALID_PARAMETER))?;
        if ft.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe {
            ft.write(FILETIME {
                dwLowDateTime: ticks as DWORD,
                dwHighDateTime: (ticks >> 32) as DWORD,
            })
        };
        Ok(TRUE)
    })
}

/// `CompareFileTime`: -1, 0 or 1 as the first time is earlier than, equal to or later
/// than the second (NULL counts as 0).
///
/// # Safety
/// `a` and `b` are NULL or `FILETIME`s.
#[no_mangle]
pub unsafe extern "C" fn CompareFileTime(a: *const FILETIME, b: *const FILETIME) -> i32 {
    // SAFETY: NULL or valid, by the function's contract.
    let (a, b) = unsafe { (a.as_ref(), b.as_ref()) };
    let (a, b) = (
        a.map_or(0, ticks_of_filetime),
        b.map_or(0, ticks_of_filetime),
    );
    a.cmp(&b) as i32
}
