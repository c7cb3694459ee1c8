//! Mutexes, events and semaphores on Linux.
//!
//! A sync object is an object file like a mapping's (same directory, same name rules,
//! same create / open / close protocol, so the same lifetime and the same crash safety),
//! of one page: the header, and at byte [`SYNC_AT`] the object's state. Every handle maps
//! that page shared, so the state words are shared by every process that has it open.
//!
//! - Mutex: a process-shared, robust, recursive pthread mutex. Its lock word is the
//!   kernel's robust-futex word (owner tid, waiters bit, owner-died bit); glibc puts the
//!   mutex on the owning thread's robust list, so when that thread ends or its process is
//!   killed the kernel marks it abandoned and wakes a waiter, which gets `EOWNERDEAD`.
//!   Uncontended lock and unlock are one atomic instruction each, no system call.
//! - Event and semaphore: the state machines of `crate::sync::state`, sleeping with
//!   shared (never `FUTEX_PRIVATE_FLAG`) futexes on the page's `seq` word.
//!
//! Layout from [`SYNC_AT`]: mutex: the `pthread_mutex_t`. Event and semaphore: the 64-bit
//! state, the 32-bit `seq`, then a 32-bit parameter (the event's manual-reset flag, the
//! semaphore's maximum).

use super::object::{self, kind, Entry, Header};
use super::store;
use super::sys::{self, Errno};
use crate::error::{code, Error, ErrorKind, Result};
use crate::name::Name;
use crate::os::{SyncParams, SyncRequest, SyncType};
use crate::sync::state::{EventWords, Futex, SemaphoreWords};
use crate::sync::Acquire;
use rustix::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use rustix::mm::{MapFlags, ProtFlags};
use std::process::Command;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where the state starts in the object's first page (object.rs reserves 2048..4096).
const SYNC_AT: usize = 2048;
const PAGE: usize = 4096;
const STATE_AT: usize = SYNC_AT;
const SEQ_AT: usize = SYNC_AT + 8;
const PARAM_AT: usize = SYNC_AT + 12;
const TOKEN_PREFIX: &str = "shmkit-sync:";
/// The kernel's robust-futex owner mask (`FUTEX_TID_MASK`).
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

const _: () = assert!(SYNC_AT + std::mem::size_of::<libc::pthread_mutex_t>() <= PAGE);
const _: () = assert!(PARAM_AT + 4 <= PAGE && STATE_AT % 8 == 0);
const _: () = assert!(SYNC_AT % std::mem::align_of::<libc::pthread_mutex_t>() == 0);

extern "C" {
    // glibc 2.30 and later: a mutex wait against CLOCK_MONOTONIC, immune to clock changes.
    fn pthread_mutex_clocklock(
        mutex: *mut libc::pthread_mutex_t,
        clock: libc::clockid_t,
        abstime: *const libc::timespec,
    ) -> libc::c_int;
}

fn kind_code(t: SyncType) -> u32 {
    match t {
        SyncType::Mutex => kind::MUTEX,
        SyncType::Event => kind::EVENT,
        SyncType::Semaphore => kind::SEMAPHORE,
    }
}

fn type_of(code: u32) -> Option<SyncType> {
    match code {
        kind::MUTEX => Some(SyncType::Mutex),
        kind::EVENT => Some(SyncType::Event),
        kind::SEMAPHORE => Some(SyncType::Semaphore),
        _ => None,
    }
}

fn sys_err(e: Errno, what: &str) -> Error {
    Error::from_io(e.into(), what.to_owned())
}

/// The shared first page of a sync object, mapped read-write.
struct Page {
    ptr: NonNull<u8>,
    /// Leave it mapped when dropped (see `SyncHandle`'s `Drop`).
    keep_mapped: bool,
}

// SAFETY: the page is plain shared memory that is only accessed through atomics and
// pthread calls made for process-shared use; any thread may use it.
unsafe impl Send for Page {}
// SAFETY: as above: every access is atomic or a pthread call that synchronises itself.
unsafe impl Sync for Page {}

