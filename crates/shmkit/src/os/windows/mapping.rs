//! Mapping handles on Windows: one handle to a section object; the create-or-open and
//! the open of memory, unnamed and persistent objects (file-backed ones are `backing`'s);
//! the squatting check of an object a create call finds; inheritance tokens.

use super::backing::FileSource;
use super::inherit::{self, InheritableHandle};
use super::persist::{self, Stored};
use super::section;
use super::security::{self, Descriptor};
use super::sys::{code_of, wide};
use super::view::RawView;
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::{Access, Kind, Protection};
use crate::name::{label, Name};
use crate::os::CreateRequest;
use crate::token::{Origin, Token};
use std::fs::File;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::process::Command;
use windows_sys::Win32::Foundation::{ERROR_ALREADY_EXISTS, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem::READ_CONTROL;
use windows_sys::Win32::System::Memory::{FILE_MAP_READ, SECTION_QUERY, SEC_COMMIT};

/// One open handle to a section object.
pub(crate) struct Handle {
    section: OwnedHandle,
    size: u64,
    access: Access,
    protection: Protection,
    /// How the object came to be, for the token that hands the handle to a child.
    origin: Origin,
    /// The full name (`Local\x`) of a named object.
    name: Option<String>,
    /// An inheritable twin for children (`inheritable(true)`).
    inheritable: Option<InheritableHandle>,
}

/// `mapping "Local\x"` or `unnamed mapping`, for messages.
pub(super) fn what(name: Option<&Name>) -> String {
    label(Kind::Mapping, name.map(Name::as_str))
}

/// The protection a handle opened by name reports: Windows tells an opener only whether
/// it may write (read-only and write-copy objects look alike from outside).
fn seen_protection(access: Access) -> Protection {
    if access.writes_through() {
        Protection::ReadWrite
    } else {
        Protection::ReadOnly
    }
}

/// SPEC 2.1/2.2: create-or-open (or create-new).
pub(crate) fn create(req: &CreateRequest<'_>) -> Result<(Handle, bool)> {
    let what = what(req.name);
    let (mut handle, existed) = match (req.name, req.file) {
        (_, Some(_)) if req.persistent => {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!(
                    "cannot create {what}: on Windows a persistent object cannot be \
                     file-backed (the file itself persists)"
                ),
            ));
        }
        (name, Some(file)) => create_over_file(req, name, file, &what)?,
        (None, None) => (create_unnamed(req, &what)?, false),
        (Some(name), None) if req.persistent => create_persistent(req, name, &what)?,
        (Some(name), None) => create_named(req, name, &what)?,
    };
    if existed && req.exclusive {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("cannot create {what}: an object of that name already exists"),
        ));
    }
    if req.inheritable {
        handle.make_inheritable(&what)?;
    }
    Ok((handle, existed))
}

/// SPEC 2.1 with section 3: create-or-open of a mapping over `file`. The file is checked
/// first, as on Linux; a named create then looks the name up before it makes a section
/// over the file, so that a create that finds the name taken returns the existing object
/// (ERROR_ALREADY_EXISTS, as `CreateFileMappingW` does) and leaves the caller's file as it
/// was (the section call may grow the file before it finds the name taken).
fn create_over_file(
    req: &CreateRequest<'_>,
    name: Option<&Name>,
    file: &File,
    what: &str,
) -> Result<(Handle, bool)> {
    let source = FileSource::check(req, file, what)?;
    if let Some(name) = name {
        if let Some(found) = find_for_create(name, what)? {
            return Ok((found, true));
        }
    }
    let (section, status) = source.section(req, name, what)?;
    if let (Some(name), ERROR_ALREADY_EXISTS) = (name, status) {
        // Another process made the object since the look-up above.
        let access = if req.protection == Protection::ReadWrite {
            Access::ReadWrite
        } else {
            Access::Read
        };
        return Ok((existing(section, name, access, what)?, true));
    }
    let origin = if name.is_some() {
        Origin::Named
    } else {
        Origin::File
    };
    let handle = Handle::new(
        section,
        source.size,
        Access::ReadWrite,
        req.protection,
        origin,
        name,
    );
    Ok((handle, false))
}

