"""The behaviour CPython's own tests of ``multiprocessing.shared_memory`` check on Windows
(``_TestSharedMemory`` in Lib/test/_test_multiprocessing.py), restated against
``shmkit.SharedMemory``: what a program written for CPython's class may rely on.

Where CPython's tests take the POSIX branch (a second ``unlink`` raising, attaching with
``O_CREAT``, the resource tracker's warnings) they check what shmkit deliberately does
not do; the Windows branch is the contract here.
"""

import multiprocessing
import pickle
import signal
import subprocess
import sys
import time
from unittest import mock

import pytest

from shmkit import SharedMemory

from conftest import start_python


def test_basics(name):
    sms = SharedMemory(name, create=True, size=512)
    assert sms.name == name
    assert sms.size >= 512
    assert len(sms.buf) >= sms.size
    assert sms.name in str(sms) and str(sms.size) in str(sms)

    sms.buf[0] = 42
    assert sms.buf[0] == 42

    also = SharedMemory(name)
    assert also.buf[0] == 42
    also.close()

    # Attaching with a new size: the size is ignored.
    same = SharedMemory(name, size=20 * sms.size)
    assert same.size < 20 * sms.size
    same.close()

    with pytest.raises(ValueError):
        SharedMemory(create=True, size=-2)
    with pytest.raises(ValueError):
        SharedMemory(create=False)
    with pytest.raises(FileExistsError):
        SharedMemory(name, create=True, size=512)
    with pytest.raises(FileNotFoundError):
        SharedMemory(name + "-notthere")

    # On Windows unlink() does nothing, any number of times: the block stays while held.
    sms.unlink()
    sms.unlink()
    again = SharedMemory(name)
    assert again.buf[0] == 42
    again.close()
    sms.close()


def test_invalid_creation():
    with pytest.raises(ValueError):
        SharedMemory(create=True, size=-1)
    with pytest.raises(ValueError):
        SharedMemory(create=True, size=0)
    with pytest.raises(ValueError):
        SharedMemory(create=True)


def test_an_unnamed_create_whose_name_is_taken_takes_the_next(name):
    taken = SharedMemory("psm_" + name[-10:], create=True, size=1)
    fresh = "psm_fresh" + name[-6:]
    with mock.patch("shmkit._shared_memory._make_filename") as make:
        make.side_effect = [taken.name, fresh]
        shm = SharedMemory(create=True, size=1)
    assert make.call_count == 2
    assert shm.name == fresh and shm._name == fresh
    assert shm.buf[0] == 0
    shm.close()
    taken.close()


@pytest.mark.parametrize("proto", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_unpickle(proto):
    sms = SharedMemory(create=True, size=512)
    sms.buf[0:6] = b"pickle"
    sms2 = pickle.loads(pickle.dumps(sms, protocol=proto))
    assert isinstance(sms2, SharedMemory)
    assert sms.name == sms2.name
    assert bytes(sms2.buf[0:6]) == b"pickle"
    sms.buf[0:6] = b"newval"
    assert bytes(sms2.buf[0:6]) == b"newval"
    sms2.buf[0:6] = b"oldval"
    assert bytes(sms.buf[0:6]) == b"oldval"
    sms2.close()
    sms.close()


@pytest.mark.parametrize("proto", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_unpickle_dead_object(proto):
    sms = SharedMemory(create=True, size=512)
    pickled = pickle.dumps(sms, protocol=proto)
    # The last holder closes: on Windows the block is gone, and unpickling cannot attach.
    sms.close()
    sms.unlink()
    with pytest.raises(FileNotFoundError):
        pickle.loads(pickled)


def _attach_existing_then_write(name_or_obj, data):
    if isinstance(name_or_obj, str):
        local = SharedMemory(name_or_obj)
    else:
        local = name_or_obj
    local.buf[: len(data)] = data
    local.close()


@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_across_processes(method):
    ctx = multiprocessing.get_context(method)
    sms = SharedMemory(create=True, size=512)
    for arg, data in ((sms.name, b"howdy"), (sms, b"HELLO")):
        p = ctx.Process(target=_attach_existing_then_write, args=(arg, data))
        p.daemon = True
        p.start()
        p.join(60)
        assert p.exitcode == 0
        assert bytes(sms.buf[:5]) == data
    sms.close()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_cleaned_after_process_termination(how):
    p = start_python(
        """
        import sys, time, shmkit
        sm = shmkit.SharedMemory(create=True, size=10)
        sys.stdout.write(sm.name + "\\n")
        sys.stdout.flush()
        time.sleep(100)
        """
    )
    name = p.stdout.readline().strip()
    assert name
    SharedMemory(name).close()  # it exists while the process runs
    p.send_signal(how)
    p.wait(60)
    p.stdout.close()
    # Killed abruptly, the sole holder leaves nothing: no tracker, no warning, no wait.
    deadline = time.monotonic() + 30
    while True:
        try:
            SharedMemory(name).close()
        except FileNotFoundError:
            break
        assert time.monotonic() < deadline, "the block outlived its killed holder"
        time.sleep(0.05)


def test_a_cpython_program_runs_unchanged_with_the_import_swapped(tmp_path):
    """The example of CPython's documentation, with only the import changed."""
    prog = tmp_path / "prog.py"
    prog.write_text(
        "from shmkit import SharedMemory\n"
        "shm_a = SharedMemory(create=True, size=10)\n"
        "buffer = shm_a.buf\n"
        "buffer[:4] = bytearray([22, 33, 44, 55])\n"
        "buffer[4] = 100\n"
        "shm_b = SharedMemory(shm_a.name)\n"
        "import array\n"
        "print(array.array('b', shm_b.buf[:5]).tolist())\n"
        "shm_b.buf[:5] = b'howdy'\n"
        "print(bytes(shm_a.buf[:5]))\n"
        "shm_b.close()\n"
        "shm_a.close()\n"
        "shm_a.unlink()\n"
    )
    out = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "[22, 33, 44, 55, 100]\nb'howdy'\n"
    assert out.stderr == ""
