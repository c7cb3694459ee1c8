//! Channels: named, bounded rings of variable-size messages between processes, written
//! and read in place (SPEC section 9).
//!
//! A channel is an object of its own kind in the one namespace, with the name, lifetime
//! and permission rules of mappings. It has one receive end and one send end, or several
//! send ends when it was made for several producers ([`ChannelOptions::producers`]). A
//! sender writes a message straight into the ring ([`Sender::loan`], then
//! [`Loan::commit`]) or copies one in ([`Sender::send`]); the receiver reads it where it
//! lies ([`Receiver::recv`] gives a [`Message`] that derefs to the bytes) and frees its
//! place by dropping it.
//!
//! ```
//! # fn main() -> shmkit::Result<()> {
//! use shmkit::channel::{Receiver, Sender};
//! # let name = format!("Local\\doc-channel-{}", std::process::id());
//! let mut rx = Receiver::create(&name, 64 * 1024)?;
//! let mut tx = Sender::open(&name)?;
//! tx.send(b"hello")?;
//! let mut loan = tx.loan(5)?; // written in place
//! loan.copy_from_slice(b"world");
//! loan.commit();
//! assert_eq!(&*rx.recv()?, b"hello");
//! assert_eq!(&*rx.recv()?, b"world");
//! # Ok(()) }
//! ```
//!
//! How each end waits (for a message, or for room) is its own choice: [`Wait::Busy`]
//! polls (the lowest latency, a core kept busy), [`Wait::Block`] sleeps at once (on a
//! futex in the shared page on Linux, on the channel's event on Windows), [`Wait::Adaptive`] (the default) polls for its spin budget, then
//! sleeps. A polling end still wakes a peer that sleeps.
//!
//! The ring is `crate::channel::ring`: a Lamport ring of variable-size records (as in
//! Aeron's log buffers), whose shared positions are checked on every read, so a peer that
//! corrupts them gets an error, never an access outside the ring.

pub(crate) mod control;
mod receiver;
pub(crate) mod ring;
#[cfg(test)]
mod ring_tests;
mod sender;

pub(crate) use crate::sync::atomic;

#[doc(hidden)]
pub use receiver::HeldMessage;
pub use receiver::{Message, Receiver};
#[doc(hidden)]
pub use sender::HeldLoan;
pub use sender::{Loan, Sender};

use crate::error::{Error, ErrorKind, Result};
use crate::kind::Kind;
use crate::name::{label, Name};
use crate::os::{self, ChannelHandle, ChannelRequest};
use crate::params;
use std::time::Duration;

/// How an end waits when it cannot go on at once (an empty or a full ring).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wait {
    /// Poll, never sleep: the lowest latency, at the cost of a core while waiting.
    Busy,
    /// Sleep at once (on a futex in the shared page, or a kernel event on Windows) until
    /// the other side moves.
    Block,
    /// Poll for the spin budget ([`ChannelOptions::spin`], 50 µs by default), then sleep.
    #[default]
    Adaptive,
}

/// The default spin budget of [`Wait::Adaptive`]: about what a cross-core wake-up costs.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);
/// The default ring size of [`ChannelOptions`].
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// Options for making or opening a channel end; made by [`Sender::options`] or
/// [`Receiver::options`] (they are the same).
///
/// The creator's `capacity`, `max_message` and `producers` stand; an opener's are
/// ignored, as a mapping keeps its own size. `wait` and `spin` belong to each end.
#[derive(Debug, Clone)]
pub struct ChannelOptions<'a> {
    name: Option<&'a str>,
    capacity: usize,
    max_message: Option<usize>,
    producers: usize,
    wait: Wait,
    spin: Duration,
    permissions: u32,
}

impl Default for ChannelOptions<'_> {
    fn default() -> Self {
        ChannelOptions {
            name: None,
            capacity: DEFAULT_CAPACITY,
            max_message: None,
            producers: 1,
            wait: Wait::default(),
            spin: DEFAULT_SPIN,
            permissions: 0o600,
        }
    }
}

impl<'a> ChannelOptions<'a> {
    /// The channel's name (required).
    pub fn name(&mut self, name: &'a str) -> &mut Self {
        self.name = Some(name);
        self
    }

    /// The ring's size in bytes (rounded up to a power of two of at least a page, and to
    /// what `max_message` needs; never down). 64 KiB by default.
    pub fn capacity(&mut self, bytes: usize) -> &mut Self {
        self.capacity = bytes;
        self
    }

    /// The largest message, in bytes: exact, at most the capacity; a quarter of the
    /// capacity by default. Any message up to it fits an empty ring.
    pub fn max_message(&mut self, bytes: usize) -> &mut Self {
        self.max_message = Some(bytes);
        self
    }

