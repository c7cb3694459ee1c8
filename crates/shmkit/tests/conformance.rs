//! Conformance tests: docs/SPEC.md sections 1-6 and 8, through the public API only, so that
//! every backend runs this same file. Each test names the rule it pins.

mod common;

use common::{unique, unique_base, unique_global};
use shmkit::{Access, ErrorKind, Mapping, Protection, GRANULARITY};
use std::io::{Read, Seek, SeekFrom, Write};

const K64: u64 = GRANULARITY;

fn err_of<T: std::fmt::Debug>(r: shmkit::Result<T>) -> shmkit::Error {
    r.expect_err("the call should have failed")
}

fn read_bytes(m: &Mapping, offset: usize, len: usize) -> Vec<u8> {
    let v = m.map(Access::Read).unwrap();
    let mut buf = vec![0; len];
    v.read(offset, &mut buf).unwrap();
    buf
}

/// The size that a handle opened by name reports for an object created with `size`
/// bytes. Linux keeps the exact size. Windows keeps a paging-file-backed section's size
/// in whole pages and tells an opener no other: the section, its views and what they
/// report are whole pages ("MEMORY_BASIC_INFORMATION", RegionSize, and "Creating a View
/// Within a File": views are made of whole pages, learn.microsoft.com/windows/win32/memory).
fn opened_size(size: u64) -> u64 {
    if cfg!(windows) {
        size.next_multiple_of(4096)
    } else {
        size
    }
}

fn temp_file(tag: &str, content: &[u8]) -> (std::path::PathBuf, std::fs::File) {
    let path = std::env::temp_dir().join(unique_base(tag));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    f.write_all(content).unwrap();
    (path, f)
}

// --- 1. Names and namespaces -------------------------------------------------------------

#[test]
fn rule_1_1_bare_names_are_local() {
    let base = unique_base("bare");
    let m = Mapping::create(&base, 4096).unwrap();
    assert!(!m.already_existed());
    m.map(Access::ReadWrite).unwrap().write(0, b"bare").unwrap();
    let local = Mapping::open(&format!("Local\\{base}"), Access::Read).unwrap();
    assert_eq!(read_bytes(&local, 0, 4), b"bare");
    // Global\ is another namespace.
    let e = err_of(Mapping::open(&format!("Global\\{base}"), Access::Read));
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[test]
fn rule_1_1_global_and_local_are_distinct() {
    let base = unique_base("ns");
    let g = Mapping::create(&format!("Global\\{base}"), 4096).unwrap();
    let l = Mapping::create(&format!("Local\\{base}"), 8192).unwrap();
    assert!(!g.already_existed() && !l.already_existed());
    assert_eq!(
        Mapping::open(&format!("Global\\{base}"), Access::Read)
            .unwrap()
            .size(),
        4096
    );
    assert_eq!(
        Mapping::open(&format!("Local\\{base}"), Access::Read)
            .unwrap()
            .size(),
        8192
    );
}

#[test]
fn rule_1_3_any_character_but_backslash_and_nul() {
    for odd in [
        "a/b",
        "c:d",
        "star*",
        "what?",
        "with space",
        "..",
        ".",
        "ünï",
        "/",
        "%2F",
        "tab\t",
    ] {
        let name = format!("{}{odd}", unique("chars"));
        let m = Mapping::create(&name, 100).unwrap();
        assert!(!m.already_existed(), "{name:?}");
        m.map(Access::ReadWrite)
            .unwrap()
            .write(0, odd.as_bytes())
            .unwrap();
        let o = Mapping::open(&name, Access::Read).unwrap();
        assert_eq!(read_bytes(&o, 0, odd.len()), odd.as_bytes(), "{name:?}");
    }
}

#[test]
fn rule_1_3_names_are_case_sensitive() {
    let name = unique("Case");
    let _m = Mapping::create(&name, 100).unwrap();
    let e = err_of(Mapping::open(&name.replace("Case", "case"), Access::Read));
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let lower_prefix = name.replacen("Local\\", "local\\", 1);
    let e = err_of(Mapping::open(&lower_prefix, Access::Read));
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::InvalidName, 3));
}

