//! Mapping handles on Linux: a memory object's data lives in its own object file (after
//! the header), a file-backed object's in the caller's file, an unnamed object's in a
//! memfd. Creation and lifetime are the object protocol's (`object`).

use super::backing::{open_backing, FileSource};
use super::inherit::{self, InheritableFd, Offered};
use super::object::{self, Entry, Header, NewObject, DATA_OFFSET, FLAG_FILE, FLAG_PERSISTENT};
use super::store;
use super::sys::{self, Errno};
use super::view::RawView;
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Kind, Protection};
use crate::name::{label, Name};
use crate::os::CreateRequest;
use crate::token::{Origin, Token};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::mm::{MapFlags, ProtFlags};
use std::io;
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
    /// A second hold for children to inherit (`inheritable(true)`). Declared before
    /// `entry`, so that it closes first: the close protocol must not count it as another
    /// holder.
    inheritable: Option<InheritableFd>,
    /// The hold on the name, for named objects.
    entry: Option<Entry>,
    persistent: bool,
}

fn what(name: Option<&Name>) -> String {
    label(Kind::Mapping, name.map(Name::as_str))
}

fn sys_err(e: Errno, what: &str) -> Error {
    Error::from_io(e.into(), what.to_owned())
}

/// SPEC 2.1/2.2: create-or-open (or create-new).
pub(crate) fn create(req: &CreateRequest<'_>) -> Result<(Handle, bool)> {
    let what = what(req.name);
    let source = req
        .file
        .map(|f| FileSource::check(f, req.size, req.protection, &what))
        .transpose()?;
    let Some(name) = req.name else {
        return Ok((unnamed(req, source, &what)?, false));
    };
    let dir = store::ns_dir(name.namespace())?;
    let mut header = Header::new(Kind::Mapping, name, req.size, dir.uid);
    header.protection = req.protection;
    if req.persistent {
        header.flags |= FLAG_PERSISTENT;
    }
    let file_len = match &source {
        Some(src) => {
            header.flags |= FLAG_FILE;
            header.size = src.size;
            header.backing = Some(src.backing(dir.uid, &what)?);
            header.mode = req.permissions;
            // The header page and the page that holds the backing file's path.
            2 * 4096
        }
        None => DATA_OFFSET + req.size,
    };
    let new = NewObject {
        header: &header,
        file_len,
        // A file-backed object's file is writable by its owner only: its header names the
        // file every opener maps (see `object::protocol`).
        permissions: if source.is_some() {
            (req.permissions & 0o444) | 0o200
        } else {
            req.permissions
        },
        exclusive: req.exclusive,
    };
    // SPEC 3.2: the caller's file grows only for an object that is made over it, never
    // for a create that finds the name taken.
    let mut grow = |_: &OwnedFd| source.as_ref().map_or(Ok(()), |src| src.grow(&what));
    let (entry, existed) = object::create_or_open(&dir, name, &new, &mut grow, &mut || {})?;
    if existed {
        return Ok((from_entry(entry, Access::ReadWrite, req.inheritable)?, true));
    }
    let (data, data_offset) = match source {
        Some(src) => (Some(src.fd), 0),
        None => (None, DATA_OFFSET),
    };
    let mut handle = Handle {
        data,
        data_offset,
        size: header.size,
        access: Access::ReadWrite,
        protection: req.protection,
        entry: Some(entry),
        inheritable: None,
        persistent: req.persistent,
    };
    if req.inheritable {
        handle.make_inheritable(&what)?;
    }
    Ok((handle, false))
}

fn unnamed(req: &CreateRequest<'_>, source: Option<FileSource>, what: &str) -> Result<Handle> {
    let (data, size) = match source {
        Some(src) => {
            src.grow(what)?;
            (src.fd, src.size)
        }
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
    let mut handle = Handle::over_fd(data, size, Access::ReadWrite, req.protection, false);
    if req.inheritable {
        handle.make_inheritable(what)?;
    }
    Ok(handle)
}

/// Builds a handle over an open entry (its lock is the hold on the name).
fn from_entry(entry: Entry, access: Access, inheritable: bool) -> Result<Handle> {
    let h = &entry.header;
    let what = what(
        h.name
            .as_deref()
            .and_then(|n| Name::parse_full(n).ok())
            .as_ref(),
    );
    let (data, data_offset) = match &h.backing {
        None => {
            // A file shorter than its header says (truncated, or forged with a larger
            // size) would fault on access: refuse it here. A file that shrinks later is
            // caught by the views' guarded copies.
            let len = entry.len;
            if DATA_OFFSET
                .checked_add(h.size)
                .is_none_or(|need| len < need)
            {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "{what}: its file in the store has {len} bytes, fewer than its header's \
                         {} (truncated or forged); refusing it",
                        h.size
                    ),
                ));
            }
            (None, DATA_OFFSET)
        }
        Some(b) => (
            Some(open_backing(
                b,
                entry.owner,
                access.writes_through(),
                &what,
            )?),
            0,
        ),
    };
    let mut handle = Handle {
        data,
        data_offset,
        size: h.size,
        access,
        protection: h.protection,
        persistent: h.persistent(),
        entry: Some(entry),
        inheritable: None,
    };
    if inheritable {
        handle.make_inheritable(&what)?;
    }
    Ok(handle)
}