impl Page {
    fn map(fd: impl AsFd) -> std::result::Result<Page, Errno> {
        // SAFETY: a new shared mapping of one page of the object's file, placed by the
        // kernel; nothing else refers to that address range. The file is at least a page
        // long (checked by the callers), so no access can fault.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                PAGE,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                fd,
                0,
            )?
        };
        NonNull::new(ptr.cast::<u8>())
            .map(|ptr| Page {
                ptr,
                keep_mapped: false,
            })
            .ok_or(Errno::NOMEM)
    }

    fn u32_at(&self, at: usize) -> &AtomicU32 {
        // SAFETY: `at` is a constant inside the page, 4-aligned (the page is page-aligned);
        // the page lives as long as `self`; AtomicU32 has the layout of u32 and every bit
        // pattern is valid.
        unsafe { &*self.ptr.as_ptr().add(at).cast::<AtomicU32>() }
    }

    fn u64_at(&self, at: usize) -> &AtomicU64 {
        // SAFETY: as in `u32_at`, with `at` 8-aligned.
        unsafe { &*self.ptr.as_ptr().add(at).cast::<AtomicU64>() }
    }

    #[inline]
    fn mutex(&self) -> *mut libc::pthread_mutex_t {
        self.ptr
            .as_ptr()
            .wrapping_add(SYNC_AT)
            .cast::<libc::pthread_mutex_t>()
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        if self.keep_mapped {
            return;
        }
        // SAFETY: the page was mapped by `Page::map` with this length and nothing borrows
        // it beyond `self` (the references it hands out borrow `self`).
        let _ = unsafe { rustix::mm::munmap(self.ptr.as_ptr().cast(), PAGE) };
    }
}

/// Futex waits and wakes on words of the shared page (shared futexes: the kernel keys
/// them by file and offset, so every process that maps the page meets on them).
struct SharedFutex;

impl Futex for SharedFutex {
    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        use rustix::thread::futex;
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                Some(rustix::fs::Timespec {
                    tv_sec: left.as_secs().min(i64::MAX as u64) as i64,
                    tv_nsec: left.subsec_nanos().into(),
                })
            }
        };
        match futex::wait(word, futex::Flags::empty(), expected, timeout.as_ref()) {
            Err(Errno::TIMEDOUT) => false,
            // Woken, interrupted, or the word had changed: the caller looks again.
            _ => true,
        }
    }

    fn wake(&self, word: &AtomicU32, n: u32) {
        let n = n.min(i32::MAX as u32);
        let _ = rustix::thread::futex::wake(word, rustix::thread::futex::Flags::empty(), n);
    }
}

/// A deadline `timeout` from now; `None` (wait forever) when it would overflow.
fn deadline(timeout: Option<Duration>) -> (Option<Instant>, bool) {
    match timeout {
        None => (None, false),
        Some(t) if t.is_zero() => (Some(Instant::now()), true),
        Some(t) => (Instant::now().checked_add(t), false),
    }
}

/// One open handle to a mutex, an event or a semaphore.
pub(crate) struct SyncHandle {
    page: Page,
    kind: SyncType,
    /// The event's manual-reset flag or the semaphore's maximum, read once.
    param: u32,
    /// The hold on the name, for named objects.
    entry: Option<Entry>,
    /// The memfd of an unnamed object (what clones and children map).
    unnamed: Option<OwnedFd>,
    /// A second hold for children to inherit (`inheritable(true)`).
    inheritable: Option<sys::InheritableFd>,
}

fn label(kind: SyncType, name: Option<&Name>) -> String {
    crate::sync::label(kind, name.map(Name::as_str))
}

/// Writes the initial state into a new object's page; with an initial owner, the calling
/// thread takes the mutex before anyone else can see it.
fn initialise(page: &Page, params: SyncParams) -> std::result::Result<(), Errno> {
    match params {
        SyncParams::Mutex { initial_owner } => {
            let m = page.mutex();
            // SAFETY: `m` points into the mapped page, suitably aligned (SYNC_AT is a
            // multiple of 8) and large enough (checked at compile time); no other process
            // can see the object before it is linked under its name, so initialising it
            // here races with nobody. The attribute object lives on this stack frame.
            unsafe {
                let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
                let a = attr.as_mut_ptr();
                let mut rc = libc::pthread_mutexattr_init(a);
                if rc == 0 {
                    rc = libc::pthread_mutexattr_settype(a, libc::PTHREAD_MUTEX_RECURSIVE);
                    if rc == 0 {
                        rc = libc::pthread_mutexattr_setpshared(a, libc::PTHREAD_PROCESS_SHARED);
                    }
                    if rc == 0 {
                        rc = libc::pthread_mutexattr_setrobust(a, libc::PTHREAD_MUTEX_ROBUST);
                    }
                    if rc == 0 {
                        rc = libc::pthread_mutex_init(m, a);
                    }
                    libc::pthread_mutexattr_destroy(a);
                }
                if rc == 0 && initial_owner {
                    rc = libc::pthread_mutex_lock(m);
                }
                if rc != 0 {
                    return Err(Errno::from_raw_os_error(rc));
                }
            }
        }
        SyncParams::Event {
            manual,
            initially_set,
        } => {
            page.u64_at(STATE_AT)
                .store(EventWords::initial(initially_set), Ordering::SeqCst);
            page.u32_at(PARAM_AT)
                .store(u32::from(manual), Ordering::SeqCst);
        }
        SyncParams::Semaphore { initial, max } => {
            page.u64_at(STATE_AT)
                .store(SemaphoreWords::initial(initial), Ordering::SeqCst);
            page.u32_at(PARAM_AT).store(max, Ordering::SeqCst);
        }
    }
    Ok(())
}

