//! Mutexes, events and semaphores on Windows: the kernel objects themselves.
//!
//! Ownership, abandonment (`WAIT_ABANDONED`), ERROR_NOT_OWNER and ERROR_TOO_MANY_POSTS
//! are the kernel's. Permissions map as for mappings (see `security`): "read" is the
//! right to wait, "write" the right to set, reset or release.
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the handle: create-or-open, open, duplication and inheritance |
//! | `kernel.rs` | the Win32 calls that make, open and query each kind, and their rights |
//! | `wait.rs` | waiting, and each kind's acquire, release, set and reset |

pub(super) mod kernel;
mod wait;

use super::inherit::{self, InheritableHandle};
use super::persist;
use super::security::{self, Descriptor};
use super::sys::{code_of, wide};
use crate::error::{code, Error, ErrorKind, Result};
use crate::kind::Kind;
use crate::name::{label, quoted, Name};
use crate::os::{SyncParams, SyncRequest};
use crate::token::{Origin, Token};
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::process::Command;
use windows_sys::Win32::Foundation::ERROR_ALREADY_EXISTS;
use windows_sys::Win32::Storage::FileSystem::READ_CONTROL;

/// One open handle to a mutex, an event or a semaphore.
pub(crate) struct SyncHandle {
    handle: OwnedHandle,
    kind: Kind,
    /// The event's manual-reset flag (1) or the semaphore's maximum.
    param: u32,
    /// The full name (`Local\x`) of a named object.
    name: Option<String>,
    inheritable: Option<InheritableHandle>,
}

fn wrong_type(name: &Name, want: Kind) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!(
            "{} is held by an object of another kind, not a {want}",
            quoted(name.as_str())
        ),
    )
}

fn call_error(e: io::Error, name: Option<&Name>, kind: Kind, what: &str) -> Error {
    match (code_of(&e), name) {
        (code::INVALID_HANDLE, Some(n)) => wrong_type(n, kind),
        (code::ACCESS_DENIED, _) => Error::new(
            ErrorKind::PermissionDenied,
            format!("{what}: access denied by the object's permissions"),
        ),
        _ => Error::from_io(e, what.to_owned()),
    }
}

/// SPEC 7.5 with 2.1: create-or-open (or create-new).
pub(crate) fn create_sync(req: &SyncRequest<'_>) -> Result<(SyncHandle, bool)> {
    let kind = req.params.kind();
    let what = label(kind, req.name.map(Name::as_str));
    let creating = format!("creating {what}");
    if let Some(name) = req.name {
        // A persistent mapping holds its name through a file, not a live object.
        if persist::exists(name) {
            return Err(wrong_type(name, kind));
        }
    }
    let sd = Descriptor::new(req.permissions, kernel::rights(kind), true)
        .map_err(|e| Error::from_io(e, creating.clone()))?;
    let sa = sd.attributes(false);
    let wname = req.name.map(|n| wide(&n.full()));
    let (handle, existed) = match kernel::create(req.params, Some(&sa), wname.as_deref()) {
        Ok((h, status)) => (h, status == ERROR_ALREADY_EXISTS),
        // An existing object whose permissions refuse the all-access handle that a
        // create asks for: open it with what an open asks for.
        Err(e) if code_of(&e) == code::ACCESS_DENIED && req.name.is_some() => {
            let name = req.name.expect("checked");
            let h = kernel::open(kind, name, kernel::open_rights(kind) | READ_CONTROL)
                .map_err(|e| call_error(e, Some(name), kind, &creating))?;
            (h, true)
        }
        Err(e) => return Err(call_error(e, req.name, kind, &creating)),
    };
    if existed {
        if req.exclusive {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("cannot create {what}: an object of that name already exists"),
            ));
        }
        let mine = security::owned_by_caller(handle.as_raw_handle(), false)
            .map_err(|e| Error::from_io(e, creating.clone()))?;
        if !mine {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{creating}: the name is held by another user's object; refusing a name \
                     another user may have squatted (use open to use another user's object \
                     on purpose)"
                ),
            ));
        }
    }
    let param = match (existed, req.params) {
        (false, SyncParams::Event { manual, .. }) => u32::from(manual),
        (false, SyncParams::Semaphore { max, .. }) => max,
        (false, SyncParams::Mutex { .. }) => 0,
        (true, _) => kernel::param_of(handle.as_raw_handle(), kind)
            .map_err(|e| Error::from_io(e, creating.clone()))?,
    };
    let mut h = SyncHandle {
        handle,
        kind,
        param,
        name: req.name.map(Name::full),
        inheritable: None,
    };
    if req.inheritable {
        h.inheritable =
            Some(InheritableHandle::new(h.raw()).map_err(|e| Error::from_io(e, creating.clone()))?);
    }
    Ok((h, existed))
}

