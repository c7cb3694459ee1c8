//! Who may write through a file-backed mapping's object file, whose header names the file
//! every opener maps.

use super::errors::open_error;
use super::header::Header;
use crate::error::{Error, ErrorKind, Result};
use crate::name::Name;
use crate::os::imp::sys;
use rustix::io::Errno;

/// SPEC 6.3: a file-backed mapping's header names the file every opener maps, so nobody
/// but its owner may be able to write it: its object file is writable by its owner only
/// (the bits the creator asked for are kept in the header, and decide who may open it for
/// writing here), and an object file that others could write is refused. Whether the caller may write the
/// data is the backing file's business too (`backing::open_backing`).
pub(super) fn check_file_backed(
    header: &Header,
    st: &rustix::fs::Stat,
    write: bool,
    name: &Name,
    what: &str,
) -> Result<()> {
    if st.st_mode & 0o022 != 0 {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what} {name:?}: its object file is writable by other users (mode {:04o}), \
                 who could have redirected it to another file; refusing it",
                st.st_mode & 0o7777
            ),
        ));
    }
    let mode = if header.mode != 0 {
        header.mode
    } else {
        st.st_mode & 0o777
    };
    if write && !grants_write(mode, st) {
        return Err(open_error(Errno::ACCESS, name, what, write));
    }
    Ok(())
}

/// Whether `mode` lets the calling process write an object whose file is `st`, by the
/// usual owner / group / others rule (root may always).
pub(super) fn grants_write(mode: u32, st: &rustix::fs::Stat) -> bool {
    let uid = sys::euid();
    if uid == 0 {
        return true;
    }
    if uid == st.st_uid {
        return mode & 0o200 != 0;
    }
    let gid = rustix::process::getegid().as_raw();
    let in_group = gid == st.st_gid
        || rustix::process::getgroups().is_ok_and(|gs| gs.iter().any(|g| g.as_raw() == st.st_gid));
    if in_group {
        mode & 0o020 != 0
    } else {
        mode & 0o002 != 0
    }
}
