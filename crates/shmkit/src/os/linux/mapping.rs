//! Mapping handles and views on Linux.

use super::object::{self, kind, Backing, Entry, Header, DATA_OFFSET, FLAG_FILE, FLAG_PERSISTENT};
use super::store;
use super::sys::{self, Errno};
use crate::error::{code, Error, ErrorKind, Result};
use crate::mapping::Protection;
use crate::name::Name;
use crate::os::CreateRequest;
use crate::view::Access;
use rustix::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use rustix::fs::{AtFlags, OFlags};
use rustix::mm::{MapFlags, MsyncFlags, ProtFlags};
use std::fs::File;
use std::process::Command;

/// One open handle to a mapping object.
pub(crate) struct Handle {
    /// What views map: a memfd or the backing file; `None` for memory objects, whose
    /// views map the entry's own file.
    data: Option<OwnedFd>,
    /// Where the object's bytes start in `data`.
    data_offset: u64,
    size: u64,
    access: Access,
    protection: Protection,
    /// The hold on the name, for named objects.
    entry: Option<Entry>,
    /// A second hold for children to inherit (`inheritable(true)`).
    inheritable: Option<sys::InheritableFd>,
    persistent: bool,
}

fn protection_code(p: Protection) -> u32 {
    match p {
        Protection::ReadOnly => 0,
        Protection::ReadWrite => 1,
        Protection::WriteCopy => 2,
    }
}

fn protection_of(code: u32) -> Protection {
    match code {
        0 => Protection::ReadOnly,
        2 => Protection::WriteCopy,
        _ => Protection::ReadWrite,
    }
}

fn label(name: Option<&Name>) -> String {
    match name {
        Some(n) => format!("mapping {}", crate::name::quoted(n.as_str())),
        None => "unnamed mapping".to_owned(),
    }
}

fn sys_err(e: Errno, what: &str) -> Error {
    Error::from_io(e.into(), what.to_owned())
}

/// The backing file of a file-backed create, checked against SPEC section 3.
struct FileSource {
    fd: OwnedFd,
    size: u64,
}

fn file_source(req: &CreateRequest<'_>, file: &File, what: &str) -> Result<FileSource> {
    let fd = rustix::io::fcntl_dupfd_cloexec(file, 0).map_err(|e| sys_err(e, what))?;
    let fl = rustix::fs::fcntl_getfl(&fd).map_err(|e| sys_err(e, what))?;
    let writable = fl & OFlags::RWMODE != OFlags::RDONLY;
    let st = sys::fstat(&fd).map_err(|e| sys_err(e, what))?;
    if st.st_mode & 0o170000 != 0o100000 {
        return Err(Error::with_code(
            ErrorKind::Other,
            code::INVALID_PARAMETER,
            format!("{what}: the backing file is not a regular file"),
        ));
    }
    let len = st.st_size as u64;
    if req.protection == Protection::ReadWrite && !writable {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: a read-write mapping needs a file opened for writing; this one is read-only"),
        ));
    }
    let size = if req.size == 0 {
        if len == 0 {
            return Err(Error::new(
                ErrorKind::EmptyFile,
                format!("{what}: the file is empty and no size was given"),
            ));
        }
        len
    } else {
        req.size
    };
    if size > len {
        if !writable {
            return Err(Error::with_code(
                ErrorKind::InvalidSize,
                code::NOT_ENOUGH_MEMORY,
                format!(
                    "{what}: size {size} exceeds the file's {len} bytes and the file, \
                     opened read-only, cannot grow"
                ),
            ));
        }
        rustix::fs::ftruncate(&fd, size).map_err(|e| sys_err(e, what))?;
        // Reserve the new blocks so that a full disk fails here, not as SIGBUS later.
        if let Err(e) = sys::commit(&fd, len, size - len) {
            let _ = rustix::fs::ftruncate(&fd, len);
            return Err(match e {
                Errno::NOSPC => Error::new(
                    ErrorKind::NoSpace,
                    format!("{what}: no space to grow the file to {size} bytes"),
                ),
                e => sys_err(e, what),
            });
        }
    }
    Ok(FileSource { fd, size })
}

fn check_size(size: u64, what: &str) -> Result<()> {
    if size == 0 {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!("{what}: size 0 is not allowed"),
        ));
    }
    if size > (i64::MAX as u64) - DATA_OFFSET || size > isize::MAX as u64 {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!("{what}: size {size} is larger than the system allows"),
        ));
    }
    Ok(())
}

