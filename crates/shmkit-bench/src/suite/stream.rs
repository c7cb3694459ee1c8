//! The kernel's byte streams: a Unix stream socket pair and a pair of pipes, one per
//! direction. The harness makes them and both ends inherit them. A message is written
//! with `write_all` from a buffer the sender fills and read with `read_exact` into a
//! buffer the receiver then reads: both ends know its length, so there is no framing.
//! Kernel defaults throughout (socket buffers, 64 KiB pipes): larger messages take
//! several system calls, as they do for a program that uses these.

use super::os;
use super::system::{Endpoint, Link, System};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

/// A `SOCK_STREAM` socket pair (`socketpair(AF_UNIX)`).
pub const UNIX_SOCKET: System = System {
    system: "unix-socket",
    mode: "block",
    prepare: Some(socket_pair),
    listen: socket_listen,
    connect: socket_connect,
};

/// Two pipes (`pipe2`), one per direction.
pub const PIPE: System = System {
    system: "pipe",
    mode: "block",
    prepare: Some(pipes),
    listen: pipe_listen,
    connect: pipe_connect,
};

fn socket_pair(_: &Link) -> io::Result<Vec<OwnedFd>> {
    let (a, b) = UnixStream::pair()?;
    Ok(vec![a.into(), b.into()])
}

fn socket_listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    socket_end(link, 1)
}

fn socket_connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    socket_end(link, 0)
}

fn socket_end(link: &mut Link, i: usize) -> io::Result<Box<dyn Endpoint>> {
    let s = UnixStream::from(link.take_fd(i)?);
    let rx = s.try_clone()?;
    Ok(Box::new(ByteStream::new(rx, s, link.max_message)))
}

/// [read end, write end] of the connecting end's pipe, then of the listening end's.
fn pipes(_: &Link) -> io::Result<Vec<OwnedFd>> {
    let (ra, wa) = os::pipe()?;
    let (rb, wb) = os::pipe()?;
    Ok(vec![ra, wa, rb, wb])
}

fn pipe_listen(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let rx = File::from(link.take_fd(0)?);
    let tx = File::from(link.take_fd(3)?);
    Ok(Box::new(ByteStream::new(rx, tx, link.max_message)))
}

fn pipe_connect(link: &mut Link) -> io::Result<Box<dyn Endpoint>> {
    let rx = File::from(link.take_fd(2)?);
    let tx = File::from(link.take_fd(1)?);
    Ok(Box::new(ByteStream::new(rx, tx, link.max_message)))
}

struct ByteStream<R, W> {
    rx: R,
    tx: W,
    buf: Vec<u8>,
}

impl<R: Read, W: Write> ByteStream<R, W> {
    fn new(rx: R, tx: W, max_message: usize) -> ByteStream<R, W> {
        ByteStream {
            rx,
            tx,
            buf: vec![0; max_message],
        }
    }
}

fn room(buf: &mut [u8], len: usize) -> io::Result<&mut [u8]> {
    let max = buf.len();
    buf.get_mut(..len).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a {len}-byte message exceeds the {max}-byte buffer"),
        )
    })
}

impl<R: Read, W: Write> Endpoint for ByteStream<R, W> {
    fn send(&mut self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> io::Result<()> {
        let buf = room(&mut self.buf, len)?;
        fill(buf);
        self.tx.write_all(buf)
    }

    fn recv(&mut self, len: usize, read: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let buf = room(&mut self.buf, len)?;
        self.rx.read_exact(buf)?;
        read(buf);
        Ok(())
    }
}
