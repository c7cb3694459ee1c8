//! The ring of a channel: variable-size records in a byte ring, a committed position
//! written by the senders and a consumed position written by the receiver, with waiting,
//! waking and "is the other end still there?" passed in as [`Ends`]. No system call
//! happens here, so the same code runs over a channel's shared pages and under the loom
//! model checker (`tests/model.rs` includes this file).
//!
//! The algorithm is a Lamport ring (one writer of each index, each side caching the
//! other's) with variable-size records as in Aeron's log buffers: a record is a 16-byte
//! header and its payload padded to 16 bytes; one that would cross the end of the ring
//! is preceded by a padding record that fills the rest, so every payload is contiguous
//! and can be handed out in place (zero-copy). Positions are byte counts since the
//! channel was made (64 bits: they never wrap); a position's place in the ring is its
//! remainder by the ring's size, a power of two.
//!
//! - A header is a commit marker (the record's position, inverted) and a word of tag and
//!   length. A sender writes the payload and the tag and length, then the marker with
//!   release ordering: the receiver polls the marker at its position, so it never sees a
//!   record before its commit, and a small message costs it one cache line, as in
//!   Aeron. A loan that is dropped writes no marker: it never appears.
//! - `head`: where the next record goes; everything before it is committed. The senders
//!   keep it (and take their turns by it); the receiver reads it only to sleep.
//! - `tail`: where the next record to receive starts; everything before it is free.
//! - Several senders take turns through a claim lock (`crate::sync::lockword`), held from
//!   the loan to its commit; the ring itself has one writer of `head` at any moment.
//! - Sleeping: a receiver that finds the ring empty raises `rx_sleeping`, looks again and
//!   sleeps on `rx_seq`; a sender that moved `head` and finds the flag raised clears it,
//!   bumps `rx_seq` and wakes. The raise and the clear are both read-modify-writes of the
//!   flag, so one comes after the other in its modification order: either the sender sees
//!   the flag raised, or the receiver's raise reads the sender's clear, which published
//!   `head` to it (no lost wake-up, with acquire/release alone). Senders waiting for room
//!   do the same on `tx_sleeping` / `tx_seq`.
//!
//! Everything read from shared memory is checked before it is used: `head` and `tail` must
//! be at most one ring apart and in order, a header must carry a known tag and a length
//! within the channel's maximum, for a record that ends inside the ring. A peer that
//! breaks them gets [`Corrupt`], never an access outside the ring.

use super::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};
use std::time::{Duration, Instant};

/// The size of a record header: the commit marker, then the tag and length; records
/// start on 16-byte boundaries.
pub(crate) const HEADER: u64 = 16;
const TAG_MESSAGE: u64 = 0x4d53_4731 << 32; // "MSG1"
const TAG_PADDING: u64 = 0x5041_4431 << 32; // "PAD1"
const TAG_MASK: u64 = 0xffff_ffff << 32;

/// The ring bytes a message of `len` bytes takes, header included.
pub(crate) fn record_len(len: u64) -> u64 {
    HEADER + len.div_ceil(16) * 16
}

/// The commit marker of the record at position `pos`: its position, inverted, so that
/// neither zeroed memory nor a record of an earlier turn of the ring (a position one or
/// more rings back) passes for it.
fn marker(pos: u64) -> u64 {
    !pos
}

/// The ring size that holds `capacity` bytes and any message of up to `max_message`
/// bytes when empty (a record, plus the padding before it at worst): a power of two, at
/// least `page`. `None` when it does not fit in 64 bits.
pub(crate) fn ring_size(capacity: u64, max_message: u64, page: u64) -> Option<u64> {
    let need = record_len(max_message).checked_mul(2)?;
    capacity.max(need).max(page).checked_next_power_of_two()
}

/// The shape of a channel, read once when an end attaches (a private copy: a peer that
/// rewrites the shared one later changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// The ring's size in bytes, a power of two.
    pub size: u64,
    /// The largest message, in bytes.
    pub max_message: u64,
}

impl Geometry {
    /// A geometry that its creator could have made, or `None`.
    pub(crate) fn checked(size: u64, max_message: u64) -> Option<Geometry> {
        let ok = size.is_power_of_two()
            && size >= 64
            && record_len(max_message)
                .checked_mul(2)
                .is_some_and(|n| n <= size);
        ok.then_some(Geometry { size, max_message })
    }

    fn at(&self, pos: u64) -> u64 {
        pos & (self.size - 1)
    }
}

/// The channel's shared words.
pub(crate) struct Words<'a> {
    pub head: &'a AtomicU64,
    pub tail: &'a AtomicU64,
    pub rx_seq: &'a AtomicU32,
    pub rx_sleeping: &'a AtomicU32,
    pub tx_seq: &'a AtomicU32,
    pub tx_sleeping: &'a AtomicU32,
}

