//! SPEC section 9: channels, through the public API, within a process and between
//! processes. Children are this test binary re-run in a role (`child_entry`); every wait
//! is bounded (a watchdog or a timeout). The same tests run on both backends; only the
//! corruption test, which writes the Linux object file, is Linux's (the Windows backend
//! has its own, beside its code).

mod common;

use common::{child, child_role, report, unique, wait_output, Talker};
use shmkit::channel::{Receiver, Sender, Wait};
use shmkit::{ErrorKind, Mapping};
use std::time::{Duration, Instant};

/// How long a test waits for something that must happen.
const PATIENCE: Duration = Duration::from_secs(30);

/// The bytes of message `i` of sender `tag`: a length from 5 to 600 and a pattern that
/// names both (byte 0 the sender, bytes 1..5 the index), so a lost, doubled, reordered or
/// torn message shows.
fn message(tag: u8, i: u32) -> Vec<u8> {
    let len = 5 + (i.wrapping_mul(2_654_435_761) % 596) as usize;
    let mut m = Vec::with_capacity(len);
    for k in 0..len {
        m.push(tag ^ (i as u8).wrapping_add(k as u8));
    }
    m[0] = tag;
    m[1..5].copy_from_slice(&i.to_le_bytes());
    m
}

fn wait_mode(s: &str) -> Wait {
    match s {
        "busy" => Wait::Busy,
        "block" => Wait::Block,
        _ => Wait::Adaptive,
    }
}

#[test]
#[ignore = "entry point of the child processes of these tests"]
fn child_entry() {
    let Some((role, args)) = child_role() else {
        return;
    };
    let arg = |i: usize| args[i].as_str();
    match role.as_str() {
        // Attaches a sender to channel arg 0 (wait mode arg 2) and sends arg 1 messages
        // as sender arg 3; reports "sent N" (or the error), then, with arg 4 "hang",
        // waits for stdin to close.
        "send" => {
            let mut tx = Sender::options()
                .name(arg(0))
                .wait(wait_mode(arg(2)))
                .sender()
                .unwrap();
            let n: u32 = arg(1).parse().unwrap();
            let tag: u8 = arg(3).parse().unwrap();
            let mut sent = 0;
            for i in 0..n {
                match tx.send_timeout(&message(tag, i), PATIENCE) {
                    Ok(()) => sent += 1,
                    Err(e) => {
                        report(format!("err {:?} {}", e.kind(), e));
                        break;
                    }
                }
            }
            report(format!("sent {sent}"));
            if args.get(4).is_some_and(|a| a == "hang") {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            }
        }
        // Attaches a sender, lends itself arg 1 bytes, fills them, says "loaned" and
        // waits (to be killed holding the loan).
        "loan-and-hang" => {
            let mut tx = Sender::open(arg(0)).unwrap();
            let n: usize = arg(1).parse().unwrap();
            let mut loan = tx.loan(n).unwrap();
            loan.fill(0xee);
            report("loaned");
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            drop(loan);
        }
        // Attaches the receiver, says "attached" and waits (to be killed).
        "receive-and-hang" => {
            let rx = Receiver::open(arg(0)).unwrap();
            report("attached");
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            drop(rx);
        }
        other => panic!("unknown role {other}"),
    }
}

/// Receives `n` messages from each of `senders` (tags 1..), checking that every sender's
/// messages arrive whole, once and in its order.
fn receive_all(rx: &mut Receiver, senders: u8, n: u32) {
    let mut next = vec![0u32; usize::from(senders) + 1];
    let deadline = Instant::now() + PATIENCE;
    let mut got = 0;
    while got < u32::from(senders) * n {
        assert!(Instant::now() < deadline, "watchdog: {got} received");
        let Some(m) = rx.recv_timeout(Duration::from_millis(100)).unwrap() else {
            continue;
        };
        // Which sender: the tag is in byte 0 of messages of 5 bytes or more; shorter
        // ones are matched against every sender's next message.
        let tag = (1..=senders)
            .find(|&t| *m == *message(t, next[usize::from(t)]))
            .unwrap_or_else(|| {
                panic!(
                    "message {} bytes matches no sender's next: {next:?}",
                    m.len()
                )
            });
        next[usize::from(tag)] += 1;
        got += 1;
    }
    assert!(next[1..].iter().all(|&k| k == n), "{next:?}");
}

