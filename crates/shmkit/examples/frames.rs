//! A producer process streams frames to a consumer, written and read in place.
//!
//! The consumer creates the channel `Local\frames` (an 8 MiB ring) and starts the
//! producer (this same program, run with `--producer`). The producer writes each frame
//! straight into the ring with `Sender::loan` — a 32-byte header (a tag, the frame's
//! index, its length and a checksum of its payload), then the payload — and sends it with
//! `Loan::commit`. The consumer checks every frame where it lies (the tag, that the
//! indices follow each other, the length, the checksum), and prints the rate in frames
//! per second and gigabytes per second.
//!
//! Run it with (500 frames of 1 MiB by default):
//!
//! ```text
//! cargo run --release -p shmkit --example frames [FRAMES [FRAME_BYTES]]
//! ```
//!
//! Set `SHMKIT_EXAMPLE_SUFFIX` to append `-<suffix>` to the channel's name.

mod support;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = support::object_name(r"Local\frames");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| -> Result<usize, String> {
        match args.get(i) {
            None => Ok(default),
            Some(s) => s
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("expected a positive number, got {s:?}")),
        }
    };
    if args.first().map(String::as_str) == Some("--producer") {
        return imp::producer(&name, number(1, 0)?, number(2, 0)?);
    }
    imp::consumer(&name, number(0, 500)?, number(1, 1 << 20)?)
}

mod imp {
    use shmkit::channel::{Receiver, Sender};
    use std::error::Error;
    use std::process::Command;
    use std::time::Instant;

    /// The ring's size.
    const RING: usize = 8 << 20;
    /// The frame header: tag, index, payload length, checksum (8 bytes each).
    const HEADER: usize = 32;
    const TAG: u64 = u64::from_le_bytes(*b"FRAME\0\0\x01");

    /// Fills `payload` with frame `index`'s pattern (xorshift words), returns its checksum.
    fn fill(payload: &mut [u8], index: u64) -> u64 {
        let mut x = index.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut words = payload.chunks_exact_mut(8);
        for w in &mut words {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w.copy_from_slice(&x.to_le_bytes());
        }
        let rest = words.into_remainder();
        let n = rest.len();
        rest.copy_from_slice(&x.to_le_bytes()[..n]);
        checksum(payload)
    }

    /// A checksum of every byte (FNV-1a over 8-byte words, then the tail).
    fn checksum(bytes: &[u8]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            h = (h ^ u64::from_le_bytes(w.try_into().expect("8 bytes")))
                .wrapping_mul(0x0100_0000_01b3);
        }
        for &b in words.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    }

    fn word(bytes: &[u8], i: usize) -> u64 {
        u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"))
    }

    fn size(n: usize) -> String {
        match n {
            n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
            n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
            n => format!("{n} bytes"),
        }
    }

    pub fn consumer(name: &str, frames: usize, payload: usize) -> Result<(), Box<dyn Error>> {
        let mut rx = Receiver::options()
            .name(name)
            .capacity(RING.max(4 * (HEADER + payload)))
            .max_message(HEADER + payload)
            .receiver()?;
        println!(
            "[consumer] created {name} (ring {}); starting the producer",
            size(rx.capacity())
        );
        let mut producer = Command::new(std::env::current_exe()?)
            .args(["--producer", &frames.to_string(), &payload.to_string()])
            .spawn()?;

        let mut start = None;
        for i in 0..frames as u64 {
            let frame = rx.recv()?;
            // The clock starts at the first frame: the producer's start-up is not streaming.
            start.get_or_insert_with(Instant::now);
            let bad = |why: &str| format!("[consumer] frame {i}: {why}");
            if frame.len() < HEADER || word(&frame, 0) != TAG {
                return Err(bad("not a frame").into());
            }
            if word(&frame, 1) != i {
                return Err(bad(&format!("got frame {} instead", word(&frame, 1))).into());
            }
            let body = &frame[HEADER..];
            if word(&frame, 2) != body.len() as u64 || body.len() != payload {
                return Err(bad("wrong length").into());
            }
            if checksum(body) != word(&frame, 3) {
                return Err(bad("wrong checksum").into());
            }
        }
        let secs = start.map_or(0.0, |s| s.elapsed().as_secs_f64()).max(1e-9);
        let status = producer.wait()?;
        if !status.success() {
            return Err(format!("[consumer] the producer failed ({status})").into());
        }
        // The first frame started the clock: the others are the ones timed.
        let timed = frames.saturating_sub(1).max(1) as f64;
        println!(
            "[consumer] received {frames} frames of {}, every one verified: {:.0} frames/s, \
             {:.2} GB/s",
            size(payload),
            timed / secs,
            timed * (HEADER + payload) as f64 / secs / 1e9
        );
        println!("[consumer] the producer (pid {}) has exited", producer.id());
        Ok(())
    }

    pub fn producer(name: &str, frames: usize, payload: usize) -> Result<(), Box<dyn Error>> {
        let mut tx = Sender::open(name)?;
        println!(
            "[producer] opened {name}; streaming {frames} frames of {}",
            size(payload)
        );
        for i in 0..frames as u64 {
            let mut loan = tx.loan(HEADER + payload)?;
            let sum = fill(&mut loan[HEADER..], i);
            for (k, w) in [TAG, i, payload as u64, sum].into_iter().enumerate() {
                loan[8 * k..8 * k + 8].copy_from_slice(&w.to_le_bytes());
            }
            loan.commit();
        }
        println!("[producer] sent {frames} frames");
        Ok(())
    }
}