/// The ring's bytes, as far as this algorithm touches them: the record headers.
pub(crate) trait Region {
    /// The header word at ring offset `at` (8-aligned, below the ring's size).
    fn header(&self, at: u64) -> &AtomicU64;
}

/// What the ring needs from the system, and from the ends' bookkeeping.
pub(crate) trait Ends {
    /// Sleeps while `word` holds `seen`, until woken or `deadline`; may return early.
    fn wait(&self, word: &AtomicU32, seen: u32, deadline: Option<Instant>);
    /// Wakes up to `n` sleepers on `word`, in any process.
    fn wake(&self, word: &AtomicU32, n: u32);
    /// Whether the other side is gone: for a receiver, senders attached once and none is
    /// attached now; for a sender, the receiver attached once and is not attached now.
    fn peer_gone(&self) -> bool;
    /// The longest sleep before the other side is looked at again (`None`: until woken).
    fn recheck(&self) -> Option<Duration>;
}

/// A shared word or header broke the ring's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt(pub &'static str);

/// How an end waits when it cannot go on at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waiting {
    /// Polls and never sleeps.
    Busy,
    /// Polls for this long, then sleeps.
    Spin(Duration),
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Waited {
    /// The other side's position moved: here it is (checked).
    Moved(u64),
    TimedOut,
    Disconnected,
}

/// Where a record goes: a padding record first from `pad_at` when `at` is past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Claim {
    /// The committed position when the claim was made.
    pub head: u64,
    /// The record's position (after the padding, if any).
    pub at: u64,
    /// The ring offset of the payload.
    pub payload: u64,
}

/// A record found by the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    /// The ring offset of the payload.
    pub payload: u64,
    pub len: u64,
    /// The position after it: the next `tail`.
    pub next: u64,
}

/// Polls between two looks at the time and at the other end, when waiting busily.
const POLLS_PER_LOOK: u32 = 256;

impl Words<'_> {
    /// `tail` and `head` as the rules allow them: in order, at most one ring apart.
    fn checked_span(g: &Geometry, tail: u64, head: u64) -> Result<u64, Corrupt> {
        match head.checked_sub(tail) {
            Some(used) if used <= g.size => Ok(used),
            _ => Err(Corrupt(
                "the committed and consumed positions are out of order",
            )),
        }
    }

    /// The consumed position, checked against the committed one `head`.
    pub(crate) fn tail_before(&self, g: &Geometry, head: u64) -> Result<u64, Corrupt> {
        let tail = self.tail.load(Acquire);
        Self::checked_span(g, tail, head).map(|_| tail)
    }

    /// Where a message of `len` bytes goes after `head`, if it fits with `tail` where it
    /// is. `len` is at most the geometry's maximum (the caller checked it).
    pub(crate) fn claim(&self, g: &Geometry, head: u64, tail: u64, len: u64) -> Option<Claim> {
        let rec = record_len(len);
        let at = if g.at(head) + rec > g.size {
            (head | (g.size - 1)) + 1 // the next turn of the ring, after a padding record
        } else {
            head
        };
        (at + rec - tail <= g.size).then_some(Claim {
            head,
            at,
            payload: g.at(at) + HEADER,
        })
    }

    /// Publishes a claimed record of `len` bytes (at most what was claimed): its header,
    /// then `head`, then a wake-up for a sleeping receiver.
    pub(crate) fn commit(
        &self,
        g: &Geometry,
        region: &impl Region,
        c: Claim,
        len: u64,
        ends: &impl Ends,
    ) {
        // Tag and length first, then the marker that commits them with the payload; the
        // message before the padding that leads to it.
        region
            .header(g.at(c.at) + 8)
            .store(TAG_MESSAGE | len, Relaxed);
        region.header(g.at(c.at)).store(marker(c.at), Release);
        if c.at != c.head {
            region
                .header(g.at(c.head) + 8)
                .store(TAG_PADDING | (c.at - c.head), Relaxed);
            region.header(g.at(c.head)).store(marker(c.head), Release);
        }
        self.head.store(c.at + record_len(len), Release);
        // A read-modify-write, not a load: it reads the latest flag whatever the order
        // of the two sides' other accesses (see the module's notes).
        if self.rx_sleeping.swap(0, SeqCst) != 0 {
            self.rx_seq.fetch_add(1, SeqCst);
            ends.wake(self.rx_seq, 1);
        }
    }

    /// The first record at or after `tail`, if one is committed there (checked).
    pub(crate) fn record_at(
        &self,
        g: &Geometry,
        region: &impl Region,
        mut tail: u64,
    ) -> Result<Option<Record>, Corrupt> {
        let mut turns = 0;
        loop {
            if tail % HEADER != 0 {
                return Err(Corrupt("the consumed position is not on a record"));
            }
            if region.header(g.at(tail)).load(Acquire) != marker(tail) {
                return Ok(None);
            }
            let word = region.header(g.at(tail) + 8).load(Relaxed);
            let len = word & !TAG_MASK;
            match word & TAG_MASK {
                TAG_PADDING => {
                    let next = (tail | (g.size - 1)) + 1;
                    // A padding record ends the ring's turn, and one is all there can be.
                    turns += 1;
                    if len != next - tail || turns > 1 {
                        return Err(Corrupt("a padding record does not end the ring's turn"));
                    }
                    tail = next;
                }
                TAG_MESSAGE => {
                    if len > g.max_message || g.at(tail) + HEADER + len > g.size {
                        return Err(Corrupt("a record's length is past the ring"));
                    }
                    return Ok(Some(Record {
                        payload: g.at(tail) + HEADER,
                        len,
                        next: tail + record_len(len),
                    }));
                }
                _ => return Err(Corrupt("a record header has an unknown tag")),
            }
        }
    }

    /// Frees everything before `next` and wakes sleeping senders.
    pub(crate) fn consume(&self, next: u64, ends: &impl Ends) {
        self.tail.store(next, Release);
        if self.tx_sleeping.swap(0, SeqCst) != 0 {
            self.tx_seq.fetch_add(1, SeqCst);
            ends.wake(self.tx_seq, u32::MAX);
        }
    }

    /// Waits until a record is committed at `tail` (a receiver with nothing to receive).
    pub(crate) fn wait_for_record(
        &self,
        g: &Geometry,
        region: &impl Region,
        tail: u64,
        how: Waiting,
        deadline: Option<Instant>,
        ends: &impl Ends,
    ) -> Result<Waited, Corrupt> {
        let moved = || self.record_at(g, region, tail).map(|r| r.map(|_| tail));
        wait(&moved, self.rx_seq, self.rx_sleeping, how, deadline, ends)
    }

    /// Waits until `tail` moves past `head - size + rec` (a sender without room for `rec`
    /// more bytes at `head`; `tail` as last seen).
    pub(crate) fn wait_for_tail(
        &self,
        g: &Geometry,
        head: u64,
        seen: u64,
        how: Waiting,
        deadline: Option<Instant>,
        ends: &impl Ends,
    ) -> Result<Waited, Corrupt> {
        let moved = || self.tail_before(g, head).map(|t| (t != seen).then_some(t));
        wait(&moved, self.tx_seq, self.tx_sleeping, how, deadline, ends)
    }
}

