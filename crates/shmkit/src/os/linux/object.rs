//! Named objects in a namespace directory: the header, and the create / open / close
//! protocol that gives them the Windows lifetime without a daemon.
//!
//! An object is one file, `o.<encoded name>`. Its first 64 KiB are the header (only the
//! first pages are ever written; the rest is a hole); a memory object's data follows at
//! [`DATA_OFFSET`], so views stay on the 64 KiB grid for every page size.
//!
//! Protocol (every step is safe against processes dying at any point):
//! - create: an O_TMPFILE file is sized, committed (fallocate), given its header and mode,
//!   share-locked, and only then linked under its name. `EEXIST` means another process won
//!   the race: open that one instead. Nobody can ever open a half-made object.
//! - open: open the file (no symlinks, no FIFOs), then try an exclusive `flock`. Getting it
//!   means no process holds the object: unless persistent, it is stale (its holders died),
//!   so it is unlinked and treated as missing. Otherwise take a shared lock and check that
//!   the file is still the one linked under the name (a closer may have unlinked it).
//! - close: try to turn the shared lock into an exclusive one without waiting; getting it
//!   means this was the last handle, so the name is unlinked. Memory stays while views
//!   map it; the kernel frees it with the last one.

use super::store::NsDir;
use super::sys::{self, Errno};
use crate::error::{Error, ErrorKind, Result};
use crate::name::Name;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FlockOperation, OFlags};
use std::sync::Arc;

/// Where a memory object's data starts in its file: one allocation granule.
pub(crate) const DATA_OFFSET: u64 = crate::GRANULARITY;

const MAGIC: [u8; 8] = *b"SHMKIT\0\x01";
const VERSION: u32 = 1;
const PAGE0: usize = 4096;
const NAME_AT: usize = 256;
const NAME_MAX: usize = 1280;
// Bytes 2048..4096 of the first page are reserved for the state of sync objects.
const PATH_AT: u64 = 4096;
const PATH_MAX: usize = 4096;

/// Object kinds, as stored in the header.
pub(crate) mod kind {
    pub const MAPPING: u32 = 1;
    pub const MUTEX: u32 = 2;
    pub const EVENT: u32 = 3;
    pub const SEMAPHORE: u32 = 4;
}

/// The name of an object kind, for messages and listings.
pub(crate) fn kind_name(kind: u32) -> &'static str {
    match kind {
        kind::MAPPING => "mapping",
        kind::MUTEX => "mutex",
        kind::EVENT => "event",
        kind::SEMAPHORE => "semaphore",
        _ => "unknown",
    }
}

pub(crate) const FLAG_PERSISTENT: u32 = 1;
pub(crate) const FLAG_FILE: u32 = 2;

/// The file behind a file-backed named mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backing {
    pub dev: u64,
    pub ino: u64,
    pub path: String,
}

/// An object's header: written once, before the object gets its name.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub kind: u32,
    pub flags: u32,
    /// Protection of a mapping (0 read-only, 1 read-write, 2 write-copy).
    pub protection: u32,
    pub size: u64,
    pub owner: u32,
    pub creator_pid: u32,
    pub created: u64,
    pub name: Option<String>,
    pub backing: Option<Backing>,
}

impl Header {
    pub(crate) fn new(kind: u32, name: &Name, size: u64, owner: u32) -> Header {
        Header {
            kind,
            flags: 0,
            protection: 1,
            size,
            owner,
            creator_pid: sys::pid(),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            name: Some(name.full()),
            backing: None,
        }
    }

    /// The header of an unnamed object (only its kind matters).
    pub(crate) fn unnamed(kind: u32) -> Header {
        Header {
            kind,
            flags: 0,
            protection: 1,
            size: 0,
            owner: 0,
            creator_pid: sys::pid(),
            created: 0,
            name: None,
            backing: None,
        }
    }

    pub(crate) fn persistent(&self) -> bool {
        self.flags & FLAG_PERSISTENT != 0
    }

