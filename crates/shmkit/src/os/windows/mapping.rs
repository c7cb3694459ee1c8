//! Mapping handles and views on Windows: the section objects themselves.

use super::persist::{self, Stored};
use super::security::{Descriptor, Rights};
use super::sys::{self, code_of, last_error, wide};
use crate::error::{code, Error, ErrorKind, Result};
use crate::mapping::Protection;
use crate::name::Name;
use crate::os::CreateRequest;
use crate::view::Access;
use std::fs::File;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::process::Command;
use windows_sys::Win32::Foundation::{ERROR_ALREADY_EXISTS, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::Storage::FileSystem::READ_CONTROL;
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, FlushViewOfFile, MapViewOfFile, OpenFileMappingW, UnmapViewOfFile,
    FILE_MAP_COPY, FILE_MAP_READ, FILE_MAP_WRITE, MEMORY_MAPPED_VIEW_ADDRESS, PAGE_READONLY,
    PAGE_READWRITE, PAGE_WRITECOPY, SECTION_QUERY, SEC_COMMIT,
};

/// ERROR_COMMITMENT_LIMIT: the paging file cannot back the object.
const ERROR_COMMITMENT_LIMIT: u32 = 1455;
/// ERROR_NOT_SUPPORTED, for what Windows does not have.
const ERROR_NOT_SUPPORTED: u32 = 50;
/// STANDARD_RIGHTS_REQUIRED: what `CreateFileMappingW` asks of an existing object, on
/// top of the map rights.
const STANDARD_RIGHTS_REQUIRED: u32 = 0x000F_0000;

/// The rights "read" and "write" grant on a mapping object.
const SECTION_RIGHTS: Rights = Rights {
    read: SECTION_QUERY | FILE_MAP_READ,
    write: FILE_MAP_WRITE,
    owner_extra: STANDARD_RIGHTS_REQUIRED,
};

/// How a handle came to be, for the token that hands it to a child.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Named,
    Unnamed,
    File,
    Persistent,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Named => "named",
            Kind::Unnamed => "unnamed",
            Kind::File => "file",
            Kind::Persistent => "persistent",
        }
    }
}

/// One open handle to a section object.
pub(crate) struct Handle {
    section: OwnedHandle,
    size: u64,
    access: Access,
    protection: Protection,
    kind: Kind,
    /// An inheritable twin for children (`inheritable(true)`).
    inheritable: Option<sys::InheritableHandle>,
}

fn label(name: Option<&Name>) -> String {
    match name {
        Some(n) => format!("mapping {}", crate::name::quoted(n.as_str())),
        None => "unnamed mapping".to_owned(),
    }
}

fn page_protection(p: Protection) -> u32 {
    match p {
        Protection::ReadOnly => PAGE_READONLY,
        Protection::ReadWrite => PAGE_READWRITE,
        Protection::WriteCopy => PAGE_WRITECOPY,
    }
}

fn protection_code(p: Protection) -> u32 {
    match p {
        Protection::ReadOnly => 0,
        Protection::ReadWrite => 1,
        Protection::WriteCopy => 2,
    }
}

fn protection_of(code: u32) -> Protection {
    match code {
        0 => Protection::ReadOnly,
        2 => Protection::WriteCopy,
        _ => Protection::ReadWrite,
    }
}

/// The `OpenFileMappingW` rights of a handle with `access`.
fn open_rights(access: Access) -> u32 {
    match access {
        Access::Read | Access::CopyOnWrite => SECTION_QUERY | FILE_MAP_READ,
        Access::ReadWrite => SECTION_QUERY | FILE_MAP_READ | FILE_MAP_WRITE,
    }
}

fn wrong_type(name: &Name) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind, not a mapping",
            crate::name::quoted(name.as_str())
        ),
    )
}

fn no_space(what: &str, size: u64) -> Error {
    Error::with_code(
        ErrorKind::NoSpace,
        code::NOT_ENOUGH_MEMORY,
        format!("{what}: the system cannot commit {size} bytes"),
    )
}

/// A failed section call's error, with SPEC's kind and code.
fn section_error(e: io::Error, name: Option<&Name>, size: u64, what: &str) -> Error {
    match code_of(&e) {
        code::INVALID_HANDLE if name.is_some() => wrong_type(name.expect("checked")),
        code::NOT_ENOUGH_MEMORY | ERROR_COMMITMENT_LIMIT | code::DISK_FULL => no_space(what, size),
        code::ACCESS_DENIED => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: access denied by the object's permissions"),
        ),
        _ => Error::from_io(e, what.to_owned()),
    }
}

