//! Regression tests for what a hostile user or a crash did to shmkit processes: each test
//! is named after the attack it pins. They run as root (as CI does) and start children
//! under other uids, in a private store.
#![cfg(target_os = "linux")]

mod common;

use common::users::{as_other_user, as_victim, run, TempStore, OTHER_UID};
use common::{child_role, describe, report, require_root, unique_base, Talker};
use shmkit::{Access, Mapping};
use std::os::unix::fs::PermissionsExt;

#[test]
#[ignore = "entry point of the child processes that the other tests start"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    let arg = |i: usize| args[i].as_str();
    match role.as_str() {
        "try-create" => report(describe(Mapping::create(arg(0), 4096), |m| {
            format!("ok existed={}", m.already_existed())
        })),
        "try-open" => report(describe(Mapping::open(arg(0), Access::Read), |_| {
            "ok".to_owned()
        })),
        // Creates an object with the permissions of arg 1 and holds it until stdin closes.
        "create-and-hold" => {
            let _m = Mapping::options()
                .name(arg(0))
                .size(4096)
                .permissions(arg(1).parse().unwrap())
                .create()
                .unwrap();
            report("created");
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        // Creates an object every user may use, then ends at once without closing it,
        // as a killed process does (no destructor, no exit handler).
        "create-and-die" => {
            let m = Mapping::options()
                .name(arg(0))
                .size(4096)
                .permissions(arg(1).parse().unwrap())
                .create()
                .unwrap();
            report("created");
            std::mem::forget(m);
            // SAFETY: ends this child process at once; nothing else runs in it.
            unsafe { libc::_exit(0) };
        }
        "create-persistent" => report(describe(
            Mapping::options()
                .name(arg(0))
                .size(3 * 65536)
                .persistent(true)
                .create(),
            |_| "created".to_owned(),
        )),
        // Creates a persistent file-backed `Global\` mapping over the file at arg 1.
        "create-file-backed" => {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(arg(1))
                .unwrap();
            report(describe(
                Mapping::options()
                    .name(arg(0))
                    .file(&file)
                    .permissions(0o666)
                    .persistent(true)
                    .create(),
                |_| "created".to_owned(),
            ));
        }
        // Opens the name for reading and writing and reports its first bytes.
        "open-and-read" => report(describe(Mapping::open(arg(0), Access::ReadWrite), |m| {
            let mut buf = [0u8; 6];
            m.map(Access::Read).unwrap().read(0, &mut buf).unwrap();
            format!("ok {}", String::from_utf8_lossy(&buf))
        })),
        // Opens a file of the store for writing, as any program could.
        "write-file" => report(match std::fs::OpenOptions::new().write(true).open(arg(0)) {
            Ok(_) => "opened for writing".to_owned(),
            Err(e) => format!("refused {:?}", e.kind()),
        }),
        // Takes the locks a reader can take on a file it may only read: a shared flock
        // and an OFD read lock (reporting whether an OFD write lock is refused); on a
        // line from stdin, upgrades the flock to exclusive; holds until stdin closes.
        "lock-file" => {
            use std::os::fd::AsRawFd;
            let f = std::fs::File::open(arg(0)).unwrap();
            let fd = f.as_raw_fd();
            // SAFETY: flock on a descriptor this process owns.
            assert_eq!(unsafe { libc::flock(fd, libc::LOCK_SH | libc::LOCK_NB) }, 0);
            assert!(ofd_lock(&f, libc::F_RDLCK));
            report(format!("locked write-lock={}", ofd_lock(&f, libc::F_WRLCK)));
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            // SAFETY: as above.
            let upgraded = unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) == 0 };
            report(format!("upgraded={upgraded}"));
            let _ = std::io::stdin().read_line(&mut line);
        }
        // Holds the file arg 0, opened read-write, with an OFD read lock, as a handle
        // does; on a line from stdin upgrades it to a write lock and holds that until
        // stdin closes.
        "write-lock-file" => {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(arg(0))
                .unwrap();
            assert!(ofd_lock(&f, libc::F_RDLCK));
            report("held");
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            report(format!("write-locked={}", ofd_lock(&f, libc::F_WRLCK)));
            let _ = std::io::stdin().read_line(&mut line);
        }
        // Runs one operation in the namespace of arg 0, then (between markers on stdout,
        // which a tracer sees as writes) ten more.
        "ten-operations" => {
            use std::io::Write;
            let op = |i: usize| drop(Mapping::create(&format!("{}-{i}", arg(0)), 4096).unwrap());
            op(0);
            let mut out = std::io::stdout().lock();
            out.write_all(b"@@begin\n").unwrap();
            out.flush().unwrap();
            for i in 1..=10 {
                op(i);
            }
            out.write_all(b"@@end\n").unwrap();
            out.flush().unwrap();
        }
        // Hands a named mapping to a child that outlives this process (arg 1: "inherit"
        // for an inheritable handle, "share" for share_with), then closes it and exits.
        "lend-and-exit" => {
            let mut cmd = std::process::Command::new("sleep");
            cmd.arg("0.5")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let m = if arg(1) == "inherit" {
                Mapping::options()
                    .name(arg(0))
                    .size(4096)
                    .inheritable(true)
                    .create()
                    .unwrap()
            } else {
                let m = Mapping::create(arg(0), 4096).unwrap();
                m.share_with(&mut cmd).unwrap();
                m
            };
            // Not waited for: the point is that it outlives this process.
            #[allow(clippy::zombie_processes)]
            let child = cmd.spawn().unwrap();
            drop(m);
            report(format!("spawned {}", child.id()));
        }
        // Maps a view, has the file under it truncated (arg 0: "backing" for a
        // file-backed mapping over the file at arg 1, "object" for a named memory object
        // whose store file is found under arg 1), then reads and writes through it.
        "truncate-under-view" => {
            let path = std::path::PathBuf::from(arg(1));
            let (m, file);
            if arg(0) == "backing" {
                file = Some(
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(&path)
                        .unwrap(),
                );
                m = Mapping::options()
                    .file(file.as_ref().unwrap())
                    .create()
                    .unwrap();
            } else {
                file = None;
                m = Mapping::options()
                    .name(arg(2))
                    .size(3 * 4096)
                    .permissions(0o666)
                    .create()
                    .unwrap();
            }
            let v = m.map(Access::ReadWrite).unwrap();
            v.write(0, b"before").unwrap();
            let target = match &file {
                Some(_) => path,
                None => common::users::walk(&path)
                    .into_iter()
                    .map(std::path::PathBuf::from)
                    .find(|p| {
                        p.file_name()
                            .is_some_and(|f| f.to_string_lossy().starts_with("o."))
                    })
                    .unwrap(),
            };
            // As another process granted write could: cut the file to nothing.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .unwrap()
                .set_len(0)
                .unwrap();
            let mut buf = [0u8; 6];
            report(describe(v.read(0, &mut buf), |()| "read ok".into()));
            report(describe(v.write(4096, b"after!"), |()| "write ok".into()));
            report(describe(v.read(8, &mut buf), |()| "read ok".into()));
        }
        other => panic!("unknown role {other}"),
    }
}

