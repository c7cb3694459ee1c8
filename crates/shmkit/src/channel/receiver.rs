//! The receive end.

use super::ring::{Record, Waited};
use super::{end_methods, ChannelOptions, End};
use crate::error::{Error, ErrorKind, Result};
use std::cell::Cell;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// The receive end of a channel (SPEC 9). `Send`, not `Sync`: one message at a time.
pub struct Receiver {
    end: End,
    existed: bool,
    /// Where the next message starts (this end is the only writer of the shared one).
    tail: u64,
    /// Where the oldest held message starts ([`Receiver::recv_held`]): nothing from
    /// there on is given back until [`Receiver::release_held`] says so.
    held_from: Option<u64>,
    _not_sync: PhantomData<Cell<()>>,
}

end_methods!(Receiver);

impl Receiver {
    pub(crate) fn new(end: End, existed: bool) -> Receiver {
        // A new receiver goes on where the last one stopped: what is left waits for it.
        let tail = end
            .handle
            .control()
            .words()
            .tail
            .load(std::sync::atomic::Ordering::Acquire);
        Receiver {
            end,
            existed,
            tail,
            held_from: None,
            _not_sync: PhantomData,
        }
    }

    /// Creates the channel `name` with a ring of `capacity` bytes, or opens it, and
    /// attaches the receiver.
    pub fn create(name: &str, capacity: usize) -> Result<Receiver> {
        ChannelOptions::default()
            .name(name)
            .capacity(capacity)
            .receiver()
    }

    /// Opens the existing channel `name` and attaches the receiver (NotFound when there
    /// is none).
    pub fn open(name: &str) -> Result<Receiver> {
        let end = ChannelOptions::default().open(name, false)?;
        Ok(Receiver::new(end, true))
    }

