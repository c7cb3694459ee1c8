"""The exception classes of shmkit, and the table from the library's error kinds."""

import errno as _errno

__all__ = [
    "Error",
    "NotFoundError",
    "ExistsError",
    "PermissionDeniedError",
    "InvalidArgumentError",
    "DisconnectedError",
    "FullError",
    "AbandonedMutexWarning",
]


class Error(OSError):
    """An error of the shmkit library.

    ``winerror`` is the Win32 error code of the broken rule (what ``GetLastError`` reports
    on Windows), ``kind`` the library's error kind (``"NotFound"``, ``"WrongType"``, ...),
    ``errno`` the closest POSIX errno.
    """

    winerror: int
    kind: str


class NotFoundError(Error, FileNotFoundError):
    """No object has that name (ERROR_FILE_NOT_FOUND, 2)."""


class ExistsError(Error, FileExistsError):
    """An exclusive create found the name taken (ERROR_ALREADY_EXISTS, 183)."""


class PermissionDeniedError(Error, PermissionError):
    """Permissions, a read-only handle or object refuse the operation (ERROR_ACCESS_DENIED, 5)."""


class InvalidArgumentError(Error, ValueError):
    """A bad argument: a refused name, a size of zero, a misaligned offset, a range past
    the end, a parameter out of range (ERROR_INVALID_NAME, ERROR_INVALID_PARAMETER, ...)."""


class DisconnectedError(Error, BrokenPipeError):
    """The other end of a channel is gone (ERROR_BROKEN_PIPE, 109)."""


class FullError(Error, BlockingIOError):
    """A channel's ring stayed full for the whole timeout, or had no room for a
    ``try_send`` (ERROR_NOT_ENOUGH_QUOTA, 1816)."""


class AbandonedMutexWarning(RuntimeWarning):
    """A mutex was acquired whose owner ended without releasing it (WAIT_ABANDONED):
    what it guards may be inconsistent."""


# Library error kind -> (class, errno).
_KINDS = {
    "NotFound": (NotFoundError, _errno.ENOENT),
    "AlreadyExists": (ExistsError, _errno.EEXIST),
    "PermissionDenied": (PermissionDeniedError, _errno.EACCES),
    "InvalidName": (InvalidArgumentError, _errno.EINVAL),
    "InvalidSize": (InvalidArgumentError, _errno.EINVAL),
    "Misaligned": (InvalidArgumentError, _errno.EINVAL),
    "OutOfRange": (InvalidArgumentError, _errno.EINVAL),
    "InvalidParameter": (InvalidArgumentError, _errno.EINVAL),
    "TooLarge": (InvalidArgumentError, _errno.EMSGSIZE),
    "WrongType": (Error, _errno.EINVAL),
    "EmptyFile": (Error, _errno.EINVAL),
    "NoSpace": (Error, _errno.ENOSPC),
    "InvalidHandle": (Error, _errno.EBADF),
    "NotOwner": (Error, _errno.EPERM),
    "TooManyPosts": (Error, _errno.EOVERFLOW),
    "NotSupported": (Error, _errno.EOPNOTSUPP),
    "AlreadyLocked": (Error, _errno.EDEADLK),
    "Busy": (Error, _errno.EBUSY),
    "Full": (FullError, _errno.EAGAIN),
    "Disconnected": (DisconnectedError, _errno.EPIPE),
    "Other": (Error, _errno.EIO),
}


def _from_library(kind, winerror, message, name):
    """The exception for a library error (called by the extension)."""
    cls, code = _KINDS.get(kind, (Error, _errno.EIO))
    exc = cls(code, message) if name is None else cls(code, message, name)
    exc.winerror = winerror
    exc.kind = kind
    return exc
