//! Mutexes, events and semaphores on Linux.
//!
//! A sync object is an object file like a mapping's (same directory, same name rules,
//! the same create-or-open and lifetime protocol in `object`, so the same crash safety),
//! of one page: the header, and the object's state (`page`). Every handle maps that page
//! shared, so the state words are shared by every process that has it open.
//!
//! - Mutex: the state machine of `crate::sync::lockword` over words of the page that hold
//!   thread ids, never addresses (`owner`).
//! - Event and semaphore: the state machines of `crate::sync::state`, sleeping on the
//!   page's `seq` word with shared futexes (`futex`).
//! - Waits for several objects at once: `crate::sync::multiwait` over the same words,
//!   sleeping on all their `seq` words at once (`futex_waitv`, in `futex`).

pub(super) mod futex;
pub(super) mod owner;
mod page;

use self::futex::SharedFutex;
use self::owner::Threads;
use self::page::{Page, PAGE, PARAM_AT, RESERVER_AT, SEQ_AT, STATE_AT};
use super::inherit::{self, InheritableFd, Offered};
use super::object::{self, Entry, Header, NewObject};
use super::store;
use super::sys::{self, Errno};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Acquire, Kind};
use crate::name::{label, Name};
use crate::os::{SyncParams, SyncRequest};
use crate::sync::lockword::{Locked, MutexWords};
use crate::sync::multiwait::{self, Item, Woken};
use crate::sync::state::{EventWords, SemaphoreWords};
use crate::token::{Origin, Token};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use std::cell::RefCell;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn sys_err(e: Errno, what: &str) -> Error {
    Error::from_io(e.into(), what.to_owned())
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
    kind: Kind,
    /// The event's manual-reset flag or the semaphore's maximum, read once.
    param: u32,
    /// A second hold for children to inherit (`inheritable(true)`). Declared before
    /// `entry`, so that it closes first: the close protocol must not count it as another
    /// holder.
    inheritable: Option<InheritableFd>,
    /// The hold on the name, for named objects.
    entry: Option<Entry>,
    /// The memfd of an unnamed object (what clones and children map).
    unnamed: Option<OwnedFd>,
}

