//! Thin wrappers over the system calls the Linux backend uses, with the flags it always
//! wants (close-on-exec, no symlink following, no blocking on FIFOs).

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, Stat};
pub(crate) use rustix::io::Errno;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

pub(crate) fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// This process's id, cached: it is asked for on every handle operation. A fork handler
/// clears the cache in the child.
pub(crate) fn pid() -> u32 {
    static PID: AtomicU32 = AtomicU32::new(0);
    static REGISTER: std::sync::Once = std::sync::Once::new();
    extern "C" fn forget_pid() {
        PID.store(0, Ordering::Relaxed);
    }
    let cached = PID.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    REGISTER.call_once(|| {
        // SAFETY: `forget_pid` only stores to an atomic, which is async-signal-safe and
        // allowed in a child between fork and exec.
        unsafe { libc::pthread_atfork(None, None, Some(forget_pid)) };
    });
    let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
    PID.store(pid, Ordering::Relaxed);
    pid
}

pub(crate) fn fstat(fd: impl AsFd) -> Result<Stat, Errno> {
    rustix::fs::fstat(fd)
}

/// Opens a directory entry that must be a directory and not a symbolic link.
pub(crate) fn open_dir_at(dir: BorrowedFd<'_>, name: &str) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Opens a directory entry that must be a regular file: no symbolic link is followed and
/// nothing blocks (a FIFO planted under an object's name is refused, not waited on).
/// Returns the file's status too, which the check has just read.
pub(crate) fn open_file_at(
    dir: BorrowedFd<'_>,
    name: &str,
    access: OFlags,
) -> Result<(OwnedFd, Stat), Errno> {
    let fd = rustix::fs::openat(
        dir,
        name,
        access | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    )?;
    let st = fstat(&fd)?;
    if st.st_mode & 0o170000 != 0o100000 {
        return Err(Errno::NOTSUP);
    }
    Ok((fd, st))
}

/// An unnamed file in `dir` (O_TMPFILE), invisible until linked.
pub(crate) fn tmpfile_in(dir: impl AsFd, mode: u32) -> Result<OwnedFd, Errno> {
    let fd = rustix::fs::openat(
        dir,
        ".",
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
    Ok(fd)
}

/// Gives the O_TMPFILE `fd` the name `name` in `dir`; `EEXIST` when the name is taken.
pub(crate) fn link_tmpfile(fd: impl AsFd, dir: impl AsFd, name: &str) -> Result<(), Errno> {
    let fd = fd.as_fd();
    // Linking by descriptor is the cheap way, but needs CAP_DAC_READ_SEARCH; without it
    // (ENOENT), go through /proc, which every user may.
    match rustix::fs::linkat(fd, "", &dir, name, AtFlags::EMPTY_PATH) {
        Err(Errno::NOENT) | Err(Errno::PERM) | Err(Errno::ACCESS) => {
            let proc_path = format!("/proc/self/fd/{}", rustix::fd::AsRawFd::as_raw_fd(&fd));
            rustix::fs::linkat(
                rustix::fs::CWD,
                proc_path.as_str(),
                &dir,
                name,
                AtFlags::SYMLINK_FOLLOW,
            )
        }
        other => other,
    }
}

/// The locks that carry an object's lifetime: open-file-description locks (`F_OFD_*`)
/// over the whole object file. A handle holds a read lock; the write lock that decides
/// "no one else holds it" (to remove the name) needs a descriptor opened for writing, so
/// a process that may only read an object cannot take it — unlike `flock`, which anyone
/// able to open the file could take exclusively and so block every other user.
pub(crate) mod lock {
    use rustix::fd::{AsFd, AsRawFd};
    use rustix::io::Errno;

    /// The bytes the lifetime locks cover: the whole file as far as any object grows.
    /// Byte locks past them mark other things (a channel's ends: [`byte`]).
    pub(crate) const LIFETIME: (u64, u64) = (0, 1 << 40);

    fn fcntl(
        fd: impl AsFd,
        cmd: libc::c_int,
        kind: libc::c_int,
        (start, len): (u64, u64),
    ) -> Result<libc::c_short, Errno> {
        // SAFETY: `flock` is plain data; zeroed, then given the range, with l_pid 0, as
        // the OFD commands require.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = kind as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        fl.l_start = start as libc::off_t;
        fl.l_len = len as libc::off_t;
        loop {
            // SAFETY: an fcntl lock command on a descriptor this call borrows, with a
            // pointer to the `flock` above, which lives across the call.
            let rc = unsafe { libc::fcntl(fd.as_fd().as_raw_fd(), cmd, &mut fl) };
            if rc == 0 {
                return Ok(fl.l_type);
            }
            match Errno::from_raw_os_error(
                std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            ) {
                Errno::INTR => continue,
                e => return Err(e),
            }
        }
    }

    /// Holds the object (a read lock), without waiting: `AGAIN` while a write lock is held.
    pub(crate) fn share(fd: impl AsFd) -> Result<(), Errno> {
        fcntl(fd, libc::F_OFD_SETLK, libc::F_RDLCK, LIFETIME).map(drop)
    }

    /// Takes the write lock (converting this description's read lock), without waiting:
    /// `AGAIN` while another description holds any lock, `BADF` when `fd` is not open for
    /// writing.
    pub(crate) fn exclude(fd: impl AsFd) -> Result<(), Errno> {
        fcntl(fd, libc::F_OFD_SETLK, libc::F_WRLCK, LIFETIME).map(drop)
    }

    /// Drops this description's lock.
    pub(crate) fn release(fd: impl AsFd) -> Result<(), Errno> {
        fcntl(fd, libc::F_OFD_SETLK, libc::F_UNLCK, LIFETIME).map(drop)
    }

    /// Whether another open file description holds a write lock on the file (a probe
    /// that takes nothing, needs no write access, and cannot be fooled by read locks).
    pub(crate) fn write_locked(fd: impl AsFd) -> Result<bool, Errno> {
        fcntl(fd, libc::F_OFD_GETLK, libc::F_RDLCK, LIFETIME)
            .map(|t| t != libc::F_UNLCK as libc::c_short)
    }

    /// Whether another open file description holds a lock on the file (a probe that
    /// takes nothing and needs no write access).
    pub(crate) fn held_by_others(fd: impl AsFd) -> Result<bool, Errno> {
        fcntl(fd, libc::F_OFD_GETLK, libc::F_WRLCK, LIFETIME)
            .map(|t| t != libc::F_UNLCK as libc::c_short)
    }

    /// Write locks on single bytes past [`LIFETIME`]: marks that an open file description
    /// holds while it plays a part (the kernel drops them when the description closes,
    /// or its process dies). Taking one needs a descriptor open for writing.
    pub(crate) mod byte {
        use super::{fcntl, AsFd, Errno, LIFETIME};

        fn range(first: u64, count: u64) -> (u64, u64) {
            (LIFETIME.1 + first, count)
        }

        /// Takes byte `i`, without waiting: `AGAIN` while another description has it.
        pub(crate) fn take(fd: impl AsFd, i: u64) -> Result<(), Errno> {
            fcntl(fd, libc::F_OFD_SETLK, libc::F_WRLCK, range(i, 1)).map(drop)
        }

        /// Gives byte `i` back.
        pub(crate) fn give_back(fd: impl AsFd, i: u64) -> Result<(), Errno> {
            fcntl(fd, libc::F_OFD_SETLK, libc::F_UNLCK, range(i, 1)).map(drop)
        }

        /// Whether another description holds any of the `count` bytes from `first`.
        pub(crate) fn any_taken(fd: impl AsFd, first: u64, count: u64) -> Result<bool, Errno> {
            fcntl(fd, libc::F_OFD_GETLK, libc::F_RDLCK, range(first, count))
                .map(|t| t != libc::F_UNLCK as libc::c_short)
        }
    }
}

/// Whether `fd` is still the file named `name` in `dir`.
pub(crate) fn linked_at(fd: impl AsFd, dir: BorrowedFd<'_>, name: &str) -> bool {
    let (Ok(a), Ok(b)) = (
        fstat(fd),
        rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW),
    ) else {
        return false;
    };
    a.st_nlink > 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev
}

/// The names in a directory, but `.` and `..` (and names that are not UTF-8).
pub(crate) fn read_dir_names(dir: BorrowedFd<'_>) -> Result<Vec<String>, Errno> {
    let mut out = Vec::new();
    let mut d = rustix::fs::Dir::read_from(dir)?;
    while let Some(entry) = d.read() {
        let entry = entry?;
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if name != "." && name != ".." {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

/// The names in `dir` that start with `prefix`, read through `dir`'s own position (the
/// caller serialises scans of one descriptor).
pub(crate) fn lease_names(dir: BorrowedFd<'_>, prefix: &str) -> Result<Vec<String>, Errno> {
    rustix::fs::seek(dir, rustix::fs::SeekFrom::Start(0))?;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 8192];
    let mut entries = rustix::fs::RawDir::new(dir, &mut buf);
    let mut out = Vec::new();
    while let Some(entry) = entries.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name.starts_with(prefix.as_bytes()) {
            if let Ok(s) = std::str::from_utf8(name) {
                out.push(s.to_owned());
            }
        }
    }
    Ok(out)
}

/// Opens a lease to probe its lock (never blocks, follows no link).
pub(crate) fn open_lease(dir: BorrowedFd<'_>, name: &str) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    )
}

/// A value that differs between calls and between processes.
pub(crate) fn nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    t.rotate_left(17) ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(pid())
}

/// Registers `f` to run when the process exits normally.
///
/// # Safety
/// `f` must not unwind and must be safe to run during process exit.
pub(crate) unsafe fn atexit(f: extern "C" fn()) {
    // SAFETY: the caller guarantees `f` is an exit-safe function; atexit only stores it.
    unsafe {
        libc::atexit(f);
    }
}

/// Reopens the file behind `fd` as a new open file description (its own flock).
pub(crate) fn reopen(fd: impl AsFd, access: OFlags) -> Result<OwnedFd, Errno> {
    let path = format!(
        "/proc/self/fd/{}",
        rustix::fd::AsRawFd::as_raw_fd(&fd.as_fd())
    );
    rustix::fs::open(path.as_str(), access | OFlags::CLOEXEC, Mode::empty())
}

/// Commits `len` bytes at `offset` of a file: tmpfs reserves the pages now, so a full store
/// fails here with ENOSPC instead of killing the process with SIGBUS on a later fault.
pub(crate) fn commit(fd: impl AsFd, offset: u64, len: u64) -> Result<(), Errno> {
    if len == 0 {
        return Ok(());
    }
    loop {
        match rustix::fs::fallocate(&fd, rustix::fs::FallocateFlags::empty(), offset, len) {
            Err(Errno::INTR) => continue,
            Err(Errno::OPNOTSUPP) => return commit_by_writing(fd.as_fd(), offset, len),
            other => return other,
        }
    }
}

fn commit_by_writing(fd: BorrowedFd<'_>, offset: u64, len: u64) -> Result<(), Errno> {
    // A file system without fallocate: write zeros so that its blocks are allocated.
    let zeros = vec![0u8; 1 << 16];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(zeros.len() as u64) as usize;
        let w = rustix::io::pwrite(fd, &zeros[..n], offset + done)?;
        done += w as u64;
    }
    Ok(())
}

