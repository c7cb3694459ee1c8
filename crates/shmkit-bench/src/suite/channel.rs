//! The shmkit channel (`shmkit::channel`), the system under measurement. Both ends
//! create-or-open their channels by name, so they need no handshake.
//!
//! - Latency, in each `Wait` mode (`busy`, `block`, `adaptive`): one channel per
//!   direction; the sender loans the message's bytes, fills them in place and commits;
//!   the receiver reads the message in place and drops it.
//! - Streaming (`loan`): one channel of a 4 MiB ring; loan, fill, commit /
//!   receive, read, drop.
//!
//! Each ring holds the run's largest message; `ring` sizes it to twice what the largest
//! message needs, the smallest ring that [`shmkit::channel`] accepts for it.

use super::system::{Endpoint, Link, System};
use shmkit::channel::{Receiver, Sender, Wait};
use std::io;

/// One-way latency, the receiver busy-polling.
pub const LATENCY_BUSY: System = System {
    system: "shmkit-channel",
    mode: "busy",
    prepare: None,
    listen,
    connect,
};

/// One-way latency, each end sleeping at once on the channel's futex.
pub const LATENCY_BLOCK: System = System {
    system: "shmkit-channel",
    mode: "block",
    prepare: None,
    listen,
    connect,
};

/// One-way latency, each end polling for its spin budget, then sleeping.
pub const LATENCY_ADAPTIVE: System = System {
    system: "shmkit-channel",
    mode: "adaptive",
    prepare: None,
    listen,
    connect,
};

/// Streaming with loans.
pub const STREAM: System = System {
    system: "shmkit-channel",
    mode: "loan",
    prepare: None,
    listen: stream_listen,
    connect: stream_connect,
};

/// The streaming ring: four 1 MiB messages.
const STREAM_RING: usize = 4 << 20;

fn wait(mode: &str) -> Wait {
    match mode {
        "block" => Wait::Block,
        "adaptive" => Wait::Adaptive,
        _ => Wait::Busy,
    }
}

fn sender(link: &Link, name: &str, ring: usize) -> io::Result<Sender> {
    Ok(Sender::options()
        .name(name)
        .capacity(ring)
        .max_message(link.max_message)
        .wait(wait(&link.mode))
        .sender()?)
}

fn receiver(link: &Link, name: &str, ring: usize) -> io::Result<Receiver> {
    Ok(Receiver::options()
        .name(name)
        .capacity(ring)
        .max_message(link.max_message)
        .wait(wait(&link.mode))
        .receiver()?)
}

/// The ping-pong rings: the smallest that hold the largest message.
fn ring(link: &Link) -> usize {
    2 * (link.max_message + 16)
}

fn names(link: &Link) -> (String, String) {
    (
        format!("Local\\{}.ab", link.name),
        format!("Local\\{}.ba", link.name),
    )
}

struct Channel {
    tx: Sender,
    rx: Receiver,
}

/// The responder: receives on `ab`, answers on `ba`.
fn listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let (ab, ba) = names(link);
    let rx = receiver(link, &ab, ring(link))?;
    let tx = sender(link, &ba, ring(link))?;
    Ok(Box::new(Channel { tx, rx }))
}

/// The initiator: sends on `ab`, receives on `ba`.
fn connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let (ab, ba) = names(link);
    let tx = sender(link, &ab, ring(link))?;
    let rx = receiver(link, &ba, ring(link))?;
    Ok(Box::new(Channel { tx, rx }))
}

impl Endpoint for Channel {
    fn send(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        send(&mut self.tx, len, fill)
    }

    fn recv(&mut self, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        recv(&mut self.rx, len, read)
    }
}

fn send(tx: &mut Sender, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
    let mut loan = tx.loan(len)?;
    fill(&mut loan);
    loan.commit();
    Ok(())
}

fn recv(rx: &mut Receiver, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()> {
    let m = rx.recv()?;
    if m.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a message of {} bytes, not {len}", m.len()),
        ));
    }
    read(&m);
    Ok(())
}

/// The streaming ends: one channel, one way.
enum Stream {
    Tx(Sender),
    Rx(Receiver),
}

fn stream_listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let name = format!("Local\\{}.s", link.name);
    Ok(Box::new(Stream::Rx(receiver(link, &name, STREAM_RING)?)))
}

fn stream_connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let name = format!("Local\\{}.s", link.name);
    Ok(Box::new(Stream::Tx(sender(link, &name, STREAM_RING)?)))
}

impl Endpoint for Stream {
    fn send(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        match self {
            Stream::Tx(tx) => send(tx, len, fill),
            Stream::Rx(_) => Err(io::Error::other("the receiving end cannot send")),
        }
    }

    fn recv(&mut self, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        match self {
            Stream::Rx(rx) => recv(rx, len, read),
            Stream::Tx(_) => Err(io::Error::other("the sending end cannot receive")),
        }
    }
}
