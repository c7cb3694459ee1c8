//! The `shmkit` binary end to end: real processes, each test in a store of its own, with a
//! watchdog on everything it starts and a check that nothing was left behind.
//!
//! They run on Linux and, under Wine in the Windows lane, on Windows; those that need
//! what Windows lacks (`ls`, `info` and `gc`, which list objects; Unix signals; the files
//! of the Linux store) are Linux-only, each saying why.

mod common;

#[cfg(not(windows))]
use common::signal;
use common::{
    pattern, run_with_stdin, sha256, unique, unique_base, Holder, Lines, Store, TempFile,
};
use predicates::prelude::*;
use predicates::str::contains;
#[cfg(not(windows))]
use rustix::process::Signal;
#[cfg(target_os = "linux")]
use serde_json::Value;
use std::process::Stdio;

#[cfg(target_os = "linux")]
const JSON_FIELDS: [&str; 9] = [
    "channel",
    "holders",
    "kind",
    "mode",
    "name",
    "namespace",
    "owner",
    "persistent",
    "size",
];

#[cfg(target_os = "linux")]
fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", String::from_utf8_lossy(out));
    })
}

#[cfg(target_os = "linux")]
fn assert_fields(obj: &Value) {
    let mut keys: Vec<&str> = obj
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, JSON_FIELDS, "{obj}");
}

/// The part of a `Local\\` name after the prefix.
fn base(name: &str) -> &str {
    name.strip_prefix("Local\\").unwrap_or(name)
}

fn stdout_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Creates a persistent object of `size` bytes.
fn persistent(store: &Store, name: &str, size: &str) {
    store
        .cmd()
        .args(["create", name, "--size", size, "--persistent"])
        .assert()
        .success();
}

