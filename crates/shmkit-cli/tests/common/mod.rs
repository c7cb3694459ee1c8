//! Helpers of the command-line tests: a private store per test, unique names, holders
//! started in the background with a watchdog, and the check that nothing was left.
//!
//! On Windows the objects themselves are kernel objects in the session's one namespace,
//! which no store can make private: there the unique names keep tests and runs apart,
//! and the private store (`SHMKIT_DIR`, honoured by the Windows backend too) holds only
//! the files of persistent objects.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_shmkit");

/// How long any command may run before the watchdog kills it and fails the test.
pub const WATCHDOG: Duration = Duration::from_secs(60);

fn next() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A base name no other test, process or run uses (only `[a-z0-9-]`, so its file in the
/// store is `o.<base>`).
pub fn unique_base(what: &str) -> String {
    format!("shmkit-test-cli-{what}-{}-{}", std::process::id(), next())
}

/// `Local\<unique base>`.
pub fn unique(what: &str) -> String {
    format!("Local\\{}", unique_base(what))
}

/// The effective uid of the tests (and so of the binary they start).
#[cfg(not(windows))]
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A store root of the test's own (`SHMKIT_DIR`) in /dev/shm, so that no other process
/// on the machine reclaims, lists or frees what the test expects to see. Removed when
/// dropped, whatever happened; [`Store::assert_clean`] checks that the commands left
/// nothing behind. On Windows it is a directory in the temporary directory, and holds
/// the persistent objects only (see the module documentation).
pub struct Store {
    pub root: PathBuf,
}

impl Store {
    pub fn new() -> Store {
        let dir = format!("shmkit.cli-test.{}.{}", std::process::id(), next());
        let root = if cfg!(windows) {
            std::env::temp_dir().join(dir)
        } else {
            Path::new("/dev/shm").join(dir)
        };
        std::fs::create_dir(&root).expect("create the test store");
        Store { root }
    }

    /// The binary, in this store, with the watchdog.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(BIN);
        c.env("SHMKIT_DIR", &self.root).timeout(WATCHDOG);
        c
    }

    /// The binary, in this store, to start in the background.
    pub fn spawn_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(BIN);
        c.env("SHMKIT_DIR", &self.root);
        c
    }

    /// The file of `name` (`Local\<base>` from [`unique`]) in the store.
    #[cfg(not(windows))]
    pub fn object_file(&self, name: &str) -> PathBuf {
        let base = name.rsplit('\\').next().unwrap_or(name);
        self.root
            .join(format!("shmkit.local.{}", euid()))
            .join(format!("o.{base}"))
    }

    /// Every file in the store's namespace directories.
    pub fn entries(&self) -> Vec<String> {
        let mut out = Vec::new();
        for dir in std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = dir.path();
            if !path.is_dir() {
                out.push(path.display().to_string());
                continue;
            }
            for e in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                out.push(e.path().display().to_string());
            }
        }
        out
    }

    /// Nothing is left: no object, no lease.
    pub fn assert_clean(&self) {
        let left = self.entries();
        assert!(left.is_empty(), "left in the store: {left:?}");
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Waits for `child`, killing it and failing the test if it outlives `limit`.
pub fn wait_with_watchdog(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "watchdog: pid {} ran longer than {limit:?} and was killed",
                child.id()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `sig` to `pid`.
#[cfg(not(windows))]
pub fn signal(pid: u32, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a pid");
    rustix::process::kill_process(pid, sig).expect("kill");
}

/// Lines a child writes, collected by a thread (so that the child never blocks on a
/// full pipe), with a way to wait for a line.
pub struct Lines {
    text: Arc<Mutex<String>>,
    rx: mpsc::Receiver<String>,
}

impl Lines {
    pub fn collect(stream: impl std::io::Read + Send + 'static) -> Lines {
        let text = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let all = Arc::clone(&text);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                all.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        Lines { text, rx }
    }

    /// Waits (under the watchdog) for a line that contains `needle`.
    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + WATCHDOG;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line with {needle:?}; got:\n{}", self.all()),
            }
        }
    }

    /// Everything collected so far.
    pub fn all(&self) -> String {
        self.text.lock().unwrap().clone()
    }
}

/// `shmkit create NAME --size SIZE --hold`, running in the background with stdin on a
/// pipe. Killed when dropped if still running.
pub struct Holder {
    pub child: Child,
    pub pid: u32,
    stdin: Option<ChildStdin>,
    pub stderr: Lines,
}

impl Holder {
    /// Starts the holder and waits until it says it holds the object.
    pub fn start(store: &Store, name: &str, size: &str, extra: &[&str]) -> Holder {
        let args = [&["create", name, "--size", size, "--hold"][..], extra].concat();
        Holder::start_with(store, &args)
    }

    /// Starts `shmkit ARGS` (a `create ... --hold`) and waits until it says it holds.
    pub fn start_with(store: &Store, args: &[&str]) -> Holder {
        let mut child = store
            .spawn_cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start shmkit create --hold");
        let pid = child.id();
        let stdin = child.stdin.take();
        let stderr = Lines::collect(child.stderr.take().expect("stderr"));
        let holder = Holder {
            child,
            pid,
            stdin,
            stderr,
        };
        let line = holder.stderr.wait_for("holding");
        assert!(line.contains(&format!("pid {pid}")), "{line}");
        holder
    }

    /// Closes its stdin: end of input, which releases the object.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Closes its stdin and waits for it to exit.
    pub fn release(mut self) -> ExitStatus {
        drop(self.stdin.take());
        wait_with_watchdog(&mut self.child, WATCHDOG)
    }

    /// Sends `sig` and waits for it to exit.
    #[cfg(not(windows))]
    pub fn signal(mut self, sig: rustix::process::Signal) -> ExitStatus {
        signal(self.pid, sig);
        wait_with_watchdog(&mut self.child, WATCHDOG)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A temporary file outside the store, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(what: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(unique_base(what));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reproducible pseudo-random bytes (xorshift64).
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The lowercase hex SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs the binary in `store` with `stdin` (a file, `/dev/zero`...), under the watchdog.
pub fn run_with_stdin(store: &Store, args: &[&str], stdin: Stdio) -> std::process::Output {
    let child = store
        .spawn_cmd()
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shmkit");
    finish(child)
}

/// Runs the binary in `store` with an endless stdin of zero bytes from a pipe (what
/// `/dev/zero` gives where there is one), under the watchdog.
pub fn run_with_endless_zeros(store: &Store, args: &[&str]) -> std::process::Output {
    let mut child = store
        .spawn_cmd()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shmkit");
    let mut stdin = child.stdin.take().expect("stdin");
    // Ends when the binary exits and the pipe breaks.
    std::thread::spawn(move || {
        let zeros = vec![0u8; 1 << 16];
        while std::io::Write::write_all(&mut stdin, &zeros).is_ok() {}
    });
    finish(child)
}

/// Waits for `child` (stdout and stderr piped) under the watchdog, with what it wrote.
fn finish(mut child: Child) -> std::process::Output {
    let out = Lines::collect(child.stdout.take().expect("stdout"));
    let err = Lines::collect(child.stderr.take().expect("stderr"));
    let status = wait_with_watchdog(&mut child, WATCHDOG);
    // The collectors finish when the pipes close, right after the exit.
    let deadline = Instant::now() + WATCHDOG;
    while Arc::strong_count(&out.text) + Arc::strong_count(&err.text) > 2
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::process::Output {
        status,
        stdout: out.all().into_bytes(),
        stderr: err.all().into_bytes(),
    }
}
