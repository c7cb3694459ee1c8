//! The one error type of the public API.
//!
//! Every error carries an [`ErrorKind`] a caller can match, the Win32 error code that
//! docs/SPEC.md gives for the broken rule, and a message that names the object and the cause.

use std::fmt;
use std::io;

/// The Win32 error codes shmkit reports (docs/SPEC.md gives the rule behind each), by
/// their Windows names without the `ERROR_` prefix. The C API reports these same numbers.
pub mod code {
    #![allow(missing_docs)] // each constant is its Windows name
    pub const SUCCESS: u32 = 0;
    pub const FILE_NOT_FOUND: u32 = 2;
    pub const PATH_NOT_FOUND: u32 = 3;
    pub const ACCESS_DENIED: u32 = 5;
    pub const INVALID_HANDLE: u32 = 6;
    pub const NOT_ENOUGH_MEMORY: u32 = 8;
    pub const BAD_FORMAT: u32 = 11;
    pub const WRITE_PROTECT: u32 = 19;
    pub const BAD_LENGTH: u32 = 24;
    /// ERROR_GEN_FAILURE: used for failures that have no closer Win32 equivalent.
    pub const GEN_FAILURE: u32 = 31;
    pub const NOT_SUPPORTED: u32 = 50;
    pub const FILE_EXISTS: u32 = 80;
    pub const INVALID_PARAMETER: u32 = 87;
    pub const DISK_FULL: u32 = 112;
    pub const INSUFFICIENT_BUFFER: u32 = 122;
    pub const INVALID_NAME: u32 = 123;
    pub const MOD_NOT_FOUND: u32 = 126;
    pub const NEGATIVE_SEEK: u32 = 131;
    pub const DIR_NOT_EMPTY: u32 = 145;
    pub const BROKEN_PIPE: u32 = 109;
    pub const BUSY: u32 = 170;
    pub const ALREADY_EXISTS: u32 = 183;
    pub const BAD_EXE_FORMAT: u32 = 193;
    pub const FILE_TOO_LARGE: u32 = 223;
    pub const FILENAME_EXCED_RANGE: u32 = 206;
    pub const NOT_OWNER: u32 = 288;
    pub const TOO_MANY_POSTS: u32 = 298;
    pub const INVALID_ADDRESS: u32 = 487;
    pub const NOACCESS: u32 = 998;
    pub const FILE_INVALID: u32 = 1006;
    pub const POSSIBLE_DEADLOCK: u32 = 1131;
    pub const MAPPED_ALIGNMENT: u32 = 1132;
    pub const INTERNAL_ERROR: u32 = 1359;
    pub const FILE_CORRUPT: u32 = 1392;
    pub const NOT_ENOUGH_QUOTA: u32 = 1816;
}