fn create_unnamed(req: &CreateRequest<'_>, what: &str) -> Result<Handle> {
    let (section, _) = section::create(
        INVALID_HANDLE_VALUE as RawHandle,
        None,
        section::page_protection(req.protection) | SEC_COMMIT,
        req.size,
        None,
    )
    .map_err(|e| section::error(e, None, req.size, what))?;
    Ok(Handle::new(
        section,
        req.size,
        Access::ReadWrite,
        req.protection,
        Origin::Unnamed,
        None,
    ))
}

fn create_named(req: &CreateRequest<'_>, name: &Name, what: &str) -> Result<(Handle, bool)> {
    // A persistent object of that name has no named section: look for its file first.
    if let Some(stored) = persist::open(name, true, true, what)? {
        return Ok((open_stored_for_create(stored, name, what)?, true));
    }
    let sd = Descriptor::new(
        req.permissions,
        section::RIGHTS,
        req.protection == Protection::ReadWrite,
    )
    .map_err(|e| Error::from_io(e, what))?;
    let sa = sd.attributes(false);
    let wname = wide(&name.full());
    match section::create(
        INVALID_HANDLE_VALUE as RawHandle,
        Some(&sa),
        section::page_protection(req.protection) | SEC_COMMIT,
        req.size,
        Some(&wname),
    ) {
        Ok((section, ERROR_ALREADY_EXISTS)) => {
            let access = if req.protection == Protection::ReadWrite {
                Access::ReadWrite
            } else {
                Access::Read
            };
            Ok((existing(section, name, access, what)?, true))
        }
        Ok((section, _)) => Ok((
            Handle::new(
                section,
                req.size,
                Access::ReadWrite,
                req.protection,
                Origin::Named,
                Some(name),
            ),
            false,
        )),
        // An existing object whose permissions refuse what CreateFileMappingW asks for
        // (a read-only object grants no write right): open it for reading.
        Err(e) if code_of(&e) == code::ACCESS_DENIED => {
            let section = section::open(name, SECTION_QUERY | FILE_MAP_READ | READ_CONTROL)
                .map_err(|e| section::error(e, Some(name), req.size, what))?;
            Ok((existing(section, name, Access::Read, what)?, true))
        }
        Err(e) => Err(section::error(e, Some(name), req.size, what)),
    }
}

fn create_persistent(req: &CreateRequest<'_>, name: &Name, what: &str) -> Result<(Handle, bool)> {
    loop {
        // A live object of that name, persistent or not, comes first.
        if let Some(found) = find_for_create(name, what)? {
            return Ok((found, true));
        }
        if let Some(stored) =
            persist::create(name, req.size, req.protection, req.permissions, what)?
        {
            let protection = stored.protection;
            let mut handle = from_stored(stored, name, Access::ReadWrite, what)?;
            handle.protection = protection;
            return Ok((handle, false));
        }
        // Another process made the file between the two calls: open theirs.
    }
}

/// What a create call finds under `name`, opened after the squatting check: a live
/// section (read-write when its permissions allow, else read-only), or else a persistent
/// object. `None` when the name is free.
fn find_for_create(name: &Name, what: &str) -> Result<Option<Handle>> {
    // READ_CONTROL: the squatting check reads the object's owner.
    let attempt = |access| section::open(name, section::open_rights(access) | READ_CONTROL);
    let found = match attempt(Access::ReadWrite) {
        Ok(section) => Some((section, Access::ReadWrite)),
        Err(e) if code_of(&e) == code::FILE_NOT_FOUND => None,
        Err(e) if code_of(&e) == code::ACCESS_DENIED => {
            let section =
                attempt(Access::Read).map_err(|e| section::error(e, Some(name), 0, what))?;
            Some((section, Access::Read))
        }
        Err(e) => return Err(section::error(e, Some(name), 0, what)),
    };
    if let Some((section, access)) = found {
        return existing(section, name, access, what).map(Some);
    }
    match persist::open(name, true, true, what)? {
        Some(stored) => open_stored_for_create(stored, name, what).map(Some),
        None => Ok(None),
    }
}

