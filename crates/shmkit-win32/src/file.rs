//! Files: `CreateFile`, `ReadFile`, `WriteFile`, `SetFilePointer(Ex)`, `SetEndOfFile`,
//! `GetFileSize(Ex)`, `GetFileType`, `FlushFileBuffers`, `DeleteFile`, `GetStdHandle`:
//! what file-backed mappings need.
//!
//! Paths are Linux paths; backslashes in them become slashes. Share modes are not
//! enforced (Linux has no mandatory file locking): two opens of one file both succeed.

use crate::error::{self, ffi, Result};
use crate::handles;
use crate::objects::{FileObject, Object};
use crate::strings;
use crate::types::*;
use std::ffi::c_void;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::sync::{Arc, Mutex, OnceLock};

fn create_file(
    path: Option<Vec<u8>>,
    access: DWORD,
    sa: *const SECURITY_ATTRIBUTES,
    disposition: DWORD,
    flags: DWORD,
) -> Result<HANDLE> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return error::fail(err::PATH_NOT_FOUND);
    };
    let path = strings::path_of(path);
    let read = access & (GENERIC_READ | GENERIC_ALL | FILE_READ_DATA) != 0;
    let write = access & (GENERIC_WRITE | GENERIC_ALL | FILE_WRITE_DATA | FILE_APPEND_DATA) != 0;
    let open = |extra: i32| {
        let mut o = OpenOptions::new();
        o.read(read || !write)
            .write(write)
            .mode(0o666)
            .custom_flags(extra);
        o.open(&path)
    };
    let create_excl = libc::O_CREAT | libc::O_EXCL;
    let (file, existed) = match disposition {
        CREATE_NEW => (open(create_excl)?, false),
        OPEN_EXISTING => (open(0)?, false),
        TRUNCATE_EXISTING if write => (open(libc::O_TRUNC)?, false),
        CREATE_ALWAYS | OPEN_ALWAYS => match open(create_excl) {
            Ok(f) => (f, false),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                let trunc = if disposition == CREATE_ALWAYS {
                    libc::O_TRUNC
                } else {
                    0
                };
                (open(trunc)?, true)
            }
            Err(e) => return Err(e.into()),
        },
        _ => return error::fail(err::INVALID_PARAMETER),
    };
    if file.metadata()?.is_dir() {
        return error::fail(err::ACCESS_DENIED);
    }
    let delete = (flags & FILE_FLAG_DELETE_ON_CLOSE != 0).then(|| path.clone());
    // SAFETY: `sa` comes from the C caller, NULL or valid by the function's contract.
    let inherit = unsafe { inheritable(sa) };
    let h = handles::insert_with_access(
        Object::File(Arc::new(FileObject::new(file, delete))),
        inherit,
        crate::access::file_access(access),
    );
    let reports_existing = matches!(disposition, CREATE_ALWAYS | OPEN_ALWAYS);
    error::set(if existed && reports_existing {
        err::ALREADY_EXISTS
    } else {
        err::SUCCESS
    });
    Ok(h)
}

/// `CreateFileA`: opens or creates a file. `dwCreationDisposition` is one of
/// `CREATE_NEW`, `CREATE_ALWAYS`, `OPEN_EXISTING`, `OPEN_ALWAYS`, `TRUNCATE_EXISTING`;
/// `CREATE_ALWAYS` and `OPEN_ALWAYS` report an existing file with `ERROR_ALREADY_EXISTS`.
/// `FILE_FLAG_DELETE_ON_CLOSE` removes the file when the handle closes. Returns
/// `INVALID_HANDLE_VALUE` on failure.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `sa` is NULL or points to a
/// `SECURITY_ATTRIBUTES`.
#[no_mangle]
pub unsafe extern "C" fn CreateFileA(
    path: LPCSTR,
    access: DWORD,
    _share: DWORD,
    sa: *const SECURITY_ATTRIBUTES,
    disposition: DWORD,
    flags: DWORD,
    _template: HANDLE,
) -> HANDLE {
    ffi(INVALID_HANDLE_VALUE, || {
        // SAFETY: by the function's contract.
        let path = unsafe { strings::narrow_bytes(path) };
        create_file(path, access, sa, disposition, flags)
    })
}

