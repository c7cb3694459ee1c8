//! Plain POSIX shared-memory objects (`shm_open(3)` names in /dev/shm), opened on
//! purpose: shmkit maps them but does not manage their lifetime.

use super::mapping::Handle;
use super::object;
use super::sys::{self, Errno};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Protection};
use rustix::fd::AsFd;
use rustix::fs::OFlags;

/// Where `shm_open(3)` keeps POSIX shared-memory objects.
const POSIX_SHM_DIR: &str = "/dev/shm";

/// Opens a plain POSIX shared-memory object (`shm_open` name) such as one made by
/// Python's `multiprocessing.shared_memory`. shmkit does not manage its lifetime.
pub(crate) fn open_os(os_name: &str, access: Access) -> Result<Handle> {
    let what = format!("POSIX shared-memory object {os_name:?}");
    let base = os_name.strip_prefix('/').unwrap_or(os_name);
    if base.is_empty()
        || base.contains('/')
        || base == "."
        || base == ".."
        || base.contains('\0')
        || base.len() > 255
    {
        return Err(Error::with_code(
            ErrorKind::InvalidName,
            code::INVALID_NAME,
            format!("invalid {what}: a POSIX name is one path component, like \"/psm_1234\""),
        ));
    }
    // shm_open(3) objects live in /dev/shm whatever the shmkit store root is.
    let root = rustix::fs::open(
        POSIX_SHM_DIR,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| Error::from_io(e.into(), what.clone()))?;
    let write = access == Access::ReadWrite;
    let (data, st) =
        sys::open_file_at(root.as_fd(), base, object::oflags(write)).map_err(|e| match e {
            Errno::NOENT => Error::new(
                ErrorKind::NotFound,
                format!("cannot open {what}: it does not exist"),
            ),
            Errno::ACCESS | Errno::PERM => Error::new(
                ErrorKind::PermissionDenied,
                format!("cannot open {what}: permission denied"),
            ),
            Errno::LOOP | Errno::NOTSUP => Error::new(
                ErrorKind::PermissionDenied,
                format!("cannot open {what}: not a regular file"),
            ),
            e => Error::from_io(e.into(), what.clone()),
        })?;
    let size = st.st_size as u64;
    if size == 0 {
        return Err(Error::new(
            ErrorKind::EmptyFile,
            format!("cannot open {what}: it has size 0"),
        ));
    }
    Ok(Handle::over_fd(
        data,
        size,
        access,
        Protection::ReadWrite,
        true,
    ))
}
