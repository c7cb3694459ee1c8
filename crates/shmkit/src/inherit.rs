//! Handing open descriptors to child processes, the way `share_with` hands a mapping's
//! (Linux): for faces that pass other descriptors beside shmkit's objects, such as the C
//! API's inheritable file handles.

use crate::error::{Error, ErrorKind, Result};
use crate::os::inherit as imp;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::Command;

/// Makes the child that `cmd` starts inherit `fd` under the number this returns (the
/// descriptor stays close-on-exec in this process, so no other child gets it).
pub fn pass_to_child(cmd: &mut Command, fd: OwnedFd) -> RawFd {
    let n = fd.as_raw_fd();
    imp::pass_to_child(cmd, fd);
    n
}

/// Takes ownership, in a child, of the descriptor `fd` its parent passed: it must be open
/// and inherited (not close-on-exec, and not one this process's own handles keep for
/// their children). [`ErrorKind::InvalidHandle`] otherwise, which leaves `fd` alone.
pub fn take_inherited(fd: RawFd) -> Result<OwnedFd> {
    let n = u64::try_from(fd).map_err(|_| bad(fd, "malformed descriptor"))?;
    imp::take_inherited(n).map_err(|why| bad(fd, why))
}

fn bad(fd: RawFd, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        format!("inherited descriptor {fd}: {why}"),
    )
}