/// Below this size a commit is not checked against free memory first: the check reads
/// /proc, which would cost more than the commit itself.
const CHECK_ABOVE: u64 = 64 << 20;

/// Refuses up front a commit the system cannot back. fallocate on tmpfs (and memfd)
/// reserves real pages; asked for more than there is, it does not fail cleanly but drives
/// the machine into the OOM killer. `store` is the file system that will hold the
/// pages, when it has a size limit of its own (ENOSPC); memory is always checked (ENOMEM).
pub(crate) fn check_commit(store: Option<BorrowedFd<'_>>, len: u64) -> Result<(), Errno> {
    if len <= CHECK_ABOVE {
        return Ok(());
    }
    if let Some(fd) = store {
        let st = rustix::fs::fstatvfs(fd)?;
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        if len > free {
            return Err(Errno::NOSPC);
        }
    }
    if let Some(avail) = memory_available() {
        if len > avail {
            return Err(Errno::NOMEM);
        }
    }
    Ok(())
}

/// Bytes the system could still back with memory or swap, as far as it tells: the
/// kernel's MemAvailable plus free swap, bounded by this process's cgroup limit.
fn memory_available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |key: &str| -> Option<u64> {
        let line = meminfo.lines().find(|l| l.starts_with(key))?;
        let kib: u64 = line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    let mut avail = field("MemAvailable:")?.saturating_add(field("SwapFree:").unwrap_or(0));
    if let Some(limit) = cgroup_headroom() {
        avail = avail.min(limit);
    }
    Some(avail)
}

fn cgroup_headroom() -> Option<u64> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cg.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let max = std::fs::read_to_string(dir.join("memory.max")).ok()?;
    let max: u64 = max.trim().parse().ok()?; // "max" means no limit
    let current: u64 = std::fs::read_to_string(dir.join("memory.current"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(max.saturating_sub(current))
}
