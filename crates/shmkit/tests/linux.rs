//! Linux-specific tests: the backing store's security (SPEC 6), commit on a full store
//! (SPEC 2.8), and interoperation with POSIX shared memory made by Python.
#![cfg(target_os = "linux")]

mod common;

use common::users::{as_other_user, run, TempStore, OTHER_UID};
use common::{
    child, child_role, describe, report, require_root, unique, unique_base, unique_global,
};
use shmkit::{Access, ErrorKind, Mapping};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
#[ignore = "entry point of the child processes that the other tests start"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    let arg = |i: usize| args[i].as_str();
    let access = |s: &str| match s {
        "rw" => Access::ReadWrite,
        _ => Access::Read,
    };
    match role.as_str() {
        "try-create" => report(describe(Mapping::create(arg(0), 4096), |m| {
            format!("ok existed={}", m.already_existed())
        })),
        "try-open" => report(describe(Mapping::open(arg(0), access(arg(1))), |m| {
            let v = m.map(Access::Read).unwrap();
            let mut buf = [0; 8];
            v.read(0, &mut buf).unwrap();
            format!(
                "ok {}",
                String::from_utf8_lossy(&buf).trim_end_matches('\0')
            )
            .trim_end()
            .to_owned()
        })),
        "hold-shared" => {
            let m = Mapping::options()
                .name(arg(0))
                .size(4096)
                .permissions(0o666)
                .create()
                .unwrap();
            m.map(Access::ReadWrite)
                .unwrap()
                .write(0, b"squat")
                .unwrap();
            report("holding");
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        // Fills a small store: one object that fits (every page touched) and a mutex, an
        // event and a semaphore, then one object that does not fit; then fills what is
        // left, checks that sync objects fail cleanly, that what was made before still
        // works, and has a second process use the full store.
        "fill" => {
            use shmkit::sync::{EventReset, Semaphore};
            let fits = Mapping::create("Global\\fits", 512 << 10).unwrap();
            let v = fits.map(Access::ReadWrite).unwrap();
            for page in (0..v.len()).step_by(4096) {
                v.write(page, &[1]).unwrap();
            }
            report("fits ok");
            let mutex = shmkit::Mutex::create("Global\\before-mutex").unwrap();
            let event =
                shmkit::Event::create("Global\\before-event", EventReset::Manual, false).unwrap();
            let sem = Semaphore::create("Global\\before-sem", 1, 2).unwrap();
            report(describe(
                Mapping::create("Global\\too-big", 1 << 20),
                |_| "ok".into(),
            ));
            report(describe(Mapping::anonymous(64 << 20), |_| {
                "anonymous ok".into()
            }));
            let mut names: Vec<String> = std::fs::read_dir(
                Path::new(&std::env::var("SHMKIT_DIR").unwrap()).join("shmkit.global"),
            )
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with("l."))
            .collect();
            names.sort();
            report(format!("store {names:?}"));
            // Fill what is left, then sync objects must fail cleanly too.
            let mut fillers = Vec::new();
            let mut size = 256 << 10;
            while size >= 4096 {
                match Mapping::create(&format!("Global\\filler-{}", fillers.len()), size) {
                    Ok(m) => fillers.push(m),
                    Err(_) => size /= 2,
                }
            }
            report(describe(
                shmkit::Mutex::create("Global\\full-mutex"),
                |_| "ok".into(),
            ));
            report(describe(
                shmkit::Event::create("Global\\full-event", EventReset::Auto, false),
                |_| "ok".into(),
            ));
            report(describe(
                Semaphore::create("Global\\full-sem", 0, 1),
                |_| "ok".into(),
            ));
            // What was made before the store filled up is intact and usable.
            report(format!("before {}", use_full_store_objects(Some(&v))));
            let g = mutex.try_lock().unwrap().expect("nobody else holds it");
            report(format!("mutex abandoned={}", g.was_abandoned()));
            drop(g);
            event.set().unwrap();
            sem.release(1).unwrap();
            // Another process: its lease, its opens, its views, its creates.
            let mut peer = child("use-full", &[]);
            peer.stdin(Stdio::null());
            let out = common::wait_output(peer.spawn().unwrap());
            report(format!("peer {}", exit_of(&out.status)));
            for line in common::reported(&out) {
                report(format!("peer {line}"));
            }
            // A channel needs its control page and its ring: refused cleanly too.
            report(describe(
                shmkit::channel::Receiver::create("Global\\full-channel", 64 * 1024),
                |_| "ok".into(),
            ));
            drop((fillers, mutex, event, sem, v, fits));
        }
        // In a full store (made by "fill", which waits): opens and uses what is there,
        // and creates sync objects (which must fail cleanly, or open the existing ones).
        "use-full" => {
            use shmkit::sync::{EventReset, Semaphore};
            report(format!("objects {}", use_full_store_objects(None)));
            report(describe(
                shmkit::Mutex::create("Global\\peer-mutex"),
                |_| "ok".into(),
            ));
            report(describe(
                shmkit::Event::create("Global\\peer-event", EventReset::Auto, false),
                |_| "ok".into(),
            ));
            report(describe(
                Semaphore::create("Global\\peer-sem", 0, 1),
                |_| "ok".into(),
            ));
            report(describe(
                shmkit::Mutex::create("Global\\before-mutex"),
                |m| format!("ok existed={}", m.already_existed()),
            ));
        }
        // Forks while holding a handle; the child drops its copy (running the destructor)
        // and exits; then the parent reports whether the name survived.
        "fork-drop" => {
            let m = Mapping::create(arg(0), 4096).unwrap();
            // SAFETY: this child process runs one test on one thread; the forked child only
            // drops the copied handle and leaves with _exit, touching no lock held elsewhere.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                drop(m);
                // SAFETY: _exit ends the forked child at once, as fork's contract wants.
                unsafe { libc::_exit(0) };
            }
            let mut status = 0;
            // SAFETY: waits for the child just forked.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            report(describe(Mapping::open(arg(0), Access::Read), |_| {
                "still there".into()
            }));
            drop(m);
            report(describe(Mapping::open(arg(0), Access::Read), |_| {
                "still there".into()
            }));
        }
        // As "fork-drop", with both ends of a channel: the child drops its copies (their
        // destructors run), then the parent sends, receives and reports what it got.
        "fork-drop-channel" => {
            let mut rx = shmkit::channel::Receiver::create(arg(0), 4096).unwrap();
            let mut tx = shmkit::channel::Sender::open(arg(0)).unwrap();
            // SAFETY: as in "fork-drop": one thread; the child only drops and leaves.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                drop((rx, tx));
                // SAFETY: _exit ends the forked child at once, as fork's contract wants.
                unsafe { libc::_exit(0) };
            }
            let mut status = 0;
            // SAFETY: waits for the child just forked.
            assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
            let timeout = std::time::Duration::from_secs(10);
            report(describe(
                tx.send_timeout(b"after the fork", timeout),
                |()| "sent".into(),
            ));
            report(describe(rx.recv_timeout(timeout), |m| match m {
                Some(m) => String::from_utf8_lossy(&m).into_owned(),
                None => "timed out".into(),
            }));
            drop(tx);
            report(describe(rx.recv_timeout(timeout), |_| "a message".into()));
        }
        other => panic!("unknown role {other}"),
    }
}