#[test]
fn rule_9_2_messages_arrive_whole_once_and_in_order_between_processes() {
    for mode in ["busy", "block", "adaptive"] {
        let name = unique(&format!("chan-order-{mode}"));
        let mut rx = Receiver::options()
            .name(&name)
            .capacity(16 * 1024)
            .max_message(1024)
            .wait(wait_mode(mode))
            .receiver()
            .unwrap();
        let n = 5000;
        let sender = child("send", &[&name, &n.to_string(), mode, "1"])
            .spawn()
            .unwrap();
        receive_all(&mut rx, 1, n);
        let out = wait_output(sender);
        assert_eq!(common::reported(&out), [format!("sent {n}")], "{mode}");
        assert!(rx
            .try_recv()
            .is_err_and(|e| e.kind() == ErrorKind::Disconnected));
    }
}

#[test]
fn rule_9_3_several_producers_in_several_processes_each_arrive_in_order() {
    let name = unique("chan-mpsc");
    let mut rx = Receiver::options()
        .name(&name)
        .capacity(8 * 1024)
        .max_message(1024)
        .producers(4)
        .receiver()
        .unwrap();
    let n = 3000;
    let senders: Vec<_> = (1..=3)
        .map(|tag| {
            child(
                "send",
                &[&name, &n.to_string(), "adaptive", &tag.to_string()],
            )
            .spawn()
            .unwrap()
        })
        .collect();
    receive_all(&mut rx, 3, n);
    for s in senders {
        assert_eq!(common::reported(&wait_output(s)), [format!("sent {n}")]);
    }
}

#[test]
fn rule_9_2_an_abandoned_loan_never_appears_and_empty_messages_are_messages() {
    let name = unique("chan-loan");
    let mut rx = Receiver::create(&name, 4096).unwrap();
    let mut tx = Sender::open(&name).unwrap();
    let mut loan = tx.loan(100).unwrap();
    loan.fill(7);
    drop(loan);
    assert!(
        rx.try_recv().unwrap().is_none(),
        "an abandoned loan appeared"
    );
    tx.send(b"").unwrap();
    let mut loan = tx.loan(100).unwrap();
    loan[..3].copy_from_slice(b"abc");
    loan.truncate(3);
    loan.truncate(50); // past the length: nothing
    loan.commit();
    assert_eq!(&*rx.recv().unwrap(), b"");
    assert_eq!(&*rx.recv().unwrap(), b"abc");
    assert!(rx.try_recv().unwrap().is_none());
}

#[test]
fn rule_9_3_a_second_end_is_busy_and_a_closed_end_frees_its_place() {
    let name = unique("chan-busy");
    let rx = Receiver::create(&name, 4096).unwrap();
    let e = Receiver::open(&name).unwrap_err();
    assert_eq!((e.kind(), e.win32_code()), (ErrorKind::Busy, 170), "{e}");
    let tx = Sender::open(&name).unwrap();
    let e = Sender::open(&name).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy, "{e}");
    assert_eq!(tx.try_clone().unwrap_err().kind(), ErrorKind::Busy);
    drop(rx);
    drop(tx);
    // The channel is gone with its last handle; a new one takes both places.
    assert_eq!(
        Receiver::open(&name).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let rx = Receiver::create(&name, 4096).unwrap();
    let tx = Sender::open(&name).unwrap();
    drop(tx);
    let _tx = Sender::open(&name).unwrap();
    drop(rx);
    let _rx = Receiver::open(&name).unwrap();
}

/// A channel `name` of one page with messages of up to 1000 bytes, and both its ends.
fn small_channel(name: &str) -> (Receiver, Sender) {
    let rx = Receiver::options()
        .name(name)
        .capacity(4096)
        .max_message(1000)
        .receiver()
        .unwrap();
    (rx, Sender::open(name).unwrap())
}