fn wrong_type(name: &Name, want: SyncType, found: u32) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind ({}), not a {}",
            crate::name::quoted(name.as_str()),
            object::kind_name(found),
            want.as_str()
        ),
    )
}

/// SPEC 7.5 with 2.1: create-or-open (or create-new).
pub(crate) fn create_sync(req: &SyncRequest<'_>) -> Result<(SyncHandle, bool)> {
    let kind = req.params.sync_type();
    let what = label(kind, req.name);
    let Some(name) = req.name else {
        return Ok((unnamed(req, kind, &what)?, false));
    };
    let dir = store::ns_dir(name.namespace())?;
    dir.reclaim_dead();
    loop {
        if let Some(entry) = object::open_entry(&dir, name, true, "creating")? {
            if entry.header.kind != kind_code(kind) {
                return Err(wrong_type(name, kind, entry.header.kind));
            }
            if req.exclusive {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("cannot create {what}: an object of that name already exists"),
                ));
            }
            if entry.owner != dir.uid {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "creating {what}: the name is held by an object of uid {}, not yours; \
                         refusing a name another user may have squatted (use open to use \
                         another user's object on purpose)",
                        entry.owner
                    ),
                ));
            }
            let mut handle = from_entry(entry, kind, &what)?;
            if req.inheritable {
                handle.make_inheritable(&what)?;
            }
            return Ok((handle, true));
        }
        let header = Header::new(kind_code(kind), name, 0, dir.uid);
        let mut page = None;
        let created = object::create_entry(
            &dir,
            name,
            &header,
            PAGE as u64,
            req.permissions,
            |fd| {
                let p = Page::map(fd).map_err(|e| sys_err(e, &format!("creating {what}")))?;
                initialise(&p, req.params).map_err(|e| sys_err(e, &format!("creating {what}")))?;
                page = Some(p);
                Ok(())
            },
            "creating",
        );
        let created = match created {
            Ok(c) => c,
            Err(e) => {
                if let Some(p) = page.take() {
                    release_initial_owner(&p, req.params);
                }
                return Err(e);
            }
        };
        let page = page.ok_or_else(|| {
            Error::new(ErrorKind::Other, format!("creating {what}: no state page"))
        })?;
        match created {
            Some(entry) => {
                let mut handle = SyncHandle {
                    param: read_param(&page, kind),
                    page,
                    kind,
                    entry: Some(entry),
                    unnamed: None,
                    inheritable: None,
                };
                if req.inheritable {
                    handle.make_inheritable(&what)?;
                }
                return Ok((handle, false));
            }
            // Another process linked the name first: open theirs.
            None => release_initial_owner(&page, req.params),
        }
    }
}

/// Undoes the initial ownership of a mutex that never got its name, so that its page
/// leaves this thread's robust list before it is unmapped.
fn release_initial_owner(page: &Page, params: SyncParams) {
    if let SyncParams::Mutex {
        initial_owner: true,
    } = params
    {
        // SAFETY: the mutex was initialised and locked by this thread in `initialise`.
        unsafe { libc::pthread_mutex_unlock(page.mutex()) };
    }
}

fn read_param(page: &Page, kind: SyncType) -> u32 {
    match kind {
        SyncType::Mutex => 0,
        _ => page.u32_at(PARAM_AT).load(Ordering::SeqCst),
    }
}

