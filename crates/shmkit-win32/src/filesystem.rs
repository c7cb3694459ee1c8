//! Files by name: `GetTempPath`, `GetTempFileName`, `CopyFile`, `MoveFile(Ex)`, in A and
//! W forms. Paths are Windows paths as `CreateFile` takes them (backslashes become
//! slashes).

use crate::error::{self, code_of_io, ffi, Result};
use crate::strings;
use crate::types::*;
use std::ffi::{c_char, CString};
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `ERROR_NOT_SAME_DEVICE`.
const ERROR_NOT_SAME_DEVICE: DWORD = 17;
/// `ERROR_BUFFER_OVERFLOW`.
const ERROR_BUFFER_OVERFLOW: DWORD = 111;
/// `ERROR_DIRECTORY`: the directory name is invalid.
const ERROR_DIRECTORY: DWORD = 267;
const MAX_PATH: usize = 260;

const MOVEFILE_REPLACE_EXISTING: DWORD = 0x1;
const MOVEFILE_COPY_ALLOWED: DWORD = 0x2;
const MOVEFILE_DELAY_UNTIL_REBOOT: DWORD = 0x4;
const MOVEFILE_WRITE_THROUGH: DWORD = 0x8;

/// The directory for temporary files, with its final separator: `TMP`, `TEMP` or
/// `TMPDIR` (the first that is set and not empty), else `/tmp/`.
fn temp_path() -> String {
    let mut dir = ["TMP", "TEMP", "TMPDIR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "/tmp".to_owned());
    if !dir.ends_with('/') && !dir.ends_with('\\') {
        dir.push('/');
    }
    dir
}

/// Copies `units` and a NUL into `out` (`cap` units) as `GetTempPath` does: the length
/// without the NUL, or the size needed with it (the buffer untouched) when it is short.
///
/// # Safety
/// `out` is NULL or holds `cap` writable units.
unsafe fn give<T: Copy + Default>(units: &[T], out: *mut T, cap: DWORD) -> DWORD {
    let n = units.len();
    if out.is_null() || n + 1 > cap as usize {
        return (n + 1) as DWORD;
    }
    // SAFETY: `cap >= n + 1` writable units, by the caller's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(units.as_ptr(), out, n);
        out.add(n).write(T::default());
    }
    n as DWORD
}

/// `GetTempPathA`: the directory for temporary files, ending with a separator (`TMP`,
/// `TEMP`, `TMPDIR`, else `/tmp/`): its length without the NUL, or when `nBufferLength`
/// is too small the size needed with the NUL.
///
/// # Safety
/// `buffer` is NULL or holds `size` writable characters.
#[no_mangle]
pub unsafe extern "C" fn GetTempPathA(size: DWORD, buffer: *mut c_char) -> DWORD {
    let bytes: Vec<c_char> = temp_path().bytes().map(|b| b as c_char).collect();
    // SAFETY: by the function's contract.
    unsafe { give(&bytes, buffer, size) }
}

/// `GetTempPathW`: [`GetTempPathA`] with wide characters.
///
/// # Safety
/// As for [`GetTempPathA`], with wide characters.
#[no_mangle]
pub unsafe extern "C" fn GetTempPathW(size: DWORD, buffer: *mut WCHAR) -> DWORD {
    let mut units = strings::to_wide(&temp_path());
    units.pop();
    // SAFETY: by the function's contract.
    unsafe { give(&units, buffer, size) }
}

/// A seed for the numbers of new temporary files: varies from call to call and from
/// process to process.
fn seed() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    t ^ std::process::id().wrapping_mul(2_654_435_761)
}