/// How a child ended: `exit N` or `signal N` (a SIGBUS would be `signal 7`).
fn exit_of(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (_, Some(sig)) => format!("signal {sig}"),
        _ => format!("{status}"),
    }
}

/// Uses what "fill" made before the store filled up: every page of `Global\fits` still
/// holds its 1 and takes a write, the mutex locks (and was not abandoned), the event is
/// set by the first user and stays set, the semaphore has a unit. With `view`, through
/// that view; else through a fresh open and view. Returns `ok` or what went wrong.
fn use_full_store_objects(view: Option<&shmkit::View>) -> String {
    use shmkit::sync::Semaphore;
    use std::time::Duration;
    let first = view.is_some();
    let opened;
    let v = match view {
        Some(v) => v,
        None => {
            let m = match Mapping::open("Global\\fits", Access::ReadWrite) {
                Ok(m) => m,
                Err(e) => return format!("open fits: {e}"),
            };
            opened = m.map(Access::ReadWrite).unwrap();
            &opened
        }
    };
    for page in (0..v.len()).step_by(4096) {
        let mut b = [0; 2];
        v.read(page, &mut b).unwrap();
        let expected = if first { [1, 0] } else { [1, 2] };
        if b != expected {
            return format!("fits page {page} holds {b:?}, not {expected:?}");
        }
        v.write(page + 1, &[2]).unwrap();
    }
    let mutex = match shmkit::Mutex::open("Global\\before-mutex") {
        Ok(m) => m,
        Err(e) => return format!("open the mutex: {e}"),
    };
    match mutex.lock_timeout(Duration::from_secs(30)) {
        Ok(Some(g)) if !g.was_abandoned() => drop(g),
        r => return format!("lock: {r:?}"),
    }
    let event = match shmkit::Event::open("Global\\before-event") {
        Ok(e) => e,
        Err(e) => return format!("open the event: {e}"),
    };
    // "fill" sets the event (manual reset) and gives the semaphore its unit back before
    // it starts the second process.
    match event.wait_timeout(Duration::ZERO) {
        Ok(set) if set != first => {}
        r => return format!("event wait: {r:?}"),
    }
    let sem = match Semaphore::open("Global\\before-sem") {
        Ok(s) => s,
        Err(e) => return format!("open the semaphore: {e}"),
    };
    match sem.acquire_timeout(Duration::ZERO) {
        Ok(true) => {}
        r => return format!("semaphore acquire: {r:?}"),
    }
    "ok".to_owned()
}