    pub(crate) fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut p = vec![0u8; PAGE0];
        let name = self.name.as_deref().unwrap_or("").as_bytes();
        p[0..8].copy_from_slice(&MAGIC);
        p[8..12].copy_from_slice(&VERSION.to_le_bytes());
        p[12..16].copy_from_slice(&self.kind.to_le_bytes());
        p[16..20].copy_from_slice(&(self.flags | (self.protection << 8)).to_le_bytes());
        p[20..24].copy_from_slice(&(name.len() as u32).to_le_bytes());
        p[24..32].copy_from_slice(&self.size.to_le_bytes());
        p[32..36].copy_from_slice(&self.owner.to_le_bytes());
        p[36..40].copy_from_slice(&self.creator_pid.to_le_bytes());
        p[40..48].copy_from_slice(&self.created.to_le_bytes());
        p[NAME_AT..NAME_AT + name.len()].copy_from_slice(name);
        let path = self.backing.as_ref().map(|b| {
            p[48..56].copy_from_slice(&b.dev.to_le_bytes());
            p[56..64].copy_from_slice(&b.ino.to_le_bytes());
            p[64..68].copy_from_slice(&(b.path.len() as u32).to_le_bytes());
            b.path.as_bytes().to_vec()
        });
        (p, path)
    }

    /// Reads and validates the header of an object file.
    pub(crate) fn read(fd: impl AsFd) -> std::result::Result<Header, Errno> {
        let fd = fd.as_fd();
        let mut p = vec![0u8; PAGE0];
        if rustix::io::pread(fd, &mut p, 0)? != PAGE0 || p[0..8] != MAGIC {
            return Err(Errno::INVAL);
        }
        let u32_at = |i: usize| u32::from_le_bytes(p[i..i + 4].try_into().unwrap_or_default());
        let u64_at = |i: usize| u64::from_le_bytes(p[i..i + 8].try_into().unwrap_or_default());
        if u32_at(8) != VERSION {
            return Err(Errno::INVAL);
        }
        let name_len = u32_at(20) as usize;
        if name_len > NAME_MAX {
            return Err(Errno::INVAL);
        }
        let name =
            String::from_utf8(p[NAME_AT..NAME_AT + name_len].to_vec()).map_err(|_| Errno::INVAL)?;
        let word = u32_at(16);
        let flags = word & 0xff;
        let backing = if flags & FLAG_FILE != 0 {
            let len = u32_at(64) as usize;
            if len > PATH_MAX {
                return Err(Errno::INVAL);
            }
            let mut path = vec![0u8; len];
            if rustix::io::pread(fd, &mut path, PATH_AT)? != len {
                return Err(Errno::INVAL);
            }
            Some(Backing {
                dev: u64_at(48),
                ino: u64_at(56),
                path: String::from_utf8(path).map_err(|_| Errno::INVAL)?,
            })
        } else {
            None
        };
        Ok(Header {
            kind: u32_at(12),
            flags,
            protection: (word >> 8) & 0xff,
            size: u64_at(24),
            owner: u32_at(32),
            creator_pid: u32_at(36),
            created: u64_at(40),
            name: (!name.is_empty()).then_some(name),
            backing,
        })
    }

    fn write(&self, fd: impl AsFd) -> std::result::Result<(), Errno> {
        let (page, path) = self.encode();
        // The rest of the page is a hole that reads as zeros.
        let used = NAME_AT + self.name.as_deref().map_or(0, str::len);
        write_all_at(fd.as_fd(), &page[..used], 0)?;
        if let Some(path) = path {
            if path.len() > PATH_MAX {
                return Err(Errno::NAMETOOLONG);
            }
            write_all_at(fd.as_fd(), &path, PATH_AT)?;
        }
        Ok(())
    }
}

fn write_all_at(
    fd: rustix::fd::BorrowedFd<'_>,
    mut data: &[u8],
    mut at: u64,
) -> std::result::Result<(), Errno> {
    while !data.is_empty() {
        let n = rustix::io::pwrite(fd, data, at)?;
        data = &data[n..];
        at += n as u64;
    }
    Ok(())
}

/// An open, share-locked object: the part of a handle that keeps the name alive.
pub(crate) struct Entry {
    pub fd: OwnedFd,
    pub header: Header,
    pub dir: Arc<NsDir>,
    pub file: String,
    /// The file's owner (its creator).
    pub owner: u32,
    /// The process that took the lock: a forked child never runs the close protocol on
    /// its parent's lock.
    pid: u32,
}

/// How to open an object's file.
pub(crate) fn oflags(write: bool) -> OFlags {
    if write {
        OFlags::RDWR
    } else {
        OFlags::RDONLY
    }
}

/// Opens the object named `name`; `Ok(None)` when there is none (or it was stale and has
/// just been reclaimed).
pub(crate) fn open_entry(
    dir: &Arc<NsDir>,
    name: &Name,
    write: bool,
    what: &str,
) -> Result<Option<Entry>> {
    let file = name.file_name();
    dir.enter()?;
    let result = open_entry_inner(dir, name, &file, write, what);
    if !matches!(result, Ok(Some(_))) {
        dir.leave();
    }
    result
}

