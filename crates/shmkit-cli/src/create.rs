//! `create`, and holding an object for as long as the command runs.

use crate::channel::{self, Shape};
use crate::objects::printable;
use crate::os::{self, Interrupts};
use crate::units::format_size;
use crate::usage;
use anyhow::Result;
use shmkit::{quoted, Kind, Mapping, Name};
use std::io;
use std::sync::mpsc;

/// The kinds of object `create` makes, in the library's spelling.
pub const KINDS: [Kind; 5] = [
    Kind::Mapping,
    Kind::Mutex,
    Kind::Event,
    Kind::Semaphore,
    Kind::Channel,
];

/// `--kind`'s parser: one of [`KINDS`], spelled as the library spells it.
pub fn parse_kind(s: &str) -> std::result::Result<Kind, String> {
    Kind::parse(s).filter(|k| KINDS.contains(k)).ok_or_else(|| {
        let names: Vec<&str> = KINDS.iter().map(|k| k.as_str()).collect();
        format!(
            "not a kind of object this command creates (one of: {})",
            names.join(", ")
        )
    })
}

pub fn create(
    name: &Name,
    kind: Kind,
    size: Option<u64>,
    persistent: bool,
    hold: bool,
    mode: u32,
    shape: Shape,
) -> Result<()> {
    // Shown as `ls` shows names: control characters escaped, never printed raw.
    let full = printable(&name.full()).into_owned();
    let shaped =
        shape.capacity.is_some() || shape.max_message.is_some() || shape.producers.is_some();
    if shaped && kind != Kind::Channel {
        usage!("--capacity, --max-message and --producers are for channels; a {kind} has none");
    }
    if kind == Kind::Channel && size.is_some() {
        usage!("--size is for mappings; a channel's ring has a --capacity");
    }
    if let (Some(c), Some(m)) = (shape.capacity, shape.max_message) {
        if m > c {
            usage!("--max-message ({m} bytes) may not be more than --capacity ({c} bytes)");
        }
    }
    match (kind, size) {
        (Kind::Mapping, None) => usage!("creating a mapping needs --size"),
        (Kind::Mapping, Some(_)) => {}
        (_, Some(_)) => usage!("--size is for mappings; a {kind} has no size"),
        (_, None) if persistent => {
            usage!("--persistent is for mappings; a {kind} goes with its last handle (add --hold)")
        }
        (_, None) => {}
    }
    if !persistent && !hold {
        usage!(
            "not creating {}: a non-persistent object goes with its last handle, so it \
             would vanish as soon as this command exits; add --hold to keep it while the \
             command runs{}",
            quoted(&full),
            if kind == Kind::Mapping {
                ", or --persistent to keep it until `shmkit rm`"
            } else {
                ""
            }
        );
    }
    // Catch the signals (console control events on Windows) before the object exists,
    // so that none can end the process between creating and holding it.
    let interrupts = if hold {
        Some(Interrupts::catch()?)
    } else {
        None
    };
    let mut sync = shmkit::SyncOptions::new();
    sync.name(name.as_str()).permissions(mode).exclusive(true);
    // The handle, held (not used) until the command is released.
    let held: Box<dyn std::any::Any> = match kind {
        Kind::Mapping => {
            let size = size.unwrap_or_default();
            let mapping = Mapping::options()
                .name(name.as_str())
                .size(size)
                .permissions(mode)
                .persistent(persistent)
                .create_new()?;
            eprintln!(
                "shmkit: created {full} ({}, mode {mode:04o}, {})",
                format_size(size),
                if persistent {
                    "persistent until `shmkit rm`"
                } else {
                    "goes with its last handle"
                }
            );
            Box::new(mapping)
        }
        Kind::Mutex => Box::new(sync.create_mutex(false)?),
        Kind::Event => Box::new(sync.create_event(shmkit::EventReset::Auto, false)?),
        Kind::Semaphore => Box::new(sync.create_semaphore(0, 1)?),
        // Says what it made itself: a channel has a shape to tell.
        Kind::Channel => channel::hold(name, shape, mode)?,
        other => {
            usage!("cannot create a {other} (kinds: mapping, mutex, event, semaphore, channel)")
        }
    };
    if kind != Kind::Mapping && kind != Kind::Channel {
        eprintln!(
            "shmkit: created {} {full} (mode {mode:04o}, goes with its last handle)",
            kind
        );
    }
    let Some(interrupts) = interrupts else {
        return Ok(());
    };
    let watch_stdin = os::stdin_can_close();
    eprintln!(
        "shmkit: holding {full} in pid {}; release it with {}{}",
        std::process::id(),
        if watch_stdin {
            format!("end of input ({}), ", os::STDIN_EOF)
        } else {
            String::new()
        },
        os::INTERRUPTS
    );
    let why = wait_for_release(interrupts, watch_stdin);
    drop(held);
    eprintln!("shmkit: released {full} ({why})");
    Ok(())
}

/// Waits for an interrupt, or for stdin to close when `watch_stdin`; says which.
fn wait_for_release(interrupts: Interrupts, watch_stdin: bool) -> String {
    let (tx, rx) = mpsc::channel::<String>();
    let forwarding = interrupts.forward(tx.clone());
    if watch_stdin {
        let on_eof = tx.clone();
        std::thread::spawn(move || {
            let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
            let _ = on_eof.send("stdin closed".to_owned());
        });
    }
    let why = rx.recv().unwrap_or_else(|_| "interrupted".to_owned());
    drop(forwarding);
    why
}
