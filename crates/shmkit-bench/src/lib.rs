//! Benchmarks of shmkit against the code a user would write instead.
//!
//! The measured operations live here, so that the criterion benchmarks (`benches/`) and
//! any other timing or tracing run the same code:
//!
//! - [`shmkit_lifecycle`]: create a named mapping, map a view, write one byte, drop the
//!   view, close the mapping;
//! - [`raw::lifecycle`]: the same work with the POSIX calls a C program makes
//!   (`shm_open`, `ftruncate`, `mmap`, `munmap`, `close`, `shm_unlink`);
//! - [`sync`]: the baselines of `benches/sync.rs` (a process-shared robust pthread mutex,
//!   a pipe round trip) and the partner processes of its wake-up round trips.
//!
//! [`estimates`] reads the figures criterion saves, for the `lifecycle-ratio` report:
//!
//! ```text
//! cargo bench -p shmkit-bench --bench lifecycle
//! cargo run -p shmkit-bench --bin lifecycle-ratio
//! ```
//!
//! [`suite`] is `shmkit bench` (the `shmkit-bench` binary): latency, streaming and
//! life-cycle figures of shmkit next to iceoryx2, sockets, pipes and the bare shared-flag
//! limits, one process per end, with a JSON report and plots (Linux):
//!
//! ```text
//! cargo build --release -p shmkit-bench -p shmkit-cli
//! target/release/shmkit bench --json bench.json --plots docs/bench
//! ```

use shmkit::{Access, Mapping};

/// The benchmark groups of `benches/lifecycle.rs`: criterion group name and object size.
/// Each group measures the functions `shmkit`, `raw` and `raw_commit`.
pub const GROUPS: &[(&str, u64)] = &[("lifecycle", 4096), ("lifecycle_1mib", 1 << 20)];

/// The shmkit object name this process uses: one per process, reused by every
/// iteration (the name disappears when the mapping closes).
pub fn shmkit_name() -> String {
    format!("Local\\shmkit-bench-{}", std::process::id())
}

/// One lifecycle through shmkit: `Mapping::create(name, size)`, a read-write view of it,
/// one byte written at offset 0, then the view and the mapping dropped (which removes
/// the name).
pub fn shmkit_lifecycle(name: &str, size: u64) -> shmkit::Result<()> {
    let mapping = Mapping::create(name, size)?;
    let view = mapping.map(Access::ReadWrite)?;
    view.write(0, &[1])?;
    drop(view);
    mapping.close();
    Ok(())
}

/// Baselines and partners of the sync benchmarks (`benches/sync.rs`):
///
/// - `mutex_uncontended`: lock and unlock of a shmkit [`shmkit::Mutex`] against a
///   process-shared robust pthread mutex ([`sync::RobustPthreadMutex`]), the nearest
///   thing a C program has;
/// - `wake_round_trip`: a process wakes a partner process, which wakes it back, through
///   two shmkit auto-reset events ([`sync::EventPartner`]) against one byte each way
///   through two pipes ([`sync::PipePartner`]). One round trip is two wake-ups.
#[cfg(target_os = "linux")]
pub mod sync {
    use shmkit::{Event, EventReset};
    use std::io::{self, Read, Write};
    use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

    /// The environment variable that makes a benchmark binary act as a partner.
    pub const PARTNER_ENV: &str = "SHMKIT_BENCH_PARTNER";

    /// A robust, process-shared pthread mutex in a shared anonymous mapping.
    pub struct RobustPthreadMutex {
        ptr: *mut libc::pthread_mutex_t,
    }