#[test]
fn rule_1_4_refused_names_have_their_codes_and_change_nothing() {
    let long = format!("Local\\{}", "x".repeat(255));
    let cases: &[(&str, u32)] = &[
        ("Bogus\\x", 3),
        ("Global\\a\\b", 3),
        ("\\x", 3),
        ("Local\\", 123),
        ("Global\\", 123),
        ("", 123),
        ("a\0b", 123),
        (&long, 206),
    ];
    for &(name, code) in cases {
        for e in [
            err_of(Mapping::create(name, 4096)),
            err_of(Mapping::create_new(name, 4096)),
            err_of(Mapping::open(name, Access::Read)),
            err_of(Mapping::remove(name)),
        ] {
            assert_eq!(e.kind(), ErrorKind::InvalidName, "{name:?}");
            assert_eq!(e.win32_code(), code, "{name:?}: {e}");
            let msg = e.to_string();
            assert!(
                msg.starts_with("invalid name"),
                "message gives the cause: {msg}"
            );
            if code != 206 {
                let shown = name.replace('\0', "\\0");
                assert!(
                    msg.contains(&format!("\"{shown}\"")),
                    "message names the object: {msg}"
                );
            }
        }
    }
    // 255 characters are fine (and so is MAX_PATH exactly).
    let ok = format!("{}{}", unique("len"), "y".repeat(200));
    assert!(ok.chars().count() > 220 && ok.chars().count() <= 260);
    let m = Mapping::create(&ok, 64).unwrap();
    assert_eq!(
        Mapping::open(&ok, Access::Read).unwrap().size(),
        opened_size(m.size())
    );
}

#[test]
fn rule_1_4_missing_name_is_invalid_parameter() {
    let e = err_of(Mapping::options().size(4096).create_new());
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::InvalidName, 87));
}

// --- 2. Mapping objects ------------------------------------------------------------------

#[test]
fn rule_2_1_create_or_open_returns_the_existing_object_with_its_size() {
    let name = unique("open-or-create");
    let a = Mapping::create(&name, 3 * K64).unwrap();
    assert!(!a.already_existed());
    a.map(Access::ReadWrite)
        .unwrap()
        .write(10, b"first")
        .unwrap();
    let b = Mapping::create(&name, 4096).unwrap();
    assert!(b.already_existed(), "ERROR_ALREADY_EXISTS");
    assert_eq!(
        b.size(),
        3 * K64,
        "the existing size, not the requested one"
    );
    assert_eq!(read_bytes(&b, 10, 5), b"first");
}

#[test]
fn rule_2_2_create_new_is_exclusive() {
    let name = unique("exclusive");
    let a = Mapping::create_new(&name, 4096).unwrap();
    assert!(!a.already_existed());
    let e = err_of(Mapping::create_new(&name, 4096));
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::AlreadyExists, 183));
    assert!(e.to_string().contains(&format!("\"{name}\"")), "{e}");
}

#[test]
fn rule_2_3_creation_is_atomic_under_races() {
    // Many threads race to create or open one name with different sizes: every one of
    // them gets a complete object of the winner's size, zero-filled except for what
    // the others wrote.
    for round in 0..20 {
        let name = unique("race");
        let threads: Vec<_> = (0..8u64)
            .map(|i| {
                let name = name.clone();
                std::thread::spawn(move || {
                    let m = Mapping::create(&name, (i + 1) * 4096).unwrap();
                    let size = m.size();
                    let v = m.map(Access::ReadWrite).unwrap();
                    v.atomic_u32(0)
                        .unwrap()
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    (m, size, v)
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let first = results[0].1;
        assert!(
            results.iter().all(|r| r.1 == first),
            "round {round}: one object, one size"
        );
        assert_eq!(results.iter().filter(|r| !r.0.already_existed()).count(), 1);
        assert_eq!(
            results[0]
                .2
                .atomic_u32(0)
                .unwrap()
                .load(std::sync::atomic::Ordering::SeqCst),
            8
        );
    }
}

#[test]
fn rule_2_3_no_open_sees_a_half_made_object() {
    // While a large object is being created (committed), openers either find nothing
    // or the whole object.
    let name = unique("half-made");
    let size = 256 << 20;
    let opener = {
        let name = name.clone();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                match Mapping::open(&name, Access::Read) {
                    Ok(m) => return m.size(),
                    Err(e) => assert_eq!(e.kind(), ErrorKind::NotFound, "{e}"),
                }
                assert!(std::time::Instant::now() < deadline, "watchdog");
            }
        })
    };
    let m = Mapping::create(&name, size).unwrap();
    assert_eq!(opener.join().unwrap(), size);
    drop(m);
}

#[test]
fn rule_2_4_new_objects_are_zero_filled() {
    let name = unique("zero");
    let m = Mapping::create(&name, 3 * K64 + 123).unwrap();
    let v = m.map(Access::Read).unwrap();
    let mut buf = vec![0xAA; v.len()];
    v.read(0, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    // And a re-created name is zeroed again.
    m.map(Access::ReadWrite)
        .unwrap()
        .write(0, &[7; 64])
        .unwrap();
    drop((m, v));
    let m = Mapping::create(&name, 4096).unwrap();
    assert!(!m.already_existed());
    assert_eq!(read_bytes(&m, 0, 64), vec![0; 64]);
}

#[test]
fn rule_2_4_size_zero_is_invalid_parameter() {
    let name = unique("size0");
    for e in [
        err_of(Mapping::create(&name, 0)),
        err_of(Mapping::create_new(&name, 0)),
        err_of(Mapping::anonymous(0)),
    ] {
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::InvalidSize, 87),
            "{e}"
        );
    }
    assert_eq!(
        err_of(Mapping::open(&name, Access::Read)).kind(),
        ErrorKind::NotFound,
        "nothing made"
    );
    let e = err_of(Mapping::create(&name, u64::MAX));
    assert_eq!(e.kind(), ErrorKind::InvalidSize, "{e}");
}

