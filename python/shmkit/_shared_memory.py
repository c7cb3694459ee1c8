"""``SharedMemory``: CPython's ``multiprocessing.shared_memory.SharedMemory``, with the
semantics CPython documents for Windows on every platform."""

import secrets

from ._errors import ExistsError
from ._shmkit import Mapping

__all__ = ["SharedMemory"]

# As CPython names its unnamed blocks (psm_ and 10 hex digits, 14 characters in all).
_NAME_PREFIX = "psm_"
_SAFE_NAME_LENGTH = 14


def _make_filename():
    """A fresh name for an unnamed block, made as CPython makes its own (an unnamed
    create that finds the name taken asks for another)."""
    return _NAME_PREFIX + secrets.token_hex((_SAFE_NAME_LENGTH - len(_NAME_PREFIX)) // 2)


class SharedMemory:
    """Creates a new shared memory block or attaches to an existing one.

    The signature, attributes and methods of
    ``multiprocessing.shared_memory.SharedMemory``, with the Windows semantics on every
    platform: the block lives while any process holds it open (this object, until
    ``close()``, or any memoryview or array over ``buf``), and disappears with the last
    holder, even one that was killed. ``unlink()`` does nothing; there is no resource
    tracker, and a process that only attached can never destroy the block by exiting.

    ``name`` is an shmkit name (``"Local\\\\x"``, ``"Global\\\\x"`` or a bare ``"x"``,
    which means ``"Local\\\\x"``) and is kept exactly as passed. With ``create=True`` and
    no name, a fresh unique name is chosen. ``track`` is accepted for compatibility and
    ignored.
    """

    def __init__(self, name=None, create=False, size=0, *, track=True):
        if not isinstance(create, (bool, int)):
            raise TypeError("'create' must be a bool")
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"'size' must be an int, not {type(size).__name__}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"'name' must be a str or None, not {type(name).__name__}")
        if size < 0:
            raise ValueError("'size' must be a positive integer")
        if create:
            if size == 0:
                raise ValueError("'size' must be a positive number different from zero")
        elif name is None:
            raise ValueError("'name' can only be None if create=True")

        self._mapping = None
        self._view = None
        self._buf = None
        if create and name is None:
            while True:
                candidate = _make_filename()
                try:
                    mapping = Mapping.create_new(candidate, size)
                    break
                except ExistsError:
                    continue
            name = candidate
        elif create:
            mapping = Mapping.create_new(name, size)
        else:
            mapping = Mapping.open(name, "rw")
        self._name = name
        self._size = mapping.size
        self._mapping = mapping
        self._view = mapping.map()
        self._buf = memoryview(self._view)

    def __reduce__(self):
        return (self.__class__, (self._name, False, self._size))

    def __repr__(self):
        return f"{self.__class__.__name__}({self._name!r}, size={self._size})"

    @property
    def buf(self):
        """A writable memoryview of the block's contents (None once closed)."""
        return self._buf

    @property
    def name(self):
        """The block's name, exactly as it was passed (or as it was chosen)."""
        return self._name

    @property
    def size(self):
        """The block's size in bytes."""
        return self._size

    def close(self):
        """Closes this instance's access to the block. May be called any number of times.

        Raises BufferError while memoryviews or arrays made from ``buf`` still exist, as
        CPython does; release them first.
        """
        if self._buf is not None:
            self._buf.release()
            self._buf = None
        if self._view is not None:
            self._view.close()
            self._view = None
        if self._mapping is not None:
            self._mapping.close()
            self._mapping = None

    def unlink(self):
        """Does nothing, as on Windows: the block disappears with its last holder."""
