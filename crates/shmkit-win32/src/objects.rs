//! What a handle names: the [`Object`] of each kind, and the file and process objects
//! this library keeps itself (mappings and sync objects are the library's).
//!
//! This module imports nothing of the handle table: the table (`handles`), inheritance
//! (`inherit`) and every function family import it.

use crate::access::{Class, Page, Section};
use crate::error::Result;
use crate::suspend::{Held, Suspension};
use crate::types::DWORD;
use shmkit::sync::{Event, Mutex as SyncMutex, Semaphore};
use shmkit::Mapping;
use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::Duration;

/// What a handle names.
#[derive(Clone)]
pub(crate) enum Object {
    Mapping(Arc<MappingObject>),
    File(Arc<FileObject>),
    Process(Arc<ProcessObject>),
    /// A process's main thread: waits and exit codes are the process's.
    Thread(Arc<ProcessObject>),
    Mutex(Arc<SyncMutex>),
    Event(Arc<Event>),
    Semaphore(Arc<Semaphore>),
    /// A waitable timer: this process's own (`timer`).
    Timer(Arc<crate::timing::TimerObject>),
}

impl Object {
    /// An independent handle to the same object (`DuplicateHandle`).
    pub(crate) fn duplicate(&self) -> Result<Object> {
        Ok(match self {
            Object::Mapping(m) => {
                let copy = Arc::new(m.try_clone()?);
                note_same_backing(m, &copy);
                Object::Mapping(copy)
            }
            Object::File(f) => Object::File(Arc::new(f.try_clone()?)),
            Object::Process(p) => Object::Process(p.clone()),
            Object::Thread(p) => Object::Thread(p.clone()),
            Object::Mutex(m) => Object::Mutex(Arc::new(m.try_clone()?)),
            Object::Event(e) => Object::Event(Arc::new(e.try_clone()?)),
            Object::Semaphore(s) => Object::Semaphore(Arc::new(s.try_clone()?)),
            Object::Timer(t) => Object::Timer(t.clone()),
        })
    }
}

/// The files that back this process's mapping objects: `SetEndOfFile` may not shrink
/// one while a mapping object over it exists (Windows' `ERROR_USER_MAPPED_FILE`). Each
/// entry is the file's device and inode and the mapping, which leaves the list when its
/// last handle closes (views are found in the system's memory maps instead).
fn backed() -> std::sync::MutexGuard<'static, Vec<(u64, u64, Weak<MappingObject>)>> {
    static BACKED: Mutex<Vec<(u64, u64, Weak<MappingObject>)>> = Mutex::new(Vec::new());
    BACKED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records that `mapping` is a mapping object over `file`.
pub(crate) fn note_backing(file: &File, mapping: &Arc<MappingObject>) {
    if let Ok(meta) = file.metadata() {
        let mut list = backed();
        list.retain(|(_, _, m)| m.strong_count() > 0);
        list.push((meta.dev(), meta.ino(), Arc::downgrade(mapping)));
    }
}

/// Records that `copy` (a duplicate of `original`) has the same backing file.
fn note_same_backing(original: &Arc<MappingObject>, copy: &Arc<MappingObject>) {
    let mut list = backed();
    let found = list
        .iter()
        .find(|(_, _, m)| std::ptr::eq(m.as_ptr(), Arc::as_ptr(original)))
        .map(|&(dev, ino, _)| (dev, ino));
    if let Some((dev, ino)) = found {
        list.push((dev, ino, Arc::downgrade(copy)));
    }
}

/// Whether a mapping object of this process is backed by the file `dev`/`ino`.
pub(crate) fn is_backing(dev: u64, ino: u64) -> bool {
    backed()
        .iter()
        .any(|&(d, i, ref m)| d == dev && i == ino && m.strong_count() > 0)
}

impl Object {
    /// The kind of object, as far as its rights go.
    pub(crate) fn class(&self) -> Class {
        match self {
            Object::Mapping(_) => Class::Mapping,
            Object::File(_) => Class::File,
            Object::Process(_) | Object::Thread(_) => Class::Process,
            Object::Mutex(_) => Class::Mutex,
            Object::Event(_) => Class::Event,
            Object::Semaphore(_) => Class::Semaphore,
            Object::Timer(_) => Class::Timer,
        }
    }
}