/// SPEC 7.5 with 2.6: opens an existing object of kind `kind`.
pub(crate) fn open_sync(name: &Name, kind: Kind) -> Result<SyncHandle> {
    let what = label(kind, Some(name.as_str()));
    let handle = match kernel::open(kind, name, kernel::open_rights(kind)) {
        Ok(h) => h,
        Err(e) if code_of(&e) == code::FILE_NOT_FOUND => {
            if persist::exists(name) {
                return Err(wrong_type(name, kind));
            }
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("cannot open {what}: no object of that name exists"),
            ));
        }
        Err(e) => {
            return Err(call_error(
                e,
                Some(name),
                kind,
                &format!("cannot open {what}"),
            ))
        }
    };
    let param = kernel::param_of(handle.as_raw_handle(), kind)
        .map_err(|e| Error::from_io(e, what.clone()))?;
    Ok(SyncHandle {
        handle,
        kind,
        param,
        name: Some(name.full()),
        inheritable: None,
    })
}

impl SyncHandle {
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The object's full name (`None` for an unnamed object).
    pub(crate) fn name(&self) -> Option<String> {
        self.name.clone()
    }

    fn what(&self) -> String {
        label(self.kind, self.name.as_deref())
    }

    fn raw(&self) -> RawHandle {
        self.handle.as_raw_handle()
    }

    fn wrong_op(&self, op: &str) -> Error {
        Error::new(
            ErrorKind::InvalidHandle,
            format!("{op}: {} is not of the right kind", self.what()),
        )
    }

    fn fail(&self, op: &str, e: io::Error) -> Error {
        Error::from_io(e, format!("{op} {}", self.what()))
    }

    fn token(&self, handle: u64, process: Option<u32>) -> Token {
        let origin = if self.name.is_some() {
            Origin::Named
        } else {
            Origin::Unnamed
        };
        Token {
            process,
            ..Token::sync(self.kind, origin, handle, self.name.clone())
        }
    }

    pub(crate) fn inherit_token(&self) -> Option<Token> {
        self.inheritable
            .as_ref()
            .map(|twin| self.token(twin.value(), None))
    }

    /// As for mappings (see `inherit`): the child takes its handle from this process in
    /// `from_inherited`, so no other child inherits it.
    pub(crate) fn share_with(&self, _cmd: &mut Command) -> Result<Token> {
        let (handle, process) = inherit::shared(&self.handle);
        Ok(self.token(handle, process))
    }

    pub(crate) fn from_inherited(token: &Token) -> Result<SyncHandle> {
        let kind = token.kind;
        if !kind.is_sync() || !matches!(token.origin, Origin::Named | Origin::Unnamed) {
            return Err(inherit::refused(token, "not a sync-object token"));
        }
        let handle = inherit::take(token, |h| kernel::param_of(h, kind).is_ok())?;
        let param = kernel::param_of(handle.as_raw_handle(), kind)
            .map_err(|_| inherit::refused(token, "not an object of the kind the token says"))?;
        Ok(SyncHandle {
            handle,
            kind,
            param,
            name: token.name.clone(),
            inheritable: None,
        })
    }

    pub(crate) fn try_clone(&self) -> Result<SyncHandle> {
        let handle = inherit::duplicate(self.raw(), false)
            .map_err(|e| Error::from_io(e, format!("duplicating a handle to {}", self.what())))?;
        Ok(SyncHandle {
            handle,
            kind: self.kind,
            param: self.param,
            name: self.name.clone(),
            inheritable: None,
        })
    }
}