/// SPEC 2.6: open an existing object by name.
pub(crate) fn open(name: &Name, access: Access) -> Result<Handle> {
    let write = access.writes_through();
    let entry = object::open(name, Kind::Mapping, write)?;
    if write && entry.header.protection != Protection::ReadWrite {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot open {} for writing: the object is not read-write",
                what(Some(name))
            ),
        ));
    }
    from_entry(entry, access, false)
}

/// Removes a persistent object's name (SPEC 5.4).
pub(crate) fn remove(name: &Name) -> Result<()> {
    object::remove(name, Kind::Mapping)
}

impl Handle {
    /// A handle over a descriptor that holds no name (unnamed and POSIX objects).
    pub(crate) fn over_fd(
        data: OwnedFd,
        size: u64,
        access: Access,
        protection: Protection,
        persistent: bool,
    ) -> Handle {
        Handle {
            data: Some(data),
            data_offset: 0,
            size,
            access,
            protection,
            entry: None,
            inheritable: None,
            persistent,
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
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
    pub(crate) fn name(&self) -> Option<String> {
        self.entry.as_ref().and_then(|e| e.header.name.clone())
    }

    fn data_fd(&self) -> rustix::fd::BorrowedFd<'_> {
        match (&self.data, &self.entry) {
            (Some(fd), _) => fd.as_fd(),
            (None, Some(entry)) => entry.fd.as_fd(),
            (None, None) => unreachable!("a handle without data is a memory object with an entry"),
        }
    }

    fn make_inheritable(&mut self, what: &str) -> Result<()> {
        let fd = self.fresh_hold().map_err(|e| sys_err(e, what))?;
        let dir = self.entry.as_ref().map(|e| &*e.dir);
        self.inheritable = Some(inherit::lend_to_children(dir, fd).map_err(|e| sys_err(e, what))?);
        Ok(())
    }

    /// A new open file description of the object with its own hold on the name.
    fn fresh_hold(&self) -> std::result::Result<OwnedFd, Errno> {
        let write = self.access.writes_through();
        match &self.entry {
            Some(entry) if entry.header.backing.is_none() => entry.duplicate(write),
            _ => sys::reopen(self.data_fd(), object::oflags(write)),
        }
    }

    fn token_for(&self, fd: i32) -> Token {
        let origin = match &self.entry {
            Some(e) if e.header.backing.is_some() => Origin::File,
            Some(_) if self.persistent => Origin::Persistent,
            Some(_) => Origin::Named,
            None => Origin::Unnamed,
        };
        Token {
            kind: Kind::Mapping,
            origin,
            handle: fd as u64,
            process: None,
            access: self.access,
            protection: self.protection,
            size: self.size,
            name: self.name(),
        }
    }

    /// The token that names this handle's inheritable descriptor in a child.
    pub(crate) fn inherit_token(&self) -> Option<Token> {
        self.inheritable
            .as_ref()
            .map(|fd| self.token_for(fd.as_raw_fd()))
    }

    /// Hands a fresh, independent handle to the child that `cmd` will start; returns the
    /// token the child passes to `from_inherited`.
    pub(crate) fn share_with(&self, cmd: &mut Command) -> Result<Token> {
        let what = "sharing a mapping with a child process";
        let fd = self.fresh_hold().map_err(|e| sys_err(e, what))?;
        let token = self.token_for(fd.as_raw_fd());
        let dir = self.entry.as_ref().map(|e| &*e.dir);
        inherit::hand_to_child(dir, cmd, fd).map_err(|e| sys_err(e, what))?;
        Ok(token)
    }

    pub(crate) fn from_inherited(token: &Token) -> Result<Handle> {
        let offered = Offered::take(token)?;
        let Ok(st) = sys::fstat(&offered) else {
            return offered.refuse("cannot inspect it");
        };
        if st.st_mode & 0o170000 != 0o100000 {
            return offered.refuse("not a shared-memory object");
        }
        if token.origin == Origin::Unnamed {
            if (st.st_size as u64) < token.size {
                return offered.refuse("the object is smaller than the token says");
            }
            let fd = offered.accept();
            let _ = rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC);
            return Ok(Handle::over_fd(
                fd,
                token.size,
                token.access,
                token.protection,
                false,
            ));
        }
        let header = match Header::read(&offered) {
            Ok(h) if h.kind == Some(Kind::Mapping) && h.size == token.size => h,
            _ => return offered.refuse("not a shmkit mapping of that size"),
        };
        let Some(name) = header
            .name
            .as_deref()
            .and_then(|n| Name::parse_full(n).ok())
        else {
            return offered.refuse("the object has no name");
        };
        if token.name.as_deref().is_some_and(|n| n != name.full()) {
            return offered.refuse("the object is not the one the token names");
        }
        let dir = store::ns_dir(name.namespace())?;
        let entry = Entry::adopt(offered.accept(), dir, token.access.writes_through())?;
        from_entry(entry, token.access, false)
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
                    .duplicate(self.access.writes_through())
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
    pub(crate) fn map(&self, offset: u64, len: usize, access: Access) -> io::Result<RawView> {
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
            damaged: Default::default(),
        })
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
        let header = Header::new(Kind::Event, &name, 0, dir.uid);
        let new = NewObject {
            header: &header,
            file_len: DATA_OFFSET,
            permissions: 0o600,
            exclusive: true,
        };
        let (held, existed) =
            object::create_or_open(&dir, &name, &new, &mut |_| Ok(()), &mut || {}).unwrap();
        assert!(!existed, "fresh name");
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
