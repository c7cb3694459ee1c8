//! What a second user can and cannot do to a victim user's objects (SPEC 6), each attack
//! performed by a process of that user. The tests run as root (as CI does) and start
//! children as the victim (`VICTIM_UID`) and the attacker (`OTHER_UID`), in a private
//! store whose Global directory belongs to root; the store goes with the test.
#![cfg(target_os = "linux")]

mod common;

use common::users::{as_other_user, as_victim, run, TempStore, OTHER_UID, VICTIM_UID};
use common::{child, child_role, describe, report, require_root, unique_base, Talker};
use shmkit::{Access, Mapping};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
#[ignore = "entry point of the child processes that the other tests start"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    let arg = |i: usize| args[i].as_str();
    let wait_line = || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    };
    match role.as_str() {
        // Creates `arg 0` with the octal permissions of arg 1 (or the default), writes
        // arg 2 at its start, and holds it until stdin closes.
        "hold" => {
            let mut opts = Mapping::options();
            opts.name(arg(0)).size(4096);
            if arg(1) != "default" {
                opts.permissions(u32::from_str_radix(arg(1), 8).unwrap());
            }
            let m = opts.create().unwrap();
            m.map(Access::ReadWrite)
                .unwrap()
                .write(0, arg(2).as_bytes())
                .unwrap();
            report("created");
            wait_line();
        }
        // Opens `arg 0` with access arg 1 (r or rw); reports its first bytes and whether
        // a write view is granted.
        "open" => {
            let access = if arg(1) == "rw" {
                Access::ReadWrite
            } else {
                Access::Read
            };
            report(describe(Mapping::open(arg(0), access), |m| {
                let mut buf = [0u8; 6];
                m.map(Access::Read).unwrap().read(0, &mut buf).unwrap();
                let write = match m.map(Access::ReadWrite) {
                    Ok(v) => describe(v.write(0, b"intrud"), |()| "ok".into()),
                    Err(e) => format!("{:?}", e.kind()),
                };
                format!(
                    "ok {} map-write={write}",
                    String::from_utf8_lossy(&buf).trim_end_matches('\0')
                )
            }));
        }
        "create" => report(describe(Mapping::create(arg(0), 4096), |m| {
            format!("ok existed={}", m.already_existed())
        })),
        // How many listed objects (every user's that this one may see) contain arg 0.
        "ls" => report(describe(shmkit::inspect::list(true), |all| {
            let n = all.iter().filter(|o| o.name.contains(arg(0))).count();
            format!("listed {n}")
        })),
        // Plants an entry at the path arg 1: a symbolic link or hard link to arg 2, or
        // a FIFO.
        "plant" => {
            let at = Path::new(arg(1));
            let r = match arg(0) {
                "symlink" => std::os::unix::fs::symlink(arg(2), at),
                "hardlink" => std::fs::hard_link(arg(2), at),
                "fifo" => {
                    let c = std::ffi::CString::new(arg(1)).unwrap();
                    // SAFETY: mkfifo with a valid NUL-terminated path.
                    if unsafe { libc::mkfifo(c.as_ptr(), 0o666) } == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                }
                other => panic!("unknown plant {other}"),
            };
            report(match r {
                Ok(()) => "planted".to_owned(),
                Err(e) => format!("refused {e}"),
            });
        }
        // Writes a well-formed object header at the path arg 0 (mode 0666), naming arg 1 and saying
        // its memory is arg 2 bytes, in a file of 64 KiB only; with arg 3 = "hold", holds
        // it as a handle would (an OFD read lock) until stdin closes.
        "forge" => {
            use std::os::fd::AsRawFd;
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(arg(0))
                .unwrap();
            f.set_permissions(std::fs::Permissions::from_mode(0o666))
                .unwrap();
            f.set_len(65_536).unwrap();
            let name = arg(1).as_bytes();
            let mut h = vec![0u8; 256 + name.len()];
            h[0..8].copy_from_slice(b"SHMKIT\0\x01");
            h[8..12].copy_from_slice(&3u32.to_le_bytes()); // the current header version
            h[12..16].copy_from_slice(&1u32.to_le_bytes()); // a mapping
            h[16..20].copy_from_slice(&(1u32 << 8).to_le_bytes()); // read-write
            h[20..24].copy_from_slice(&(name.len() as u32).to_le_bytes());
            h[24..32].copy_from_slice(&arg(2).parse::<u64>().unwrap().to_le_bytes());
            h[32..36].copy_from_slice(&OTHER_UID.to_le_bytes());
            h[256..].copy_from_slice(name);
            std::os::unix::fs::FileExt::write_all_at(&f, &h, 0).unwrap();
            if arg(3) == "hold" {
                // SAFETY: fcntl on a descriptor this process owns; `fl` outlives the call.
                let locked = unsafe {
                    let mut fl: libc::flock = std::mem::zeroed();
                    fl.l_type = libc::F_RDLCK as libc::c_short;
                    fl.l_whence = libc::SEEK_SET as libc::c_short;
                    libc::fcntl(f.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) == 0
                };
                assert!(locked);
            }
            report("planted");
            if arg(3) == "hold" {
                wait_line();
            }
        }
        // Cuts the file at arg 0 to arg 1 bytes, as any user who may write it can.
        "cut" => report(
            match std::fs::OpenOptions::new()
                .write(true)
                .open(arg(0))
                .and_then(|f| f.set_len(arg(1).parse().unwrap()))
            {
                Ok(()) => "cut".to_owned(),
                Err(e) => format!("refused {e}"),
            },
        ),
        // Overwrites every byte of the file at arg 0 with garbage.
        "scribble" => {
            use std::os::unix::fs::FileExt;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(arg(0))
                .unwrap();
            let len = f.metadata().unwrap().len() as usize;
            let mut x: u32 = 0x9e37_79b9;
            let garbage: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            f.write_all_at(&garbage, 0).unwrap();
            report(format!("scribbled {len}"));
        }
        // Maps a view of a Global mapping (arg 0: "object", a memory object named arg 1
        // that every user may write; "backing", a file-backed one over the file at arg
        // 2), writes through it, and on a line from stdin reads and writes again.
        "view" => {
            let file;
            let m = if arg(0) == "object" {
                Mapping::options()
                    .name(arg(1))
                    .size(3 * 4096)
                    .permissions(0o666)
                    .create()
                    .unwrap()
            } else {
                file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(arg(2))
                    .unwrap();
                Mapping::options()
                    .name(arg(1))
                    .file(&file)
                    .permissions(0o666)
                    .create()
                    .unwrap()
            };
            let v = m.map(Access::ReadWrite).unwrap();
            v.write(0, b"before").unwrap();
            report("mapped");
            wait_line();
            let mut buf = [0u8; 6];
            report(describe(v.read(0, &mut buf), |()| "read ok".into()));
            report(describe(v.write(4096, b"after!"), |()| "write ok".into()));
            report(describe(v.read(8, &mut buf), |()| "read ok".into()));
        }
        // Creates a Global mutex every user may use, takes and releases it, and on a line
        // from stdin does so again and closes it, reporting each outcome.
        // Creates the Global mutex arg 0 (every user may write it), takes it and says
        // "held <pid>"; on a line from stdin releases it, takes it again (2 s at most)
        // and closes it, reporting each result.
        "mutex" => {
            let m = shmkit::Mutex::options()
                .name(arg(0))
                .permissions(0o666)
                .create_mutex(false)
                .unwrap();
            assert_eq!(m.acquire(None).unwrap(), shmkit::sync::Acquire::Acquired);
            report(format!("held {}", std::process::id()));
            wait_line();
            report(describe(m.release(), |()| "release ok".into()));
            let timeout = Some(std::time::Duration::from_secs(2));
            report(describe(m.acquire(timeout), |a| format!("lock {a:?}")));
            drop(m);
            report("closed");
        }
        // Creates a Global mutex, event and semaphore named after arg 0 (every user may
        // write them), takes the mutex, says "ready"; on a line from stdin uses each and
        // reports what every operation returned, then "done".
        "sync" => {
            let named = |suffix: &str| format!("{}-{suffix}", arg(0));
            let (mn, en, sn) = (named("m"), named("e"), named("s"));
            let m = shmkit::Mutex::options()
                .name(&mn)
                .permissions(0o666)
                .create_mutex(true)
                .unwrap();
            let e = shmkit::Event::options()
                .name(&en)
                .permissions(0o666)
                .create_event(shmkit::sync::EventReset::Manual, false)
                .unwrap();
            let sem = shmkit::Semaphore::options()
                .name(&sn)
                .permissions(0o666)
                .create_semaphore(1, 2)
                .unwrap();
            report("ready");
            wait_line();
            let ms = std::time::Duration::from_millis(50);
            report(describe(m.release(), |()| "release ok".into()));
            report(describe(m.acquire(Some(ms)), |a| format!("lock {a:?}")));
            report(describe(e.set(), |()| "set ok".into()));
            report(describe(e.wait_timeout(ms), |w| format!("wait {w}")));
            report(describe(sem.release(1), |n| format!("release {n}")));
            report(describe(sem.acquire_timeout(ms), |w| format!("wait {w}")));
            drop((m, e, sem));
            report("done");
        }
        // Writes the 8-byte word arg 1 (hex) over bytes 2048..4096 of the file arg 0.
        "stamp" => {
            use std::os::unix::fs::FileExt;
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(arg(0))
                .unwrap();
            let word = u64::from_str_radix(arg(1), 16).unwrap().to_le_bytes();
            let bytes: Vec<u8> = word.iter().copied().cycle().take(2048).collect();
            f.write_all_at(&bytes, 2048).unwrap();
            report("stamped");
        }
        // Prints the 8-byte words of bytes 2048..4096 of the file arg 0, in hex.
        "peek" => {
            use std::os::unix::fs::FileExt;
            let f = std::fs::File::open(arg(0)).unwrap();
            let mut page = vec![0u8; 2048];
            f.read_exact_at(&mut page, 2048).unwrap();
            let words: Vec<String> = page
                .chunks(8)
                .map(|c| format!("{:x}", u64::from_le_bytes(c.try_into().unwrap())))
                .collect();
            report(words.join(" "));
        }
        // Creates `arg 0` and ends at once without closing it, as a killed process does.
        "die" => {
            let m = Mapping::create(arg(0), 4096).unwrap();
            report("created");
            std::mem::forget(m);
            // SAFETY: ends this child process at once; nothing else runs in it.
            unsafe { libc::_exit(0) };
        }
        // A garbage-collection pass (arg 0: "dry" for a dry run): one line per object,
        // then "done".
        "gc" => {
            match shmkit::inspect::collect_garbage(arg(0) == "dry") {
                Ok(freed) => {
                    for r in freed {
                        report(format!("freed {} of {}", r.name, r.owner));
                    }
                }
                Err(e) => report(format!("err {e}")),
            }
            report("done");
        }
        other => panic!("unknown role {other}"),
    }
}

