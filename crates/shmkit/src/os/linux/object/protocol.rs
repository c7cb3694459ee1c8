//! The lifetime protocol: the one create-or-open, open and close of every kind of named
//! object (mappings, sync objects, channels), which gives them the Windows lifetime
//! without a daemon, and the reclamation of objects whose holders died.
//!
//! An object is one file, `o.<encoded name>` (see `file_name`). Its first 64 KiB are the
//! header (see `header`; only the first pages are ever written, the rest is a hole); a
//! memory object's data follows at [`DATA_OFFSET`](super::DATA_OFFSET), so views stay on
//! the 64 KiB grid for every page size.
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

use super::access::check_file_backed;
use super::errors::{dead_foreign, kept_changing, no_space, open_error, wrong_kind};
use super::header::{Header, DATA_OFFSET};
use super::reclaim::reclaim;
use crate::error::{Error, ErrorKind, Result};
use crate::kind::Kind;
use crate::name::{quoted, Name};
use crate::os::imp::file_name::file_name;
use crate::os::imp::store::{self, NsDir};
use crate::os::imp::sys::{self, lock, Errno};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, OFlags};
use std::sync::Arc;

/// What a create call makes when the name is free.
pub(crate) struct NewObject<'a> {
    pub header: &'a Header,
    /// The length of the object file (header and data).
    pub file_len: u64,
    pub permissions: u32,
    pub exclusive: bool,
}

/// SPEC 2.1/2.2 and 7.5: the one create-or-open of every kind. Reclaims the objects of
/// dead processes, then loops: open the object of that name if there is one (refusing
/// another kind, an exclusive create and another user's object), else make one; a lost
/// race to link the name means another process made it first, so open theirs.
///
/// `init` finishes a new object's file before it gets its name (a sync object's state);
/// `lost_race` undoes what `init` did when another process linked the name first.
/// Returns the entry and whether the object already existed.
pub(crate) fn create_or_open(
    dir: &Arc<NsDir>,
    name: &Name,
    new: &NewObject<'_>,
    init: &mut dyn FnMut(&OwnedFd) -> Result<()>,
    lost_race: &mut dyn FnMut(),
) -> Result<(Entry, bool)> {
    let kind = new.header.kind.unwrap_or(Kind::Mapping);
    let what = crate::name::label(kind, Some(name.as_str()));
    reclaim(dir);
    for _ in 0..RETRIES {
        let entry = match open_entry(dir, name, true, "creating")? {
            Lookup::Live(entry) => entry,
            Lookup::DeadForeign { owner } => return Err(dead_foreign(name, kind, owner, "create")),
            Lookup::Missing => match create_entry(dir, name, new, init)? {
                Some(entry) => return Ok((entry, false)),
                None => {
                    // Another process linked the name first: open theirs.
                    lost_race();
                    continue;
                }
            },
        };
        check_kind(&entry, name, kind)?;
        if new.exclusive {
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
        return Ok((entry, true));
    }
    Err(kept_changing(name, "creating"))
}

/// SPEC 2.6 and 7.5: opens the existing object `name` of `kind` (NotFound, WrongType).
pub(crate) fn open(name: &Name, kind: Kind, write: bool) -> Result<Entry> {
    let what = crate::name::label(kind, Some(name.as_str()));
    let dir = store::ns_dir(name.namespace())?;
    reclaim(&dir);
    let entry = match open_entry(&dir, name, write, "opening")? {
        Lookup::Live(entry) => entry,
        Lookup::DeadForeign { owner } => return Err(dead_foreign(name, kind, owner, "open")),
        Lookup::Missing => {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("cannot open {what}: no object has that name"),
            ))
        }
    };
    check_kind(&entry, name, kind)?;
    Ok(entry)
}

/// SPEC 1.5: a name held by another kind is ERROR_INVALID_HANDLE.
fn check_kind(entry: &Entry, name: &Name, kind: Kind) -> Result<()> {
    if entry.header.kind == Some(kind) {
        return Ok(());
    }
    Err(wrong_kind(name, kind, entry.header.kind))
}