/// A handle to an existing object that a create call found, after the squatting check.
fn existing(section: OwnedHandle, name: &Name, access: Access, what: &str) -> Result<Handle> {
    let mine = security::owned_by_caller(section.as_raw_handle(), false)
        .map_err(|e| Error::from_io(e, what))?;
    if !mine {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "creating {what}: the name is held by another user's object; refusing a \
                 name another user may have squatted (use open to use another user's \
                 object on purpose)"
            ),
        ));
    }
    let size = section::size(section.as_raw_handle()).map_err(|e| Error::from_io(e, what))?;
    Ok(Handle::new(
        section,
        size,
        access,
        seen_protection(access),
        Origin::Named,
        Some(name),
    ))
}

fn open_stored_for_create(stored: Stored, name: &Name, what: &str) -> Result<Handle> {
    let mine = persist::owned_by_caller(&stored.file).map_err(|e| Error::from_io(e, what))?;
    if !mine {
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "creating {what}: the name is held by another user's persistent object; \
                 use open to use it on purpose"
            ),
        ));
    }
    let access = if stored.writable || stored.protection != Protection::ReadWrite {
        Access::ReadWrite
    } else {
        Access::Read
    };
    from_stored(stored, name, access, what)
}

/// A handle over the section of a persistent object's file.
fn from_stored(stored: Stored, name: &Name, access: Access, what: &str) -> Result<Handle> {
    let protect = section::page_protection(if stored.writable {
        Protection::ReadWrite
    } else {
        Protection::ReadOnly
    });
    let (section, _) = section::create(stored.file.as_raw_handle(), None, protect, 0, None)
        .map_err(|e| section::error(e, None, stored.size, what))?;
    Ok(Handle::new(
        section,
        stored.size,
        access,
        stored.protection,
        Origin::Persistent,
        Some(name),
    ))
}

/// SPEC 2.6: open an existing object by name.
pub(crate) fn open(name: &Name, access: Access) -> Result<Handle> {
    let what = what(Some(name));
    match section::open(name, section::open_rights(access)) {
        Ok(section) => {
            let size = section::size(section.as_raw_handle())
                .map_err(|e| Error::from_io(e, what.clone()))?;
            Ok(Handle::new(
                section,
                size,
                access,
                seen_protection(access),
                Origin::Named,
                Some(name),
            ))
        }
        Err(e) if code_of(&e) == code::FILE_NOT_FOUND => {
            match persist::open(name, access.writes_through(), false, &what)? {
                Some(stored) => {
                    if access.writes_through() && stored.protection != Protection::ReadWrite {
                        return Err(Error::new(
                            ErrorKind::PermissionDenied,
                            format!("cannot open {what} for writing: the object is not read-write"),
                        ));
                    }
                    from_stored(stored, name, access, &what)
                }
                None => Err(Error::new(
                    ErrorKind::NotFound,
                    format!("cannot open {what}: no object has that name"),
                )),
            }
        }
        Err(e) if code_of(&e) == code::ACCESS_DENIED => Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot open {what} for {}: the object's permissions or protection refuse it",
                if access.writes_through() {
                    "writing"
                } else {
                    "reading"
                }
            ),
        )),
        Err(e) => Err(section::error(e, Some(name), 0, &what)),
    }
}

/// POSIX shared-memory names do not exist on Windows (ERROR_NOT_SUPPORTED).
pub(crate) fn open_os(os_name: &str, _access: Access) -> Result<Handle> {
    Err(Error::new(
        ErrorKind::NotSupported,
        format!(
            "cannot open POSIX shared-memory object {os_name:?}: POSIX shared memory does not \
             exist on Windows; open the object by its Windows name with Mapping::open"
        ),
    ))
}