/// A private store whose Global directory belongs to root, as on a machine where root
/// made it first.
fn store(tag: &str) -> TempStore {
    let store = TempStore::new(tag);
    let global = store.path("shmkit.global");
    std::fs::create_dir(&global).unwrap();
    std::fs::set_permissions(&global, std::fs::Permissions::from_mode(0o1777)).unwrap();
    store
}

/// A directory every user may traverse but not list, for the tests' private files.
fn files_dir(tag: &str) -> TempStore {
    let d = TempStore::new(tag);
    std::fs::set_permissions(&d.0, std::fs::Permissions::from_mode(0o711)).unwrap();
    d
}

/// A file of `uid` with `content` and `mode`.
fn file_of(dir: &Path, tag: &str, uid: u32, mode: u32, content: &[u8]) -> PathBuf {
    let p = dir.join(tag);
    std::fs::write(&p, content).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::chown(&p, Some(uid), Some(uid)).unwrap();
    p
}

/// The content and modification time of a file: what must not change.
fn fingerprint(p: &Path) -> (Vec<u8>, i64, i64) {
    let st = std::fs::symlink_metadata(p).unwrap();
    (std::fs::read(p).unwrap(), st.mtime(), st.mtime_nsec())
}

/// The store file of `Global\<base>`.
fn global_file(store: &TempStore, name: &str) -> PathBuf {
    let base = name.strip_prefix("Global\\").unwrap();
    store.path(&format!("shmkit.global/o.{base}"))
}