/// `CreateFileW`: [`CreateFileA`] with a wide path.
///
/// # Safety
/// `path` is NULL or a NUL-terminated wide string; `sa` is NULL or points to a
/// `SECURITY_ATTRIBUTES`.
#[no_mangle]
pub unsafe extern "C" fn CreateFileW(
    path: LPCWSTR,
    access: DWORD,
    _share: DWORD,
    sa: *const SECURITY_ATTRIBUTES,
    disposition: DWORD,
    flags: DWORD,
    _template: HANDLE,
) -> HANDLE {
    ffi(INVALID_HANDLE_VALUE, || {
        // SAFETY: by the function's contract.
        let path = unsafe { strings::wide_bytes(path) };
        create_file(path, access, sa, disposition, flags)
    })
}

/// `ReadFile`: reads up to `len` bytes at the file position (fewer only at the end of
/// the file, or from a pipe or terminal). Overlapped I/O is not supported
/// (`ERROR_INVALID_PARAMETER`).
///
/// # Safety
/// `buf` points to `len` writable bytes; `read` is NULL or points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn ReadFile(
    h: HANDLE,
    buf: *mut c_void,
    len: DWORD,
    read: *mut DWORD,
    overlapped: *mut c_void,
) -> BOOL {
    ffi(FALSE, || {
        if !read.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { *read = 0 };
        }
        let f = handles::file(h)?;
        if !overlapped.is_null() || (buf.is_null() && len > 0) {
            return error::fail(err::INVALID_PARAMETER);
        }
        let buf = if len == 0 {
            &mut [][..]
        } else {
            // SAFETY: `buf` holds `len` writable bytes, by the function's contract.
            unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len as usize) }
        };
        let regular = f.file().metadata().map(|m| m.is_file()).unwrap_or(false);
        let mut total = 0;
        while total < buf.len() {
            match f.file().read(&mut buf[total..]) {
                Ok(0) => break,
                Ok(n) => {
                    total += n;
                    if !regular {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !read.is_null() {
            // SAFETY: as above.
            unsafe { *read = total as DWORD };
        }
        Ok(TRUE)
    })
}

/// `WriteFile`: writes `len` bytes at the file position. Overlapped I/O is not supported
/// (`ERROR_INVALID_PARAMETER`).
///
/// # Safety
/// `buf` points to `len` readable bytes; `written` is NULL or points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn WriteFile(
    h: HANDLE,
    buf: *const c_void,
    len: DWORD,
    written: *mut DWORD,
    overlapped: *mut c_void,
) -> BOOL {
    ffi(FALSE, || {
        if !written.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { *written = 0 };
        }
        let f = handles::file(h)?;
        if !overlapped.is_null() || (buf.is_null() && len > 0) {
            return error::fail(err::INVALID_PARAMETER);
        }
        let data = if len == 0 {
            &[][..]
        } else {
            // SAFETY: `buf` holds `len` readable bytes, by the function's contract.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len as usize) }
        };
        f.file().write_all(data)?;
        if !written.is_null() {
            // SAFETY: as above.
            unsafe { *written = len };
        }
        Ok(TRUE)
    })
}

/// Moves the file position; a position before the start is `ERROR_NEGATIVE_SEEK`.
fn seek(h: HANDLE, distance: i64, method: DWORD) -> Result<u64> {
    let f = handles::file(h)?;
    let mut file = f.file();
    let base: i64 = match method {
        FILE_BEGIN => 0,
        FILE_CURRENT => file.stream_position()? as i64,
        FILE_END => file.metadata()?.len() as i64,
        _ => return error::fail(err::INVALID_PARAMETER),
    };
    let Some(target) = base.checked_add(distance).filter(|&t| t >= 0) else {
        return error::fail(err::NEGATIVE_SEEK);
    };
    Ok(file.seek(SeekFrom::Start(target as u64))?)
}