/// An open, share-locked object: the part of a handle that keeps the name alive.
pub(crate) struct Entry {
    pub fd: OwnedFd,
    pub header: Header,
    pub dir: Arc<NsDir>,
    pub file: String,
    /// The file's owner (its creator).
    pub owner: u32,
    /// The file's length when it was opened (the callers check it against the header,
    /// without another `fstat`).
    pub len: u64,
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

/// What a look-up of a name found.
pub(crate) enum Lookup {
    /// A live object, now held.
    Live(Entry),
    /// No object (or a stale one that has just been reclaimed).
    Missing,
    /// A stale object (every holder died) that this user may not remove: another user's,
    /// in the sticky Global directory. It is never handed out; only its owner or root can
    /// free the name.
    DeadForeign { owner: u32 },
}

/// Opens the object named `name`.
pub(crate) fn open_entry(dir: &Arc<NsDir>, name: &Name, write: bool, what: &str) -> Result<Lookup> {
    let file = file_name(name);
    dir.enter()?;
    let result = open_entry_inner(dir, name, &file, write, what);
    if !matches!(result, Ok(Lookup::Live(_))) {
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
) -> Result<Lookup> {
    for _ in 0..RETRIES {
        // The object file of a file-backed mapping is read-only (see `check_file_backed`):
        // a write open that is refused looks at it read-only to find out.
        let (fd, st, opened_for_write) =
            match sys::open_file_at(dir.fd.as_fd(), file, oflags(write)) {
                Ok((fd, st)) => (fd, st, write),
                Err(Errno::NOENT) => return Ok(Lookup::Missing),
                Err(e @ (Errno::ACCESS | Errno::PERM)) if write => {
                    match sys::open_file_at(dir.fd.as_fd(), file, oflags(false)) {
                        Ok((fd, st)) => (fd, st, false),
                        Err(Errno::ACCESS | Errno::PERM) => {
                            return refused(dir, file, e, name, what, write)
                        }
                        Err(Errno::NOENT) => return Ok(Lookup::Missing),
                        // What the entry is (a FIFO, say) is the reason, not the
                        // permissions that refused the write open first.
                        Err(e) => return Err(open_error(e, name, what, write)),
                    }
                }
                Err(e @ (Errno::ACCESS | Errno::PERM)) => {
                    return refused(dir, file, e, name, what, write)
                }
                Err(e) => return Err(open_error(e, name, what, write)),
            };
        // Nobody holds it: it is stale or persistent. Decide under the write lock, so that
        // no opener slips in meanwhile; a process that cannot write the file cannot take
        // it, and leaves a stale object to those who can.
        let unheld = !lock::held_by_others(&fd).map_err(|e| open_error(e, name, what, write))?;
        let mut exclusive = None;
        if unheld {
            match exclude(&fd, opened_for_write) {
                Ok(w) => exclusive = Some(w),
                Err(Errno::AGAIN) => continue, // someone took it meanwhile: look again
                Err(_) => {}
            }
        } else {
            hold(&fd, name, what)?;
        }
        if unheld && exclusive.is_none() {
            // Stale or persistent, and this process may not decide which for others.
            let persistent = Header::read(&fd).is_ok_and(|h| h.persistent());
            if !persistent {
                return Ok(Lookup::DeadForeign { owner: st.st_uid });
            }
            hold(&fd, name, what)?;
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
        match &header.backing {
            None if opened_for_write != write => {
                return Err(open_error(Errno::ACCESS, name, what, write));
            }
            None => {}
            Some(_) => check_file_backed(&header, &st, write, name, what)?,
        }
        if header.name.as_deref() != Some(name.full().as_str()) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what} {name:?}: {} holds {}, not this name; refusing it",
                    dir.path.join(file).display(),
                    quoted(header.name.as_deref().unwrap_or(""))
                ),
            ));
        }
        if let Some(w) = exclusive {
            if !header.persistent() {
                // Every holder died: reclaim it (SPEC 5.3). Another user's stale object in
                // the sticky Global directory cannot be unlinked by us: it is never handed
                // out, and the caller reports it.
                let gone = rustix::fs::unlinkat(&dir.fd, file, AtFlags::empty());
                drop(w);
                return Ok(match gone {
                    Err(Errno::PERM | Errno::ACCESS) => Lookup::DeadForeign { owner: st.st_uid },
                    _ => Lookup::Missing,
                });
            }
            // Persistent: hold it like any opener.
            match w {
                Exclusive::Same => {
                    lock::share(&fd).map_err(|e| open_error(e, name, what, write))?
                }
                Exclusive::Other(w) => {
                    drop(w);
                    hold(&fd, name, what)?
                }
            }
            if !sys::linked_at(&fd, dir.fd.as_fd(), file) {
                continue;
            }
        }
        return Ok(Lookup::Live(Entry {
            fd,
            header,
            dir: dir.clone(),
            file: file.to_owned(),
            owner: st.st_uid,
            len: st.st_size as u64,
            pid: sys::pid(),
        }));
    }
    Err(kept_changing(name, what))
}