/// `GetTempFileName`'s work: the name `<dir><pre><hex>.tmp` (the prefix's first three
/// characters, the number in upper-case hex) and the number; with `unique` 0, the
/// file is created (empty) under the first free number.
fn temp_file_name(
    dir: Option<String>,
    prefix: Option<String>,
    unique: u32,
) -> Result<(String, u32)> {
    let Some(mut dir) = dir else {
        return error::fail(err::INVALID_PARAMETER);
    };
    if !dir.is_empty() && !dir.ends_with('/') && !dir.ends_with('\\') {
        dir.push('/');
    }
    let prefix: String = prefix.unwrap_or_default().chars().take(3).collect();
    let name = |n: u32| format!("{dir}{prefix}{n:X}.tmp");
    if name(0xFFFF).len() >= MAX_PATH {
        return error::fail(ERROR_BUFFER_OVERFLOW);
    }
    let unique = unique & 0xFFFF;
    if unique != 0 {
        return Ok((name(unique), unique));
    }
    let mut n = seed() & 0xFFFF;
    for _ in 0..0xFFFF {
        if n == 0 {
            n = 1;
        }
        let candidate = name(n);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(strings::path_of(candidate.clone().into_bytes()))
        {
            Ok(_) => return Ok((candidate, n)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => n = (n + 1) & 0xFFFF,
            Err(e) => {
                return error::fail(match e.raw_os_error() {
                    Some(libc::ENOENT) | Some(libc::ENOTDIR) => ERROR_DIRECTORY,
                    _ => code_of_io(&e),
                })
            }
        }
    }
    error::fail(err::FILE_EXISTS)
}

/// `GetTempFileNameA`: a name for a temporary file in `lpPathName`,
/// `<path>\<pre><uuuu>.tmp` with the first three characters of `lpPrefixString` and a
/// hexadecimal number (upper case), written to `lpTempFileName` (`MAX_PATH` characters).
/// With `uUnique` 0 the number is one no file of that directory has, and the file is
/// created, empty, as on Windows (each call makes a new one); otherwise the number is
/// `uUnique`'s low 16 bits and nothing is created. Returns the number; 0 on failure:
/// `ERROR_DIRECTORY` for a directory that does not exist, `ERROR_BUFFER_OVERFLOW` for a
/// path too long for `MAX_PATH`, `ERROR_INVALID_PARAMETER` for a NULL path or buffer.
///
/// # Safety
/// `dir` and `prefix` are NULL or NUL-terminated; `out` NULL or `MAX_PATH` writable
/// characters.
#[no_mangle]
pub unsafe extern "C" fn GetTempFileNameA(
    dir: LPCSTR,
    prefix: LPCSTR,
    unique: u32,
    out: *mut c_char,
) -> u32 {
    ffi(0, || {
        if out.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        // SAFETY: by the function's contract.
        let (dir, prefix) = unsafe { (strings::narrow(dir)?, strings::narrow(prefix)?) };
        let (name, n) = temp_file_name(dir, prefix, unique)?;
        let bytes: Vec<c_char> = name.bytes().map(|b| b as c_char).collect();
        // SAFETY: the name is shorter than MAX_PATH (checked), `out` holds MAX_PATH.
        unsafe { give(&bytes, out, MAX_PATH as DWORD) };
        Ok(n)
    })
}

/// `GetTempFileNameW`: [`GetTempFileNameA`] with wide strings.
///
/// # Safety
/// As for [`GetTempFileNameA`], with wide strings.
#[no_mangle]
pub unsafe extern "C" fn GetTempFileNameW(
    dir: LPCWSTR,
    prefix: LPCWSTR,
    unique: u32,
    out: *mut WCHAR,
) -> u32 {
    ffi(0, || {
        if out.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        // SAFETY: by the function's contract.
        let (dir, prefix) = unsafe { (strings::wide(dir)?, strings::wide(prefix)?) };
        let (name, n) = temp_file_name(dir, prefix, unique)?;
        let mut units = strings::to_wide(&name);
        units.pop();
        // SAFETY: as in GetTempFileNameA.
        unsafe { give(&units, out, MAX_PATH as DWORD) };
        Ok(n)
    })
}

fn path(p: Option<Vec<u8>>) -> Result<PathBuf> {
    match p {
        Some(p) if !p.is_empty() => Ok(strings::path_of(p)),
        _ => error::fail(err::PATH_NOT_FOUND),
    }
}

/// Copies the file `from` to `to` (replacing it unless `fail_if_exists`), with its
/// permissions.
fn copy_file(from: &Path, to: &Path, fail_if_exists: bool) -> Result<()> {
    let mut src = File::open(from)?;
    let meta = src.metadata()?;
    if meta.is_dir() {
        return error::fail(err::ACCESS_DENIED);
    }
    let mut o = OpenOptions::new();
    o.write(true).mode(meta.permissions().mode() & 0o7777);
    if fail_if_exists {
        o.create_new(true);
    } else {
        o.create(true).truncate(true);
    }
    let mut dst = o.open(to)?;
    std::io::copy(&mut src, &mut dst)?;
    dst.set_permissions(meta.permissions())?;
    Ok(())
}

/// `CopyFileA`: copies a file's contents (and permissions) to another name.
/// `ERROR_FILE_NOT_FOUND` when the source does not exist; with `bFailIfExists`, an
/// existing target is `ERROR_FILE_EXISTS` and stays as it was; otherwise it is
/// replaced. A directory as the source is `ERROR_ACCESS_DENIED`.
///
/// # Safety
/// Both names are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn CopyFileA(from: LPCSTR, to: LPCSTR, fail_if_exists: BOOL) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let (from, to) = unsafe { (strings::narrow_bytes(from), strings::narrow_bytes(to)) };
        copy_file(&path(from)?, &path(to)?, fail_if_exists != 0).map(|()| TRUE)
    })
}