/// A private store whose Global directory belongs to root, as on a machine where root
/// made it first.
/// Takes an OFD lock of `kind` on the whole of `f`, without waiting: whether it was taken.
fn ofd_lock(f: &std::fs::File, kind: libc::c_int) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor `f` owns; `fl` outlives the call that points at it.
    unsafe {
        let mut fl: libc::flock = std::mem::zeroed();
        fl.l_type = kind as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        libc::fcntl(f.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) == 0
    }
}

/// A `Global\\` mapping this process creates with `mode`, and a child of another user in
/// `role` that holds a lock on its file and has said `ready`.
fn global_locked_by_other_user(
    tag: &str,
    mode: u32,
    role: &str,
    ready: &str,
) -> (String, Mapping, Talker) {
    let name = format!("Global\\{}", unique_base(tag));
    let owner = Mapping::options()
        .name(&name)
        .size(4096)
        .permissions(mode)
        .create()
        .unwrap();
    let file = common::store_entries(name.strip_prefix("Global\\").unwrap());
    assert_eq!(file.len(), 1, "{file:?}");
    let mut cmd = common::child(role, &[&file[0]]);
    as_other_user(&mut cmd);
    let mut locker = Talker::start(cmd);
    assert_eq!(
        locker.wait_for(ready.split('=').next().unwrap_or(ready)),
        ready
    );
    (name, owner, locker)
}

fn store_with_global(tag: &str) -> TempStore {
    let store = TempStore::new(tag);
    let global = store.path("shmkit.global");
    std::fs::create_dir(&global).unwrap();
    std::fs::set_permissions(&global, std::fs::Permissions::from_mode(0o1777)).unwrap();
    store
}

