//! Benchmarks of shmkit against the code a user would write instead.
//!
//! The measured operations live here, so that the criterion benchmarks (`benches/`) and
//! any other timing or tracing run the same code:
//!
//! - [`shmkit_lifecycle`]: create a named mapping, map a view, write one byte, drop the
//!   view, close the mapping;
//! - [`raw::lifecycle`]: the same work with the POSIX calls a C program makes
//!   (`shm_open`, `ftruncate`, `mmap`, `munmap`, `close`, `shm_unlink`).
//!
//! [`estimates`] reads the figures criterion saves, for the `lifecycle-ratio` report:
//!
//! ```text
//! cargo bench -p shmkit-bench --bench lifecycle
//! cargo run -p shmkit-bench --bin lifecycle-ratio
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