/// Removes a persistent object's name (SPEC 5.4).
pub(crate) fn remove(name: &Name) -> Result<()> {
    let what = what(Some(name));
    if persist::remove(name, &format!("cannot remove {what}"))? {
        return Ok(());
    }
    match section::open(name, SECTION_QUERY) {
        Ok(_) => Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot remove {what}: it is not persistent; it disappears when its last handle closes"
            ),
        )),
        Err(e) if code_of(&e) == code::INVALID_HANDLE => Err(section::wrong_type(name)),
        Err(e) if code_of(&e) == code::ACCESS_DENIED => Err(Error::new(
            ErrorKind::PermissionDenied,
            format!("cannot remove {what}: it is not persistent, and not yours"),
        )),
        Err(_) => Err(Error::new(
            ErrorKind::NotFound,
            format!("cannot remove {what}: no object has that name"),
        )),
    }
}

impl Handle {
    pub(super) fn new(
        section: OwnedHandle,
        size: u64,
        access: Access,
        protection: Protection,
        origin: Origin,
        name: Option<&Name>,
    ) -> Handle {
        Handle {
            section,
            size,
            access,
            protection,
            origin,
            name: name.map(Name::full),
            inheritable: None,
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }
    pub(crate) fn access(&self) -> Access {
        self.access
    }
    pub(crate) fn protection(&self) -> Protection {
        self.protection
    }
    pub(crate) fn is_persistent(&self) -> bool {
        self.origin == Origin::Persistent
    }
    pub(crate) fn name(&self) -> Option<String> {
        self.name.clone()
    }

    fn make_inheritable(&mut self, what: &str) -> Result<()> {
        let twin = InheritableHandle::new(self.section.as_raw_handle())
            .map_err(|e| Error::from_io(e, what))?;
        self.inheritable = Some(twin);
        Ok(())
    }

    fn token(&self, handle: u64, process: Option<u32>) -> Token {
        Token {
            kind: Kind::Mapping,
            origin: self.origin,
            handle,
            process,
            access: self.access,
            protection: self.protection,
            size: self.size,
            name: self.name.clone(),
        }
    }

    /// The token of the inheritable twin.
    pub(crate) fn inherit_token(&self) -> Option<Token> {
        self.inheritable
            .as_ref()
            .map(|twin| self.token(twin.value(), None))
    }

    /// The child takes its handle from this process in `from_inherited` (see `inherit`),
    /// so this handle must stay open until then.
    pub(crate) fn share_with(&self, _cmd: &mut Command) -> Result<Token> {
        let (handle, process) = inherit::shared(&self.section);
        Ok(self.token(handle, process))
    }

    pub(crate) fn from_inherited(token: &Token) -> Result<Handle> {
        let section = inherit::take(token, |h| section::size(h).is_ok())?;
        let actual = section::size(section.as_raw_handle())
            .map_err(|_| inherit::refused(token, "not a mapping object"))?;
        if actual < token.size {
            return Err(inherit::refused(
                token,
                "the object is smaller than the token says",
            ));
        }
        Ok(Handle {
            section,
            size: token.size,
            access: token.access,
            protection: token.protection,
            origin: token.origin,
            name: token.name.clone(),
            inheritable: None,
        })
    }

    pub(crate) fn try_clone(&self) -> Result<Handle> {
        let section = inherit::duplicate(self.section.as_raw_handle(), false).map_err(|e| {
            Error::from_io(
                e,
                format!(
                    "duplicating a handle to {}",
                    label(Kind::Mapping, self.name.as_deref())
                ),
            )
        })?;
        Ok(Handle {
            section,
            size: self.size,
            access: self.access,
            protection: self.protection,
            origin: self.origin,
            name: self.name.clone(),
            inheritable: None,
        })
    }

    /// Maps `len` bytes at `offset` (already checked against the object's size).
    pub(crate) fn map(&self, offset: u64, len: usize, access: Access) -> io::Result<RawView> {
        RawView::map(&self.section, offset, len, access)
    }
}