fn check_size(size: u64, what: &str) -> Result<()> {
    if size == 0 {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!("{what}: size 0 is not allowed"),
        ));
    }
    if size > isize::MAX as u64 {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!("{what}: size {size} is larger than the system allows"),
        ));
    }
    Ok(())
}

fn check_permissions(bits: u32, what: &str) -> Result<()> {
    if bits & !0o777 != 0 {
        return Err(Error::with_code(
            ErrorKind::Other,
            code::INVALID_PARAMETER,
            format!("{what}: permissions {bits:o} are not owner/group/others bits (0o777 at most)"),
        ));
    }
    Ok(())
}

/// `CreateFileMappingW`; returns the handle and the last error (ERROR_ALREADY_EXISTS
/// when it opened an existing object).
fn create_section(
    file: RawHandle,
    sa: Option<&SECURITY_ATTRIBUTES>,
    protect: u32,
    size: u64,
    name: Option<&[u16]>,
) -> io::Result<(OwnedHandle, u32)> {
    // SAFETY: `file` is a file handle the caller keeps open for the call, or
    // INVALID_HANDLE_VALUE; `sa` and `name` (NUL-terminated) outlive the call.
    let h = unsafe {
        CreateFileMappingW(
            file as HANDLE,
            sa.map_or(std::ptr::null(), |s| s as *const SECURITY_ATTRIBUTES),
            protect,
            (size >> 32) as u32,
            size as u32,
            name.map_or(std::ptr::null(), <[u16]>::as_ptr),
        )
    };
    let status = last_error();
    let handle = sys::owned(h)?;
    Ok((handle, code_of(&status)))
}

fn open_section(name: &Name, rights: u32) -> io::Result<OwnedHandle> {
    let w = wide(&name.full());
    // SAFETY: `w` is NUL-terminated and outlives the call.
    sys::owned(unsafe { OpenFileMappingW(rights, 0, w.as_ptr()) })
}

/// A handle over the section of a persistent object's file.
fn from_stored(stored: Stored, access: Access, what: &str) -> Result<Handle> {
    let protect = if stored.writable {
        PAGE_READWRITE
    } else {
        PAGE_READONLY
    };
    let (section, _) = create_section(stored.file.as_raw_handle(), None, protect, 0, None)
        .map_err(|e| section_error(e, None, stored.size, what))?;
    Ok(Handle {
        section,
        size: stored.size,
        access,
        protection: stored.protection,
        kind: Kind::Persistent,
        inheritable: None,
    })
}

/// SPEC 2.1/2.2: create-or-open (or create-new).
pub(crate) fn create(req: &CreateRequest<'_>) -> Result<(Handle, bool)> {
    let what = label(req.name);
    check_permissions(req.permissions, &what)?;
    if req.file.is_none() {
        check_size(req.size, &what)?;
    }
    let (mut handle, existed) = match (req.name, req.file) {
        (_, Some(file)) if req.persistent => {
            let _ = file;
            return Err(Error::with_code(
                ErrorKind::Other,
                code::INVALID_PARAMETER,
                format!("cannot create {what}: on Windows a persistent object cannot be file-backed (the file itself persists)"),
            ));
        }
        (name, Some(file)) => (create_over_file(req, name, file, &what)?, false),
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

fn create_unnamed(req: &CreateRequest<'_>, what: &str) -> Result<Handle> {
    let (section, _) = create_section(
        INVALID_HANDLE_VALUE as RawHandle,
        None,
        page_protection(req.protection) | SEC_COMMIT,
        req.size,
        None,
    )
    .map_err(|e| section_error(e, None, req.size, what))?;
    Ok(Handle {
        section,
        size: req.size,
        access: Access::ReadWrite,
        protection: req.protection,
        kind: Kind::Unnamed,
        inheritable: None,
    })
}

/// SPEC section 3, enforced by Windows itself; checked first for the messages.
fn create_over_file(
    req: &CreateRequest<'_>,
    name: Option<&Name>,
    file: &File,
    what: &str,
) -> Result<Handle> {
    let len = file.metadata().map_err(|e| Error::from_io(e, what))?.len();
    let size = if req.size == 0 { len } else { req.size };
    if size == 0 {
        return Err(Error::new(
            ErrorKind::EmptyFile,
            format!("{what}: the file is empty and no size was given"),
        ));
    }
    check_size(size, what)?;
    let sd = Descriptor::new(
        req.permissions,
        SECTION_RIGHTS,
        req.protection == Protection::ReadWrite,
    )
    .map_err(|e| Error::from_io(e, what))?;
    let sa = sd.attributes(false);
    let wname = name.map(|n| wide(&n.full()));
    let (section, status) = create_section(
        file.as_raw_handle(),
        Some(&sa),
        page_protection(req.protection),
        req.size,
        wname.as_deref(),
    )
    .map_err(|e| match code_of(&e) {
        code::ACCESS_DENIED if req.protection == Protection::ReadWrite => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: a read-write mapping needs a file opened for writing; this one is read-only"),
        ),
        code::ACCESS_DENIED | code::NOT_ENOUGH_MEMORY if size > len => Error::with_code(
            ErrorKind::InvalidSize,
            code::NOT_ENOUGH_MEMORY,
            format!(
                "{what}: size {size} exceeds the file's {len} bytes and the file, \
                 opened read-only, cannot grow"
            ),
        ),
        code::FILE_INVALID => Error::new(
            ErrorKind::EmptyFile,
            format!("{what}: the file is empty and no size was given"),
        ),
        _ => section_error(e, name, size, what),
    })?;
    if status == ERROR_ALREADY_EXISTS {
        let name = name.expect("only named objects exist already");
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "cannot create {what} over a file: an object of that name already exists ({})",
                crate::name::quoted(name.as_str())
            ),
        ));
    }
    Ok(Handle {
        section,
        size,
        access: Access::ReadWrite,
        protection: req.protection,
        kind: if name.is_some() {
            Kind::Named
        } else {
            Kind::File
        },
        inheritable: None,
    })
}

