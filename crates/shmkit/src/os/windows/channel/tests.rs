//! Unit tests of the Windows channel backend (run under Wine by the Windows lane).

use super::parts::{create_timer, part_name, SECTION_OPEN};
use super::*;
use crate::channel::control::{HEAD_AT, MAGIC, MAGIC_AT, PRODUCERS_AT, SIZE_AT, TAIL_AT};
use crate::channel::{Receiver, Sender};
use crate::name::MAX_NAME_LEN;
use crate::os::imp::security::Descriptor;
use crate::os::imp::{section, sys};
use std::os::windows::io::RawHandle;
use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
use windows_sys::Win32::System::Memory::{OpenFileMappingW, PAGE_READWRITE, SEC_COMMIT};

fn unique(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "Local\\shmkit-test-winchan-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, SeqCst)
    )
}

/// The ring section of channel `name`, mapped through its part name (which no public
/// call reaches): the control page and the first page of the ring.
fn ring_view(name: &str) -> (OwnedHandle, RawView) {
    let w = part_name(&Name::parse(name).unwrap(), "ring");
    // SAFETY: the NUL-terminated `w` outlives the call; the handle is owned here.
    let section = sys::owned(unsafe { OpenFileMappingW(SECTION_OPEN, 0, w.as_ptr()) })
        .expect("the ring section");
    let view = RawView::map(&section, 0, (RING_AT + PAGE) as usize, Access::ReadWrite)
        .expect("a view of the ring");
    (section, view)
}

fn word(view: &RawView, at: u64) -> &AtomicU64 {
    // SAFETY: `at` is 8-aligned and inside the view, which outlives the borrow.
    unsafe { &*view.as_ptr().add(at as usize).cast::<AtomicU64>() }
}

#[test]
fn part_names_are_longer_than_any_name_and_distinct() {
    let longest = "x".repeat(MAX_NAME_LEN);
    for name in ["a", "Global\\a", longest.as_str(), "a#ring"] {
        let n = Name::parse(name).unwrap();
        let parts: Vec<_> = ["ring", "rx", "tx", "claim"]
            .iter()
            .map(|p| part_name(&n, p))
            .collect();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.len() - 1 > MAX_NAME_LEN + "Local\\".len(), "{name}");
            assert!(parts[..i].iter().all(|q| q != p), "{name}");
        }
    }
    assert_ne!(
        part_name(&Name::parse("a#ring").unwrap(), "rx"),
        part_name(&Name::parse("a").unwrap(), "ring")
    );
}

#[test]
fn rule_9_8_a_corrupted_index_or_header_is_an_error_never_a_crash() {
    // (offset in the section, value, which end reads it): a record's tag and length
    // word with a length past the ring (the receiver's), the committed position past
    // one ring and the consumed position past the committed one (the senders').
    let cases = [
        (RING_AT + 8, 0x4d53_4731u64 << 32 | 0xffff_fff0, false),
        (HEAD_AT, u64::MAX, true),
        (TAIL_AT, 1u64 << 50, true),
    ];
    for (at, value, sender_reads) in cases {
        let name = unique("corrupt");
        let mut rx = Receiver::create(&name, 4096).unwrap();
        let mut tx = Sender::open(&name).unwrap();
        tx.send(b"one").unwrap();
        if sender_reads {
            assert_eq!(&*rx.recv().unwrap(), b"one");
        }
        let (_section, view) = ring_view(&name);
        word(&view, at).store(value, SeqCst);
        let e = if sender_reads {
            // The sender reads the consumed position when the ring looks full to it.
            (0..1000)
                .find_map(|_| tx.try_send(&[2; 100]).err())
                .expect("the corrupt position was never read")
        } else {
            let r = rx.recv_timeout(Duration::from_millis(100));
            r.map(|m| m.map(|m| m.len())).unwrap_err()
        };
        assert_eq!(e.win32_code(), code::FILE_CORRUPT, "at {at}: {e}");
        assert!(e.to_string().contains(&name), "{e}");
    }
}

#[test]
fn rule_9_8_a_hostile_control_page_is_refused_at_attach() {
    for (at, value) in [
        (SIZE_AT, 12_345),
        (PRODUCERS_AT, 65),
        (PERMISSIONS_AT, 0o1777),
    ] {
        let name = unique("hostile");
        let _rx = Receiver::create(&name, 4096).unwrap();
        let (_section, view) = ring_view(&name);
        word(&view, at).store(value, SeqCst);
        let e = Sender::open(&name).unwrap_err();
        assert_eq!(e.win32_code(), code::FILE_CORRUPT, "at {at}: {e}");
    }
}

#[test]
fn a_ring_left_by_an_earlier_channel_is_waited_for_never_reused() {
    let name = unique("stale");
    let n = Name::parse(&name).unwrap();
    // An earlier channel's ring, held for a moment by a holder being torn down.
    let sd = Descriptor::new(0o600, section::RIGHTS, true).unwrap();
    let (stale, _) = section::create(
        INVALID_HANDLE_VALUE as RawHandle,
        Some(&sd.attributes(false)),
        PAGE_READWRITE | SEC_COMMIT,
        RING_AT + PAGE,
        Some(&part_name(&n, "ring")),
    )
    .unwrap();
    let view = RawView::map(&stale, 0, (RING_AT + PAGE) as usize, Access::ReadWrite).unwrap();
    word(&view, MAGIC_AT).store(MAGIC, SeqCst);
    word(&view, HEAD_AT).store(64, SeqCst);
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop((view, stale));
    });
    let mut rx = Receiver::create(&name, 4096).unwrap();
    holder.join().unwrap();
    assert!(!rx.already_existed());
    assert!(
        rx.try_recv().unwrap().is_none(),
        "the earlier ring was reused"
    );
}

#[test]
fn a_name_whose_maker_died_half_way_is_made_again() {
    let name = unique("half-made");
    let n = Name::parse(&name).unwrap();
    // A timer without a ring: its maker died before making the section; the timer
    // goes with the last holder.
    let (timer, existed) = create_timer(&n, 0o600, "test").unwrap();
    assert!(!existed);
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(timer);
    });
    let mut rx = Receiver::create(&name, 4096).unwrap();
    holder.join().unwrap();
    let mut tx = Sender::open(&name).unwrap();
    tx.send(b"made").unwrap();
    assert_eq!(&*rx.recv().unwrap(), b"made");
}

#[test]
fn rule_9_3_the_place_of_a_dead_process_is_free() {
    let name = unique("dead-place");
    let _tx = Sender::create(&name, 4096).unwrap();
    let (_section, view) = ring_view(&name);
    // No process has this id (ids are multiples of 4): the place's holder is dead.
    word(&view, PLACES_AT).store(0xffff_fffd << 32 | 1, SeqCst);
    let rx = Receiver::open(&name).unwrap();
    assert_eq!(word(&view, PLACES_AT).load(SeqCst), me());
    drop(rx);
    assert_eq!(word(&view, PLACES_AT).load(SeqCst), 0);
    // A live holder's place is taken.
    word(&view, PLACES_AT).store(me(), SeqCst);
    let e = Receiver::open(&name).unwrap_err();
    assert_eq!(e.win32_code(), code::BUSY, "{e}");
}