/// `CopyFileW`: [`CopyFileA`] with wide names.
///
/// # Safety
/// Both names are NULL or NUL-terminated wide strings.
#[no_mangle]
pub unsafe extern "C" fn CopyFileW(from: LPCWSTR, to: LPCWSTR, fail_if_exists: BOOL) -> BOOL {
    ffi(FALSE, || {
        // SAFETY: by the function's contract.
        let (from, to) = unsafe { (strings::wide_bytes(from), strings::wide_bytes(to)) };
        copy_file(&path(from)?, &path(to)?, fail_if_exists != 0).map(|()| TRUE)
    })
}

fn c_path(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| error::Win32Error(err::INVALID_NAME))
}

/// Renames `from` to `to`, never over an existing file (an atomic check where the file
/// system has `RENAME_NOREPLACE`).
fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    let (Ok(f), Ok(t)) = (c_path(from), c_path(to)) else {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: two NUL-terminated paths, valid for the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::EINVAL) {
        return Err(e);
    }
    // No RENAME_NOREPLACE here: check, then rename.
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(std::io::Error::from_raw_os_error(libc::EEXIST));
    }
    std::fs::rename(from, to)
}

fn move_file(from: Option<Vec<u8>>, to: Option<Vec<u8>>, flags: DWORD) -> Result<BOOL> {
    if flags & MOVEFILE_DELAY_UNTIL_REBOOT != 0 {
        return error::fail(err::NOT_SUPPORTED);
    }
    let _ = MOVEFILE_WRITE_THROUGH;
    let (from, to) = (path(from)?, path(to)?);
    std::fs::symlink_metadata(&from)?;
    let replace = flags & MOVEFILE_REPLACE_EXISTING != 0;
    let moved = if replace {
        if std::fs::metadata(&to).is_ok_and(|m| m.is_dir()) {
            return error::fail(err::ACCESS_DENIED);
        }
        std::fs::rename(&from, &to)
    } else {
        rename_no_replace(&from, &to)
    };
    match moved {
        Ok(()) => Ok(TRUE),
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => error::fail(err::ALREADY_EXISTS),
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            if flags & MOVEFILE_COPY_ALLOWED == 0 {
                return error::fail(ERROR_NOT_SAME_DEVICE);
            }
            copy_file(&from, &to, !replace).map_err(|e| match e.0 {
                err::FILE_EXISTS => error::Win32Error(err::ALREADY_EXISTS),
                _ => e,
            })?;
            std::fs::remove_file(&from)?;
            Ok(TRUE)
        }
        Err(e) => Err(e.into()),
    }
}

