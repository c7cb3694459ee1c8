"""Named shared memory between processes, with the semantics of Windows file-mapping
objects on every platform, over the shmkit Rust library.

- ``SharedMemory``: ``multiprocessing.shared_memory.SharedMemory`` with the Windows
  lifetime (the memory lives while any process holds it; nothing leaks on a crash).
- ``Mapping`` and ``View``: mapping objects and their views, usable through the buffer
  protocol (``memoryview``, ``numpy.frombuffer``) without copies.
- ``Mutex``, ``Event``, ``Semaphore``: named sync objects in the same namespace; their
  waits release the GIL and return on Ctrl-C (KeyboardInterrupt).
- ``Sender``, ``Receiver``, ``Loan``, ``Message``: the zero-copy message channel.
- ``Error`` (an ``OSError`` carrying ``winerror``) and its subclasses, which are also the
  matching built-in exceptions (``FileNotFoundError``, ``FileExistsError``,
  ``PermissionError``, ``ValueError``, ``BrokenPipeError``, ``BlockingIOError``).
"""

from ._errors import (
    AbandonedMutexWarning,
    DisconnectedError,
    Error,
    ExistsError,
    FullError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from ._shared_memory import SharedMemory
from ._shmkit import (
    GRANULARITY,
    Event,
    Loan,
    Mapping,
    Message,
    Mutex,
    Receiver,
    Semaphore,
    Sender,
    View,
)

__all__ = [
    "GRANULARITY",
    "AbandonedMutexWarning",
    "DisconnectedError",
    "Error",
    "Event",
    "ExistsError",
    "FullError",
    "InvalidArgumentError",
    "Loan",
    "Mapping",
    "Message",
    "Mutex",
    "NotFoundError",
    "PermissionDeniedError",
    "Receiver",
    "Semaphore",
    "Sender",
    "SharedMemory",
    "View",
]