fn read_all(store: &Store, name: &str) -> Vec<u8> {
    store
        .cmd()
        .args(["read", name])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

#[test]
// Linux only: `ls` and `info` list objects and holders, which Windows cannot.
#[cfg(target_os = "linux")]
fn a_held_object_shows_in_ls_and_info_with_its_holder() {
    let store = Store::new();
    let name = unique("held");
    let holder = Holder::start(&store, &name, "1M", &[]);
    let pid = holder.pid;

    let table = store.cmd().arg("ls").assert().success();
    let line = stdout_of(&table)
        .lines()
        .find(|l| l.starts_with(&name))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{name} not in:\n{}", stdout_of(&table)));
    for cell in ["mapping", "1 MiB", "0600", "no", &pid.to_string()] {
        assert!(line.contains(cell), "{cell:?} not in {line:?}");
    }
    assert!(stdout_of(&table).starts_with("NAME "), "a header row");

    let list = json(
        &store
            .cmd()
            .args(["ls", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let objects = list.as_array().expect("ls --json prints an array");
    let obj = objects
        .iter()
        .find(|o| o["name"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} not in {list}"));
    assert_fields(obj);
    assert_eq!(obj["namespace"], "Local");
    assert_eq!(obj["kind"], "mapping");
    assert_eq!(obj["size"], 1 << 20);
    assert_eq!(obj["owner"], common::euid());
    assert_eq!(obj["mode"], 0o600);
    assert_eq!(obj["persistent"], false);
    assert_eq!(obj["holders"], serde_json::json!([pid]));

    let info = json(
        &store
            .cmd()
            .args(["info", &name, "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_fields(&info);
    assert_eq!(info, *obj);

    // A bare name means Local\; the text form names the holder's command.
    let bare = name.strip_prefix("Local\\").unwrap();
    store
        .cmd()
        .args(["info", bare])
        .assert()
        .success()
        .stdout(contains(format!("{pid} (shmkit): handle")))
        .stdout(contains("persistent  no"))
        .stdout(contains("1 MiB (1048576 bytes)"));

    assert!(holder.release().success());
    store
        .cmd()
        .args(["info", &name])
        .assert()
        .code(1)
        .stderr(contains("no object has that name"));
    store.assert_clean();
}

#[test]
// Linux only: Unix signals, and `info`.
#[cfg(target_os = "linux")]
fn create_hold_says_it_holds_and_releases_on_sigterm() {
    let store = Store::new();
    let name = unique("sigterm");
    let holder = Holder::start(&store, &name, "64K", &["--mode", "640"]);
    let pid = holder.pid;
    let said = holder.stderr.all();
    assert!(said.contains(&format!("created {name}")), "{said}");
    assert!(
        said.contains(&format!("holding {name} in pid {pid}")),
        "{said}"
    );
    let info = json(
        &store
            .cmd()
            .args(["info", &name, "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(info["mode"], 0o640);
    signal(pid, Signal::TERM);
    holder.stderr.wait_for("released");
    assert!(
        holder.stderr.all().contains("got SIGTERM"),
        "{}",
        holder.stderr.all()
    );
    assert!(holder.release().success(), "a clean exit after SIGTERM");
    store.cmd().args(["info", &name]).assert().code(1);
    store.assert_clean();
}

#[test]
// Linux only: Unix signals.
#[cfg(target_os = "linux")]
fn a_holder_released_by_sigint_reports_it() {
    let store = Store::new();
    let name = unique("sigint");
    let holder = Holder::start(&store, &name, "4096", &[]);
    signal(holder.pid, Signal::INT);
    holder.stderr.wait_for("released");
    assert!(
        holder.stderr.all().contains("got SIGINT"),
        "{}",
        holder.stderr.all()
    );
    assert!(holder.release().success());
    store.assert_clean();
}

#[test]
fn create_hold_holds_until_stdin_closes() {
    let store = Store::new();
    let name = unique("hold-stdin");
    let mut holder = Holder::start(&store, &name, "64K", &[]);
    let said = holder.stderr.all();
    assert!(said.contains(&format!("created {name} (64 KiB")), "{said}");
    assert!(said.contains("release it with end of input"), "{said}");
    // Other processes open it by name while it is held.
    store
        .cmd()
        .args(["write", &name, "--offset", "100"])
        .write_stdin("held")
        .assert()
        .success();
    store
        .cmd()
        .args(["read", &name, "--offset", "100", "--len", "4"])
        .assert()
        .success()
        .stdout("held");
    holder.close_stdin();
    let line = holder.stderr.wait_for("released");
    assert!(
        line.contains(&format!("released {name} (stdin closed)")),
        "{line}"
    );
    assert!(holder.release().success());
    // Its last handle went with the holder, and the name with it.
    store
        .cmd()
        .args(["read", &name])
        .assert()
        .code(1)
        .stderr(contains("no object has that name"));
    store.assert_clean();
}

#[test]
fn create_without_hold_or_persistent_is_refused() {
    let store = Store::new();
    let name = unique("vanish");
    store
        .cmd()
        .args(["create", &name, "--size", "4K"])
        .assert()
        .code(2)
        .stderr(contains("shmkit: error:"))
        .stderr(contains(base(&name)))
        .stderr(contains("would vanish"))
        .stderr(contains("--hold"));
    store.assert_clean();
}

#[test]
fn persistent_objects_are_created_listed_and_removed() {
    let store = Store::new();
    let name = unique("persistent");
    store
        .cmd()
        .args(["create", &name, "--size", "64KiB", "--persistent"])
        .assert()
        .success()
        .stderr(contains("created"));
    #[cfg(target_os = "linux")]
    {
        let info = json(
            &store
                .cmd()
                .args(["info", &name, "--json"])
                .assert()
                .success()
                .get_output()
                .stdout,
        );
        assert_eq!(info["persistent"], true);
        assert_eq!(info["size"], 65536);
        assert_eq!(info["holders"], serde_json::json!([]));
        store
            .cmd()
            .args(["info", &name])
            .assert()
            .success()
            .stdout(contains("holders     none"));
    }
    // It outlived the command that made it, with its exact size, zero-filled.
    assert_eq!(read_all(&store, &name), vec![0u8; 65536]);
    // Creating it again fails: the name is taken.
    store
        .cmd()
        .args(["create", &name, "--size", "4K", "--persistent"])
        .assert()
        .code(1)
        .stderr(contains("already exists"));
    store.cmd().args(["rm", &name]).assert().success();
    #[cfg(target_os = "linux")]
    store.cmd().args(["info", &name]).assert().code(1);
    store
        .cmd()
        .args(["read", &name])
        .assert()
        .code(1)
        .stderr(contains("no object has that name"));
    store
        .cmd()
        .args(["rm", &name])
        .assert()
        .code(1)
        .stderr(contains("shmkit: error:").and(contains("no object has that name")));
    store.assert_clean();
}

#[test]
fn rm_of_a_non_persistent_object_explains_and_fails() {
    let store = Store::new();
    let name = unique("rm-held");
    let holder = Holder::start(&store, &name, "4K", &[]);
    let failed = store.cmd().args(["rm", &name]).assert().code(1);
    let err = stderr_of(&failed);
    assert!(err.starts_with("shmkit: error: "), "{err}");
    // Linux names the holders; Windows cannot list them.
    #[cfg(target_os = "linux")]
    let parts = [
        "not persistent",
        "last holder",
        &holder.pid.to_string(),
        base(&name),
    ];
    #[cfg(not(target_os = "linux"))]
    let parts = ["not persistent", "last handle", base(&name)];
    for part in parts {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
    // Still there, still held.
    #[cfg(target_os = "linux")]
    store.cmd().args(["info", &name]).assert().success();
    store
        .cmd()
        .args(["read", &name, "--len", "1"])
        .assert()
        .success()
        .stdout(predicate::eq(&[0u8][..]));
    assert!(holder.release().success());
    store.assert_clean();
}

#[test]
// Linux only, and root only: another user's objects, as an administrator cleans them.
#[cfg(target_os = "linux")]
fn root_gc_frees_another_users_dead_local_object_and_spares_its_live_one() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if common::euid() != 0 {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("NOT RUN: needs root");
        return;
    }
    // A uid no account uses.
    const USER: u32 = 54_322;
    let store = Store::new();
    std::fs::set_permissions(&store.root, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let hold = |name: &str| {
        let mut child = store
            .spawn_cmd()
            .args(["create", name, "--size", "4K", "--hold"])
            .uid(USER)
            .gid(USER)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Lines::collect(child.stderr.take().unwrap());
        lines.wait_for("holding");
        (child, lines)
    };
    let (dead, live) = (unique("gc-root-dead"), unique("gc-root-live"));
    let (mut live_holder, _l1) = hold(&live);
    let (mut dead_holder, _l2) = hold(&dead);
    signal(dead_holder.id(), Signal::KILL);
    common::wait_with_watchdog(&mut dead_holder, common::WATCHDOG);
    let user = format!("of {USER} (uid {USER})");
    store
        .cmd()
        .args(["gc", "--dry-run"])
        .assert()
        .success()
        .stdout(contains(format!(
            "would free {dead} (mapping, 4 KiB) {user}"
        )))
        .stdout(contains(live.as_str()).not());
    store
        .cmd()
        .arg("gc")
        .assert()
        .success()
        .stdout(contains(format!("freed {dead} (mapping, 4 KiB) {user}")))
        .stdout(contains("freed 1 object"))
        .stdout(contains(live.as_str()).not());
    let local = store.root.join(format!("shmkit.local.{USER}"));
    let base = |n: &str| format!("o.{}", n.rsplit('\\').next().unwrap());
    assert!(!local.join(base(&dead)).exists());
    assert!(local.join(base(&live)).exists(), "the live object stays");
    drop(live_holder.stdin.take());
    common::wait_with_watchdog(&mut live_holder, common::WATCHDOG);
}

#[test]
// Linux only: `gc` and the store's files (Windows frees a dead holder's objects itself).
#[cfg(target_os = "linux")]
fn gc_frees_the_object_of_a_killed_holder() {
    let store = Store::new();
    let name = unique("gc");
    let holder = Holder::start(&store, &name, "128K", &[]);
    assert!(store.object_file(&name).exists());
    let status = holder.signal(Signal::KILL);
    assert!(!status.success());

    // A dry run reports and changes nothing.
    store
        .cmd()
        .args(["gc", "--dry-run"])
        .assert()
        .success()
        .stdout(contains(format!("would free {name} (mapping, 128 KiB)")));
    assert!(store.object_file(&name).exists(), "a dry run frees nothing");

    store
        .cmd()
        .arg("gc")
        .assert()
        .success()
        .stdout(contains(format!("freed {name} (mapping, 128 KiB)")))
        .stdout(contains("freed 1 object"));
    assert!(!store.object_file(&name).exists());
    store.cmd().args(["info", &name]).assert().code(1);
    store
        .cmd()
        .arg("gc")
        .assert()
        .success()
        .stdout(predicate::eq("nothing to free\n"));
    // The killed holder's lease went too.
    store.assert_clean();
}

#[test]
// Linux only: `ls`.
#[cfg(target_os = "linux")]
fn ls_without_objects_prints_nothing_on_stdout() {
    let store = Store::new();
    store.cmd().arg("ls").assert().success().stdout("");
    let list = json(
        &store
            .cmd()
            .args(["ls", "--json", "--all"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list, serde_json::json!([]));
    store.assert_clean();
}

#[test]
fn large_round_trips_keep_every_byte() {
    let store = Store::new();
    let name = unique("large");
    persistent(&store, &name, "64M");
    let data = pattern(64 << 20, 0x5eed);
    let file = TempFile::new("large", &data);

    // From a named file.
    store
        .cmd()
        .args(["write", &name])
        .arg(file.path())
        .assert()
        .success();
    assert_eq!(sha256(&read_all(&store, &name)), sha256(&data));

    // From stdin redirected from a file (its length is known in advance), at an offset.
    let small = pattern(3 << 20, 7);
    let small_file = TempFile::new("small", &small);
    let input = std::fs::File::open(small_file.path()).unwrap();
    let out = run_with_stdin(
        &store,
        &["write", &name, "--offset", "1M"],
        Stdio::from(input),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // From a pipe (buffered, then written), at an offset off the 64 KiB grid.
    let piped = pattern(2 << 20, 11);
    store
        .cmd()
        .args(["write", &name, "--offset", "12345678", "-"])
        .write_stdin(piped.clone())
        .assert()
        .success();

    let mut expected = data.clone();
    expected[1 << 20..(1 << 20) + small.len()].copy_from_slice(&small);
    expected[12_345_678..12_345_678 + piped.len()].copy_from_slice(&piped);
    assert_eq!(sha256(&read_all(&store, &name)), sha256(&expected));

    // A range read.
    let part = store
        .cmd()
        .args(["read", &name, "--offset", "12345678", "--len", "2M"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(sha256(&part), sha256(&piped));

    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

#[test]
fn writing_past_the_end_is_refused_and_changes_nothing() {
    let store = Store::new();
    let name = unique("past-end");
    persistent(&store, &name, "64K");
    let before = pattern(65536, 3);
    let fits = TempFile::new("fits", &before);
    store
        .cmd()
        .args(["write", &name])
        .arg(fits.path())
        .assert()
        .success();

    let too_long = TempFile::new("too-long", &pattern(65537, 4));
    let refused = store
        .cmd()
        .args(["write", &name])
        .arg(too_long.path())
        .assert()
        .code(1);
    let err = stderr_of(&refused);
    assert!(
        err.starts_with("shmkit: error: cannot write 65537 bytes"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");

    // The same input from a pipe, and a fitting length at an offset that pushes it over.
    store
        .cmd()
        .args(["write", &name])
        .write_stdin(pattern(65537, 5))
        .assert()
        .code(1)
        .stderr(contains("nothing was written"));
    store
        .cmd()
        .args(["write", &name, "--offset", "1"])
        .arg(fits.path())
        .assert()
        .code(1)
        .stderr(contains("only 65535 fit"));
    // An endless input is refused as well, after at most the room plus one byte.
    #[cfg(not(windows))]
    let out = {
        let zero = std::fs::File::open("/dev/zero").unwrap();
        run_with_stdin(&store, &["write", &name], Stdio::from(zero))
    };
    #[cfg(windows)]
    let out = common::run_with_endless_zeros(&store, &["write", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 65536 bytes from stdin"));

    assert_eq!(read_all(&store, &name), before, "the object is unchanged");
    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

#[test]
fn offsets_need_not_be_aligned_but_must_be_inside() {
    let store = Store::new();
    let name = unique("offsets");
    persistent(&store, &name, "128K");
    store
        .cmd()
        .args(["write", &name, "--offset", "65537"])
        .write_stdin("hello")
        .assert()
        .success();
    store
        .cmd()
        .args(["read", &name, "--offset", "0x10001", "--len", "5"])
        .assert()
        .success()
        .stdout("hello");
    store
        .cmd()
        .args(["read", &name, "--offset", "65530", "--len", "16", "--hex"])
        .assert()
        .success()
        .stdout(
            "0000fffa  00 00 00 00 00 00 00 68  65 6c 6c 6f 00 00 00 00  |.......hello....|\n\
             0001000a\n",
        );
    // The last byte is readable; one past it is not.
    store
        .cmd()
        .args(["read", &name, "--offset", "131071"])
        .assert()
        .success()
        .stdout(predicate::eq(&[0u8][..]));
    let past = [
        vec!["read", "--offset", "128K"],
        vec!["read", "--offset", "1G"],
        vec!["read", "--offset", "100", "--len", "131000"],
        vec!["write", "--offset", "131072"],
        vec!["watch", "--offset", "200K"],
        vec!["watch", "--len", "0"],
    ];
    for args in past {
        let (cmd, rest) = args.split_first().unwrap();
        store
            .cmd()
            .arg(cmd)
            .arg(&name)
            .args(rest)
            .write_stdin("x")
            .assert()
            .code(2)
            .stderr(contains("shmkit: error:"));
    }
    assert_eq!(read_all(&store, &name)[65537..65542], *b"hello");
    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

#[test]
fn read_hex_has_the_layout_of_hexdump_c() {
    let store = Store::new();
    let name = unique("hex");
    persistent(&store, &name, "4K");
    store
        .cmd()
        .args(["write", &name])
        .write_stdin("Hello, shared memory!\n")
        .assert()
        .success();
    store
        .cmd()
        .args(["read", &name, "--hex"])
        .assert()
        .success()
        .stdout(
            "00000000  48 65 6c 6c 6f 2c 20 73  68 61 72 65 64 20 6d 65  |Hello, shared me|\n\
             00000010  6d 6f 72 79 21 0a 00 00  00 00 00 00 00 00 00 00  |mory!...........|\n\
             00000020  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n\
             *\n\
             00001000\n",
        );
    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

#[test]
fn watch_marks_changes_shows_as_a_viewer_and_stops_on_sigint() {
    let store = Store::new();
    let name = unique("watch");
    persistent(&store, &name, "64K");
    let mut watch = store
        .spawn_cmd()
        .args(["watch", &name, "--len", "32", "--interval", "20"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Lines::collect(watch.stdout.take().unwrap());
    let _err = Lines::collect(watch.stderr.take().unwrap());
    out.wait_for("--- frame 1");

    // The watcher holds a handle and a view.
    #[cfg(target_os = "linux")]
    store
        .cmd()
        .args(["info", &name])
        .assert()
        .success()
        .stdout(contains(format!("{} (shmkit): handle, view", watch.id())));

    store
        .cmd()
        .args(["write", &name, "--offset", "17"])
        .write_stdin("abc")
        .assert()
        .success();
    out.wait_for("--- frame 2");
    out.wait_for("00000010  00 61*62*63*00");

    // A clean stop needs a signal; on Windows (no console to send Ctrl-C through, in
    // the tests) the watch is killed.
    #[cfg(not(windows))]
    {
        signal(watch.id(), Signal::INT);
        let status = common::wait_with_watchdog(&mut watch, common::WATCHDOG);
        assert!(status.success(), "{status}");
    }
    #[cfg(windows)]
    {
        watch.kill().unwrap();
        common::wait_with_watchdog(&mut watch, common::WATCHDOG);
    }
    assert!(out.all().contains("3 bytes changed"), "{}", out.all());
    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

#[test]
fn every_error_has_its_exit_status() {
    let store = Store::new();
    let missing = unique("missing");
    let name = unique("errors");
    persistent(&store, &name, "64K");
    let no_such_file = std::env::temp_dir().join(unique_base("no-such-file"));
    let no_such_file = no_such_file.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        // Bad names: usage errors.
        (
            vec!["create", "Bogus\\x", "--size", "4K", "--persistent"],
            2,
            "unknown namespace",
        ),
        (
            vec!["create", "Local\\", "--size", "4K", "--persistent"],
            2,
            "empty",
        ),
        (
            vec!["create", "Global\\a\\b", "--size", "4K", "--persistent"],
            2,
            "backslash",
        ),
        (vec!["info", "local\\x"], 2, "unknown namespace"),
        (vec!["read", ""], 2, "invalid name"),
        // Bad sizes.
        (
            vec!["create", "x", "--size", "0", "--persistent"],
            2,
            "at least 1 byte",
        ),
        (
            vec!["create", "x", "--size", "12Q", "--persistent"],
            2,
            "unknown unit",
        ),
        (
            vec!["create", "x", "--size", "1.5M", "--persistent"],
            2,
            "unknown unit",
        ),
        (
            vec!["create", "x", "--size", "1MB", "--persistent"],
            2,
            "ambiguous",
        ),
        (
            vec!["create", "x", "--size", "99999999999G", "--persistent"],
            2,
            "too large",
        ),
        (
            vec!["create", "x", "--size", "8E", "--persistent"],
            2,
            "unknown unit",
        ),
        (vec!["create", "x", "--persistent"], 2, "--size"),
        (
            vec![
                "create",
                "x",
                "--size",
                "4K",
                "--persistent",
                "--mode",
                "1777",
            ],
            2,
            "0777",
        ),
        // Bad offsets and arguments.
        (vec!["read", "x", "--offset", "abc"], 2, "not a size"),
        (vec!["read", "x", "--len", "-1"], 2, "-1"),
        (vec!["watch", "x", "--interval", "0"], 2, "--interval"),
        (vec!["frobnicate"], 2, "unrecognized subcommand"),
        // Missing objects: failed operations.
        (vec!["read", &missing], 1, "no object has that name"),
        (vec!["write", &missing], 1, "no object has that name"),
        (vec!["watch", &missing], 1, "no object has that name"),
        (vec!["rm", &missing], 1, "no object has that name"),
        // A missing input file.
        (vec!["write", &name, no_such_file], 1, "cannot open input"),
    ];
    // Only Linux has `info` and channels (elsewhere they fail whatever the name; the
    // statuses of the channels' own errors are in `channel_errors_have_their_exit_statuses`).
    #[cfg(target_os = "linux")]
    let cases = [
        cases,
        vec![
            (vec!["info", &missing], 1, "no object has that name"),
            (vec!["send", &missing, "x"], 1, "no object has that name"),
            (vec!["recv", &missing], 1, "no object has that name"),
        ],
    ]
    .concat();
    for (args, code, needle) in cases {
        let a = store.cmd().args(&args).write_stdin("").assert().code(code);
        let err = stderr_of(&a);
        assert!(err.starts_with("shmkit: error:"), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
        assert!(stdout_of(&a).is_empty(), "{args:?}");
    }
    // Errors name the object.
    store
        .cmd()
        .args(["read", &missing])
        .assert()
        .stderr(contains(base(&missing)));
    // Nothing was created by a refused command.
    #[cfg(target_os = "linux")]
    {
        let list = json(
            &store
                .cmd()
                .args(["ls", "--json"])
                .assert()
                .success()
                .get_output()
                .stdout,
        );
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, [name.as_str()]);
    }
    #[cfg(not(target_os = "linux"))]
    store
        .cmd()
        .args(["read", "x"])
        .assert()
        .code(1)
        .stderr(contains("no object has that name"));
    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

#[test]
fn demo_runs_the_parent_child_scenario() {
    let store = Store::new();
    let done = store.cmd().arg("demo").assert().success();
    let out = stdout_of(&done);
    for step in [
        "1. parent",
        "2. parent",
        "3. child",
        "4. parent",
        "5. child",
        "6. parent",
        "7. parent",
        "8. opening",
    ] {
        assert!(out.contains(step), "{step:?} not in:\n{out}");
    }
    // The events order the two processes: the steps appear in order.
    let at = |step: &str| out.find(step).unwrap();
    for pair in ["1. ", "2. ", "3. ", "4. ", "5. ", "6. ", "7. ", "8. "].windows(2) {
        assert!(at(pair[0]) < at(pair[1]), "{pair:?} out of order:\n{out}");
    }
    assert!(out.contains("opens Local\\shmkit-demo-"), "{out}");
    assert!(
        out.contains("reads: \"Hello from the parent process"),
        "{out}"
    );
    assert!(out.contains("Hello back from the child"), "{out}");
    assert!(out.contains("fails with error 2"), "{out}");
    assert!(out.trim_end().ends_with("done."), "{out}");
    store.assert_clean();
}

#[test]
// Linux only: looks for leftovers in /dev/shm (see the Windows twin below).
#[cfg(target_os = "linux")]
fn the_default_store_works_and_keeps_nothing() {
    let base = unique_base("default-store");
    let name = format!("Local\\{base}");
    let run = || {
        let mut c = assert_cmd::Command::new(common::BIN);
        c.env_remove("SHMKIT_DIR").timeout(common::WATCHDOG);
        c
    };
    run()
        .args(["create", &name, "--size", "4K", "--persistent"])
        .assert()
        .success();
    run()
        .args(["write", &name])
        .write_stdin("default")
        .assert()
        .success();
    run()
        .args(["read", &name, "--len", "7"])
        .assert()
        .success()
        .stdout("default");
    run().args(["rm", &name]).assert().success();
    let left: Vec<String> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with("shmkit."))
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.contains(&base))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn sync_objects_are_created_held_and_listed_with_their_kind() {
    let store = Store::new();
    let mut holders = Vec::new();
    let mut names = Vec::new();
    for kind in ["mutex", "event", "semaphore"] {
        let name = unique(kind);
        let mut child = store
            .spawn_cmd()
            .args(["create", &name, "--kind", kind, "--hold", "--mode", "640"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Lines::collect(child.stderr.take().unwrap());
        let said = stderr.wait_for("holding");
        assert!(said.contains(&name), "{said}");
        assert!(stderr.all().contains(&format!("created {kind} {name}")));
        holders.push(child);
        names.push((name, kind));
    }
    #[cfg(target_os = "linux")]
    {
        let list = json(
            &store
                .cmd()
                .args(["ls", "--json"])
                .assert()
                .success()
                .get_output()
                .stdout,
        );
        for (name, kind) in &names {
            let obj = list
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["name"] == name.as_str())
                .unwrap_or_else(|| panic!("{name} not listed: {list}"));
            assert_eq!(obj["kind"], *kind);
            assert_eq!(obj["mode"], 0o640);
            let info = store.cmd().args(["info", name]).assert().success();
            assert!(
                stdout_of(&info).contains(&format!("kind        {kind}")),
                "{}",
                stdout_of(&info)
            );
        }
    }
    // Held: a second one of the same name and kind is refused.
    for (name, kind) in &names {
        store
            .cmd()
            .args(["create", name, "--kind", kind, "--hold"])
            .assert()
            .code(1)
            .stderr(contains("already exists"));
    }
    // The kinds share one namespace: a mapping cannot take an event's name.
    store
        .cmd()
        .args(["create", &names[1].0, "--size", "4K", "--hold"])
        .assert()
        .code(1)
        .stderr(contains("another kind"));
    // Sync objects have no size and no persistence.
    store
        .cmd()
        .args([
            "create",
            &unique("bad"),
            "--kind",
            "event",
            "--size",
            "4K",
            "--hold",
        ])
        .assert()
        .code(2);
    store
        .cmd()
        .args(["create", &unique("bad"), "--kind", "mutex", "--persistent"])
        .assert()
        .code(2);
    for mut h in holders {
        drop(h.stdin.take());
        assert!(common::wait_with_watchdog(&mut h, common::WATCHDOG).success());
    }
    store.assert_clean();
}

#[test]
// Windows only: what replaces `ls`, `info` and `gc` there.
#[cfg(windows)]
fn listing_commands_fail_on_windows_saying_why() {
    let store = Store::new();
    let name = unique("no-listing");
    persistent(&store, &name, "4K");
    // The reason is the library's (inspect answers NotSupported); the operation is the
    // tool's.
    let shown = format!("cannot show \"{name}\": ");
    let cases = [
        (vec!["ls"], "cannot list the objects: "),
        (vec!["ls", "--json", "--all"], "cannot list the objects: "),
        (vec!["info", &name], shown.as_str()),
        (vec!["info", &name, "--json"], shown.as_str()),
        (vec!["gc"], "cannot collect garbage: "),
        (vec!["gc", "--dry-run"], "cannot collect garbage: "),
    ];
    for (args, operation) in cases {
        let a = store.cmd().args(&args).assert().code(1);
        let err = stderr_of(&a);
        let reason = err
            .strip_prefix("shmkit: error: ")
            .and_then(|e| e.strip_prefix(operation))
            .unwrap_or_else(|| panic!("{args:?}: {err}"));
        assert!(!reason.trim().is_empty(), "{args:?}: {err}");
        assert!(stdout_of(&a).is_empty(), "{args:?}");
    }
    store
        .cmd()
        .args(["info", &name])
        .assert()
        .stderr(contains(base(&name)));
    // `gc` touched nothing.
    assert_eq!(read_all(&store, &name), vec![0u8; 4096]);
    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

#[test]
// Windows only: the twin of the Linux test above, in %LOCALAPPDATA%.
#[cfg(windows)]
fn the_default_store_works_and_keeps_nothing_on_windows() {
    use std::collections::BTreeSet;
    let base = unique_base("default-store");
    let name = format!("Local\\{base}");
    let run = || {
        let mut c = assert_cmd::Command::new(common::BIN);
        c.env_remove("SHMKIT_DIR").timeout(common::WATCHDOG);
        c
    };
    let dir = std::path::PathBuf::from(std::env::var_os("LOCALAPPDATA").expect("LOCALAPPDATA"))
        .join("shmkit")
        .join("Local");
    let files = || -> BTreeSet<String> {
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let before = files();
    run()
        .args(["create", &name, "--size", "4K", "--persistent"])
        .assert()
        .success();
    let made: Vec<String> = files().difference(&before).cloned().collect();
    assert!(
        made.contains(&format!("o.{base}")),
        "{made:?} in {}",
        dir.display()
    );
    run()
        .args(["write", &name])
        .write_stdin("default")
        .assert()
        .success();
    run()
        .args(["read", &name, "--len", "7"])
        .assert()
        .success()
        .stdout("default");
    run().args(["rm", &name]).assert().success();
    let now = files();
    let left: Vec<&String> = made.iter().filter(|f| now.contains(*f)).collect();
    assert!(left.is_empty(), "{left:?} in {}", dir.display());
}

/// `create` showed a name's control characters raw on stderr (a name can move the
/// terminal's cursor or change its colours); it escapes them as `ls` and `info` do.
#[test]
fn create_escapes_control_characters_of_a_name() {
    let store = Store::new();
    let name = format!("{}-\u{1b}[2J-\u{7}", unique("ctl"));
    let out = store
        .cmd()
        .args(["create", &name, "--size", "4K", "--persistent"])
        .assert()
        .success();
    let err = stderr_of(&out);
    assert!(
        !err.chars().any(|c| c == '\u{1b}' || c == '\u{7}'),
        "{err:?}"
    );
    assert!(err.contains("\\u{1b}[2J-\\u{7}"), "{err:?}");
    store.cmd().args(["rm", &name]).assert().success();
    store.assert_clean();
}

/// `--kind` takes the library's spelling of the kinds `create` makes, and no other.
#[test]
fn create_kind_takes_the_library_spelling() {
    let store = Store::new();
    let out = store
        .cmd()
        .args(["create", &unique("kind"), "--kind", "pipe"])
        .assert()
        .code(2);
    let err = stderr_of(&out);
    assert!(
        err.contains("mapping, mutex, event, semaphore, channel"),
        "{err}"
    );
    store.assert_clean();
}

/// The object file of `name` in `store`.
#[cfg(target_os = "linux")]
fn object_file(store: &Store, name: &str) -> std::path::PathBuf {
    let base = base(name);
    for dir in std::fs::read_dir(&store.root).unwrap().flatten() {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.file_name().to_string_lossy().contains(base) {
                return f.path();
            }
        }
    }
    panic!("no file for {name} in {:?}", store.root);
}

#[test]
// Linux only: the store's files are what a truncating peer cuts.
#[cfg(target_os = "linux")]
fn read_and_write_of_an_object_cut_short_are_errors_never_sigbus() {
    use std::os::unix::process::ExitStatusExt;
    let store = Store::new();
    let name = unique("cut-short");
    persistent(&store, &name, "1MiB");
    let file = object_file(&store, &name);
    // Header only: the 1 MiB the header promises is gone.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(4096)
        .unwrap();
    for args in [
        vec!["read", &name],
        vec!["write", &name, "--offset", "4096", "x"],
    ] {
        let out = store.cmd().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.signal(), None, "{args:?} died: {stderr}");
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(base(&name)), "{args:?}: {stderr}");
    }
    store.cmd().args(["rm", &name]).assert().success();
}

/// `create --kind channel --hold NAME ARGS...`, in the background.
fn hold_channel(store: &Store, name: &str, extra: &[&str]) -> Holder {
    let args = [&["create", name, "--kind", "channel", "--hold"][..], extra].concat();
    Holder::start_with(store, &args)
}

/// `shmkit ARGS` in the background, stdout and stderr collected.
#[cfg(target_os = "linux")]
fn background(store: &Store, args: &[&str]) -> (std::process::Child, Lines, Lines) {
    let mut child = store
        .spawn_cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Lines::collect(child.stdout.take().unwrap());
    let err = Lines::collect(child.stderr.take().unwrap());
    (child, out, err)
}

/// The `channel` of `name` in `ls --json`.
#[cfg(target_os = "linux")]
fn channel_json(store: &Store, name: &str) -> Value {
    let list = json(
        &store
            .cmd()
            .args(["ls", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let obj = list
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {list}"))
        .clone();
    assert_fields(&obj);
    assert_eq!(obj["kind"], "channel", "{obj}");
    obj["channel"].clone()
}

/// Polls `ls --json` (under the watchdog) until the channel's details satisfy `ok`.
#[cfg(target_os = "linux")]
fn wait_for_channel(store: &Store, name: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + common::WATCHDOG;
    loop {
        let c = channel_json(store, name);
        if ok(&c) {
            return c;
        }
        assert!(std::time::Instant::now() < deadline, "never: {c}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
// Linux only: channels are (for now), and `ls` lists them.
#[cfg(target_os = "linux")]
fn channel_send_recv_round_trip_with_depth_and_ends_in_ls_and_info() {
    let store = Store::new();
    let name = unique("chan");
    let holder = hold_channel(
        &store,
        &name,
        &[
            "--capacity",
            "4K",
            "--max-message",
            "100",
            "--producers",
            "2",
            "--permissions",
            "640",
        ],
    );
    let said = holder.stderr.all();
    assert!(
        said.contains(&format!(
            "created channel {name} (ring 4 KiB, messages up to 100 B"
        )),
        "{said}"
    );

    store
        .cmd()
        .args(["send", &name, "hello"])
        .assert()
        .success();
    store
        .cmd()
        .args(["send", &name, "--lines"])
        .write_stdin("a\n\nccc")
        .assert()
        .success();
    // Four records of 32, 32, 16 and 32 bytes; the holder is the one sender attached.
    let c = channel_json(&store, &name);
    assert_eq!(c["capacity"], 4096, "{c}");
    assert_eq!(c["max_message"], 100, "{c}");
    assert_eq!(c["producers"], 3, "{c}");
    assert_eq!(c["depth"], 112, "{c}");
    assert_eq!(c["receiver"], Value::Null, "{c}");
    assert_eq!(c["receiver_attached"], false, "{c}");
    assert_eq!(c["senders"], serde_json::json!([holder.pid]), "{c}");
    assert_eq!(c["senders_attached"], 1, "{c}");

    let table = store.cmd().arg("ls").assert().success();
    let text = stdout_of(&table);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("DEPTH  RECEIVER  SENDERS"),
        "{text}"
    );
    let line = text.lines().find(|l| l.starts_with(&name)).unwrap();
    for cell in ["channel", "0640", "112 B", &holder.pid.to_string()] {
        assert!(line.contains(cell), "{cell:?} not in {line:?}");
    }
    let info = store.cmd().args(["info", &name]).assert().success();
    let text = stdout_of(&info);
    for line in [
        "kind        channel".to_owned(),
        "capacity    4 KiB (4096 bytes)".to_owned(),
        "max message 100 B (100 bytes)".to_owned(),
        "producers   3".to_owned(),
        "depth       112 B (112 bytes) waiting".to_owned(),
        "receiver    -".to_owned(),
        format!("senders     {}", holder.pid),
    ] {
        assert!(text.contains(&line), "{line:?} not in:\n{text}");
    }

    // A receiver that waits for a fifth message shows in ls while it waits.
    let (mut rx, out, _err) = background(&store, &["recv", &name, "--count", "5"]);
    let rx_pid = rx.id();
    let c = wait_for_channel(&store, &name, |c| c["depth"] == 0);
    assert_eq!(c["receiver"], rx_pid, "{c}");
    assert_eq!(c["receiver_attached"], true, "{c}");
    store.cmd().args(["send", &name, "last"]).assert().success();
    assert!(common::wait_with_watchdog(&mut rx, common::WATCHDOG).success());
    out.wait_for("last");
    assert_eq!(out.all(), "hello\na\n\nccc\nlast\n");

    // The receiver came and went: sends fail until the next one attaches.
    store
        .cmd()
        .args(["send", &name, "late"])
        .assert()
        .code(3)
        .stderr(contains("the receiver is gone"));
    let (mut rx, out, _err) = background(&store, &["recv", &name, "--hex"]);
    wait_for_channel(&store, &name, |c| c["receiver_attached"] == true);
    let file = TempFile::new("chan-msg", b"\x00\xffA\n");
    store
        .cmd()
        .args(["send", &name, "--file"])
        .arg(file.path())
        .assert()
        .success();
    assert!(common::wait_with_watchdog(&mut rx, common::WATCHDOG).success());
    out.wait_for("00ff410a");
    assert!(holder.release().success());
    store.assert_clean();
}

#[test]
// Linux only: channels are (for now).
#[cfg(target_os = "linux")]
fn channel_errors_have_their_exit_statuses() {
    let store = Store::new();
    let name = unique("chan-errors");
    let missing = unique("chan-missing");
    // Usage errors: nothing is created.
    let usage: Vec<(Vec<&str>, &str)> = vec![
        (vec!["create", &name, "--kind", "channel"], "--hold"),
        (
            vec!["create", &name, "--kind", "channel", "--persistent"],
            "--persistent",
        ),
        (
            vec![
                "create", &name, "--kind", "channel", "--size", "4K", "--hold",
            ],
            "--capacity",
        ),
        (
            vec!["create", &name, "--capacity", "4K", "--persistent"],
            "for channels",
        ),
        (
            vec![
                "create",
                &name,
                "--kind",
                "channel",
                "--capacity",
                "4K",
                "--max-message",
                "8K",
                "--hold",
            ],
            "--max-message",
        ),
        (
            vec![
                "create",
                &name,
                "--kind",
                "channel",
                "--producers",
                "0",
                "--hold",
            ],
            "--producers",
        ),
        (
            vec!["send", &name, "--timeout", "1.5s", "x"],
            "unknown unit",
        ),
        (vec!["send", &name, "x", "--lines"], "--lines"),
        (vec!["recv", &name, "--count", "x"], "--count"),
    ];
    for (args, needle) in usage {
        let a = store.cmd().args(&args).write_stdin("").assert().code(2);
        assert!(
            stderr_of(&a).contains(needle),
            "{args:?}: {}",
            stderr_of(&a)
        );
    }
    store.assert_clean();
    // Missing channels.
    for args in [vec!["send", &missing, "x"], vec!["recv", &missing]] {
        store
            .cmd()
            .args(&args)
            .assert()
            .code(1)
            .stderr(contains("no object has that name"));
    }

    let holder = hold_channel(&store, &name, &["--capacity", "4K", "--max-message", "100"]);
    store
        .cmd()
        .args(["create", &name, "--kind", "channel", "--hold"])
        .assert()
        .code(1)
        .stderr(contains("already exists"));
    // A message over the maximum is refused before anything is sent (2).
    store
        .cmd()
        .args(["send", &name])
        .write_stdin(vec![b'x'; 101])
        .assert()
        .code(2)
        .stderr(contains("larger than its maximum of 100 bytes"));
    // Full: 100-byte messages take 128 ring bytes, so 32 fit in 4 KiB (4).
    let lines = format!("{}\n", "y".repeat(100)).repeat(40);
    store
        .cmd()
        .args(["send", &name, "--lines", "--timeout", "100ms"])
        .write_stdin(lines)
        .assert()
        .code(4)
        .stderr(contains("full"));
    assert_eq!(channel_json(&store, &name)["depth"], 32 * 128);
    // A sender waiting for room holds the one free place: another is Busy (1).
    let waiting = "w".repeat(100);
    let (mut tx, _out, _err) = background(&store, &["send", &name, &waiting]);
    wait_for_channel(&store, &name, |c| c["senders_attached"] == 2);
    store
        .cmd()
        .args(["send", &name, "x"])
        .assert()
        .code(1)
        .stderr(contains("sender places are taken"));
    // A receiver drains it; a second receiver is Busy (1).
    let (mut rx, out, _err) = background(&store, &["recv", &name, "--count", "33"]);
    assert!(common::wait_with_watchdog(&mut tx, common::WATCHDOG).success());
    assert!(common::wait_with_watchdog(&mut rx, common::WATCHDOG).success());
    out.wait_for(&waiting);
    assert_eq!(out.all().lines().count(), 33);
    // Empty again: a timed-out receive (4), or none at all with --count 0 (0).
    store
        .cmd()
        .args(["recv", &name, "--timeout", "100ms"])
        .assert()
        .code(4)
        .stderr(contains("no message within 100ms"));
    store
        .cmd()
        .args(["recv", &name, "--count", "0", "--timeout", "0"])
        .assert()
        .success()
        .stdout("");
    let (mut rx, _out, err) = background(&store, &["recv", &name]);
    wait_for_channel(&store, &name, |c| c["receiver_attached"] == true);
    store
        .cmd()
        .args(["recv", &name, "--timeout", "0"])
        .assert()
        .code(1)
        .stderr(contains("another receiver is attached"));
    // Every sender gone, nothing left: the waiting receiver is disconnected (3).
    assert!(holder.release().success());
    assert_eq!(
        common::wait_with_watchdog(&mut rx, common::WATCHDOG).code(),
        Some(3)
    );
    assert!(err.all().contains("every sender is gone"), "{}", err.all());
    store.assert_clean();
}

#[test]
// Every platform: a channel held by `create --hold` carries `send`'s messages to `recv`.
fn channel_send_then_recv_round_trip() {
    let store = Store::new();
    let name = unique("chan-trip");
    let holder = hold_channel(&store, &name, &["--capacity", "4KiB"]);
    for msg in ["one", "two"] {
        store.cmd().args(["send", &name, msg]).assert().success();
    }
    store
        .cmd()
        .args(["recv", &name, "--count", "2", "--timeout", "10s"])
        .assert()
        .success()
        .stdout("one\ntwo\n");
    store
        .cmd()
        .args(["send", &unique("chan-none"), "x"])
        .assert()
        .code(1);
    assert!(holder.release().success());
    store.assert_clean();
}

#[test]
fn bench_runs_the_bench_binary_or_says_how_to_build_it() {
    let sibling = std::path::Path::new(common::BIN)
        .with_file_name(format!("shmkit-bench{}", std::env::consts::EXE_SUFFIX));
    let store = Store::new();
    let mut cmd = store.cmd();
    cmd.env_remove("SHMKIT_BENCH").args(["bench", "--help"]);
    if sibling.is_file() {
        // Built by this test run (cargo test --workspace) or an earlier build.
        let out = cmd.assert().success();
        let text = stdout_of(&out);
        for option in ["--quick", "--json", "--runs", "--plots"] {
            assert!(text.contains(option), "{option} not in:\n{text}");
        }
    } else {
        cmd.assert()
            .code(1)
            .stderr(contains("cargo build --release -p shmkit-bench"));
    }
    store.assert_clean();
}

#[test]
fn bench_without_the_binary_says_how_to_build_it() {
    let store = Store::new();
    let missing = store.root.join("no-such-shmkit-bench");
    let out = store
        .cmd()
        .env("SHMKIT_BENCH", &missing)
        .args(["bench", "--quick"])
        .assert()
        .code(1)
        .stderr(contains("cargo build --release -p shmkit-bench"));
    assert!(
        stderr_of(&out).contains(&*missing.to_string_lossy()),
        "{}",
        stderr_of(&out)
    );
    store.assert_clean();
}

#[test]
// Unix only: /bin/echo stands in for the bench binary.
#[cfg(unix)]
fn bench_passes_every_argument_on() {
    let store = Store::new();
    let out = store
        .cmd()
        .env("SHMKIT_BENCH", "/bin/echo")
        .args([
            "bench", "--quick", "--runs", "2", "--json", "out.json", "--help",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout_of(&out).trim_end(),
        "--quick --runs 2 --json out.json --help"
    );
    store.assert_clean();
}