#[test]
fn rule_2_4_sizes_above_4_gib_work() {
    let name = unique("big");
    let size = (4u64 << 30) + K64 + 10;
    let m = Mapping::create(&name, size).unwrap();
    assert_eq!(m.size(), size);
    let tail = m.map_range(4 << 30, 0, Access::ReadWrite).unwrap();
    assert_eq!(tail.len() as u64, K64 + 10);
    tail.write(K64 as usize, b"high").unwrap();
    let o = Mapping::open(&name, Access::Read).unwrap();
    assert_eq!(o.size(), opened_size(size));
    let v = o.map_range((4 << 30) + K64, 0, Access::Read).unwrap();
    let mut buf = [0; 4];
    v.read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"high");
}

#[test]
fn rule_2_5_protections_bound_the_views() {
    let ro = Mapping::options()
        .name(&unique("ro"))
        .size(4096)
        .protection(Protection::ReadOnly)
        .create()
        .unwrap();
    assert_eq!(ro.protection(), Protection::ReadOnly);
    ro.map(Access::Read).unwrap();
    let e = err_of(ro.map(Access::ReadWrite));
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::PermissionDenied, 5));
    ro.map(Access::CopyOnWrite)
        .unwrap()
        .write(0, b"private")
        .unwrap();
    assert_eq!(read_bytes(&ro, 0, 7), vec![0; 7]);

    let wc = Mapping::options()
        .name(&unique("wc"))
        .size(4096)
        .protection(Protection::WriteCopy)
        .create()
        .unwrap();
    assert_eq!(
        err_of(wc.map(Access::ReadWrite)).kind(),
        ErrorKind::PermissionDenied
    );
    let cow = wc.map(Access::CopyOnWrite).unwrap();
    cow.write(0, b"mine").unwrap();
    assert_eq!(read_bytes(&wc, 0, 4), vec![0; 4]);

    let rw = Mapping::options()
        .name(&unique("rw"))
        .size(4096)
        .protection(Protection::ReadWrite)
        .create()
        .unwrap();
    rw.map(Access::ReadWrite)
        .unwrap()
        .write(0, b"shared")
        .unwrap();
    assert_eq!(read_bytes(&rw, 0, 6), b"shared");
}

#[test]
fn rule_2_6_open_of_a_missing_name_is_not_found() {
    let name = unique("missing");
    let e = err_of(Mapping::open(&name, Access::Read));
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::NotFound, 2));
    assert!(e.to_string().contains("missing"), "{e}");
    let e = err_of(Mapping::open(&unique_global("missing"), Access::ReadWrite));
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[test]
fn rule_2_7_unnamed_objects() {
    let m = Mapping::anonymous(10_000).unwrap();
    assert_eq!(m.name(), None);
    assert_eq!(m.size(), 10_000);
    let a = m.map(Access::ReadWrite).unwrap();
    let b = m.map(Access::Read).unwrap();
    a.write(9_999, &[42]).unwrap();
    let mut x = [0];
    b.read(9_999, &mut x).unwrap();
    assert_eq!(x, [42]);
    // A duplicated handle shares it.
    let d = m.try_clone().unwrap();
    drop(m);
    let mut y = [0];
    d.map(Access::Read).unwrap().read(9_999, &mut y).unwrap();
    assert_eq!(y, [42]);
}