/// What a mapping object is beyond the library's `Mapping`: its Win32 section (the page
/// protection with execute, `SEC_RESERVE`, `SEC_NOCACHE`) and which of its pages are
/// committed (a `SEC_RESERVE` object's pages are reserved until `VirtualAlloc` commits
/// them; the state is the object's, seen by every view of it in this process).
pub(crate) struct SectionState {
    pub section: Section,
    /// One entry per page of the object: committed or not.
    pub committed: Mutex<Vec<bool>>,
    /// Whether this process made the mapping over a file (its pages are the file's, always
    /// committed).
    pub file_backed: std::sync::atomic::AtomicBool,
}

impl SectionState {
    pub(crate) fn new(section: Section, size: u64, page: usize) -> Arc<SectionState> {
        let pages = (size as usize).div_ceil(page);
        Arc::new(SectionState {
            section,
            committed: Mutex::new(vec![!section.reserve; pages]),
            file_backed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The section of a mapping whose Win32 attributes this process does not know (one
    /// opened by name or inherited from a process that made it): the library's
    /// protection, committed, without execute.
    pub(crate) fn of_protection(protection: shmkit::Protection) -> Section {
        let page = match protection {
            shmkit::Protection::ReadOnly => Page::ReadOnly,
            shmkit::Protection::ReadWrite => Page::ReadWrite,
            shmkit::Protection::WriteCopy => Page::WriteCopy,
        };
        Section {
            page,
            reserve: false,
            nocache: false,
            image: false,
        }
    }
}

/// A mapping handle's object: the library's mapping and the section's state.
pub(crate) struct MappingObject {
    pub mapping: Mapping,
    pub state: Arc<SectionState>,
}

impl MappingObject {
    pub(crate) fn try_clone(&self) -> Result<MappingObject> {
        Ok(MappingObject {
            mapping: self.mapping.try_clone()?,
            state: self.state.clone(),
        })
    }
}

impl std::ops::Deref for MappingObject {
    type Target = Mapping;
    fn deref(&self) -> &Mapping {
        &self.mapping
    }
}

/// An open file behind a handle.
pub(crate) struct FileObject {
    /// Standard streams are borrowed, never closed: hence `ManuallyDrop`.
    file: ManuallyDrop<File>,
    owned: bool,
    delete_on_close: Option<PathBuf>,
}

impl FileObject {
    pub(crate) fn new(file: File, delete_on_close: Option<PathBuf>) -> FileObject {
        FileObject {
            file: ManuallyDrop::new(file),
            owned: true,
            delete_on_close,
        }
    }

    /// Standard input, output or error (`fd` 0, 1 or 2), which this object never closes.
    pub(crate) fn borrowed_std(fd: i32) -> FileObject {
        FileObject {
            // SAFETY: descriptors 0-2 belong to the process; `owned: false` makes sure
            // this object never closes them.
            file: ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }),
            owned: false,
            delete_on_close: None,
        }
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    pub(crate) fn try_clone(&self) -> Result<FileObject> {
        Ok(FileObject::new(self.file.try_clone()?, None))
    }
}

impl Drop for FileObject {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: dropped exactly once, here; the field is not used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.file) };
            if let Some(path) = self.delete_on_close.take() {
                let _ = std::fs::remove_file(path);
            }
        } else {
            // SAFETY: taken exactly once, here; the borrowed descriptor stays open.
            let _ = unsafe { ManuallyDrop::take(&mut self.file) }.into_raw_fd();
        }
    }
}

/// A process: a child this process started, or the calling process itself; or one
/// thread of the calling process (what `DuplicateHandle` of `GetCurrentThread()` gives).
///
/// Waits sleep on `exit`, a word that a watcher thread raises when the child ends (it
/// polls the child's pidfd, which becomes readable then; where pidfd_open is missing, it
/// waits for the child with `waitid(WNOWAIT)`, which leaves it to be reaped): so a wait
/// for a process is a futex word like a sync object's, and `WaitForMultipleObjects`
/// sleeps on it with the others. The watcher starts with the first wait. A thread's word
/// is its `ThreadLife::ended`, raised as the thread exits.
pub(crate) struct ProcessObject {
    pid: u32,
    state: Mutex<ProcState>,
    exit: Arc<AtomicU32>,
    /// What the watcher will watch, until it starts.
    watch: Mutex<Option<Arc<Watch>>>,
    /// For a thread of this process: its id and whether it still runs.
    thread: Option<Arc<ThreadLife>>,
    /// A child's suspend count (`SuspendThread` of its main thread).
    suspension: Suspension,
}

