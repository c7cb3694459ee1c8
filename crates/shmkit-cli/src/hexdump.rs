//! Hexdumps in the layout of `hexdump -C`: offset, 16 bytes in hex, the ASCII column.

use std::io::{self, Write};

/// Bytes per line.
pub const WIDTH: usize = 16;

/// How a line marks the bytes that changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marks {
    /// No marks.
    None,
    /// ANSI reverse video, for terminals.
    Reverse,
    /// A `*` right after each changed byte's hex digits, for logs and pipes.
    Star,
}

const REVERSE: &str = "\x1b[7m";
const RESET: &str = "\x1b[0m";

/// One line of at most [`WIDTH`] bytes at `offset`; `changed[i]` (when present) marks
/// byte `i`.
pub fn line(offset: u64, bytes: &[u8], changed: &[bool], marks: Marks) -> String {
    let marked = |i: usize| marks != Marks::None && changed.get(i).copied().unwrap_or(false);
    let mut s = format!("{offset:08x}  ");
    for i in 0..WIDTH {
        match bytes.get(i) {
            Some(b) if marked(i) && marks == Marks::Reverse => {
                s.push_str(&format!("{REVERSE}{b:02x}{RESET} "));
            }
            Some(b) if marked(i) => s.push_str(&format!("{b:02x}*")),
            Some(b) => s.push_str(&format!("{b:02x} ")),
            None => s.push_str("   "),
        }
        if i == 7 {
            s.push(' ');
        }
    }
    s.push_str(" |");
    for (i, &b) in bytes.iter().enumerate().take(WIDTH) {
        let c = if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            '.'
        };
        if marked(i) && marks == Marks::Reverse {
            s.push_str(REVERSE);
            s.push(c);
            s.push_str(RESET);
        } else {
            s.push(c);
        }
    }
    s.push('|');
    s
}

/// A streaming `hexdump -C`: a run of identical lines prints as one `*`, and the dump
/// ends with the offset just past the last byte.
pub struct Dumper<W: Write> {
    out: W,
    offset: u64,
    pending: Vec<u8>,
    previous: Option<Vec<u8>>,
    starred: bool,
}

impl<W: Write> Dumper<W> {
    /// A dump whose first byte is at `start`.
    pub fn new(out: W, start: u64) -> Self {
        Dumper {
            out,
            offset: start,
            pending: Vec::with_capacity(WIDTH),
            previous: None,
            starred: false,
        }
    }

    /// Dumps the next bytes.
    pub fn feed(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let take = (WIDTH - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == WIDTH {
                self.emit()?;
            }
        }
        Ok(())
    }

    fn emit(&mut self) -> io::Result<()> {
        let full = self.pending.len() == WIDTH;
        if full && self.previous.as_deref() == Some(&self.pending[..]) {
            if !self.starred {
                writeln!(self.out, "*")?;
                self.starred = true;
            }
        } else {
            writeln!(
                self.out,
                "{}",
                line(self.offset, &self.pending, &[], Marks::None)
            )?;
            self.starred = false;
        }
        self.offset += self.pending.len() as u64;
        self.previous = Some(std::mem::take(&mut self.pending));
        Ok(())
    }

    /// Dumps the last partial line and the end offset; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.pending.is_empty() {
            self.emit()?;
        }
        if self.previous.is_some() {
            writeln!(self.out, "{:08x}", self.offset)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(start: u64, data: &[u8], chunk: usize) -> String {
        let mut d = Dumper::new(Vec::new(), start);
        for c in data.chunks(chunk.max(1)) {
            d.feed(c).unwrap();
        }
        String::from_utf8(d.finish().unwrap()).unwrap()
    }

    #[test]
    fn layout_of_hexdump_c() {
        let out = dump(0, b"Hello, shared memory!\n\0\x01\x7f", 5);
        assert_eq!(
            out,
            "00000000  48 65 6c 6c 6f 2c 20 73  68 61 72 65 64 20 6d 65  |Hello, shared me|\n\
             00000010  6d 6f 72 79 21 0a 00 01  7f                       |mory!....|\n\
             00000019\n"
        );
    }

    #[test]
    fn repeated_lines_collapse_whatever_the_chunking() {
        let mut data = vec![0u8; 64];
        data.extend_from_slice(b"x");
        let expected =
            "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n\
                        *\n\
                        00000040  78                                                |x|\n\
                        00000041\n";
        for chunk in [1, 3, 16, 17, 100] {
            assert_eq!(dump(0, &data, chunk), expected, "chunk {chunk}");
        }
    }

    #[test]
    fn offsets_are_absolute() {
        let out = dump(0x10000, b"ab", 2);
        assert!(out.starts_with("00010000  61 62 "), "{out}");
        assert!(out.ends_with("|ab|\n00010002\n"), "{out}");
        assert_eq!(dump(0, b"", 1), "");
    }

    #[test]
    fn marks() {
        let bytes = b"ABCD";
        let changed = [false, true, false, false];
        let star = line(0, bytes, &changed, Marks::Star);
        assert!(star.starts_with("00000000  41 42*43 44 "), "{star}");
        let rev = line(0, bytes, &changed, Marks::Reverse);
        assert!(rev.contains("\x1b[7m42\x1b[0m"), "{rev}");
        assert!(rev.ends_with("|A\x1b[7mB\x1b[0mCD|"), "{rev}");
        // Marked and unmarked lines have the same width.
        assert_eq!(star.len(), line(0, bytes, &[], Marks::None).len());
    }
}
