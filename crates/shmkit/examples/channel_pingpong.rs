//! Ping-pong between two processes over two channels, timing each round trip.
//!
//! The parent creates the channels `Local\ping` (it sends) and `Local\pong` (it
//! receives), and starts the peer (this same program, run with `--peer`), which opens
//! them by name and sends back every message it gets. The parent sends ROUNDS 8-byte
//! messages one at a time, waits for each to come back, and prints the median round-trip
//! time. When the parent closes its sender, the peer's receive fails with
//! `Disconnected` and it exits; the channels go with their last ends.
//!
//! Run it with (ROUNDS is 10000 by default):
//!
//! ```text
//! cargo run -p shmkit --example channel_pingpong [ROUNDS]
//! ```
//!
//! Build it with `--release` for the timings that matter. Set `SHMKIT_EXAMPLE_SUFFIX` to
//! append `-<suffix>` to the channels' names.

mod support;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ping = support::object_name(r"Local\ping");
    let pong = support::object_name(r"Local\pong");
    match std::env::args().nth(1).as_deref() {
        Some("--peer") => imp::peer(&ping, &pong),
        None => imp::parent(&ping, &pong, 10_000),
        Some(n) => match n.parse() {
            Ok(rounds) if rounds > 0 => imp::parent(&ping, &pong, rounds),
            _ => Err(format!("expected a number of rounds, or none; got {n:?}").into()),
        },
    }
}

mod imp {
    use shmkit::channel::{Receiver, Sender};
    use shmkit::ErrorKind;
    use std::error::Error;
    use std::process::Command;
    use std::time::{Duration, Instant};

    pub fn parent(ping: &str, pong: &str, rounds: usize) -> Result<(), Box<dyn Error>> {
        let mut tx = Sender::create(ping, 4096)?;
        let mut rx = Receiver::create(pong, 4096)?;
        println!("[parent] created {ping} and {pong}; starting the peer");
        let mut peer = Command::new(std::env::current_exe()?)
            .arg("--peer")
            .spawn()?;

        let mut times = Vec::with_capacity(rounds);
        for i in 0..rounds as u64 {
            let start = Instant::now();
            tx.send(&i.to_le_bytes())?;
            let back = rx.recv()?;
            times.push(start.elapsed());
            if *back != i.to_le_bytes() {
                return Err(format!("[parent] round {i} came back as {:?}", &*back).into());
            }
        }
        // The peer's receive fails with Disconnected: its cue to exit.
        drop(tx);
        let status = peer.wait()?;
        if !status.success() {
            return Err(format!("[parent] the peer failed ({status})").into());
        }
        times.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "[parent] {rounds} round trips of 8 bytes: median {:.1} µs (fastest {:.1} µs, \
             slowest {:.1} µs)",
            us(times[times.len() / 2]),
            us(times[0]),
            us(times[times.len() - 1])
        );
        println!("[parent] the peer (pid {}) has exited", peer.id());
        Ok(())
    }

    pub fn peer(ping: &str, pong: &str) -> Result<(), Box<dyn Error>> {
        let mut rx = Receiver::open(ping)?;
        let mut tx = Sender::open(pong)?;
        println!("[peer] opened {ping} and {pong}");
        let mut echoed = 0u64;
        loop {
            let msg = match rx.recv() {
                Ok(msg) => msg,
                Err(e) if e.kind() == ErrorKind::Disconnected => break,
                Err(e) => return Err(e.into()),
            };
            tx.send(&msg)?;
            echoed += 1;
        }
        println!("[peer] sent back {echoed} messages; the parent closed {ping}");
        Ok(())
    }
}