/// Row 1: another user left a `Global\` object (mode 0666) whose holders all died. Every
/// create of that name by a third user spun at 100% CPU forever (it could neither reclaim
/// the object, which the sticky directory keeps for its owner, nor link a new one).
/// Row 2: the same with mode 0600, which the third user may not even open: create and
/// open failed with 5 as for a live object. Now, either way, create says why it cannot,
/// and open finds no live object (SPEC 5.3).
#[test]
fn a_dead_global_object_of_another_user_is_reported_never_a_spin() {
    if !require_root("a_dead_global_object_of_another_user_is_reported_never_a_spin") {
        return;
    }
    for mode in [0o666, 0o600] {
        let store = store_with_global("dead-foreign");
        let name = format!("Global\\{}", unique_base("dead-foreign"));
        let st = &store;
        let with_store = |who: fn(&mut std::process::Command)| {
            move |cmd: &mut std::process::Command| {
                st.env(cmd);
                who(cmd);
            }
        };
        let r = run(
            "create-and-die",
            &[&name, &mode.to_string()],
            with_store(as_other_user),
        );
        assert_eq!(r, "created");
        // The watchdog of `run` fails the test if either call spins.
        let r = run("try-create", &[&name], with_store(as_victim));
        assert!(
            r.starts_with("err PermissionDenied 5")
                && r.contains(&format!("dead object of uid {OTHER_UID}")),
            "mode {mode:o}: {r}"
        );
        let r = run("try-open", &[&name], with_store(as_victim));
        assert!(r.starts_with("err NotFound 2"), "mode {mode:o}: {r}");
        // Its owner (or root) frees the name: the next create makes a new object.
        let r = run("try-create", &[&name], with_store(as_other_user));
        assert_eq!(r, "ok existed=false", "mode {mode:o}");
    }
}

/// Row 2's other side: a live 0600 object of another user is still refused as the
/// permissions say (5), not taken for dead.
#[test]
fn a_live_private_global_object_of_another_user_is_refused() {
    if !require_root("a_live_private_global_object_of_another_user_is_refused") {
        return;
    }
    let store = store_with_global("live-private");
    let name = format!("Global\\{}", unique_base("live-private"));
    let mut cmd = common::child("create-and-hold", &[&name, "384"]);
    store.env(&mut cmd);
    as_other_user(&mut cmd);
    let mut holder = Talker::start(cmd);
    holder.wait_for("created");
    let with = |cmd: &mut std::process::Command| {
        store.env(cmd);
        as_victim(cmd);
    };
    let r = run("try-open", &[&name], with);
    assert!(r.starts_with("err PermissionDenied 5"), "{r}");
    let r = run("try-create", &[&name], with);
    assert!(
        r.starts_with("err PermissionDenied 5") && !r.contains("dead"),
        "{r}"
    );
    holder.finish();
}

/// A file owned by `uid` with `content`, mode 0600, in a directory others may traverse.
fn private_file(dir: &std::path::Path, tag: &str, uid: u32, content: &[u8]) -> std::path::PathBuf {
    let p = dir.join(tag);
    std::fs::write(&p, content).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&p, Some(uid), Some(uid)).unwrap();
    p
}

