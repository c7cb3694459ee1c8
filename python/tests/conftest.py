"""Every test session works in a private shmkit store (SHMKIT_DIR), which children
inherit; at the end no object may be left in it."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid

import pytest

# Spawned multiprocessing workers import this module again: they keep the session's store.
_STORE = os.environ.get("SHMKIT_PYTEST_STORE") or tempfile.mkdtemp(prefix="shmkit-pytest-")
os.environ["SHMKIT_PYTEST_STORE"] = os.environ["SHMKIT_DIR"] = _STORE


def objects_in_store():
    """The object files in the store (leases excluded)."""
    found = []
    for root, _dirs, files in os.walk(_STORE):
        found += [os.path.join(root, f) for f in files if f.startswith("o.")]
    return sorted(found)


def pytest_sessionfinish(session, exitstatus):
    import shmkit

    # Any operation in the namespace reclaims what dead holders left (SPEC 5.3).
    try:
        shmkit.Mapping.open("shmkit-test-reclaim-probe")
    except FileNotFoundError:
        pass
    left = objects_in_store()
    shutil.rmtree(_STORE, ignore_errors=True)
    if left and exitstatus == 0:
        session.exitstatus = 1
        print("\nleft in the store by the tests:", *left, sep="\n  ")


@pytest.fixture
def name():
    """A unique object name."""
    return f"shmkit-test-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def run_python(code, *args, timeout=60, **kwargs):
    """Runs `code` in a fresh interpreter (with the store of this session)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        timeout=timeout,
        capture_output=True,
        text=True,
        **kwargs,
    )


def start_python(code, *args):
    """Starts `code` in a fresh interpreter; its stdout is a pipe."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