// --- 6.1 / 6.2: permissions ------------------------------------------------------------

fn store_file_mode(name: &str) -> u32 {
    let base = name.split_once('\\').map_or(name, |(_, b)| b);
    let files = common::store_entries(base);
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::metadata(&files[0]).unwrap().mode() & 0o7777
}

#[test]
fn rule_6_1_objects_are_owner_only_by_default() {
    let name = unique_global("mode-default");
    let _m = Mapping::create(&name, 4096).unwrap();
    assert_eq!(store_file_mode(&name), 0o600);
    let local = unique("mode-local");
    let _l = Mapping::create(&local, 4096).unwrap();
    assert_eq!(store_file_mode(&local), 0o600);
}

#[test]
fn rule_6_2_permissions_are_set_at_creation() {
    let name = unique_global("mode-640");
    let _m = Mapping::options()
        .name(&name)
        .size(4096)
        .permissions(0o640)
        .create()
        .unwrap();
    assert_eq!(store_file_mode(&name), 0o640);
    let e = Mapping::options()
        .name(&unique("mode-bad"))
        .size(4096)
        .permissions(0o4755)
        .create()
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.win32_code()),
        (ErrorKind::InvalidParameter, 87),
        "{e}"
    );
}

#[test]
fn rule_6_another_user_is_held_to_the_permissions() {
    if !require_root("rule_6_another_user_is_held_to_the_permissions") {
        return;
    }
    let private = unique_global("u-private");
    let readable = unique_global("u-readable");
    let shared = unique_global("u-shared");
    let local = unique("u-local");
    let _a = Mapping::create(&private, 4096).unwrap();
    let b = Mapping::options()
        .name(&readable)
        .size(4096)
        .permissions(0o644)
        .create()
        .unwrap();
    b.map(Access::ReadWrite)
        .unwrap()
        .write(0, b"public")
        .unwrap();
    let _c = Mapping::options()
        .name(&shared)
        .size(4096)
        .permissions(0o666)
        .create()
        .unwrap();
    let _d = Mapping::create(&local, 4096).unwrap();

    // 6.1: the default refuses everyone else.
    let r = run("try-open", &[&private, "r"], as_other_user);
    assert!(r.starts_with("err PermissionDenied 5"), "{r}");
    // 6.2: the permissions decide.
    assert_eq!(
        run("try-open", &[&readable, "r"], as_other_user),
        "ok public"
    );
    let r = run("try-open", &[&readable, "rw"], as_other_user);
    assert!(r.starts_with("err PermissionDenied 5"), "{r}");
    assert_eq!(run("try-open", &[&shared, "rw"], as_other_user), "ok");
    // 1.2: Local objects are private to their user: the other user has its own Local.
    let r = run("try-open", &[&local, "r"], as_other_user);
    assert!(r.starts_with("err NotFound 2"), "{r}");
    // 6.3: create-or-open of another user's object is refused as a possible squat.
    let r = run("try-create", &[&shared], as_other_user);
    assert!(
        r.starts_with("err PermissionDenied 5") && r.contains("squat"),
        "{r}"
    );
    let _ = std::fs::remove_dir_all(format!("/dev/shm/shmkit.local.{OTHER_UID}"));
}

