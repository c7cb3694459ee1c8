//! Mapping objects: `CreateFileMapping`, `OpenFileMapping` and `CloseHandle`.

use crate::error::{Error, ErrorKind, Result};
use crate::kind::{Access, Kind, Protection};
use crate::name::label;
use crate::name::Name;
use crate::os::{self, CreateRequest};
use crate::params;
use crate::token;
use crate::view::View;
use std::fmt;
use std::fs::File;
use std::process::Command;

/// A handle to a mapping object: shared memory with a name (or none), a size, and a
/// lifetime bound to its handles.
///
/// Dropping the last handle of a non-persistent named object, in every process together,
/// makes its name disappear (SPEC 5.1); views keep the memory until they are dropped.
#[doc(alias = "CreateFileMapping")]
#[doc(alias = "HANDLE")]
pub struct Mapping {
    handle: os::Handle,
    name: Option<String>,
    already_existed: bool,
}

impl Mapping {
    /// Creates the object `name` of `size` bytes, or opens it if it exists: then it keeps
    /// its own size and [`already_existed`](Mapping::already_existed) is true.
    ///
    /// The memory is zero-filled and committed: a full store fails here with
    /// [`ErrorKind::NoSpace`], never later with SIGBUS.
    #[doc(alias = "CreateFileMappingW")]
    pub fn create(name: &str, size: u64) -> Result<Mapping> {
        Mapping::options().name(name).size(size).create()
    }

    /// Creates the object `name`, failing with [`ErrorKind::AlreadyExists`] if it exists.
    pub fn create_new(name: &str, size: u64) -> Result<Mapping> {
        Mapping::options().name(name).size(size).create_new()
    }

    /// Opens the existing object `name`; [`ErrorKind::NotFound`] when there is none.
    /// `access` bounds the views this handle can map.
    #[doc(alias = "OpenFileMapping")]
    #[doc(alias = "OpenFileMappingW")]
    pub fn open(name: &str, access: Access) -> Result<Mapping> {
        let parsed = Name::parse(name)?;
        let handle = os::open(&parsed, access)?;
        Ok(Mapping {
            handle,
            name: Some(name.to_owned()),
            already_existed: true,
        })
    }

    /// Opens a plain POSIX shared-memory object by its OS name (the `shm_open` name,
    /// with or without the leading `/`), such as one made by Python's
    /// `multiprocessing.shared_memory.SharedMemory`. Its size is the object's size; its
    /// lifetime stays with whoever made it (dropping this handle never removes it).
    pub fn open_os(os_name: &str, access: Access) -> Result<Mapping> {
        let handle = os::open_os(os_name, access)?;
        Ok(Mapping {
            handle,
            name: None,
            already_existed: true,
        })
    }

    /// Creates an unnamed object of `size` bytes, to share with children (see
    /// [`share_with`](Mapping::share_with)) or within the process.
    pub fn anonymous(size: u64) -> Result<Mapping> {
        Mapping::options().size(size).create()
    }

    /// Options for everything else: file backing, protection, permissions, inheritance,
    /// persistence.
    pub fn options<'a>() -> MappingOptions<'a> {
        MappingOptions::default()
    }

    /// Removes the name of a persistent object (created with
    /// [`MappingOptions::persistent`]). Handles and views already open keep working.
    /// A non-persistent object cannot be removed: it goes with its last handle.
    pub fn remove(name: &str) -> Result<()> {
        os::remove(&Name::parse(name)?)
    }

    /// The object's size in bytes.
    pub fn size(&self) -> u64 {
        self.handle.size()
    }

    /// The name this handle was created or opened with.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether a create call found the object already there (`ERROR_ALREADY_EXISTS`).
    /// Always true for handles from `open`.
    pub fn already_existed(&self) -> bool {
        self.already_existed
    }

    /// The object's page protection.
    pub fn protection(&self) -> Protection {
        self.handle.protection()
    }

    /// The access this handle was opened with (read-write for the creator).
    pub fn access(&self) -> Access {
        self.handle.access()
    }

