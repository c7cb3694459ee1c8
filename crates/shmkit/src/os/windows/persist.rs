//! The persistent store: one file per persistent object (see the backend's module
//! documentation for the design).

use super::security::{self, Descriptor, Rights};
use super::sys::{code_of, last_error, wide};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::Protection;
use crate::name::{Name, Namespace};
use std::fs::File;
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, RawHandle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use windows_sys::Win32::Foundation::{
    ERROR_ALREADY_EXISTS, ERROR_FILE_EXISTS, ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, MoveFileExW, CREATE_NEW, DELETE, FILE_ATTRIBUTE_NORMAL, FILE_GENERIC_READ,
    FILE_GENERIC_WRITE, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
};

/// The environment variable that moves the store (as on Linux).
const ROOT_ENV: &str = "SHMKIT_DIR";

/// File rights for the permission bits of a persistent object's file.
const FILE_RIGHTS: Rights = Rights {
    read: FILE_GENERIC_READ,
    write: FILE_GENERIC_WRITE,
    owner_extra: DELETE,
};

/// Every sharing mode: handles of other processes never block an open or a delete.
const SHARE_ALL: u32 = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

/// The directory of a namespace's persistent objects.
fn dir(ns: Namespace) -> io::Result<PathBuf> {
    let var = |v: &str| {
        std::env::var_os(v)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    };
    let root = match (var(ROOT_ENV), ns) {
        (Some(root), _) => root,
        (None, Namespace::Local) => var("LOCALAPPDATA")
            .ok_or_else(|| io::Error::other("LOCALAPPDATA is not set"))?
            .join("shmkit"),
        (None, Namespace::Global) => var("ProgramData")
            .ok_or_else(|| io::Error::other("ProgramData is not set"))?
            .join("shmkit"),
    };
    Ok(root.join(ns.as_str()))
}

/// The file name of `name`'s object: BASE with every byte outside `[a-z0-9._-]`
/// written `%XX` (upper case letters included, since Windows file names ignore case),
/// or `h.` and the SHA-256 of BASE when that would be too long for a file name.
fn file_name(name: &Name) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let base = name.base();
    let mut out = String::from("o.");
    for &b in base.as_bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    if out.len() <= 200 {
        return out;
    }
    use sha2::{Digest, Sha256};
    let mut out = String::from("h.");
    for b in Sha256::digest(base.as_bytes()) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

fn absent(e: &io::Error) -> bool {
    matches!(code_of(e), ERROR_FILE_NOT_FOUND | ERROR_PATH_NOT_FOUND)
}

/// A file name no other call, process or run uses: `<prefix>.<pid>.<n>.<nanoseconds>`.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}.{}.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}

/// A name record: which content file holds the object, and its protection.
struct Record {
    content: String,
    protection: Protection,
}

impl Record {
    fn encode(&self) -> String {
        let p = match self.protection {
            Protection::ReadOnly => "ro",
            Protection::ReadWrite => "rw",
            Protection::WriteCopy => "wc",
        };
        format!("shmkit-persistent 1\n{}\n{p}\n", self.content)
    }

    fn decode(text: &str) -> Option<Record> {
        let mut lines = text.lines();
        if lines.next()? != "shmkit-persistent 1" {
            return None;
        }
        let content = lines.next()?;
        if !content.starts_with("d.") || content.contains(['/', '\\']) {
            return None;
        }
        let protection = match lines.next()? {
            "ro" => Protection::ReadOnly,
            "rw" => Protection::ReadWrite,
            "wc" => Protection::WriteCopy,
            _ => return None,
        };
        Some(Record {
            content: content.to_owned(),
            protection,
        })
    }
}