#[test]
fn rule_6_3_a_squatted_global_name_is_refused() {
    if !require_root("rule_6_3_a_squatted_global_name_is_refused") {
        return;
    }
    use std::io::{BufRead, BufReader};
    let name = unique_global("squatted");
    let mut cmd = child("hold-shared", &[&name]);
    as_other_user(&mut cmd);
    let mut squatter = cmd.spawn().unwrap();
    let mut out = BufReader::new(squatter.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 || line.starts_with("@@") {
            break;
        }
    }
    if line.trim() != "@@holding" {
        let _ = squatter.kill();
        let out = squatter.wait_with_output().unwrap();
        panic!(
            "squatter failed: {line} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let e = Mapping::create(&name, 4096).unwrap_err();
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::PermissionDenied, 5));
    assert!(e.to_string().contains(&format!("uid {OTHER_UID}")), "{e}");
    // Opening another user's object on purpose is allowed by its permissions.
    let o = Mapping::open(&name, Access::Read).unwrap();
    let mut buf = [0; 5];
    o.map(Access::Read).unwrap().read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"squat");
    drop(o);
    drop(squatter.stdin.take());
    let _ = squatter.wait();
}

// --- 6.3: the backing store ------------------------------------------------------------

fn expect_refused(store: &TempStore, name: &str, why: &str) {
    let before = store.listing();
    for (role, args) in [("try-create", vec![name]), ("try-open", vec![name, "r"])] {
        let r = run(role, &args, |c| store.env(c));
        assert!(
            r.starts_with("err PermissionDenied 5"),
            "{role} {name}: {r}"
        );
        assert!(
            r.contains(why),
            "{role} {name}: message should say {why:?}: {r}"
        );
    }
    assert_eq!(store.listing(), before, "a refusal changes nothing");
}