/// A handle to an existing object that a create call found, after the squatting check.
fn existing(section: OwnedHandle, access: Access, what: &str) -> Result<Handle> {
    let mine = sys::owned_by_caller(section.as_raw_handle(), false)
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
    let size = sys::section_size(section.as_raw_handle()).map_err(|e| Error::from_io(e, what))?;
    Ok(Handle {
        section,
        size,
        access,
        protection: if access == Access::ReadWrite {
            Protection::ReadWrite
        } else {
            Protection::ReadOnly
        },
        kind: Kind::Named,
        inheritable: None,
    })
}

fn create_named(req: &CreateRequest<'_>, name: &Name, what: &str) -> Result<(Handle, bool)> {
    // A persistent object of that name has no named section: look for its file first.
    if let Some(stored) = persist::open(name, true, true, what)? {
        return open_stored_for_create(stored, what);
    }
    let sd = Descriptor::new(
        req.permissions,
        SECTION_RIGHTS,
        req.protection == Protection::ReadWrite,
    )
    .map_err(|e| Error::from_io(e, what))?;
    let sa = sd.attributes(false);
    let wname = wide(&name.full());
    match create_section(
        INVALID_HANDLE_VALUE as RawHandle,
        Some(&sa),
        page_protection(req.protection) | SEC_COMMIT,
        req.size,
        Some(&wname),
    ) {
        Ok((section, ERROR_ALREADY_EXISTS)) => {
            let access = if req.protection == Protection::ReadWrite {
                Access::ReadWrite
            } else {
                Access::Read
            };
            Ok((existing(section, access, what)?, true))
        }
        Ok((section, _)) => Ok((
            Handle {
                section,
                size: req.size,
                access: Access::ReadWrite,
                protection: req.protection,
                kind: Kind::Named,
                inheritable: None,
            },
            false,
        )),
        // An existing object whose permissions refuse what CreateFileMappingW asks for
        // (a read-only object grants no write right): open it for reading.
        Err(e) if code_of(&e) == code::ACCESS_DENIED => {
            let section = open_section(name, SECTION_QUERY | FILE_MAP_READ | READ_CONTROL)
                .map_err(|e| section_error(e, Some(name), req.size, what))?;
            Ok((existing(section, Access::Read, what)?, true))
        }
        Err(e) => Err(section_error(e, Some(name), req.size, what)),
    }
}

fn open_stored_for_create(stored: Stored, what: &str) -> Result<(Handle, bool)> {
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
    Ok((from_stored(stored, access, what)?, true))
}

