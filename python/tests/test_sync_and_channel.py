import threading
import time

import numpy as np
import pytest

import shmkit
from conftest import start_python


def test_mutex_is_recursive_and_refuses_a_release_by_a_non_owner(name):
    mx = shmkit.Mutex.create(name)
    with mx:
        assert mx.acquire(timeout=0)
        mx.release()
        other = []
        t = threading.Thread(target=lambda: other.append(shmkit.Mutex.open(name).acquire(timeout=0)))
        t.start()
        t.join(10)
        assert other == [False]
    with pytest.raises(shmkit.Error) as e:
        mx.release()
    assert e.value.winerror == 288
    assert not mx.abandoned
    mx.close()
    mx.close()
    with pytest.raises(ValueError):
        mx.acquire()


def test_an_abandoned_mutex_is_a_warning_and_a_flag(name):
    mx = shmkit.Mutex.create(name)
    t = threading.Thread(target=lambda: shmkit.Mutex.open(name).acquire())
    t.start()
    t.join(10)
    with pytest.warns(shmkit.AbandonedMutexWarning):
        assert mx.acquire(timeout=10)
    assert mx.abandoned
    mx.release()
    mx.close()


def test_event_and_semaphore(name):
    ev = shmkit.Event.create(name + "e", manual=False, initial=False)
    assert not ev.wait(timeout=0.01)
    threading.Timer(0.05, ev.set).start()
    assert ev.wait(timeout=10)
    assert not ev.wait(timeout=0)
    sem = shmkit.Semaphore.create(name + "s", 1, 2)
    assert sem.acquire(timeout=0) and not sem.acquire(timeout=0)
    assert sem.release() == 0 and sem.release() == 1
    with pytest.raises(shmkit.Error) as e:
        sem.release()
    assert e.value.winerror == 298
    with pytest.raises(ValueError):
        shmkit.Semaphore.create(name + "t", 3, 2)
    with pytest.raises(ValueError):
        ev.wait(timeout=-1)
    with pytest.raises(TypeError):
        shmkit.Event.create(5)
    with pytest.raises(shmkit.Error) as e:
        shmkit.Mutex.open(name + "e")
    assert e.value.kind == "WrongType"
    ev.close()
    sem.close()


def test_channel_messages_stay_valid_past_the_next_recv_and_loans_are_sent(name):
    rx = shmkit.Receiver.create(name, 1 << 16)
    tx = shmkit.Sender.open(name)
    tx.send(np.arange(16, dtype=np.uint8))
    with tx.loan(8) as buf:
        buf[:] = b"12345678"
    with pytest.raises(RuntimeError):
        with tx.loan(4) as buf:
            buf[:] = b"gone"
            raise RuntimeError("abandon")
    a = rx.recv(timeout=10)
    arr = np.frombuffer(a, dtype=np.uint8)
    b = rx.recv(timeout=10)
    assert list(arr) == list(range(16)) and bytes(b) == b"12345678"
    assert rx.try_recv() is None and rx.recv(timeout=0.01) is None
    with pytest.raises(BufferError):
        a.release()
    del arr
    a.release()
    with pytest.raises(ValueError):
        memoryview(a)
    b.release()
    with pytest.raises(shmkit.InvalidArgumentError):
        tx.send(b"x" * (tx.max_message + 1))
    tx.close()
    with pytest.raises(shmkit.DisconnectedError):
        rx.recv(timeout=10)
    rx.close()


def test_numpy_ping_pong_between_processes(name):
    child = start_python(
        """
        import sys, numpy as np, shmkit
        rx = shmkit.Receiver.open(sys.argv[1] + ".ping")
        tx = shmkit.Sender.open(sys.argv[1] + ".pong")
        print("ready", flush=True)
        for _ in range(100):
            with rx.recv(timeout=30) as m:
                tx.send(np.frombuffer(m, dtype=np.float64) * 2)
        """,
        name,
    )
    ping = shmkit.Sender.create(name + ".ping", 1 << 20)
    pong = shmkit.Receiver.create(name + ".pong", 1 << 20)
    assert child.stdout.readline().strip() == "ready"
    for i in range(100):
        ping.send(np.full(1000, i, dtype=np.float64))
        m = pong.recv(timeout=30)
        assert (np.frombuffer(m, dtype=np.float64) == 2 * i).all()
        m.release()
    assert child.wait(30) == 0
    ping.close()
    pong.close()


def test_ctrl_c_ends_a_blocking_wait(name):
    child = start_python(
        """
        import sys, shmkit
        ev = shmkit.Event.create(sys.argv[1])
        print("waiting", flush=True)
        try:
            ev.wait()
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        """,
        name,
    )
    assert child.stdout.readline().strip() == "waiting"
    time.sleep(0.2)
    import signal

    child.send_signal(signal.SIGINT)
    assert child.stdout.readline().strip() == "interrupted"
    assert child.wait(30) == 0