#[test]
fn rule_6_3_a_local_directory_of_another_user_is_refused() {
    if !require_root("rule_6_3_a_local_directory_of_another_user_is_refused") {
        return;
    }
    let store = TempStore::new("st-owner");
    std::fs::create_dir(store.local_dir()).unwrap();
    std::fs::set_permissions(store.local_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(store.local_dir(), Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    expect_refused(&store, "Local\\x", &format!("belongs to uid {OTHER_UID}"));
}

#[test]
fn rule_6_3_a_symlinked_namespace_directory_is_refused() {
    let store = TempStore::new("st-link");
    let elsewhere = store.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, store.local_dir()).unwrap();
    expect_refused(&store, "Local\\x", "symbolic link");
}

#[test]
fn rule_6_3_a_loosely_permissioned_local_directory_is_refused() {
    let store = TempStore::new("st-loose");
    std::fs::create_dir(store.local_dir()).unwrap();
    std::fs::set_permissions(store.local_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    expect_refused(&store, "x", "lets other users in");
}

#[test]
fn rule_6_3_a_global_directory_without_the_sticky_bit_is_refused() {
    let store = TempStore::new("st-nosticky");
    std::fs::create_dir(store.path("shmkit.global")).unwrap();
    std::fs::set_permissions(
        store.path("shmkit.global"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    expect_refused(&store, "Global\\x", "sticky");
}

#[test]
fn rule_6_3_a_global_directory_of_another_user_is_refused() {
    if !require_root("rule_6_3_a_global_directory_of_another_user_is_refused") {
        return;
    }
    let store = TempStore::new("st-gowner");
    std::fs::create_dir(store.path("shmkit.global")).unwrap();
    std::fs::set_permissions(
        store.path("shmkit.global"),
        std::fs::Permissions::from_mode(0o1777),
    )
    .unwrap();
    std::os::unix::fs::chown(
        store.path("shmkit.global"),
        Some(OTHER_UID),
        Some(OTHER_UID),
    )
    .unwrap();
    expect_refused(&store, "Global\\x", &format!("belongs to uid {OTHER_UID}"));
}

/// A proper store with one planted entry under the object file name of `Global\<base>`.
fn store_with_planted(tag: &str, base: &str, plant: impl FnOnce(&Path)) -> TempStore {
    let store = TempStore::new(tag);
    let dir = store.path("shmkit.global");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    plant(&dir.join(format!("o.{base}")));
    store
}

#[test]
fn rule_6_3_a_symlink_under_an_object_name_is_refused() {
    let target = std::env::temp_dir().join(unique_base("victim"));
    std::fs::write(&target, b"precious").unwrap();
    let store = store_with_planted("st-objlink", "victim", |p| {
        std::os::unix::fs::symlink(&target, p).unwrap()
    });
    expect_refused(&store, "Global\\victim", "symbolic link");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    std::fs::remove_file(target).unwrap();
}

#[test]
fn rule_6_3_a_fifo_under_an_object_name_is_refused_without_blocking() {
    let store = store_with_planted("st-fifo", "pipe", |p| {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { mkfifo(c.as_ptr(), 0o666) }, 0);
    });
    expect_refused(&store, "Global\\pipe", "not a regular file");
}

extern "C" {
    fn mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

/// A directory under an object's name was error 31 (`Other`, "Is a directory") for a
/// create; it is refused as what it is, like a FIFO.
#[test]
fn rule_6_3_a_directory_under_an_object_name_is_refused() {
    let store = store_with_planted("st-dir", "dir", |p| std::fs::create_dir(p).unwrap());
    expect_refused(&store, "Global\\dir", "not a regular file");
}

#[test]
fn rule_6_3_a_foreign_file_under_an_object_name_is_refused() {
    let store = store_with_planted("st-junk", "junk", |p| {
        std::fs::write(p, vec![0x55; 8192]).unwrap()
    });
    expect_refused(&store, "Global\\junk", "not a shmkit object");
}

// --- 2.8: commit at creation -----------------------------------------------------------

#[test]
fn rule_2_8_a_full_store_is_a_clean_error_never_sigbus() {
    if !require_root("rule_2_8_a_full_store_is_a_clean_error_never_sigbus") {
        return;
    }
    let store = TempStore::new("st-full");
    let mount = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=1m,mode=1777",
            "shmkit-test",
            store.0.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(mount.success(), "mount a 1 MiB tmpfs");
    // Unmounted however the test ends: a failed assertion unwinds through this guard.
    // A child that is still ending may keep the mount busy for a moment: retry, then
    // detach it (umount -l) rather than leave it mounted.
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            for _ in 0..50 {
                let done = Command::new("umount")
                    .arg(self.0)
                    .stderr(Stdio::null())
                    .status();
                if done.is_ok_and(|s| s.success()) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let _ = Command::new("umount").arg("-l").arg(self.0).status();
        }
    }
    let unmount = Unmount(&store.0);
    let mut cmd = child("fill", &[]);
    cmd.stdin(Stdio::null());
    store.env(&mut cmd);
    let out = common::wait_output(cmd.spawn().unwrap());
    let r = common::reported(&out).join("\n");
    // No process died of SIGBUS (or of anything else): both exited, successfully.
    assert_eq!(
        exit_of(&out.status),
        "exit 0",
        "the filling process: {r}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(lines.len(), 16, "{r}");
    assert_eq!(lines[0], "fits ok", "{r}");
    assert!(lines[1].starts_with("err NoSpace 112"), "{r}");
    assert!(
        lines[1].contains("too-big"),
        "the message names the object: {r}"
    );
    assert_eq!(
        lines[3], "store [\"o.before-event\", \"o.before-mutex\", \"o.before-sem\", \"o.fits\"]",
        "the failed create left nothing: {r}"
    );
    // A full store refuses sync objects cleanly too, naming the object and the page it
    // needed (it said "cannot hold 0 more bytes"), in the process that filled it and in
    // another one.
    let refusals = (lines[4..7].iter().map(|l| ("", *l))).chain(
        lines[11..14]
            .iter()
            .map(|l| ("peer ", l.strip_prefix("peer ").unwrap_or(l))),
    );
    let objects = ["full-mutex", "full-event", "full-sem"].into_iter().chain([
        "peer-mutex",
        "peer-event",
        "peer-sem",
    ]);
    for ((who, line), what) in refusals.zip(objects) {
        assert!(line.starts_with("err NoSpace 112"), "{who}{line}\n{r}");
        assert!(line.contains(what) && line.contains("4096"), "{who}{line}");
        assert!(!line.contains(" 0 more bytes"), "{who}{line}");
    }
    // What was made before the store filled up stays intact and usable, in the process
    // that made it and in another process that opens and maps it in the full store.
    assert_eq!(lines[7], "before ok", "{r}");
    assert_eq!(lines[8], "mutex abandoned=false", "{r}");
    assert_eq!(lines[9], "peer exit 0", "the second process: {r}");
    assert_eq!(lines[10], "peer objects ok", "{r}");
    // Create-or-open of an existing sync object needs no space.
    assert_eq!(lines[14], "peer ok existed=true", "{r}");
    assert!(
        lines[15].starts_with("err NoSpace 112") && lines[15].contains("full-channel"),
        "{r}"
    );
    drop(unmount);
    let mounted = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounted.contains(&format!(" {} ", store.0.display())),
        "the tmpfs is unmounted"
    );
}

#[test]
fn rule_2_8_unnamed_objects_are_committed_too() {
    // More than the machine could ever back: refused up front with a clean error.
    let e = Mapping::anonymous(1 << 50).unwrap_err();
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::NoSpace, 8), "{e}");
    // And so is a named object larger than the store.
    let name = unique("too-big");
    let e = Mapping::create(&name, 1 << 50).unwrap_err();
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::NoSpace, 112), "{e}");
    assert!(e.to_string().contains("too-big"), "{e}");
    assert_eq!(
        Mapping::open(&name, Access::Read).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

// --- Interop with POSIX shared memory ----------------------------------------------------

#[test]
fn opens_a_python_shared_memory_object() {
    use std::io::{BufRead, BufReader, Write};
    let script = r#"
import sys
from multiprocessing import shared_memory
shm = shared_memory.SharedMemory(create=True, size=4096)
shm.buf[:11] = b"from python"
print(shm.name, flush=True)
sys.stdin.readline()
print(bytes(shm.buf[100:109]).decode(), flush=True)
shm.close()
shm.unlink()
"#;
    let mut py = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is installed by scripts/test");
    let mut out = BufReader::new(py.stdout.take().unwrap());
    let mut os_name = String::new();
    out.read_line(&mut os_name).unwrap();
    let os_name = os_name.trim().to_owned();
    assert!(!os_name.is_empty(), "python reported its object");

    let m = Mapping::open_os(&os_name, Access::ReadWrite).unwrap();
    assert_eq!(m.size(), 4096);
    let v = m.map(Access::ReadWrite).unwrap();
    let mut buf = [0; 11];
    v.read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"from python");
    v.write(100, b"from rust").unwrap();
    // The leading slash of shm_open names is accepted too.
    assert_eq!(
        Mapping::open_os(&format!("/{os_name}"), Access::Read)
            .unwrap()
            .size(),
        4096
    );
    drop((v, m));

    py.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut answer = String::new();
    out.read_line(&mut answer).unwrap();
    assert_eq!(answer.trim(), "from rust");
    assert!(py.wait().unwrap().success());
    assert!(
        !Path::new("/dev/shm").join(&os_name).exists(),
        "python unlinked it"
    );
    let e = Mapping::open_os(&os_name, Access::Read).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[test]
fn open_os_refuses_bad_names() {
    for bad in ["", "/", "a/b", "..", "/x/y"] {
        let e = Mapping::open_os(bad, Access::Read).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{bad:?}: {e}");
    }
}

// --- fork ------------------------------------------------------------------------------

#[test]
fn a_forked_child_never_removes_its_parents_names() {
    let name = unique("fork");
    let r = run("fork-drop", &[&name], |_| {});
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(
        lines[0], "still there",
        "the child's drop left the parent's name: {r}"
    );
    assert!(
        lines[1].starts_with("err NotFound 2"),
        "the parent's own close removes it: {r}"
    );
}

#[test]
fn a_forked_child_dropping_its_copies_of_a_channels_ends_never_detaches_its_parents() {
    let name = unique("fork-channel");
    let r = run("fork-drop-channel", &[&name], |_| {});
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(lines[..2], ["sent", "after the fork"], "{r}");
    assert!(
        lines[2].starts_with("err Disconnected"),
        "the parent's own sender closing still disconnects: {r}"
    );
}