    /// Whether the object outlives its handles.
    pub fn is_persistent(&self) -> bool {
        self.handle.is_persistent()
    }

    /// Maps a view of the whole object.
    #[doc(alias = "MapViewOfFile")]
    pub fn map(&self, access: Access) -> Result<View> {
        self.map_range(0, 0, access)
    }

    /// Maps `len` bytes at `offset`; `len` 0 means "to the end of the object".
    ///
    /// `offset` must be a multiple of [`GRANULARITY`](crate::GRANULARITY) (64 KiB) on every
    /// platform ([`ErrorKind::Misaligned`]); the range must lie inside the object
    /// ([`ErrorKind::OutOfRange`]); a read-write view needs a read-write handle and object
    /// ([`ErrorKind::PermissionDenied`]).
    #[doc(alias = "MapViewOfFileEx")]
    pub fn map_range(&self, offset: u64, len: usize, access: Access) -> Result<View> {
        let what = || label(Kind::Mapping, self.name.as_deref());
        let len = params::view(offset, len, self.size(), &what())?;
        let handle_allows = match access {
            Access::ReadWrite => self.handle.access() == Access::ReadWrite,
            Access::Read | Access::CopyOnWrite => true,
        };
        if !handle_allows || !self.protection().allows(access) {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "cannot map a read-write view of {}: {}",
                    what(),
                    if handle_allows {
                        "the object is not read-write"
                    } else {
                        "the handle was opened without write access"
                    }
                ),
            ));
        }
        let raw = self
            .handle
            .map(offset, len, access)
            .map_err(|e| Error::from_io(e, format!("cannot map a view of {}", what())))?;
        Ok(View::new(raw, offset, access))
    }

    /// Another handle to the same object (`DuplicateHandle`): it keeps the name alive on
    /// its own.
    #[doc(alias = "DuplicateHandle")]
    pub fn try_clone(&self) -> Result<Mapping> {
        Ok(Mapping {
            handle: self.handle.try_clone()?,
            name: self.name.clone(),
            already_existed: self.already_existed,
        })
    }

    /// Hands a new handle to the object to the child that `cmd` starts, and returns the
    /// token that the child passes to [`Mapping::from_inherited`] (on its command line or
    /// in its environment) to rebuild the mapping. Only that child inherits it.
    ///
    /// ```no_run
    /// # fn main() -> shmkit::Result<()> {
    /// use std::process::Command;
    /// let mapping = shmkit::Mapping::anonymous(4096)?;
    /// let mut cmd = Command::new("child-program");
    /// let token = mapping.share_with(&mut cmd)?;
    /// cmd.arg(token).spawn().expect("spawn");
    /// // in the child: let mapping = shmkit::Mapping::from_inherited(&token_arg)?;
    /// # Ok(()) }
    /// ```
    pub fn share_with(&self, cmd: &mut Command) -> Result<String> {
        Ok(self.handle.share_with(cmd)?.encode())
    }

    /// The token of this handle's inheritable twin, when created with
    /// [`MappingOptions::inheritable`]: every child started afterwards inherits it.
    pub fn inherit_token(&self) -> Option<String> {
        self.handle.inherit_token().map(|t| t.encode())
    }

    /// Rebuilds, in a child, a mapping its parent handed down with
    /// [`share_with`](Mapping::share_with) or [`inherit_token`](Mapping::inherit_token).
    /// A token that names no inherited handle is [`ErrorKind::InvalidHandle`].
    /// The handle keeps the object's name, as it does for sync objects.
    pub fn from_inherited(token: &str) -> Result<Mapping> {
        let handle = os::Handle::from_inherited(&token::decode_for(token, Kind::Mapping)?)?;
        Ok(Mapping {
            name: handle.name(),
            handle,
            already_existed: true,
        })
    }

    /// Closes the handle (`CloseHandle`); the same as dropping it.
    #[doc(alias = "CloseHandle")]
    pub fn close(self) {}
}