fn open_entry_inner(
    dir: &Arc<NsDir>,
    name: &Name,
    file: &str,
    write: bool,
    what: &str,
) -> Result<Option<Entry>> {
    for _ in 0..10_000 {
        let (fd, st) = match sys::open_file_at(dir.fd.as_fd(), file, oflags(write)) {
            Ok(opened) => opened,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(open_error(e, name, what, write)),
        };
        let stale_or_persistent = sys::flock(&fd, FlockOperation::NonBlockingLockExclusive).is_ok();
        if !stale_or_persistent {
            match sys::flock(&fd, FlockOperation::NonBlockingLockShared) {
                Ok(()) => {}
                // A closer or a reclaimer holds it exclusively for a moment.
                Err(Errno::WOULDBLOCK) => sys::flock(&fd, FlockOperation::LockShared)
                    .map_err(|e| open_error(e, name, what, write))?,
                Err(e) => return Err(open_error(e, name, what, write)),
            }
        }
        if !sys::linked_at(&fd, dir.fd.as_fd(), file) {
            continue; // unlinked (and maybe replaced) meanwhile: look again
        }
        let header = Header::read(&fd).map_err(|_| {
            Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what} {name:?}: {} is not a shmkit object; refusing to use it",
                    dir.path.join(file).display()
                ),
            )
        })?;
        if header.name.as_deref() != Some(name.full().as_str()) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what} {name:?}: {} holds {}, not this name; refusing it",
                    dir.path.join(file).display(),
                    crate::name::quoted(header.name.as_deref().unwrap_or(""))
                ),
            ));
        }
        if stale_or_persistent {
            if !header.persistent() {
                // Every holder died: reclaim it (SPEC 5.3). Another user's stale object in
                // the sticky Global directory cannot be unlinked by us; it stays invisible.
                let _ = rustix::fs::unlinkat(&dir.fd, file, AtFlags::empty());
                return Ok(None);
            }
            sys::flock(&fd, FlockOperation::LockShared)
                .map_err(|e| open_error(e, name, what, write))?;
            if !sys::linked_at(&fd, dir.fd.as_fd(), file) {
                continue;
            }
        }
        return Ok(Some(Entry {
            fd,
            header,
            dir: dir.clone(),
            file: file.to_owned(),
            owner: st.st_uid,
            pid: sys::pid(),
        }));
    }
    Err(Error::new(
        ErrorKind::Other,
        format!("{what} {name:?}: the object kept changing under us; try again"),
    ))
}

fn open_error(e: Errno, name: &Name, what: &str, write: bool) -> Error {
    match e {
        Errno::LOOP => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what} {name:?}: its file in the store is a symbolic link; refusing it"),
        ),
        Errno::NOTSUP => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what} {name:?}: its file in the store is not a regular file; refusing it"),
        ),
        Errno::ACCESS | Errno::PERM => Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what} {name:?}: the object's permissions do not allow {} access",
                if write { "read-write" } else { "read" }
            ),
        ),
        e => Error::from_io(e.into(), format!("{what} {name:?}")),
    }
}

/// Creates the object `name`: the file is complete (size, committed memory, header, mode,
/// and `init`) before it gets its name. `Ok(None)` when the name is taken.
pub(crate) fn create_entry(
    dir: &Arc<NsDir>,
    name: &Name,
    header: &Header,
    file_len: u64,
    permissions: u32,
    init: impl FnOnce(&OwnedFd) -> Result<()>,
    what: &str,
) -> Result<Option<Entry>> {
    dir.enter()?;
    let result = create_entry_inner(dir, name, header, file_len, permissions, init, what);
    if !matches!(result, Ok(Some(_))) {
        dir.leave();
    }
    result
}

