//! Multi-process tests: real child processes (this test binary, re-run in a role), with
//! a watchdog on every wait. SPEC 4.5, 5.1, 5.3 and 8.1 across processes.

mod common;

use common::{child, child_role, report, reported, unique, wait_output};
use shmkit::{Access, ErrorKind, Mapping};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::atomic::Ordering;

/// The entry point of every child role (run by the tests below, never on its own).
#[test]
#[ignore = "entry point of the child processes that the other tests start"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    let arg = |i: usize| args[i].as_str();
    match role.as_str() {
        // Opens the parent's object, reports what it holds and writes an answer.
        "reader" => {
            let m = Mapping::open(arg(0), Access::ReadWrite).unwrap();
            let v = m.map(Access::ReadWrite).unwrap();
            let mut buf = vec![0; arg(1).parse().unwrap()];
            v.read(0, &mut buf).unwrap();
            report(format!("read {}", String::from_utf8_lossy(&buf)));
            v.write(100, b"answer from child").unwrap();
        }
        // Creates or opens an object, writes, says so, then holds it until stdin closes.
        "holder" => {
            let m = Mapping::create(arg(0), 4096).unwrap();
            m.map(Access::ReadWrite)
                .unwrap()
                .write(0, arg(1).as_bytes())
                .unwrap();
            report(format!("holding existed={}", m.already_existed()));
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        }
        // Adds 1 to the counter at offset 0, n times.
        "counter" => {
            let m = Mapping::open(arg(0), Access::ReadWrite).unwrap();
            let v = m.map(Access::ReadWrite).unwrap();
            let c = v.atomic_u64(0).unwrap();
            for _ in 0..arg(1).parse::<u64>().unwrap() {
                c.fetch_add(1, Ordering::SeqCst);
            }
        }
        // Rebuilds an inherited mapping, reports its first bytes, writes an answer, and
        // (with a second argument) holds it until stdin closes.
        "inherited" => {
            let m = Mapping::from_inherited(arg(0)).unwrap();
            let v = m.map(Access::ReadWrite).unwrap();
            let mut buf = [0; 6];
            v.read(0, &mut buf).unwrap();
            report(format!(
                "got {} size={}",
                String::from_utf8_lossy(&buf),
                m.size()
            ));
            v.write(0, b"child!").unwrap();
            if args.len() > 1 {
                report("holding");
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            }
        }
        other => panic!("unknown role {other}"),
    }
}

/// Starts a holder and waits until it holds the object.
fn start_holder(name: &str, text: &str) -> Child {
    let mut c = child("holder", &[name, text]).spawn().unwrap();
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "holder exited early");
        if line.starts_with("@@holding") {
            break;
        }
    }
    // Keep draining, so that the child never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    c
}

fn kill(mut c: Child) {
    c.kill().unwrap(); // SIGKILL on Unix, TerminateProcess on Windows
    c.wait().unwrap();
}

#[test]
fn child_reads_the_parents_data_and_answers() {
    let name = unique("mp-answer");
    let m = Mapping::create(&name, 4096).unwrap();
    let v = m.map(Access::ReadWrite).unwrap();
    v.write(0, b"Message from parent").unwrap();
    let out = wait_output(child("reader", &[&name, "19"]).spawn().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reported(&out), ["read Message from parent"]);
    let mut answer = [0; 17];
    v.read(100, &mut answer).unwrap();
    assert_eq!(&answer, b"answer from child");
}

#[test]
fn rule_4_5_views_are_coherent_across_processes() {
    let name = unique("mp-counter");
    let m = Mapping::create(&name, 4096).unwrap();
    let kids: Vec<_> = (0..4)
        .map(|_| child("counter", &[&name, "20000"]).spawn().unwrap())
        .collect();
    for k in kids {
        assert!(wait_output(k).status.success());
    }
    let v = m.map(Access::Read).unwrap();
    let mut buf = [0; 8];
    v.read(0, &mut buf).unwrap();
    assert_eq!(u64::from_ne_bytes(buf), 80_000);
}

