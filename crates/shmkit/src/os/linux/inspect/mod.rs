//! Inspection of the store, for the public `inspect` module: which objects exist, which
//! processes hold them, and garbage collection.
//!
//! Holders come from `/proc`: a process holds a handle when one of its descriptors
//! (`/proc/PID/fd`) is the object file, and a view when one of its mappings
//! (`/proc/PID/maps`) is of the object file or of a file-backed object's backing file.
//! Files are matched by device and inode, never by path, so renames and look-alike
//! paths cannot fool the match. Processes whose entries this process may not read are
//! skipped: their holds are invisible, not an error.

use super::file_name::{decode_file_name, file_name, HASHED_PREFIX, OBJECT_PREFIX};
use super::object::{self, Header};
use super::store::{self, NsDir};
use super::sys::{self, Errno};

mod holders;
use crate::error::{Error, ErrorKind, Result};
use crate::kind::Kind;
use crate::name::{quoted, Name, Namespace};
use crate::os::{Found, Garbage};
pub(crate) use holders::{command, holders};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{AtFlags, OFlags};
use std::sync::Arc;

/// The identity of a file: its device and inode numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// The files of one object: the object file, and a file-backed mapping's backing file.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    pub file: FileId,
    pub backing: Option<FileId>,
}

/// Why a directory entry is not listed.
enum Skip {
    Missing,
    /// Non-persistent and held by nobody: its holders died; it awaits reclamation.
    Stale,
    Denied,
    /// Not a shmkit object, or one whose header does not match its file name.
    Foreign,
    Other(Errno),
}

/// The current user's directory of `ns`, checked as every operation checks it; `None`
/// when it does not exist (inspection never creates it).
fn own_ns_dir(ns: Namespace) -> Result<Option<Arc<NsDir>>> {
    if store::existing_ns_dir(ns, sys::euid())?.is_none() {
        return Ok(None);
    }
    store::ns_dir(ns).map(Some)
}

/// The current user's namespace directories that exist, Local first.
fn own_ns_dirs() -> Result<Vec<(Namespace, Arc<NsDir>)>> {
    let mut dirs = Vec::new();
    for ns in [Namespace::Local, Namespace::Global] {
        dirs.extend(own_ns_dir(ns)?.map(|dir| (ns, dir)));
    }
    Ok(dirs)
}

/// Every live object the current user may see: all of its `Local\` objects and its own
/// `Global\` ones; with `all_users`, every readable `Global\` object and the `Local\`
/// objects of other users whose directories this process may read (root's privilege).
/// Runs the dead-process reclamation of the user's namespaces first.
pub(crate) fn list(all_users: bool) -> Result<Vec<Found>> {
    let uid = sys::euid();
    let mut out = Vec::new();
    for (ns, dir) in own_ns_dirs()? {
        object::reclaim(&dir);
        let everyone = ns == Namespace::Local || all_users;
        scan(dir.fd.as_fd(), ns, &mut out, |owner| {
            everyone || owner == uid
        });
    }
    if all_users {
        for other in store::local_dir_uids()? {
            if other == uid {
                continue;
            }
            // 0700 directories of other users: readable by root only. Others are skipped.
            if let Ok(Some((_, fd))) = store::existing_ns_dir(Namespace::Local, other) {
                scan(fd.as_fd(), Namespace::Local, &mut out, |_| true);
            }
        }
    }
    out.sort_by(|a, b| (a.namespace, &a.name, a.owner).cmp(&(b.namespace, &b.name, b.owner)));
    Ok(out)
}

fn scan(dir: BorrowedFd<'_>, ns: Namespace, out: &mut Vec<Found>, keep: impl Fn(u32) -> bool) {
    let Ok(names) = sys::read_dir_names(dir) else {
        return;
    };
    for file in &names {
        if !(file.starts_with(OBJECT_PREFIX) || file.starts_with(HASHED_PREFIX)) {
            continue;
        }
        if let Ok(found) = examine(dir, ns, file) {
            if keep(found.owner) {
                out.push(found);
            }
        }
    }
}

