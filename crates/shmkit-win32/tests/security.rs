//! Security descriptors on Linux: what `SECURITY_ATTRIBUTES.lpSecurityDescriptor` makes
//! of an object's permissions (the mode bits of its file in the store), and what a
//! second user may then open. The C helper tests/c/security_holder.c creates and holds
//! objects, or opens them, as the C API does; the second-user tests need root (CI runs
//! as root) and run the opener under an unused uid, in a private store.

#![cfg(target_os = "linux")]

mod common;

use common::{compile, crate_dir};

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A uid and gid that no account uses, for "another user".
const OTHER_UID: u32 = 54_323;

/// The helper program, built once.
fn holder() -> PathBuf {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-api-security");
        std::fs::create_dir_all(&dir).expect("build directory");
        let out = dir.join("security_holder");
        let source = crate_dir().join("tests/c/security_holder.c");
        compile("cc", &[source.to_str().expect("a UTF-8 path")], &out);
        out
    })
    .clone()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A private store for one test, removed on drop.
struct Store(PathBuf);

impl Store {
    fn new() -> Store {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "shmkit-test-security-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&p).expect("store");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        Store(p)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(holder());
        cmd.args(args)
            .env("SHMKIT_DIR", &self.0)
            .env("XDG_RUNTIME_DIR", self.0.join("no-runtime-dir"))
            .stdout(Stdio::piped());
        cmd
    }

    /// Creates `Global\NAME` of `kind` with `descriptor`; returns the holder (the object
    /// lives until it is dropped) and its report.
    fn create(&self, kind: &str, name: &str, descriptor: &str) -> (Holder, String) {
        let mut child = self
            .command(&["create", kind, &format!("Global\\{name}"), descriptor])
            .stdin(Stdio::piped())
            .spawn()
            .expect("start the holder");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("read the report");
        (Holder(child), line.trim().to_owned())
    }

