//! What differs between Linux and Windows in the tool itself: stdin and stdout as files,
//! what kind of input stdin is, and the interrupts that end `create --hold` and `watch`
//! (signals on Linux, console control events on Windows).

use std::fs::File;
use std::io;

pub use imp::{enable_escapes, file, known_length, Interrupts, Stop, INTERRUPTS, STDIN_EOF};

/// Which stream of the process.
#[derive(Debug, Clone, Copy)]
pub enum Stdio {
    In,
    Out,
}

/// Whether stdin can signal the end of a hold by closing: a pipe, a socket or a
/// terminal. `/dev/null` (`NUL` on Windows) and regular files end at once (a background
/// job's stdin is often one of them), so for them only an interrupt ends the hold.
pub fn stdin_can_close() -> bool {
    use std::io::IsTerminal;
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return true;
    }
    imp::is_pipe_or_socket(&stdin)
}

#[cfg(not(windows))]
mod imp {
    use super::Stdio;
    use anyhow::{Context, Result};
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;
    use std::fs::File;
    use std::io;
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::Sender;
    use std::sync::Arc;

    /// How a hold is released besides end of input, as told to the user.
    pub const INTERRUPTS: &str = "SIGINT (Ctrl-C) or SIGTERM";
    /// How to end input on a terminal.
    pub const STDIN_EOF: &str = "Ctrl-D";

    /// A file over stdin or stdout (a duplicate of the descriptor or handle), for raw
    /// bytes: the standard streams would buffer by line (stdout) or refuse bytes that are
    /// not UTF-8 (a Windows console).
    pub fn file(which: Stdio) -> io::Result<File> {
        let fd = match which {
            Stdio::In => io::stdin().as_fd().try_clone_to_owned()?,
            Stdio::Out => io::stdout().as_fd().try_clone_to_owned()?,
        };
        Ok(File::from(fd))
    }

    pub fn is_pipe_or_socket(stdin: &io::Stdin) -> bool {
        let Ok(fd) = stdin.as_fd().try_clone_to_owned() else {
            return false; // no stdin at all
        };
        File::from(fd)
            .metadata()
            .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
            .unwrap_or(false)
    }

    /// The length left in `input` from its position when it is a regular file; `None`
    /// for a pipe, a terminal or a device.
    pub fn known_length(input: &File, label: &str) -> Result<Option<u64>> {
        let meta = input
            .metadata()
            .with_context(|| format!("cannot inspect input {label}"))?;
        Ok(meta
            .is_file()
            .then(|| super::left_from_position(input, meta.len())))
    }

    /// SIGINT, SIGTERM and SIGHUP, caught (so they no longer end the process) until
    /// [`Interrupts::forward`] passes them on.
    pub struct Interrupts(Signals);

    impl Interrupts {
        pub fn catch() -> Result<Interrupts> {
            Ok(Interrupts(
                Signals::new([SIGINT, SIGTERM, SIGHUP])
                    .context("cannot install signal handlers")?,
            ))
        }

        /// Sends `got SIGINT` (or the like) on `tx` at the first signal; the signals stay
        /// caught until the returned guard is dropped.
        pub fn forward(mut self, tx: Sender<String>) -> Forwarding {
            let handle = self.0.handle();
            std::thread::spawn(move || {
                if let Some(sig) = self.0.forever().next() {
                    let name = match sig {
                        SIGINT => "SIGINT",
                        SIGTERM => "SIGTERM",
                        _ => "SIGHUP",
                    };
                    let _ = tx.send(format!("got {name}"));
                }
            });
            Forwarding(handle)
        }
    }

    /// Keeps the signals caught; dropping it lets them go.
    pub struct Forwarding(signal_hook::iterator::Handle);

    impl Drop for Forwarding {
        fn drop(&mut self) {
            self.0.close();
        }
    }

    /// Set by the first SIGINT or SIGTERM; a second one, should the program be stuck
    /// writing to a reader that does not read, ends the process (status 130).
    pub struct Stop(Arc<AtomicBool>);

    impl Stop {
        pub fn install() -> Result<Stop> {
            let stop = Arc::new(AtomicBool::new(false));
            for sig in [SIGINT, SIGTERM] {
                signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))
                    .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
                    .context("cannot install signal handlers")?;
            }
            Ok(Stop(stop))
        }

        pub fn requested(&self) -> bool {
            self.0.load(Ordering::Relaxed)
        }
    }

    /// Nothing to do: terminals take escape sequences as they are.
    pub fn enable_escapes() {}
}

#[cfg(windows)]
mod imp {
    use super::Stdio;
    use anyhow::{Context, Result};
    use std::fs::File;
    use std::io;
    use std::os::windows::io::{AsHandle, AsRawHandle};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::Sender;
    use std::sync::Mutex;
    use windows_sys::core::BOOL;
    use windows_sys::Win32::Foundation::{FALSE, TRUE};
    use windows_sys::Win32::Storage::FileSystem::{GetFileType, FILE_TYPE_DISK, FILE_TYPE_PIPE};
    use windows_sys::Win32::System::Console::{
        GetConsoleMode, SetConsoleCtrlHandler, SetConsoleMode, CTRL_BREAK_EVENT, CTRL_CLOSE_EVENT,
        CTRL_C_EVENT, ENABLE_VIRTUAL_TERMINAL_PROCESSING,
    };

