//! Reclamation (SPEC 5.3): the objects whose every holder died are unlinked by the next
//! operation in their namespace that finds a dead process's lease, or by an explicit
//! garbage-collection pass; and an object that a process closed while another
//! description still held it is looked at again by that process's next operation.

use super::header::Header;
use crate::kind::Kind;
use crate::name::Name;
use crate::os::imp::file_name::{file_name, HASHED_PREFIX, OBJECT_PREFIX};
use crate::os::imp::store::NsDir;
use crate::os::imp::sys::{self, lock};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, OFlags};

/// SPEC 5.3: reclaims the objects of dead processes in `dir`, if any process died since
/// the last check.
pub(crate) fn reclaim(dir: &NsDir) {
    // Objects this process closed while a description was still held (maybe only by a
    // fork of its own, since exec'd): removed now if nobody holds them any more.
    let pending = dir.take_pending();
    if !pending.is_empty() {
        reclaim_stale_objects(dir.fd.as_fd(), &pending, false);
    }
    let dead = dir.dead_leases();
    if dead.is_empty() {
        return;
    }
    if let Ok(names) = sys::read_dir_names(dir.fd.as_fd()) {
        reclaim_stale_objects(dir.fd.as_fd(), &names, false);
    }
    dir.remove_leases(&dead);
}

/// Reclaims (or, with `dry_run`, lists) every non-persistent object in `dir` that no
/// process holds. Returns what it found.
pub(crate) fn reclaim_stale_objects(
    dir: BorrowedFd<'_>,
    names: &[String],
    dry_run: bool,
) -> Vec<Reclaimed> {
    let mut out = Vec::new();
    for n in names {
        if !(n.starts_with(OBJECT_PREFIX) || n.starts_with(HASHED_PREFIX)) {
            continue;
        }
        // Only a regular file, never through a symbolic link, and without blocking.
        let Ok((fd, st)) = sys::open_file_at(dir, n, OFlags::RDONLY) else {
            continue;
        };
        if lock::held_by_others(&fd) != Ok(false) {
            continue; // held: alive
        }
        // Decide under the write lock, so that no opener slips in; a process that may not
        // write the object leaves it to those who may.
        let Ok(w) = sys::reopen(&fd, OFlags::RDWR) else {
            continue;
        };
        if lock::exclude(&w).is_err() {
            continue;
        }
        let Ok(header) = Header::read(&fd) else {
            continue; // not ours: leave it alone
        };
        // Only an object whose header names this very file is ours to reclaim.
        let file_matches = header
            .name
            .as_deref()
            .and_then(|name| Name::parse_full(name).ok())
            .is_some_and(|name| file_name(&name) == *n);
        if !file_matches || header.persistent() || !sys::linked_at(&fd, dir, n) {
            continue;
        }
        if dry_run || rustix::fs::unlinkat(dir, n.as_str(), AtFlags::empty()).is_ok() {
            out.push(Reclaimed {
                file: n.clone(),
                name: header.name.clone(),
                size: header.size,
                kind: header.kind,
                owner: st.st_uid,
            });
        }
    }
    out
}

/// What a reclamation pass found or freed.
#[derive(Debug, Clone)]
pub(crate) struct Reclaimed {
    pub file: String,
    pub name: Option<String>,
    pub size: u64,
    pub kind: Option<Kind>,
    /// The owner of the object file.
    pub owner: u32,
}