    impl RobustPthreadMutex {
        /// Maps a page and initialises the mutex in it.
        pub fn new() -> io::Result<RobustPthreadMutex> {
            // SAFETY: an anonymous shared mapping of one page at a kernel-chosen address;
            // the attribute object lives on this frame; the mutex is initialised before
            // any use and nobody else sees the page yet.
            unsafe {
                let p = libc::mmap(
                    std::ptr::null_mut(),
                    4096,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if p == libc::MAP_FAILED {
                    return Err(io::Error::last_os_error());
                }
                let m = p.cast::<libc::pthread_mutex_t>();
                let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
                libc::pthread_mutexattr_init(attr.as_mut_ptr());
                libc::pthread_mutexattr_setpshared(attr.as_mut_ptr(), libc::PTHREAD_PROCESS_SHARED);
                libc::pthread_mutexattr_setrobust(attr.as_mut_ptr(), libc::PTHREAD_MUTEX_ROBUST);
                let rc = libc::pthread_mutex_init(m, attr.as_ptr());
                libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
                if rc != 0 {
                    libc::munmap(p, 4096);
                    return Err(io::Error::from_raw_os_error(rc));
                }
                Ok(RobustPthreadMutex { ptr: m })
            }
        }

        /// One uncontended lock and unlock.
        pub fn lock_unlock(&self) {
            // SAFETY: the mutex was initialised in `new` and lives until `drop`; this
            // thread locks and unlocks it in pairs.
            unsafe {
                let rc = libc::pthread_mutex_lock(self.ptr);
                if rc == libc::EOWNERDEAD {
                    libc::pthread_mutex_consistent(self.ptr);
                }
                libc::pthread_mutex_unlock(self.ptr);
            }
        }
    }

    impl Drop for RobustPthreadMutex {
        fn drop(&mut self) {
            // SAFETY: the mutex is unlocked (lock_unlock always unlocks) and the page was
            // mapped by `new` with this length.
            unsafe {
                libc::pthread_mutex_destroy(self.ptr);
                libc::munmap(self.ptr.cast(), 4096);
            }
        }
    }

    /// Serves as a partner when this process was started as one (see [`PARTNER_ENV`]);
    /// returns false otherwise. A benchmark binary calls it first thing in `main`.
    pub fn serve_if_partner() -> bool {
        let Ok(role) = std::env::var(PARTNER_ENV) else {
            return false;
        };
        if let Some(base) = role.strip_prefix("events:") {
            let ping = Event::open(&format!("{base}.ping")).expect("open ping");
            let pong = Event::open(&format!("{base}.pong")).expect("open pong");
            pong.set().expect("say ready");
            // Killed by the benchmark when it is done.
            loop {
                ping.wait().expect("wait for ping");
                pong.set().expect("set pong");
            }
        }
        // The pipe partner: echo each byte until end of input.
        let mut input = io::stdin().lock();
        let mut output = io::stdout().lock();
        let mut byte = [0u8; 1];
        while input.read_exact(&mut byte).is_ok() {
            if output
                .write_all(&byte)
                .and_then(|()| output.flush())
                .is_err()
            {
                break;
            }
        }
        true
    }

    fn spawn(role: &str, pipes: bool) -> io::Result<Child> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.env(PARTNER_ENV, role).stderr(Stdio::inherit());
        if pipes {
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        } else {
            cmd.stdin(Stdio::null()).stdout(Stdio::null());
        }
        cmd.spawn()
    }

    /// A partner process that answers each set of `ping` by setting `pong`.
    pub struct EventPartner {
        child: Child,
        ping: Event,
        pong: Event,
    }

