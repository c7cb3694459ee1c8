//! `read`, `write` and `watch`: moving bytes in and out of an object.
//!
//! Bytes move in blocks of [`CHUNK`] through one view of the range, with the bounds
//! checked copies of [`View`], so a gigabyte moves at memory speed.

use crate::hexdump::{self, Dumper, Marks};
use crate::objects::printable;
use crate::os::{self, Stdio};
use crate::units::format_size;
use crate::usage;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shmkit::{quoted, Access, Mapping, Name, View, GRANULARITY};
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The block size of every copy.
const CHUNK: usize = 1 << 20;

/// The size of the next block when `left` bytes remain.
fn block(left: u64) -> usize {
    left.min(CHUNK as u64) as usize
}

/// Transfers at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_FROM: u64 = 16 << 20;

/// A view of `len` bytes at `offset` (any offset): maps the enclosing range from the
/// 64 KiB boundary below `offset`; returns the view and where `offset` lies in it.
fn window(m: &Mapping, offset: u64, len: u64, access: Access) -> Result<(View, usize)> {
    let start = offset - offset % GRANULARITY;
    let view_len = usize::try_from(offset + len - start)
        .context("the range is too large for this address space")?;
    let view = m.map_range(start, view_len, access)?;
    Ok((view, (offset - start) as usize))
}

/// Checks `offset` (and `len`) against the object's size: a usage error otherwise.
fn check_range(name: &str, size: u64, offset: u64, len: Option<u64>) -> Result<u64> {
    if offset >= size {
        usage!(
            "offset {offset} is past the end of {}, which has {size} bytes \
             (offsets run from 0 to {})",
            quoted(name),
            size - 1
        );
    }
    let room = size - offset;
    match len {
        Some(len) if len > room => usage!(
            "cannot use {len} bytes at offset {offset} of {}: it has {size} bytes, \
             so at most {room} from there",
            quoted(name)
        ),
        Some(len) => Ok(len),
        None => Ok(room),
    }
}