/// `MoveFileExA`: renames a file or directory. An existing target is
/// `ERROR_ALREADY_EXISTS` unless `MOVEFILE_REPLACE_EXISTING` (a file then replaces it; a
/// directory target is `ERROR_ACCESS_DENIED`). A move to another file system is
/// `ERROR_NOT_SAME_DEVICE` unless `MOVEFILE_COPY_ALLOWED` (files are then copied and the
/// source deleted). A missing source is `ERROR_FILE_NOT_FOUND`.
/// `MOVEFILE_WRITE_THROUGH` is accepted; `MOVEFILE_DELAY_UNTIL_REBOOT` is
/// `ERROR_NOT_SUPPORTED`.
///
/// # Safety
/// Both names are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn MoveFileExA(from: LPCSTR, to: LPCSTR, flags: DWORD) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe {
        move_file(
            strings::narrow_bytes(from),
            strings::narrow_bytes(to),
            flags,
        )
    })
}

/// `MoveFileExW`: [`MoveFileExA`] with wide names.
///
/// # Safety
/// Both names are NULL or NUL-terminated wide strings.
#[no_mangle]
pub unsafe extern "C" fn MoveFileExW(from: LPCWSTR, to: LPCWSTR, flags: DWORD) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || unsafe {
        move_file(strings::wide_bytes(from), strings::wide_bytes(to), flags)
    })
}

/// `MoveFileA`: [`MoveFileExA`] with `MOVEFILE_COPY_ALLOWED` (as on Windows, a file may
/// move to another volume; an existing target is `ERROR_ALREADY_EXISTS`).
///
/// # Safety
/// As for [`MoveFileExA`].
#[no_mangle]
pub unsafe extern "C" fn MoveFileA(from: LPCSTR, to: LPCSTR) -> BOOL {
    // SAFETY: by the function's contract.
    unsafe { MoveFileExA(from, to, MOVEFILE_COPY_ALLOWED) }
}

/// `MoveFileW`: [`MoveFileA`] with wide names.
///
/// # Safety
/// As for [`MoveFileExW`].
#[no_mangle]
pub unsafe extern "C" fn MoveFileW(from: LPCWSTR, to: LPCWSTR) -> BOOL {
    // SAFETY: by the function's contract.
    unsafe { MoveFileExW(from, to, MOVEFILE_COPY_ALLOWED) }
}

// ---- attributes, directories ------------------------------------------------------------

const FILE_ATTRIBUTE_READONLY: DWORD = 0x1;
const FILE_ATTRIBUTE_DIRECTORY: DWORD = 0x10;
const FILE_ATTRIBUTE_ARCHIVE: DWORD = 0x20;
const INVALID_FILE_ATTRIBUTES: DWORD = 0xFFFF_FFFF;

/// The code Windows gives for a name that does not exist: `ERROR_PATH_NOT_FOUND` when a
/// directory on the way is missing (or is no directory), else `ERROR_FILE_NOT_FOUND`.
fn not_found(p: &Path, e: &std::io::Error) -> DWORD {
    match e.raw_os_error() {
        Some(libc::ENOTDIR) => err::PATH_NOT_FOUND,
        Some(libc::ENOENT) => match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() && !parent.is_dir() => {
                err::PATH_NOT_FOUND
            }
            _ => err::FILE_NOT_FOUND,
        },
        _ => code_of_io(e),
    }
}

fn attributes(p: Option<Vec<u8>>) -> Result<DWORD> {
    let p = path(p)?;
    let meta = std::fs::metadata(&p).map_err(|e| error::Win32Error(not_found(&p, &e)))?;
    if meta.is_dir() {
        return Ok(FILE_ATTRIBUTE_DIRECTORY);
    }
    let mut a = FILE_ATTRIBUTE_ARCHIVE;
    if meta.permissions().mode() & 0o222 == 0 {
        a |= FILE_ATTRIBUTE_READONLY;
    }
    Ok(a)
}