/// The object file of `Global\<base>` in `store`.
fn object_file(store: &TempStore, name: &str) -> std::path::PathBuf {
    let base = name.strip_prefix("Global\\").unwrap();
    let files: Vec<_> = std::fs::read_dir(store.path("shmkit.global"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_string_lossy().into_owned();
            f == format!("o.{base}")
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// Rewrites the backing file an object file's header names (bytes 48..68 and the path at
/// 4096), as someone able to write the object file could.
fn redirect_header(object: &std::path::Path, to: &std::path::Path) {
    use std::os::unix::fs::{FileExt, MetadataExt};
    let st = std::fs::metadata(to).unwrap();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(object)
        .unwrap();
    let path = to.to_str().unwrap().as_bytes();
    f.write_all_at(&st.dev().to_le_bytes(), 48).unwrap();
    f.write_all_at(&st.ino().to_le_bytes(), 56).unwrap();
    f.write_all_at(&(path.len() as u32).to_le_bytes(), 64)
        .unwrap();
    f.write_all_at(path, 4096).unwrap();
}

/// A directory every user may traverse but not list, for the tests' private files.
fn files_dir(tag: &str) -> TempStore {
    let d = TempStore::new(tag);
    std::fs::set_permissions(&d.0, std::fs::Permissions::from_mode(0o711)).unwrap();
    d
}

/// Row 5: another user planted a `Global\` object whose header says "file-backed by
/// PATH", naming the victim's private file; the victim's read and write of the Global
/// name read and wrote its own private file. Now the victim refuses a backing file that is
/// not the object owner's.
#[test]
fn a_planted_object_cannot_send_its_opener_to_the_openers_own_file() {
    if !require_root("a_planted_object_cannot_send_its_opener_to_the_openers_own_file") {
        return;
    }
    let store = store_with_global("planted-backing");
    let files = files_dir("planted-files");
    let name = format!("Global\\{}", unique_base("planted"));
    let bait = private_file(&files.0, "bait", OTHER_UID, b"bait!!");
    let secret = private_file(&files.0, "secret", common::users::VICTIM_UID, b"secret");
    let st = &store;
    let with = |who: fn(&mut std::process::Command)| {
        move |cmd: &mut std::process::Command| {
            st.env(cmd);
            who(cmd);
        }
    };
    let r = run(
        "create-file-backed",
        &[&name, bait.to_str().unwrap()],
        with(as_other_user),
    );
    assert_eq!(r, "created");
    // The planter owns the object file, so it may rewrite its header: here, as root.
    redirect_header(&object_file(&store, &name), &secret);
    let r = run("open-and-read", &[&name], with(as_victim));
    assert!(
        r.starts_with("err PermissionDenied 5") && r.contains("belongs to uid"),
        "the victim was sent to its own file: {r}"
    );
}

/// Row 6: a user granted write on a file-backed `Global\` object (mode 0666) rewrote its
/// header the same way, and the owner's next write landed in the owner's private file.
/// Now the object file of a file-backed mapping is read-only for everyone (its header
/// keeps the bits asked for), and an object file others could write is refused.
#[test]
fn a_file_backed_object_cannot_be_redirected_by_a_user_granted_write() {
    if !require_root("a_file_backed_object_cannot_be_redirected_by_a_user_granted_write") {
        return;
    }
    let store = store_with_global("redirected");
    let files = files_dir("redirected-files");
    let name = format!("Global\\{}", unique_base("redirected"));
    let data = private_file(&files.0, "data", OTHER_UID, b"shared");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o666)).unwrap();
    let st = &store;
    let with = |who: fn(&mut std::process::Command)| {
        move |cmd: &mut std::process::Command| {
            st.env(cmd);
            who(cmd);
        }
    };
    let r = run(
        "create-file-backed",
        &[&name, data.to_str().unwrap()],
        with(as_other_user),
    );
    assert_eq!(r, "created");
    // The user granted write uses the object as granted...
    assert_eq!(run("open-and-read", &[&name], with(as_victim)), "ok shared");
    // ...but cannot write its header.
    let object = object_file(&store, &name);
    let r = run("write-file", &[object.to_str().unwrap()], with(as_victim));
    assert_eq!(r, "refused PermissionDenied");
    // An object file that others can write (as an earlier version made them) is refused,
    // by its owner too: its header may have been rewritten.
    std::fs::set_permissions(&object, std::fs::Permissions::from_mode(0o666)).unwrap();
    let r = run("open-and-read", &[&name], with(as_other_user));
    assert!(
        r.starts_with("err PermissionDenied 5") && r.contains("writable by other users"),
        "{r}"
    );
}

/// Row 3: a user that may only READ a `Global\\` object held a shared `flock` on its file
/// like a handle and, once the owner had closed, upgraded it to exclusive: every later
/// open, read and create of that name by anyone blocked forever. The lifetime locks are
/// now OFD locks, whose write lock needs a descriptor opened for writing: a reader's locks
/// delay nobody. (An OFD read lock is a hold like a handle's: a reader may hold what it
/// may open.)
#[test]
fn a_reader_locking_an_object_file_delays_nobody() {
    if !require_root("a_reader_locking_an_object_file_delays_nobody") {
        return;
    }
    let (name, owner, mut locker) =
        global_locked_by_other_user("reader-lock", 0o644, "lock-file", "locked write-lock=false");
    // The watchdog of `run` fails the test if any of these blocks.
    let none = |_: &mut std::process::Command| {};
    assert_eq!(run("try-open", &[&name], none), "ok");
    assert_eq!(run("try-create", &[&name], none), "ok existed=true");
    drop(owner);
    locker.say("upgrade");
    assert_eq!(locker.wait_for("upgraded"), "upgraded=true");
    assert_eq!(run("try-open", &[&name], none), "ok");
    assert_eq!(run("try-create", &[&name], none), "ok existed=true");
    locker.finish();
    // Released: the object has no holder left, and goes.
    let r = run("try-open", &[&name], none);
    assert!(r.starts_with("err NotFound 2"), "{r}");
}

/// Row 3, by a user granted write: it held a `Global\\` object's file like a handle, and
/// once the owner had closed, took the write lock that closers and reclaimers take. A user
/// that may write the object can do that, but not block anyone for long: every open and
/// create of the name waits at most its bounded wait, then fails with ERROR_BUSY (170)
/// naming the object; when the lock goes, the name works again.
#[test]
fn a_writer_holding_an_object_files_write_lock_delays_others_a_bounded_time() {
    if !require_root("a_writer_holding_an_object_files_write_lock_delays_others_a_bounded_time") {
        return;
    }
    let (name, owner, mut locker) =
        global_locked_by_other_user("writer-lock", 0o666, "write-lock-file", "held");
    drop(owner);
    locker.say("upgrade");
    assert_eq!(locker.wait_for("write-locked"), "write-locked=true");
    let none = |_: &mut std::process::Command| {};
    let started = std::time::Instant::now();
    let r = run("try-open", &[&name], none);
    assert!(r.starts_with("err Busy 170 ") && r.contains(&name), "{r}");
    let r = run("try-create", &[&name], none);
    assert!(r.starts_with("err Busy 170 ") && r.contains(&name), "{r}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "not bounded"
    );
    locker.finish();
    // The lock went with its holder, and with it the object (nobody held it).
    let r = run("try-open", &[&name], none);
    assert!(r.starts_with("err NotFound 2"), "{r}");
}

/// Row 10: one unlocked file named like a lease (`l.1.0`), which nobody else can delete
/// from the sticky Global directory, made every later operation of every user run a full
/// reclamation pass, opening every file of the directory. Now a process reclaims for a
/// dead lease once and remembers the ones it could not remove, and a lease that is not a
/// regular file is junk, worth one probe.
#[test]
fn a_forged_lease_costs_no_pass_after_the_first() {
    if !require_root("a_forged_lease_costs_no_pass_after_the_first") {
        return;
    }
    let store = store_with_global("forged-lease");
    let global = store.path("shmkit.global");
    // 200 files the pass would open, and two forged leases of another user: a regular
    // file and a directory.
    for i in 0..200 {
        std::fs::write(global.join(format!("o.junk-{i}")), b"not an object").unwrap();
    }
    for (lease, dir) in [("l.1.0", false), ("l.2.0", true)] {
        let p = global.join(lease);
        if dir {
            std::fs::create_dir(&p).unwrap();
        } else {
            std::fs::write(&p, b"").unwrap();
        }
        std::os::unix::fs::chown(&p, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    }
    let name = format!("Global\\{}", unique_base("forged-lease"));
    let (out, trace) = common::strace(
        &common::child("ten-operations", &[&name]),
        "openat",
        |cmd| {
            store.env(cmd);
            as_victim(cmd);
        },
    );
    assert!(
        out.status.success(),
        "{}\n{trace}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opens = common::traced_between_markers(&trace)
        .iter()
        .filter(|l| l.contains("openat("))
        .count();
    // An operation opens a handful of files (its object, a tmpfile); a pass opens 200.
    assert!(opens < 100, "{opens} openat calls for 10 operations");
    // Both forged leases are still there (nobody here may remove them): the count above
    // is with them in place.
    assert!(global.join("l.1.0").exists() && global.join("l.2.0").exists());
}

/// Row 11: the child that inherited a named mapping was its last holder; when it exited,
/// the object's file outlived the next operation in the namespace and the parent's exit
/// (the child never used shmkit, so it left no lease to say it died). Now a process that
/// hands a hold to a child lends it its lease: the lease dies with the last of them.
#[test]
fn an_object_whose_last_holder_was_an_inheriting_child_is_reclaimed() {
    for how in ["inherit", "share"] {
        let store = TempStore::new(&format!("lent-{how}"));
        let base = unique_base(&format!("lent-{how}"));
        let name = format!("Local\\{base}");
        let r = run("lend-and-exit", &[&name, how], |c| store.env(c));
        let pid: u32 = r.strip_prefix("spawned ").unwrap().parse().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the child did not end"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let object = store.local_dir().join(format!("o.{base}"));
        assert!(
            object.exists(),
            "{how}: the object stayed while the child held it"
        );
        // The next operation in the namespace reclaims it.
        let other = format!("Local\\{}", unique_base("lent-next"));
        assert_eq!(
            run("try-create", &[&other], |c| store.env(c)),
            "ok existed=false"
        );
        assert!(
            !object.exists(),
            "{how}: the object outlived the next operation"
        );
    }
}

fn assert_lost(r: &str) {
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(lines.len(), 3, "the process died: {r}");
    for l in lines {
        assert!(
            l.starts_with("err Other 998 ") && l.contains("lost its backing"),
            "{r}"
        );
    }
}

/// Row 7: truncating the file under a file-backed mapping killed the holder's safe
/// `read`/`write` with SIGBUS. They now fail with an error (and keep failing: the view's
/// memory is not the file's any more).
#[test]
fn truncating_a_backing_file_under_a_view_is_an_error_not_sigbus() {
    let dir = TempStore::new("trunc-backing");
    let path = dir.path("data");
    std::fs::write(&path, vec![7u8; 3 * 4096]).unwrap();
    let r = run(
        "truncate-under-view",
        &["backing", path.to_str().unwrap()],
        |_| {},
    );
    assert_lost(&r);
}

/// Row 8: a user granted write on a `Global\\` object truncated its store file
/// (`truncate -s 0`), and the owner died of SIGBUS at its next read.
#[test]
fn truncating_an_object_file_under_a_view_is_an_error_not_sigbus() {
    let store = store_with_global("trunc-object");
    let name = format!("Global\\{}", unique_base("trunc-object"));
    let global = store.path("shmkit.global");
    let r = run(
        "truncate-under-view",
        &["object", global.to_str().unwrap(), &name],
        |c| store.env(c),
    );
    assert_lost(&r);
}

/// Row 4: a store file shorter than its header's size (planted, or truncated while no
/// one held it) made `View::read` and `shmkit read` die with SIGBUS. Opening it is now
/// refused.
#[test]
fn an_object_file_shorter_than_its_header_is_refused_at_open() {
    let store = store_with_global("short-file");
    let name = format!("Global\\{}", unique_base("short-file"));
    let base = name.strip_prefix("Global\\").unwrap().to_owned();
    let r = run("create-persistent", &[&name], |c| store.env(c));
    assert_eq!(r, "created");
    std::fs::OpenOptions::new()
        .write(true)
        .open(store.path(&format!("shmkit.global/o.{base}")))
        .unwrap()
        .set_len(8192)
        .unwrap();
    let r = run("try-open", &[&name], |c| store.env(c));
    assert!(
        r.starts_with("err PermissionDenied 5") && r.contains("fewer than its header"),
        "{r}"
    );
}

/// Row 13: another user pre-created the victim's per-user directory
/// (`shmkit.local.<uid>`). It is refused, rightly, but the victim was then locked out of
/// `Local\\` until root removed it. Now its Local objects live in its runtime directory,
/// which no other user can prepare, and every process of the victim finds them there.
#[test]
fn a_squatted_local_directory_does_not_lock_its_user_out() {
    if !require_root("a_squatted_local_directory_does_not_lock_its_user_out") {
        return;
    }
    let victim = common::users::VICTIM_UID;
    let store = TempStore::new("squat-local");
    let squat = store.path(&format!("shmkit.local.{victim}"));
    std::fs::create_dir(&squat).unwrap();
    std::fs::set_permissions(&squat, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&squat, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let runtime = TempStore::new("squat-runtime");
    std::fs::set_permissions(&runtime.0, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&runtime.0, Some(victim), Some(victim)).unwrap();
    let as_victim_here = |cmd: &mut std::process::Command| {
        store.env(cmd);
        cmd.env("XDG_RUNTIME_DIR", &runtime.0);
        as_victim(cmd);
    };
    let name = format!("Local\\{}", unique_base("squat-local"));
    let mut cmd = common::child("create-and-hold", &[&name, "384"]);
    as_victim_here(&mut cmd);
    let mut holder = Talker::start(cmd);
    holder.wait_for("created");
    // Another process of the victim finds the object: one namespace.
    assert_eq!(run("try-open", &[&name], as_victim_here), "ok");
    holder.finish();
    // The squatted directory was never used.
    assert_eq!(std::fs::read_dir(&squat).unwrap().count(), 0);
    // Without a runtime directory the refusal stands, and says what to do.
    let r = run("try-create", &[&name], |cmd| {
        store.env(cmd);
        as_victim(cmd);
    });
    assert!(
        r.starts_with("err PermissionDenied 5") && r.contains("no runtime directory"),
        "{r}"
    );
}