    /// How many senders may be attached at once (1 by default, at most 64).
    pub fn producers(&mut self, n: usize) -> &mut Self {
        self.producers = n;
        self
    }

    /// How this end waits.
    pub fn wait(&mut self, wait: Wait) -> &mut Self {
        self.wait = wait;
        self
    }

    /// [`Wait::Adaptive`]'s spin budget.
    pub fn spin(&mut self, budget: Duration) -> &mut Self {
        self.spin = budget;
        self
    }

    /// Unix-style permission bits of a new channel (0o600 by default). Each end writes
    /// its position, so opening either end needs read and write permission.
    pub fn permissions(&mut self, mode: u32) -> &mut Self {
        self.permissions = mode;
        self
    }

    /// Creates the channel or opens it, then attaches the send end (ERROR_BUSY when
    /// every sender place is taken).
    pub fn sender(&self) -> Result<Sender> {
        let (end, existed) = self.attach(true)?;
        Ok(Sender::new(end, existed))
    }

    /// Creates the channel or opens it, then attaches the receive end (ERROR_BUSY when
    /// another receiver is attached).
    pub fn receiver(&self) -> Result<Receiver> {
        let (end, existed) = self.attach(false)?;
        Ok(Receiver::new(end, existed))
    }

    fn attach(&self, sender: bool) -> Result<(End, bool)> {
        let name = self.name.ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidName,
                "creating a channel: a channel needs a name",
            )
        })?;
        let parsed = Name::parse(name)?;
        let what = format!("creating {}", label(Kind::Channel, Some(parsed.as_str())));
        params::permissions(self.permissions, &what)?;
        let max_message = self.max_message.unwrap_or(self.capacity / 4);
        params::channel(self.capacity, max_message, self.producers, &what)?;
        let req = ChannelRequest {
            name: &parsed,
            capacity: self.capacity as u64,
            max_message: max_message as u64,
            producers: self.producers as u32,
            permissions: self.permissions,
        };
        let (handle, existed) = os::create_channel(&req, sender)?;
        Ok((self.end(handle, &parsed), existed))
    }

    fn end(&self, handle: ChannelHandle, name: &Name) -> End {
        End {
            handle,
            name: name.as_str().to_owned(),
            waiting: match self.wait {
                Wait::Busy => ring::Waiting::Busy,
                Wait::Block => ring::Waiting::Spin(Duration::ZERO),
                Wait::Adaptive => ring::Waiting::Spin(self.spin),
            },
        }
    }

    fn open(&self, name: &str, sender: bool) -> Result<End> {
        let parsed = Name::parse(name)?;
        let handle = os::open_channel(&parsed, sender)?;
        Ok(self.end(handle, &parsed))
    }
}

/// What both ends share: the backend handle, the name as given, how it waits.
pub(crate) struct End {
    handle: ChannelHandle,
    name: String,
    waiting: ring::Waiting,
}

impl End {
    fn corrupt(&self, c: ring::Corrupt) -> Error {
        self.handle.corrupt(c.0)
    }

    /// An error when the channel's file was truncated under this end (its ring is zero
    /// pages of this process now, not the channel's).
    #[inline]
    fn intact(&self, doing: &str) -> Result<()> {
        if !self.handle.damaged() {
            return Ok(());
        }
        Err(Error::from_io(
            std::io::Error::from_raw_os_error(14), // EFAULT: ERROR_NOACCESS
            format!(
                "{doing} {}: its file was truncated under this end by a process that may \
                 write it; its messages are lost",
                self.handle.what()
            ),
        ))
    }
}

/// The methods both ends have.
macro_rules! end_methods {
    ($ty:ident) => {
        impl $ty {
            /// The options of a new end ([`ChannelOptions`]).
            pub fn options<'a>() -> ChannelOptions<'a> {
                ChannelOptions::default()
            }

            /// The channel's name, as it was given.
            pub fn name(&self) -> &str {
                &self.end.name
            }

            /// Whether the channel existed before this end made it.
            pub fn already_existed(&self) -> bool {
                self.existed
            }

            /// The ring's size in bytes (the capacity, rounded up).
            pub fn capacity(&self) -> usize {
                self.end.handle.control().geometry().size as usize
            }

            /// The largest message, in bytes.
            pub fn max_message(&self) -> usize {
                self.end.handle.control().geometry().max_message as usize
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.end.name)
                    .field("capacity", &self.capacity())
                    .field("max_message", &self.max_message())
                    .finish()
            }
        }
    };
}
use end_methods;