pub(crate) fn check_permissions(bits: u32, what: &str) -> Result<()> {
    if bits & !0o777 != 0 {
        return Err(Error::with_code(
            ErrorKind::Other,
            code::INVALID_PARAMETER,
            format!("{what}: permissions {bits:o} are not owner/group/others bits (0o777 at most)"),
        ));
    }
    Ok(())
}

/// SPEC 2.1/2.2: create-or-open (or create-new).
pub(crate) fn create(req: &CreateRequest<'_>) -> Result<(Handle, bool)> {
    let what = label(req.name);
    check_permissions(req.permissions, &what)?;
    let source = match req.file {
        Some(f) => Some(file_source(req, f, &what)?),
        None => {
            check_size(req.size, &what)?;
            None
        }
    };
    let Some(name) = req.name else {
        return Ok((unnamed(req, source, &what)?, false));
    };
    let dir = store::ns_dir(name.namespace())?;
    dir.reclaim_dead();
    loop {
        if let Some(entry) = object::open_entry(&dir, name, true, "creating")? {
            if entry.header.kind != kind::MAPPING {
                return Err(wrong_type(name, entry.header.kind));
            }
            if req.exclusive {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("cannot create {what}: an object of that name already exists"),
                ));
            }
            if entry.owner != dir.uid {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "creating {what}: the name is held by an object of uid {}, not yours; \
                         refusing a name another user may have squatted (use open to use \
                         another user's object on purpose)",
                        entry.owner
                    ),
                ));
            }
            let handle = from_entry(entry, Access::ReadWrite, req.inheritable, &what)?;
            return Ok((handle, true));
        }
        let mut header = Header::new(kind::MAPPING, name, 0, dir.uid);
        header.protection = protection_code(req.protection);
        if req.persistent {
            header.flags |= FLAG_PERSISTENT;
        }
        let file_len = match &source {
            Some(src) => {
                let st = sys::fstat(&src.fd).map_err(|e| sys_err(e, &what))?;
                let path = std::fs::read_link(format!("/proc/self/fd/{}", src.fd.as_raw_fd()))
                    .ok()
                    .and_then(|p| p.to_str().map(str::to_owned))
                    .ok_or_else(|| {
                        Error::with_code(
                            ErrorKind::Other,
                            code::INVALID_PARAMETER,
                            format!("{what}: cannot name the backing file for other processes"),
                        )
                    })?;
                header.flags |= FLAG_FILE;
                header.size = src.size;
                header.backing = Some(Backing {
                    dev: st.st_dev,
                    ino: st.st_ino,
                    path,
                });
                2 * 4096
            }
            None => {
                header.size = req.size;
                DATA_OFFSET + req.size
            }
        };
        let created = object::create_entry(
            &dir,
            name,
            &header,
            file_len,
            req.permissions,
            |_| Ok(()),
            "creating",
        )?;
        if let Some(entry) = created {
            let mut handle = match source {
                Some(src) => Handle {
                    data: Some(src.fd),
                    data_offset: 0,
                    size: src.size,
                    access: Access::ReadWrite,
                    protection: req.protection,
                    entry: Some(entry),
                    inheritable: None,
                    persistent: req.persistent,
                },
                None => Handle {
                    data: None,
                    data_offset: DATA_OFFSET,
                    size: req.size,
                    access: Access::ReadWrite,
                    protection: req.protection,
                    entry: Some(entry),
                    inheritable: None,
                    persistent: req.persistent,
                },
            };
            if req.inheritable {
                handle.make_inheritable(&what)?;
            }
            return Ok((handle, false));
        }
        // Someone else linked the name first: open theirs.
    }
}

fn unnamed(req: &CreateRequest<'_>, source: Option<FileSource>, what: &str) -> Result<Handle> {
    let (data, size) = match source {
        Some(src) => (src.fd, src.size),
        None => {
            let too_big = |e: Errno| match e {
                Errno::NOSPC | Errno::NOMEM => Error::with_code(
                    ErrorKind::NoSpace,
                    code::NOT_ENOUGH_MEMORY,
                    format!("{what}: not enough memory to commit {} bytes", req.size),
                ),
                e => sys_err(e, what),
            };
            sys::check_commit(None, req.size).map_err(too_big)?;
            let fd = rustix::fs::memfd_create("shmkit-unnamed", rustix::fs::MemfdFlags::CLOEXEC)
                .map_err(|e| sys_err(e, what))?;
            rustix::fs::ftruncate(&fd, req.size).map_err(|e| sys_err(e, what))?;
            sys::commit(&fd, 0, req.size).map_err(too_big)?;
            (fd, req.size)
        }
    };
    let mut handle = Handle {
        data: Some(data),
        data_offset: 0,
        size,
        access: Access::ReadWrite,
        protection: req.protection,
        entry: None,
        inheritable: None,
        persistent: false,
    };
    if req.inheritable {
        handle.make_inheritable(what)?;
    }
    Ok(handle)
}