/// The wait of either side: `moved` looks at the other side's position.
fn wait(
    moved: &impl Fn() -> Result<Option<u64>, Corrupt>,
    seq: &AtomicU32,
    sleeping: &AtomicU32,
    how: Waiting,
    deadline: Option<Instant>,
    ends: &impl Ends,
) -> Result<Waited, Corrupt> {
    let past = |d: Option<Instant>| d.is_some_and(|d| Instant::now() >= d);
    // The other side is gone: what it moved before it went still counts.
    let gone = || {
        Ok(match moved()? {
            Some(p) => Waited::Moved(p),
            None => Waited::Disconnected,
        })
    };
    // Polling first: `None` not at all, `Some(None)` for ever (Busy, or a budget past
    // what an instant holds), `Some(Some(t))` until `t`.
    let spin = match how {
        Waiting::Busy => Some(None),
        Waiting::Spin(d) if d.is_zero() => None,
        Waiting::Spin(d) => Some(Instant::now().checked_add(d)),
    };
    if let Some(until) = spin {
        let mut polls = 0u32;
        loop {
            if let Some(p) = moved()? {
                return Ok(Waited::Moved(p));
            }
            polls += 1;
            if polls % POLLS_PER_LOOK == 0 {
                if ends.peer_gone() {
                    return gone();
                }
                if past(deadline) {
                    return Ok(Waited::TimedOut);
                }
                if past(until) {
                    break;
                }
            }
            std::hint::spin_loop();
        }
    }
    // Sleeping.
    loop {
        let s = seq.load(SeqCst);
        sleeping.swap(1, SeqCst);
        if let Some(p) = moved()? {
            return Ok(Waited::Moved(p));
        }
        if ends.peer_gone() {
            return gone();
        }
        if past(deadline) {
            return Ok(Waited::TimedOut);
        }
        let slice = ends.recheck().and_then(|r| Instant::now().checked_add(r));
        let until = match (deadline, slice) {
            (Some(d), Some(s)) => Some(d.min(s)),
            (d, s) => d.or(s),
        };
        ends.wait(seq, s, until);
    }
}
