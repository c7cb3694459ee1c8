//! Single-threaded tests of the ring (`ring.rs`), kept out of that file because
//! `tests/model.rs` includes it with loom's atomics. They run under Miri too.

use super::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use super::ring::*;
use std::time::{Duration, Instant};

/// A ring of `size` bytes: its header words (payloads are not touched here).
struct Ring {
    g: Geometry,
    headers: Vec<AtomicU64>,
    shared: [AtomicU64; 2],
    flags: [AtomicU32; 4],
}

impl Ring {
    fn new(size: u64, max_message: u64) -> Ring {
        Ring {
            g: Geometry::checked(size, max_message).expect("a valid shape"),
            headers: (0..size / 8).map(|_| AtomicU64::new(0)).collect(),
            shared: Default::default(),
            flags: Default::default(),
        }
    }

    fn words(&self) -> Words<'_> {
        Words {
            head: &self.shared[0],
            tail: &self.shared[1],
            rx_seq: &self.flags[0],
            rx_sleeping: &self.flags[1],
            tx_seq: &self.flags[2],
            tx_sleeping: &self.flags[3],
        }
    }

    /// Sends a message of `len` bytes if it fits.
    fn send(&self, len: u64) -> bool {
        let w = self.words();
        let head = w.head.load(SeqCst);
        let tail = w.tail_before(&self.g, head).unwrap();
        match w.claim(&self.g, head, tail, len) {
            Some(c) => {
                w.commit(&self.g, self, c, len, &Nobody);
                true
            }
            None => false,
        }
    }

    /// Receives the next message's length, if any.
    fn recv(&self) -> Result<Option<u64>, Corrupt> {
        let w = self.words();
        let tail = w.tail.load(SeqCst);
        Ok(w.record_at(&self.g, self, tail)?.map(|r| {
            assert!(r.payload + r.len <= self.g.size, "{r:?}");
            w.consume(r.next, &Nobody);
            r.len
        }))
    }
}

impl Region for Ring {
    fn header(&self, at: u64) -> &AtomicU64 {
        &self.headers[(at / 8) as usize]
    }
}

/// No other side: waits time out at once, and the peer is there.
struct Nobody;