/// The error kind and Win32 code of a Unix `errno`: the one table, which the library's
/// errors and the C API's last error both use. `None` for an errno with no closer Win32
/// meaning than ERROR_GEN_FAILURE.
#[cfg(unix)]
pub fn classify_errno(errno: i32) -> Option<(ErrorKind, u32)> {
    // Linux's numbers (asm-generic/errno-base.h, errno.h).
    const EPERM: i32 = 1;
    const ENOENT: i32 = 2;
    const ENOEXEC: i32 = 8;
    const EBADF: i32 = 9;
    const ENOMEM: i32 = 12;
    const EFAULT: i32 = 14;
    const EACCES: i32 = 13;
    const EEXIST: i32 = 17;
    const ENOTDIR: i32 = 20;
    const EISDIR: i32 = 21;
    const EINVAL: i32 = 22;
    const EFBIG: i32 = 27;
    const ENOSPC: i32 = 28;
    const EROFS: i32 = 30;
    const ENAMETOOLONG: i32 = 36;
    const ENOTEMPTY: i32 = 39;
    const ELOOP: i32 = 40;
    const EOPNOTSUPP: i32 = 95;
    const EDQUOT: i32 = 122;
    Some(match errno {
        ENOENT => (ErrorKind::NotFound, code::FILE_NOT_FOUND),
        ENOTDIR => (ErrorKind::NotFound, code::PATH_NOT_FOUND),
        EBADF => (ErrorKind::InvalidHandle, code::INVALID_HANDLE),
        ENOMEM => (ErrorKind::NoSpace, code::NOT_ENOUGH_MEMORY),
        EACCES | EPERM | EISDIR | ELOOP => (ErrorKind::PermissionDenied, code::ACCESS_DENIED),
        EROFS => (ErrorKind::PermissionDenied, code::WRITE_PROTECT),
        EEXIST => (ErrorKind::AlreadyExists, code::ALREADY_EXISTS),
        ENOSPC | EDQUOT => (ErrorKind::NoSpace, code::DISK_FULL),
        EFBIG => (ErrorKind::InvalidSize, code::INVALID_PARAMETER),
        EINVAL => (ErrorKind::InvalidParameter, code::INVALID_PARAMETER),
        ENAMETOOLONG => (ErrorKind::InvalidName, code::FILENAME_EXCED_RANGE),
        ENOTEMPTY => (ErrorKind::Other, code::DIR_NOT_EMPTY),
        ENOEXEC => (ErrorKind::Other, code::BAD_FORMAT),
        // Memory that lost its backing (a truncated file under a view or a sync page).
        EFAULT => (ErrorKind::Other, code::NOACCESS),
        EOPNOTSUPP => (ErrorKind::NotSupported, code::NOT_SUPPORTED),
        _ => return None,
    })
}

/// A specialised `Result` for shmkit operations.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong, in a form a caller can match on.
///
/// The Win32 code of an error ([`Error::win32_code`]) tells the exact rule where one kind
/// covers several (every refused name is [`ErrorKind::InvalidName`], for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No object has that name (ERROR_FILE_NOT_FOUND).
    NotFound,
    /// `create_new` found the name taken (ERROR_ALREADY_EXISTS).
    AlreadyExists,
    /// Permissions, a read-only handle, object or file, or an unsafe backing store refuse
    /// the operation (ERROR_ACCESS_DENIED).
    PermissionDenied,
    /// The name breaks a naming rule (ERROR_PATH_NOT_FOUND, ERROR_INVALID_NAME,
    /// ERROR_FILENAME_EXCED_RANGE, or ERROR_INVALID_PARAMETER for a missing name).
    InvalidName,
    /// A size of zero or one the system cannot represent (ERROR_INVALID_PARAMETER).
    InvalidSize,
    /// A view offset off the 64 KiB allocation grid (ERROR_MAPPED_ALIGNMENT).
    Misaligned,
    /// A view or a copy that reaches past the end of the object (ERROR_ACCESS_DENIED).
    OutOfRange,
    /// The name is held by an object of another kind (ERROR_INVALID_HANDLE).
    WrongType,
    /// A file-backed mapping of size 0 over an empty file (ERROR_FILE_INVALID).
    EmptyFile,
    /// The system cannot commit the memory (ERROR_DISK_FULL or ERROR_NOT_ENOUGH_MEMORY).
    NoSpace,
    /// A handle that is closed, or was never valid (ERROR_INVALID_HANDLE).
    InvalidHandle,
    /// Releasing a mutex the calling thread does not own (ERROR_NOT_OWNER).
    NotOwner,
    /// Releasing a semaphore past its maximum count (ERROR_TOO_MANY_POSTS).
    TooManyPosts,
    /// A parameter out of its range: permission bits, semaphore counts, a protection
    /// or option that does not apply (ERROR_INVALID_PARAMETER).
    InvalidParameter,
    /// The operation does not exist on this platform (ERROR_NOT_SUPPORTED).
    NotSupported,
    /// The calling thread already holds the lock it asked for again, where a second
    /// hold would hand out a second exclusive reference (ERROR_POSSIBLE_DEADLOCK).
    AlreadyLocked,
    /// The object is in use in a way that keeps this operation from completing now: for
    /// instance another process with write access holds it locked (ERROR_BUSY).
    Busy,
    /// A channel has no room for the message now (`try_send`, `send_timeout`).
    Full,
    /// The other end of a channel is gone (ERROR_BROKEN_PIPE).
    Disconnected,
    /// A message larger than the channel's maximum (ERROR_FILE_TOO_LARGE).
    TooLarge,
    /// Anything else: an unexpected system error.
    Other,
}