/// One thread of this process: its id, its exit code, and a word raised when it has
/// ended (after the exit code is stored).
pub(crate) struct ThreadLife {
    tid: u32,
    ended: AtomicU32,
    /// The exit code: the routine's return value or `ExitThread`'s code for a thread of
    /// `CreateThread`; 0 for other threads.
    code: AtomicU32,
    /// For a thread of `CreateThread`, its (joinable) `pthread_t`: its word is raised by
    /// the joiner once the system thread has gone (see [`start_joiner`]); 0 otherwise.
    pthread: AtomicU64,
    /// Its APCs, suspend count and signals (`apc`).
    pub(crate) ctl: crate::threadctl::Control,
}

impl ThreadLife {
    /// The calling thread's life (the same for every call in one thread).
    pub(crate) fn this_thread() -> Arc<ThreadLife> {
        THIS_THREAD.with(|t| t.0.clone())
    }

    /// The thread's id.
    pub(crate) fn tid(&self) -> u32 {
        self.tid
    }

    /// Records the code the thread ends with; the word is raised later, as it exits.
    pub(crate) fn set_exit_code(&self, code: DWORD) {
        self.code.store(code, Ordering::Release);
    }

    /// The exit code once the thread has ended.
    pub(crate) fn exit_code(&self) -> Option<DWORD> {
        (self.ended.load(Ordering::Acquire) != 0).then(|| self.code.load(Ordering::Acquire))
    }

    /// Called by a joinable thread of `CreateThread` itself, first thing: when it exits,
    /// the joiner joins it and then raises its word.
    pub(crate) fn join_on_exit(&self) {
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() } as u64;
        self.pthread.store(me, Ordering::Release);
    }

    /// Whether this is a thread of `CreateThread` (which the joiner joins).
    pub(crate) fn is_created(&self) -> bool {
        self.pthread.load(Ordering::Acquire) != 0
    }

    /// Signals the handle of a thread no joiner joins (`TerminateThread` of itself).
    pub(crate) fn raise_ended(&self) {
        shmkit::sync::multi::raise(&self.ended);
    }
}

/// Hands a thread of `CreateThread` that is ending to the joiner, which joins it and then
/// raises its word. Called once per thread: by whoever took its exit
/// (`Control::claim_exit`).
pub(crate) fn hand_to_joiner(life: Arc<ThreadLife>) {
    let e = exiting();
    e.queue.lock().unwrap_or_else(|p| p.into_inner()).push(life);
    e.more.notify_one();
}

/// Threads of `CreateThread` that are exiting, for the joiner to join.
struct Exiting {
    queue: Mutex<Vec<Arc<ThreadLife>>>,
    more: Condvar,
}

fn exiting() -> &'static Exiting {
    static EXITING: OnceLock<Exiting> = OnceLock::new();
    EXITING.get_or_init(|| Exiting {
        queue: Mutex::new(Vec::new()),
        more: Condvar::new(),
    })
}

/// Starts (once) the joiner: the thread that joins each exiting thread of
/// `CreateThread` and only then raises its word. A thread's handle is so signalled
/// after the system thread is gone — after the kernel has released what it held, so a
/// mutex it owned is seen abandoned by a wait that its handle's signal woke, as on
/// Windows. The thread's destructors (which run just before) hand it over.
pub(crate) fn start_joiner() -> Result<()> {
    static STARTED: OnceLock<std::io::Result<()>> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        std::thread::Builder::new()
            .name("shmkit-win32-thread-joiner".into())
            .stack_size(64 * 1024)
            .spawn(join_forever)
            .map(drop)
    });
    match started {
        Ok(()) => Ok(()),
        Err(_) => Err(crate::error::Win32Error(
            crate::types::err::NOT_ENOUGH_MEMORY,
        )),
    }
}