    impl EventPartner {
        /// Creates the two events and starts the partner; returns once it is ready.
        pub fn start() -> io::Result<EventPartner> {
            let base = format!("Local\\shmkit-bench-events-{}", std::process::id());
            let ping = Event::create_new(&format!("{base}.ping"), EventReset::Auto, false)?;
            let pong = Event::create_new(&format!("{base}.pong"), EventReset::Auto, false)?;
            let child = spawn(&format!("events:{base}"), false)?;
            let partner = EventPartner { child, ping, pong };
            if !partner
                .pong
                .wait_timeout(std::time::Duration::from_secs(30))?
            {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the event partner did not start",
                ));
            }
            Ok(partner)
        }

        /// Wakes the partner and waits until it has woken this process back.
        pub fn round_trip(&self) -> shmkit::Result<()> {
            self.ping.set()?;
            self.pong.wait()
        }
    }

    impl Drop for EventPartner {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// A partner process that echoes bytes through a pipe pair.
    pub struct PipePartner {
        child: Child,
        to: Option<ChildStdin>,
        from: ChildStdout,
    }

    impl PipePartner {
        /// Starts the partner.
        pub fn start() -> io::Result<PipePartner> {
            let mut child = spawn("pipe", true)?;
            let to = child.stdin.take();
            let from = child
                .stdout
                .take()
                .ok_or_else(|| io::Error::other("no stdout"))?;
            Ok(PipePartner { child, to, from })
        }

        /// Sends a byte and waits for its echo.
        pub fn round_trip(&mut self) -> io::Result<()> {
            let to = self.to.as_mut().ok_or_else(|| io::Error::other("closed"))?;
            to.write_all(&[1])?;
            to.flush()?;
            let mut b = [0u8; 1];
            self.from.read_exact(&mut b)
        }
    }

    impl Drop for PipePartner {
        fn drop(&mut self) {
            drop(self.to.take()); // end of input: the partner exits
            let _ = self.child.wait();
        }
    }
}

#[cfg(target_os = "linux")]
pub mod suite;

/// The raw POSIX baseline.
#[cfg(target_os = "linux")]
pub mod raw {
    use std::ffi::{CStr, CString};
    use std::io;

    /// The POSIX shared-memory name this process uses, `/shmkit-bench-raw-<pid>`.
    pub fn name() -> CString {
        CString::new(format!("/shmkit-bench-raw-{}", std::process::id()))
            .expect("a formatted name has no NUL byte")
    }

    fn check(ret: libc::c_int) -> io::Result<()> {
        if ret < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// One lifecycle with raw calls: `shm_open(O_CREAT | O_EXCL | O_RDWR, 0600)`,
    /// `ftruncate(size)`, (with `commit`, `posix_fallocate(size)`, which reserves the
    /// memory as shmkit does), `mmap(PROT_READ | PROT_WRITE, MAP_SHARED)`, one byte written,
    /// `munmap`, `close`, `shm_unlink`. The name is unlinked even when a step fails.
    pub fn lifecycle(name: &CStr, size: usize, commit: bool) -> io::Result<()> {
        // SAFETY: `name` is a NUL-terminated string that outlives the call.
        let fd = unsafe {
            libc::shm_open(
                name.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
                0o600 as libc::mode_t,
            )
        };
        check(fd)?;
        let used = use_object(fd, size, commit);
        // SAFETY: `fd` was opened above, is owned by this function and is closed once.
        let closed = check(unsafe { libc::close(fd) });
        // SAFETY: as for `shm_open`.
        let unlinked = check(unsafe { libc::shm_unlink(name.as_ptr()) });
        used.and(closed).and(unlinked)
    }

    fn use_object(fd: libc::c_int, size: usize, commit: bool) -> io::Result<()> {
        let len = libc::off_t::try_from(size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "size too large"))?;
        // SAFETY: plain system calls on a descriptor this process owns.
        check(unsafe { libc::ftruncate(fd, len) })?;
        if commit {
            // SAFETY: as above.
            let err = unsafe { libc::posix_fallocate(fd, 0, len) };
            if err != 0 {
                return Err(io::Error::from_raw_os_error(err));
            }
        }
        // SAFETY: a new shared mapping at an address the kernel chooses; it aliases no
        // Rust object.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `ptr` is a writable mapping of `size` >= 1 bytes, inside the object's
        // size, and no other reference to it exists.
        unsafe { ptr.cast::<u8>().write_volatile(1) };
        // SAFETY: the range was returned by mmap above and is unmapped once.
        check(unsafe { libc::munmap(ptr, size) })
    }
}