// --- 3. File-backed mappings -------------------------------------------------------------

#[test]
fn rule_3_1_size_zero_is_the_file_length() {
    let (path, file) = temp_file("flen", b"0123456789");
    let m = Mapping::options().file(&file).create().unwrap();
    assert_eq!(m.size(), 10);
    assert_eq!(read_bytes(&m, 0, 10), b"0123456789");
    drop(m);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn rule_3_1_an_empty_file_with_size_zero_is_file_invalid() {
    let (path, file) = temp_file("fempty", b"");
    let e = err_of(
        Mapping::options()
            .name(&unique("fempty"))
            .file(&file)
            .create(),
    );
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::EmptyFile, 1006));
    assert_eq!(file.metadata().unwrap().len(), 0, "nothing changed");
    std::fs::remove_file(path).unwrap();
}

/// Both backends: a named file-backed create that finds the name taken returns the
/// existing object (ERROR_ALREADY_EXISTS, its own size and file), and leaves the caller's
/// file as it was: it is not grown first.
#[test]
fn rule_2_1_a_file_backed_create_of_a_taken_name_opens_it_and_leaves_the_file_alone() {
    let name = unique("ffirst");
    let (path_a, file_a) = temp_file("ffirst-a", &[7u8; 4096]);
    let first = Mapping::options()
        .name(&name)
        .file(&file_a)
        .create()
        .unwrap();
    assert!(!first.already_existed());
    let (path_b, file_b) = temp_file("ffirst-b", b"short");
    let second = Mapping::options()
        .name(&name)
        .file(&file_b)
        .size(2 * K64)
        .create()
        .unwrap();
    assert!(second.already_existed());
    assert!(
        second.size() >= 4096 && second.size() < 2 * K64,
        "{}",
        second.size()
    );
    assert_eq!(
        read_bytes(&second, 0, 2),
        [7, 7],
        "the first object's bytes"
    );
    assert_eq!(
        file_b.metadata().unwrap().len(),
        5,
        "the caller's file did not grow"
    );
    drop((first, second));
    std::fs::remove_file(path_a).unwrap();
    std::fs::remove_file(path_b).unwrap();
}

#[test]
fn rule_3_2_a_larger_size_grows_a_writable_file() {
    let (path, file) = temp_file("fgrow", b"abc");
    let m = Mapping::options()
        .file(&file)
        .size(3 * K64)
        .create()
        .unwrap();
    assert_eq!(file.metadata().unwrap().len(), 3 * K64);
    assert_eq!(read_bytes(&m, 0, 4), b"abc\0");
    drop(m);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn rule_3_2_a_read_only_file_cannot_grow() {
    let (path, _) = temp_file("frogrow", b"abc");
    let ro = std::fs::File::open(&path).unwrap();
    let e = err_of(
        Mapping::options()
            .file(&ro)
            .size(4096)
            .protection(Protection::ReadOnly)
            .create(),
    );
    assert_eq!(e.win32_code(), 8, "ERROR_NOT_ENOUGH_MEMORY: {e}");
    assert_eq!(ro.metadata().unwrap().len(), 3, "nothing changed");
    // Within its length it maps fine.
    let m = Mapping::options()
        .file(&ro)
        .protection(Protection::ReadOnly)
        .create()
        .unwrap();
    assert_eq!(read_bytes(&m, 0, 3), b"abc");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn rule_3_3_read_write_over_a_read_only_file_is_denied() {
    let (path, _) = temp_file("frw", b"abc");
    let ro = std::fs::File::open(&path).unwrap();
    let e = err_of(Mapping::options().file(&ro).create());
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::PermissionDenied, 5));
    let e = err_of(Mapping::options().name(&unique("frw")).file(&ro).create());
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn rule_3_4_flush_writes_to_the_file() {
    let (path, mut file) = temp_file("fflush", &[0u8; 8192]);
    let name = unique("fflush");
    let m = Mapping::options().name(&name).file(&file).create().unwrap();
    let v = m.map(Access::ReadWrite).unwrap();
    v.write(4000, b"persisted").unwrap();
    v.flush().unwrap();
    let mut buf = [0u8; 9];
    file.seek(SeekFrom::Start(4000)).unwrap();
    file.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"persisted");
    // Other handles open the same file by name.
    let o = Mapping::open(&name, Access::Read).unwrap();
    assert_eq!(o.size(), 8192);
    assert_eq!(read_bytes(&o, 4000, 9), b"persisted");
    drop((v, m, o));
    assert_eq!(std::fs::read(&path).unwrap()[4000..4009], *b"persisted");
    std::fs::remove_file(path).unwrap();
}