/// The record of `name` in `dir`; `None` when there is none.
fn read_record(dir: &Path, name: &Name, what: &str) -> Result<Option<Record>> {
    let path = dir.join(file_name(name));
    match std::fs::read_to_string(&path) {
        Ok(text) => Record::decode(&text).map(Some).ok_or_else(|| {
            Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what}: {} is not a shmkit record; refusing it",
                    path.display()
                ),
            )
        }),
        Err(e) if absent(&e) => Ok(None),
        Err(e) if code_of(&e) == code::ACCESS_DENIED => Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: permission denied"),
        )),
        Err(e) => Err(Error::from_io(e, what.to_owned())),
    }
}

/// Whether a persistent object holds `name` (its record exists).
pub(crate) fn exists(name: &Name) -> bool {
    dir(name.namespace()).is_ok_and(|d| d.join(file_name(name)).exists())
}

/// A persistent object's content file, open.
pub(crate) struct Stored {
    pub file: File,
    pub size: u64,
    pub protection: Protection,
    /// Whether `file` was opened for writing.
    pub writable: bool,
}

/// Opens the content of the persistent object `name`, for writing when `write` (for
/// reading instead when writing is refused and `lenient`). `None` when there is no such
/// object.
pub(crate) fn open(name: &Name, write: bool, lenient: bool, what: &str) -> Result<Option<Stored>> {
    let dir = dir(name.namespace()).map_err(|e| Error::from_io(e, what))?;
    let Some(record) = read_record(&dir, name, what)? else {
        return Ok(None);
    };
    let path = dir.join(&record.content);
    let attempt = |write: bool| {
        let mut o = std::fs::OpenOptions::new();
        o.read(true).write(write).share_mode(SHARE_ALL);
        o.open(&path)
    };
    // A lenient open (a create that found the object) of a read-only object reads.
    let write = write && (record.protection == Protection::ReadWrite || !lenient);
    let (file, writable) = match attempt(write) {
        Ok(f) => (f, write),
        // Removed since the record was read.
        Err(e) if absent(&e) => return Ok(None),
        Err(e) if write && code_of(&e) == code::ACCESS_DENIED && lenient => match attempt(false) {
            Ok(f) => (f, false),
            Err(e) if absent(&e) => return Ok(None),
            Err(e) => return Err(Error::from_io(e, what)),
        },
        Err(e) if code_of(&e) == code::ACCESS_DENIED => {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what}: no {} access to the object",
                    if write { "read-write" } else { "read" }
                ),
            ))
        }
        Err(e) => return Err(Error::from_io(e, what)),
    };
    let size = file.metadata().map_err(|e| Error::from_io(e, what))?.len();
    if size == 0 {
        return Err(Error::new(
            ErrorKind::Other,
            format!("{what}: its content file {} is empty", path.display()),
        ));
    }
    Ok(Some(Stored {
        file,
        size,
        protection: record.protection,
        writable,
    }))
}

