//! `create`, and holding an object for as long as the command runs.

use crate::objects::quoted;
use crate::units::format_size;
use crate::usage;
use anyhow::{Context, Result};
use shmkit::{Mapping, Name};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io::{self, IsTerminal};
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;
use std::sync::mpsc;

/// The kinds of object `create` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Mapping,
    Mutex,
    Event,
    Semaphore,
}

pub fn create(
    name: &Name,
    kind: Kind,
    size: Option<u64>,
    persistent: bool,
    hold: bool,
    mode: u32,
) -> Result<()> {
    let full = name.full();
    match (kind, size) {
        (Kind::Mapping, None) => usage!("creating a mapping needs --size"),
        (Kind::Mapping, Some(_)) => {}
        (_, Some(_)) => usage!("--size is for mappings; a {kind:?} has no size"),
        (_, None) if persistent => usage!(
            "--persistent is for mappings; a {kind:?} goes with its last handle (add --hold)"
        ),
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
    // Catch the signals before the object exists, so that none can end the process
    // between creating and holding it.
    let signals = if hold {
        Some(Signals::new([SIGINT, SIGTERM, SIGHUP]).context("cannot install signal handlers")?)
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
    };
    if kind != Kind::Mapping {
        eprintln!(
            "shmkit: created {} {full} (mode {mode:04o}, goes with its last handle)",
            format!("{kind:?}").to_lowercase()
        );
    }
    let Some(signals) = signals else {
        return Ok(());
    };
    let watch_stdin = stdin_can_close();
    eprintln!(
        "shmkit: holding {full} in pid {}; release it with {}SIGINT (Ctrl-C) or SIGTERM",
        std::process::id(),
        if watch_stdin {
            "end of input (Ctrl-D), "
        } else {
            ""
        }
    );
    let why = wait_for_release(signals, watch_stdin);
    drop(held);
    eprintln!("shmkit: released {full} ({why})");
    Ok(())
}

/// Whether stdin can signal the end of a hold by closing: a pipe, a socket or a
/// terminal. `/dev/null` and regular files end at once (a background job's stdin is
/// often `/dev/null`), so for them only a signal ends the hold.
fn stdin_can_close() -> bool {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return true;
    }
    let Ok(fd) = stdin.as_fd().try_clone_to_owned() else {
        return false; // no stdin at all
    };
    std::fs::File::from(fd)
        .metadata()
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false)
}

/// Waits for a signal, or for stdin to close when `watch_stdin`; says which.
fn wait_for_release(mut signals: Signals, watch_stdin: bool) -> String {
    let (tx, rx) = mpsc::channel::<String>();
    let handle = signals.handle();
    let on_signal = tx.clone();
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let name = match sig {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            let _ = on_signal.send(format!("got {name}"));
        }
    });
    if watch_stdin {
        let on_eof = tx.clone();
        std::thread::spawn(move || {
            let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
            let _ = on_eof.send("stdin closed".to_owned());
        });
    }
    let why = rx.recv().unwrap_or_else(|_| "interrupted".to_owned());
    handle.close();
    why
}