/// `GetFileAttributesA`: `FILE_ATTRIBUTE_DIRECTORY` for a directory;
/// `FILE_ATTRIBUTE_ARCHIVE` for a file (as Windows gives a file that was written), with
/// `FILE_ATTRIBUTE_READONLY` when nobody may write it. A name that does not exist is
/// `INVALID_FILE_ATTRIBUTES` with `ERROR_FILE_NOT_FOUND`, or `ERROR_PATH_NOT_FOUND` when
/// a directory on its way is missing.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn GetFileAttributesA(name: LPCSTR) -> DWORD {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow_bytes(name) };
    ffi(INVALID_FILE_ATTRIBUTES, || attributes(name))
}

/// `GetFileAttributesW`: [`GetFileAttributesA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn GetFileAttributesW(name: LPCWSTR) -> DWORD {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide_bytes(name) };
    ffi(INVALID_FILE_ATTRIBUTES, || attributes(name))
}

fn create_directory(p: Option<Vec<u8>>) -> Result<BOOL> {
    let p = path(p)?;
    match std::fs::create_dir(&p) {
        Ok(()) => Ok(TRUE),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => error::fail(err::ALREADY_EXISTS),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => error::fail(err::PATH_NOT_FOUND),
        Err(e) => Err(error::Win32Error(not_found(&p, &e))),
    }
}

/// `CreateDirectoryA`: makes a directory (0777 less the umask; `lpSecurityAttributes` is
/// not interpreted). An existing name is `ERROR_ALREADY_EXISTS`; a missing parent
/// `ERROR_PATH_NOT_FOUND`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CreateDirectoryA(name: LPCSTR, _sa: *const SECURITY_ATTRIBUTES) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow_bytes(name) };
    ffi(FALSE, || create_directory(name))
}

/// `CreateDirectoryW`: [`CreateDirectoryA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn CreateDirectoryW(name: LPCWSTR, _sa: *const SECURITY_ATTRIBUTES) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide_bytes(name) };
    ffi(FALSE, || create_directory(name))
}

fn remove_directory(p: Option<Vec<u8>>) -> Result<BOOL> {
    let p = path(p)?;
    match std::fs::remove_dir(&p) {
        Ok(()) => Ok(TRUE),
        Err(e) => error::fail(match e.raw_os_error() {
            Some(libc::ENOTEMPTY) | Some(libc::EEXIST) => err::DIR_NOT_EMPTY,
            Some(libc::ENOTDIR) if std::fs::metadata(&p).is_ok() => ERROR_DIRECTORY,
            _ => not_found(&p, &e),
        }),
    }
}

/// `RemoveDirectoryA`: removes an empty directory. One with entries is
/// `ERROR_DIR_NOT_EMPTY`; a file `ERROR_DIRECTORY`; a missing name
/// `ERROR_FILE_NOT_FOUND` (`ERROR_PATH_NOT_FOUND` for a missing parent).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn RemoveDirectoryA(name: LPCSTR) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow_bytes(name) };
    ffi(FALSE, || remove_directory(name))
}

/// `RemoveDirectoryW`: [`RemoveDirectoryA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn RemoveDirectoryW(name: LPCWSTR) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide_bytes(name) };
    ffi(FALSE, || remove_directory(name))
}

fn current_directory() -> Result<String> {
    Ok(std::env::current_dir()?.to_string_lossy().into_owned())
}

/// `GetCurrentDirectoryA`: the current directory: its length without the NUL, or when
/// `nBufferLength` is too small the size needed with the NUL (the buffer untouched).
///
/// # Safety
/// `buffer` is NULL or holds `size` writable characters.
#[no_mangle]
pub unsafe extern "C" fn GetCurrentDirectoryA(size: DWORD, buffer: *mut c_char) -> DWORD {
    ffi(0, || {
        let bytes: Vec<c_char> = current_directory()?.bytes().map(|b| b as c_char).collect();
        // SAFETY: by the function's contract.
        Ok(unsafe { give(&bytes, buffer, size) })
    })
}

