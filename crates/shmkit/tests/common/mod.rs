//! Helpers shared by the integration tests: unique names, child processes with a
//! watchdog, and a check that nothing was left in the store.
#![allow(dead_code)]

#[cfg(target_os = "linux")]
pub mod users;

use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Every test object's name contains this, so leftovers can be found.
pub const TEST_TAG: &str = "shmkit-test";

/// A name no other test, process or run uses: `Local\shmkit-test-<what>-<pid>-<n>`.
pub fn unique(what: &str) -> String {
    format!("Local\\{}", unique_base(what))
}

/// A unique `Global\` name.
pub fn unique_global(what: &str) -> String {
    format!("Global\\{}", unique_base(what))
}

pub fn unique_base(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{TEST_TAG}-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// How long any child may run before the watchdog kills it and fails the test.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// Waits for `child`, killing it and panicking if it outlives the watchdog.
pub fn wait_output(mut child: Child) -> Output {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        match child.try_wait().expect("try_wait") {
            Some(_) => return child.wait_with_output().expect("wait_with_output"),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("wait_with_output");
                panic!(
                    "watchdog: child ran longer than {WATCHDOG:?}; stdout: {} stderr: {}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// A command that runs this test binary's `child_entry` test in role `role`.
///
/// Each integration test file that uses it defines an ignored test named `child_entry`
/// which dispatches on `SHMKIT_TEST_ROLE`.
pub fn child(role: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("current_exe"));
    cmd.args([
        "child_entry",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env("SHMKIT_TEST_ROLE", role)
    .env("SHMKIT_TEST_ARGS", args.join("\u{1f}"))
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

/// The role and arguments of a child started by [`child`], if this is one.
pub fn child_role() -> Option<(String, Vec<String>)> {
    let role = std::env::var("SHMKIT_TEST_ROLE").ok()?;
    let args = std::env::var("SHMKIT_TEST_ARGS").unwrap_or_default();
    let args = if args.is_empty() {
        Vec::new()
    } else {
        args.split('\u{1f}').map(str::to_owned).collect()
    };
    Some((role, args))
}

/// The lines a child printed with the `@@` prefix (test output is mixed with the
/// harness's own lines).
pub fn reported(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("@@").map(str::to_owned))
        .collect()
}

/// Prints a line the parent collects with [`reported`].
pub fn report(line: impl AsRef<str>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "@@{}", line.as_ref()).expect("stdout");
    out.flush().expect("flush");
}

/// What is left of the object `name` (a `Local\` name): its entries in the store on
/// Linux; on Windows, where the kernel keeps the objects, the name itself while an open
/// finds it.
pub fn leftovers(name: &str) -> Vec<String> {
    #[cfg(target_os = "linux")]
    return store_entries(&name["Local\\".len()..]);
    #[cfg(windows)]
    return match shmkit::Mapping::open(name, shmkit::Access::Read) {
        Ok(_) => vec![name.to_owned()],
        Err(_) => Vec::new(),
    };
}

/// The store directories (default root) and their entries that contain `needle`.
#[cfg(target_os = "linux")]
pub fn store_entries(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(dirs) = std::fs::read_dir("/dev/shm") else {
        return found;
    };
    for d in dirs.flatten() {
        let p = d.path();
        if !p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("shmkit."))
        {
            continue;
        }
        if let Ok(entries) = std::fs::read_dir(&p) {
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.contains(needle) {
                    found.push(e.path().display().to_string());
                }
            }
        }
    }
    found
}

/// Whether this process runs as root (some tests need a second user or a mount).
#[cfg(unix)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

#[cfg(unix)]
extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// For tests that need root: true when they can run. Under CI (which runs as root) a
/// missing privilege is a failure, not a skip.
#[cfg(unix)]
pub fn require_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} needs root, and CI runs as root"
    );
    eprintln!("{test}: NOT RUN (needs root)");
    false
}

/// `ok(value)`, or the error as `err <kind> <code> <message>`: how child roles report the
/// outcome of a call.
pub fn describe<T>(r: shmkit::Result<T>, ok: impl FnOnce(T) -> String) -> String {
    match r {
        Ok(v) => ok(v),
        Err(e) => format!("err {:?} {} {}", e.kind(), e.win32_code(), e),
    }
}

/// A child process to talk to while it runs: wait for its report lines, send it lines,
/// and let it finish (under the watchdog).
pub struct Talker {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    out: std::io::BufReader<std::process::ChildStdout>,
}

impl Talker {
    /// Starts `cmd` (made by [`child`], so with piped stdin and stdout).
    pub fn start(mut cmd: Command) -> Talker {
        let mut child = cmd.spawn().expect("spawn the child");
        let stdin = child.stdin.take();
        let out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        Talker { child, stdin, out }
    }

    /// The next report line that starts with `prefix` (without the `@@`), skipping the
    /// others; panics if the child ends first.
    pub fn wait_for(&mut self, prefix: &str) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.out.read_line(&mut line).expect("read the child") > 0,
                "the child ended before reporting {prefix:?}"
            );
            if let Some(r) = line.trim_end().strip_prefix("@@") {
                if r.starts_with(prefix) {
                    return r.to_owned();
                }
            }
        }
    }

    /// Sends the child one line on its stdin.
    pub fn say(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to the child");
    }

    /// Kills the child (SIGKILL) and reaps it.
    #[allow(dead_code)]
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Closes the child's stdin and waits for it to end.
    pub fn finish(mut self) -> Output {
        drop(self.stdin.take());
        wait_output(self.child)
    }
}

/// Runs the child command `test_cmd` under `strace -f -e trace=<syscalls>` (with `setup`
/// applied to the strace command: environment, uid) and returns its output and the
/// trace, and the lines of the trace between the writes of `@@begin` and `@@end`.
#[cfg(target_os = "linux")]
pub fn strace(
    test_cmd: &Command,
    syscalls: &str,
    setup: impl FnOnce(&mut Command),
) -> (Output, String) {
    let strace = ["/usr/bin/strace", "/bin/strace"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("strace is needed for this test (scripts/test installs it)");
    let log = std::env::temp_dir().join(format!("{TEST_TAG}-strace-{}.log", unique_base("log")));
    let mut cmd = Command::new(strace);
    cmd.args(["-f", "-qq", "-e", &format!("trace={syscalls},write"), "-o"])
        .arg(&log)
        .arg(test_cmd.get_program())
        .args(test_cmd.get_args())
        .envs(
            test_cmd
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    setup(&mut cmd);
    let out = wait_output(cmd.spawn().expect("spawn strace"));
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (out, trace)
}

/// The lines of a trace between the child's writes of `@@begin` and `@@end`.
pub fn traced_between_markers(trace: &str) -> Vec<&str> {
    let lines: Vec<&str> = trace.lines().collect();
    let at = |marker: &str| {
        lines
            .iter()
            .position(|l| l.contains("write(") && l.contains(marker))
            .unwrap_or_else(|| panic!("no {marker} in the trace:\n{trace}"))
    };
    lines[at("@@begin")..at("@@end")].to_vec()
}
