//! `shmkit`: list, inspect, create, read, write, watch, remove and garbage-collect the
//! named shared-memory objects of the shmkit library.
//!
//! Run `shmkit --help` for the commands. Errors go to stderr as `shmkit: error: ...`,
//! naming the object and the cause. Exit status: 0 on success, 1 when an operation
//! fails, 2 for a usage error (a bad argument, name, size or offset, refused before
//! anything changes).
//!
//! # `--json`
//!
//! `shmkit ls --json` prints an array of objects and `shmkit info NAME --json` one
//! object, each with exactly these fields (a stable format: fields are never renamed,
//! removed or retyped):
//!
//! | field | JSON type | meaning |
//! |---|---|---|
//! | `name` | string | full name, namespace included: `"Local\\x"` |
//! | `namespace` | string | `"Local"` or `"Global"` |
//! | `kind` | string | `"mapping"`, `"mutex"`, `"event"`, `"semaphore"` (or `"unknown"`) |
//! | `size` | integer | size in bytes |
//! | `owner` | integer | owner's uid |
//! | `mode` | integer | permission bits as a number (`384` is `0o600`) |
//! | `persistent` | boolean | outlives its handles until `shmkit rm` |
//! | `holders` | array of integers | pids of the processes holding a handle or a view, ascending |

mod bench;
mod create;
mod data;
mod demo;
mod hexdump;
mod objects;
mod os;
mod units;

use clap::{Parser, Subcommand};
use shmkit::{ErrorKind, Name};
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

/// Named shared memory between processes: list, inspect, create, read, write and remove
/// shmkit objects.
///
/// NAME is `Local\NAME`, `Global\NAME` or a bare NAME (which means `Local\NAME`); quote
/// the backslash in a shell: 'Local\x'. Sizes, offsets and lengths accept 4096, 0x1000,
/// 64K, 1M, 1G, 1MiB, 1GiB (K, M, G are KiB, MiB, GiB).
///
/// Exit status: 0 on success, 1 when an operation fails, 2 for a usage error.
#[derive(Debug, Parser)]
#[command(name = "shmkit", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a mapping object (zero-filled).
    ///
    /// A non-persistent object vanishes with its last handle, so it needs --hold: the
    /// command then holds it until its stdin closes (when stdin is a pipe or a terminal)
    /// or it gets SIGINT, SIGTERM or SIGHUP (on Windows: Ctrl-C, Ctrl-Break or the console
    /// closing). A persistent object stays until `shmkit rm`. Fails if the name is taken.
    Create {
        /// The object's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// What to create: a mapping (the default), or a mutex, an (auto-reset, unset)
        /// event or a semaphore (count 0, maximum 1), which need --hold.
        #[arg(long, default_value = "mapping", value_parser = create::parse_kind)]
        kind: shmkit::Kind,
        /// A mapping's size: 4096, 64K, 1M, 1GiB...
        #[arg(long, value_parser = units::parse_size)]
        size: Option<u64>,
        /// Keep the object after every handle closes, until `shmkit rm`.
        #[arg(long)]
        persistent: bool,
        /// Hold the object until stdin closes or SIGINT/SIGTERM/SIGHUP (Ctrl-C on Windows).
        #[arg(long)]
        hold: bool,
        /// Permission bits in octal (owner/group/others read-write).
        #[arg(long, value_parser = units::parse_mode, default_value = "600")]
        mode: u32,
    },
    /// List the objects you can see: your Local objects and your Global ones.
    ///
    /// A table on stdout; --json prints an array (see the README for its schema). Linux
    /// only: Windows cannot list its named objects.
    Ls {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Also other users' objects, where permitted (their Local ones need root).
        #[arg(long)]
        all: bool,
    },
    /// Show one object and the processes that hold it.
    ///
    /// Kind, size, owner, mode, persistence, and each holder's pid and command name,
    /// with what it holds: a handle (keeps the name) or a view (keeps the memory). Linux
    /// only, as `ls`.
    Info {
        /// The object's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write bytes from FILE (or stdin) into an object at --offset.
    ///
    /// Input that would run past the end of the object is refused before anything is
    /// written. The length of a regular file (or of stdin redirected from one) is known
    /// in advance and the bytes are streamed; input from a pipe or a terminal is read
    /// into memory first (at most the room left in the object, plus one byte), so that
    /// an oversized input leaves the object untouched.
    Write {
        /// The object's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// Where to start writing, in bytes (any offset).
        #[arg(long, value_parser = units::parse_offset, default_value = "0")]
        offset: u64,
        /// The input file; `-` or none reads stdin.
        file: Option<PathBuf>,
    },
    /// Copy bytes of an object to stdout, raw or as a hexdump.
    Read {
        /// The object's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// Where to start reading, in bytes (any offset).
        #[arg(long, value_parser = units::parse_offset, default_value = "0")]
        offset: u64,
        /// How many bytes (default: to the end of the object).
        #[arg(long, value_parser = units::parse_offset)]
        len: Option<u64>,
        /// Print a hexdump (the layout of `hexdump -C`) instead of raw bytes.
        #[arg(long)]
        hex: bool,
    },
    /// Show a live hexdump of part of an object, marking the bytes that change.
    ///
    /// Redraws every --interval ms and marks the bytes that changed since the previous
    /// frame: reverse video on a terminal; otherwise a `*` after the byte, with a frame
    /// printed only when something changed. Stops on SIGINT (Ctrl-C) or SIGTERM (Ctrl-C
    /// or Ctrl-Break on Windows). The watch holds a handle, so the object stays while it
    /// is watched.
    Watch {
        /// The object's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// Where to start, in bytes (any offset).
        #[arg(long, value_parser = units::parse_offset, default_value = "0")]
        offset: u64,
        /// How many bytes to show (default: 256, or to the end of the object).
        #[arg(long, value_parser = units::parse_offset)]
        len: Option<u64>,
        /// Milliseconds between frames.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
        interval: u64,
    },
    /// Remove a persistent object.
    ///
    /// A non-persistent object cannot be removed: it goes with its last holder.
    Rm {
        /// The object's name.
        #[arg(value_parser = parse_name)]
        name: Name,
    },
    /// Reclaim the objects whose holders all died, and print what was freed.
    ///
    /// Covers your Local objects and the Global objects you may remove; run by root, every
    /// user's Local and Global objects. Only objects that no process holds are freed.
    ///
    /// Linux only: Windows frees an object with its last handle, and cannot list them.
    Gc {
        /// Change nothing; print what would be freed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run the parent/child scenario end to end, narrating each step.
    ///
    /// A parent creates an object, writes a message, starts a child that opens it by
    /// name and reads it, then closes it and shows that the name is gone.
    Demo,
    /// Measure shmkit against iceoryx2, a Unix socket, a pipe and raw calls.
    ///
    /// Runs the `shmkit-bench` binary next to `shmkit` (or the one $SHMKIT_BENCH names)
    /// with these arguments: `shmkit bench --help` shows its options (--quick, --runs N,
    /// --json FILE, --plots DIR). Build it with `cargo build --release -p shmkit-bench`.
    #[command(disable_help_flag = true)]
    Bench {
        /// The arguments of shmkit-bench.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<OsString>,
    },
    /// The child half of `demo` (started by it).
    #[command(hide = true)]
    DemoChild {
        #[arg(value_parser = parse_name)]
        name: Name,
    },
}

/// Names are checked by the argument parser, so a bad one is a usage error.
fn parse_name(text: &str) -> Result<Name, String> {
    Name::parse(text).map_err(|e| e.to_string())
}

/// A mistake in the invocation found after parsing (exit status 2), such as an offset
/// past the end of the object. Nothing has changed when it is reported.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns a usage error (exit status 2).
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::UsageError(format!($($arg)*))))
    };
}
pub(crate) use usage;

