//! A channel's control page and ring, as both backends map them: the layout of the words
//! the two sides share, and the accessors the channel layer reaches them through. A
//! backend maps the page and the ring wherever its objects live (Linux: one file, the
//! page after the object header; Windows: one section, the page first) and keeps them
//! mapped for as long as its [`Control`] lives.
//!
//! The control page, by 128-byte line (two cache lines: the adjacent-line prefetcher),
//! each line written by one side:
//!
//! | bytes | what | written by |
//! |---|---|---|
//! | 0..32 | the magic (written last, when the rest is in place), the ring's size, the largest message, the sender places | the creator, once |
//! | 128 | `head`, the committed position | the senders |
//! | 256 | `tail`, the consumed position | the receiver |
//! | 384 | `rx_seq`, `rx_sleeping` | either side (see `ring`) |
//! | 512 | `tx_seq`, `tx_sleeping` | either side |
//! | 640..768 | free for the backend (Linux: the senders' claim lock) | |
//! | 768 | the receiver's state (0 never attached, 1 attached, 2 closed); whether a sender ever attached | the ends, at attach and close |
//! | 896.. | free for the backend (Linux: the ends' pids; Windows: the permission bits at 32, the end places from 1024) | |
//!
//! Everything here is read as another process wrote it: the shape is checked once, when
//! an end attaches, and kept as a private copy.

use super::ring::{Geometry, Region, Words};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The magic of a control page whose shape is in place ("SHMKC1").
pub(crate) const MAGIC: u64 = 0x3143_4b4d_4853;
pub(crate) const MAGIC_AT: u64 = 0;
pub(crate) const SIZE_AT: u64 = 8;
pub(crate) const MAX_MESSAGE_AT: u64 = 16;
pub(crate) const PRODUCERS_AT: u64 = 24;
pub(crate) const HEAD_AT: u64 = 128;
pub(crate) const TAIL_AT: u64 = 256;
const RX_SEQ_AT: u64 = 384;
const RX_SLEEPING_AT: u64 = 388;
const TX_SEQ_AT: u64 = 512;
const TX_SLEEPING_AT: u64 = 516;
const RX_STATE_AT: u64 = 768;
const TX_EVER_AT: u64 = 772;
/// The size of the control page.
pub(crate) const CONTROL_LEN: u64 = 4096;

/// The most senders a channel can have.
pub(crate) const MAX_PRODUCERS: u32 = 64;

/// The receiver's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Receiving {
    NeverAttached,
    Attached,
    Closed,
}

/// A mapped control page and ring.
pub(crate) struct Control {
    page: NonNull<u8>,
    ring: NonNull<u8>,
    geometry: Geometry,
    producers: u32,
}

// SAFETY: the page and the ring are shared memory reached only through atomics and
// through the slices the channel layer hands out under its protocol; any thread may use
// them.
unsafe impl Send for Control {}
// SAFETY: as above.
unsafe impl Sync for Control {}

