//! Leases: how any process learns that another died, maybe holding objects. See the
//! parent module's doc for the protocol.

use super::{NsDir, CACHE, LEASE_PREFIX};
use crate::error::{Error, Result};
use crate::os::imp::sys::{self, Errno};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::AtFlags;
use std::sync::atomic::Ordering;

/// What this process knows of another lease of the namespace.
pub(super) enum Other {
    /// A live process's lease, kept open so that checking it again is one lock probe.
    Alive(OwnedFd),
    /// A dead lease (or a file that only looks like one) whose objects were reclaimed
    /// but which this process could not remove (another user's, in the sticky Global
    /// directory): it costs nothing more, instead of a reclamation pass at every
    /// operation.
    Spent,
}

pub(super) struct Lease {
    pid: u32,
    file: String,
    _fd: OwnedFd,
    /// Children hold objects of the namespace through descriptors this process handed
    /// them, and the lease's lock with them: it must outlive this process.
    lent: bool,
}

impl NsDir {
    /// Called before the process takes a handle here: makes sure it has a lease.
    pub(crate) fn enter(&self) -> Result<()> {
        let pid = sys::pid();
        let mut lease = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        if lease.as_ref().map(|l| l.pid) != Some(pid) {
            // A forked child keeps the parent's lease file descriptor open (so the
            // parent's lease stays locked while the child lives) but needs its own.
            if let Some(old) = lease.take() {
                std::mem::forget(old._fd);
            }
            *lease = Some(self.make_lease(pid)?);
            self.handles.store(0, Ordering::SeqCst);
        }
        self.handles.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Called when this process hands a hold on one of the namespace's objects to child
    /// processes (SPEC 5.3: a child that ends as the object's last holder must leave a
    /// dead lease behind, though it may never have used shmkit itself). The child gets
    /// the lease's lock with the object: the lease lives as long as this process or any
    /// such child. For `one_child`, returns a descriptor of the lease to pass to it; else
    /// every child started from now on inherits the lease (an inheritable handle).
    pub(crate) fn lend_lease(
        &self,
        one_child: bool,
    ) -> std::result::Result<Option<OwnedFd>, Errno> {
        let pid = sys::pid();
        let mut lease = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        let Some(l) = lease.as_mut().filter(|l| l.pid == pid) else {
            return Ok(None); // no lease of ours: nothing held here by this process
        };
        let dup = if one_child {
            Some(rustix::io::fcntl_dupfd_cloexec(&l._fd, 0)?)
        } else {
            rustix::io::fcntl_setfd(&l._fd, rustix::io::FdFlags::empty())?;
            None
        };
        l.lent = true;
        Ok(dup)
    }

    /// Called when a handle of this process closes.
    pub(crate) fn leave(&self) {
        let _ = self
            .handles
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    fn make_lease(&self, pid: u32) -> Result<Lease> {
        // Readable by everyone, so that any process can tell whether its owner lives (the
        // write lock below, which only the owner can hold).
        let fd = sys::tmpfile_in(&self.fd, 0o644).map_err(|e| {
            Error::from_io(
                e.into(),
                format!("cannot create a lease in {}", self.path.display()),
            )
        })?;
        sys::lock::exclude(&fd).map_err(|e| Error::from_io(e.into(), "cannot lock a lease"))?;
        loop {
            let file = format!("{LEASE_PREFIX}{pid}.{:016x}", sys::nonce());
            match sys::link_tmpfile(&fd, &self.fd, &file) {
                Ok(()) => {
                    return Ok(Lease {
                        pid,
                        file,
                        _fd: fd,
                        lent: false,
                    })
                }
                Err(Errno::EXIST) => continue,
                Err(e) => {
                    return Err(Error::from_io(
                        e.into(),
                        format!("cannot create a lease in {}", self.path.display()),
                    ))
                }
            }
        }
    }

    fn own_lease(&self) -> Option<String> {
        let lease = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        lease
            .as_ref()
            .filter(|l| l.pid == sys::pid())
            .map(|l| l.file.clone())
    }

    /// The leases of processes that died since the last check (SPEC 5.3: their objects
    /// may be stale). Cheap when nobody died: one directory read and a lock probe per
    /// other live process.
    pub(crate) fn dead_leases(&self) -> Vec<String> {
        let own = self.own_lease();
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        // The scan reads through the shared directory descriptor from offset 0; the lock
        // above keeps other threads' scans off its position.
        let Ok(leases) = sys::lease_names(self.fd.as_fd(), LEASE_PREFIX) else {
            return Vec::new();
        };
        others.retain(|name, _| leases.contains(name));
        let mut dead = Vec::new();
        for name in leases.into_iter().filter(|n| Some(n) != own.as_ref()) {
            let alive = match others.get(&name) {
                Some(Other::Alive(fd)) => !owner_died(fd),
                Some(Other::Spent) => continue,
                None => match sys::open_lease(self.fd.as_fd(), &name) {
                    // Only a regular file can be a lease; anything else is junk that
                    // another user left, worth this one probe and no more.
                    Ok(fd)
                        if !sys::fstat(&fd).is_ok_and(|st| st.st_mode & 0o170000 == 0o100000) =>
                    {
                        others.insert(name, Other::Spent);
                        continue;
                    }
                    Ok(fd) => {
                        let alive = !owner_died(&fd);
                        if alive {
                            others.insert(name.clone(), Other::Alive(fd));
                        }
                        alive
                    }
                    Err(_) => true, // gone meanwhile: its owner removed it
                },
            };
            if !alive {
                others.remove(&name);
                dead.push(name);
            }
        }
        dead
    }

    /// The users who have a live process holding handles in the namespace (the owners of
    /// its live leases), this one included. One probe per lease: for the rare question of
    /// whether an object nobody else may open can still be held.
    pub(crate) fn live_users(&self) -> std::collections::HashSet<u32> {
        let mut users = std::collections::HashSet::from([self.uid]);
        let _others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(leases) = sys::lease_names(self.fd.as_fd(), LEASE_PREFIX) else {
            return users;
        };
        for name in leases {
            let Ok(fd) = sys::open_lease(self.fd.as_fd(), &name) else {
                continue;
            };
            match sys::fstat(&fd) {
                Ok(st) if st.st_mode & 0o170000 == 0o100000 && !owner_died(&fd) => {
                    users.insert(st.st_uid);
                }
                _ => {}
            }
        }
        users
    }

    /// Removes the leases `dead` (after their objects were reclaimed).
    pub(crate) fn remove_leases(&self, dead: &[String]) {
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        for n in dead {
            match rustix::fs::unlinkat(&self.fd, n.as_str(), AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => {}
                // Not ours to remove: remember it, so that it triggers no further pass.
                Err(_) => {
                    others.insert(n.clone(), Other::Spent);
                }
            }
        }
    }
}

/// Only a regular file can be a lease: anything else under a lease's name (a FIFO, a
/// directory) is junk that another user left, and no lease of a dead process.
fn lease_is_dead(dir: BorrowedFd<'_>, name: &str) -> bool {
    sys::open_lease(dir, name).is_ok_and(|fd| {
        sys::fstat(&fd).is_ok_and(|st| st.st_mode & 0o170000 == 0o100000) && owner_died(&fd)
    })
}

/// A lease's owner holds its write lock for life (an OFD lock, shared with every process
/// that inherited the lease): it is unlocked only once they are all gone. Others only
/// probe it; a read lock, which anyone may take, does not make a dead lease look alive.
fn owner_died(lease: impl AsFd) -> bool {
    sys::lock::write_locked(lease) == Ok(false)
}

/// Removes dead leases in `dir` (after their objects were reclaimed).
pub(crate) fn remove_dead_leases(dir: BorrowedFd<'_>, names: &[String], dry_run: bool) -> usize {
    let mut n = 0;
    for name in names.iter().filter(|n| n.starts_with(LEASE_PREFIX)) {
        if lease_is_dead(dir, name)
            && (dry_run || rustix::fs::unlinkat(dir, name.as_str(), AtFlags::empty()).is_ok())
        {
            n += 1;
        }
    }
    n
}

pub(super) extern "C" fn remove_leases_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let Some(cache) = CACHE.get() else { return };
        let Ok(map) = cache.try_lock() else { return };
        let pid = sys::pid();
        for dir in map.values() {
            if dir.handles.load(Ordering::SeqCst) != 0 {
                continue; // the lease must outlive us: our objects may be stale
            }
            if let Ok(lease) = dir.lease.try_lock() {
                // A lent lease stays: it dies with the last child holding it, and then
                // tells the namespace to reclaim what that child held.
                if let Some(l) = lease.as_ref().filter(|l| l.pid == pid && !l.lent) {
                    let _ = rustix::fs::unlinkat(&dir.fd, l.file.as_str(), AtFlags::empty());
                }
            }
        }
    });
}