/// `GetCurrentDirectoryW`: [`GetCurrentDirectoryA`] with wide characters.
///
/// # Safety
/// As for [`GetCurrentDirectoryA`], with wide characters.
#[no_mangle]
pub unsafe extern "C" fn GetCurrentDirectoryW(size: DWORD, buffer: *mut WCHAR) -> DWORD {
    ffi(0, || {
        let mut units = strings::to_wide(&current_directory()?);
        units.pop();
        // SAFETY: by the function's contract.
        Ok(unsafe { give(&units, buffer, size) })
    })
}

fn set_current_directory(p: Option<Vec<u8>>) -> Result<BOOL> {
    let p = path(p)?;
    match std::env::set_current_dir(&p) {
        Ok(()) => Ok(TRUE),
        Err(e) => error::fail(match e.raw_os_error() {
            Some(libc::ENOTDIR) if std::fs::metadata(&p).is_ok() => ERROR_DIRECTORY,
            _ => not_found(&p, &e),
        }),
    }
}

/// `SetCurrentDirectoryA`: changes the process's current directory. A missing name is
/// `ERROR_FILE_NOT_FOUND` (`ERROR_PATH_NOT_FOUND` for a missing parent); a file
/// `ERROR_DIRECTORY`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetCurrentDirectoryA(name: LPCSTR) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow_bytes(name) };
    ffi(FALSE, || set_current_directory(name))
}

/// `SetCurrentDirectoryW`: [`SetCurrentDirectoryA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn SetCurrentDirectoryW(name: LPCWSTR) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide_bytes(name) };
    ffi(FALSE, || set_current_directory(name))
}

/// `WIN32_FILE_ATTRIBUTE_DATA`, as `GetFileAttributesEx` fills it.
#[repr(C)]
#[allow(non_snake_case)]
pub struct WIN32_FILE_ATTRIBUTE_DATA {
    /// As `GetFileAttributes` reports them.
    pub dwFileAttributes: DWORD,
    /// When the file was made (its birth time where the file system keeps one, else its
    /// last change).
    pub ftCreationTime: crate::system::FILETIME,
    /// When it was last read.
    pub ftLastAccessTime: crate::system::FILETIME,
    /// When it was last written.
    pub ftLastWriteTime: crate::system::FILETIME,
    /// The size's high 32 bits (0 for a directory).
    pub nFileSizeHigh: DWORD,
    /// Its low 32 bits.
    pub nFileSizeLow: DWORD,
}

/// A time as a `FILETIME` (100 ns since 1601).
fn filetime(t: std::io::Result<std::time::SystemTime>) -> crate::system::FILETIME {
    const EPOCH_1601: u64 = 116_444_736_000_000_000;
    let ticks = t
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| (d.as_nanos() / 100) as u64 + EPOCH_1601);
    crate::system::FILETIME {
        dwLowDateTime: ticks as DWORD,
        dwHighDateTime: (ticks >> 32) as DWORD,
    }
}

fn attribute_data(p: Option<Vec<u8>>, level: DWORD) -> Result<WIN32_FILE_ATTRIBUTE_DATA> {
    // GetFileExInfoStandard is the only level.
    if level != 0 {
        return error::fail(err::INVALID_PARAMETER);
    }
    let attributes = attributes(p.clone())?;
    let p = path(p)?;
    let meta = std::fs::metadata(&p).map_err(|e| error::Win32Error(not_found(&p, &e)))?;
    let size = if meta.is_dir() { 0 } else { meta.len() };
    Ok(WIN32_FILE_ATTRIBUTE_DATA {
        dwFileAttributes: attributes,
        ftCreationTime: filetime(meta.created().or_else(|_| meta.modified())),
        ftLastAccessTime: filetime(meta.accessed()),
        ftLastWriteTime: filetime(meta.modified()),
        nFileSizeHigh: (size >> 32) as DWORD,
        nFileSizeLow: size as DWORD,
    })
}