/// Creates a new persistent object, zero-filled; `None` when the name is already taken
/// by one (the caller then opens it).
pub(crate) fn create(
    name: &Name,
    size: u64,
    protection: Protection,
    permissions: u32,
    what: &str,
) -> Result<Option<Stored>> {
    let io_err = |e: io::Error| Error::from_io(e, what);
    let dir = dir(name.namespace()).map_err(io_err)?;
    std::fs::create_dir_all(&dir).map_err(io_err)?;
    sweep(&dir);
    let content = unique("d");
    let sd = Descriptor::new(permissions, FILE_RIGHTS, true).map_err(io_err)?;
    let sa = sd.attributes(false);
    let wpath = wide(&dir.join(&content).to_string_lossy());
    // Not shared for deletion until the record names it: a sweep cannot take it away.
    // SAFETY: `wpath` is NUL-terminated; `sa` and its descriptor outlive the call; the
    // returned handle is owned below.
    let h = unsafe {
        CreateFileW(
            wpath.as_ptr(),
            FILE_GENERIC_READ | FILE_GENERIC_WRITE,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            &sa,
            CREATE_NEW,
            FILE_ATTRIBUTE_NORMAL,
            std::ptr::null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE {
        return Err(io_err(last_error()));
    }
    // SAFETY: a fresh, valid file handle that nothing else owns.
    let file = unsafe { File::from_raw_handle(h as RawHandle) };
    let discard = |file: File| {
        drop(file);
        let _ = std::fs::remove_file(dir.join(&content));
    };
    if let Err(e) = file.set_len(size) {
        discard(file);
        return Err(match code_of(&e) {
            code::DISK_FULL => Error::new(
                ErrorKind::NoSpace,
                format!("{what}: no space for its {size} bytes"),
            ),
            _ => io_err(e),
        });
    }
    // The record is written aside, then renamed into place: the rename, which fails
    // when the name exists, is the one atomic step that claims the name.
    let record = Record {
        content: content.clone(),
        protection,
    };
    let temp = dir.join(unique("r"));
    if let Err(e) = std::fs::write(&temp, record.encode()) {
        discard(file);
        let _ = std::fs::remove_file(&temp);
        return Err(io_err(e));
    }
    let from = wide(&temp.to_string_lossy());
    let to = wide(&dir.join(file_name(name)).to_string_lossy());
    // SAFETY: both paths are NUL-terminated and outlive the call.
    if unsafe { MoveFileExW(from.as_ptr(), to.as_ptr(), 0) } == 0 {
        let e = last_error();
        discard(file);
        let _ = std::fs::remove_file(&temp);
        if matches!(code_of(&e), ERROR_FILE_EXISTS | ERROR_ALREADY_EXISTS) {
            return Ok(None);
        }
        return Err(io_err(e));
    }
    Ok(Some(Stored {
        file,
        size,
        protection,
        writable: true,
    }))
}

/// Whether the caller owns the content file (squatting check of a create that finds it).
pub(crate) fn owned_by_caller(file: &File) -> io::Result<bool> {
    security::owned_by_caller(file.as_raw_handle(), true)
}

/// Removes the persistent object `name`; false when there is none. Its record goes at
/// once; its content file goes now or, while sections over it are still open (Windows
/// refuses to delete a mapped file), at a later sweep.
pub(crate) fn remove(name: &Name, what: &str) -> Result<bool> {
    let dir = dir(name.namespace()).map_err(|e| Error::from_io(e, what))?;
    let Some(record) = read_record(&dir, name, what)? else {
        return Ok(false);
    };
    match std::fs::remove_file(dir.join(file_name(name))) {
        Ok(()) => {}
        Err(e) if absent(&e) => return Ok(false),
        Err(e) if code_of(&e) == code::ACCESS_DENIED => {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("{what}: it belongs to another user"),
            ))
        }
        Err(e) => return Err(Error::from_io(e, what.to_owned())),
    }
    let _ = std::fs::remove_file(dir.join(record.content));
    Ok(true)
}

/// Deletes the content files that no record names and nothing maps any more.
fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut named = Vec::new();
    let mut contents = Vec::new();
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        if file.starts_with("d.") {
            contents.push(file);
        } else if file.starts_with("o.") || file.starts_with("h.") {
            if let Some(r) = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|t| Record::decode(&t))
            {
                named.push(r.content);
            }
        }
    }
    for c in contents {
        if !named.contains(&c) {
            // Fails, harmlessly, while a section maps it or its creator holds it.
            let _ = std::fs::remove_file(dir.join(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_case_apart_on_case_blind_file_systems() {
        let a = file_name(&Name::parse("Local\\Case").unwrap());
        let b = file_name(&Name::parse("Local\\case").unwrap());
        assert_eq!(a, "o.%43ase");
        assert_eq!(b, "o.case");
        assert!(!a.eq_ignore_ascii_case(&b));
        let long = file_name(&Name::parse(&"x".repeat(250)).unwrap());
        assert!(long.starts_with("h.") && long.len() == 66, "{long}");
    }
}
