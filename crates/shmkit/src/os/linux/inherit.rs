//! Handing descriptors to child processes: the Linux side of inheritance. The token that
//! names a descriptor in the child is `crate::token`'s; this module keeps the numbers
//! valid in the child and refuses, in the child, a number that was not inherited.

use super::store::NsDir;
use crate::error::{Error, ErrorKind, Result};
use crate::token::Token;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use std::mem::ManuallyDrop;

/// The descriptor an inheritance token names, taken but not yet accepted: until
/// [`accept`](Offered::accept), dropping or refusing it leaves the number open, since it
/// may be a descriptor of something else that the token only pretends to name.
pub(crate) struct Offered {
    fd: ManuallyDrop<OwnedFd>,
    token: String,
}

impl Offered {
    /// Takes the descriptor `token` names (see [`take_inherited`]).
    pub(crate) fn take(token: &Token) -> Result<Offered> {
        let text = token.encode();
        match take_inherited(token.handle) {
            Ok(fd) => Ok(Offered {
                fd: ManuallyDrop::new(fd),
                token: text,
            }),
            Err(why) => Err(invalid(&text, why)),
        }
    }

    /// The InvalidHandle error that names the token.
    pub(crate) fn error(&self, why: &str) -> Error {
        invalid(&self.token, why)
    }

    /// Refuses the descriptor, leaving it open; the error says why.
    pub(crate) fn refuse<T>(self, why: &str) -> Result<T> {
        Err(self.error(why))
    }

    /// Accepts the descriptor: from now on it is closed with the returned value.
    pub(crate) fn accept(mut self) -> OwnedFd {
        // SAFETY: `fd` is never used again: `self` is consumed, and `Offered` has no Drop
        // that would touch it.
        unsafe { ManuallyDrop::take(&mut self.fd) }
    }
}

impl AsFd for Offered {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn invalid(token: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        format!("inherited handle {token:?}: {why}"),
    )
}

/// A descriptor kept open without close-on-exec for children to inherit, owned by a
/// handle of this process. While it lives its number is registered, so that a token
/// naming it is never mistaken for a descriptor this process inherited (taking it would
/// close it twice).
#[derive(Debug)]
pub(crate) struct InheritableFd(OwnedFd);

static OWNED_INHERITABLE: std::sync::Mutex<std::collections::BTreeSet<i32>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

impl InheritableFd {
    /// Clears close-on-exec on `fd` and registers it.
    pub(crate) fn new(fd: OwnedFd) -> std::result::Result<InheritableFd, Errno> {
        rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::empty())?;
        OWNED_INHERITABLE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(fd.as_raw_fd());
        Ok(InheritableFd(fd))
    }

    pub(crate) fn as_raw_fd(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

impl Drop for InheritableFd {
    fn drop(&mut self) {
        OWNED_INHERITABLE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.0.as_raw_fd());
    }
}

/// Whether `fd` belongs to an inheritable handle of this process.
pub(crate) fn is_owned_inheritable(fd: i32) -> bool {
    OWNED_INHERITABLE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&fd)
}

/// Makes `hold` (a hold on an object of `dir`, or on an unnamed object when `None`)
/// inheritable by every child started from now on; a named object's namespace lends
/// those children its lease too (`NsDir::lend_lease`).
pub(crate) fn lend_to_children(
    dir: Option<&NsDir>,
    hold: OwnedFd,
) -> std::result::Result<InheritableFd, Errno> {
    if let Some(dir) = dir {
        dir.lend_lease(false)?;
    }
    InheritableFd::new(hold)
}

/// Hands `hold` (as for [`lend_to_children`]) to the one child that `cmd` starts, with
/// the namespace's lease.
pub(crate) fn hand_to_child(
    dir: Option<&NsDir>,
    cmd: &mut std::process::Command,
    hold: OwnedFd,
) -> std::result::Result<(), Errno> {
    if let Some(lease) = dir.map(|d| d.lend_lease(true)).transpose()?.flatten() {
        pass_to_child(cmd, lease);
    }
    pass_to_child(cmd, hold);
    Ok(())
}

/// Makes the child that `cmd` starts inherit `fd` (close-on-exec cleared in the child
/// only). The closure owns `fd`, which keeps the number valid for every spawn of `cmd`.
pub(crate) fn pass_to_child(cmd: &mut std::process::Command, fd: OwnedFd) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec; it makes one fcntl
    // call, which is async-signal-safe, and touches no lock or allocation.
    unsafe {
        cmd.pre_exec(move || {
            rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::empty())?;
            Ok(())
        });
    }
}

/// Takes ownership of descriptor `fd` named by an inherit token: it must be open, and
/// inherited (not close-on-exec, and not owned by an inheritable handle of this process).
/// The error says why not.
pub(crate) fn take_inherited(fd: u64) -> std::result::Result<OwnedFd, &'static str> {
    let fd = i32::try_from(fd).map_err(|_| "malformed descriptor")?;
    let flags = {
        // SAFETY: the number is only borrowed for this one fcntl call; a closed number
        // makes fcntl fail with EBADF, which is handled.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        rustix::io::fcntl_getfd(borrowed).map_err(|_| "no such open descriptor")?
    };
    if flags.contains(rustix::io::FdFlags::CLOEXEC) || is_owned_inheritable(fd) {
        return Err(
            "the descriptor was not inherited (it is close-on-exec or owned by a handle of \
             this process)",
        );
    }
    // SAFETY: the descriptor is open (fcntl succeeded) and was inherited without
    // close-on-exec, so no Rust object of this process owns it; presenting the token hands
    // its ownership over, once.
    Ok(unsafe { rustix::fd::FromRawFd::from_raw_fd(fd) })
}
