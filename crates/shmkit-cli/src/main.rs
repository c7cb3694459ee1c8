//! `shmkit`: list, inspect, create, read, write, watch, remove and garbage-collect the
//! named shared-memory objects of the shmkit library, and send and receive on channels.
//!
//! Run `shmkit --help` for the commands. Errors go to stderr as `shmkit: error: ...`,
//! naming the object and the cause. Exit status: 0 on success, 1 when an operation
//! fails, 2 for a usage error (a bad argument, name, size or offset, or a message larger
//! than a channel's maximum, refused before anything changes), 3 when a channel's other
//! end is gone (Disconnected), 4 when a wait on a channel ran out (Full, or `recv
//! --timeout`).
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
//! | `kind` | string | `"mapping"`, `"mutex"`, `"event"`, `"semaphore"`, `"channel"` (or `"unknown"`) |
//! | `size` | integer | size in bytes |
//! | `owner` | integer | owner's uid |
//! | `mode` | integer | permission bits as a number (`384` is `0o600`) |
//! | `persistent` | boolean | outlives its handles until `shmkit rm` |
//! | `holders` | array of integers | pids of the processes holding a handle or a view, ascending |
//! | `channel` | object or null | a channel's `capacity`, `max_message`, `producers`, `depth` (bytes waiting), `receiver` (pid or null), `senders` (pids), `receiver_attached`, `senders_attached`; null for other kinds |

mod bench;
mod channel;
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
/// Exit status: 0 on success, 1 when an operation fails, 2 for a usage error, 3 when a
/// channel's other end is gone, 4 when a wait on a channel ran out.
#[derive(Debug, Parser)]
#[command(name = "shmkit", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a mapping object (zero-filled), a sync object or a channel.
    ///
    /// A non-persistent object vanishes with its last handle, so it needs --hold: the
    /// command then holds it until its stdin closes (when stdin is a pipe or a terminal)
    /// or it gets SIGINT, SIGTERM or SIGHUP (on Windows: Ctrl-C, Ctrl-Break or the console
    /// closing). A persistent object stays until `shmkit rm`. Fails if the name is taken.
    /// A channel is held through a sender place of its own (it never sends), one more
    /// than --producers.
    Create {
        /// The object's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// What to create: a mapping (the default), or a mutex, an (auto-reset, unset)
        /// event, a semaphore (count 0, maximum 1) or a channel, which need
        /// --hold.
        #[arg(long, default_value = "mapping", value_parser = create::parse_kind)]
        kind: shmkit::Kind,
        /// A mapping's size: 4096, 64K, 1M, 1GiB...
        #[arg(long, value_parser = units::parse_size)]
        size: Option<u64>,
        /// A channel's ring size (rounded up to a power of two of at least a page): 64K
        /// by default.
        #[arg(long, value_parser = units::parse_size)]
        capacity: Option<u64>,
        /// A channel's largest message, exact (a quarter of the capacity by default).
        #[arg(long, value_parser = units::parse_offset)]
        max_message: Option<u64>,
        /// How many senders may attach to a channel at once (1 by default). The holder
        /// takes a sender place of its own besides these, and never sends.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=63))]
        producers: Option<u32>,
        /// Keep the object after every handle closes, until `shmkit rm`.
        #[arg(long)]
        persistent: bool,
        /// Hold the object until stdin closes or SIGINT/SIGTERM/SIGHUP (Ctrl-C on Windows).
        #[arg(long)]
        hold: bool,
        /// Permission bits in octal (owner/group/others read-write).
        #[arg(long, alias = "permissions", value_parser = units::parse_mode, default_value = "600")]
        mode: u32,
    },
    /// Send one message on a channel: MESSAGE, or the bytes of --file or stdin.
    ///
    /// With --lines, each line of the input is a message of its own (without its
    /// newline; an empty line is an empty message). Waits while the channel is full, at
    /// most --timeout in all. Exit status 3 when the receiver is gone (it attached, then
    /// closed: sends fail until the next receiver attaches), 4 when the channel stayed
    /// full for --timeout, 2 for a message larger than the channel's maximum (nothing is
    /// sent).
    Send {
        /// The channel's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// The message (its bytes, no newline added).
        #[arg(conflicts_with = "file")]
        message: Option<String>,
        /// Read the message from FILE (`-`: stdin) instead.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Send each line of the input as a message.
        #[arg(long, conflicts_with = "message")]
        lines: bool,
        /// Wait at most this long for room: 500ms, 2s, 1m (0: do not wait).
        #[arg(long, value_parser = units::parse_duration)]
        timeout: Option<std::time::Duration>,
    },
    /// Receive messages from a channel and print them, one per line.
    ///
    /// Each message is printed as its raw bytes followed by a newline (a message that
    /// holds a newline is ambiguous: use --hex), or with --hex as lowercase hex digits
    /// followed by a newline. Takes the channel's receive end, so only one `recv` (or
    /// other receiver) at a time. Exit status 3 when every sender is gone and nothing is
    /// left, 4 when --timeout ran out before --count messages.
    Recv {
        /// The channel's name.
        #[arg(value_parser = parse_name)]
        name: Name,
        /// How many messages to receive; 0: every message until the senders are gone or
        /// --timeout runs out (both end it with status 0).
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Wait at most this long in all: 500ms, 2s, 1m (0: take only what is there).
        #[arg(long, value_parser = units::parse_duration)]
        timeout: Option<std::time::Duration>,
        /// Print each message as hex digits.
        #[arg(long)]
        hex: bool,
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

/// A wait that ran out (`recv --timeout` before its messages came): exit status 4, as a
/// channel that stayed full.
#[derive(Debug)]
pub struct TimedOut(pub String);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimedOut {}

/// Returns a usage error (exit status 2).
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::UsageError(format!($($arg)*))))
    };
}
pub(crate) use usage;

/// The exit status of a failed command: 2 for usage errors (including names, sizes and
/// messages the library refuses before doing anything), 3 when a channel's other end is
/// gone, 4 when a wait on a channel ran out, 1 for other failed operations.
fn exit_status(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return 2;
        }
        if cause.is::<TimedOut>() {
            return 4;
        }
        if let Some(e) = cause.downcast_ref::<shmkit::Error>() {
            return match e.kind() {
                ErrorKind::InvalidName
                | ErrorKind::InvalidSize
                | ErrorKind::Misaligned
                | ErrorKind::TooLarge => 2,
                ErrorKind::Disconnected => 3,
                ErrorKind::Full => 4,
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
            capacity,
            max_message,
            producers,
            persistent,
            hold,
            mode,
        } => {
            let shape = channel::Shape {
                capacity,
                max_message,
                producers,
            };
            create::create(&name, kind, size, persistent, hold, mode, shape)
        }
        Command::Send {
            name,
            message,
            file,
            lines,
            timeout,
        } => channel::send(&name, message.as_deref(), file.as_deref(), lines, timeout),
        Command::Recv {
            name,
            count,
            timeout,
            hex,
        } => {
            let framing = if hex {
                channel::Framing::Hex
            } else {
                channel::Framing::Raw
            };
            channel::recv(&name, count, timeout, framing)
        }
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