// --- 4. Views ----------------------------------------------------------------------------

#[test]
fn rule_4_1_copy_on_write_stays_private() {
    let name = unique("cow");
    let m = Mapping::create(&name, 4096).unwrap();
    let shared = m.map(Access::ReadWrite).unwrap();
    shared.write(0, b"base").unwrap();
    let cow = m.map(Access::CopyOnWrite).unwrap();
    cow.write(0, b"mine").unwrap();
    let mut a = [0; 4];
    shared.read(0, &mut a).unwrap();
    assert_eq!(&a, b"base");
    cow.read(0, &mut a).unwrap();
    assert_eq!(&a, b"mine");
    let other = Mapping::open(&name, Access::Read).unwrap();
    assert_eq!(read_bytes(&other, 0, 4), b"base");
    // A read handle may still map copy-on-write views.
    other
        .map(Access::CopyOnWrite)
        .unwrap()
        .write(0, b"also")
        .unwrap();
    assert_eq!(read_bytes(&other, 0, 4), b"base");
}

#[test]
fn rule_4_2_offsets_are_on_the_64k_grid() {
    let m = Mapping::create(&unique("grid"), 3 * K64 + 5).unwrap();
    for off in [1, 4096, K64 - 1, K64 + 4096] {
        let e = err_of(m.map_range(off, 16, Access::Read));
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::Misaligned, 1132),
            "{off}"
        );
        assert!(e.to_string().contains(&off.to_string()));
    }
    let v = m.map_range(K64, 0, Access::Read).unwrap();
    assert_eq!(v.len() as u64, 2 * K64 + 5, "length 0 = to the end");
    assert_eq!(v.offset(), K64);
    let v = m.map_range(2 * K64, 10, Access::Read).unwrap();
    assert_eq!(v.len(), 10);
}

#[test]
fn rule_4_2_views_at_offsets_see_the_right_bytes() {
    let m = Mapping::create(&unique("offsets"), 4 * K64).unwrap();
    let whole = m.map(Access::ReadWrite).unwrap();
    whole.write(2 * K64 as usize + 7, b"here").unwrap();
    let part = m.map_range(2 * K64, 100, Access::Read).unwrap();
    let mut buf = [0; 4];
    part.read(7, &mut buf).unwrap();
    assert_eq!(&buf, b"here");
}

#[test]
fn rule_4_3_views_past_the_end_are_refused() {
    let m = Mapping::create(&unique("past"), K64 + 100).unwrap();
    for (off, len) in [
        (0, (K64 + 101) as usize),
        (K64, 101),
        (2 * K64, 0),
        (2 * K64, 1),
        (K64, usize::MAX),
    ] {
        let e = err_of(m.map_range(off, len, Access::Read));
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::OutOfRange, 5),
            "{off}+{len}"
        );
    }
    m.map_range(K64, 100, Access::Read).unwrap();
    // Copies past the end of a view are refused too, and change nothing.
    let v = m.map(Access::ReadWrite).unwrap();
    let end = v.len();
    assert_eq!(
        err_of(v.write(end - 2, b"abc")).kind(),
        ErrorKind::OutOfRange
    );
    assert_eq!(
        err_of(v.write(usize::MAX, b"a")).kind(),
        ErrorKind::OutOfRange
    );
    let mut buf = [0; 3];
    assert_eq!(
        err_of(v.read(end - 2, &mut buf)).kind(),
        ErrorKind::OutOfRange
    );
    let mut tail = [1u8; 2];
    v.read(end - 2, &mut tail).unwrap();
    assert_eq!(tail, [0, 0], "the refused write changed nothing");
    assert_eq!(err_of(v.atomic_u32(end - 2)).kind(), ErrorKind::OutOfRange);
    assert_eq!(err_of(v.atomic_u64(4)).kind(), ErrorKind::Misaligned);
}

