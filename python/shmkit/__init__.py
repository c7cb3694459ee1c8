"""Named shared memory between processes, with the semantics of Windows file-mapping
objects on every platform, over the shmkit Rust library.

- ``SharedMemory``: ``multiprocessing.shared_memory.SharedMemory`` with the Windows
  lifetime (the memory lives while any process holds it; nothing leaks on a crash).
- ``Mapping`` and ``View``: mapping objects and their views, usable through the buffer
  protocol (``memoryview``, ``numpy.frombuffer``) without copies.
- ``Error`` (an ``OSError`` carrying ``winerror``) and its subclasses, which are also the
  matching built-in exceptions (``FileNotFoundError``, ``FileExistsError``,
  ``PermissionError``, ``ValueError``, ``BrokenPipeError``).
"""

from ._errors import (
    DisconnectedError,
    Error,
    ExistsError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from ._shared_memory import SharedMemory
from ._shmkit import GRANULARITY, Mapping, View

__all__ = [
    "GRANULARITY",
    "DisconnectedError",
    "Error",
    "ExistsError",
    "InvalidArgumentError",
    "Mapping",
    "NotFoundError",
    "PermissionDeniedError",
    "SharedMemory",
    "View",
]
