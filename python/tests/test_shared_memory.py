import multiprocessing
import os
import pickle
import re
import signal

import pytest

import shmkit
from shmkit import SharedMemory

from conftest import objects_in_store, run_python, start_python


def test_create_attach_read_write(name):
    a = SharedMemory(name, create=True, size=100)
    assert a.size == 100 and len(a.buf) == 100
    assert bytes(a.buf) == bytes(100), "new blocks are zero-filled"
    a.buf[:5] = b"hello"
    b = SharedMemory(name, size=12345)  # the size is ignored when attaching
    assert b.size == 100
    assert bytes(b.buf[:5]) == b"hello"
    b.buf[99] = 7
    assert a.buf[99] == 7
    b.close()
    a.close()


def test_name_is_kept_exactly_as_passed(name):
    for n in (name, "Local\\" + name, "Global\\" + name):
        s = SharedMemory(n, create=True, size=10)
        assert s.name == n
        t = SharedMemory(n)
        assert t.name == n
        t.close()
        s.close()
    s = SharedMemory(name, create=True, size=10)
    t = SharedMemory("Local\\" + name)  # a bare name means Local\
    assert t.name == "Local\\" + name
    s.buf[0] = 1
    assert t.buf[0] == 1
    t.close()
    s.close()


def test_unnamed_create_gets_a_fresh_name():
    blocks = [SharedMemory(create=True, size=10) for _ in range(5)]
    names = {b.name for b in blocks}
    assert len(names) == 5
    for n in names:
        assert re.fullmatch(r"psm_[0-9a-f]{10}", n), n
    for b in blocks:
        b.close()


def test_close_any_number_of_times(name):
    s = SharedMemory(name, create=True, size=10)
    s.close()
    s.close()
    assert s.buf is None
    assert s.name == name and s.size == 10
    s.unlink()
    s.close()


def test_unlink_does_nothing_while_held(name):
    s = SharedMemory(name, create=True, size=10)
    s.buf[0] = 42
    s.unlink()
    t = SharedMemory(name)
    assert t.buf[0] == 42
    t.close()
    s.close()


def test_the_block_goes_with_its_last_holder(name):
    s = SharedMemory(name, create=True, size=10)
    t = SharedMemory(name)
    s.close()
    u = SharedMemory(name)  # t still holds it
    u.close()
    t.close()
    with pytest.raises(FileNotFoundError):
        SharedMemory(name)


def test_repr_and_reduce(name):
    s = SharedMemory(name, create=True, size=10)
    assert repr(s) == f"SharedMemory({name!r}, size=10)"
    s.buf[3] = 3
    t = pickle.loads(pickle.dumps(s))
    assert (t.name, t.size, t.buf[3]) == (name, 10, 3)
    t.close()
    s.close()


def test_arguments_like_cpython():
    with pytest.raises(ValueError):
        SharedMemory(create=True, size=0)
    with pytest.raises(ValueError):
        SharedMemory(create=True, size=-1)
    with pytest.raises(ValueError):
        SharedMemory()
    with pytest.raises(TypeError):
        SharedMemory(5, create=True, size=10)
    with pytest.raises(TypeError):
        SharedMemory("x", create=True, size="10")
    s = SharedMemory(create=True, size=10, track=False)
    s.close()


def test_exists_and_not_found(name):
    with pytest.raises(FileNotFoundError) as e:
        SharedMemory(name)
    assert e.value.filename == name and e.value.winerror == 2
    s = SharedMemory(name, create=True, size=10)
    with pytest.raises(FileExistsError) as e:
        SharedMemory(name, create=True, size=10)
    assert isinstance(e.value, shmkit.Error) and e.value.winerror == 183
    s.close()


def test_close_with_exported_buffers_raises_buffer_error(name):
    s = SharedMemory(name, create=True, size=10)
    part = s.buf[2:4]
    with pytest.raises(BufferError):
        s.close()
    part[0] = 9  # still mapped
    part.release()
    s.close()


def test_released_buffer_raises_never_crashes(name):
    s = SharedMemory(name, create=True, size=10)
    buf = s.buf
    s.close()
    with pytest.raises(ValueError):
        buf[0]
    with pytest.raises(ValueError):
        buf[0] = 1


def test_numpy_frombuffer_without_copy(name):
    np = pytest.importorskip("numpy")
    s = SharedMemory(name, create=True, size=8 * 16)
    t = SharedMemory(name)
    a = np.frombuffer(s.buf, dtype=np.float64)
    b = np.ndarray((16,), dtype=np.float64, buffer=t.buf)
    a[:] = np.arange(16)
    assert b.sum() == 120.0
    b[0] = 100.0
    assert a[0] == 100.0
    del a, b
    t.close()
    s.close()


def _worker_write(shm, value):
    shm.buf[0] = value
    shm.close()


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_pickled_to_a_multiprocessing_worker(name, method):
    ctx = multiprocessing.get_context(method)
    s = SharedMemory(name, create=True, size=10)
    p = ctx.Process(target=_worker_write, args=(s, 77))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert s.buf[0] == 77
    # The worker attached (or inherited a copy), closed and exited: the block stays.
    t = SharedMemory(name)
    assert t.buf[0] == 77
    t.close()
    s.close()


def test_forked_child_that_closes_or_exits_never_destroys_the_block(name):
    s = SharedMemory(name, create=True, size=10)
    for close_first in (True, False):
        pid = os.fork()
        if pid == 0:
            try:
                if close_first:
                    s.close()
            finally:
                os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0
        t = SharedMemory(name)
        t.close()
    s.close()


ATTACH = """
import os, signal, sys, shmkit
s = shmkit.SharedMemory(sys.argv[1])
s.buf[1] = 5
if sys.argv[2] == "kill":
    print("attached", flush=True)
    signal.pause()
s.close()
"""


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_gh_82300_attach_only_process_never_destroys_the_block(name, how):
    s = SharedMemory(name, create=True, size=10)
    if how == "exit":
        r = run_python(ATTACH, name, how)
        assert r.returncode == 0, r.stderr
    else:
        p = start_python(ATTACH, name, how)
        assert p.stdout.readline() == "attached\n"
        p.send_signal(signal.SIGKILL)
        p.wait(60)
        p.stdout.close()
    assert s.buf[1] == 5
    t = SharedMemory(name)
    assert t.buf[1] == 5
    t.close()
    s.close()


def test_sigkilled_sole_holder_leaves_nothing(name):
    p = start_python(
        """
        import signal, sys, shmkit
        s = shmkit.SharedMemory(sys.argv[1], create=True, size=1 << 20)
        s.buf[0] = 1
        print("created", flush=True)
        signal.pause()
        """,
        name,
    )
    assert p.stdout.readline() == "created\n"
    assert any(name in f for f in objects_in_store())
    p.send_signal(signal.SIGKILL)
    p.wait(60)
    p.stdout.close()
    with pytest.raises(FileNotFoundError):
        SharedMemory(name)
    assert not any(name in f for f in objects_in_store())