#[test]
fn rule_4_4_write_views_need_write_access() {
    let name = unique("rhandle");
    let m = Mapping::create(&name, 4096).unwrap();
    let r = Mapping::open(&name, Access::Read).unwrap();
    let e = err_of(r.map(Access::ReadWrite));
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::PermissionDenied, 5));
    // Writes through a read view are refused, not a crash.
    let rv = m.map(Access::Read).unwrap();
    let e = err_of(rv.write(0, b"x"));
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(err_of(rv.atomic_u32(0)).kind(), ErrorKind::PermissionDenied);
    // An object made read-only refuses read-write opens and views.
    let ro_name = unique("robj");
    let _ro = Mapping::options()
        .name(&ro_name)
        .size(4096)
        .protection(Protection::ReadOnly)
        .create()
        .unwrap();
    let e = err_of(Mapping::open(&ro_name, Access::ReadWrite));
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    let ro = Mapping::open(&ro_name, Access::Read).unwrap();
    assert_eq!(
        err_of(ro.map(Access::ReadWrite)).kind(),
        ErrorKind::PermissionDenied
    );
}

#[test]
fn rule_4_5_views_are_coherent() {
    let name = unique("coherent");
    let a = Mapping::create(&name, 2 * K64).unwrap();
    let b = Mapping::open(&name, Access::ReadWrite).unwrap();
    let va = a.map(Access::ReadWrite).unwrap();
    let vb = b.map_range(K64, 0, Access::ReadWrite).unwrap();
    let word_a = va.atomic_u64(K64 as usize).unwrap();
    let word_b = vb.atomic_u64(0).unwrap();
    for i in 0..1000u64 {
        word_a.store(i, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(word_b.load(std::sync::atomic::Ordering::SeqCst), i);
    }
    vb.write(8, b"back").unwrap();
    let mut buf = [0; 4];
    va.read(K64 as usize + 8, &mut buf).unwrap();
    assert_eq!(&buf, b"back");
}

// --- 5. Lifetime -------------------------------------------------------------------------

#[test]
fn rule_5_1_the_name_lives_with_the_handles() {
    let name = unique("lifetime");
    let a = Mapping::create(&name, 4096).unwrap();
    a.map(Access::ReadWrite).unwrap().write(0, b"old").unwrap();
    let b = Mapping::open(&name, Access::Read).unwrap();
    drop(a);
    assert_eq!(
        Mapping::open(&name, Access::Read).unwrap().size(),
        4096,
        "b keeps it"
    );
    drop(b);
    let e = err_of(Mapping::open(&name, Access::Read));
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let c = Mapping::create(&name, 8192).unwrap();
    assert!(!c.already_existed());
    assert_eq!(c.size(), 8192);
    assert_eq!(read_bytes(&c, 0, 3), vec![0; 3], "a new, zeroed object");
}

/// A view made through a second handle does not keep the name either, once both
/// handles are closed (its handle's lock must go with the handle, though the view still
/// maps the file).
#[test]
fn rule_5_2_a_view_of_a_closed_second_handle_keeps_no_name() {
    let name = unique("view-second");
    let first = Mapping::create(&name, 4096).unwrap();
    let second = Mapping::open(&name, Access::ReadWrite).unwrap();
    let v = second.map(Access::ReadWrite).unwrap();
    v.write(0, b"kept").unwrap();
    drop(second);
    drop(first);
    let e = err_of(Mapping::open(&name, Access::Read));
    assert_eq!(e.kind(), ErrorKind::NotFound, "the view kept the name: {e}");
    let mut buf = [0; 4];
    v.read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"kept");
}

#[test]
fn rule_5_2_a_view_keeps_the_memory_not_the_name() {
    let name = unique("view-life");
    let m = Mapping::create(&name, 4096).unwrap();
    let v = m.map(Access::ReadWrite).unwrap();
    v.write(0, b"still here").unwrap();
    m.close();
    let e = err_of(Mapping::open(&name, Access::Read));
    assert_eq!(
        e.kind(),
        ErrorKind::NotFound,
        "the view does not keep the name"
    );
    let mut buf = [0; 10];
    v.read(0, &mut buf).unwrap();
    assert_eq!(&buf, b"still here");
    v.write(0, b"and usable").unwrap();
    let fresh = Mapping::create(&name, 4096).unwrap();
    assert!(!fresh.already_existed());
    assert_eq!(
        read_bytes(&fresh, 0, 10),
        vec![0; 10],
        "the old memory is not the new object"
    );
}

