//! The backing store: one directory per namespace, checked before every use, and the
//! leases that let any process find and reclaim the objects of processes that died.
//!
//! Layout under the store root (`$SHMKIT_DIR`, or `/dev/shm`):
//!
//! | path | mode | what |
//! |---|---|---|
//! | `shmkit.local.<uid>/` | 0700, owned by uid | `Local\` objects of user uid |
//! | `shmkit.global/` | 01777 (sticky), owned by root or its creator | `Global\` objects |
//! | `<ns>/o.<encoded base>`, `<ns>/h.<sha256>` | the object's permissions | one object |
//! | `<ns>/l.<pid>.<nonce>` | 0644 | the lease of a live process |
//! | `$XDG_RUNTIME_DIR/shmkit.local.<hash of the root>/` | 0700 | `Local\` objects, when another user pre-created `shmkit.local.<uid>` |
//!
//! Leases: a process that takes a handle in a namespace first links a lease file there,
//! holding its OFD write lock for as long as the process lives (and the children it lent
//! it to: `lend_lease`). The kernel drops the lock of a dead process, so an unlocked lease
//! means "a process died, maybe holding objects". Others probe the lock without taking
//! one (`F_OFD_GETLK`), so no read lock can make a dead lease look alive.
//! Every operation in the namespace checks the leases (one `getdents` and a lock probe per
//! other live process); on finding a dead one it reclaims every object that has no holder
//! left, then the lease. A process that exits normally with no handle left removes its
//! lease at exit.

mod lease;

pub(crate) use self::lease::remove_dead_leases;
use self::lease::{remove_leases_at_exit, Lease, Other};
use super::sys::{self, Errno};
use crate::error::{Error, ErrorKind, Result};
use crate::name::Namespace;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};

/// Environment variable naming another store root (tests, containers).
pub(crate) const ROOT_ENV: &str = "SHMKIT_DIR";
const DEFAULT_ROOT: &str = "/dev/shm";
pub(crate) const LEASE_PREFIX: &str = "l.";
const GLOBAL_DIR: &str = "shmkit.global";

pub(crate) fn root_path() -> PathBuf {
    std::env::var_os(ROOT_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT))
}

/// The directory name of a namespace, for the user `uid` where it is per-user.
pub(crate) fn ns_dir_name(ns: Namespace, uid: u32) -> String {
    match ns {
        Namespace::Global => GLOBAL_DIR.to_owned(),
        Namespace::Local => format!("shmkit.local.{uid}"),
    }
}

/// One namespace directory, opened and checked.
pub(crate) struct NsDir {
    /// The user whose view of the namespace this is (the effective uid at opening).
    pub uid: u32,
    pub fd: OwnedFd,
    pub path: PathBuf,
    /// Handles this process holds in the namespace (decides lease removal at exit).
    handles: AtomicUsize,
    lease: Mutex<Option<Lease>>,
    /// Open descriptors of other processes' leases, so a live one costs one probe.
    others: Mutex<HashMap<String, Other>>,
    /// Objects this process closed while another description still held them, to look at
    /// once more at its next operation here (see `note_closed_while_held`).
    pending: Mutex<Vec<String>>,
}

type Cache = Mutex<HashMap<(Namespace, u32), Arc<NsDir>>>;

static CACHE: OnceLock<Cache> = OnceLock::new();

fn cache() -> &'static Cache {
    CACHE.get_or_init(|| {
        // SAFETY: `remove_leases_at_exit` is an `extern "C" fn()` that never unwinds
        // (it catches every error) and only touches data that lives for the whole process.
        unsafe { sys::atexit(remove_leases_at_exit) };
        Mutex::new(HashMap::new())
    })
}

fn root() -> Result<&'static (PathBuf, OwnedFd)> {
    static ROOT: OnceLock<(PathBuf, OwnedFd)> = OnceLock::new();
    if let Some(r) = ROOT.get() {
        return Ok(r);
    }
    let path = root_path();
    let fd = rustix::fs::open(
        &path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        Error::from_io(
            e.into(),
            format!("cannot open the shared-memory store {}", path.display()),
        )
    })?;
    Ok(ROOT.get_or_init(|| (path, fd)))
}

