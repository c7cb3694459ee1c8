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