/// `SetFilePointer`: moves the file position by `lDistanceToMove` (with
/// `*lpDistanceToMoveHigh` as the high half when given) from `FILE_BEGIN`,
/// `FILE_CURRENT` or `FILE_END`; returns the new position's low half and stores the
/// high half. `INVALID_SET_FILE_POINTER` on failure.
///
/// # Safety
/// `high` is NULL or points to a readable and writable LONG.
#[no_mangle]
pub unsafe extern "C" fn SetFilePointer(
    h: HANDLE,
    distance: LONG,
    high: *mut LONG,
    method: DWORD,
) -> DWORD {
    ffi(INVALID_SET_FILE_POINTER, || {
        let distance = if high.is_null() {
            i64::from(distance)
        } else {
            // SAFETY: non-NULL, by the function's contract.
            (i64::from(unsafe { *high }) << 32) | i64::from(distance as u32)
        };
        if high.is_null() {
            // Without a high half the result must fit in 32 bits; check before moving.
            let f = handles::file(h)?;
            let mut file = f.file();
            let base: i64 = match method {
                FILE_BEGIN => 0,
                FILE_CURRENT => file.stream_position()? as i64,
                FILE_END => file.metadata()?.len() as i64,
                _ => return error::fail(err::INVALID_PARAMETER),
            };
            if base + distance > i64::from(u32::MAX - 1) {
                return error::fail(err::INVALID_PARAMETER);
            }
        }
        let pos = seek(h, distance, method)?;
        if !high.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { *high = (pos >> 32) as LONG };
        }
        if pos as u32 == INVALID_SET_FILE_POINTER {
            error::set(err::SUCCESS);
        }
        Ok(pos as u32)
    })
}

/// `SetFilePointerEx`: moves the file position by a 64-bit distance (`LARGE_INTEGER`,
/// passed as its `QuadPart`) and stores the new position when asked.
///
/// # Safety
/// `new_pos` is NULL or points to a writable `LARGE_INTEGER`.
#[no_mangle]
pub unsafe extern "C" fn SetFilePointerEx(
    h: HANDLE,
    distance: i64,
    new_pos: *mut i64,
    method: DWORD,
) -> BOOL {
    ffi(FALSE, || {
        let pos = seek(h, distance, method)?;
        if !new_pos.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { *new_pos = pos as i64 };
        }
        Ok(TRUE)
    })
}

fn file_len(h: HANDLE) -> Result<u64> {
    Ok(handles::file(h)?.file().metadata()?.len())
}

/// `GetFileSize`: the file's size, low half returned, high half stored when asked;
/// `INVALID_FILE_SIZE` on failure.
///
/// # Safety
/// `high` is NULL or points to a writable DWORD.
#[no_mangle]
pub unsafe extern "C" fn GetFileSize(h: HANDLE, high: *mut DWORD) -> DWORD {
    ffi(INVALID_FILE_SIZE, || {
        let len = file_len(h)?;
        if !high.is_null() {
            // SAFETY: non-NULL and writable, by the function's contract.
            unsafe { *high = (len >> 32) as DWORD };
        }
        if len as u32 == INVALID_FILE_SIZE {
            error::set(err::SUCCESS);
        }
        Ok(len as u32)
    })
}

/// `GetFileSizeEx`: the file's size as a `LARGE_INTEGER`.
///
/// # Safety
/// `size` points to a writable `LARGE_INTEGER`.
#[no_mangle]
pub unsafe extern "C" fn GetFileSizeEx(h: HANDLE, size: *mut i64) -> BOOL {
    ffi(FALSE, || {
        let len = file_len(h)?;
        if size.is_null() {
            return error::fail(err::INVALID_PARAMETER);
        }
        // SAFETY: non-NULL and writable, by the function's contract.
        unsafe { *size = len as i64 };
        Ok(TRUE)
    })
}

/// `FlushFileBuffers`: writes the file's data and metadata to the disk. Pipes and
/// terminals have nothing to flush.
#[no_mangle]
pub extern "C" fn FlushFileBuffers(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        let f = handles::file(h)?;
        match f.file().sync_all() {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(TRUE),
            r => r.map(|()| TRUE).map_err(Into::into),
        }
    })
}

fn delete(path: Option<Vec<u8>>) -> Result<BOOL> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return error::fail(err::PATH_NOT_FOUND);
    };
    std::fs::remove_file(strings::path_of(path))?;
    Ok(TRUE)
}

/// `DeleteFileA`: removes a file; `ERROR_FILE_NOT_FOUND` when there is none,
/// `ERROR_ACCESS_DENIED` for a directory.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn DeleteFileA(path: LPCSTR) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || delete(unsafe { strings::narrow_bytes(path) }))
}

/// `DeleteFileW`: [`DeleteFileA`] with a wide path.
///
/// # Safety
/// `path` is NULL or a NUL-terminated wide string.
#[no_mangle]
pub unsafe extern "C" fn DeleteFileW(path: LPCWSTR) -> BOOL {
    // SAFETY: by the function's contract.
    ffi(FALSE, || delete(unsafe { strings::wide_bytes(path) }))
}