impl ErrorKind {
    /// Every kind, in declaration order (for bindings that mirror them, and tests).
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::PermissionDenied,
        ErrorKind::InvalidName,
        ErrorKind::InvalidSize,
        ErrorKind::Misaligned,
        ErrorKind::OutOfRange,
        ErrorKind::WrongType,
        ErrorKind::EmptyFile,
        ErrorKind::NoSpace,
        ErrorKind::InvalidHandle,
        ErrorKind::NotOwner,
        ErrorKind::TooManyPosts,
        ErrorKind::InvalidParameter,
        ErrorKind::NotSupported,
        ErrorKind::AlreadyLocked,
        ErrorKind::Busy,
        ErrorKind::Full,
        ErrorKind::Disconnected,
        ErrorKind::TooLarge,
        ErrorKind::Other,
    ];

    fn default_code(self) -> u32 {
        match self {
            ErrorKind::NotFound => code::FILE_NOT_FOUND,
            ErrorKind::AlreadyExists => code::ALREADY_EXISTS,
            ErrorKind::PermissionDenied | ErrorKind::OutOfRange => code::ACCESS_DENIED,
            ErrorKind::InvalidName => code::INVALID_NAME,
            ErrorKind::InvalidSize => code::INVALID_PARAMETER,
            ErrorKind::Misaligned => code::MAPPED_ALIGNMENT,
            ErrorKind::WrongType | ErrorKind::InvalidHandle => code::INVALID_HANDLE,
            ErrorKind::EmptyFile => code::FILE_INVALID,
            ErrorKind::NoSpace => code::DISK_FULL,
            ErrorKind::NotOwner => code::NOT_OWNER,
            ErrorKind::TooManyPosts => code::TOO_MANY_POSTS,
            ErrorKind::InvalidParameter => code::INVALID_PARAMETER,
            ErrorKind::NotSupported => code::NOT_SUPPORTED,
            ErrorKind::AlreadyLocked => code::POSSIBLE_DEADLOCK,
            ErrorKind::Busy => code::BUSY,
            ErrorKind::Full => code::NOT_ENOUGH_QUOTA,
            ErrorKind::Disconnected => code::BROKEN_PIPE,
            ErrorKind::TooLarge => code::FILE_TOO_LARGE,
            ErrorKind::Other => code::GEN_FAILURE,
        }
    }

    fn io_kind(self) -> io::ErrorKind {
        match self {
            ErrorKind::NotFound => io::ErrorKind::NotFound,
            ErrorKind::AlreadyExists => io::ErrorKind::AlreadyExists,
            ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            ErrorKind::InvalidName
            | ErrorKind::InvalidSize
            | ErrorKind::Misaligned
            | ErrorKind::OutOfRange
            | ErrorKind::WrongType
            | ErrorKind::EmptyFile
            | ErrorKind::InvalidHandle => io::ErrorKind::InvalidInput,
            ErrorKind::NoSpace => io::ErrorKind::StorageFull,
            ErrorKind::NotOwner => io::ErrorKind::PermissionDenied,
            ErrorKind::TooManyPosts | ErrorKind::InvalidParameter => io::ErrorKind::InvalidInput,
            ErrorKind::NotSupported => io::ErrorKind::Unsupported,
            ErrorKind::AlreadyLocked => io::ErrorKind::Deadlock,
            ErrorKind::Busy => io::ErrorKind::ResourceBusy,
            ErrorKind::Full => io::ErrorKind::WouldBlock,
            ErrorKind::Disconnected => io::ErrorKind::BrokenPipe,
            ErrorKind::TooLarge => io::ErrorKind::FileTooLarge,
            ErrorKind::Other => io::ErrorKind::Other,
        }
    }
}