fn wrong_type(name: &Name, found: u32) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind ({}), not a mapping",
            crate::name::quoted(name.as_str()),
            object::kind_name(found)
        ),
    )
}

/// Builds a handle over an open entry (its lock is the hold on the name).
fn from_entry(entry: Entry, access: Access, inheritable: bool, what: &str) -> Result<Handle> {
    let h = &entry.header;
    let protection = protection_of(h.protection);
    let write = access == Access::ReadWrite;
    let (data, data_offset) = match &h.backing {
        None => (None, DATA_OFFSET),
        Some(b) => {
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
            (Some(fd), 0)
        }
    };
    let mut handle = Handle {
        data,
        data_offset,
        size: h.size,
        access,
        protection,
        persistent: h.persistent(),
        entry: Some(entry),
        inheritable: None,
    };
    if inheritable {
        handle.make_inheritable(what)?;
    }
    Ok(handle)
}

/// SPEC 2.6: open an existing object by name.
pub(crate) fn open(name: &Name, access: Access) -> Result<Handle> {
    let what = label(Some(name));
    let dir = store::ns_dir(name.namespace())?;
    dir.reclaim_dead();
    let write = access == Access::ReadWrite;
    let entry = object::open_entry(&dir, name, write, "opening")?.ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("cannot open {what}: no object has that name"),
        )
    })?;
    if entry.header.kind != kind::MAPPING {
        return Err(wrong_type(name, entry.header.kind));
    }
    if write && protection_of(entry.header.protection) != Protection::ReadWrite {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("cannot open {what} for writing: the object is not read-write"),
        ));
    }
    from_entry(entry, access, false, &what)
}

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
        store::POSIX_SHM_DIR,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| sys_err(e, &what))?;
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
            e => sys_err(e, &what),
        })?;
    let size = st.st_size as u64;
    if size == 0 {
        return Err(Error::new(
            ErrorKind::EmptyFile,
            format!("cannot open {what}: it has size 0"),
        ));
    }
    Ok(Handle {
        data: Some(data),
        data_offset: 0,
        size,
        access,
        protection: Protection::ReadWrite,
        entry: None,
        inheritable: None,
        persistent: true,
    })
}

/// Removes a persistent object's name (SPEC 5.4).
pub(crate) fn remove(name: &Name) -> Result<()> {
    let what = label(Some(name));
    let dir = store::ns_dir(name.namespace())?;
    dir.reclaim_dead();
    let file = name.file_name();
    let fd = match sys::open_file_at(dir.fd.as_fd(), &file, OFlags::RDONLY) {
        Ok((fd, _)) => fd,
        Err(Errno::NOENT) => {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("cannot remove {what}: no object has that name"),
            ))
        }
        Err(e) => return Err(sys_err(e, &format!("cannot remove {what}"))),
    };
    let header = Header::read(&fd).map_err(|_| {
        Error::new(
            ErrorKind::PermissionDenied,
            format!("cannot remove {what}: not a shmkit object"),
        )
    })?;
    if header.kind != kind::MAPPING {
        return Err(wrong_type(name, header.kind));
    }
    if !header.persistent() {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot remove {what}: it is not persistent; it disappears when its last handle closes"
            ),
        ));
    }
    if !sys::linked_at(&fd, dir.fd.as_fd(), &file) {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("cannot remove {what}: it was just removed"),
        ));
    }
    rustix::fs::unlinkat(&dir.fd, file.as_str(), AtFlags::empty()).map_err(|e| match e {
        Errno::PERM | Errno::ACCESS => Error::new(
            ErrorKind::PermissionDenied,
            format!("cannot remove {what}: it belongs to uid {}", header.owner),
        ),
        e => sys_err(e, &format!("cannot remove {what}")),
    })
}

const TOKEN_PREFIX: &str = "shmkit-handle:";