    /// The next message, waiting for one; [`ErrorKind::Disconnected`] when every sender
    /// is gone and nothing is left.
    pub fn recv(&mut self) -> Result<Message<'_>> {
        match self.recv_until(None, false)? {
            Some(m) => Ok(m),
            None => unreachable!("a wait without a deadline ends with a message or an error"),
        }
    }

    /// The next message if there is one now.
    pub fn try_recv(&mut self) -> Result<Option<Message<'_>>> {
        self.recv_until(Some(Instant::now()), true)
    }

    /// The next message, waiting at most `timeout` (`None` after it).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Message<'_>>> {
        self.recv_until(Instant::now().checked_add(timeout), timeout.is_zero())
    }

    fn disconnected(&self) -> Error {
        Error::new(
            ErrorKind::Disconnected,
            format!(
                "receiving on {}: every sender is gone and nothing is left",
                self.end.handle.what()
            ),
        )
    }

    fn recv_until(&mut self, deadline: Option<Instant>, poll: bool) -> Result<Option<Message<'_>>> {
        Ok(self.next_record(deadline, poll)?.map(|rec| Message {
            receiver: self,
            rec,
        }))
    }

    /// Receives a message that does not borrow the receiver, for bindings whose messages
    /// outlive the call that received them (the Python package). Several may be held at
    /// once: their places in the ring are given back only by [`Receiver::release_held`],
    /// so the senders never overwrite them. `timeout`: `None` waits for ever, zero polls.
    #[doc(hidden)]
    pub fn recv_held(&mut self, timeout: Option<Duration>) -> Result<Option<HeldMessage>> {
        let (deadline, poll) = match timeout {
            None => (None, false),
            Some(t) => (Instant::now().checked_add(t), t.is_zero()),
        };
        let from = self.tail;
        let Some(rec) = self.next_record(deadline, poll)? else {
            return Ok(None);
        };
        self.tail = rec.next;
        self.held_from.get_or_insert(from);
        Ok(Some(HeldMessage { from, rec }))
    }

    /// Where a held message's bytes are: `len()` bytes, valid while its place is held
    /// (until a [`Receiver::release_held`] that passes its position) and this receiver
    /// lives. Only for a message received by this receiver.
    #[doc(hidden)]
    pub fn held_bytes(&self, m: &HeldMessage) -> *const u8 {
        self.end.handle.control().payload(m.rec.payload, m.rec.len)
    }

    /// Gives back the places of held messages: everything before `keep` (the position
    /// of the oldest message still held), or everything received when `keep` is `None`.
    /// A position outside what is held is brought into it, so nothing is given back
    /// twice or before it was received.
    #[doc(hidden)]
    pub fn release_held(&mut self, keep: Option<u64>) {
        let Some(floor) = self.held_from else {
            return;
        };
        let upto = keep.map_or(self.tail, |p| p.clamp(floor, self.tail));
        self.held_from = keep.map(|_| upto).filter(|&p| p < self.tail);
        self.end
            .handle
            .control()
            .words()
            .consume(upto, &self.end.handle);
    }

    /// The record at `tail`, waiting for one until `deadline`; `None` after it.
    fn next_record(&mut self, deadline: Option<Instant>, poll: bool) -> Result<Option<Record>> {
        let h = &self.end.handle;
        let g = h.control().geometry();
        let words = h.control().words();
        let region = h.control();
        self.end.intact("receiving on")?;
        loop {
            match words.record_at(&g, region, self.tail) {
                Ok(Some(rec)) => return Ok(Some(rec)),
                Ok(None) => {}
                Err(c) => return Err(self.end.corrupt(c)),
            }
            if poll {
                if !h.peer_gone() {
                    return Ok(None);
                }
                // Gone: what was committed before still arrives.
                return match words.record_at(&g, region, self.tail) {
                    Ok(Some(rec)) => Ok(Some(rec)),
                    Ok(None) => Err(self.disconnected()),
                    Err(c) => Err(self.end.corrupt(c)),
                };
            }
            match words.wait_for_record(&g, region, self.tail, self.end.waiting, deadline, h) {
                Ok(Waited::Moved(_)) => {}
                Ok(Waited::TimedOut) => return Ok(None),
                Ok(Waited::Disconnected) => {
                    self.end.intact("receiving on")?;
                    return Err(self.disconnected());
                }
                Err(c) => return Err(self.end.corrupt(c)),
            }
        }
    }
}

/// A received message, read where it lies in the ring (`Deref` to its bytes). Dropping
/// it gives its place back to the senders.
pub struct Message<'a> {
    receiver: &'a mut Receiver,
    rec: Record,
}

impl Message<'_> {
    fn bytes(&self) -> *const u8 {
        self.receiver
            .end
            .handle
            .control()
            .payload(self.rec.payload, self.rec.len)
    }
}

impl std::ops::Deref for Message<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the record was checked to lie inside the ring, before `head`: committed,
        // and not yet given back, so no sender writes it; the mapping lives as long as the
        // borrowed receiver; every byte value is a valid u8.
        unsafe { std::slice::from_raw_parts(self.bytes(), self.rec.len as usize) }
    }
}

impl Drop for Message<'_> {
    fn drop(&mut self) {
        let r = &mut *self.receiver;
        // Behind a held message nothing is given back until it is released.
        if r.held_from.is_none() {
            r.end
                .handle
                .control()
                .words()
                .consume(self.rec.next, &r.end.handle);
        }
        r.tail = self.rec.next;
    }
}

/// A message received by [`Receiver::recv_held`]: where it lies in the ring.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldMessage {
    /// The receiver's position before it (where its place starts).
    from: u64,
    rec: Record,
}

impl HeldMessage {
    /// The message's length in bytes.
    pub fn len(&self) -> usize {
        self.rec.len as usize
    }

    /// Whether the message is empty.
    pub fn is_empty(&self) -> bool {
        self.rec.len == 0
    }

    /// Where its place in the ring starts, for [`Receiver::release_held`].
    pub fn position(&self) -> u64 {
        self.from
    }
}

impl std::fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("len", &self.rec.len)
            .finish()
    }
}