    /// Opens `Global\NAME` as `uid` (None: this user) for reading or read-write.
    fn open(&self, kind: &str, name: &str, access: &str, uid: Option<u32>) -> String {
        let mut cmd = self.command(&["open", kind, &format!("Global\\{name}"), access]);
        cmd.stdin(Stdio::null());
        if let Some(uid) = uid {
            cmd.uid(uid).gid(uid);
        }
        let out = cmd.output().expect("run the opener");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The permission bits of the object file of `name`.
    fn mode(&self, name: &str) -> u32 {
        let path = self.0.join("shmkit.global").join(format!("o.{name}"));
        std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .mode()
            & 0o777
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A holder process: its object goes when it is dropped.
struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.0.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let _ = self.0.wait();
    }
}

fn name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "shmkit-test-sec-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

const KINDS: [&str; 4] = ["mapping", "mutex", "event", "semaphore"];

/// Issue row: security descriptors were not interpreted (every object got the owner-only
/// default). Each descriptor now gives the permissions its DACL says.
#[test]
fn a_descriptor_becomes_the_objects_permission_bits() {
    let store = Store::new();
    // (descriptor, bits for each kind: mapping, mutex, event, semaphore)
    let owner_sys_admins = if is_root() { 0o600 } else { 0o000 };
    let cases: Vec<(&str, [u32; 4])> = vec![
        ("-", [0o600; 4]),
        ("null", [0o666; 4]),
        // GENERIC_READ | GENERIC_WRITE: no SYNCHRONIZE for a sync object (Windows maps
        // it from GENERIC_EXECUTE), so no read bit; a sync object needs both to open.
        ("everyone", [0o666, 0o000, 0o222, 0o222]),
        ("D:(A;;GA;;;WD)", [0o666; 4]),
        ("D:NO_ACCESS_CONTROL", [0o666; 4]),
        ("D:", [0o000; 4]),
        ("D:P(A;;GA;;;SY)(A;;GA;;;BA)", [owner_sys_admins; 4]),
        ("D:(A;;GA;;;OW)(A;;GR;;;WD)", [0o644, 0o600, 0o600, 0o600]),
        ("D:(A;;GA;;;OW)(A;;GRGX;;;AU)", [0o644, 0o666, 0o644, 0o644]),
        ("D:(D;;GW;;;WD)(A;;GA;;;WD)", [0o444, 0o666, 0o444, 0o444]),
        ("D:(A;;FA;;;BU)", [0o666; 4]),
        // EVENT_ALL_ACCESS: for a section, SECTION_QUERY and SECTION_MAP_WRITE only.
        ("D:(A;;0x1f0003;;;WD)", [0o222, 0o666, 0o666, 0o666]),
        ("D:(A;IO;GA;;;WD)(A;;GA;;;OW)", [0o600; 4]),
        ("D:(A;;GA;;;CO)(A;;GA;;;OW)", [0o600; 4]),
        ("S:(ML;;NW;;;LW)D:(A;;GA;;;WD)", [0o666; 4]),
    ];
    for (descriptor, bits) in cases {
        for (kind, want) in KINDS.iter().zip(bits) {
            let n = name(kind);
            let (_held, report) = store.create(kind, &n, descriptor);
            assert_eq!(report, "created", "{kind} with {descriptor}");
            assert_eq!(
                store.mode(&n),
                want,
                "{kind} with {descriptor}: mode {:o}",
                store.mode(&n)
            );
        }
    }
}

/// Issue row: what permissions cannot express was silently ignored. It fails the create
/// call with the code Windows would give, and nothing is created.
#[test]
fn a_descriptor_permissions_cannot_express_fails_the_create_call() {
    let store = Store::new();
    let cases = [
        ("D:(A;;GA;;;BG)", 1338),                  // an ACE for Guests: another SID
        ("D:(A;;GA;;;S-1-5-21-1-2-3-1001)", 1338), // another user
        ("D:(D;;GA;;;S-1-5-21-1-2-3-1001)(A;;GA;;;WD)", 1338),
        ("D:(D;;GA;;;BA)(A;;GA;;;WD)", 1338), // root cannot be denied
        ("O:S-1-5-21-1-2-3-1001D:(A;;GA;;;WD)", 1307), // an owner other than the caller
        ("S:(AU;SAFA;GA;;;WD)D:(A;;GA;;;WD)", 1314), // auditing needs SeSecurityPrivilege
        ("zero", 1305),                       // revision 0
    ];
    for (descriptor, code) in cases {
        for kind in KINDS {
            let n = name(kind);
            let (_held, report) = store.create(kind, &n, descriptor);
            assert_eq!(report, format!("error {code}"), "{kind} with {descriptor}");
            assert!(!store
                .0
                .join("shmkit.global")
                .join(format!("o.{n}"))
                .exists());
        }
    }
}

/// What another user may open follows the descriptor: everything with a NULL DACL or
/// Everyone's full access, nothing by default or with SY/BA only, reading only with
/// Everyone's read (a sync object needs read and write to be opened on Linux: SPEC 6).
#[test]
fn a_second_user_opens_what_the_descriptor_grants() {
    if !is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "this test needs root, and CI runs as root"
        );
        eprintln!("a_second_user_opens_what_the_descriptor_grants: NOT RUN (needs root)");
        return;
    }
    let store = Store::new();
    let other = Some(OTHER_UID);
    // (descriptor, kind, what the other user gets reading, and read-write)
    let cases = [
        ("null", "mapping", "opened", "opened"),
        ("null", "mutex", "opened", "opened"),
        ("everyone", "mapping", "opened", "opened"),
        ("everyone", "event", "error 5", "error 5"),
        ("D:(A;;GA;;;WD)", "semaphore", "opened", "opened"),
        ("-", "mapping", "error 5", "error 5"),
        ("-", "event", "error 5", "error 5"),
        (
            "D:P(A;;GA;;;SY)(A;;GA;;;BA)",
            "mapping",
            "error 5",
            "error 5",
        ),
        ("D:P(A;;GA;;;SY)(A;;GA;;;BA)", "mutex", "error 5", "error 5"),
        ("D:(A;;GA;;;OW)(A;;GR;;;WD)", "mapping", "opened", "error 5"),
        ("D:(D;;GW;;;WD)(A;;GA;;;WD)", "mapping", "opened", "error 5"),
        ("D:(D;;GW;;;WD)(A;;GA;;;WD)", "event", "error 5", "error 5"),
    ];
    for (descriptor, kind, read, write) in cases {
        let n = name(kind);
        let (_held, report) = store.create(kind, &n, descriptor);
        assert_eq!(report, "created", "{kind} with {descriptor}");
        assert_eq!(
            store.open(kind, &n, "r", other),
            read,
            "{kind} with {descriptor}, read"
        );
        assert_eq!(
            store.open(kind, &n, "rw", other),
            write,
            "{kind} with {descriptor}, read-write"
        );
        // The creator (root) opens it whatever the descriptor says.
        assert_eq!(
            store.open(kind, &n, "rw", None),
            "opened",
            "{kind} with {descriptor}, root"
        );
    }
}