#[test]
fn rule_9_4_a_full_channel_refuses_try_send_and_never_overwrites() {
    let name = unique("chan-full");
    let (mut rx, mut tx) = small_channel(&name);
    assert_eq!((rx.capacity(), rx.max_message()), (4096, 1000));
    let mut sent = 0u32;
    loop {
        match tx.try_send(&message(1, sent)) {
            Ok(()) => sent += 1,
            Err(e) => {
                assert_eq!((e.kind(), e.win32_code()), (ErrorKind::Full, 1816), "{e}");
                break;
            }
        }
    }
    assert!(sent > 5, "{sent}");
    let e = tx
        .send_timeout(&message(1, sent), Duration::from_millis(20))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Full);
    let e = tx.try_send(&[0; 1001]).unwrap_err();
    assert_eq!(
        (e.kind(), e.win32_code()),
        (ErrorKind::TooLarge, 223),
        "{e}"
    );
    for i in 0..sent {
        assert_eq!(*rx.recv().unwrap(), *message(1, i));
    }
    assert!(rx.try_recv().unwrap().is_none());
    // Any message up to the maximum fits the empty ring, wherever it now is.
    for _ in 0..10 {
        tx.try_send(&[9; 1000]).unwrap();
        assert_eq!(rx.recv().unwrap().len(), 1000);
    }
}

#[test]
fn rule_9_7_capacity_is_rounded_up_and_the_maximum_is_exact() {
    let name = unique("chan-shape");
    let rx = Receiver::options()
        .name(&name)
        .capacity(5000)
        .max_message(5000)
        .receiver()
        .unwrap();
    assert!(rx.capacity() >= 5000 && rx.capacity().is_power_of_two());
    assert_eq!(rx.max_message(), 5000);
    let tx = Sender::options().name(&name).capacity(1).sender().unwrap();
    assert!(tx.already_existed());
    assert_eq!((tx.capacity(), tx.max_message()), (rx.capacity(), 5000));
    let e = Receiver::options()
        .name(&unique("chan-shape-bad"))
        .capacity(100)
        .max_message(101)
        .receiver()
        .unwrap_err();
    assert_eq!(e.win32_code(), 87, "{e}");
    let e = Sender::options()
        .name(&unique("chan-shape-bad"))
        .producers(65)
        .sender()
        .unwrap_err();
    assert_eq!(e.win32_code(), 87, "{e}");
}

#[test]
fn rule_9_5_waits_wait_before_the_other_end_first_attaches() {
    let name = unique("chan-first");
    let mut rx = Receiver::create(&name, 4096).unwrap();
    assert!(rx
        .recv_timeout(Duration::from_millis(50))
        .unwrap()
        .is_none());
    assert!(rx.try_recv().unwrap().is_none());
    drop(rx);
    let name = unique("chan-first-tx");
    let mut tx = Sender::create(&name, 4096).unwrap();
    tx.send(b"early").unwrap();
    let mut rx = Receiver::open(&name).unwrap();
    assert_eq!(&*rx.recv().unwrap(), b"early");
}

#[test]
fn rule_9_5_a_receiver_is_disconnected_when_every_sender_is_gone_after_the_last_message() {
    // A clean close, and a sender killed after its last commit.
    for kill in [false, true] {
        let name = unique("chan-disc-rx");
        let mut rx = Receiver::options()
            .name(&name)
            .capacity(64 * 1024)
            .wait(Wait::Block)
            .receiver()
            .unwrap();
        let mut sender = Talker::start(child("send", &[&name, "100", "block", "1", "hang"]));
        assert_eq!(sender.wait_for("sent"), "sent 100");
        if kill {
            sender.kill();
        } else {
            sender.finish();
        }
        for i in 0..100 {
            assert_eq!(*rx.recv().unwrap(), *message(1, i), "kill={kill}");
        }
        let started = Instant::now();
        let e = rx.recv().unwrap_err();
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::Disconnected, 109),
            "{e}"
        );
        assert!(started.elapsed() < PATIENCE);
        assert_eq!(rx.try_recv().unwrap_err().kind(), ErrorKind::Disconnected);
    }
}

#[test]
fn rule_9_5_a_sender_is_disconnected_when_the_receiver_is_gone() {
    for kill in [false, true] {
        let name = unique("chan-disc-tx");
        let mut tx = Sender::options()
            .name(&name)
            .capacity(4096)
            .max_message(512)
            .wait(Wait::Block)
            .sender()
            .unwrap();
        let mut receiver = Talker::start(child("receive-and-hang", &[&name]));
        assert_eq!(receiver.wait_for("attached"), "attached");
        if kill {
            receiver.kill();
        } else {
            receiver.finish();
        }
        // Sends until the end is noticed: at once after a clean close, at the latest
        // when the ring is full after a kill.
        let started = Instant::now();
        let e = loop {
            if let Err(e) = tx.send(&[1; 500]) {
                break e;
            }
            assert!(started.elapsed() < PATIENCE, "watchdog");
        };
        assert_eq!(
            (e.kind(), e.win32_code()),
            (ErrorKind::Disconnected, 109),
            "{e}"
        );
    }
}

