//! The bare limits: a sequence word in a cache line of shared memory, with the payload
//! next to it, and nothing else. `flag-spin` busy-polls the word; `flag-futex` sleeps on
//! it (FUTEX_WAIT) and the sender always wakes (FUTEX_WAKE), whether or not anyone sleeps.
//!
//! The memory is a memfd made by the harness and inherited by both ends. It holds two
//! lanes, one per direction; a lane is the word, padding to 128 bytes (two cache lines,
//! so that the payload shares no line with it), then room for the largest message.

use super::os::{self, SharedMap};
use super::system::{Endpoint, Link, System};
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};

/// Busy-polling a shared word.
pub const SPIN: System = System {
    system: "flag-spin",
    mode: "busy",
    prepare: Some(prepare),
    listen,
    connect,
};

/// Futex wait and wake on a shared word.
pub const FUTEX: System = System {
    system: "flag-futex",
    mode: "block",
    prepare: Some(prepare),
    listen,
    connect,
};

const PAYLOAD_OFFSET: usize = 128;

fn lane_len(max_message: usize) -> usize {
    (PAYLOAD_OFFSET + max_message).next_multiple_of(4096)
}

fn prepare(link: &Link) -> io::Result<Vec<OwnedFd>> {
    Ok(vec![os::memfd(
        "shmkit-bench-flag",
        2 * lane_len(link.max_message),
    )?])
}

/// Lane 0 carries the connecting end's messages, lane 1 the listening end's.
fn listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    open(link, 1, 0)
}

fn connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    open(link, 0, 1)
}

fn open(link: &mut Link, tx: usize, rx: usize) -> io::Result<Box<dyn Endpoint>> {
    let fd = link.take_fd(0)?;
    let lane = lane_len(link.max_message);
    let map = SharedMap::new(&fd, 2 * lane)?;
    Ok(Box::new(Flag {
        map,
        tx: tx * lane,
        rx: rx * lane,
        max: link.max_message,
        futex: link.mode == "block",
        sent: 0,
        seen: 0,
    }))
}

struct Flag {
    map: SharedMap,
    tx: usize,
    rx: usize,
    max: usize,
    futex: bool,
    sent: u32,
    seen: u32,
}

impl Flag {
    fn word(&self, lane: usize) -> &AtomicU32 {
        // SAFETY: a lane starts on a page boundary inside the mapping, which lives as long
        // as `self`; the word is only ever accessed atomically, by both processes.
        unsafe { &*self.map.as_ptr().add(lane).cast::<AtomicU32>() }
    }

    fn check_len(&self, len: usize) -> io::Result<()> {
        if len > self.max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a {len}-byte message exceeds the lane's {} bytes", self.max),
            ));
        }
        Ok(())
    }
}

impl Endpoint for Flag {
    fn send(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        self.check_len(len)?;
        // SAFETY: the payload lies inside the mapping (len <= max, checked). The peer
        // reads this lane's payload only after the word below announces it and is done
        // with it before it answers, and this end sends again only after that answer:
        // nobody else touches these bytes while the slice lives.
        let payload = unsafe {
            std::slice::from_raw_parts_mut(self.map.as_ptr().add(self.tx + PAYLOAD_OFFSET), len)
        };
        fill(payload);
        self.sent = self.sent.wrapping_add(1);
        let word = self.word(self.tx);
        word.store(self.sent, Ordering::Release);
        if self.futex {
            os::futex_wake(word)?;
        }
        Ok(())
    }

    fn recv(&mut self, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        self.check_len(len)?;
        let word = self.word(self.rx);
        let seen = self.seen;
        let now = loop {
            let v = word.load(Ordering::Acquire);
            if v != seen {
                break v;
            }
            if self.futex {
                os::futex_wait(word, seen)?;
            } else {
                std::hint::spin_loop();
            }
        };
        if now != seen.wrapping_add(1) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("message {now} arrived after {seen}: the ends are out of step"),
            ));
        }
        self.seen = now;
        // SAFETY: inside the mapping (checked length); the acquire load above saw the
        // peer's release store made after it wrote the payload, and the peer writes this
        // lane again only after this end answers.
        let payload = unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().add(self.rx + PAYLOAD_OFFSET), len)
        };
        read(payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_keep_the_payload_off_the_word_and_page_aligned() {
        for max in [64, 4096, 1 << 20] {
            let lane = lane_len(max);
            assert!(lane >= PAYLOAD_OFFSET + max);
            assert_eq!(lane % 4096, 0);
        }
    }
}