impl Control {
    /// The control page at `page` and the ring at `ring`, of `size` bytes as the object's
    /// own record says; `Err` names what the page gets wrong.
    ///
    /// # Safety
    /// `page` is the start of a mapped, page-aligned control page of [`CONTROL_LEN`]
    /// bytes, `ring` of a mapped range of `size` bytes, both readable and writable, and
    /// both stay mapped for as long as the returned value lives.
    pub(crate) unsafe fn attach(
        page: NonNull<u8>,
        ring: NonNull<u8>,
        size: u64,
    ) -> Result<Control, &'static str> {
        let mut c = Control {
            page,
            ring,
            geometry: Geometry {
                size: 64,
                max_message: 0,
            },
            producers: 1,
        };
        if c.u64_at(MAGIC_AT).load(Ordering::Acquire) != MAGIC {
            return Err("its control page does not describe a ring");
        }
        let shape = Geometry::checked(
            c.u64_at(SIZE_AT).load(Ordering::SeqCst),
            c.u64_at(MAX_MESSAGE_AT).load(Ordering::SeqCst),
        );
        let producers = c.u64_at(PRODUCERS_AT).load(Ordering::SeqCst);
        match shape {
            Some(g) if g.size == size && (1..=u64::from(MAX_PRODUCERS)).contains(&producers) => {
                c.geometry = g;
                c.producers = producers as u32;
                Ok(c)
            }
            _ => Err("its control page does not describe a ring"),
        }
    }

    /// The 64-bit word at `at` of the page (a constant, 8-aligned, inside the page).
    #[inline]
    pub(crate) fn u64_at(&self, at: u64) -> &AtomicU64 {
        assert!(at % 8 == 0 && at + 8 <= CONTROL_LEN);
        // SAFETY: inside the mapped page (checked above), aligned (the page is
        // page-aligned), which lives as long as `self`; every bit pattern is a valid u64.
        unsafe { &*self.page.as_ptr().add(at as usize).cast::<AtomicU64>() }
    }

    /// The 32-bit word at `at` of the page.
    #[inline]
    pub(crate) fn u32_at(&self, at: u64) -> &AtomicU32 {
        assert!(at % 4 == 0 && at + 4 <= CONTROL_LEN);
        // SAFETY: as in `u64_at`.
        unsafe { &*self.page.as_ptr().add(at as usize).cast::<AtomicU32>() }
    }

    pub(crate) fn geometry(&self) -> Geometry {
        self.geometry
    }

    pub(crate) fn producers(&self) -> u32 {
        self.producers
    }

    pub(crate) fn words(&self) -> Words<'_> {
        Words {
            head: self.u64_at(HEAD_AT),
            tail: self.u64_at(TAIL_AT),
            rx_seq: self.u32_at(RX_SEQ_AT),
            rx_sleeping: self.u32_at(RX_SLEEPING_AT),
            tx_seq: self.u32_at(TX_SEQ_AT),
            tx_sleeping: self.u32_at(TX_SLEEPING_AT),
        }
    }

    /// The ring's bytes from ring offset `at` (the caller's offsets come from the ring's
    /// checked records and claims: inside the ring).
    pub(crate) fn payload(&self, at: u64, len: u64) -> *mut u8 {
        debug_assert!(at + len <= self.geometry.size);
        self.ring.as_ptr().wrapping_add(at as usize)
    }

    pub(crate) fn receiving(&self) -> Receiving {
        match self.u32_at(RX_STATE_AT).load(Ordering::SeqCst) {
            0 => Receiving::NeverAttached,
            2 => Receiving::Closed,
            // A forged value counts as attached: the byte lock or place decides.
            _ => Receiving::Attached,
        }
    }

    /// Whether the receiver closed (cleanly): a cheap look for the senders' hot path.
    #[inline]
    pub(crate) fn receiver_closed(&self) -> bool {
        self.u32_at(RX_STATE_AT).load(Ordering::Relaxed) == 2
    }

    pub(crate) fn set_receiving(&self, state: Receiving) {
        let v = match state {
            Receiving::NeverAttached => 0,
            Receiving::Attached => 1,
            Receiving::Closed => 2,
        };
        self.u32_at(RX_STATE_AT).store(v, Ordering::SeqCst);
    }

    /// Whether a sender ever attached.
    pub(crate) fn sender_ever(&self) -> bool {
        self.u32_at(TX_EVER_AT).load(Ordering::SeqCst) != 0
    }

    pub(crate) fn set_sender_ever(&self) {
        self.u32_at(TX_EVER_AT).store(1, Ordering::SeqCst);
    }
}

impl Region for Control {
    fn header(&self, at: u64) -> &AtomicU64 {
        let at = (at & (self.geometry.size - 1)) & !7;
        // SAFETY: `at` is masked into the ring and 8-aligned (the ring is page-aligned);
        // the ring lives as long as `self`; every bit pattern is a valid u64.
        unsafe { &*self.ring.as_ptr().add(at as usize).cast::<AtomicU64>() }
    }
}