/// Reading the estimates criterion saves under `<target>/criterion/<group>/<function>/new/`.
pub mod estimates {
    use std::fmt;
    use std::path::{Path, PathBuf};

    /// A median and its confidence interval, in nanoseconds per iteration.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Median {
        /// The point estimate.
        pub ns: f64,
        /// Lower bound of the confidence interval.
        pub lower_ns: f64,
        /// Upper bound of the confidence interval.
        pub upper_ns: f64,
    }

    /// Why an estimate could not be read.
    #[derive(Debug)]
    pub enum Error {
        /// The file does not exist: the benchmark has not been run (or not saved there).
        Missing(PathBuf),
        /// The file exists but cannot be read or is not criterion's format.
        Invalid(PathBuf, String),
    }

    impl fmt::Display for Error {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Error::Missing(p) => write!(f, "{} does not exist", p.display()),
                Error::Invalid(p, why) => write!(f, "{}: {why}", p.display()),
            }
        }
    }

    impl std::error::Error for Error {}

    /// The path of the estimates of `group/function` under the criterion directory `dir`.
    pub fn path(dir: &Path, group: &str, function: &str) -> PathBuf {
        dir.join(group)
            .join(function)
            .join("new")
            .join("estimates.json")
    }

    /// Parses the median out of the text of an `estimates.json`.
    pub fn parse_median(json: &str) -> Result<Median, String> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let median = &v["median"];
        let num = |ptr: &str| {
            median
                .pointer(ptr)
                .and_then(serde_json::Value::as_f64)
                .ok_or_else(|| format!("no number at median{ptr}"))
        };
        Ok(Median {
            ns: num("/point_estimate")?,
            lower_ns: num("/confidence_interval/lower_bound")?,
            upper_ns: num("/confidence_interval/upper_bound")?,
        })
    }

    /// Loads the median of `group/function` from the criterion directory `dir`.
    pub fn load_median(dir: &Path, group: &str, function: &str) -> Result<Median, Error> {
        let p = path(dir, group, function);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::Missing(p)),
            Err(e) => return Err(Error::Invalid(p, e.to_string())),
        };
        parse_median(&text).map_err(|why| Error::Invalid(p, why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shmkit_lifecycle_leaves_no_name() {
        let name = format!("Local\\shmkit-bench-test-{}", std::process::id());
        for _ in 0..3 {
            shmkit_lifecycle(&name, 4096).unwrap();
        }
        let err = Mapping::open(&name, Access::Read).unwrap_err();
        assert_eq!(err.kind(), shmkit::ErrorKind::NotFound);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn raw_lifecycle_leaves_no_name() {
        let name = std::ffi::CString::new(format!("/shmkit-bench-test-raw-{}", std::process::id()))
            .unwrap();
        for commit in [false, true, false] {
            raw::lifecycle(&name, 4096, commit).unwrap();
        }
        let file = std::path::Path::new("/dev/shm").join(&name.to_str().unwrap()[1..]);
        assert!(!file.exists(), "{} left behind", file.display());
    }

    #[test]
    fn parses_criterion_estimates() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.0,"standard_error":0.1},
            "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1500.5,"upper_bound":1600.0},"point_estimate":1550.25,"standard_error":5.0}}"#;
        let m = estimates::parse_median(json).unwrap();
        assert_eq!(
            m,
            estimates::Median {
                ns: 1550.25,
                lower_ns: 1500.5,
                upper_ns: 1600.0
            }
        );
        assert!(estimates::parse_median("{}").is_err());
        assert!(estimates::parse_median("not json").is_err());
    }

    #[test]
    fn missing_estimates_are_reported_as_missing() {
        let dir = std::env::temp_dir().join(format!("shmkit-bench-none-{}", std::process::id()));
        let err = estimates::load_median(&dir, "lifecycle", "shmkit").unwrap_err();
        assert!(matches!(err, estimates::Error::Missing(_)), "{err}");
        assert!(err.to_string().contains("estimates.json"));
    }
}
