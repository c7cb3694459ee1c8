//! The send end.

use super::ring::{Claim, Waited};
use super::{end_methods, ChannelOptions, End};
use crate::error::{Error, ErrorKind, Result};
use crate::sync::lockword::Locked;
use std::cell::Cell;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

/// How many sends go by between two looks at whether a receiver that was attached died
/// (a clean close is seen at once; a killed receiver at the latest when the ring fills).
const SENDS_PER_LOOK: u32 = 1024;

/// The send end of a channel (SPEC 9). `Send`, not `Sync`: one loan at a time.
pub struct Sender {
    end: End,
    existed: bool,
    /// The consumed position as last seen (the receiver's, so never ahead of it).
    tail: u64,
    sends: u32,
    _not_sync: PhantomData<Cell<()>>,
}

end_methods!(Sender);

impl Sender {
    pub(crate) fn new(end: End, existed: bool) -> Sender {
        let tail = end
            .handle
            .control()
            .words()
            .tail
            .load(std::sync::atomic::Ordering::Acquire);
        Sender {
            end,
            existed,
            tail,
            sends: 0,
            _not_sync: PhantomData,
        }
    }

    /// Creates the channel `name` with a ring of `capacity` bytes, or opens it, and
    /// attaches a sender.
    pub fn create(name: &str, capacity: usize) -> Result<Sender> {
        ChannelOptions::default()
            .name(name)
            .capacity(capacity)
            .sender()
    }

    /// Opens the existing channel `name` and attaches a sender (NotFound when there is
    /// none).
    pub fn open(name: &str) -> Result<Sender> {
        let end = ChannelOptions::default().open(name, true)?;
        Ok(Sender::new(end, true))
    }

    /// Another sender on the same channel, for a channel made for several producers
    /// (ERROR_BUSY when every place is taken).
    pub fn try_clone(&self) -> Result<Sender> {
        let handle = self.end.handle.another_sender()?;
        let end = End {
            handle,
            name: self.end.name.clone(),
            waiting: self.end.waiting,
        };
        Ok(Sender::new(end, true))
    }

    /// Sends `msg`, waiting while the ring is full.
    pub fn send(&mut self, msg: &[u8]) -> Result<()> {
        self.send_until(msg, None, false)
    }

    /// Sends `msg` if there is room now, else fails with [`ErrorKind::Full`].
    pub fn try_send(&mut self, msg: &[u8]) -> Result<()> {
        self.send_until(msg, Some(Instant::now()), true)
    }

    /// Sends `msg`, waiting at most `timeout` for room ([`ErrorKind::Full`] after it).
    pub fn send_timeout(&mut self, msg: &[u8], timeout: Duration) -> Result<()> {
        self.send_until(msg, Instant::now().checked_add(timeout), timeout.is_zero())
    }

    fn send_until(&mut self, msg: &[u8], deadline: Option<Instant>, poll: bool) -> Result<()> {
        let mut loan = self.loan_until(msg.len(), deadline, poll)?;
        loan.copy_from_slice(msg);
        loan.commit();
        Ok(())
    }