fn create_persistent(req: &CreateRequest<'_>, name: &Name, what: &str) -> Result<(Handle, bool)> {
    loop {
        // A live object of that name, persistent or not, comes first.
        match open_section(name, open_rights(Access::ReadWrite)) {
            Ok(section) => return Ok((existing(section, Access::ReadWrite, what)?, true)),
            Err(e) if code_of(&e) == code::FILE_NOT_FOUND => {}
            Err(e) if code_of(&e) == code::ACCESS_DENIED => {
                let section = open_section(name, open_rights(Access::Read))
                    .map_err(|e| section_error(e, Some(name), req.size, what))?;
                return Ok((existing(section, Access::Read, what)?, true));
            }
            Err(e) => return Err(section_error(e, Some(name), req.size, what)),
        }
        if let Some(stored) = persist::open(name, true, true, what)? {
            return open_stored_for_create(stored, what);
        }
        if let Some(stored) =
            persist::create(name, req.size, req.protection, req.permissions, what)?
        {
            let protection = stored.protection;
            let mut handle = from_stored(stored, Access::ReadWrite, what)?;
            handle.protection = protection;
            return Ok((handle, false));
        }
        // Another process made the file between the two calls: open theirs.
    }
}

/// SPEC 2.6: open an existing object by name.
pub(crate) fn open(name: &Name, access: Access) -> Result<Handle> {
    let what = label(Some(name));
    match open_section(name, open_rights(access)) {
        Ok(section) => {
            let size = sys::section_size(section.as_raw_handle())
                .map_err(|e| Error::from_io(e, what.clone()))?;
            Ok(Handle {
                section,
                size,
                access,
                protection: if access == Access::ReadWrite {
                    Protection::ReadWrite
                } else {
                    Protection::ReadOnly
                },
                kind: Kind::Named,
                inheritable: None,
            })
        }
        Err(e) if code_of(&e) == code::FILE_NOT_FOUND => {
            match persist::open(name, access == Access::ReadWrite, false, &what)? {
                Some(stored) => {
                    if access == Access::ReadWrite && stored.protection != Protection::ReadWrite {
                        return Err(Error::new(
                            ErrorKind::PermissionDenied,
                            format!("cannot open {what} for writing: the object is not read-write"),
                        ));
                    }
                    from_stored(stored, access, &what)
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
                if access == Access::ReadWrite {
                    "writing"
                } else {
                    "reading"
                }
            ),
        )),
        Err(e) => Err(section_error(e, Some(name), 0, &what)),
    }
}

/// POSIX shared-memory names do not exist on Windows.
pub(crate) fn open_os(os_name: &str, _access: Access) -> Result<Handle> {
    Err(Error::with_code(
        ErrorKind::Other,
        ERROR_NOT_SUPPORTED,
        format!(
            "cannot open POSIX shared-memory object {os_name:?}: POSIX shared memory does not \
             exist on Windows; open the object by its Windows name with Mapping::open"
        ),
    ))
}

/// Removes a persistent object's name (SPEC 5.4).
pub(crate) fn remove(name: &Name) -> Result<()> {
    let what = label(Some(name));
    if persist::remove(name, &format!("cannot remove {what}"))? {
        return Ok(());
    }
    match open_section(name, SECTION_QUERY) {
        Ok(_) => Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "cannot remove {what}: it is not persistent; it disappears when its last handle closes"
            ),
        )),
        Err(e) if code_of(&e) == code::INVALID_HANDLE => Err(wrong_type(name)),
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

const TOKEN_PREFIX: &str = "shmkit-handle:";