/// An object file this process may not open at all. If only its owner (and root) may
/// open it and none of their processes holds handles in the namespace any more, it is
/// dead (SPEC 5.3): reported as such, not as an object the permissions refuse.
fn refused(
    dir: &NsDir,
    file: &str,
    e: Errno,
    name: &Name,
    what: &str,
    write: bool,
) -> Result<Lookup> {
    if let Ok(st) = rustix::fs::statat(&dir.fd, file, AtFlags::SYMLINK_NOFOLLOW) {
        let owner_only = st.st_mode & 0o077 == 0;
        if owner_only && st.st_mode & 0o170000 == 0o100000 {
            let live = dir.live_users();
            if !live.contains(&st.st_uid) && !live.contains(&0) {
                return Ok(Lookup::DeadForeign { owner: st.st_uid });
            }
        }
    }
    Err(open_error(e, name, what, write))
}

/// Which description holds the write lock taken to decide an unheld object's fate.
enum Exclusive {
    /// The description that was opened (it was writable).
    Same,
    /// A second, writable description of the file, closed when dropped.
    Other(#[allow(dead_code)] OwnedFd),
}

/// Takes the write lock on the file of `fd`: through `fd` when it is writable, else
/// through a new writable description (`ACCESS` when this process may not write it).
fn exclude(fd: &OwnedFd, writable: bool) -> std::result::Result<Exclusive, Errno> {
    if writable {
        return lock::exclude(fd).map(|()| Exclusive::Same);
    }
    let w = sys::reopen(fd, OFlags::RDWR)?;
    lock::exclude(&w)?;
    Ok(Exclusive::Other(w))
}

/// How long an open waits for another process's write lock (a closer's or a reclaimer's
/// moment) before it reports the object as busy. Only a process that may write the object
/// can hold that lock, so a reader can never make anyone wait.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Holds the object (the read lock every handle keeps), waiting at most [`LOCK_WAIT`].
fn hold(fd: &OwnedFd, name: &Name, what: &str) -> Result<()> {
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_micros(20);
    loop {
        match lock::share(fd) {
            Ok(()) => return Ok(()),
            Err(Errno::AGAIN) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(5));
            }
            Err(Errno::AGAIN) => {
                return Err(Error::new(
                    ErrorKind::Busy,
                    format!(
                        "{what} {name:?}: another process with write access has held it \
                         locked for {LOCK_WAIT:?}; try again"
                    ),
                ))
            }
            Err(e) => return Err(open_error(e, name, what, false)),
        }
    }
}

/// How many times a look-up or a create starts again after the object changed under it
/// (closed, reclaimed, or made by another process) before it gives up.
const RETRIES: usize = 10_000;

/// Creates the object `name`: the file is complete (size, committed memory, header, mode,
/// and `init`) before it gets its name. `Ok(None)` when the name is taken.
fn create_entry(
    dir: &Arc<NsDir>,
    name: &Name,
    new: &NewObject<'_>,
    init: &mut dyn FnMut(&OwnedFd) -> Result<()>,
) -> Result<Option<Entry>> {
    dir.enter()?;
    let result = create_entry_inner(dir, name, new, init);
    if !matches!(result, Ok(Some(_))) {
        dir.leave();
    }
    result
}