/// Opens (creating it if needed) and checks the directory of `ns` for the current user.
pub(crate) fn ns_dir(ns: Namespace) -> Result<Arc<NsDir>> {
    let uid = sys::euid();
    let key = (ns, uid);
    let cached = cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .cloned();
    if let Some(dir) = cached {
        let st = sys::fstat(&dir.fd).map_err(|e| dir_error(&dir.path, e))?;
        if st.st_nlink > 0 {
            check_dir(ns, &dir.path, &st, uid)?;
            return Ok(dir);
        }
        // Deleted under us: open it afresh.
    }
    let (path, fd) = match ns {
        Namespace::Local => local_dir(uid)?,
        Namespace::Global => {
            let (root_path, root_fd) = root()?;
            let name = ns_dir_name(ns, uid);
            let path = root_path.join(&name);
            let fd = open_or_make_dir(root_fd.as_fd(), &name, &path, ns, uid)?;
            (path, fd)
        }
    };
    let dir = Arc::new(NsDir {
        uid,
        fd,
        path,
        handles: AtomicUsize::new(0),
        lease: Mutex::new(None),
        others: Mutex::new(HashMap::new()),
        pending: Mutex::new(Vec::new()),
    });
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, dir.clone());
    Ok(dir)
}

/// The directory of `Local\` objects of `uid`: `shmkit.local.<uid>` in the store, or, when
/// another user has pre-created that name (SPEC 6.3 refuses it), a directory in the
/// user's runtime directory, which no other user can have prepared. Once that fallback
/// exists every process of the user uses it, so they all agree on one namespace.
fn local_dir(uid: u32) -> Result<(PathBuf, OwnedFd)> {
    if let Some(found) = local_fallback(uid, false)? {
        return Ok(found);
    }
    let (root_path, root_fd) = root()?;
    let name = ns_dir_name(Namespace::Local, uid);
    let path = root_path.join(&name);
    match open_or_make_dir(root_fd.as_fd(), &name, &path, Namespace::Local, uid) {
        Ok(fd) => Ok((path, fd)),
        Err(e) => {
            let squatted = rustix::fs::statat(root_fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| st.st_uid != uid);
            if !squatted {
                return Err(e);
            }
            match local_fallback(uid, true)? {
                Some(found) => Ok(found),
                None => Err(Error::new(
                    e.kind(),
                    format!(
                        "{}; and this user has no runtime directory (XDG_RUNTIME_DIR, or \
                         /run/user/{uid}, owned by you with mode 0700) to keep its Local \
                         objects in instead: ask root to remove {}",
                        e.message(),
                        path.display()
                    ),
                )),
            }
        }
    }
}

/// Where users' runtime directories are, when `XDG_RUNTIME_DIR` does not say.
const RUNTIME_ROOT: &str = "/run/user";

/// The user's runtime directory, when it is a directory of `uid` with mode 0700.
fn runtime_dir(uid: u32) -> Option<(PathBuf, OwnedFd)> {
    let path = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(RUNTIME_ROOT).join(uid.to_string()));
    let fd = rustix::fs::open(
        &path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )
    .ok()?;
    checked_runtime_dir(fd, uid).map(|fd| (path, fd))
}

/// `fd`, when it is a runtime directory of `uid`: its own, mode 0700.
fn checked_runtime_dir(fd: OwnedFd, uid: u32) -> Option<OwnedFd> {
    let st = sys::fstat(&fd).ok()?;
    (st.st_uid == uid && st.st_mode & 0o077 == 0).then_some(fd)
}

/// The name of the fallback Local directory in a runtime directory: one per store root.
fn fallback_name() -> String {
    use sha2::{Digest, Sha256};
    let root = root_path();
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("shmkit.local.{tag}")
}