/// A child setup: the store's environment, then `who`.
fn inside(store: &TempStore, who: fn(&mut Command)) -> impl Fn(&mut Command) + '_ {
    move |cmd: &mut Command| {
        store.env(cmd);
        who(cmd);
    }
}

/// The attacker, as a member of the victim's group (a supplementary group).
fn as_group_member(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only makes the
    // async-signal-safe calls setgroups, setgid and setuid.
    unsafe {
        cmd.pre_exec(|| {
            let groups = [VICTIM_UID as libc::gid_t];
            if libc::setgroups(1, groups.as_ptr()) != 0
                || libc::setgid(OTHER_UID) != 0
                || libc::setuid(OTHER_UID) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The victim holds `name` (permissions `mode`, octal, or "default") with "victim" at
/// its start.
fn victim_holds(store: &TempStore, name: &str, mode: &str) -> Talker {
    let mut cmd = child("hold", &[name, mode, "victim"]);
    inside(store, as_victim)(&mut cmd);
    let mut t = Talker::start(cmd);
    t.wait_for("created");
    t
}

fn refused(r: &str, why: &str) -> bool {
    r.starts_with("err PermissionDenied 5") && r.contains(why)
}

#[test]
fn a_victims_local_objects_are_invisible_to_another_user() {
    if !require_root("a_victims_local_objects_are_invisible_to_another_user") {
        return;
    }
    let store = store("su-local");
    let base = unique_base("su-local");
    let name = format!("Local\\{base}");
    let holder = victim_holds(&store, &name, "666");
    let attacker = inside(&store, as_other_user);
    let r = run("open", &[&name, "r"], &attacker);
    assert!(r.starts_with("err NotFound 2"), "{r}");
    assert_eq!(run("ls", &[&base], &attacker), "listed 0");
    // The attacker's create makes its own object; the victim's is untouched.
    assert_eq!(run("create", &[&name], &attacker), "ok existed=false");
    assert_eq!(
        run("open", &[&name, "r"], inside(&store, as_victim)),
        "ok victim map-write=PermissionDenied"
    );
    holder.finish();
}

#[test]
fn a_global_object_with_default_permissions_refuses_another_user() {
    if !require_root("a_global_object_with_default_permissions_refuses_another_user") {
        return;
    }
    let store = store("su-default");
    let name = format!("Global\\{}", unique_base("su-default"));
    let holder = victim_holds(&store, &name, "default");
    for access in ["r", "rw"] {
        let r = run("open", &[&name, access], inside(&store, as_other_user));
        assert!(refused(&r, "permissions do not allow"), "{access}: {r}");
    }
    holder.finish();
}

#[test]
fn a_read_only_grant_admits_reading_and_refuses_writing() {
    if !require_root("a_read_only_grant_admits_reading_and_refuses_writing") {
        return;
    }
    let store = store("su-read");
    let name = format!("Global\\{}", unique_base("su-read"));
    let holder = victim_holds(&store, &name, "644");
    let attacker = inside(&store, as_other_user);
    assert_eq!(
        run("open", &[&name, "r"], &attacker),
        "ok victim map-write=PermissionDenied"
    );
    let r = run("open", &[&name, "rw"], &attacker);
    assert!(refused(&r, "read-write"), "{r}");
    // Nor can the file be written behind the library's back.
    let r = run(
        "cut",
        &[global_file(&store, &name).to_str().unwrap(), "0"],
        &attacker,
    );
    assert!(r.starts_with("refused"), "{r}");
    holder.finish();
}

#[test]
fn a_write_grant_admits_writing() {
    if !require_root("a_write_grant_admits_writing") {
        return;
    }
    let store = store("su-write");
    let name = format!("Global\\{}", unique_base("su-write"));
    let holder = victim_holds(&store, &name, "666");
    let attacker = inside(&store, as_other_user);
    assert_eq!(
        run("open", &[&name, "rw"], &attacker),
        "ok victim map-write=ok"
    );
    assert_eq!(
        run("open", &[&name, "rw"], inside(&store, as_victim)),
        "ok intrud map-write=ok"
    );
    holder.finish();
}

#[test]
fn a_group_grant_admits_members_of_the_group_and_refuses_others() {
    if !require_root("a_group_grant_admits_members_of_the_group_and_refuses_others") {
        return;
    }
    let store = store("su-group");
    // The victim's objects belong to its group (gid VICTIM_UID).
    let rw = format!("Global\\{}", unique_base("su-group-rw"));
    let ro = format!("Global\\{}", unique_base("su-group-ro"));
    let h1 = victim_holds(&store, &rw, "660");
    let h2 = victim_holds(&store, &ro, "640");
    let member = inside(&store, as_group_member);
    let outsider = inside(&store, as_other_user);
    assert_eq!(run("open", &[&rw, "rw"], &member), "ok victim map-write=ok");
    assert_eq!(
        run("open", &[&ro, "r"], &member),
        "ok victim map-write=PermissionDenied"
    );
    let r = run("open", &[&ro, "rw"], &member);
    assert!(refused(&r, "read-write"), "{r}");
    for name in [&rw, &ro] {
        for access in ["r", "rw"] {
            let r = run("open", &[name, access], &outsider);
            assert!(refused(&r, "permissions do not allow"), "{access}: {r}");
        }
    }
    h1.finish();
    h2.finish();
}

#[test]
fn a_global_name_squatted_by_another_user_is_refused_to_the_victims_create() {
    if !require_root("a_global_name_squatted_by_another_user_is_refused_to_the_victims_create") {
        return;
    }
    let store = store("su-squat-name");
    let name = format!("Global\\{}", unique_base("su-squat-name"));
    let mut cmd = child("hold", &[&name, "666", "bait"]);
    inside(&store, as_other_user)(&mut cmd);
    let mut squatter = Talker::start(cmd);
    squatter.wait_for("created");
    let r = run("create", &[&name], inside(&store, as_victim));
    assert!(
        refused(&r, "squatted") && r.contains(&format!("uid {OTHER_UID}")),
        "{r}"
    );
    squatter.finish();
}

#[test]
fn a_global_directory_made_by_another_user_is_refused() {
    if !require_root("a_global_directory_made_by_another_user_is_refused") {
        return;
    }
    // No Global directory yet: the attacker's first Global object makes it, its own.
    let store = TempStore::new("su-squat-global");
    let bait = format!("Global\\{}", unique_base("su-squat-global"));
    assert_eq!(
        run("create", &[&bait], inside(&store, as_other_user)),
        "ok existed=false"
    );
    let before = store.listing();
    let name = format!("Global\\{}", unique_base("su-squat-global"));
    for role in ["create", "open"] {
        let r = run(role, &[&name, "r"], inside(&store, as_victim));
        assert!(
            refused(&r, &format!("belongs to uid {OTHER_UID}")),
            "{role}: {r}"
        );
    }
    assert_eq!(store.listing(), before, "the victim put nothing there");
}

/// The attacker plants `kind` (pointing at `target`) under the object file of `name`;
/// the victim's create and open are refused with `why`, and `target` is untouched.
fn planted_is_refused(tag: &str, kind: &str, target: &Path, why: &str) {
    let store = store(tag);
    let name = format!("Global\\{}", unique_base(tag));
    let at = global_file(&store, &name);
    let before = fingerprint(target);
    let r = run(
        "plant",
        &[kind, at.to_str().unwrap(), target.to_str().unwrap()],
        inside(&store, as_other_user),
    );
    assert_eq!(r, "planted");
    let listing = store.listing();
    for role in ["create", "open"] {
        let r = run(role, &[&name, "rw"], inside(&store, as_victim));
        assert!(refused(&r, why), "{kind}, {role}: {r}");
    }
    assert_eq!(
        fingerprint(target),
        before,
        "{kind}: the target was touched"
    );
    assert_eq!(
        store.listing(),
        listing,
        "{kind}: a refusal changes nothing"
    );
}

#[test]
fn a_symlink_planted_by_another_user_is_refused_never_followed() {
    if !require_root("a_symlink_planted_by_another_user_is_refused_never_followed") {
        return;
    }
    let files = files_dir("su-link-files");
    let secret = file_of(&files.0, "secret", VICTIM_UID, 0o600, b"secret");
    planted_is_refused("su-symlink", "symlink", &secret, "symbolic link");
}

#[test]
fn a_hard_link_planted_by_another_user_is_refused_never_used() {
    if !require_root("a_hard_link_planted_by_another_user_is_refused_never_used") {
        return;
    }
    // The kernel lets a user hard-link a file it may read and write (protected_hardlinks):
    // here, a file of the victim's that every user may write.
    let files = files_dir("su-hardlink-files");
    let data = file_of(&files.0, "data", VICTIM_UID, 0o666, b"victim data");
    planted_is_refused("su-hardlink", "hardlink", &data, "not a shmkit object");
}

#[test]
fn a_hard_link_to_another_of_the_victims_objects_is_refused() {
    if !require_root("a_hard_link_to_another_of_the_victims_objects_is_refused") {
        return;
    }
    let store = store("su-hardlink-obj");
    let real = format!("Global\\{}", unique_base("su-hardlink-real"));
    let alias = format!("Global\\{}", unique_base("su-hardlink-alias"));
    let holder = victim_holds(&store, &real, "666");
    let r = run(
        "plant",
        &[
            "hardlink",
            global_file(&store, &alias).to_str().unwrap(),
            global_file(&store, &real).to_str().unwrap(),
        ],
        inside(&store, as_other_user),
    );
    assert_eq!(r, "planted");
    for role in ["create", "open"] {
        let r = run(role, &[&alias, "rw"], inside(&store, as_victim));
        assert!(refused(&r, "not this name"), "{role}: {r}");
    }
    holder.finish();
}

#[test]
fn a_fifo_planted_by_another_user_is_refused_without_blocking() {
    if !require_root("a_fifo_planted_by_another_user_is_refused_without_blocking") {
        return;
    }
    // No target: a FIFO points nowhere; the watchdog of `run` catches a blocked open.
    let files = files_dir("su-fifo-files");
    let unrelated = file_of(&files.0, "unrelated", VICTIM_UID, 0o600, b"x");
    planted_is_refused("su-fifo", "fifo", &unrelated, "not a regular file");
}

/// A forged header of another user's (a plain file it wrote, naming the victim's name)
/// is never taken for the victim's object: held, the victim's create refuses it as a
/// squat and its open as shorter than the header says (row 4, by that user); unheld, it
/// is another user's dead object (rows 1 and 2).
#[test]
fn a_forged_header_planted_by_another_user_is_refused() {
    if !require_root("a_forged_header_planted_by_another_user_is_refused") {
        return;
    }
    for hold in [true, false] {
        let store = store("su-forged");
        let name = format!("Global\\{}", unique_base("su-forged"));
        let at = global_file(&store, &name);
        let mut cmd = child(
            "forge",
            &[
                at.to_str().unwrap(),
                &name,
                "1048576",
                if hold { "hold" } else { "no" },
            ],
        );
        inside(&store, as_other_user)(&mut cmd);
        let mut forger = Talker::start(cmd);
        forger.wait_for("planted");
        let victim = inside(&store, as_victim);
        let (create, open) = (
            run("create", &[&name], &victim),
            run("open", &[&name, "r"], &victim),
        );
        if hold {
            assert!(refused(&create, "squatted"), "{create}");
            assert!(refused(&open, "fewer than its header"), "{open}");
        } else {
            assert!(refused(&create, "dead object of uid"), "{create}");
            assert!(open.starts_with("err NotFound 2"), "{open}");
        }
        forger.finish();
    }
}

/// Row 4, by another user: a user granted write cut a persistent object's file shorter
/// than its header says; the victim's open is refused, never SIGBUS.
#[test]
fn an_object_file_cut_short_by_another_user_is_refused_at_open() {
    if !require_root("an_object_file_cut_short_by_another_user_is_refused_at_open") {
        return;
    }
    let store = store("su-cut");
    let name = format!("Global\\{}", unique_base("su-cut"));
    // One process of the victim holds it while the attacker cuts it; another opens it.
    let holder = victim_holds(&store, &name, "666");
    let file = global_file(&store, &name);
    let r = run(
        "cut",
        &[file.to_str().unwrap(), "8192"],
        inside(&store, as_other_user),
    );
    assert_eq!(r, "cut");
    let r = run("open", &[&name, "r"], inside(&store, as_victim));
    assert!(refused(&r, "fewer than its header"), "{r}");
    holder.finish();
}

/// Rows 7 and 8, by another user: a user granted write truncated the file under the
/// victim's view (the backing file of a file-backed mapping, or the object file); the
/// victim's reads and writes fail, and it lives.
#[test]
fn truncation_by_another_user_under_a_victims_view_is_an_error_not_sigbus() {
    if !require_root("truncation_by_another_user_under_a_victims_view_is_an_error_not_sigbus") {
        return;
    }
    for how in ["object", "backing"] {
        let store = store(&format!("su-trunc-{how}"));
        let files = files_dir("su-trunc-files");
        let data = file_of(&files.0, "data", VICTIM_UID, 0o666, &[7u8; 3 * 4096]);
        let name = format!("Global\\{}", unique_base("su-trunc"));
        let mut cmd = child("view", &[how, &name, data.to_str().unwrap()]);
        inside(&store, as_victim)(&mut cmd);
        let mut victim = Talker::start(cmd);
        victim.wait_for("mapped");
        let target = if how == "object" {
            global_file(&store, &name)
        } else {
            data.clone()
        };
        let r = run(
            "cut",
            &[target.to_str().unwrap(), "0"],
            inside(&store, as_other_user),
        );
        assert_eq!(r, "cut", "{how}");
        victim.say("go");
        let lines: Vec<String> = (0..3).map(|_| victim.wait_for("")).collect();
        for l in &lines {
            assert!(
                l.starts_with("err ") && l.contains("lost its backing"),
                "{how}: {lines:?}"
            );
        }
        let out = victim.finish();
        assert!(out.status.success(), "{how}: the victim died: {out:?}");
    }
}

/// Rows 7 and 8 for sync objects: a user granted write on a Global mutex, event and
/// semaphore truncates their files to nothing under the owner's handles. Every later
/// operation of the owner is an error naming the truncation, never a SIGBUS.
#[test]
fn truncating_a_sync_objects_file_under_its_handles_is_an_error_not_sigbus() {
    if !require_root("truncating_a_sync_objects_file_under_its_handles_is_an_error_not_sigbus") {
        return;
    }
    let store = store("su-trunc-sync");
    let base = format!("Global\\{}", unique_base("su-trunc-sync"));
    let mut cmd = child("sync", &[&base]);
    inside(&store, as_victim)(&mut cmd);
    let mut owner = Talker::start(cmd);
    owner.wait_for("ready");
    for suffix in ["m", "e", "s"] {
        let file = global_file(&store, &format!("{base}-{suffix}"));
        let r = run(
            "cut",
            &[file.to_str().unwrap(), "0"],
            inside(&store, as_other_user),
        );
        assert_eq!(r, "cut", "{suffix}");
    }
    owner.say("go");
    let lines: Vec<String> = (0..6).map(|_| owner.wait_for("")).collect();
    for l in &lines {
        assert!(
            l.starts_with("err Other 998 ") && l.contains("was truncated under this handle"),
            "{lines:?}"
        );
    }
    assert_eq!(owner.wait_for(""), "done");
    let out = owner.finish();
    assert!(out.status.success(), "the owner died: {out:?}");
}

/// Row 9: the shared page of a mutex is readable by everyone granted access to it; while
/// its owner holds it, none of its words may be an address in the owner's memory (a
/// robust pthread mutex keeps its robust-list links there).
#[test]
fn row_9_a_held_mutex_page_shows_no_address_of_its_owner() {
    if !require_root("row_9_a_held_mutex_page_shows_no_address_of_its_owner") {
        return;
    }
    let store = store("su-mutex-peek");
    let name = format!("Global\\{}", unique_base("su-mutex-peek"));
    let mut cmd = child("mutex", &[&name]);
    inside(&store, as_victim)(&mut cmd);
    let mut owner = Talker::start(cmd);
    let held = owner.wait_for("held ");
    let pid: u32 = held["held ".len()..].parse().unwrap();
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let ranges: Vec<(u64, u64)> = maps
        .lines()
        .filter_map(|l| {
            let (a, b) = l.split_whitespace().next()?.split_once('-')?;
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            ))
        })
        .collect();
    let page = global_file(&store, &name);
    let words = run(
        "peek",
        &[page.to_str().unwrap()],
        inside(&store, as_other_user),
    );
    for w in words.split(' ') {
        let w = u64::from_str_radix(w, 16).unwrap();
        assert!(
            !ranges.iter().any(|&(a, b)| (a..b).contains(&(w & !1))),
            "the page of the held mutex shows {w:#x}, an address in its owner's memory"
        );
    }
    owner.say("go");
    assert_eq!(owner.wait_for(""), "release ok");
    owner.wait_for("");
    assert_eq!(owner.wait_for(""), "closed");
    assert!(owner.finish().status.success());
}

/// Row 9: a user granted write on a Global mutex overwrites its page while the owner
/// holds it — with chosen values where a robust pthread mutex keeps the links its unlock
/// writes through, and with garbage. The owner's release, next lock and close return
/// results (the mutex is no longer the owner's to release), never a crash.
#[test]
fn row_9_a_mutex_page_overwritten_by_another_user_never_crashes_its_owner() {
    if !require_root("row_9_a_mutex_page_overwritten_by_another_user_never_crashes_its_owner") {
        return;
    }
    // An address that is mapped nowhere, and one in the kernel's half.
    for word in ["4141414141414140", "ffffffffff600000", "0"] {
        let store = store("su-mutex");
        let name = format!("Global\\{}", unique_base("su-mutex"));
        let mut cmd = child("mutex", &[&name]);
        inside(&store, as_victim)(&mut cmd);
        let mut owner = Talker::start(cmd);
        owner.wait_for("held ");
        let page = global_file(&store, &name);
        let r = run(
            "stamp",
            &[page.to_str().unwrap(), word],
            inside(&store, as_other_user),
        );
        assert_eq!(r, "stamped");
        owner.say("go");
        let release = owner.wait_for("");
        let lock = owner.wait_for("");
        assert_eq!(owner.wait_for(""), "closed", "{release} / {lock}");
        let out = owner.finish();
        assert!(
            out.status.success(),
            "the owner crashed after its mutex page was stamped with {word}: \
             {release} / {lock}: {out:?}"
        );
    }
}

/// The victim's Local directory in `store`.
fn victims_local(store: &TempStore) -> PathBuf {
    store.path(&format!("shmkit.local.{VICTIM_UID}"))
}

/// Root's garbage collection reaches every user's dead Local objects, not only Global
/// ones, and frees only what no process holds: the victim's live object stays. Another
/// user's pass frees nothing of the victim's.
#[test]
fn roots_gc_frees_a_victims_dead_local_object_and_spares_its_live_one() {
    if !require_root("roots_gc_frees_a_victims_dead_local_object_and_spares_its_live_one") {
        return;
    }
    let store = store("gc-local");
    let dead_base = unique_base("gc-dead");
    let (dead, live) = (
        format!("Local\\{dead_base}"),
        format!("Local\\{}", unique_base("gc-live")),
    );
    let victim = inside(&store, as_victim);
    // In this order: the victim's next operation would reclaim the dead object itself.
    let holder = victim_holds(&store, &live, "default");
    assert_eq!(run("die", &[&dead], &victim), "created");
    let dead_file = victims_local(&store).join(format!("o.{dead_base}"));
    assert!(dead_file.exists());
    let root = |cmd: &mut Command| store.env(cmd);
    assert_eq!(run("gc", &["real"], inside(&store, as_other_user)), "done");
    assert!(
        dead_file.exists(),
        "another user's pass reached the victim's objects"
    );
    let expected = format!("freed {dead} of {VICTIM_UID}\ndone");
    assert_eq!(run("gc", &["dry"], root), expected);
    assert!(dead_file.exists(), "a dry run frees nothing");
    assert_eq!(run("gc", &["real"], root), expected);
    assert!(
        !dead_file.exists(),
        "root's pass left the victim's dead object"
    );
    assert_eq!(run("gc", &["real"], root), "done");
    assert_eq!(
        run("open", &[&live, "r"], &victim),
        "ok victim map-write=PermissionDenied"
    );
    holder.finish();
}

/// What a user planted in its own Local directory, and a Local directory of one uid made
/// by another, do not lead root's pass astray: a symbolic link is not followed, a FIFO
/// does not block it, neither is removed, and the squatted directory is not entered.
#[test]
fn roots_gc_neither_follows_nor_removes_links_and_fifos_planted_in_a_users_local_dir() {
    if !require_root(
        "roots_gc_neither_follows_nor_removes_links_and_fifos_planted_in_a_users_local_dir",
    ) {
        return;
    }
    let store = store("gc-planted");
    let files = files_dir("gc-planted-files");
    let target = file_of(&files.0, "target", VICTIM_UID, 0o600, b"precious");
    let victim = inside(&store, as_victim);
    let dead = format!("Local\\{}", unique_base("gc-planted-dead"));
    assert_eq!(run("die", &[&dead], &victim), "created");
    let local = victims_local(&store);
    let t = target.to_str().unwrap();
    let mut planted = Vec::new();
    for (kind, entry) in [
        ("symlink", "o.link"),
        ("fifo", "o.fifo"),
        ("fifo", "l.1.0"),
        ("symlink", "l.2.0"),
    ] {
        let at = local.join(entry);
        assert_eq!(
            run("plant", &[kind, at.to_str().unwrap(), t], &victim),
            "planted"
        );
        planted.push(at);
    }
    // Another user's directory under the name of uid 54323's, holding what looks like a
    // dead object of that name.
    let squat = store.path("shmkit.local.54323");
    std::fs::create_dir(&squat).unwrap();
    std::fs::set_permissions(&squat, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&squat, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let forged = squat.join("o.forged");
    let mut cmd = child(
        "forge",
        &[forged.to_str().unwrap(), "Local\\forged", "4096", "no"],
    );
    inside(&store, as_other_user)(&mut cmd);
    let mut forger = Talker::start(cmd);
    forger.wait_for("planted");
    forger.finish();
    let before = fingerprint(&target);
    let r = run("gc", &["real"], |cmd| store.env(cmd));
    assert_eq!(r, format!("freed {dead} of {VICTIM_UID}\ndone"));
    for p in &planted {
        assert!(std::fs::symlink_metadata(p).is_ok(), "{p:?} was removed");
    }
    assert!(forged.exists(), "root's pass entered a squatted directory");
    assert_eq!(
        fingerprint(&target),
        before,
        "the link's target was touched"
    );
}

/// Where a user's Local objects live in its runtime directory (its directory in the store
/// was squatted), root's pass reaches them there too.
#[test]
fn roots_gc_reaches_a_users_local_objects_in_its_runtime_directory() {
    if !require_root("roots_gc_reaches_a_users_local_objects_in_its_runtime_directory") {
        return;
    }
    // The victim's runtime directory where root's pass looks for it, made for the test and
    // removed with it.
    struct RuntimeDir(PathBuf);
    impl Drop for RuntimeDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let path = PathBuf::from(format!("/run/user/{VICTIM_UID}"));
    if !Path::new("/run/user").is_dir() || path.exists() {
        eprintln!("NOT RUN: needs /run/user, without {}", path.display());
        return;
    }
    std::fs::create_dir(&path).unwrap();
    let runtime = RuntimeDir(path);
    std::fs::set_permissions(&runtime.0, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&runtime.0, Some(VICTIM_UID), Some(VICTIM_UID)).unwrap();
    let store = store("gc-runtime");
    let squat = victims_local(&store);
    std::fs::create_dir(&squat).unwrap();
    std::fs::set_permissions(&squat, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&squat, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let victim = |cmd: &mut Command| {
        store.env(cmd);
        cmd.env("XDG_RUNTIME_DIR", &runtime.0);
        as_victim(cmd);
    };
    let base = unique_base("gc-runtime");
    let dead = format!("Local\\{base}");
    assert_eq!(run("die", &[&dead], victim), "created");
    let fallback: Vec<PathBuf> = common::users::walk(&runtime.0)
        .into_iter()
        .map(PathBuf::from)
        .filter(|p| p.file_name().is_some_and(|f| *f == *format!("o.{base}")))
        .collect();
    assert_eq!(fallback.len(), 1, "{fallback:?}");
    let r = run("gc", &["real"], |cmd| store.env(cmd));
    assert_eq!(r, format!("freed {dead} of {VICTIM_UID}\ndone"));
    assert!(!fallback[0].exists());
}