    /// Lends `len` bytes of the ring to write a message in place, waiting while the ring
    /// is full; [`Loan::commit`] sends it, dropping the loan abandons it (it never
    /// appears). The bytes are not zeroed.
    pub fn loan(&mut self, len: usize) -> Result<Loan<'_>> {
        self.loan_until(len, None, false)
    }

    /// Lends ring bytes as [`Sender::loan`] does, but without borrowing the sender, for
    /// bindings whose loans outlive the call that made them (the Python package). The
    /// loan must end with [`Sender::commit_held`] or [`Sender::abandon_held`] on this
    /// sender, on this thread (for a channel of several producers it holds their turn).
    /// `timeout`: `None` waits for ever, zero polls.
    #[doc(hidden)]
    pub fn loan_held(&mut self, len: usize, timeout: Option<Duration>) -> Result<HeldLoan> {
        let (deadline, poll) = match timeout {
            None => (None, false),
            Some(t) => (Instant::now().checked_add(t), t.is_zero()),
        };
        let loan = self.loan_until(len, deadline, poll)?;
        let held = HeldLoan {
            claim: loan.claim,
            len: loan.len,
            shared: loan.shared,
        };
        // The turn (if any) now belongs to the held loan.
        std::mem::forget(loan);
        Ok(held)
    }

    /// Where a held loan's bytes are: `len()` bytes, writable until it ends.
    #[doc(hidden)]
    pub fn held_loan_bytes(&self, loan: &HeldLoan) -> *mut u8 {
        self.end
            .handle
            .control()
            .payload(loan.claim.payload, loan.len as u64)
    }

    /// Sends a held loan's first `len` bytes (at most its length).
    #[doc(hidden)]
    pub fn commit_held(&mut self, loan: HeldLoan, len: usize) {
        Loan {
            sender: self,
            claim: loan.claim,
            len: loan.len.min(len),
            shared: loan.shared,
            _not_send: PhantomData,
        }
        .commit();
    }

    /// Ends a held loan without sending it.
    #[doc(hidden)]
    pub fn abandon_held(&mut self, loan: HeldLoan) {
        drop(Loan {
            sender: self,
            claim: loan.claim,
            len: loan.len,
            shared: loan.shared,
            _not_send: PhantomData,
        });
    }

    fn error(&self, kind: ErrorKind, why: impl std::fmt::Display) -> Error {
        Error::new(
            kind,
            format!("sending on {}: {why}", self.end.handle.what()),
        )
    }

    fn loan_until(
        &mut self,
        len: usize,
        deadline: Option<Instant>,
        poll: bool,
    ) -> Result<Loan<'_>> {
        let g = self.end.handle.control().geometry();
        if len as u64 > g.max_message {
            return Err(self.error(
                ErrorKind::TooLarge,
                format_args!(
                    "a message of {len} bytes is larger than its maximum of {} bytes; \
                     nothing was sent",
                    g.max_message
                ),
            ));
        }
        self.end.intact("sending on")?;
        self.sends = self.sends.wrapping_add(1);
        if self.end.handle.control().receiver_closed()
            || (self.sends % SENDS_PER_LOOK == 0 && self.end.handle.peer_gone())
        {
            return Err(self.disconnected());
        }
        let shared = self.end.handle.control().producers() > 1;
        if shared {
            self.claim(deadline, poll)?;
        }
        match self.find_room(len as u64, deadline, poll) {
            Ok(claim) => Ok(Loan {
                sender: self,
                claim,
                len,
                shared,
                _not_send: PhantomData,
            }),
            Err(e) => {
                if shared {
                    self.end.handle.unclaim();
                }
                Err(e)
            }
        }
    }

    fn disconnected(&self) -> Error {
        self.error(ErrorKind::Disconnected, "the receiver is gone")
    }

    /// Takes the senders' turn (several producers).
    fn claim(&self, deadline: Option<Instant>, poll: bool) -> Result<()> {
        if self.end.handle.claim_owned() {
            return Err(self.error(
                ErrorKind::AlreadyLocked,
                "this thread holds a loan of another sender of the channel; commit or drop \
                 it first",
            ));
        }
        match self.end.handle.claim(deadline, poll) {
            Locked::Acquired | Locked::Abandoned => Ok(()),
            Locked::TimedOut => Err(self.error(
                ErrorKind::Full,
                "another sender's message is being written, and the wait is over",
            )),
            Locked::TooDeep => Err(self.error(ErrorKind::Other, "the senders' turn is broken")),
        }
    }

    fn find_room(&mut self, len: u64, deadline: Option<Instant>, poll: bool) -> Result<Claim> {
        let h = &self.end.handle;
        let g = h.control().geometry();
        let words = h.control().words();
        let head = words.head.load(std::sync::atomic::Ordering::Acquire);
        // The consumed position as last seen is enough while it leaves room: the
        // receiver's line is read again only when the ring looks full (or the cached
        // position is older than a ring, or the committed one moved under it).
        let cached_ok = head
            .checked_sub(self.tail)
            .is_some_and(|used| used <= g.size);
        if cached_ok {
            if let Some(c) = words.claim(&g, head, self.tail, len) {
                return Ok(c);
            }
        }
        self.tail = match words.tail_before(&g, head) {
            Ok(t) => t,
            Err(c) => return Err(self.end.corrupt(c)),
        };
        loop {
            if let Some(c) = words.claim(&g, head, self.tail, len) {
                return Ok(c);
            }
            if poll {
                return Err(if h.peer_gone() {
                    self.disconnected()
                } else {
                    self.error(ErrorKind::Full, "the ring is full")
                });
            }
            match words.wait_for_tail(&g, head, self.tail, self.end.waiting, deadline, h) {
                Ok(Waited::Moved(t)) => self.tail = t,
                Ok(Waited::TimedOut) => {
                    return Err(self.error(ErrorKind::Full, "the ring stayed full"))
                }
                Ok(Waited::Disconnected) => {
                    self.end.intact("sending on")?;
                    return Err(self.disconnected());
                }
                Err(c) => return Err(self.end.corrupt(c)),
            }
        }
    }
}

/// Ring bytes lent to write one message in place (`DerefMut` to them). [`commit`]
/// sends it; dropping it abandons it, and an abandoned loan never appears.
///
/// [`commit`]: Loan::commit
pub struct Loan<'a> {
    sender: &'a mut Sender,
    claim: Claim,
    len: usize,
    shared: bool,
    /// The senders' turn is held by this thread: the loan stays on it.
    _not_send: PhantomData<*const ()>,
}

impl Loan<'_> {
    /// Shortens the message to `len` bytes (a longer `len` does nothing).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Sends the message.
    pub fn commit(self) {
        let h = &self.sender.end.handle;
        h.control().words().commit(
            &h.control().geometry(),
            h.control(),
            self.claim,
            self.len as u64,
            h,
        );
        // Drop gives the turn back.
    }

    fn bytes(&self) -> *mut u8 {
        self.sender
            .end
            .handle
            .control()
            .payload(self.claim.payload, self.len as u64)
    }
}

impl std::ops::Deref for Loan<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the claim is a range of the ring no other sender writes (one turn at a
        // time) and the receiver does not read (it is past `head`), inside the mapping
        // the borrowed sender keeps alive; every byte value is a valid u8.
        unsafe { std::slice::from_raw_parts(self.bytes(), self.len) }
    }
}

impl std::ops::DerefMut for Loan<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.bytes(), self.len) }
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        if self.shared {
            self.sender.end.handle.unclaim();
        }
    }
}

/// A loan made by [`Sender::loan_held`]: where its bytes lie in the ring.
#[doc(hidden)]
#[derive(Debug)]
#[must_use = "a held loan ends only by commit_held or abandon_held"]
pub struct HeldLoan {
    claim: Claim,
    len: usize,
    shared: bool,
}

impl HeldLoan {
    /// The loan's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the loan is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for Loan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loan").field("len", &self.len).finish()
    }
}