/// `GetFileAttributesExA`: with `GetFileExInfoStandard` (the only level; another is
/// `ERROR_INVALID_PARAMETER`), the attributes, times and size of a file or directory, in
/// a `WIN32_FILE_ATTRIBUTE_DATA`. Failures as for [`GetFileAttributesA`].
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `info` a writable
/// `WIN32_FILE_ATTRIBUTE_DATA` (NULL: `ERROR_NOACCESS`).
#[no_mangle]
pub unsafe extern "C" fn GetFileAttributesExA(
    name: LPCSTR,
    level: DWORD,
    info: *mut WIN32_FILE_ATTRIBUTE_DATA,
) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow_bytes(name) };
    ffi(FALSE, || {
        let data = attribute_data(name, level)?;
        if info.is_null() {
            return error::fail(err::NOACCESS);
        }
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { info.write(data) };
        Ok(TRUE)
    })
}

/// `GetFileAttributesExW`: [`GetFileAttributesExA`] with a wide name.
///
/// # Safety
/// As for [`GetFileAttributesExA`], with a wide name.
#[no_mangle]
pub unsafe extern "C" fn GetFileAttributesExW(
    name: LPCWSTR,
    level: DWORD,
    info: *mut WIN32_FILE_ATTRIBUTE_DATA,
) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide_bytes(name) };
    ffi(FALSE, || {
        let data = attribute_data(name, level)?;
        if info.is_null() {
            return error::fail(err::NOACCESS);
        }
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { info.write(data) };
        Ok(TRUE)
    })
}

fn set_attributes(p: Option<Vec<u8>>, attributes: DWORD) -> Result<BOOL> {
    let p = path(p)?;
    let meta = std::fs::metadata(&p).map_err(|e| error::Win32Error(not_found(&p, &e)))?;
    if meta.is_dir() {
        // Windows keeps FILE_ATTRIBUTE_READONLY of a directory as a mere flag; nothing
        // here would hold it.
        return Ok(TRUE);
    }
    let mode = meta.permissions().mode();
    let new = if attributes & FILE_ATTRIBUTE_READONLY != 0 {
        mode & !0o222
    } else if mode & 0o222 == 0 {
        // Writable again: by the owner, and by those who may read it as far as the
        // umask lets them.
        // SAFETY: umask has no preconditions; it is set back at once.
        let mask = unsafe {
            let m = libc::umask(0o022);
            libc::umask(m);
            m
        } as u32;
        mode | 0o200 | ((mode & 0o044) >> 1 & !mask)
    } else {
        mode
    };
    if new != mode {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(new))?;
    }
    Ok(TRUE)
}

/// `SetFileAttributesA`: `FILE_ATTRIBUTE_READONLY` takes every write permission from a
/// file; without it, a read-only file may be written again (by its owner, and by those
/// who may read it as far as the umask allows). The other attributes (`NORMAL`,
/// `ARCHIVE`, `HIDDEN`, `SYSTEM`, `TEMPORARY`...) are accepted and not kept, and a
/// directory keeps its permissions. A missing name fails as for
/// [`GetFileAttributesA`].
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn SetFileAttributesA(name: LPCSTR, attributes: DWORD) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::narrow_bytes(name) };
    ffi(FALSE, || set_attributes(name, attributes))
}

/// `SetFileAttributesW`: [`SetFileAttributesA`] with a wide name.
///
/// # Safety
/// `name` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn SetFileAttributesW(name: LPCWSTR, attributes: DWORD) -> BOOL {
    // SAFETY: by the function's contract.
    let name = unsafe { strings::wide_bytes(name) };
    ffi(FALSE, || set_attributes(name, attributes))
}
