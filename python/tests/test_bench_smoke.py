"""The Python benchmark's harness at its smoke scale (a handful of messages per
measurement), for the systems that are always present: the shmkit channel (loan, send,
busy) and multiprocessing's Pipe and Queue. iceoryx2's Python package is not a test
dependency and is not run here (scripts/bench-python installs it and runs it). The
figures are not looked at: at this scale they mean nothing."""

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "shmkit-bench", "python", "pybench.py"
)
SYSTEMS = ("shmkit-channel", "mp.Pipe", "mp.Queue")
SIZES = (64, 64 << 10, 1 << 20)


def test_every_always_present_system_runs_at_every_size(tmp_path):
    out = tmp_path / "pybench.json"
    args = [sys.executable, SCRIPT, "--smoke", "--json", str(out)]
    for s in SYSTEMS:
        args += ["--only", s, "--require", s]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["failures"] == []
    got = {(x["system"], x["mode"], x["size"], x["metric"]) for x in doc["records"]}
    modes = {"shmkit-channel": ("loan", "send", "loan-busy"), "mp.Pipe": ("pickle", "bytes"), "mp.Queue": ("pickle",)}
    for system in SYSTEMS:
        for mode in modes[system]:
            for size in SIZES:
                for metric in ("latency", "throughput"):
                    assert (system, mode, size, metric) in got
    for x in doc["records"]:
        if x["metric"] == "latency":
            assert x["p50_ns"] > 0 and x["p99_ns"] >= x["p50_ns"]
        else:
            assert x["msgs_per_s"] > 0 and x["gbps"] > 0
    assert "| mp.Pipe | pickle |" in r.stdout