/// Writes the initial state into a new object's page; with an initial owner, the calling
/// thread takes the mutex before anyone else can see it.
fn initialise(page: &Page, params: SyncParams) -> std::result::Result<(), Errno> {
    match params {
        SyncParams::Mutex { initial_owner } => {
            let words = owner::words(page);
            let me = initial_owner.then(owner::me);
            words.state.store(MutexWords::initial(me), Ordering::SeqCst);
            if let Some(me) = me {
                words.init_owner(me);
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

fn read_param(page: &Page, kind: Kind) -> u32 {
    match kind {
        Kind::Mutex => 0,
        _ => page.u32_at(PARAM_AT).load(Ordering::SeqCst),
    }
}

/// SPEC 7.5 with 2.1: create-or-open (or create-new).
pub(crate) fn create_sync(req: &SyncRequest<'_>) -> Result<(SyncHandle, bool)> {
    let kind = req.params.kind();
    let what = label(kind, req.name.map(Name::as_str));
    let Some(name) = req.name else {
        return Ok((unnamed(req, kind, &what)?, false));
    };
    let dir = store::ns_dir(name.namespace())?;
    let header = Header::new(kind, name, 0, dir.uid);
    let new = NewObject {
        header: &header,
        file_len: PAGE as u64,
        permissions: req.permissions,
        exclusive: req.exclusive,
    };
    // The page `init` made for the attempt under way; a lost race gives it up.
    let page: RefCell<Option<Page>> = RefCell::new(None);
    let mut init = |fd: &OwnedFd| {
        let p = Page::map(fd).map_err(|e| sys_err(e, &format!("creating {what}")))?;
        let done = initialise(&p, req.params);
        *page.borrow_mut() = Some(p);
        done.map_err(|e| sys_err(e, &format!("creating {what}")))
    };
    let mut lost_race = || drop(page.borrow_mut().take());
    let created = object::create_or_open(&dir, name, &new, &mut init, &mut lost_race);
    let page = page.into_inner();
    let (entry, existed) = created?;
    let mut handle = match page {
        Some(page) if !existed => SyncHandle {
            param: read_param(&page, kind),
            page,
            kind,
            entry: Some(entry),
            unnamed: None,
            inheritable: None,
        },
        _ => from_entry(entry, kind, &what)?,
    };
    if req.inheritable {
        handle.make_inheritable(&what)?;
    }
    Ok((handle, existed))
}

fn unnamed(req: &SyncRequest<'_>, kind: Kind, what: &str) -> Result<SyncHandle> {
    let fail = |e: Errno| sys_err(e, &format!("creating {what}"));
    let fd =
        rustix::fs::memfd_create("shmkit-sync", rustix::fs::MemfdFlags::CLOEXEC).map_err(fail)?;
    rustix::fs::ftruncate(&fd, PAGE as u64).map_err(fail)?;
    // Writing the header allocates the page, so a full memory fails here, not as SIGBUS.
    let (bytes, _) = Header::unnamed(kind).encode();
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

fn from_entry(entry: Entry, kind: Kind, what: &str) -> Result<SyncHandle> {
    if entry.len < PAGE as u64 {
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

/// Waits for any of `items` (with `all`, for all of them) for the calling thread, at most
/// `timeout` (`None`: forever; zero polls): `crate::sync::multiwait` with the calling
/// thread as the mutexes' owner, `futex_waitv` sleeps and the owner checks of single waits.
pub(crate) fn wait_many(items: &[Item<'_>], all: bool, timeout: Option<Duration>) -> Woken {
    let (deadline, poll) = deadline(timeout);
    multiwait::wait(
        items,
        all,
        owner::me(),
        &SharedFutex,
        &Threads,
        deadline,
        poll,
    )
}

/// Wakes every thread, of any process, sleeping on `word`.
pub(crate) fn wake_all(word: &std::sync::atomic::AtomicU32) {
    use crate::sync::state::Futex;
    SharedFutex.wake(word, u32::MAX);
}

/// SPEC 7.5 with 2.6: opens an existing object of kind `kind`.
pub(crate) fn open_sync(name: &Name, kind: Kind) -> Result<SyncHandle> {
    let entry = object::open(name, kind, true)?;
    from_entry(entry, kind, &label(kind, Some(name.as_str())))
}

impl SyncHandle {
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The object's name, for a handle adopted from a parent.
    pub(crate) fn name(&self) -> Option<String> {
        self.entry.as_ref().and_then(|e| e.header.name.clone())
    }

    fn what(&self) -> String {
        label(self.kind, self.name().as_deref())
    }

    /// `r`, unless the object's file lost the page under this handle during or before
    /// the operation: then its state is not the object's any more, and nothing it did
    /// or saw counts.
    #[inline]
    fn intact<T>(&self, op: &str, r: Result<T>) -> Result<T> {
        if !self.page.damaged() {
            return r;
        }
        Err(Error::from_io(
            std::io::Error::from_raw_os_error(libc::EFAULT),
            format!(
                "{op} {}: its file was truncated under this handle by a process that may \
                 write it; its state is lost",
                self.what()
            ),
        ))
    }

    fn wrong_op(&self, op: &str) -> Error {
        Error::new(
            ErrorKind::InvalidHandle,
            format!("{op}: {} is not of the right kind", self.what()),
        )
    }

    #[inline]
    pub(crate) fn mutex_acquire(&self, timeout: Option<Duration>) -> Result<Acquire> {
        if self.kind != Kind::Mutex {
            return Err(self.wrong_op("waiting for a mutex"));
        }
        let (deadline, poll) = deadline(timeout);
        let words = owner::words(&self.page);
        let got = match words.lock(owner::me(), &SharedFutex, &Threads, deadline, poll) {
            Locked::Acquired => Ok(Acquire::Acquired),
            Locked::Abandoned => Ok(Acquire::Abandoned),
            Locked::TimedOut => Ok(Acquire::TimedOut),
            Locked::TooDeep => Err(Error::with_code(
                ErrorKind::Other,
                code::GEN_FAILURE,
                format!(
                    "waiting for {}: the owning thread has acquired it too many times",
                    self.what()
                ),
            )),
        };
        self.intact("waiting for", got)
    }

    #[inline]
    pub(crate) fn mutex_release(&self) -> Result<()> {
        if self.kind != Kind::Mutex {
            return Err(self.wrong_op("releasing a mutex"));
        }
        let done = owner::words(&self.page)
            .unlock(owner::me(), &SharedFutex)
            .map_err(|_| {
                Error::new(
                    ErrorKind::NotOwner,
                    format!(
                        "releasing {}: the calling thread does not own it",
                        self.what()
                    ),
                )
            });
        self.intact("releasing", done)
    }

    /// The words a multi-object wait works on (`crate::sync::multiwait`).
    pub(crate) fn item(&self) -> Item<'_> {
        match self.kind {
            Kind::Mutex => Item::Mutex(owner::words(&self.page)),
            Kind::Event => Item::Event(self.event()),
            _ => Item::Semaphore(self.semaphore()),
        }
    }

    /// After a multi-object wait: an error if this handle's page was lost under it, as
    /// after any operation.
    pub(crate) fn check_intact(&self, op: &str) -> Result<()> {
        self.intact(op, Ok(()))
    }

    /// Whether `other` is a handle to the same object: the same file.
    /// What names the object whatever the handle: its kind and its file's device and
    /// inode (one `fstat`). Two handles name the same object when these are equal.
    pub(crate) fn object_id(&self) -> Result<(Kind, u64, u64)> {
        let fd = match (&self.entry, &self.unnamed) {
            (Some(e), _) => e.fd.as_fd(),
            (None, Some(fd)) => fd.as_fd(),
            (None, None) => return Err(sys_err(Errno::BADF, &self.what())),
        };
        let st = rustix::fs::fstat(fd).map_err(|e| sys_err(e, &self.what()))?;
        Ok((self.kind, st.st_dev as u64, st.st_ino as u64))
    }

    pub(crate) fn mutex_owned_by_caller(&self) -> bool {
        self.kind == Kind::Mutex && owner::words(&self.page).owned_by(owner::me())
    }

    fn event(&self) -> EventWords<'_> {
        let page = &self.page;
        EventWords {
            state: page.u64_at(STATE_AT),
            seq: page.u32_at(SEQ_AT),
            reserver: page.u64_at(RESERVER_AT),
            manual: self.param != 0,
        }
    }

    fn semaphore(&self) -> SemaphoreWords<'_> {
        let page = &self.page;
        SemaphoreWords {
            state: page.u64_at(STATE_AT),
            seq: page.u32_at(SEQ_AT),
            reserver: page.u64_at(RESERVER_AT),
            max: self.param,
        }
    }

    pub(crate) fn event_set(&self) -> Result<()> {
        if self.kind != Kind::Event {
            return Err(self.wrong_op("setting an event"));
        }
        self.event().set(&SharedFutex);
        self.intact("setting", Ok(()))
    }

    pub(crate) fn event_reset(&self) -> Result<()> {
        if self.kind != Kind::Event {
            return Err(self.wrong_op("resetting an event"));
        }
        self.event().reset(&SharedFutex);
        self.intact("resetting", Ok(()))
    }

    pub(crate) fn event_wait(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != Kind::Event {
            return Err(self.wrong_op("waiting for an event"));
        }
        let (deadline, poll) = deadline(timeout);
        let got = self.event().wait(&SharedFutex, deadline, poll);
        self.intact("waiting for", Ok(got))
    }

    pub(crate) fn event_manual(&self) -> bool {
        self.kind == Kind::Event && self.param != 0
    }

    pub(crate) fn semaphore_release(&self, n: u32) -> Result<u32> {
        if self.kind != Kind::Semaphore {
            return Err(self.wrong_op("releasing a semaphore"));
        }
        let done = self
            .semaphore()
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
            });
        self.intact("releasing", done)
    }

    pub(crate) fn semaphore_acquire(&self, timeout: Option<Duration>) -> Result<bool> {
        if self.kind != Kind::Semaphore {
            return Err(self.wrong_op("waiting for a semaphore"));
        }
        let (deadline, poll) = deadline(timeout);
        let got = self.semaphore().acquire(&SharedFutex, deadline, poll);
        self.intact("waiting for", Ok(got))
    }

    pub(crate) fn semaphore_max(&self) -> u32 {
        if self.kind == Kind::Semaphore {
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
        let dir = self.entry.as_ref().map(|e| &*e.dir);
        self.inheritable = Some(inherit::lend_to_children(dir, fd).map_err(|e| sys_err(e, what))?);
        Ok(())
    }

    fn token_for(&self, fd: i32) -> Token {
        let origin = if self.entry.is_some() {
            Origin::Named
        } else {
            Origin::Unnamed
        };
        Token::sync(self.kind, origin, fd as u64, self.name())
    }

    pub(crate) fn inherit_token(&self) -> Option<Token> {
        self.inheritable
            .as_ref()
            .map(|fd| self.token_for(fd.as_raw_fd()))
    }

    pub(crate) fn share_with(&self, cmd: &mut Command) -> Result<Token> {
        let what = format!("sharing {} with a child process", self.what());
        let fd = self.fresh_hold().map_err(|e| sys_err(e, &what))?;
        let token = self.token_for(fd.as_raw_fd());
        let dir = self.entry.as_ref().map(|e| &*e.dir);
        inherit::hand_to_child(dir, cmd, fd).map_err(|e| sys_err(e, &what))?;
        Ok(token)
    }

    pub(crate) fn from_inherited(token: &Token) -> Result<SyncHandle> {
        let kind = token.kind;
        let offered = Offered::take(token)?;
        if !kind.is_sync() || !matches!(token.origin, Origin::Named | Origin::Unnamed) {
            return offered.refuse("not a sync-object token");
        }
        let header = match (sys::fstat(&offered), Header::read(&offered)) {
            (Ok(st), Ok(h)) if st.st_mode & 0o170000 == 0o100000 && st.st_size as usize >= PAGE => {
                h
            }
            _ => return offered.refuse("not a shmkit sync object"),
        };
        if header.kind != Some(kind) {
            return offered.refuse("the object is not of the kind the token says");
        }
        if token.origin == Origin::Unnamed {
            let what = label(kind, None);
            let fd = offered.accept();
            let _ = rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC);
            let page = Page::map(&fd).map_err(|e| sys_err(e, &what))?;
            return Ok(SyncHandle {
                param: read_param(&page, kind),
                page,
                kind,
                entry: None,
                unnamed: Some(fd),
                inheritable: None,
            });
        }
        let Some(name) = header
            .name
            .as_deref()
            .and_then(|n| Name::parse_full(n).ok())
        else {
            return offered.refuse("the object has no name");
        };
        if token.name.as_deref().is_some_and(|n| n != name.full()) {
            return offered.refuse("the object is not the one the token names");
        }
        let dir = store::ns_dir(name.namespace())?;
        let entry = Entry::adopt(offered.accept(), dir, true)?;
        from_entry(entry, kind, &label(kind, Some(name.as_str())))
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