/// A progress bar on stderr, only for large transfers and only on a terminal.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(total: u64, verb: &str) -> Progress {
        if total < PROGRESS_FROM || !io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
        ) {
            bar.set_style(style);
        }
        bar.set_message(verb.to_owned());
        Progress(Some(bar))
    }

    fn inc(&self, n: usize) {
        if let Some(bar) = &self.0 {
            bar.inc(n as u64);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how much it read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match input.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

pub fn read(name: &Name, offset: u64, len: Option<u64>, hex: bool) -> Result<()> {
    let full = name.full();
    let m = Mapping::open(name.as_str(), Access::Read)?;
    let len = check_range(&full, m.size(), offset, len)?;
    if len == 0 {
        return Ok(());
    }
    let (view, at) = window(&m, offset, len, Access::Read)?;
    let progress = Progress::new(len, "reading");
    let mut buf = vec![0u8; block(len)];
    let stdout = io::stdout();
    if hex {
        let mut dump = Dumper::new(io::BufWriter::with_capacity(CHUNK, stdout.lock()), offset);
        stream_out(&view, at, len, &mut buf, &progress, |b| dump.feed(b))?;
        dump.finish()?;
    } else {
        // Raw bytes go straight to the descriptor: stdout's line buffering would cut a
        // binary stream at every newline byte.
        let mut out = os::file(Stdio::Out)?;
        stream_out(&view, at, len, &mut buf, &progress, |b| out.write_all(b))?;
    }
    Ok(())
}

fn stream_out(
    view: &View,
    at: usize,
    len: u64,
    buf: &mut [u8],
    progress: &Progress,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> Result<()> {
    let mut done = 0usize;
    let len = len as usize; // fits: the view has this many bytes
    while done < len {
        let n = buf.len().min(len - done);
        view.read(at + done, &mut buf[..n])?;
        sink(&buf[..n])?;
        done += n;
        progress.inc(n);
    }
    Ok(())
}

/// Where `write` takes its bytes from, and how many there are when that is known.
struct Input {
    reader: File,
    label: String,
    /// Bytes left in a regular file (from the current position); `None` for a pipe,
    /// a terminal or a device.
    known: Option<u64>,
}

fn open_input(file: Option<&Path>) -> Result<Input> {
    let (reader, label) = match file {
        Some(p) if p != Path::new("-") => {
            let f = File::open(p).with_context(|| format!("cannot open input {}", p.display()))?;
            (f, p.display().to_string())
        }
        _ => {
            let stdin = os::file(Stdio::In).context("cannot use stdin")?;
            (stdin, "stdin".to_owned())
        }
    };
    let known = os::known_length(&reader, &label)?;
    Ok(Input {
        reader,
        label,
        known,
    })
}

pub fn write(name: &Name, offset: u64, file: Option<&Path>) -> Result<()> {
    let full = name.full();
    let m = Mapping::open(name.as_str(), Access::ReadWrite)?;
    let size = m.size();
    let room = check_range(&full, size, offset, None)?;
    let mut input = open_input(file)?;
    let label = input.label.clone();
    let too_long = |len: String| {
        anyhow::anyhow!(
            "cannot write {len} bytes from {label} at offset {offset} of {}: it has \
             {size} bytes, so only {room} fit from there; nothing was written",
            quoted(&full)
        )
    };
    let written = match input.known {
        Some(len) if len > room => return Err(too_long(len.to_string())),
        Some(0) => 0,
        Some(len) => {
            let (view, at) = window(&m, offset, len, Access::ReadWrite)?;
            let progress = Progress::new(len, "writing");
            let mut buf = vec![0u8; block(len)];
            let mut done = 0u64;
            while done < len {
                let want = block(len - done);
                let n = read_full(&mut input.reader, &mut buf[..want])
                    .with_context(|| format!("cannot read {}", input.label))?;
                if n == 0 {
                    eprintln!(
                        "shmkit: warning: {} ended after {done} of the {len} bytes it had",
                        input.label
                    );
                    break;
                }
                view.write(at + done as usize, &buf[..n])?;
                done += n as u64;
                progress.inc(n);
            }
            done
        }
        None => {
            // Unknown length: take at most one byte more than fits, so that an input
            // that is too long is refused before the object changes.
            let chunks = slurp(&mut input.reader, room.saturating_add(1))
                .with_context(|| format!("cannot read {}", input.label))?;
            let len: u64 = chunks.iter().map(|c| c.len() as u64).sum();
            if len > room {
                return Err(too_long(format!("more than {room}")));
            }
            if len > 0 {
                let (view, at) = window(&m, offset, len, Access::ReadWrite)?;
                let mut done = at;
                for c in &chunks {
                    view.write(done, c)?;
                    done += c.len();
                }
            }
            len
        }
    };
    if io::stderr().is_terminal() {
        eprintln!("shmkit: wrote {written} bytes to {full} at offset {offset}");
    }
    Ok(())
}

/// Reads up to `limit` bytes into blocks of [`CHUNK`] (no reallocation, no copy).
fn slurp(input: &mut impl Read, limit: u64) -> io::Result<Vec<Vec<u8>>> {
    let mut chunks = Vec::new();
    let mut total = 0u64;
    let show = io::stderr().is_terminal();
    let mut spinner: Option<ProgressBar> = None;
    while total < limit {
        let want = block(limit - total);
        let mut c = vec![0u8; want];
        let n = read_full(input, &mut c)?;
        c.truncate(n);
        total += n as u64;
        if n > 0 {
            chunks.push(c);
        }
        if show && total >= PROGRESS_FROM {
            let bar = spinner.get_or_insert_with(|| {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg} {spinner} {binary_bytes} {binary_bytes_per_sec}",
                ) {
                    bar.set_style(style);
                }
                bar.set_message("reading input");
                bar
            });
            bar.set_position(total);
        }
        if n < want {
            break; // end of input
        }
    }
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    Ok(chunks)
}

fn changes(n: usize) -> String {
    match n {
        1 => "1 byte changed".to_owned(),
        n => format!("{n} bytes changed"),
    }
}

pub fn watch(name: &Name, offset: u64, len: Option<u64>, interval_ms: u64) -> Result<()> {
    let full = name.full();
    let m = Mapping::open(name.as_str(), Access::Read)?;
    let size = m.size();
    let len = match len {
        Some(0) => usage!("--len must be at least 1 byte"),
        Some(len) => check_range(&full, size, offset, Some(len))?,
        None => check_range(&full, size, offset, None)?.min(256),
    };
    let len = usize::try_from(len).context("the range is too large to watch")?;
    let (view, at) = window(&m, offset, len as u64, Access::Read)?;

    // The first SIGINT or SIGTERM (Ctrl-C or Ctrl-Break on Windows) ends the loop
    // cleanly; a second one, should the loop be stuck writing to a reader that does not
    // read, ends the process.
    let stop = os::Stop::install()?;
    let tty = io::stdout().is_terminal();
    if tty {
        os::enable_escapes();
    }
    let marks = if tty { Marks::Reverse } else { Marks::Star };
    let interval = Duration::from_millis(interval_ms);
    let started = Instant::now();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut previous: Option<Vec<u8>> = None;
    let mut current = vec![0u8; len];
    let mut frame = 0u64;
    let title = format!(
        "{}: {len} bytes at offset {offset} of {}, every {interval_ms} ms",
        printable(&full),
        format_size(size)
    );
    while !stop.requested() {
        view.read(at, &mut current)?;
        let changed: Vec<bool> = match &previous {
            Some(p) => p.iter().zip(&current).map(|(a, b)| a != b).collect(),
            None => vec![false; len],
        };
        let n_changed = changed.iter().filter(|c| **c).count();
        if tty {
            // Home, then overwrite in place: no flicker; clear what is left below.
            write!(out, "\x1b[H{title}; Ctrl-C to quit\x1b[K\n\x1b[K\n")?;
            for (i, row) in current.chunks(hexdump::WIDTH).enumerate() {
                let from = i * hexdump::WIDTH;
                let line = hexdump::line(offset + from as u64, row, &changed[from..], marks);
                writeln!(out, "{line}\x1b[K")?;
            }
            write!(
                out,
                "\x1b[K\n{} since the last frame\x1b[J",
                changes(n_changed)
            )?;
            out.flush()?;
        } else if previous.is_none() || n_changed > 0 {
            frame += 1;
            writeln!(
                out,
                "--- frame {frame} at +{:.1}s: {title}; {}",
                started.elapsed().as_secs_f64(),
                changes(n_changed)
            )?;
            for (i, row) in current.chunks(hexdump::WIDTH).enumerate() {
                let from = i * hexdump::WIDTH;
                writeln!(
                    out,
                    "{}",
                    hexdump::line(offset + from as u64, row, &changed[from..], marks)
                )?;
            }
            out.flush()?;
        }
        previous = Some(current.clone());
        let deadline = Instant::now() + interval;
        while !stop.requested() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
        }
    }
    if tty {
        writeln!(out, "\x1b[0m")?;
    }
    out.flush()?;
    Ok(())
}