/// Reads one object file: its header, owner and mode. A stale object counts as missing,
/// as it does for `open`. The file is closed on return, so the caller's own descriptor
/// never shows up among the holders.
fn examine(dir: BorrowedFd<'_>, ns: Namespace, file: &str) -> std::result::Result<Found, Skip> {
    let (fd, st) = match sys::open_file_at(dir, file, OFlags::RDONLY) {
        Ok(opened) => opened,
        Err(Errno::NOENT) => return Err(Skip::Missing),
        Err(Errno::ACCESS | Errno::PERM) => return Err(Skip::Denied),
        Err(Errno::LOOP | Errno::NOTSUP) => return Err(Skip::Foreign),
        Err(e) => return Err(Skip::Other(e)),
    };
    let header = Header::read(&fd).map_err(|_| Skip::Foreign)?;
    let name = header.name.clone().ok_or(Skip::Foreign)?;
    // Like open, believe a header only in the file its name maps to.
    let parsed = Name::parse_full(&name).map_err(|_| Skip::Foreign)?;
    if parsed.namespace() != ns || file_name(&parsed) != file {
        return Err(Skip::Foreign);
    }
    // A probe that takes no lock: inspecting never delays an opener.
    let unheld = sys::lock::held_by_others(&fd) == Ok(false);
    if unheld && !header.persistent() {
        return Err(Skip::Stale);
    }
    if !sys::linked_at(&fd, dir, file) {
        return Err(Skip::Missing);
    }
    let channel = match header.kind {
        Some(Kind::Channel) => super::channel::inspect(fd.as_fd(), st.st_size as u64, header.size),
        _ => None,
    };
    Ok(Found {
        name,
        namespace: ns,
        kind: header.kind,
        size: header.size,
        owner: st.st_uid,
        // A file-backed object's file is read-only; its header keeps the bits asked for.
        mode: match (&header.backing, header.mode) {
            (Some(_), m) if m != 0 => m,
            _ => st.st_mode & 0o7777,
        },
        persistent: header.persistent(),
        ids: Ids {
            file: FileId {
                dev: st.st_dev,
                ino: st.st_ino,
            },
            backing: header.backing.as_ref().map(|b| FileId {
                dev: b.dev,
                ino: b.ino,
            }),
        },
        channel,
    })
}

/// The live object `name`. Runs the dead-process reclamation of its namespace first.
pub(crate) fn find(name: &Name) -> Result<Found> {
    let not_found = || {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "cannot inspect {}: no object has that name",
                quoted(name.as_str())
            ),
        )
    };
    let dir = own_ns_dir(name.namespace())?.ok_or_else(not_found)?;
    object::reclaim(&dir);
    let file = file_name(name);
    examine(dir.fd.as_fd(), name.namespace(), &file).map_err(|why| match why {
        Skip::Missing | Skip::Stale => not_found(),
        Skip::Denied => Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot inspect {}: the object's permissions do not allow you to read it",
                quoted(name.as_str())
            ),
        ),
        Skip::Foreign => Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot inspect {}: {} is not a shmkit object of that name",
                quoted(name.as_str()),
                dir.path.join(&file).display()
            ),
        ),
        Skip::Other(e) => Error::from_io(
            e.into(),
            format!("cannot inspect {}", quoted(name.as_str())),
        ),
    })
}

/// Reclaims every non-persistent object of the current user's namespaces that no process
/// holds, then the leases of dead processes; as root, also those of every other user's
/// Local directory (an administrator's pass cleans the machine). A dry run changes
/// nothing and reports what would be freed.
pub(crate) fn collect_garbage(dry_run: bool) -> Result<Vec<Garbage>> {
    let uid = sys::euid();
    let mut out = Vec::new();
    for (ns, dir) in own_ns_dirs()? {
        let global = ns == Namespace::Global;
        // A real pass cannot unlink other users' objects in the sticky Global directory;
        // a dry run must not promise to.
        let keep = |file: &str| !(dry_run && global && !may_unlink(&dir, file, uid));
        collect_in(dir.fd.as_fd(), &dir.path, ns, dry_run, keep, &mut out)?;
    }
    if uid == 0 {
        for other in store::other_local_dirs()? {
            // One user's unreadable directory does not stop the pass over the others.
            let _ = collect_in(
                other.fd.as_fd(),
                &other.path,
                Namespace::Local,
                dry_run,
                |_| true,
                &mut out,
            );
        }
    }
    Ok(out)
}