#[test]
fn rule_9_3_a_sender_killed_holding_a_loan_blocks_no_other_sender() {
    let name = unique("chan-loan-kill");
    let mut rx = Receiver::options()
        .name(&name)
        .capacity(8192)
        .producers(2)
        .receiver()
        .unwrap();
    let mut holder = Talker::start(child("loan-and-hang", &[&name, "300"]));
    assert_eq!(holder.wait_for("loaned"), "loaned");
    holder.kill();
    let mut tx = Sender::open(&name).unwrap();
    tx.send_timeout(b"after", PATIENCE).unwrap();
    assert_eq!(
        &*rx.recv().unwrap(),
        b"after",
        "the killed sender's loan appeared"
    );
    assert!(rx.try_recv().unwrap().is_none());
}

/// The file of channel `name` (a `Local\` name) in the store.
#[cfg(target_os = "linux")]
fn channel_file(name: &str) -> std::path::PathBuf {
    let files = common::store_entries(name.strip_prefix("Local\\").unwrap_or(name));
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone().into()
}

#[cfg(target_os = "linux")]
#[test]
fn rule_9_8_a_corrupted_index_or_header_is_an_error_never_a_crash() {
    use std::os::unix::fs::FileExt;
    // (offset in the file, bytes written, which end reads it): a record's tag and length
    // word with a length past the ring (the receiver's), the committed position past one
    // ring and the consumed position past the committed one (the sender's).
    let cases: [(u64, &[u8], &str); 3] = [
        (
            8192 + 8,
            &(0x4d53_4731u64 << 32 | 0xffff_fff0).to_le_bytes(),
            "receiver",
        ),
        (4096 + 128, &u64::MAX.to_le_bytes(), "sender"),
        (4096 + 256, &(1u64 << 50).to_le_bytes(), "sender"),
    ];
    for (at, bytes, reader) in cases {
        let name = unique("chan-corrupt");
        let mut rx = Receiver::create(&name, 4096).unwrap();
        let mut tx = Sender::open(&name).unwrap();
        tx.send(b"one").unwrap();
        if reader == "sender" {
            assert_eq!(&*rx.recv().unwrap(), b"one");
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(channel_file(&name))
            .unwrap();
        f.write_all_at(bytes, at).unwrap();
        let e = if reader == "receiver" {
            let r = rx.recv_timeout(Duration::from_millis(100));
            r.map(|m| m.map(|m| m.len())).unwrap_err()
        } else {
            // The sender reads the consumed position when the ring looks full to it.
            (0..1000)
                .find_map(|_| tx.try_send(&[2; 100]).err())
                .expect("the corrupt position was never read")
        };
        assert_eq!(e.win32_code(), 1392, "at {at}: {e}");
        assert!(e.to_string().contains(&name), "{e}");
    }
}

#[test]
fn rule_9_1_a_channel_shares_the_namespace_with_the_other_kinds() {
    let name = unique("chan-kind");
    let _m = Mapping::create(&name, 4096).unwrap();
    let e = Receiver::create(&name, 4096).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    let name = unique("chan-kind2");
    let _rx = Receiver::create(&name, 4096).unwrap();
    let e = Mapping::open(&name, shmkit::Access::Read).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    let e = shmkit::sync::Mutex::create(&name).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    let e = shmkit::sync::Mutex::open(&name).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    let e = shmkit::sync::Event::open(&name).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    let e = shmkit::sync::Semaphore::open(&name).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    let e = Mapping::create(&name, 4096).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongType, "{e}");
    // A channel over each sync kind's name, and an open of a mapping's.
    let name = unique("chan-kind3");
    let _mx = shmkit::sync::Mutex::create(&name).unwrap();
    assert_eq!(
        Sender::create(&name, 4096).unwrap_err().kind(),
        ErrorKind::WrongType
    );
    let name = unique("chan-kind4");
    let _ev = shmkit::sync::Event::create(&name, shmkit::EventReset::Auto, false).unwrap();
    assert_eq!(
        Receiver::open(&name).unwrap_err().kind(),
        ErrorKind::WrongType
    );
    let name = unique("chan-kind5");
    let _sem = shmkit::sync::Semaphore::create(&name, 0, 1).unwrap();
    assert_eq!(
        Receiver::create(&name, 4096).unwrap_err().kind(),
        ErrorKind::WrongType
    );
    assert_eq!(
        Sender::open(&unique("chan-kind")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        Sender::open(&unique("chan-none")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

/// A second receiver refused with Busy was dropped as if it had been attached: it marked
/// the receiver closed, so every sender then failed with Disconnected while the first
/// receiver was still there.
#[test]
fn regression_a_busy_receiver_does_not_disconnect_the_senders() {
    let name = unique("chan-busy-rx");
    let mut rx = Receiver::create(&name, 4096).unwrap();
    let mut tx = Sender::open(&name).unwrap();
    assert_eq!(Receiver::open(&name).unwrap_err().kind(), ErrorKind::Busy);
    let other = Sender::open(&name).unwrap_err();
    assert_eq!(other.kind(), ErrorKind::Busy);
    tx.send(b"still connected").unwrap();
    assert_eq!(&*rx.recv().unwrap(), b"still connected");
}

#[test]
// Linux only: Windows has no inspection.
#[cfg(target_os = "linux")]
fn inspect_shows_a_channels_shape_depth_and_ends_and_doubts_their_pids() {
    use std::os::unix::fs::FileExt;
    let me = std::process::id();
    let name = unique("chan-inspect");
    let mut rx = Receiver::options()
        .name(&name)
        .capacity(8192)
        .max_message(100)
        .producers(3)
        .receiver()
        .unwrap();
    let info = shmkit::inspect::info(&name).unwrap();
    assert_eq!(info.kind, Some(shmkit::Kind::Channel));
    let c = info.channel.expect("a channel's details");
    assert_eq!((c.capacity, c.max_message, c.producers), (8192, 100, 3));
    assert_eq!(
        (c.depth, c.receiver, c.receiver_attached),
        (0, Some(me), true)
    );
    assert_eq!((c.senders_attached, c.senders.clone()), (0, vec![]));

    let mut tx = Sender::open(&name).unwrap();
    tx.send(b"12345").unwrap(); // a record of 16 + 16 bytes
    tx.send(b"").unwrap(); // 16
    let c = shmkit::inspect::info(&name).unwrap().channel.unwrap();
    assert_eq!((c.depth, c.senders_attached, c.senders), (48, 1, vec![me]));
    assert_eq!(rx.recv().unwrap().len(), 5);
    let c = shmkit::inspect::info(&name).unwrap().channel.unwrap();
    assert_eq!(c.depth, 16);

    // The pid words are hints: a pid is believed only for a taken place, of a process
    // that holds the channel.
    drop(rx);
    let c = shmkit::inspect::info(&name).unwrap().channel.unwrap();
    assert_eq!((c.receiver_attached, c.receiver), (false, None), "cleared");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(channel_file(&name))
        .unwrap();
    f.write_all_at(&me.to_le_bytes(), 4096 + 896).unwrap(); // no receiver attached
    f.write_all_at(&1u32.to_le_bytes(), 4096 + 1024).unwrap(); // pid 1 holds nothing
    let c = shmkit::inspect::info(&name).unwrap().channel.unwrap();
    assert_eq!((c.receiver_attached, c.receiver), (false, None));
    assert_eq!((c.senders_attached, c.senders), (1, vec![]));

    // A control page that does not describe a ring, or a file too short for its ring:
    // no details, no error.
    f.write_all_at(&0u64.to_le_bytes(), 4096 + 24).unwrap(); // 0 producers
    assert_eq!(shmkit::inspect::info(&name).unwrap().channel, None);
    f.write_all_at(&3u64.to_le_bytes(), 4096 + 24).unwrap();
    assert!(shmkit::inspect::info(&name).unwrap().channel.is_some());
    f.set_len(8192 + 4096).unwrap(); // the control page stays: the sender can close
    let listed = shmkit::inspect::list(false).unwrap();
    let o = listed.iter().find(|o| o.name == name).expect("listed");
    assert_eq!(o.channel, None);
    drop(tx);
}

#[test]
// Linux only: a store file is what a truncating peer cuts.
#[cfg(target_os = "linux")]
fn rule_9_8_a_channel_file_cut_short_under_its_ends_is_an_error_not_sigbus() {
    for wait in [Wait::Busy, Wait::Block] {
        let name = unique("chan-cut");
        let mut rx = Receiver::options()
            .name(&name)
            .capacity(64 * 1024)
            .wait(wait)
            .receiver()
            .unwrap();
        let mut tx = Sender::open(&name).unwrap();
        tx.send(b"before").unwrap();
        // Every page of the ring (and of the control page) goes.
        std::fs::OpenOptions::new()
            .write(true)
            .open(channel_file(&name))
            .unwrap()
            .set_len(4096)
            .unwrap();
        // The receiver's next look at the ring faults: an error, then every later call.
        let started = Instant::now();
        let e = rx.recv_timeout(PATIENCE).map(|m| m.map(|m| m.len()));
        let e = e.unwrap_err();
        assert_eq!(e.win32_code(), 998, "{wait:?}: {e}");
        assert!(e.to_string().contains("truncated"), "{e}");
        assert!(
            started.elapsed() < PATIENCE,
            "{wait:?}: the wait was not cut short"
        );
        assert_eq!(rx.try_recv().unwrap_err().win32_code(), 998);
        let e = (0..100)
            .find_map(|_| tx.try_send(b"after").err())
            .expect("the sender noticed");
        assert_eq!(e.win32_code(), 998, "{wait:?}: {e}");
    }
}

/// The bytes of held message `m`.
fn held(rx: &Receiver, m: &shmkit::channel::HeldMessage) -> Vec<u8> {
    // SAFETY: `m` came from `rx` and has not been released.
    unsafe { std::slice::from_raw_parts(rx.held_bytes(m), m.len()) }.to_vec()
}

#[test]
fn held_messages_keep_their_places_until_released_in_any_order() {
    let name = unique("chan-held");
    let (mut rx, mut tx) = small_channel(&name);
    for i in 0..3 {
        tx.try_send(&message(2, i)).unwrap();
    }
    let a = rx.recv_held(Some(Duration::ZERO)).unwrap().unwrap();
    let b = rx.recv_held(None).unwrap().unwrap();
    // A plain message after held ones gives nothing back when dropped.
    assert_eq!(*rx.recv().unwrap(), *message(2, 2));
    // While they are held, the senders fill the rest of the ring and stop, never
    // writing over them.
    let mut sent = 3;
    while tx.try_send(&message(2, sent)).is_ok() {
        sent += 1;
    }
    assert_eq!(held(&rx, &a), message(2, 0));
    assert_eq!(held(&rx, &b), message(2, 1));
    // Releasing the newer first gives nothing back (the older still holds its place)...
    rx.release_held(Some(a.position()));
    assert_eq!(
        tx.try_send(&message(2, sent)).unwrap_err().kind(),
        ErrorKind::Full
    );
    assert_eq!(held(&rx, &a), message(2, 0));
    // ...and releasing the older then gives back everything received.
    rx.release_held(None);
    tx.try_send(&message(2, sent)).unwrap();
    sent += 1;
    for i in 3..sent {
        let m = rx.recv_held(Some(Duration::ZERO)).unwrap().unwrap();
        assert_eq!(held(&rx, &m), message(2, i));
        rx.release_held(None);
    }
    assert!(rx.recv_held(Some(Duration::ZERO)).unwrap().is_none());
    // A position out of range gives back nothing twice: the ring is still whole.
    rx.release_held(Some(u64::MAX));
    rx.release_held(Some(0));
    tx.try_send(&[7; 1000]).unwrap();
    assert_eq!(*rx.recv().unwrap(), [7; 1000]);
}

#[test]
fn a_held_loan_is_sent_by_commit_and_never_appears_when_abandoned() {
    let name = unique("chan-held-loan");
    let mut rx = Receiver::create(&name, 4096).unwrap();
    let mut tx = Sender::open(&name).unwrap();
    let loan = tx.loan_held(5, None).unwrap();
    assert_eq!(loan.len(), 5);
    // SAFETY: the loan's 5 bytes are this sender's until it ends.
    unsafe { std::ptr::copy_nonoverlapping(b"hello".as_ptr(), tx.held_loan_bytes(&loan), 5) };
    tx.commit_held(loan, 4);
    let loan = tx.loan_held(3, Some(Duration::ZERO)).unwrap();
    tx.abandon_held(loan);
    tx.try_send(b"next").unwrap();
    assert_eq!(*rx.recv().unwrap(), *b"hell");
    assert_eq!(*rx.recv().unwrap(), *b"next");
    assert!(rx.try_recv().unwrap().is_none());
}
