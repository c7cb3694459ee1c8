//! File-backed mappings (SPEC section 3): the checks of the caller's file, its growth,
//! and the opening of a named object's backing file by the processes that open the name.

use super::object::{self, Backing};
use super::sys::{self, Errno};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::Protection;
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::fs::OFlags;
use std::fs::File;

fn sys_err(e: Errno, what: &str) -> Error {
    Error::from_io(e.into(), what.to_owned())
}

/// The caller's file behind a file-backed create, checked against SPEC section 3 but not
/// yet grown: a create that finds the name taken must leave the file as it was.
pub(crate) struct FileSource {
    pub fd: OwnedFd,
    /// The object's size: the requested one, or the file's length for size 0.
    pub size: u64,
    /// The file's length now.
    len: u64,
}

impl FileSource {
    /// Checks `file` for an object of `size` bytes (0: the file's length) with `protection`.
    pub(crate) fn check(
        file: &File,
        size: u64,
        protection: Protection,
        what: &str,
    ) -> Result<FileSource> {
        let fd = rustix::io::fcntl_dupfd_cloexec(file, 0).map_err(|e| sys_err(e, what))?;
        let fl = rustix::fs::fcntl_getfl(&fd).map_err(|e| sys_err(e, what))?;
        let writable = fl & OFlags::RWMODE != OFlags::RDONLY;
        let st = sys::fstat(&fd).map_err(|e| sys_err(e, what))?;
        if st.st_mode & 0o170000 != 0o100000 {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("{what}: the backing file is not a regular file"),
            ));
        }
        let len = st.st_size as u64;
        if protection == Protection::ReadWrite && !writable {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what}: a read-write mapping needs a file opened for writing; \
                     this one is read-only"
                ),
            ));
        }
        let size = if size == 0 {
            if len == 0 {
                return Err(Error::new(
                    ErrorKind::EmptyFile,
                    format!("{what}: the file is empty and no size was given"),
                ));
            }
            len
        } else {
            size
        };
        if size > len && !writable {
            return Err(Error::with_code(
                ErrorKind::InvalidSize,
                code::NOT_ENOUGH_MEMORY,
                format!(
                    "{what}: size {size} exceeds the file's {len} bytes and the file, \
                     opened read-only, cannot grow"
                ),
            ));
        }
        Ok(FileSource { fd, size, len })
    }

    /// Grows the file to the object's size (SPEC 3.2), reserving the new blocks so that a
    /// full disk fails here, not as SIGBUS later.
    pub(crate) fn grow(&self, what: &str) -> Result<()> {
        if self.size <= self.len {
            return Ok(());
        }
        rustix::fs::ftruncate(&self.fd, self.size).map_err(|e| sys_err(e, what))?;
        if let Err(e) = sys::commit(&self.fd, self.len, self.size - self.len) {
            let _ = rustix::fs::ftruncate(&self.fd, self.len);
            return Err(match e {
                Errno::NOSPC => Error::new(
                    ErrorKind::NoSpace,
                    format!("{what}: no space to grow the file to {} bytes", self.size),
                ),
                e => sys_err(e, what),
            });
        }
        Ok(())
    }

    /// Where the file is, for the header: what other processes open. The file must be
    /// `owner`'s (the object's creator): openers refuse a backing file of anyone else, which
    /// an object planted by another user could name.
    pub(crate) fn backing(&self, owner: u32, what: &str) -> Result<Backing> {
        let st = sys::fstat(&self.fd).map_err(|e| sys_err(e, what))?;
        if st.st_uid != owner {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what}: the file belongs to uid {}; a named mapping can be backed only \
                     by a file of its creator (uid {owner}), so that no process opening the \
                     name can be sent to another user's file",
                    st.st_uid
                ),
            ));
        }
        let path = std::fs::read_link(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
            .ok()
            .and_then(|p| p.to_str().map(str::to_owned))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidParameter,
                    format!("{what}: cannot name the backing file for other processes"),
                )
            })?;
        Ok(Backing {
            dev: st.st_dev,
            ino: st.st_ino,
            path,
        })
    }
}

/// Opens the backing file of a named file-backed object, checking that it is still the
/// file the object was made over and that it belongs to the object's owner (SPEC 6.3: an
/// object planted by another user must not send its openers to their own files).
pub(crate) fn open_backing(b: &Backing, owner: u32, write: bool, what: &str) -> Result<OwnedFd> {
    let fd = rustix::fs::open(
        b.path.as_str(),
        object::oflags(write) | OFlags::CLOEXEC | OFlags::NOCTTY,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ACCESS | Errno::PERM => Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what}: no {} access to its backing file {}",
                if write { "read-write" } else { "read" },
                b.path
            ),
        ),
        e => Error::from_io(
            e.into(),
            format!("{what}: cannot open its backing file {}", b.path),
        ),
    })?;
    let st = sys::fstat(&fd).map_err(|e| sys_err(e, what))?;
    if st.st_dev != b.dev || st.st_ino != b.ino {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("{what}: its backing file {} was moved or replaced", b.path),
        ));
    }
    if st.st_uid != owner {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what}: its backing file {} belongs to uid {}, not to the object's owner \
                 (uid {owner}); refusing a file another user may have named",
                b.path, st.st_uid
            ),
        ));
    }
    Ok(fd)
}