#[test]
fn rule_5_1_a_childs_handle_keeps_the_name_after_the_creator_closes() {
    let name = unique("mp-keep");
    let creator = Mapping::create(&name, 4096).unwrap();
    let h = start_holder(&name, "kept by child");
    drop(creator);
    let o = Mapping::open(&name, Access::Read).unwrap();
    let mut buf = [0; 13];
    o.map(Access::Read).unwrap().read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"kept by child");
    drop(o);
    let out = {
        let mut h = h;
        drop(h.stdin.take());
        wait_output(h)
    };
    assert!(out.status.success());
    assert_eq!(
        Mapping::open(&name, Access::Read).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn rule_5_3_the_stale_object_of_a_killed_sole_holder_is_never_opened() {
    let name = unique("mp-stale");
    let h = start_holder(&name, "from a dead process");
    assert!(
        Mapping::open(&name, Access::Read).is_ok(),
        "alive while the holder lives"
    );
    kill(h);
    let e = Mapping::open(&name, Access::Read).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(common::leftovers(&name).is_empty(), "reclaimed");
    // create makes it afresh: new and zeroed.
    let m = Mapping::create(&name, 8192).unwrap();
    assert!(!m.already_existed());
    assert_eq!(m.size(), 8192);
    let mut buf = [1; 8];
    m.map(Access::Read).unwrap().read(0, &mut buf).unwrap();
    assert_eq!(buf, [0; 8]);
}

#[test]
fn rule_5_3_killed_holders_are_reclaimed_by_the_next_operation_in_the_namespace() {
    let names: Vec<String> = (0..3).map(|_| unique("mp-reclaim")).collect();
    let holders: Vec<Child> = names.iter().map(|n| start_holder(n, "doomed")).collect();
    for n in &names {
        assert_eq!(common::leftovers(n).len(), 1);
    }
    for h in holders {
        kill(h);
    }
    // Any operation in the namespace, here an open of an unrelated missing name.
    let _ = Mapping::open(&unique("mp-unrelated"), Access::Read);
    for n in &names {
        assert!(common::leftovers(n).is_empty(), "{n} reclaimed");
    }
}

#[test]
fn rule_5_3_a_killed_holder_does_not_take_a_live_object_with_it() {
    let name = unique("mp-shared");
    let h1 = start_holder(&name, "shared");
    let h2 = start_holder(&name, "shared");
    let mine = Mapping::open(&name, Access::Read).unwrap();
    kill(h1);
    let again = Mapping::open(&name, Access::Read).unwrap();
    assert_eq!(again.size(), 4096);
    kill(h2);
    let third = Mapping::create(&name, 4096).unwrap();
    assert!(third.already_existed(), "this process still holds it");
    drop((mine, again, third));
    assert_eq!(
        Mapping::open(&name, Access::Read).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn rule_5_3_all_holders_killed_means_gone() {
    let name = unique("mp-all-dead");
    let hs: Vec<Child> = (0..3).map(|_| start_holder(&name, "x")).collect();
    for h in hs {
        kill(h);
    }
    assert_eq!(
        Mapping::open(&name, Access::Read).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn rule_8_1_share_with_hands_an_unnamed_mapping_to_a_child() {
    let m = Mapping::anonymous(10_000).unwrap();
    m.map(Access::ReadWrite)
        .unwrap()
        .write(0, b"parent")
        .unwrap();
    let mut cmd = child("inherited", &[]);
    let token = m.share_with(&mut cmd).unwrap();
    cmd.env("SHMKIT_TEST_ARGS", &token);
    let out = wait_output(cmd.spawn().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reported(&out), ["got parent size=10000"]);
    let mut buf = [0; 6];
    m.map(Access::Read).unwrap().read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"child!");
}

#[test]
fn rule_8_1_an_inherited_named_handle_keeps_the_name_alive() {
    let name = unique("mp-inherit-named");
    let m = Mapping::create(&name, 4096).unwrap();
    m.map(Access::ReadWrite)
        .unwrap()
        .write(0, b"named!")
        .unwrap();
    let mut cmd = child("inherited", &[]);
    let token = m.share_with(&mut cmd).unwrap();
    cmd.env("SHMKIT_TEST_ARGS", format!("{token}\u{1f}hold"));
    let mut c = cmd.spawn().unwrap();
    drop(cmd);
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut line = String::new();
    while !lines.iter().any(|l: &String| l.starts_with("@@holding")) {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child exited early");
        lines.push(line.trim().to_owned());
    }
    assert!(
        lines.iter().any(|l| l == "@@got named! size=4096"),
        "{lines:?}"
    );
    // The parent closes its handle; the child's inherited one keeps the name.
    drop(m);
    let again = Mapping::open(&name, Access::Read).unwrap();
    let mut buf = [0; 6];
    again.map(Access::Read).unwrap().read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"child!");
    drop(again);
    c.stdin.take().unwrap().write_all(b"done\n").unwrap();
    assert!(wait_output(c).status.success());
    assert_eq!(
        Mapping::open(&name, Access::Read).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn rule_8_1_inheritable_handles_reach_children() {
    let m = Mapping::options()
        .size(4096)
        .inheritable(true)
        .create()
        .unwrap();
    m.map(Access::ReadWrite)
        .unwrap()
        .write(0, b"inhrt!")
        .unwrap();
    let token = m
        .inherit_token()
        .expect("an inheritable handle has a token");
    let out = wait_output(
        child("inherited", &[&token])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(reported(&out), ["got inhrt! size=4096"]);
    assert!(
        Mapping::anonymous(4096).unwrap().inherit_token().is_none(),
        "not inheritable by default"
    );
}