fn unnamed(req: &SyncRequest<'_>, kind: SyncType, what: &str) -> Result<SyncHandle> {
    let fail = |e: Errno| sys_err(e, &format!("creating {what}"));
    let fd =
        rustix::fs::memfd_create("shmkit-sync", rustix::fs::MemfdFlags::CLOEXEC).map_err(fail)?;
    rustix::fs::ftruncate(&fd, PAGE as u64).map_err(fail)?;
    // Writing the header allocates the page, so a full memory fails here, not as SIGBUS.
    let (bytes, _) = Header::unnamed(kind_code(kind)).encode();
    let mut done = 0;
    while done < bytes.len() {
        done += rustix::io::pwrite(&fd, &bytes[done..], done as u64).map_err(fail)?;
    }
    let page = Page::map(&fd).map_err(fail)?;
    initialise(&page, req.params).map_err(fail)?;
    let mut handle = SyncHandle {
        param: read_param(&page, kind),
        page,
        kind,
        entry: None,
        unnamed: Some(fd),
        inheritable: None,
    };
    if req.inheritable {
        handle.make_inheritable(what)?;
    }
    Ok(handle)
}

fn from_entry(entry: Entry, kind: SyncType, what: &str) -> Result<SyncHandle> {
    let st = sys::fstat(&entry.fd).map_err(|e| sys_err(e, what))?;
    if (st.st_size as usize) < PAGE {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: its file in the store is truncated; refusing it"),
        ));
    }
    let page = Page::map(&entry.fd).map_err(|e| sys_err(e, what))?;
    Ok(SyncHandle {
        param: read_param(&page, kind),
        page,
        kind,
        entry: Some(entry),
        unnamed: None,
        inheritable: None,
    })
}

/// SPEC 7.5 with 2.6: opens an existing object of kind `kind`.
pub(crate) fn open_sync(name: &Name, kind: SyncType) -> Result<SyncHandle> {
    let what = label(kind, Some(name));
    let dir = store::ns_dir(name.namespace())?;
    dir.reclaim_dead();
    let entry = object::open_entry(&dir, name, true, "opening")?.ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("cannot open {what}: no object of that name exists"),
        )
    })?;
    if entry.header.kind != kind_code(kind) {
        return Err(wrong_type(name, kind, entry.header.kind));
    }
    from_entry(entry, kind, &what)
}

impl SyncHandle {
    pub(crate) fn sync_type(&self) -> SyncType {
        self.kind
    }

    /// The object's name, for a handle adopted from a parent.
    pub(crate) fn name(&self) -> Option<String> {
        self.entry.as_ref().and_then(|e| e.header.name.clone())
    }

    fn what(&self) -> String {
        crate::sync::label(self.kind, self.name().as_deref())
    }

    fn wrong_op(&self, op: &str) -> Error {
        Error::new(
            ErrorKind::InvalidHandle,
            format!("{op}: {} is not of the right kind", self.what()),
        )
    }

    #[inline]
    pub(crate) fn mutex_acquire(&self, timeout: Option<Duration>) -> Result<Acquire> {
        if self.kind != SyncType::Mutex {
            return Err(self.wrong_op("waiting for a mutex"));
        }
        let m = self.page.mutex();
        // A timeout too long to represent waits forever.
        let timeout = timeout.filter(|t| t.as_secs() < (i64::MAX as u64) / 4);
        // SAFETY: `m` is the process-shared mutex initialised by the object's creator in
        // the page this handle maps for its whole life.
        let rc = unsafe {
            match timeout {
                None => libc::pthread_mutex_lock(m),
                Some(t) if t.is_zero() => libc::pthread_mutex_trylock(m),
                Some(t) => {
                    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
                    let mut sec = now.tv_sec.saturating_add(t.as_secs() as i64);
                    let mut nsec = now.tv_nsec + i64::from(t.subsec_nanos());
                    if nsec >= 1_000_000_000 {
                        nsec -= 1_000_000_000;
                        sec = sec.saturating_add(1);
                    }
                    let abs = libc::timespec {
                        tv_sec: sec as libc::time_t,
                        tv_nsec: nsec as _,
                    };
                    pthread_mutex_clocklock(m, libc::CLOCK_MONOTONIC, &abs)
                }
            }
        };
        match rc {
            0 => Ok(Acquire::Acquired),
            libc::EOWNERDEAD => {
                // The owner died holding it: we own it now. Mark it usable again, as a
                // Windows mutex is after WAIT_ABANDONED.
                // SAFETY: this thread owns the mutex (EOWNERDEAD hands it over).
                unsafe { libc::pthread_mutex_consistent(m) };
                Ok(Acquire::Abandoned)
            }
            libc::EBUSY | libc::ETIMEDOUT => Ok(Acquire::TimedOut),
            libc::EAGAIN => Err(Error::with_code(
                ErrorKind::Other,
                code::GEN_FAILURE,
                format!(
                    "waiting for {}: the owning thread has acquired it too many times",
                    self.what()
                ),
            )),
            libc::ENOTRECOVERABLE => Err(Error::new(
                ErrorKind::Other,
                format!(
                    "waiting for {}: a process released it after its previous owner died \
                     without marking it consistent; it cannot be used any more",
                    self.what()
                ),
            )),
            e => Err(sys_err(
                Errno::from_raw_os_error(e),
                &format!("waiting for {}", self.what()),
            )),
        }
    }

