//! Children started suspended (`CREATE_SUSPENDED`) and the suspension of a child's main
//! thread (`SuspendThread`/`ResumeThread` of `PROCESS_INFORMATION::hThread`).
//!
//! A child started suspended has been forked but has not run a single instruction of its
//! program: between the fork and the exec it writes its process id on one pipe and
//! waits on another for the byte that the last `ResumeThread` writes. The standard
//! library's spawn returns only once the child has executed its program, so the spawn
//! runs on a thread of its own, which hands the `Child` over when it returns.
//!
//! A child that runs is suspended by stopping it (`SIGSTOP`) and resumed with `SIGCONT`:
//! a Linux process stops as a whole, so all its threads stop, where Windows stops the one
//! thread. The suspend count is kept with the process object, so only the process that
//! started the child knows it.
//!
//! This module imports nothing of the handle table or of the objects.

use crate::error::{self, Result};
use crate::types::{err, DWORD};
use std::ffi::c_void;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `MAXIMUM_SUSPEND_COUNT`.
pub(crate) const MAXIMUM_SUSPEND_COUNT: u32 = 127;

/// `ERROR_SIGNAL_REFUSED`.
pub(crate) const ERROR_SIGNAL_REFUSED: DWORD = 156;

/// How long `SuspendThread` waits for a child to show that it has stopped.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// A child's suspend count, and for a child started suspended that has not been let go
/// yet, the pipe end that lets it go.
#[derive(Default)]
pub(crate) struct Suspension {
    state: Mutex<State>,
    /// Set once a child started suspended has been let go (or was never held).
    let_go: AtomicBool,
}

#[derive(Default)]
struct State {
    count: u32,
    go: Option<OwnedFd>,
}

impl Suspension {
    /// A child that runs: its count is 0.
    pub(crate) fn running() -> Suspension {
        Suspension {
            state: Mutex::default(),
            let_go: AtomicBool::new(true),
        }
    }

    /// A child [`spawn`] started, held before its program: its count is 1.
    fn held(go: OwnedFd) -> Suspension {
        Suspension {
            state: Mutex::new(State {
                count: 1,
                go: Some(go),
            }),
            let_go: AtomicBool::new(false),
        }
    }

    /// Whether the child has been let go to run its program (always, for a child that was
    /// not started suspended).
    pub(crate) fn is_let_go(&self) -> bool {
        self.let_go.load(Ordering::Acquire)
    }

    /// `SuspendThread`: raises the count and returns the count before. At 0 the child
    /// `pid` is stopped, and the call returns once it shows as stopped (or after
    /// [`STOP_WAIT`]). The caller makes sure that `pid` has not been reaped.
    pub(crate) fn suspend(&self, pid: u32) -> Result<u32> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let before = s.count;
        if before >= MAXIMUM_SUSPEND_COUNT {
            return error::fail(ERROR_SIGNAL_REFUSED);
        }
        if before == 0 {
            signal(pid, libc::SIGSTOP)?;
            wait_stopped(pid);
        }
        s.count = before + 1;
        Ok(before)
    }

    /// `ResumeThread`: lowers the count and returns the count before (0 for a child that
    /// is not suspended, which is left alone). At 0 the child goes on: a child held
    /// before its program is let go, a stopped one continued. The caller makes sure that
    /// `pid` has not been reaped.
    pub(crate) fn resume(&self, pid: u32) -> Result<u32> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let before = s.count;
        if before == 0 {
            return Ok(0);
        }
        if before == 1 {
            match s.go.take() {
                Some(go) => {
                    let_go(&go)?;
                    self.let_go.store(true, Ordering::Release);
                }
                None => signal(pid, libc::SIGCONT)?,
            }
        }
        s.count = before - 1;
        Ok(before)
    }
}

/// Sends `sig` to the child `pid`.
fn signal(pid: u32, sig: libc::c_int) -> Result<()> {
    // SAFETY: kill has no memory preconditions; the caller vouches that `pid` is its own
    // unreaped child, so no other process gets the signal.
    if unsafe { libc::kill(pid as libc::pid_t, sig) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    Ok(())
}

/// Writes the byte a held child waits for.
fn let_go(go: &OwnedFd) -> Result<()> {
    loop {
        // SAFETY: one byte from a live local, to a descriptor this module owns.
        let r = unsafe { libc::write(go.as_raw_fd(), b"g".as_ptr().cast::<c_void>(), 1) };
        if r == 1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e.into());
        }
    }
}

/// The state letter of `/proc/<pid>/stat` (`T` stopped, `Z` a zombie...), `None` once
/// the process is gone.
fn state_of(pid: u32) -> Option<u8> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold anything: the state follows the
    // last closing one.
    let close = stat.iter().rposition(|&b| b == b')')?;
    stat.get(close + 2).copied()
}

