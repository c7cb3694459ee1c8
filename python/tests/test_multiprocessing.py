"""Sync objects and channels with ``multiprocessing`` workers, started by spawn and by
fork: workers open the objects by name (a forked one may also use the copies it
inherited), and a forked child that closes its copies or exits never takes an object,
or an end of a channel, away from its parent."""

import multiprocessing
import os

import numpy as np
import pytest

import shmkit
from shmkit import SharedMemory

METHODS = ["spawn", "fork"]
ROUNDS = 200


def _count_under_mutex(name, inherited=None):
    mx = inherited if inherited is not None else shmkit.Mutex.open(name + ".lock")
    shm = SharedMemory(name)
    counter = np.ndarray((1,), dtype=np.int64, buffer=shm.buf)
    for _ in range(ROUNDS):
        with mx:
            # Read, yield, write: without mutual exclusion the workers lose updates.
            value = int(counter[0])
            os.sched_yield()
            counter[0] = value + 1
    del counter
    shm.close()


@pytest.mark.parametrize("method", METHODS)
def test_a_mutex_serialises_workers(name, method):
    ctx = multiprocessing.get_context(method)
    mx = shmkit.Mutex.create(name + ".lock")
    shm = SharedMemory(name, create=True, size=8)
    workers = [ctx.Process(target=_count_under_mutex, args=(name,)) for _ in range(3)]
    if method == "fork":
        # A forked worker may use the parent's object as it inherited it.
        workers.append(ctx.Process(target=_count_under_mutex, args=(name, mx)))
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    assert int(np.ndarray((1,), dtype=np.int64, buffer=shm.buf)[0]) == ROUNDS * len(workers)
    with mx:  # nobody holds it
        pass
    assert not mx.abandoned
    shm.close()
    mx.close()


def _die_holding(name):
    mx = shmkit.Mutex.open(name)
    mx.acquire()
    os._exit(0)


@pytest.mark.parametrize("method", METHODS)
def test_a_worker_that_dies_holding_the_mutex_abandons_it(name, method):
    ctx = multiprocessing.get_context(method)
    mx = shmkit.Mutex.create(name)
    p = ctx.Process(target=_die_holding, args=(name,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    with pytest.warns(shmkit.AbandonedMutexWarning):
        assert mx.acquire(timeout=10)
    assert mx.abandoned
    mx.release()
    mx.close()


def _signal_then_wait(name):
    ev = shmkit.Event.open(name + ".go")
    done = shmkit.Semaphore.open(name + ".done")
    assert ev.wait(timeout=30)
    done.release()


@pytest.mark.parametrize("method", METHODS)
def test_events_and_semaphores_between_workers(name, method):
    ctx = multiprocessing.get_context(method)
    go = shmkit.Event.create(name + ".go", manual=True)
    done = shmkit.Semaphore.create(name + ".done", 0, 4)
    workers = [ctx.Process(target=_signal_then_wait, args=(name,)) for _ in range(4)]
    for w in workers:
        w.start()
    assert not done.acquire(timeout=0.05), "no worker may pass before the event is set"
    go.set()
    for _ in workers:
        assert done.acquire(timeout=60)
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    go.close()
    done.close()


def _produce(name, count):
    tx = shmkit.Sender.open(name)
    for i in range(count):
        tx.send(np.full(256, i, dtype=np.int32), timeout=30)
    tx.close()


@pytest.mark.parametrize("method", METHODS)
def test_a_worker_sends_numpy_arrays_to_its_parent(name, method):
    ctx = multiprocessing.get_context(method)
    rx = shmkit.Receiver.create(name, 1 << 16)
    p = ctx.Process(target=_produce, args=(name, 500))
    p.start()
    for i in range(500):
        m = rx.recv(timeout=60)
        assert (np.frombuffer(m, dtype=np.int32) == i).all()
        m.release()
    p.join(60)
    assert p.exitcode == 0
    with pytest.raises(shmkit.DisconnectedError):
        rx.recv(timeout=10)
    rx.close()


def _fork_and(action):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            action()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_forked_child_closing_its_copies_takes_nothing_from_its_parent(name):
    mx = shmkit.Mutex.create(name + ".mx")
    ev = shmkit.Event.create(name + ".ev", manual=True)
    sem = shmkit.Semaphore.create(name + ".sem", 1, 2)
    rx = shmkit.Receiver.create(name + ".ch", 1 << 16)
    tx = shmkit.Sender.open(name + ".ch")
    objects = (mx, ev, sem, tx, rx)

    def close_all():
        for o in objects:
            o.close()

    for action in (close_all, lambda: None):  # closes its copies; exits holding them
        _fork_and(action)
        # The parent's handles still work, and the names still open.
        with mx:
            pass
        ev.set()
        assert ev.wait(timeout=1)
        ev.reset()
        assert sem.acquire(timeout=1)
        sem.release()
        tx.send(b"still here")
        with rx.recv(timeout=10) as m:
            assert bytes(m) == b"still here"
        for kind, suffix in ((shmkit.Mutex, ".mx"), (shmkit.Event, ".ev"), (shmkit.Semaphore, ".sem")):
            kind.open(name + suffix).close()
    tx.close()
    with pytest.raises(shmkit.DisconnectedError):
        rx.recv(timeout=10)
    for o in objects:
        o.close()