#[test]
fn rule_5_4_persistent_objects_outlive_their_handles_until_removed() {
    let name = unique("persistent");
    let m = Mapping::options()
        .name(&name)
        .size(4096)
        .persistent(true)
        .create()
        .unwrap();
    assert!(m.is_persistent());
    m.map(Access::ReadWrite).unwrap().write(0, b"kept").unwrap();
    drop(m);
    let o = Mapping::open(&name, Access::Read).unwrap();
    assert_eq!(read_bytes(&o, 0, 4), b"kept");
    drop(o);
    Mapping::remove(&name).unwrap();
    assert_eq!(
        err_of(Mapping::open(&name, Access::Read)).kind(),
        ErrorKind::NotFound
    );
    assert_eq!(err_of(Mapping::remove(&name)).kind(), ErrorKind::NotFound);
}

#[test]
fn rule_5_4_remove_keeps_open_handles_working() {
    let name = unique("persistent-open");
    let m = Mapping::options()
        .name(&name)
        .size(4096)
        .persistent(true)
        .create()
        .unwrap();
    let v = m.map(Access::ReadWrite).unwrap();
    Mapping::remove(&name).unwrap();
    v.write(0, b"ok").unwrap();
    assert_eq!(
        err_of(Mapping::open(&name, Access::Read)).kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn rule_5_4_non_persistent_objects_cannot_be_removed() {
    let name = unique("not-persistent");
    let _m = Mapping::create(&name, 4096).unwrap();
    let e = err_of(Mapping::remove(&name));
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("last handle"), "{e}");
    assert!(
        Mapping::open(&name, Access::Read).is_ok(),
        "nothing changed"
    );
}

// --- 8. Handles --------------------------------------------------------------------------

/// The child side of the tests that start a process.
#[test]
#[ignore = "run as a child process by the tests"]
fn child_entry() {
    let Some((role, args)) = common::child_role() else {
        return;
    };
    match role.as_str() {
        // Rebuilds an inherited mapping and reports the name it keeps.
        "inherited-name" => {
            let m = Mapping::from_inherited(&args[0]).unwrap();
            common::report(format!("name={:?}", m.name()));
        }
        other => panic!("unknown role {other}"),
    }
}

/// Both backends: a handle inherited by a child keeps its object's name, as an
/// inherited sync object's does.
#[test]
fn rule_8_1_an_inherited_mapping_keeps_its_name() {
    let name = unique("inherit-name");
    let m = Mapping::create(&name, 4096).unwrap();
    let mut cmd = common::child("inherited-name", &[]);
    let token = m.share_with(&mut cmd).unwrap();
    cmd.env("SHMKIT_TEST_ARGS", &token);
    let out = common::wait_output(cmd.spawn().unwrap());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        common::reported(&out),
        [format!("name={:?}", Some(name.as_str()))]
    );
}

#[test]
fn rule_8_2_bogus_inherited_handles_are_clean_errors() {
    for token in [
        "",
        "garbage",
        "shmkit-handle:",
        "shmkit-handle:999999:named:rw:1:4096",
        "shmkit:1:mapping:named:999999:rw:1:4096",
        "shmkit:1:mapping:unnamed:-1:r:1:1",
        "shmkit:1:mapping:unnamed:x:r:1:4096",
        "shmkit:1:mapping:bogus:1:r:1:1",
        "shmkit:1:mapping:named:1:r:1:0",
    ] {
        let e = err_of(Mapping::from_inherited(token));
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::InvalidHandle, 6),
            "{token:?}: {e}"
        );
    }
}

#[test]
fn rule_8_2_a_closed_handle_token_is_invalid() {
    let m = Mapping::options()
        .size(4096)
        .inheritable(true)
        .create()
        .unwrap();
    let token = m.inherit_token().unwrap();
    drop(m);
    let e = err_of(Mapping::from_inherited(&token));
    assert_eq!(e.kind(), ErrorKind::InvalidHandle, "{e}");
}

#[test]
fn error_converts_to_io_error() {
    let e = err_of(Mapping::open(&unique("io"), Access::Read));
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
}