impl Ends for Nobody {
    fn wait(&self, _: &AtomicU32, _: u32, _: Option<Instant>) {}
    fn wake(&self, _: &AtomicU32, _: u32) {}
    fn peer_gone(&self) -> bool {
        false
    }
    fn recheck(&self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

#[test]
fn sizes_are_powers_of_two_that_hold_two_largest_records() {
    assert_eq!(ring_size(1, 0, 4096), Some(4096));
    assert_eq!(ring_size(5000, 100, 4096), Some(8192));
    assert_eq!(ring_size(4096, 4096, 4096), Some(16384));
    assert_eq!(ring_size(u64::MAX, 0, 4096), None);
    assert_eq!(record_len(0), 16);
    assert_eq!(record_len(1), 32);
    assert_eq!(record_len(16), 32);
    assert!(Geometry::checked(4096, 2032).is_some());
    assert!(Geometry::checked(4096, 2033).is_none());
    assert!(Geometry::checked(4095, 1).is_none());
}

#[test]
fn messages_wrap_around_the_ring_behind_a_padding_record() {
    let r = Ring::new(64, 16);
    let mut lens = std::collections::VecDeque::new();
    for i in 0..200u64 {
        let len = i % 17;
        while !r.send(len) {
            assert_eq!(r.recv().unwrap(), lens.pop_front(), "at {i}");
        }
        lens.push_back(len);
    }
    while let Some(len) = lens.pop_front() {
        assert_eq!(r.recv().unwrap(), Some(len));
    }
    assert_eq!(r.recv().unwrap(), None);
}

#[test]
fn a_largest_message_fits_an_empty_ring_wherever_it_stands() {
    let r = Ring::new(128, 24);
    for _ in 0..20 {
        assert!(r.send(24), "an empty ring refused a largest message");
        assert!(!r.send(24) || r.recv().unwrap() == Some(24));
        while r.recv().unwrap().is_some() {}
        assert!(r.send(3));
        assert_eq!(r.recv().unwrap(), Some(3));
    }
}

#[test]
fn forged_positions_and_headers_are_corrupt_never_followed() {
    let r = Ring::new(64, 16);
    assert!(r.send(5));
    let w = r.words();
    // The committed position more than a ring ahead, or behind the consumed one: the
    // sender's reads refuse it.
    assert!(w.tail_before(&r.g, 1000).is_err());
    w.tail.store(24, SeqCst);
    assert!(w.tail_before(&r.g, 16).is_err());
    w.tail.store(0, SeqCst);
    // A record committed at the consumed position with an unknown tag, a length past the
    // maximum, or padding that does not end the turn.
    for forged in [
        0,
        u64::MAX,
        0x4d53_4731u64 << 32 | 17,
        0x5041_4431u64 << 32 | 16,
        0x5041_4431u64 << 32 | 128,
    ] {
        r.headers[1].store(forged, SeqCst);
        assert!(r.recv().is_err(), "{forged:#x}");
    }
    r.headers[1].store(0x4d53_4731u64 << 32 | 5, SeqCst);
    assert_eq!(r.recv().unwrap(), Some(5));
    // Nothing committed: zeroed memory and a record of an earlier turn are not records.
    assert_eq!(r.recv().unwrap(), None);
    r.headers[4].store(!(32u64 + 64), SeqCst);
    assert_eq!(r.recv().unwrap(), None);
    // A consumed position off the record grid.
    w.tail.store(40, SeqCst);
    assert!(r.recv().is_err());
}

#[test]
fn a_release_wakes_only_a_sleeper_that_said_so() {
    struct Count(std::cell::Cell<u32>);
    impl Ends for Count {
        fn wait(&self, _: &AtomicU32, _: u32, _: Option<Instant>) {}
        fn wake(&self, _: &AtomicU32, _: u32) {
            self.0.set(self.0.get() + 1);
        }
        fn peer_gone(&self) -> bool {
            false
        }
        fn recheck(&self) -> Option<Duration> {
            None
        }
    }
    let r = Ring::new(64, 16);
    let w = r.words();
    let ends = Count(Default::default());
    let c = w.claim(&r.g, 0, 0, 4).unwrap();
    w.commit(&r.g, &r, c, 4, &ends);
    assert_eq!(ends.0.get(), 0);
    w.rx_sleeping.store(1, SeqCst);
    let c = w.claim(&r.g, w.head.load(SeqCst), 0, 4).unwrap();
    w.commit(&r.g, &r, c, 4, &ends);
    assert_eq!((ends.0.get(), w.rx_seq.load(SeqCst)), (1, 1));
    assert_eq!(
        w.rx_sleeping.load(SeqCst),
        0,
        "the flag is cleared by the waker"
    );
}

#[test]
fn waits_time_out_and_see_a_gone_peer() {
    struct Gone;
    impl Ends for Gone {
        fn wait(&self, _: &AtomicU32, _: u32, _: Option<Instant>) {}
        fn wake(&self, _: &AtomicU32, _: u32) {}
        fn peer_gone(&self) -> bool {
            true
        }
        fn recheck(&self) -> Option<Duration> {
            Some(Duration::ZERO)
        }
    }
    let r = Ring::new(64, 16);
    let w = r.words();
    let soon = Some(Instant::now() + Duration::from_millis(2));
    for how in [
        Waiting::Busy,
        Waiting::Spin(Duration::ZERO),
        Waiting::Spin(Duration::from_micros(50)),
    ] {
        assert_eq!(
            w.wait_for_record(&r.g, &r, 0, how, soon, &Nobody),
            Ok(Waited::TimedOut)
        );
        assert_eq!(
            w.wait_for_record(&r.g, &r, 0, how, None, &Gone),
            Ok(Waited::Disconnected)
        );
    }
    assert!(r.send(1));
    assert_eq!(
        w.wait_for_record(&r.g, &r, 0, Waiting::Busy, None, &Gone),
        Ok(Waited::Moved(0)),
        "a message left is received before the end"
    );
}
