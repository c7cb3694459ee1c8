//! What a measured system is: two endpoint functions (and, for transports whose ends
//! meet through inherited descriptors, a third that makes them), and the lists of the
//! systems the suite measures.

use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// One end of a message transport between two processes.
///
/// The harness calls `send` and `recv` with the work of [`super::work`]: `fill` writes
/// every byte of the message and `read` reads every byte of it. An implementation hands
/// them the transport's own memory where it lends it (a loan, a shared buffer) and its
/// own buffer otherwise (which the transport then copies); it does nothing else to the
/// payload.
pub trait Endpoint {
    /// Sends one message of `len` bytes, first letting `fill` write all of them. Waits
    /// (as the transport does) while the transport is full.
    fn send(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()>;

    /// Waits for the next message, which must be `len` bytes long (an error otherwise),
    /// and lets `read` read all of them.
    fn recv(&mut self, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()>;
}

/// What one end is given to open itself with.
#[derive(Debug)]
pub struct Link {
    /// A base name unique to this system in this run (`[a-z0-9-]`, at most 60
    /// characters): transports whose ends meet by name derive their names from it.
    pub name: String,
    /// The system's mode ([`System::mode`]), for endpoint functions that serve several.
    pub mode: String,
    /// The largest message this run sends.
    pub max_message: usize,
    /// A private directory of this run, removed after it: for transports that keep
    /// files (iceoryx2 keeps its node and service records there).
    pub scratch: PathBuf,
    pub(crate) fds: Vec<Option<OwnedFd>>,
}

impl Link {
    /// A link without inherited descriptors.
    pub fn new(name: &str, mode: &str, max_message: usize, scratch: PathBuf) -> Link {
        Link {
            name: name.to_owned(),
            mode: mode.to_owned(),
            max_message,
            scratch,
            fds: Vec::new(),
        }
    }

    /// Takes the `i`-th descriptor that [`System::prepare`] made (each can be taken
    /// once). The ones an end does not take are closed when the link is dropped, right
    /// after the end is open.
    pub fn take_fd(&mut self, i: usize) -> io::Result<OwnedFd> {
        self.fds.get_mut(i).and_then(Option::take).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no inherited descriptor #{i}", self.name),
            )
        })
    }
}

/// Opens one end of a system.
pub type OpenFn = fn(&mut Link) -> io::Result<Box<dyn Endpoint>>;

/// Makes, in the process that starts both ends, the descriptors both ends inherit (in
/// [`Link::take_fd`] order). `Link::fds` is empty when it runs.
pub type PrepareFn = fn(&Link) -> io::Result<Vec<OwnedFd>>;

/// A measured system: each end runs in a process of its own, pinned to a CPU of its own.
///
/// - In a latency list, `listen` opens the responder (started first; it answers every
///   message with one of the same length) and `connect` the initiator (started once the
///   responder is open; it times the round trips).
/// - In a streaming list, `listen` opens the receiver (started first; it times the
///   stream) and `connect` the sender.
#[derive(Clone, Copy)]
pub struct System {
    /// The report's `system`: `"iceoryx2"`, `"unix-socket"`, ...
    pub system: &'static str,
    /// The report's `mode`: `"busy"`, `"block"`, `"adaptive"`, `"event"`, ...
    pub mode: &'static str,
    /// Descriptors made before both ends start; `None` when the ends meet by name.
    pub prepare: Option<PrepareFn>,
    /// Opens the end started first; it is ready to receive when this returns.
    pub listen: OpenFn,
    /// Opens the end started second.
    pub connect: OpenFn,
}

impl System {
    /// `system/mode`, as the progress bar and the errors name it.
    pub fn label(&self) -> String {
        format!("{} {}", self.system, self.mode)
    }
}