    /// How a hold is released besides end of input, as told to the user.
    pub const INTERRUPTS: &str = "Ctrl-C or Ctrl-Break";
    /// How to end input on a console.
    pub const STDIN_EOF: &str = "Ctrl-Z then Enter";

    /// A file over stdin or stdout (a duplicate of the descriptor or handle), for raw
    /// bytes: the standard streams would buffer by line (stdout) or refuse bytes that are
    /// not UTF-8 (a Windows console).
    pub fn file(which: Stdio) -> io::Result<File> {
        let handle = match which {
            Stdio::In => io::stdin().as_handle().try_clone_to_owned()?,
            Stdio::Out => io::stdout().as_handle().try_clone_to_owned()?,
        };
        Ok(File::from(handle))
    }

    /// The `GetFileType` of a handle of this process.
    fn file_type(handle: &impl AsRawHandle) -> u32 {
        // SAFETY: GetFileType only reads the handle's type; the handle is borrowed from
        // a live stream of this process (a null or invalid one yields FILE_TYPE_UNKNOWN).
        unsafe { GetFileType(handle.as_raw_handle()) }
    }

    pub fn is_pipe_or_socket(stdin: &io::Stdin) -> bool {
        // Anonymous and named pipes, and sockets, are all FILE_TYPE_PIPE.
        file_type(stdin) == FILE_TYPE_PIPE
    }

    /// The length left in `input` from its position when it is a file on disk; `None`
    /// for a pipe, a console or a device (whose metadata Windows may refuse).
    pub fn known_length(input: &File, label: &str) -> Result<Option<u64>> {
        if file_type(input) != FILE_TYPE_DISK {
            return Ok(None);
        }
        let meta = input
            .metadata()
            .with_context(|| format!("cannot inspect input {label}"))?;
        Ok(meta
            .is_file()
            .then(|| super::left_from_position(input, meta.len())))
    }

    /// Where the console control handler reports to, while a hold waits.
    static HOLD: Mutex<Option<Sender<String>>> = Mutex::new(None);
    /// Set by the first control event.
    static STOPPED: AtomicBool = AtomicBool::new(false);

    /// The console control handler (it runs on a thread of its own). The first event is
    /// handled here: it ends the hold or the watch cleanly. Later ones go to the default
    /// handler, which ends the process, should it be stuck.
    extern "system" fn on_control(event: u32) -> BOOL {
        if STOPPED.swap(true, Ordering::SeqCst) {
            return FALSE;
        }
        let name = match event {
            CTRL_C_EVENT => "Ctrl-C",
            CTRL_BREAK_EVENT => "Ctrl-Break",
            CTRL_CLOSE_EVENT => "the console closing",
            _ => "logoff or shutdown",
        };
        if let Some(tx) = HOLD.lock().ok().and_then(|g| g.clone()) {
            let _ = tx.send(format!("got {name}"));
        }
        TRUE
    }

    fn install_handler() -> Result<()> {
        // SAFETY: `on_control` is a plain function with the handler's signature that
        // lives as long as the program; it touches only thread-safe statics.
        if unsafe { SetConsoleCtrlHandler(Some(on_control), TRUE) } == 0 {
            return Err(io::Error::last_os_error()).context("cannot install a Ctrl-C handler");
        }
        Ok(())
    }

    /// Ctrl-C, Ctrl-Break and closing the console, caught (so they no longer end the
    /// process) and passed on by [`Interrupts::forward`].
    pub struct Interrupts(());

    impl Interrupts {
        pub fn catch() -> Result<Interrupts> {
            install_handler()?;
            Ok(Interrupts(()))
        }

        /// Sends `got Ctrl-C` (or the like) on `tx` at the first control event, until
        /// the returned guard is dropped.
        pub fn forward(self, tx: Sender<String>) -> Forwarding {
            if let Ok(mut hold) = HOLD.lock() {
                *hold = Some(tx);
            }
            Forwarding
        }
    }

    /// Keeps the events forwarded; dropping it stops that (they stay handled).
    pub struct Forwarding;

    impl Drop for Forwarding {
        fn drop(&mut self) {
            if let Ok(mut hold) = HOLD.lock() {
                *hold = None;
            }
        }
    }

    /// Set by the first Ctrl-C or Ctrl-Break; a second one ends the process.
    pub struct Stop(());

    impl Stop {
        pub fn install() -> Result<Stop> {
            install_handler()?;
            Ok(Stop(()))
        }

        pub fn requested(&self) -> bool {
            STOPPED.load(Ordering::Relaxed)
        }
    }

    /// Lets a console on stdout interpret the escape sequences of `watch` (the default
    /// of Windows Terminal, not of the classic console). Best effort: without it the
    /// sequences show as text.
    pub fn enable_escapes() {
        let out = io::stdout();
        let handle = out.as_raw_handle();
        let mut mode = 0;
        // SAFETY: both calls take stdout's live handle; GetConsoleMode writes one u32 to
        // `mode`, which outlives the call, and fails harmlessly when stdout is no console.
        unsafe {
            if GetConsoleMode(handle, &mut mode) != 0 {
                SetConsoleMode(handle, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
            }
        }
    }
}

/// The length of `input` (a regular file of `total` bytes) left from where it stands:
/// stdin may have been read from already.
fn left_from_position(input: &File, total: u64) -> u64 {
    let mut r = input;
    let pos = io::Seek::stream_position(&mut r).unwrap_or(0);
    total.saturating_sub(pos)
}