/// Waits until the child shows as stopped (or has ended), for at most [`STOP_WAIT`]:
/// `SIGSTOP` takes effect when the child next runs in the kernel, which is soon.
fn wait_stopped(pid: u32) {
    let start = Instant::now();
    let mut pause = Duration::from_micros(10);
    while start.elapsed() < STOP_WAIT {
        match state_of(pid) {
            Some(b'T' | b't' | b'Z' | b'X') | None => return,
            Some(_) => std::thread::sleep(pause),
        }
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

/// A pipe whose two ends close on exec (read end, write end).
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array, which are then owned here.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    // SAFETY: both descriptors were just returned to us and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// What [`spawn`] gives: the child's process id, its suspension (count 1, held before its
/// program), and where its `Child` arrives once it has executed its program, failed to,
/// or ended while held.
pub(crate) struct Held {
    pub(crate) pid: u32,
    pub(crate) suspension: Suspension,
    pub(crate) arrival: Receiver<io::Result<Child>>,
}

/// Starts `cmd` held before its program (`CREATE_SUSPENDED`). A child whose every handle
/// is closed before it is let go never runs its program: it ends (the pipe it waits on
/// closes).
pub(crate) fn spawn(mut cmd: Command) -> Result<Held> {
    let (ready_r, ready_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    let (ready_r_fd, ready_w_fd) = (ready_r.as_raw_fd(), ready_w.as_raw_fd());
    let (go_r_fd, go_w_fd) = (go_r.as_raw_fd(), go_w.as_raw_fd());
    // SAFETY: the closure runs in the child between fork and exec, where it calls only
    // async-signal-safe functions (close, getpid, write, read) on descriptors the child
    // inherited from the parent, which owns them until the spawn returns.
    unsafe {
        cmd.pre_exec(move || {
            libc::close(ready_r_fd);
            libc::close(go_w_fd);
            let pid = (libc::getpid() as u32).to_ne_bytes();
            if libc::write(ready_w_fd, pid.as_ptr().cast::<c_void>(), pid.len()) != 4 {
                return Err(io::Error::last_os_error());
            }
            libc::close(ready_w_fd);
            let mut byte = 0u8;
            loop {
                match libc::read(go_r_fd, (&mut byte as *mut u8).cast::<c_void>(), 1) {
                    1 => break,
                    // Every handle of the parent's is gone: never run.
                    0 => return Err(io::Error::from_raw_os_error(libc::ECANCELED)),
                    _ => {
                        let e = io::Error::last_os_error();
                        if e.kind() != io::ErrorKind::Interrupted {
                            return Err(e);
                        }
                    }
                }
            }
            libc::close(go_r_fd);
            Ok(())
        })
    };
    let (tx, arrival) = mpsc::channel();
    std::thread::Builder::new()
        .name("shmkit-win32-spawn".into())
        .spawn(move || {
            let r = cmd.spawn();
            if r.is_err() {
                // Before the fork, the child wrote nothing: a pid of 0 says so. After
                // it, the pid has been read and this is never read.
                let none = 0u32.to_ne_bytes();
                // SAFETY: four bytes from a live local, to a descriptor this closure owns.
                unsafe { libc::write(ready_w.as_raw_fd(), none.as_ptr().cast(), 4) };
            }
            drop((ready_w, go_r));
            if let Err(mpsc::SendError(Ok(mut child))) = tx.send(r) {
                // The process object has gone: reap the child when it ends.
                let _ = child.wait();
            }
        })?;
    let mut pid = [0u8; 4];
    std::fs::File::from(ready_r).read_exact(&mut pid)?;
    let pid = u32::from_ne_bytes(pid);
    if pid == 0 {
        return Err(match arrival.recv() {
            Ok(Err(e)) => e.into(),
            _ => error::Win32Error(err::GEN_FAILURE),
        });
    }
    Ok(Held {
        pid,
        suspension: Suspension::held(go_w),
        arrival,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_child_runs_nothing_until_let_go_then_runs() {
        let dir = std::env::temp_dir().join(format!("shmkit-suspend-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(format!("echo ran > {}", dir.display()));
        let held = spawn(cmd).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(!dir.exists(), "a held child ran its program");
        assert!(
            held.arrival.try_recv().is_err(),
            "the spawn returned while held"
        );
        assert_eq!(held.suspension.resume(held.pid).unwrap(), 1);
        assert!(held.suspension.is_let_go());
        let mut child = held.arrival.recv().unwrap().unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(std::fs::read_to_string(&dir).unwrap(), "ran\n");
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn a_held_child_whose_go_pipe_closes_never_runs() {
        let dir = std::env::temp_dir().join(format!("shmkit-unrun-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(format!("echo ran > {}", dir.display()));
        let held = spawn(cmd).unwrap();
        drop(held.suspension);
        let r = held.arrival.recv().unwrap();
        assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::ECANCELED));
        assert!(!dir.exists());
    }

    #[test]
    fn a_running_child_stops_and_goes_on() {
        let mut child = Command::new("/bin/sleep").arg("5").spawn().unwrap();
        let s = Suspension::running();
        let pid = child.id();
        assert_eq!(s.suspend(pid).unwrap(), 0);
        assert_eq!(state_of(pid), Some(b'T'));
        assert_eq!(s.suspend(pid).unwrap(), 1);
        assert_eq!(s.resume(pid).unwrap(), 2);
        assert_eq!(state_of(pid), Some(b'T'));
        assert_eq!(s.resume(pid).unwrap(), 1);
        let start = Instant::now();
        while state_of(pid) == Some(b'T') {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "SIGCONT did not continue it"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(s.resume(pid).unwrap(), 0);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn the_suspend_count_stops_at_its_maximum() {
        let mut child = Command::new("/bin/sleep").arg("5").spawn().unwrap();
        let s = Suspension::running();
        for n in 0..MAXIMUM_SUSPEND_COUNT {
            assert_eq!(s.suspend(child.id()).unwrap(), n);
        }
        assert_eq!(
            s.suspend(child.id()).err().map(|e| e.0),
            Some(ERROR_SIGNAL_REFUSED)
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn the_state_follows_the_last_parenthesis() {
        let mine = state_of(std::process::id()).unwrap();
        assert!(b"RSD".contains(&mine), "{}", mine as char);
        assert_eq!(state_of(u32::MAX), None);
    }
}