fn create_entry_inner(
    dir: &Arc<NsDir>,
    name: &Name,
    new: &NewObject<'_>,
    init: &mut dyn FnMut(&OwnedFd) -> Result<()>,
) -> Result<Option<Entry>> {
    let what = "creating";
    let header = new.header;
    let fail = |e: Errno| Error::from_io(e.into(), format!("{what} {name:?}"));
    let memory = header.backing.is_none();
    // What the store must hold: a memory object's data, else the object file itself (a
    // sync object's page, a file-backed mapping's header), for the messages.
    let bytes = if memory && header.size > 0 {
        header.size
    } else {
        new.file_len
    };
    if memory {
        sys::check_commit(Some(dir.fd.as_fd()), header.size)
            .map_err(|e| no_space(e, name, bytes, what))?;
    }
    let fd = sys::tmpfile_in(&dir.fd, new.permissions).map_err(fail)?;
    if memory && new.file_len == DATA_OFFSET + header.size && header.size > 0 {
        // fallocate extends the file to the end of the committed range.
        sys::commit(&fd, DATA_OFFSET, header.size).map_err(|e| no_space(e, name, bytes, what))?;
    } else {
        rustix::fs::ftruncate(&fd, new.file_len).map_err(fail)?;
        if memory {
            sys::commit(&fd, DATA_OFFSET, header.size)
                .map_err(|e| no_space(e, name, bytes, what))?;
        }
    }
    header
        .write(&fd)
        .map_err(|e| no_space(e, name, bytes, what))?;
    init(&fd)?;
    lock::share(&fd).map_err(fail)?;
    let file = file_name(name);
    match sys::link_tmpfile(&fd, &dir.fd, &file) {
        Ok(()) => Ok(Some(Entry {
            fd,
            header: header.clone(),
            dir: dir.clone(),
            file,
            owner: dir.uid,
            len: new.file_len,
            pid: sys::pid(),
        })),
        Err(Errno::EXIST) => Ok(None),
        Err(e) => Err(no_space(e, name, bytes, what)),
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
            len: like.len,
            pid: sys::pid(),
        }
    }

    /// Re-locks the object through a new open file description: a second, independent
    /// hold on the name (for a child to inherit).
    pub(crate) fn duplicate(&self, write: bool) -> std::result::Result<OwnedFd, Errno> {
        // A file-backed object's file is read-only; its data is in the backing file.
        let fd = sys::reopen(&self.fd, oflags(write && self.header.backing.is_none()))?;
        // This description holds the object, so no write lock can be in the way.
        lock::share(&fd)?;
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
        let parsed = Name::parse_full(&name).map_err(|_| bad("the object's name is invalid"))?;
        let file = file_name(&parsed);
        let st = sys::fstat(&inherited).map_err(|_| bad("cannot inspect it"))?;
        dir.enter()?;
        let write = write && header.backing.is_none();
        let fd = match sys::reopen(&inherited, oflags(write)) {
            Ok(fd) => {
                if lock::share(&fd).is_err() {
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
            len: st.st_size as u64,
            pid: sys::pid(),
        })
    }

    /// The last handle removes the name (SPEC 5.1). The write lock both tells that no
    /// other description holds the object and keeps openers out while the name goes.
    fn remove_name_if_last(&self) {
        let _w = match lock::exclude(&self.fd) {
            Ok(()) => None,
            Err(Errno::AGAIN) => {
                self.dir.note_closed_while_held(&self.file);
                return;
            }
            Err(Errno::BADF) => {
                // A read-only description: probe first, then lock through a writable one
                // (a process that may not write the object leaves it to reclamation).
                if lock::held_by_others(&self.fd) != Ok(false) {
                    self.dir.note_closed_while_held(&self.file);
                    return;
                }
                let Ok(w) = sys::reopen(&self.fd, OFlags::RDWR) else {
                    return;
                };
                let _ = lock::release(&self.fd);
                if lock::exclude(&w).is_err() {
                    return;
                }
                Some(w)
            }
            Err(_) => return,
        };
        if sys::linked_at(&self.fd, self.dir.fd.as_fd(), &self.file) {
            let _ = rustix::fs::unlinkat(&self.dir.fd, self.file.as_str(), AtFlags::empty());
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if self.pid != sys::pid() {
            return; // a forked copy: the parent's lock is not ours to touch
        }
        self.dir.leave();
        if !self.header.persistent() {
            self.remove_name_if_last();
        }
        // The description may outlive its descriptor (a view or a kept mutex page maps
        // it): its lock must not, or it would hold the name for them (SPEC 5.2: a view
        // keeps the memory, not the name).
        let _ = lock::release(&self.fd);
    }
}

/// Removes a persistent object's name (SPEC 5.4).
pub(crate) fn remove(name: &Name, kind: Kind) -> Result<()> {
    let what = crate::name::label(kind, Some(name.as_str()));
    let dir = store::ns_dir(name.namespace())?;
    reclaim(&dir);
    let file = file_name(name);
    let fd = match sys::open_file_at(dir.fd.as_fd(), &file, OFlags::RDONLY) {
        Ok((fd, _)) => fd,
        Err(Errno::NOENT) => {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("cannot remove {what}: no object has that name"),
            ))
        }
        Err(e) => return Err(Error::from_io(e.into(), format!("cannot remove {what}"))),
    };
    let header = Header::read(&fd).map_err(|_| {
        Error::new(
            ErrorKind::PermissionDenied,
            format!("cannot remove {what}: not a shmkit object"),
        )
    })?;
    if header.kind != Some(kind) {
        return Err(wrong_kind(name, kind, header.kind));
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
        e => Error::from_io(e.into(), format!("cannot remove {what}")),
    })
}