    #[inline]
    pub(crate) fn mutex_release(&self) -> Result<()> {
        if self.kind != SyncType::Mutex {
            return Err(self.wrong_op("releasing a mutex"));
        }
        // SAFETY: as in `mutex_acquire`; unlocking a mutex this thread does not own is
        // refused by glibc with EPERM (robust and recursive mutexes check the owner).
        match unsafe { libc::pthread_mutex_unlock(self.page.mutex()) } {
            0 => Ok(()),
            libc::EPERM => Err(Error::new(
                ErrorKind::NotOwner,
                format!(
                    "releasing {}: the calling thread does not own it",
                    self.what()
                ),
            )),
            e => Err(sys_err(
                Errno::from_raw_os_error(e),
                &format!("releasing {}", self.what()),
            )),
        }
    }

    pub(crate) fn mutex_owned_by_caller(&self) -> bool {
        self.kind == SyncType::Mutex && owned_by_caller(&self.page)
    }

    fn event(&self) -> EventWords<'_> {
        let page = &self.page;
        EventWords {
            state: page.u64_at(STATE_AT),
            seq: page.u32_at(SEQ_AT),
            manual: self.param != 0,
        }
    }

    fn semaphore(&self) -> SemaphoreWords<'_> {
        let page = &self.page;
        SemaphoreWords {
            state: page.u64_at(STATE_AT),
            seq: page.u32_at(SEQ_AT),
            max: self.param,
        }
    }

    pub(crate) fn event_set(&self) -> Result<()> {
        if self.kind != SyncType::Event {
            return Err(self.wrong_op("setting an event"));
        }
        self.event().set(&SharedFutex);
        Ok(())
    }

    pub(crate) fn event_reset(&self) -> Result<()> {
        if self.kind != SyncType::Event {
            return Err(self.wrong_op("resetting an event"));
        }
        self.event().reset();
        Ok(())
    }

    pub(crate) fn event_wait(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != SyncType::Event {
            return Err(self.wrong_op("waiting for an event"));
        }
        let (deadline, poll) = deadline(timeout);
        Ok(self.event().wait(&SharedFutex, deadline, poll))
    }

    pub(crate) fn event_manual(&self) -> bool {
        self.kind == SyncType::Event && self.param != 0
    }

    pub(crate) fn semaphore_release(&self, n: u32) -> Result<u32> {
        if self.kind != SyncType::Semaphore {
            return Err(self.wrong_op("releasing a semaphore"));
        }
        self.semaphore()
            .release(n, &SharedFutex)
            .map_err(|too_many| {
                Error::new(
                    ErrorKind::TooManyPosts,
                    format!(
                        "releasing {} by {n}: its count {} would pass its maximum {}; \
                         nothing changed",
                        self.what(),
                        too_many.count,
                        self.param
                    ),
                )
            })
    }

    pub(crate) fn semaphore_acquire(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != SyncType::Semaphore {
            return Err(self.wrong_op("waiting for a semaphore"));
        }
        let (deadline, poll) = deadline(timeout);
        Ok(self.semaphore().acquire(&SharedFutex, deadline, poll))
    }

    pub(crate) fn semaphore_max(&self) -> u32 {
        if self.kind == SyncType::Semaphore {
            self.param
        } else {
            0
        }
    }

    /// A new open file description of the object with its own hold on the name.
    fn fresh_hold(&self) -> std::result::Result<OwnedFd, Errno> {
        match (&self.entry, &self.unnamed) {
            (Some(entry), _) => entry.duplicate(true),
            (None, Some(fd)) => rustix::io::fcntl_dupfd_cloexec(fd, 0),
            (None, None) => Err(Errno::BADF),
        }
    }

    fn make_inheritable(&mut self, what: &str) -> Result<()> {
        let fd = self.fresh_hold().map_err(|e| sys_err(e, what))?;
        self.inheritable = Some(sys::InheritableFd::new(fd).map_err(|e| sys_err(e, what))?);
        Ok(())
    }

    fn token_for(&self, fd: RawFd) -> String {
        let k = self.kind.as_str();
        let named = if self.entry.is_some() {
            "named"
        } else {
            "unnamed"
        };
        format!("{TOKEN_PREFIX}{fd}:{k}:{named}")
    }

    pub(crate) fn inherit_token(&self) -> Option<String> {
        self.inheritable
            .as_ref()
            .map(|fd| self.token_for(fd.as_raw_fd()))
    }

    pub(crate) fn share_with(&self, cmd: &mut Command) -> Result<String> {
        let what = format!("sharing {} with a child process", self.what());
        let fd = self.fresh_hold().map_err(|e| sys_err(e, &what))?;
        let token = self.token_for(fd.as_raw_fd());
        sys::pass_to_child(cmd, fd);
        Ok(token)
    }

    pub(crate) fn from_inherited(token: &str) -> Result<SyncHandle> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidHandle,
                format!("inherited handle {token:?}: {why}"),
            )
        };
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| bad("not a shmkit sync-object token"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [fd, k, named] = parts[..] else {
            return Err(bad("malformed token"));
        };
        let fd: RawFd = fd.parse().map_err(|_| bad("malformed descriptor"))?;
        let kind = SyncType::parse(k).ok_or_else(|| bad("malformed kind"))?;
        if !matches!(named, "named" | "unnamed") {
            return Err(bad("malformed token"));
        }
        let owned = sys::take_inherited(fd).map_err(bad)?;
        let st = sys::fstat(&owned).map_err(|_| bad("cannot inspect it"))?;
        let header = match Header::read(&owned) {
            Ok(h) if st.st_mode & 0o170000 == 0o100000 && st.st_size as usize >= PAGE => h,
            _ => {
                std::mem::forget(owned);
                return Err(bad("not a shmkit sync object"));
            }
        };
        if type_of(header.kind) != Some(kind) {
            std::mem::forget(owned);
            return Err(bad("the object is not of the kind the token says"));
        }
        let what = label(kind, None);
        if named == "unnamed" {
            let _ = rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC);
            let page = Page::map(&owned).map_err(|e| sys_err(e, &what))?;
            return Ok(SyncHandle {
                param: read_param(&page, kind),
                page,
                kind,
                entry: None,
                unnamed: Some(owned),
                inheritable: None,
            });
        }
        let name = header
            .name
            .as_deref()
            .and_then(|n| Name::parse(n).ok())
            .ok_or_else(|| bad("no name"))?;
        let dir = store::ns_dir(name.namespace())?;
        let entry = Entry::adopt(owned, dir, true)?;
        from_entry(entry, kind, &label(kind, Some(&name)))
    }

    pub(crate) fn try_clone(&self) -> Result<SyncHandle> {
        let what = format!("duplicating a handle to {}", self.what());
        let (entry, unnamed, page) = match (&self.entry, &self.unnamed) {
            (Some(e), _) => {
                let fd = e.duplicate(true).map_err(|err| sys_err(err, &what))?;
                let page = Page::map(&fd).map_err(|err| sys_err(err, &what))?;
                e.dir.enter()?;
                (Some(Entry::new_held(fd, e)), None, page)
            }
            (None, Some(fd)) => {
                let fd = rustix::io::fcntl_dupfd_cloexec(fd, 0).map_err(|e| sys_err(e, &what))?;
                let page = Page::map(&fd).map_err(|e| sys_err(e, &what))?;
                (None, Some(fd), page)
            }
            (None, None) => return Err(self.wrong_op("duplicating")),
        };
        Ok(SyncHandle {
            page,
            kind: self.kind,
            param: self.param,
            entry,
            unnamed,
            inheritable: None,
        })
    }
}

/// Whether the calling thread owns the mutex in `page`: the robust lock word holds the
/// owner's thread id.
fn owned_by_caller(page: &Page) -> bool {
    // The lock word is the first field of glibc's pthread_mutex_t, in the kernel's
    // robust-futex format.
    let word = page.u32_at(SYNC_AT).load(Ordering::SeqCst) & FUTEX_TID_MASK;
    word != 0 && word == rustix::thread::gettid().as_raw_nonzero().get() as u32
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        // A mutex this thread owns is on its robust list, which the kernel walks when the
        // thread ends: its page must stay mapped until then. As on Windows, the mutex
        // stays owned; when the thread ends it becomes abandoned for the next waiter.
        // (The entry, the hold on the name, closes after the page.)
        self.page.keep_mapped = self.mutex_owned_by_caller();
    }
}
