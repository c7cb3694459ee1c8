//! `create --kind channel`, `send` and `recv`: channels from the command line.
//!
//! A channel made by `create --kind channel --hold` is held by a sender of its own that
//! never sends: it keeps the channel (an end is the only handle a channel has) and keeps
//! receivers waiting, rather than disconnected, between `send` commands. So the channel
//! gets one sender place more than `--producers` asks for.
//!
//! `recv` prints each message followed by a newline, raw (a message with a newline in it
//! is ambiguous: use `--hex`) or as lowercase hex digits with `--hex`.

use crate::objects::printable;
use shmkit::Name;

/// What `create --kind channel` was asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    /// The ring's size in bytes (default: the library's, 64 KiB).
    pub capacity: Option<u64>,
    /// The largest message (default: a quarter of the capacity).
    pub max_message: Option<u64>,
    /// Sender places for other processes (default 1); the holder takes one more.
    pub producers: Option<u32>,
}

/// `recv`'s output framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The message's bytes, then `\n`.
    Raw,
    /// The message's bytes as lowercase hex digits, then `\n`.
    Hex,
}

fn full(name: &Name) -> String {
    printable(&name.full()).into_owned()
}

pub use imp::{hold, recv, send};

mod imp {
    use super::{full, Framing, Shape};
    use crate::os::{self, Stdio};
    use crate::units::format_size;
    use crate::TimedOut;
    use anyhow::{Context, Result};
    use shmkit::channel::{Receiver, Sender};
    use shmkit::{quoted, ErrorKind, Kind, Name};
    use std::fs::File;
    use std::io::{self, BufRead, BufReader, Read, Write};
    use std::path::Path;
    use std::time::{Duration, Instant};

    /// Creates the channel and attaches the holder's sender, which keeps it.
    pub fn hold(name: &Name, shape: Shape, mode: u32) -> Result<Box<dyn std::any::Any>> {
        let shown = full(name);
        // Attaching to someone else's channel would change it (a sender attached once):
        // look before making it. The library still says if the name holds another kind.
        if let Ok(o) = shmkit::inspect::info(name.as_str()) {
            if o.kind == Some(Kind::Channel) {
                anyhow::bail!("cannot create {}: it already exists", quoted(&o.name));
            }
        }
        let producers = shape.producers.unwrap_or(1) + 1;
        let mut options = Sender::options();
        options
            .name(name.as_str())
            .producers(producers as usize)
            .permissions(mode);
        if let Some(c) = shape.capacity {
            options.capacity(usize::try_from(c).unwrap_or(usize::MAX));
        }
        if let Some(m) = shape.max_message {
            options.max_message(usize::try_from(m).unwrap_or(usize::MAX));
        }
        let tx = options.sender()?;
        if tx.already_existed() {
            anyhow::bail!("cannot create {}: it already exists", quoted(&shown));
        }
        eprintln!(
            "shmkit: created channel {shown} (ring {}, messages up to {}, {} sender place{} \
             and the holder's, mode {mode:04o}, goes with its last handle)",
            format_size(tx.capacity() as u64),
            format_size(tx.max_message() as u64),
            producers - 1,
            if producers == 2 { "" } else { "s" },
        );
        Ok(Box::new(tx))
    }

    /// How long is left before `deadline` (`None`: no deadline).
    fn left(deadline: Option<Instant>) -> Option<Duration> {
        deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    fn send_one(tx: &mut Sender, msg: &[u8], deadline: Option<Instant>) -> Result<()> {
        let sent = match left(deadline) {
            None => tx.send(msg),
            Some(t) => tx.send_timeout(msg, t),
        };
        Ok(sent?)
    }

    pub fn send(
        name: &Name,
        message: Option<&str>,
        file: Option<&Path>,
        lines: bool,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut tx = Sender::open(name.as_str())?;
        if let Some(m) = message {
            return send_one(&mut tx, m.as_bytes(), deadline);
        }
        let input: Box<dyn Read> = match file {
            Some(p) if p != Path::new("-") => Box::new(
                File::open(p).with_context(|| format!("cannot open input {}", p.display()))?,
            ),
            _ => Box::new(os::file(Stdio::In).context("cannot read stdin")?),
        };
        let mut input = BufReader::new(input);
        if !lines {
            // At most one byte more than fits: enough for the library to refuse it.
            let mut msg = Vec::new();
            input
                .take(tx.max_message() as u64 + 1)
                .read_to_end(&mut msg)
                .context("cannot read the message")?;
            return send_one(&mut tx, &msg, deadline);
        }
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = input
                .read_until(b'\n', &mut line)
                .context("cannot read the messages")?;
            if n == 0 {
                return Ok(());
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            send_one(&mut tx, &line, deadline)?;
        }
    }

    pub fn recv(
        name: &Name,
        count: u64,
        timeout: Option<Duration>,
        framing: Framing,
    ) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut rx = Receiver::open(name.as_str())?;
        let mut out = io::BufWriter::new(os::file(Stdio::Out).context("cannot write stdout")?);
        let mut got = 0u64;
        while count == 0 || got < count {
            let msg = match left(deadline) {
                None => rx.recv().map(Some),
                Some(t) => rx.recv_timeout(t),
            };
            let msg = match msg {
                Ok(Some(m)) => m,
                // Without a count, the senders going (or the time running out) is the end.
                Err(e) if count == 0 && e.kind() == ErrorKind::Disconnected => break,
                Ok(None) if count == 0 => break,
                Err(e) => {
                    out.flush()?;
                    return Err(e.into());
                }
                Ok(None) => {
                    out.flush()?;
                    return Err(anyhow::Error::new(TimedOut(format!(
                        "receiving on channel {}: no message within {:?} (received {got} of \
                         {count})",
                        quoted(&full(name)),
                        timeout.unwrap_or_default()
                    ))));
                }
            };
            match framing {
                Framing::Raw => out.write_all(&msg)?,
                Framing::Hex => {
                    let hex: String = msg.iter().map(|b| format!("{b:02x}")).collect();
                    out.write_all(hex.as_bytes())?;
                }
            }
            drop(msg);
            out.write_all(b"\n")?;
            out.flush()?;
            got += 1;
        }
        out.flush()?;
        Ok(())
    }
}