/// One directory's part of [`collect_garbage`]: the unheld objects for which `keep` says
/// yes, then the dead leases. Reclamation itself opens regular files only, never through
/// a symbolic link, and unlinks by name inside `dir`.
fn collect_in(
    dir: BorrowedFd<'_>,
    path: &std::path::Path,
    ns: Namespace,
    dry_run: bool,
    keep: impl Fn(&str) -> bool,
    out: &mut Vec<Garbage>,
) -> Result<()> {
    let names = sys::read_dir_names(dir).map_err(|e| {
        Error::from_io(
            e.into(),
            format!("cannot read the namespace directory {}", path.display()),
        )
    })?;
    for r in object::reclaim_stale_objects(dir, &names, dry_run) {
        if !keep(&r.file) {
            continue;
        }
        let name = r
            .name
            .or_else(|| decode_file_name(&r.file).map(|base| format!("{ns}\\{base}")))
            .unwrap_or(r.file);
        out.push(Garbage {
            name,
            namespace: ns,
            kind: r.kind,
            size: r.size,
            owner: r.owner,
        });
    }
    store::remove_dead_leases(dir, &names, dry_run);
    Ok(())
}

/// Whether `uid` may unlink `file` from a sticky directory.
fn may_unlink(dir: &NsDir, file: &str, uid: u32) -> bool {
    if uid == 0 {
        return true;
    }
    let owner = |st: rustix::fs::Stat| st.st_uid;
    let file_owner = rustix::fs::statat(&dir.fd, file, AtFlags::SYMLINK_NOFOLLOW).map(owner);
    let dir_owner = sys::fstat(&dir.fd).map(owner);
    file_owner == Ok(uid) || dir_owner == Ok(uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::RawHolder;
    use crate::{Access, Mapping, MAX_NAME_LEN};

    fn holders_of(name: &str) -> Vec<RawHolder> {
        let found = find(&Name::parse(name).unwrap()).unwrap();
        holders(&[found]).remove(0)
    }

    fn me(handle: bool, view: bool) -> Vec<RawHolder> {
        vec![RawHolder {
            pid: std::process::id(),
            handle,
            view,
        }]
    }

    #[test]
    fn handles_and_views_of_a_memory_object() {
        let name = format!("Local\\shmkit-test-inspect-mem-{}", std::process::id());
        let m = Mapping::options()
            .name(&name)
            .size(65536)
            .persistent(true)
            .create()
            .unwrap();
        assert_eq!(holders_of(&name), me(true, false));
        let listed = list(false).unwrap();
        let found = listed.iter().find(|f| f.name == name).expect("listed");
        assert_eq!(
            (found.size, found.persistent, found.mode),
            (65536, true, 0o600)
        );
        assert_eq!(found.kind, Some(Kind::Mapping));
        let view = m.map(Access::Read).unwrap();
        assert_eq!(holders_of(&name), me(true, true));
        drop(m);
        assert_eq!(holders_of(&name), me(false, true), "a view alone");
        drop(view);
        assert_eq!(holders_of(&name), vec![]);
        Mapping::remove(&name).unwrap();
        assert_eq!(
            find(&Name::parse(&name).unwrap()).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    /// Found by the `name` fuzz target: an object with a bare name of 255 to 260
    /// characters keeps a full name over `MAX_PATH` in its header, which did not read back,
    /// so listings left the object out (and reclamation and inheritance refused it).
    #[test]
    fn an_object_with_a_bare_name_of_max_path_characters_is_listed() {
        let tag = format!("shmkit-test-long-{}-", std::process::id());
        let bare = format!("{tag}{}", "x".repeat(MAX_NAME_LEN - tag.len()));
        let m = Mapping::create(&bare, 4096).unwrap();
        let full = format!("Local\\{bare}");
        let listed = list(false).unwrap();
        assert!(listed.iter().any(|f| f.name == full), "listed");
        assert_eq!(find(&Name::parse(&bare).unwrap()).unwrap().name, full);
        drop(m);
    }

    #[test]
    fn views_of_a_file_backed_object_are_found_through_the_file() {
        let pid = std::process::id();
        let path = std::env::temp_dir().join(format!("shmkit-test-inspect-file-{pid}"));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let name = format!("Local\\shmkit-test-inspect-file-{pid}");
        let m = Mapping::options()
            .name(&name)
            .size(4096)
            .file(&file)
            .persistent(true)
            .create()
            .unwrap();
        let view = m.map(Access::ReadWrite).unwrap();
        drop(m);
        assert_eq!(holders_of(&name), me(false, true));
        drop(view);
        Mapping::remove(&name).unwrap();
        drop(file);
        let _ = std::fs::remove_file(&path);
    }
}