/// The fallback Local directory of `uid` in its runtime directory (one per store root),
/// made when `create`; `None` when there is none.
fn local_fallback(uid: u32, create: bool) -> Result<Option<(PathBuf, OwnedFd)>> {
    let Some((runtime, rt_fd)) = runtime_dir(uid) else {
        return Ok(None);
    };
    let name = fallback_name();
    let path = runtime.join(&name);
    match sys::open_dir_at(rt_fd.as_fd(), &name) {
        Err(Errno::NOENT) if !create => Ok(None),
        Err(Errno::NOENT) => open_or_make_dir(rt_fd.as_fd(), &name, &path, Namespace::Local, uid)
            .map(|fd| Some((path, fd))),
        Ok(fd) => {
            let st = sys::fstat(&fd).map_err(|e| dir_error(&path, e))?;
            check_dir(Namespace::Local, &path, &st, uid)?;
            Ok(Some((path, fd)))
        }
        Err(e) => Err(dir_error(&path, e)),
    }
}

/// Opens the directory of `ns` for `uid` without creating it; `None` when absent.
/// Used to list other users' objects (the CLI's `ls --all`).
pub(crate) fn existing_ns_dir(ns: Namespace, uid: u32) -> Result<Option<(PathBuf, OwnedFd)>> {
    if ns == Namespace::Local && uid == sys::euid() {
        if let Some(found) = local_fallback(uid, false)? {
            return Ok(Some(found));
        }
    }
    let (root_path, root_fd) = root()?;
    let name = ns_dir_name(ns, uid);
    let path = root_path.join(&name);
    match sys::open_dir_at(root_fd.as_fd(), &name) {
        Ok(fd) => Ok(Some((path, fd))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(dir_error(&path, e)),
    }
}

/// Lists the uids that have a Local directory in the store.
pub(crate) fn local_dir_uids() -> Result<Vec<u32>> {
    let (root_path, root_fd) = root()?;
    let mut uids = Vec::new();
    for name in sys::read_dir_names(root_fd.as_fd()).map_err(|e| dir_error(root_path, e))? {
        if let Some(uid) = name
            .strip_prefix("shmkit.local.")
            .and_then(|u| u.parse().ok())
            .filter(|&uid: &u32| name == ns_dir_name(Namespace::Local, uid))
        {
            uids.push(uid);
        }
    }
    uids.sort_unstable();
    Ok(uids)
}

/// The Local directory of another user, for root's garbage collection.
pub(crate) struct OtherLocal {
    pub path: PathBuf,
    pub fd: OwnedFd,
}

/// The Local directories of every user but the caller: `shmkit.local.<uid>` in the store
/// and the fallbacks in the runtime directories under `/run/user`. Only directories that
/// pass the checks every use makes are returned (a directory of `uid`, mode 0700, no
/// symbolic link on the way), so a squatted or planted one is never entered. Reading
/// them takes root's privilege; for other users this finds nothing readable.
pub(crate) fn other_local_dirs() -> Result<Vec<OtherLocal>> {
    let me = sys::euid();
    let (root_path, root_fd) = root()?;
    let mut out = Vec::new();
    let checked = |fd: OwnedFd, path: PathBuf, uid: u32| {
        let st = sys::fstat(&fd).ok()?;
        check_dir(Namespace::Local, &path, &st, uid).ok()?;
        Some(OtherLocal { path, fd })
    };
    for uid in local_dir_uids()?.into_iter().filter(|&u| u != me) {
        let name = ns_dir_name(Namespace::Local, uid);
        if let Ok(fd) = sys::open_dir_at(root_fd.as_fd(), &name) {
            out.extend(checked(fd, root_path.join(&name), uid));
        }
    }
    let runtime_root = rustix::fs::open(
        RUNTIME_ROOT,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    );
    let Ok(runtime_root) = runtime_root else {
        return Ok(out);
    };
    let fallback = fallback_name();
    for entry in sys::read_dir_names(runtime_root.as_fd()).unwrap_or_default() {
        let Some(uid) = entry.parse::<u32>().ok().filter(|&u| u != me) else {
            continue;
        };
        if entry != uid.to_string() {
            continue; // "007" is not the directory of uid 7
        }
        let Some(rt_fd) = sys::open_dir_at(runtime_root.as_fd(), &entry)
            .ok()
            .and_then(|fd| checked_runtime_dir(fd, uid))
        else {
            continue;
        };
        if let Ok(fd) = sys::open_dir_at(rt_fd.as_fd(), &fallback) {
            let path = Path::new(RUNTIME_ROOT).join(&entry).join(&fallback);
            out.extend(checked(fd, path, uid));
        }
    }
    Ok(out)
}

fn open_or_make_dir(
    root: BorrowedFd<'_>,
    name: &str,
    path: &Path,
    ns: Namespace,
    uid: u32,
) -> Result<OwnedFd> {
    let mode = match ns {
        Namespace::Local => 0o700,
        Namespace::Global => 0o1777,
    };
    let fd = match sys::open_dir_at(root, name) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => {
            match rustix::fs::mkdirat(root, name, Mode::from_raw_mode(mode)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(dir_error(path, e)),
            }
            let fd = sys::open_dir_at(root, name).map_err(|e| dir_error(path, e))?;
            // The umask may have removed bits of the mode we asked for.
            let st = sys::fstat(&fd).map_err(|e| dir_error(path, e))?;
            if st.st_uid == uid && st.st_mode & 0o7777 != mode {
                rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))
                    .map_err(|e| dir_error(path, e))?;
            }
            fd
        }
        Err(e) => return Err(dir_error(path, e)),
    };
    let st = sys::fstat(&fd).map_err(|e| dir_error(path, e))?;
    check_dir(ns, path, &st, uid)?;
    Ok(fd)
}

