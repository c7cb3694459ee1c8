//! Regression tests for what a hostile user or a crash did to shmkit processes: each test
//! is named after the attack it pins. They run as root (as CI does) and start children
//! under other uids, in a private store.
#![cfg(target_os = "linux")]

mod common;

use common::users::{as_other_user, as_victim, run, TempStore, OTHER_UID};
use common::{child_role, report, require_root, unique_base};
use shmkit::{Access, Mapping};
use std::os::unix::fs::PermissionsExt;

fn describe<T>(r: shmkit::Result<T>, ok: impl FnOnce(T) -> String) -> String {
    match r {
        Ok(v) => ok(v),
        Err(e) => format!("err {:?} {} {}", e.kind(), e.win32_code(), e),
    }
}

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
        other => panic!("unknown role {other}"),
    }
}

/// A private store whose Global directory belongs to root, as on a machine where root
/// made it first.
fn store_with_global(tag: &str) -> TempStore {
    let store = TempStore::new(tag);
    let global = store.path("shmkit.global");
    std::fs::create_dir(&global).unwrap();
    std::fs::set_permissions(&global, std::fs::Permissions::from_mode(0o1777)).unwrap();
    store
}

/// Row 1: another user left a `Global\` object (mode 0666) whose holders all died. Every
/// create of that name by a third user spun at 100% CPU forever (it could neither reclaim
/// the object, which the sticky directory keeps for its owner, nor link a new one). Now
/// create says why it cannot, and open finds no live object (SPEC 5.3).
#[test]
fn a_dead_global_object_of_another_user_is_reported_never_a_spin() {
    if !require_root("a_dead_global_object_of_another_user_is_reported_never_a_spin") {
        return;
    }
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
        &[&name, &0o666.to_string()],
        with_store(as_other_user),
    );
    assert_eq!(r, "created");
    // The watchdog of `run` fails the test if either call spins.
    let r = run("try-create", &[&name], with_store(as_victim));
    assert!(
        r.starts_with("err PermissionDenied 5")
            && r.contains(&format!("dead object of uid {OTHER_UID}")),
        "{r}"
    );
    let r = run("try-open", &[&name], with_store(as_victim));
    assert!(r.starts_with("err NotFound 2"), "{r}");
    // Its owner (or root) frees the name: the next create makes a new object.
    let r = run("try-create", &[&name], with_store(as_other_user));
    assert_eq!(r, "ok existed=false");
}