impl Handle {
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
        self.kind == Kind::Persistent
    }

    fn make_inheritable(&mut self, what: &str) -> Result<()> {
        let twin = sys::InheritableHandle::new(self.section.as_raw_handle())
            .map_err(|e| Error::from_io(e, what))?;
        self.inheritable = Some(twin);
        Ok(())
    }

    /// `where_` is the handle's number, followed by `@pid` for a handle the child takes
    /// from its parent.
    fn token(&self, where_: &str) -> String {
        let access = match self.access {
            Access::Read => "r",
            Access::ReadWrite => "rw",
            Access::CopyOnWrite => "cow",
        };
        format!(
            "{TOKEN_PREFIX}{where_}:{}:{access}:{}:{}",
            self.kind.as_str(),
            protection_code(self.protection),
            self.size
        )
    }

    /// The token of the inheritable twin.
    pub(crate) fn inherit_token(&self) -> Option<String> {
        self.inheritable
            .as_ref()
            .map(|h| self.token(&h.value().to_string()))
    }

    /// On Windows a child cannot be made to inherit one handle only (short of
    /// `PROC_THREAD_ATTRIBUTE_HANDLE_LIST`, which `Command` does not offer): an
    /// inheritable handle would reach every child started meanwhile, by any thread, and
    /// keep the name alive in them. So the child takes its handle from this process
    /// with `DuplicateHandle` when it calls `from_inherited`: the token names this
    /// handle and this process, and this handle must stay open until then.
    pub(crate) fn share_with(&self, _cmd: &mut Command) -> Result<String> {
        Ok(self.token(&format!(
            "{}@{}",
            self.section.as_raw_handle() as usize,
            std::process::id()
        )))
    }

    pub(crate) fn from_inherited(token: &str) -> Result<Handle> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidHandle,
                format!("inherited handle {token:?}: {why}"),
            )
        };
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or_else(|| bad("not a shmkit handle token"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [where_, kind, access, prot, size] = parts[..] else {
            return Err(bad("malformed token"));
        };
        let kind = match kind {
            "named" => Kind::Named,
            "unnamed" => Kind::Unnamed,
            "file" => Kind::File,
            "persistent" => Kind::Persistent,
            _ => return Err(bad("malformed token")),
        };
        let access = match access {
            "r" => Access::Read,
            "rw" => Access::ReadWrite,
            "cow" => Access::CopyOnWrite,
            _ => return Err(bad("malformed access")),
        };
        let size: u64 = size.parse().map_err(|_| bad("malformed size"))?;
        let prot: u32 = prot.parse().map_err(|_| bad("malformed protection"))?;
        if size == 0 || prot > 2 {
            return Err(bad("malformed token"));
        }
        let section = match where_.split_once('@') {
            Some((value, pid)) => {
                let value: usize = value.parse().map_err(|_| bad("malformed handle"))?;
                let pid: u32 = pid.parse().map_err(|_| bad("malformed process id"))?;
                sys::take_from(pid, value)
                    .map_err(|e| bad(&format!("cannot take it from process {pid}: {e}")))?
            }
            None => {
                let value: usize = where_.parse().map_err(|_| bad("malformed handle"))?;
                sys::adopt_inherited(value, |h| sys::section_size(h).is_ok()).map_err(bad)?
            }
        };
        let actual =
            sys::section_size(section.as_raw_handle()).map_err(|_| bad("not a mapping object"))?;
        if actual < size {
            return Err(bad("the object is smaller than the token says"));
        }
        Ok(Handle {
            section,
            size,
            access,
            protection: protection_of(prot),
            kind,
            inheritable: None,
        })
    }

    pub(crate) fn try_clone(&self) -> Result<Handle> {
        let section = sys::duplicate(self.section.as_raw_handle(), false)
            .map_err(|e| Error::from_io(e, "duplicating a mapping handle"))?;
        Ok(Handle {
            section,
            size: self.size,
            access: self.access,
            protection: self.protection,
            kind: self.kind,
            inheritable: None,
        })
    }

    /// Maps `len` bytes at `offset` (already checked against the object's size).
    pub(crate) fn map(
        &self,
        offset: u64,
        len: usize,
        access: Access,
    ) -> std::result::Result<RawView, OsError> {
        let rights = match access {
            Access::Read => FILE_MAP_READ,
            Access::ReadWrite => FILE_MAP_WRITE | FILE_MAP_READ,
            Access::CopyOnWrite => FILE_MAP_COPY,
        };
        // SAFETY: a new view at an address the system chooses; it aliases no Rust
        // object, and the range lies inside the section (checked by the caller).
        let view = unsafe {
            MapViewOfFile(
                self.section.as_raw_handle() as HANDLE,
                rights,
                (offset >> 32) as u32,
                offset as u32,
                len,
            )
        };
        if view.Value.is_null() {
            return Err(OsError(last_error()));
        }
        Ok(RawView {
            ptr: view.Value.cast(),
            len,
        })
    }
}

/// The error of a view call, which the public types turn into an `io::Error` (as the
/// Linux backend's errno).
pub(crate) struct OsError(io::Error);

impl From<OsError> for io::Error {
    fn from(e: OsError) -> io::Error {
        e.0
    }
}

/// One mapped view.
pub(crate) struct RawView {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: a RawView is an address range; nothing about it is tied to a thread.
unsafe impl Send for RawView {}
// SAFETY: shared use only reads `ptr` and `len`; access to the memory itself is governed
// by the public View API (copies and atomics).
unsafe impl Sync for RawView {}

impl RawView {
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn flush(&self) -> std::result::Result<(), OsError> {
        // SAFETY: `ptr..ptr+len` lies inside a view this value owns.
        if unsafe { FlushViewOfFile(self.ptr.cast(), self.len) } == 0 {
            return Err(OsError(last_error()));
        }
        Ok(())
    }
}

impl Drop for RawView {
    fn drop(&mut self) {
        // SAFETY: `ptr` is the base address MapViewOfFile returned; it is unmapped
        // exactly once, here, when nothing refers to the view any more.
        unsafe {
            UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS {
                Value: self.ptr.cast(),
            });
        }
    }
}