impl fmt::Debug for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapping")
            .field("name", &self.name)
            .field("size", &self.size())
            .field("protection", &self.protection())
            .field("access", &self.access())
            .field("already_existed", &self.already_existed)
            .finish()
    }
}

/// Options to create a mapping, for what [`Mapping::create`] does not say.
///
/// ```
/// # fn main() -> shmkit::Result<()> {
/// # let name = format!("Local\\doc-options-{}", std::process::id());
/// let mapping = shmkit::Mapping::options()
///     .name(&name)
///     .size(1 << 20)
///     .permissions(0o640)
///     .create()?;
/// assert_eq!(mapping.size(), 1 << 20);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MappingOptions<'a> {
    name: Option<String>,
    size: u64,
    protection: Protection,
    file: Option<&'a File>,
    permissions: u32,
    inheritable: bool,
    persistent: bool,
}

impl Default for MappingOptions<'_> {
    fn default() -> Self {
        MappingOptions {
            name: None,
            size: 0,
            protection: Protection::ReadWrite,
            file: None,
            permissions: 0o600,
            inheritable: false,
            persistent: false,
        }
    }
}

impl<'a> MappingOptions<'a> {
    /// The object's name (`Global\x`, `Local\x` or `x`); none makes an unnamed object.
    pub fn name(&mut self, name: &str) -> &mut Self {
        self.name = Some(name.to_owned());
        self
    }

    /// The size in bytes. Required (non-zero) for memory objects; for file-backed ones 0
    /// means the file's length and a larger size grows the file.
    pub fn size(&mut self, size: u64) -> &mut Self {
        self.size = size;
        self
    }

    /// The page protection (default read-write).
    pub fn protection(&mut self, protection: Protection) -> &mut Self {
        self.protection = protection;
        self
    }

    /// Backs the object by `file` instead of memory. Read-write protection needs the file
    /// opened for writing.
    pub fn file(&mut self, file: &'a File) -> &mut Self {
        self.file = Some(file);
        self
    }

    /// Owner / group / others read-write bits, `0o600` by default (owner only).
    pub fn permissions(&mut self, mode: u32) -> &mut Self {
        self.permissions = mode;
        self
    }

    /// Makes the handle inheritable by every child started afterwards; see
    /// [`Mapping::inherit_token`].
    pub fn inheritable(&mut self, yes: bool) -> &mut Self {
        self.inheritable = yes;
        self
    }

    /// Keeps the object after its last handle closes, until [`Mapping::remove`]
    /// (a shmkit extension of the Windows model).
    pub fn persistent(&mut self, yes: bool) -> &mut Self {
        self.persistent = yes;
        self
    }

    /// Create-or-open, like [`Mapping::create`].
    pub fn create(&self) -> Result<Mapping> {
        self.build(false)
    }

    /// Create-exclusive, like [`Mapping::create_new`]; needs a name.
    pub fn create_new(&self) -> Result<Mapping> {
        if self.name.is_none() {
            return Err(Name::missing("create_new"));
        }
        self.build(true)
    }

    fn build(&self, exclusive: bool) -> Result<Mapping> {
        let name = self.name.as_deref().map(Name::parse).transpose()?;
        let what = label(Kind::Mapping, name.as_ref().map(Name::as_str));
        params::permissions(self.permissions, &format!("creating {what}"))?;
        params::size(self.size, self.file.is_some(), &format!("creating {what}"))?;
        if self.persistent && name.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "creating an unnamed mapping: it cannot be persistent, nothing could open it again",
            ));
        }
        let req = CreateRequest {
            name: name.as_ref(),
            size: self.size,
            protection: self.protection,
            file: self.file,
            permissions: self.permissions,
            inheritable: self.inheritable,
            persistent: self.persistent,
            exclusive,
        };
        let (handle, already_existed) = os::create(&req)?;
        Ok(Mapping {
            handle,
            name: self.name.clone(),
            already_existed,
        })
    }
}
