import os
import shutil
import subprocess
import time

import pytest

import shmkit
from shmkit import Mapping, _errors, _shmkit


def test_view_buffer_protocol(name):
    m = Mapping.create(name, 4096)
    assert (m.name, m.size, m.already_existed) == (name, 4096, False)
    v = m.map()
    assert len(v) == 4096
    mv = memoryview(v)
    assert (mv.format, mv.itemsize, mv.nbytes, mv.readonly) == ("B", 1, 4096, False)
    mv[10:13] = b"abc"
    r = Mapping.open(name, "r")
    assert r.already_existed
    rv = memoryview(r.map(access="r"))
    assert rv.readonly and bytes(rv[10:13]) == b"abc"
    with pytest.raises(TypeError):
        rv[0] = 1
    rv.release()
    mv.release()
    v.close()
    v.close()
    with pytest.raises(ValueError):
        memoryview(v)
    again = Mapping.create(name, 1)
    assert again.already_existed and again.size == 4096
    for h in (m, r, again):
        h.close()
        h.close()
    with pytest.raises(ValueError):
        m.map()


def test_a_view_keeps_the_memory_not_the_name(name):
    with Mapping.create(name, 100) as m:
        mv = memoryview(m.map())
    assert m.closed
    mv[0] = 1  # still mapped
    with pytest.raises(FileNotFoundError):
        Mapping.open(name)
    mv.release()


def test_view_close_with_exports_is_buffer_error(name):
    m = Mapping.create(name, 100)
    v = m.map()
    mv = memoryview(v)
    with pytest.raises(BufferError):
        v.close()
    mv.release()
    v.close()
    m.close()


def test_copy_on_write_view_stays_private(name):
    m = Mapping.create(name, 100)
    w = memoryview(m.map())
    c = memoryview(m.map(access="cow"))
    c[0] = 9
    assert w[0] == 0
    w.release()
    c.release()
    m.close()


def test_anonymous(name):
    m = Mapping.anonymous(100)
    assert m.name is None
    mv = memoryview(m.map())
    mv[99] = 1
    mv.release()
    m.close()


def _check(exc_info, cls, builtin, winerror, kind):
    e = exc_info.value
    assert type(e) is cls
    assert isinstance(e, shmkit.Error) and isinstance(e, OSError) and isinstance(e, builtin)
    assert (e.winerror, e.kind) == (winerror, kind)


def test_error_mapping(name):
    with pytest.raises(FileNotFoundError) as e:
        Mapping.open(name)
    _check(e, shmkit.NotFoundError, FileNotFoundError, 2, "NotFound")
    assert e.value.errno == 2 and e.value.filename == name

    m = Mapping.create(name, 65536 * 2)
    with pytest.raises(FileExistsError) as e:
        Mapping.create_new(name, 10)
    _check(e, shmkit.ExistsError, FileExistsError, 183, "AlreadyExists")

    r = Mapping.open(name, "r")
    with pytest.raises(PermissionError) as e:
        r.map(access="rw")
    _check(e, shmkit.PermissionDeniedError, PermissionError, 5, "PermissionDenied")

    with pytest.raises(ValueError) as e:
        Mapping.create(name + "-zero", 0)
    _check(e, shmkit.InvalidArgumentError, ValueError, 87, "InvalidSize")
    with pytest.raises(ValueError) as e:
        Mapping.create("Bogus\\x", 10)
    _check(e, shmkit.InvalidArgumentError, ValueError, 3, "InvalidName")
    with pytest.raises(ValueError) as e:
        Mapping.create("Local\\", 10)
    _check(e, shmkit.InvalidArgumentError, ValueError, 123, "InvalidName")
    with pytest.raises(ValueError) as e:
        Mapping.create("x" * 300, 10)
    _check(e, shmkit.InvalidArgumentError, ValueError, 206, "InvalidName")
    with pytest.raises(ValueError) as e:
        m.map(offset=4096)
    _check(e, shmkit.InvalidArgumentError, ValueError, 1132, "Misaligned")
    with pytest.raises(ValueError) as e:
        m.map(offset=65536, length=65537)
    _check(e, shmkit.InvalidArgumentError, ValueError, 5, "OutOfRange")

    # Arguments the binding itself refuses.
    with pytest.raises(ValueError):
        m.map(access="x")
    with pytest.raises(TypeError):
        Mapping.create(5, 10)
    with pytest.raises(TypeError):
        Mapping.create(name, "10")
    with pytest.raises(OverflowError):
        Mapping.create(name, -1)
    r.close()
    m.close()


def test_every_library_error_kind_has_a_class():
    assert set(_shmkit._error_kinds()) <= set(_errors._KINDS)
    e = _errors._from_library("Busy", 170, "busy", None)
    assert type(e) is shmkit.Error and e.winerror == 170 and str(e) == "[Errno 16] busy"
    e = _errors._from_library("Disconnected", 109, "gone", None)
    assert isinstance(e, BrokenPipeError) and isinstance(e, shmkit.DisconnectedError)


def _cli():
    """The shmkit command: $SHMKIT_CLI (scripts/lane-python builds it and sets it, and
    then it must exist), else a debug build of this checkout, else one on PATH."""
    given = os.environ.get("SHMKIT_CLI")
    if given:
        assert os.access(given, os.X_OK), f"SHMKIT_CLI={given} is not an executable"
        return given
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "target", "debug", "shmkit")
    cli = built if os.path.exists(built) else shutil.which("shmkit")
    if cli is None:
        pytest.skip("the shmkit command is not built (cargo build -p shmkit-cli)")
    return cli


def test_python_and_the_cli_share_one_object(name):
    cli = _cli()
    s = shmkit.SharedMemory(name, create=True, size=64)
    s.buf[:6] = b"python"
    out = subprocess.run([cli, "read", name, "--len", "6"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"python"
    w = subprocess.run(
        [cli, "write", name, "--offset", "8"], input=b"rust", capture_output=True, timeout=60
    )
    assert w.returncode == 0, w.stderr
    assert bytes(s.buf[8:12]) == b"rust"
    s.close()


def test_python_and_the_cli_share_a_channel(name):
    cli = _cli()
    rx = shmkit.Receiver.create(name, 1 << 16)
    for text in ("one", "two"):
        out = subprocess.run([cli, "send", name, text], capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr
    assert [bytes(rx.recv(timeout=10)) for _ in range(2)] == [b"one", b"two"]
    rx.close()

    tx = shmkit.Sender.create(name + ".back", 1 << 16)
    tx.send(b"from python")
    tx.send(bytes([0, 255, 10]))
    out = subprocess.run(
        [cli, "recv", name + ".back", "--count", "2", "--hex", "--timeout", "10s"],
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [b"from python".hex().encode(), b"00ff0a"]
    tx.close()


def test_python_opens_a_mutex_the_cli_holds_and_it_goes_with_the_holder(name):
    cli = _cli()
    holder = subprocess.Popen(
        [cli, "create", name, "--kind", "mutex", "--hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                mx = shmkit.Mutex.open(name)
                break
            except FileNotFoundError:
                assert holder.poll() is None, holder.stderr.read()
                assert time.monotonic() < deadline, "the CLI never created the mutex"
                time.sleep(0.02)
        with pytest.raises(shmkit.Error) as e:
            shmkit.Event.open(name)
        assert e.value.kind == "WrongType"  # the CLI made a mutex, not an event
        assert mx.acquire(timeout=10)
        mx.release()
        mx.close()
    finally:
        holder.stdin.close()  # the holder lets go
        holder.wait(60)
    with pytest.raises(FileNotFoundError):
        shmkit.Mutex.open(name)