fn join_forever() {
    let e = exiting();
    loop {
        let next = {
            let mut q = e.queue.lock().unwrap_or_else(|p| p.into_inner());
            while q.is_empty() {
                q = e.more.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            q.remove(0)
        };
        let thread = next.pthread.load(Ordering::Acquire) as libc::pthread_t;
        // No signal is sent to the thread while it is joined, nor after (`apc`).
        let mut joined = next.ctl.hold_signals();
        // SAFETY: a joinable thread that is exiting (or being ended by
        // `TerminateThread`) and that nothing else joins or detaches: each is queued
        // once, by whoever took its exit, and joined once, here.
        unsafe { libc::pthread_join(thread, std::ptr::null_mut()) };
        *joined = true;
        drop(joined);
        // The join returns when the kernel clears the thread's id word, a moment before
        // the thread is released: until then its id still answers, and a mutex it owned
        // would not yet be seen abandoned. Wait (briefly) for it to be gone.
        for _ in 0..10_000 {
            // SAFETY: a signal 0 to a thread id of this process only asks whether it exists.
            let r = unsafe {
                libc::syscall(libc::SYS_tgkill, libc::getpid(), next.tid as libc::pid_t, 0)
            };
            if r != 0 {
                break;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        shmkit::sync::multi::raise(&next.ended);
    }
}

/// Raises the thread's `ThreadLife::ended` when the thread exits (a thread of
/// `CreateThread`: hands it to the joiner, which raises it once the thread is gone).
struct ThreadGuard(Arc<ThreadLife>);

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        if self.0.pthread.load(Ordering::Acquire) != 0 {
            // Unless `TerminateThread` took its exit (and hands it over itself).
            if self.0.ctl.claim_exit() {
                hand_to_joiner(self.0.clone());
            }
        } else {
            shmkit::sync::multi::raise(&self.0.ended);
        }
    }
}

thread_local! {
    static THIS_THREAD: ThreadGuard = ThreadGuard(Arc::new(ThreadLife {
        // SAFETY: gettid has no preconditions.
        tid: unsafe { libc::gettid() } as u32,
        ended: AtomicU32::new(0),
        code: AtomicU32::new(0),
        pthread: AtomicU64::new(0),
        ctl: crate::threadctl::Control::new(),
    }));
}

struct ProcState {
    /// `None` for the calling process, for a child started suspended until its spawn
    /// returns, and once the child has been reaped.
    child: Option<Child>,
    /// For a child started suspended, where its `Child` arrives (`suspend::spawn`).
    arrival: Option<Receiver<std::io::Result<Child>>>,
    exit: Option<DWORD>,
    /// The exit code `TerminateProcess` gave the child, reported instead of the signal's.
    terminated: Option<DWORD>,
}

/// What the watcher of a child that no thread has waited for yet will watch.
enum Watch {
    PidFd(OwnedFd),
    /// No pidfd (a kernel before 5.3): `waitid` on the process id.
    Pid,
}

fn exit_code(status: ExitStatus) -> DWORD {
    match (status.code(), status.signal()) {
        (Some(code), _) => code as DWORD,
        // Killed by a signal: 128 + its number, as shells report it.
        (None, Some(sig)) => 128 + sig as DWORD,
        (None, None) => 1,
    }
}

fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a process id and flags and returns a new descriptor, which
    // is then owned here.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    // SAFETY: a descriptor just returned to us, owned by nothing else.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Blocks until the process ends (not reaping it), then raises `exit`.
fn watch(watch: &Watch, pid: u32, exit: &AtomicU32) {
    match watch {
        Watch::PidFd(fd) => loop {
            let mut p = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd, valid for the call.
            let r = unsafe { libc::poll(&mut p, 1, -1) };
            if r > 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        },
        Watch::Pid => loop {
            // SAFETY: a zeroed siginfo_t is valid, and waitid writes only into it.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: as above; WNOWAIT leaves the child to be reaped by `poll`.
            let r = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        },
    }
    shmkit::sync::multi::raise(exit);
}

impl ProcessObject {
    /// A child this process started.
    pub(crate) fn child(child: Child) -> ProcessObject {
        let pid = child.id();
        // Opened now, while the child cannot have been reaped: the pidfd is its own.
        let watch = pidfd_open(pid).map_or(Watch::Pid, Watch::PidFd);
        ProcessObject {
            pid,
            state: Mutex::new(ProcState {
                child: Some(child),
                arrival: None,
                exit: None,
                terminated: None,
            }),
            exit: Arc::new(AtomicU32::new(0)),
            watch: Mutex::new(Some(Arc::new(watch))),
            thread: None,
            suspension: Suspension::running(),
        }
    }

    /// A child started suspended (`suspend::spawn`), held before its program.
    pub(crate) fn held_child(held: Held) -> ProcessObject {
        // Opened now, while the child cannot have been reaped (its spawn has not
        // returned): the pidfd is its own.
        let watch = pidfd_open(held.pid).map_or(Watch::Pid, Watch::PidFd);
        ProcessObject {
            pid: held.pid,
            state: Mutex::new(ProcState {
                child: None,
                arrival: Some(held.arrival),
                exit: None,
                terminated: None,
            }),
            exit: Arc::new(AtomicU32::new(0)),
            watch: Mutex::new(Some(Arc::new(watch))),
            thread: None,
            suspension: held.suspension,
        }
    }

    /// The calling process (what `DuplicateHandle` of `GetCurrentProcess()` gives).
    pub(crate) fn current() -> ProcessObject {
        ProcessObject::of_this_process(None)
    }

    /// The calling process, or one of its threads (`thread`).
    fn of_this_process(thread: Option<Arc<ThreadLife>>) -> ProcessObject {
        ProcessObject {
            pid: std::process::id(),
            state: Mutex::new(ProcState {
                child: None,
                arrival: None,
                exit: None,
                terminated: None,
            }),
            exit: Arc::new(AtomicU32::new(0)),
            watch: Mutex::new(None),
            thread,
            suspension: Suspension::running(),
        }
    }

    /// The calling thread (what `DuplicateHandle` of `GetCurrentThread()` gives): it is
    /// signalled when the thread ends.
    pub(crate) fn current_thread() -> ProcessObject {
        ProcessObject::thread(ThreadLife::this_thread())
    }

    /// A thread of this process (one `CreateThread` started): signalled when it ends.
    pub(crate) fn thread(life: Arc<ThreadLife>) -> ProcessObject {
        ProcessObject::of_this_process(Some(life))
    }

    /// For a thread of this process, its life; `None` for a process (or a child's main
    /// thread).
    pub(crate) fn thread_life(&self) -> Option<&Arc<ThreadLife>> {
        self.thread.as_ref()
    }

    /// `TerminateProcess` of a child: kills it (SIGKILL) and makes `code` its exit code.
    /// A child that has already ended keeps its own code. The caller has checked that
    /// this is a child, not the calling process.
    pub(crate) fn terminate(&self, code: DWORD) -> Result<()> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.settle(&mut s, false);
        if s.exit.is_some() {
            return Ok(());
        }
        if s.arrival.is_some() {
            // Held before its program: its spawn has not returned, so it is not reaped
            // and the pid is its own. Its spawn returns once it has died.
            // SAFETY: kill has no memory preconditions; the pid is this unreaped child's.
            if unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) } != 0 {
                return Err(std::io::Error::last_os_error().into());
            }
            s.terminated = Some(code);
            self.settle(&mut s, true);
            return Ok(());
        }
        if let Some(child) = s.child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                s.exit = Some(exit_code(status));
                s.child = None;
                shmkit::sync::multi::raise(&self.exit);
                return Ok(());
            }
            child.kill()?;
            s.terminated = Some(code);
        }
        Ok(())
    }

    pub(crate) fn is_current(&self) -> bool {
        self.pid == std::process::id()
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The thread id: the thread's own for a thread of this process, else the process id
    /// (a child's main thread is reported with the process's id).
    pub(crate) fn tid(&self) -> u32 {
        self.thread.as_ref().map_or(self.pid, |t| t.tid)
    }

    /// The exit code, once the process has ended.
    pub(crate) fn poll(&self) -> Option<DWORD> {
        if let Some(t) = &self.thread {
            return t.exit_code();
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.reap(&mut s);
        s.exit
    }

    /// Records the exit code of a child that has ended, reaping it.
    fn reap(&self, s: &mut ProcState) {
        self.settle(s, false);
        if s.exit.is_some() {
            return;
        }
        let terminated = s.terminated;
        if let Some(child) = s.child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                s.exit = Some(terminated.unwrap_or_else(|| exit_code(status)));
                s.child = None;
                // Reaped: its pid may be reused, so a watcher waiting by pid may not
                // see it end; the word is raised here too.
                shmkit::sync::multi::raise(&self.exit);
            }
        }
    }

    /// For a child started suspended whose spawn has not yet been seen to return: takes
    /// its `Child` when the spawn has returned. It is waited for when `now`, when the
    /// child has been let go (its spawn returns as soon as its program runs) or when it
    /// has ended (the spawn returns then too).
    fn settle(&self, s: &mut ProcState, now: bool) {
        let Some(arrival) = &s.arrival else {
            return;
        };
        let wait = now || self.suspension.is_let_go() || self.exit.load(Ordering::Acquire) != 0;
        let got = if wait {
            arrival.recv().map_err(|_| ())
        } else {
            match arrival.try_recv() {
                Ok(r) => Ok(r),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => Err(()),
            }
        };
        s.arrival = None;
        match got {
            Ok(Ok(child)) => s.child = Some(child),
            // Its program could not run (its spawn has reaped it), or the thread that
            // spawned it is gone: it has ended, with the error as its code.
            Ok(Err(e)) => {
                s.exit = Some(s.terminated.unwrap_or_else(|| crate::error::code_of_io(&e)));
                shmkit::sync::multi::raise(&self.exit);
            }
            Err(()) => {
                s.exit = Some(crate::types::err::GEN_FAILURE);
                shmkit::sync::multi::raise(&self.exit);
            }
        }
    }

    /// `SuspendThread` of a child's main thread: see `suspend`. A child that has ended
    /// is `ERROR_ACCESS_DENIED`, as a thread that has ended is.
    pub(crate) fn suspend_main(&self) -> Result<u32> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.live_child(&mut s)?;
        // The state lock is held: `poll` cannot reap the child meanwhile.
        self.suspension.suspend(self.pid)
    }

    /// `ResumeThread` of a child's main thread: see `suspend`. A child that has ended is
    /// left alone (0).
    pub(crate) fn resume_main(&self) -> Result<u32> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if self.live_child(&mut s).is_err() {
            return Ok(0);
        }
        self.suspension.resume(self.pid)
    }

    /// Succeeds for a child that has not been reaped (nor seen to have ended).
    fn live_child(&self, s: &mut ProcState) -> Result<()> {
        self.reap(s);
        if s.exit.is_some() || (s.child.is_none() && s.arrival.is_none()) {
            return crate::error::fail(crate::types::err::ACCESS_DENIED);
        }
        Ok(())
    }

    /// The word that is non-zero once the process has ended, which waits sleep on
    /// (raised by [`raise`](shmkit::sync::multi::raise), which wakes them). Starts the
    /// watcher thread the first time. The calling process's word is never raised.
    pub(crate) fn exit_word(&self) -> Result<&AtomicU32> {
        if let Some(t) = &self.thread {
            return Ok(&t.ended);
        }
        let mut watch = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = watch.clone() {
            let (pid, exit) = (self.pid, self.exit.clone());
            // A thread that cannot start leaves the watch to the next wait: without a
            // watcher, waits would sleep for ever.
            std::thread::Builder::new()
                .name("shmkit-win32-exit-watch".into())
                .stack_size(64 * 1024)
                .spawn(move || self::watch(&w, pid, &exit))?;
            *watch = None;
        }
        Ok(&self.exit)
    }

    /// Waits for the process to end; false on timeout.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        use shmkit::sync::multi::{wait_any, Waitable, Woken};
        Ok(wait_any(&[Waitable::Flag(self.exit_word()?)], timeout)? != Woken::TimedOut)
    }
}

impl Drop for ProcessObject {
    fn drop(&mut self) {
        // The last handle to a running child is gone: reap it when it ends, so that it
        // never lingers as a zombie (Windows has none).
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        // A child held before its program ends when the pipe it waits on closes, with
        // the suspension dropped after this; one let go is reaped by the thread that
        // spawned it, which finds nobody to hand it to.
        state.arrival = None;
        if let Some(mut child) = state.child.take() {
            if let Ok(None) = child.try_wait() {
                let _ = std::thread::Builder::new()
                    .name("shmkit-win32-reaper".into())
                    .spawn(move || {
                        let _ = child.wait();
                    });
            }
        }
    }
}