/// The error of every shmkit operation.
pub struct Error {
    kind: ErrorKind,
    code: u32,
    message: String,
}

impl Error {
    /// An error of `kind` with the kind's usual Win32 code.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            code: kind.default_code(),
            message: message.into(),
        }
    }

    /// An error of `kind` that reports the Win32 code `code`.
    pub(crate) fn with_code(kind: ErrorKind, code: u32, message: impl Into<String>) -> Error {
        Error {
            kind,
            code,
            message: message.into(),
        }
    }

    /// An error caused by a system call; the kind and code follow from `err`.
    pub(crate) fn from_io(err: io::Error, message: impl Into<String>) -> Error {
        // The OS error's text goes into the message, which is what people read; it is not
        // kept as `source()` too, where error printers would print it twice.
        let (kind, code) = classify_io(&err);
        Error {
            kind,
            code,
            message: format!("{}: {}", message.into(), err),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The Win32 error code of the broken rule (what `GetLastError` reports on Windows).
    #[doc(alias = "GetLastError")]
    pub fn win32_code(&self) -> u32 {
        self.code
    }

    /// The message without the kind: names the object and the cause.
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn classify_io(err: &io::Error) -> (ErrorKind, u32) {
    #[cfg(unix)]
    if let Some(errno) = err.raw_os_error() {
        return classify_errno(errno).unwrap_or((ErrorKind::Other, code::GEN_FAILURE));
    }
    #[cfg(windows)]
    if let Some(c) = err.raw_os_error() {
        let c = c as u32;
        let kind = match c {
            code::FILE_NOT_FOUND => ErrorKind::NotFound,
            code::ALREADY_EXISTS => ErrorKind::AlreadyExists,
            code::ACCESS_DENIED => ErrorKind::PermissionDenied,
            code::INVALID_HANDLE => ErrorKind::InvalidHandle,
            code::NOT_ENOUGH_MEMORY | code::DISK_FULL => ErrorKind::NoSpace,
            code::MAPPED_ALIGNMENT => ErrorKind::Misaligned,
            code::NOT_OWNER => ErrorKind::NotOwner,
            code::TOO_MANY_POSTS => ErrorKind::TooManyPosts,
            code::FILE_INVALID => ErrorKind::EmptyFile,
            code::INVALID_PARAMETER => ErrorKind::InvalidParameter,
            code::NOT_SUPPORTED => ErrorKind::NotSupported,
            code::PATH_NOT_FOUND | code::INVALID_NAME | code::FILENAME_EXCED_RANGE => {
                ErrorKind::InvalidName
            }
            _ => ErrorKind::Other,
        };
        return (kind, c);
    }
    let kind = match err.kind() {
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
        io::ErrorKind::StorageFull | io::ErrorKind::OutOfMemory => ErrorKind::NoSpace,
        _ => ErrorKind::Other,
    };
    (kind, kind.default_code())
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("win32_code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        io::Error::new(err.kind.io_kind(), err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_conversion_keeps_message_and_kind() {
        let e = Error::new(ErrorKind::NotFound, "mapping \"Local\\x\" does not exist");
        assert_eq!(e.win32_code(), 2);
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert!(io.to_string().contains("Local\\x"));
    }

    #[test]
    fn each_kind_has_its_code_and_io_kind() {
        use io::ErrorKind as Io;
        let mut seen = Vec::new();
        for (kind, code, io_kind) in [
            (ErrorKind::NotFound, 2, Io::NotFound),
            (ErrorKind::AlreadyExists, 183, Io::AlreadyExists),
            (ErrorKind::PermissionDenied, 5, Io::PermissionDenied),
            (ErrorKind::InvalidName, 123, Io::InvalidInput),
            (ErrorKind::InvalidSize, 87, Io::InvalidInput),
            (ErrorKind::Misaligned, 1132, Io::InvalidInput),
            (ErrorKind::OutOfRange, 5, Io::InvalidInput),
            (ErrorKind::WrongType, 6, Io::InvalidInput),
            (ErrorKind::EmptyFile, 1006, Io::InvalidInput),
            (ErrorKind::NoSpace, 112, Io::StorageFull),
            (ErrorKind::InvalidHandle, 6, Io::InvalidInput),
            (ErrorKind::NotOwner, 288, Io::PermissionDenied),
            (ErrorKind::TooManyPosts, 298, Io::InvalidInput),
            (ErrorKind::InvalidParameter, 87, Io::InvalidInput),
            (ErrorKind::NotSupported, 50, Io::Unsupported),
            (ErrorKind::AlreadyLocked, 1131, Io::Deadlock),
            (ErrorKind::Busy, 170, Io::ResourceBusy),
            (ErrorKind::Full, 1816, Io::WouldBlock),
            (ErrorKind::Disconnected, 109, Io::BrokenPipe),
            (ErrorKind::TooLarge, 223, Io::FileTooLarge),
            (ErrorKind::Other, 31, Io::Other),
        ] {
            seen.push(kind);
            let e = Error::new(kind, format!("{kind:?} \"Local\\x\""));
            assert_eq!((e.kind(), e.win32_code()), (kind, code));
            assert_eq!(e.message(), e.to_string());
            assert!(format!("{e:?}").contains(&format!("win32_code: {code}")));
            let io: io::Error = e.into();
            assert_eq!(io.kind(), io_kind, "{kind:?}");
            assert!(io.to_string().contains("\"Local\\x\""));
        }
        assert_eq!(
            seen,
            ErrorKind::ALL,
            "every kind, in order, and nothing else"
        );
        let e = Error::with_code(ErrorKind::InvalidName, code::FILENAME_EXCED_RANGE, "long");
        assert_eq!((e.kind(), e.win32_code()), (ErrorKind::InvalidName, 206));
    }

    #[cfg(unix)]
    #[test]
    fn every_errno_is_classified_as_from_io_reports_it() {
        for errno in -1..200 {
            let (kind, code) =
                classify_errno(errno).unwrap_or((ErrorKind::Other, code::GEN_FAILURE));
            let e = Error::from_io(io::Error::from_raw_os_error(errno), "doing x");
            assert_eq!((e.kind(), e.win32_code()), (kind, code), "errno {errno}");
            assert!(e.message().starts_with("doing x: "), "{e}");
        }
        assert_eq!(classify_errno(2), Some((ErrorKind::NotFound, 2)));
        assert_eq!(classify_errno(20), Some((ErrorKind::NotFound, 3)));
        assert_eq!(classify_errno(36), Some((ErrorKind::InvalidName, 206)));
        assert_eq!(classify_errno(5), None, "EIO has no closer code");
        let e = Error::from_io(io::Error::from(io::ErrorKind::OutOfMemory), "x");
        assert_eq!((e.kind(), e.win32_code()), (ErrorKind::NoSpace, 112));
        let e = Error::from_io(io::Error::other("weird"), "x");
        assert_eq!((e.kind(), e.win32_code()), (ErrorKind::Other, 31));
    }

    #[cfg(unix)]
    #[test]
    fn errno_classification() {
        let e = Error::from_io(io::Error::from_raw_os_error(28), "creating x");
        assert_eq!(e.kind(), ErrorKind::NoSpace);
        assert_eq!(e.win32_code(), 112);
        let e = Error::from_io(io::Error::from_raw_os_error(13), "opening x");
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(e.win32_code(), 5);
    }
}