impl Handle {
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    fn data_fd(&self) -> rustix::fd::BorrowedFd<'_> {
        match (&self.data, &self.entry) {
            (Some(fd), _) => fd.as_fd(),
            (None, Some(entry)) => entry.fd.as_fd(),
            (None, None) => unreachable!("a handle without data is a memory object with an entry"),
        }
    }
    pub(crate) fn access(&self) -> Access {
        self.access
    }
    pub(crate) fn protection(&self) -> Protection {
        self.protection
    }
    pub(crate) fn is_persistent(&self) -> bool {
        self.persistent
    }

    fn make_inheritable(&mut self, what: &str) -> Result<()> {
        let fd = self.fresh_hold().map_err(|e| sys_err(e, what))?;
        self.inheritable = Some(sys::InheritableFd::new(fd).map_err(|e| sys_err(e, what))?);
        Ok(())
    }

    /// A new open file description of the object with its own hold on the name.
    fn fresh_hold(&self) -> std::result::Result<OwnedFd, Errno> {
        let write = self.access == Access::ReadWrite;
        match &self.entry {
            Some(entry) if entry.header.backing.is_none() => entry.duplicate(write),
            _ => sys::reopen(self.data_fd(), object::oflags(write)),
        }
    }

    /// The token that names this handle's inheritable descriptor in a child.
    pub(crate) fn inherit_token(&self) -> Option<String> {
        self.inheritable
            .as_ref()
            .map(|fd| self.token_for(fd.as_raw_fd()))
    }

    fn token_for(&self, fd: RawFd) -> String {
        let lock = match &self.entry {
            Some(e) if e.header.backing.is_some() => "file",
            Some(_) => "named",
            None => "unnamed",
        };
        let access = match self.access {
            Access::Read => "r",
            Access::ReadWrite => "rw",
            Access::CopyOnWrite => "cow",
        };
        format!(
            "{TOKEN_PREFIX}{fd}:{lock}:{access}:{}:{}",
            protection_code(self.protection),
            self.size
        )
    }

    /// Hands a fresh, independent handle to the child that `cmd` will start; returns the
    /// token the child passes to `from_inherited`.
    pub(crate) fn share_with(&self, cmd: &mut Command) -> Result<String> {
        let what = "sharing a mapping with a child process";
        let fd = self.fresh_hold().map_err(|e| sys_err(e, what))?;
        let token = self.token_for(fd.as_raw_fd());
        sys::pass_to_child(cmd, fd);
        Ok(token)
    }

    pub(crate) fn from_inherited(token: &str) -> Result<Handle> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidHandle,
                format!("inherited handle {token:?}: {why}"),
            )
        };
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| bad("not a shmkit handle token"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [fd, lock, access, prot, size] = parts[..] else {
            return Err(bad("malformed token"));
        };
        let fd: RawFd = fd.parse().map_err(|_| bad("malformed descriptor"))?;
        let size: u64 = size.parse().map_err(|_| bad("malformed size"))?;
        let prot: u32 = prot.parse().map_err(|_| bad("malformed protection"))?;
        let access = match access {
            "r" => Access::Read,
            "rw" => Access::ReadWrite,
            "cow" => Access::CopyOnWrite,
            _ => return Err(bad("malformed access")),
        };
        if fd < 0 || size == 0 || prot > 2 {
            return Err(bad("malformed token"));
        }
        let owned = sys::take_inherited(fd).map_err(bad)?;
        let st = sys::fstat(&owned).map_err(|_| bad("cannot inspect it"))?;
        if st.st_mode & 0o170000 != 0o100000 {
            std::mem::forget(owned);
            return Err(bad("not a shared-memory object"));
        }
        let write = access == Access::ReadWrite;
        match lock {
            "unnamed" => {
                if (st.st_size as u64) < size {
                    std::mem::forget(owned);
                    return Err(bad("the object is smaller than the token says"));
                }
                let _ = rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC);
                Ok(Handle {
                    data: Some(owned),
                    data_offset: 0,
                    size,
                    access,
                    protection: protection_of(prot),
                    entry: None,
                    inheritable: None,
                    persistent: false,
                })
            }
            "named" | "file" => {
                let header = match Header::read(&owned) {
                    Ok(h) if h.kind == kind::MAPPING && h.size == size => h,
                    _ => {
                        std::mem::forget(owned);
                        return Err(bad("not a shmkit mapping of that size"));
                    }
                };
                let name = header
                    .name
                    .as_deref()
                    .and_then(|n| Name::parse(n).ok())
                    .ok_or_else(|| bad("no name"))?;
                let dir = store::ns_dir(name.namespace())?;
                let entry = Entry::adopt(owned, dir, write)?;
                from_entry(entry, access, false, &label(Some(&name)))
            }
            _ => {
                std::mem::forget(owned);
                Err(bad("malformed token"))
            }
        }
    }

    pub(crate) fn try_clone(&self) -> Result<Handle> {
        let what = "duplicating a mapping handle";
        let data = match &self.data {
            Some(fd) => Some(rustix::io::fcntl_dupfd_cloexec(fd, 0).map_err(|e| sys_err(e, what))?),
            None => None,
        };
        let entry = match &self.entry {
            None => None,
            Some(e) => {
                // Memory objects map the entry's own file: keep this handle's access.
                let fd = e
                    .duplicate(self.access == Access::ReadWrite)
                    .map_err(|err| sys_err(err, what))?;
                e.dir.enter()?;
                Some(Entry::new_held(fd, e))
            }
        };
        Ok(Handle {
            data,
            data_offset: self.data_offset,
            size: self.size,
            access: self.access,
            protection: self.protection,
            entry,
            inheritable: None,
            persistent: self.persistent,
        })
    }

    /// Maps `len` bytes at `offset` (already checked against the object's size).
    pub(crate) fn map(
        &self,
        offset: u64,
        len: usize,
        access: Access,
    ) -> std::result::Result<RawView, Errno> {
        let (prot, flags) = match access {
            Access::Read => (ProtFlags::READ, MapFlags::SHARED),
            Access::ReadWrite => (ProtFlags::READ | ProtFlags::WRITE, MapFlags::SHARED),
            Access::CopyOnWrite => (ProtFlags::READ | ProtFlags::WRITE, MapFlags::PRIVATE),
        };
        // SAFETY: a fresh mapping at an address the kernel chooses; it aliases no Rust
        // object. The range lies inside the file (checked by the caller), so no access
        // through it can fault with SIGBUS while the file keeps its size.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                flags,
                self.data_fd(),
                self.data_offset + offset,
            )?
        };
        Ok(RawView {
            ptr: ptr.cast(),
            len,
        })
    }
}