fn create_entry_inner(
    dir: &Arc<NsDir>,
    name: &Name,
    header: &Header,
    file_len: u64,
    permissions: u32,
    init: impl FnOnce(&OwnedFd) -> Result<()>,
    what: &str,
) -> Result<Option<Entry>> {
    let fail = |e: Errno| Error::from_io(e.into(), format!("{what} {name:?}"));
    if header.backing.is_none() {
        sys::check_commit(Some(dir.fd.as_fd()), header.size)
            .map_err(|e| no_space(e, name, header.size, what))?;
    }
    let fd = sys::tmpfile_in(&dir.fd, permissions).map_err(fail)?;
    if header.backing.is_none() && file_len == DATA_OFFSET + header.size && header.size > 0 {
        // fallocate extends the file to the end of the committed range.
        sys::commit(&fd, DATA_OFFSET, header.size)
            .map_err(|e| no_space(e, name, header.size, what))?;
    } else {
        rustix::fs::ftruncate(&fd, file_len).map_err(fail)?;
        if header.backing.is_none() {
            sys::commit(&fd, DATA_OFFSET, header.size)
                .map_err(|e| no_space(e, name, header.size, what))?;
        }
    }
    header
        .write(&fd)
        .map_err(|e| no_space(e, name, header.size, what))?;
    init(&fd)?;
    sys::flock(&fd, FlockOperation::LockShared).map_err(fail)?;
    let file = name.file_name();
    match sys::link_tmpfile(&fd, &dir.fd, &file) {
        Ok(()) => Ok(Some(Entry {
            fd,
            header: header.clone(),
            dir: dir.clone(),
            file,
            owner: dir.uid,
            pid: sys::pid(),
        })),
        Err(Errno::EXIST) => Ok(None),
        Err(e) => Err(no_space(e, name, header.size, what)),
    }
}

fn no_space(e: Errno, name: &Name, size: u64, what: &str) -> Error {
    match e {
        Errno::NOSPC | Errno::DQUOT => Error::new(
            ErrorKind::NoSpace,
            format!(
                "{what} {name:?}: the shared-memory store cannot hold {size} more bytes \
                 (no space left)"
            ),
        ),
        Errno::NOMEM => Error::with_code(
            ErrorKind::NoSpace,
            crate::error::code::NOT_ENOUGH_MEMORY,
            format!("{what} {name:?}: not enough memory to commit {size} bytes"),
        ),
        Errno::FBIG => Error::new(
            ErrorKind::InvalidSize,
            format!("{what} {name:?}: size {size} is larger than the system allows"),
        ),
        e => Error::from_io(e.into(), format!("{what} {name:?}")),
    }
}

impl Entry {
    /// Another hold on the same object through `fd` (already share-locked). The caller
    /// has entered the namespace for it.
    pub(crate) fn new_held(fd: OwnedFd, like: &Entry) -> Entry {
        Entry {
            fd,
            header: like.header.clone(),
            dir: like.dir.clone(),
            file: like.file.clone(),
            owner: like.owner,
            pid: sys::pid(),
        }
    }

    /// Re-locks the object through a new open file description: a second, independent
    /// hold on the name (for a child to inherit).
    pub(crate) fn duplicate(&self, write: bool) -> std::result::Result<OwnedFd, Errno> {
        let fd = sys::reopen(&self.fd, oflags(write))?;
        sys::flock(&fd, FlockOperation::LockShared)?;
        Ok(fd)
    }

    /// Adopts a locked descriptor inherited from a parent: re-locks through a fresh open
    /// file description so that siblings sharing the inherited one cannot release ours.
    pub(crate) fn adopt(inherited: OwnedFd, dir: Arc<NsDir>, write: bool) -> Result<Entry> {
        let bad =
            |why: &str| Error::new(ErrorKind::InvalidHandle, format!("inherited handle: {why}"));
        let header = Header::read(&inherited).map_err(|_| bad("not a shmkit object"))?;
        let name = header
            .name
            .clone()
            .ok_or_else(|| bad("the object has no name"))?;
        let parsed = Name::parse(&name).map_err(|_| bad("the object's name is invalid"))?;
        let file = parsed.file_name();
        let st = sys::fstat(&inherited).map_err(|_| bad("cannot inspect it"))?;
        dir.enter()?;
        let fd = match sys::reopen(&inherited, oflags(write)) {
            Ok(fd) => {
                if sys::flock(&fd, FlockOperation::LockShared).is_err() {
                    dir.leave();
                    return Err(bad("cannot lock it"));
                }
                drop(inherited);
                fd
            }
            Err(_) => inherited,
        };
        Ok(Entry {
            fd,
            header,
            dir,
            file,
            owner: st.st_uid,
            pid: sys::pid(),
        })
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if self.pid != sys::pid() {
            return; // a forked copy: the parent's lock is not ours to convert
        }
        self.dir.leave();
        if self.header.persistent() {
            return;
        }
        if sys::flock(&self.fd, FlockOperation::NonBlockingLockExclusive).is_ok()
            && sys::linked_at(&self.fd, self.dir.fd.as_fd(), &self.file)
        {
            let _ = rustix::fs::unlinkat(&self.dir.fd, self.file.as_str(), AtFlags::empty());
        }
    }
}