/// `GetStdHandle`: a handle to standard input, output or error (`STD_INPUT_HANDLE`,
/// `STD_OUTPUT_HANDLE`, `STD_ERROR_HANDLE`), the same value on every call.
#[no_mangle]
pub extern "C" fn GetStdHandle(which: DWORD) -> HANDLE {
    static STD: OnceLock<Mutex<[usize; 3]>> = OnceLock::new();
    ffi(INVALID_HANDLE_VALUE, || {
        let fd = match which {
            STD_INPUT_HANDLE => 0,
            STD_OUTPUT_HANDLE => 1,
            STD_ERROR_HANDLE => 2,
            _ => return error::fail(err::INVALID_HANDLE),
        };
        let mut known = STD
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let slot = &mut known[fd as usize];
        if *slot == 0 || handles::get(*slot as HANDLE).is_err() {
            let h = handles::insert(Object::File(Arc::new(FileObject::borrowed_std(fd))), false);
            *slot = h as usize;
        }
        Ok(*slot as HANDLE)
    })
}

/// Whether any process this one may inspect has a view of the file `dev`/`ino` mapped:
/// a line of its /proc/PID/maps names that device and inode.
fn mapped_anywhere(dev: u64, ino: u64) -> bool {
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let names_file = |maps: &str| {
        maps.lines().any(|line| {
            let mut f = line.split_whitespace().skip(3);
            let (Some(d), Some(i)) = (f.next(), f.next()) else {
                return false;
            };
            let Some((ma, mi)) = d.split_once(':') else {
                return false;
            };
            i.parse::<u64>() == Ok(ino)
                && u32::from_str_radix(ma, 16) == Ok(major)
                && u32::from_str_radix(mi, 16) == Ok(minor)
        })
    };
    if std::fs::read_to_string("/proc/self/maps").is_ok_and(|m| names_file(&m)) {
        return true;
    }
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        name != me.as_str()
            && name.bytes().all(|b| b.is_ascii_digit())
            && std::fs::read_to_string(e.path().join("maps")).is_ok_and(|m| names_file(&m))
    })
}

/// `SetEndOfFile`: makes the file's size its current file position, cutting what lies
/// beyond it or extending the file with zeros; the position stays. As on Windows, a file
/// cannot shrink while a mapping object over it exists in this process or a view of it
/// is mapped in any process (`ERROR_USER_MAPPED_FILE`); growing it is allowed. A handle
/// opened without write access is `ERROR_ACCESS_DENIED`.
#[no_mangle]
pub extern "C" fn SetEndOfFile(h: HANDLE) -> BOOL {
    ffi(FALSE, || {
        let f = handles::file(h)?;
        let mut file = f.file();
        // SAFETY: F_GETFL on an open descriptor has no other preconditions.
        let mode = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
        if mode >= 0 && mode & libc::O_ACCMODE == libc::O_RDONLY {
            return error::fail(err::ACCESS_DENIED);
        }
        let meta = file.metadata()?;
        if !meta.is_file() {
            return error::fail(err::INVALID_PARAMETER);
        }
        let pos = file.stream_position()?;
        if pos < meta.len()
            && (crate::objects::is_backing(meta.dev(), meta.ino())
                || mapped_anywhere(meta.dev(), meta.ino()))
        {
            return error::fail(err::USER_MAPPED_FILE);
        }
        file.set_len(pos)?;
        Ok(TRUE)
    })
}

/// `GetFileType`: `FILE_TYPE_DISK` for a regular file (or a directory or block device),
/// `FILE_TYPE_CHAR` for a terminal or another character device, `FILE_TYPE_PIPE` for a
/// pipe or socket; `FILE_TYPE_UNKNOWN` with `ERROR_INVALID_HANDLE` for a bad handle.
#[no_mangle]
pub extern "C" fn GetFileType(h: HANDLE) -> DWORD {
    const FILE_TYPE_UNKNOWN: DWORD = 0;
    const FILE_TYPE_DISK: DWORD = 1;
    const FILE_TYPE_CHAR: DWORD = 2;
    const FILE_TYPE_PIPE: DWORD = 3;
    ffi(FILE_TYPE_UNKNOWN, || {
        use std::os::unix::fs::FileTypeExt;
        let t = handles::file(h)?.file().metadata()?.file_type();
        error::set(err::SUCCESS);
        Ok(if t.is_char_device() {
            FILE_TYPE_CHAR
        } else if t.is_fifo() || t.is_socket() {
            FILE_TYPE_PIPE
        } else {
            FILE_TYPE_DISK
        })
    })
}