/// One mapped view.
pub(crate) struct RawView {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a RawView is an address range; nothing about it is tied to a thread.
unsafe impl Send for RawView {}
// SAFETY: shared use only reads `ptr` and `len`; access to the memory itself is governed
// by the public View API (copies and atomics).
unsafe impl Sync for RawView {}

impl RawView {
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn flush(&self) -> std::result::Result<(), Errno> {
        // SAFETY: `ptr..ptr+len` is a mapping this value owns.
        unsafe { rustix::mm::msync(self.ptr.cast(), self.len, MsyncFlags::SYNC) }
    }
}

impl Drop for RawView {
    fn drop(&mut self) {
        // SAFETY: the range was returned by mmap and is unmapped exactly once, here; the
        // public View that owned it is gone, so nothing refers to it any more.
        unsafe {
            let _ = rustix::mm::munmap(self.ptr.cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Mapping};

    /// SPEC 1.5: one namespace for every kind; a name held by another kind is refused
    /// with ERROR_INVALID_HANDLE, by create, create_new, open and remove alike.
    #[test]
    fn rule_1_5_a_name_held_by_another_kind_is_wrong_type() {
        let name_str = format!("Local\\shmkit-test-kind-{}", std::process::id());
        let name = Name::parse(&name_str).unwrap();
        let dir = store::ns_dir(name.namespace()).unwrap();
        let header = Header::new(kind::EVENT, &name, 0, dir.uid);
        let held =
            object::create_entry(&dir, &name, &header, DATA_OFFSET, 0o600, |_| Ok(()), "test")
                .unwrap()
                .expect("fresh name");
        for e in [
            Mapping::create(&name_str, 4096).unwrap_err(),
            Mapping::create_new(&name_str, 4096).unwrap_err(),
            Mapping::open(&name_str, Access::Read).unwrap_err(),
            Mapping::remove(&name_str).unwrap_err(),
        ] {
            assert_eq!((e.kind(), e.win32_code()), (ErrorKind::WrongType, 6), "{e}");
            assert!(e.to_string().contains("another kind (event)"), "{e}");
        }
        drop(held);
        assert_eq!(
            Mapping::open(&name_str, Access::Read).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
}