/// SPEC 6.3: refuse a directory that another user could have prepared.
fn check_dir(ns: Namespace, path: &Path, st: &rustix::fs::Stat, uid: u32) -> Result<()> {
    let mode = st.st_mode & 0o7777;
    let refuse = |why: String| {
        Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "refusing the {ns} namespace directory {}: {why}",
                path.display()
            ),
        ))
    };
    match ns {
        Namespace::Local => {
            if st.st_uid != uid {
                return refuse(format!(
                    "it belongs to uid {}, not to you (uid {uid}); another user may have \
                     created it to capture your objects",
                    st.st_uid
                ));
            }
            if mode & 0o077 != 0 {
                return refuse(format!(
                    "its mode {mode:04o} lets other users in; it must be 0700"
                ));
            }
        }
        Namespace::Global => {
            if st.st_uid != 0 && st.st_uid != uid {
                return refuse(format!(
                    "it belongs to uid {}, who could replace other users' objects; \
                     it must belong to root (or to you)",
                    st.st_uid
                ));
            }
            if mode & 0o022 != 0 && mode & 0o1000 == 0 {
                return refuse(format!(
                    "its mode {mode:04o} is writable by others without the sticky bit"
                ));
            }
        }
    }
    Ok(())
}

fn dir_error(path: &Path, e: Errno) -> Error {
    let err = Error::from_io(
        e.into(),
        format!("cannot use the namespace directory {}", path.display()),
    );
    if e == Errno::LOOP || e == Errno::NOTDIR {
        return Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "refusing {}: it is a symbolic link or not a directory",
                path.display()
            ),
        );
    }
    err
}

impl NsDir {
    /// Called when a handle closes and finds the object still held by another open file
    /// description. That holder may be a process of this very program forked by another
    /// thread and not yet exec'd (a fork copies every descriptor, close-on-exec or not,
    /// until the exec), which then lets go at once, leaving no one to remove the name: so
    /// the next operation of this process in the namespace looks at the object again.
    pub(crate) fn note_closed_while_held(&self, file: &str) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if pending.len() < 256 && !pending.iter().any(|f| f == file) {
            pending.push(file.to_owned());
        }
    }

    /// The objects noted by [`note_closed_while_held`](NsDir::note_closed_while_held).
    pub(crate) fn take_pending(&self) -> Vec<String> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