/// The exit status of a failed command: 2 for usage errors (including names and sizes
/// the library refuses before doing anything), 1 for failed operations.
fn exit_status(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<shmkit::Error>() {
            return match e.kind() {
                ErrorKind::InvalidName | ErrorKind::InvalidSize | ErrorKind::Misaligned => 2,
                _ => 1,
            };
        }
    }
    1
}

/// Whether the failure is only stdout's reader going away (`shmkit read | head`).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Create {
            name,
            kind,
            size,
            persistent,
            hold,
            mode,
        } => create::create(&name, kind, size, persistent, hold, mode),
        Command::Ls { json, all } => objects::ls(json, all),
        Command::Info { name, json } => objects::info(&name, json),
        Command::Write { name, offset, file } => data::write(&name, offset, file.as_deref()),
        Command::Read {
            name,
            offset,
            len,
            hex,
        } => data::read(&name, offset, len, hex),
        Command::Watch {
            name,
            offset,
            len,
            interval,
        } => data::watch(&name, offset, len, interval),
        Command::Rm { name } => objects::rm(&name),
        Command::Gc { dry_run } => objects::gc(dry_run),
        Command::Demo => demo::parent(),
        Command::Bench { args } => bench::bench(&args),
        Command::DemoChild { name } => demo::child(&name),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version: stdout, status 0
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{}", e.render());
            return ExitCode::from(2);
        }
        Err(e) => {
            // clap's own message starts with "error: "; keep the tool's prefix on it.
            eprint!("shmkit: {}", e.render());
            return ExitCode::from(2);
        }
    };
    // Every handle and view is dropped when `run` returns, before the process exits.
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shmkit: error: {e:#}");
            ExitCode::from(exit_status(&e))
        }
    }
}
