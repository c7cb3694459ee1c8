#!/usr/bin/env python3
"""Python-to-Python one-way latency and throughput of numpy arrays through the shmkit
channel, next to multiprocessing.Pipe, multiprocessing.Queue and iceoryx2's Python
package, in one run.

Each system runs in two processes of its own, started with multiprocessing's "spawn"
method and pinned with os.sched_setaffinity (the initiator or sender to the first CPU of
--cpus, the responder or receiver to the second; --no-pin leaves them to the scheduler).
The orchestrating process only waits on its control pipes while they measure.

Per size (64 B, 64 KiB, 1 MiB numpy uint8 arrays):

- latency: a ping-pong; the initiator times each round trip with time.perf_counter_ns
  (message out, a message of the same size back) and halves it; p50 and p99 over the
  rounds after a warm-up;
- throughput: the sender streams arrays, the receiver consumes them and times them from
  the end of the warm-up to the last; messages/s and GB/s (10^9 payload bytes per second).

The work per message, the same for every system: the sender stamps a sequence byte into
the first and the last byte of an n-byte uint8 array and sends it; the receiver
materialises the array (numpy.frombuffer over a zero-copy message, the unpickled array
of Pipe and Queue) and checks both bytes, so that a lost or stale message is an error.
Where the transport lends its memory (shmkit's loan, iceoryx2's loan_slice_uninit) the
array is numpy.frombuffer over the loan and is stamped in place; otherwise the sender
stamps a preallocated array, which the transport copies.

Every figure is the median over --runs runs, each of which measures every system.

Usage: pybench.py [--runs N] [--json FILE] [--only SYSTEM ...] [--smoke | --quick]
"""

import argparse
import ctypes
import json
import multiprocessing as mp
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

SIZES = (64, 64 << 10, 1 << 20)
# Round trips and streamed messages per size at full scale; warm-ups are a tenth as many.
ROUNDS = {64: 20_000, 64 << 10: 5_000, 1 << 20: 1_000}
STREAM = {64: 50_000, 64 << 10: 10_000, 1 << 20: 2_000}
SCALES = {"full": 1.0, "quick": 0.1, "smoke": 0.002}

# (system, mode) in report order; the mode says how the message is made or how it waits.
SYSTEMS = [
    ("shmkit-channel", "loan"),
    ("shmkit-channel", "send"),
    ("shmkit-channel", "loan-busy"),
    ("iceoryx2", "loan"),
    ("mp.Pipe", "pickle"),
    ("mp.Pipe", "bytes"),
    ("mp.Queue", "pickle"),
]

# How long a child may take for one step before the run gives it up.
STEP_TIMEOUT = 300.0


def label(size):
    if size >= 1 << 20:
        return f"{size >> 20} MiB"
    if size >= 1 << 10:
        return f"{size >> 10} KiB"
    return f"{size} B"


def pin(cpu):
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


# --- the systems' ends ------------------------------------------------------------------
#
# An end has send(seq) and recv() -> the sequence byte it found (both bytes checked);
# made per size by open_end(system, mode, role, size, ctx), closed with close().


class Mismatch(Exception):
    pass


def check(arr, n):
    if len(arr) != n:
        raise Mismatch(f"a {len(arr)}-byte message where {n} bytes were due")
    first = int(arr[0])
    if int(arr[-1]) != first:
        raise Mismatch("the first and last bytes differ: a torn message")
    return first


class ShmkitEnd:
    """Two channels (one per direction) for the ping-pong, one for the stream."""

    def __init__(self, mode, role, size, names, streaming):
        import shmkit

        self.n = size
        self.loan = mode.startswith("loan")
        wait = "busy" if mode.endswith("busy") else "adaptive"
        # A ring of four largest messages at least (1 MiB for small ones): the ping-pong
        # holds one message at a time, the stream queues a few.
        capacity = max(1 << 20, 4 * size)
        tx_name, rx_name = names
        self.tx = self.rx = None
        if streaming:
            if role == "a":
                self.tx = shmkit.Sender.create(tx_name, capacity, max_message=size, wait=wait)
            else:
                self.rx = shmkit.Receiver.create(tx_name, capacity, max_message=size, wait=wait)
        else:
            if role == "b":
                tx_name, rx_name = rx_name, tx_name
            self.tx = shmkit.Sender.create(tx_name, capacity, max_message=size, wait=wait)
            self.rx = shmkit.Receiver.create(rx_name, capacity, max_message=size, wait=wait)
        self.buf = np.zeros(size, dtype=np.uint8)

    def send(self, seq):
        if self.loan:
            with self.tx.loan(self.n) as buf:
                arr = np.frombuffer(buf, dtype=np.uint8)
                arr[0] = seq
                arr[-1] = seq
                # The loan is sent only once nothing made from it is alive.
                del arr
        else:
            self.buf[0] = seq
            self.buf[-1] = seq
            self.tx.send(self.buf)

    def recv(self):
        with self.rx.recv() as msg:
            return check(np.frombuffer(msg, dtype=np.uint8), self.n)

    def close(self):
        self.tx = self.rx = None


class IoxEnd:
    """iceoryx2 publish-subscribe of uint8 slices, one service per direction (one
    publisher, one subscriber, a buffer of one sample, no history, safe overflow) for the
    ping-pong; for the stream one service with a buffer of STREAM_DEPTH samples, no
    overflow, and a publisher that retries until delivered (the flow control). The
    receiver polls receive(): the package has no blocking receive without an event
    service, and polling is its fastest way."""

    STREAM_DEPTH = 4

    def __init__(self, role, size, names, streaming, scratch):
        import iceoryx2 as iox2

        self.iox2 = iox2
        self.n = size
        config = iox2.config.default()
        config.global_cfg.root_path = iox2.Path.new(os.path.join(scratch, "iceoryx2") + "/")
        config.global_cfg.prefix = iox2.FileName.new(iox_prefix(scratch))
        self.node = (
            iox2.NodeBuilder.new()
            .config(config)
            .signal_handling_mode(iox2.SignalHandlingMode.Disabled)
            .create(iox2.ServiceType.Ipc)
        )
        depth = self.STREAM_DEPTH if streaming else 1

        def service(name):
            return (
                self.node.service_builder(iox2.ServiceName.new(name))
                .publish_subscribe(iox2.Slice[ctypes.c_uint8])
                .max_publishers(1)
                .max_subscribers(1)
                .max_nodes(2)
                .history_size(0)
                .subscriber_max_buffer_size(depth)
                .subscriber_max_borrowed_samples(1)
                .enable_safe_overflow(not streaming)
                .open_or_create()
            )

        def publisher(svc):
            b = svc.publisher_builder().initial_max_slice_len(size).max_loaned_samples(1)
            if streaming:
                b = b.backpressure_strategy(iox2.BackpressureStrategy.RetryUntilDelivered)
            return b.create()

        def subscriber(svc):
            return svc.subscriber_builder().buffer_size(depth).create()

        tx_name, rx_name = names
        self.pub = self.sub = None
        self.services = []
        if streaming:
            svc = service(tx_name)
            self.services.append(svc)
            if role == "a":
                self.pub = publisher(svc)
            else:
                self.sub = subscriber(svc)
        else:
            if role == "b":
                tx_name, rx_name = rx_name, tx_name
            tx_svc, rx_svc = service(tx_name), service(rx_name)
            self.services += [tx_svc, rx_svc]
            self.pub = publisher(tx_svc)
            self.sub = subscriber(rx_svc)

    def send(self, seq):
        sample = self.pub.loan_slice_uninit(self.n)
        arr = np.frombuffer(sample.payload().as_memory_view(), dtype=np.uint8)
        arr[0] = seq
        arr[-1] = seq
        sample.assume_init().send()

    def recv(self):
        sub = self.sub
        while True:
            sample = sub.receive()
            if sample is not None:
                seq = check(np.frombuffer(sample.payload().as_memory_view(), dtype=np.uint8), self.n)
                sample.delete()
                return seq

    def close(self):
        for port in (self.pub, self.sub):
            if port is not None:
                port.delete()
        self.pub = self.sub = None
        # Services and the node have no delete(): they go with their last reference.
        self.services = []
        self.node = None


def iox_prefix(scratch):
    return f"iox2-{os.path.basename(scratch)}-"


class PipeEnd:
    """One duplex multiprocessing.Pipe() for the ping-pong, one for the stream. "pickle":
    conn.send(array) / conn.recv() (the array pickled and unpickled); "bytes":
    conn.send_bytes(array) / numpy.frombuffer(conn.recv_bytes())."""

    def __init__(self, mode, size, conn):
        self.n = size
        self.conn = conn
        self.pickle = mode == "pickle"
        self.buf = np.zeros(size, dtype=np.uint8)

    def send(self, seq):
        self.buf[0] = seq
        self.buf[-1] = seq
        if self.pickle:
            self.conn.send(self.buf)
        else:
            self.conn.send_bytes(self.buf)

    def recv(self):
        if self.pickle:
            arr = self.conn.recv()
        else:
            arr = np.frombuffer(self.conn.recv_bytes(), dtype=np.uint8)
        return check(arr, self.n)

    def close(self):
        pass


class QueueEnd:
    """Two multiprocessing.Queue()s for the ping-pong (one per direction), one for the
    stream: put(array) / get(). put() hands the array to the queue's feeder thread, which
    pickles it later: the sender puts a fresh copy of its array, so that the next stamp
    cannot change a message still queued."""

    def __init__(self, size, tx, rx):
        self.n = size
        self.tx, self.rx = tx, rx
        self.buf = np.zeros(size, dtype=np.uint8)

    def send(self, seq):
        self.buf[0] = seq
        self.buf[-1] = seq
        self.tx.put(self.buf.copy())

    def recv(self):
        return check(self.rx.get(), self.n)

    def close(self):
        pass


def open_end(system, mode, role, size, streaming, plane, scratch, tag):
    base = f"pybench-{tag}-{label(size).replace(' ', '')}"
    if streaming:
        names = (base + "-s", None)
    else:
        names = (base + "-ab", base + "-ba")
    if system == "shmkit-channel":
        names = tuple(n and "Local\\" + n for n in names)
        return ShmkitEnd(mode, role, size, names, streaming)
    if system == "iceoryx2":
        return IoxEnd(role, size, names, streaming, scratch)
    if system == "mp.Pipe":
        conn = plane["stream" if streaming else "pingpong"][0 if role == "a" else 1]
        return PipeEnd(mode, size, conn)
    if system == "mp.Queue":
        if streaming:
            q = plane["stream"]
            return QueueEnd(size, q, q)
        ab, ba = plane["ab"], plane["ba"]
        return QueueEnd(size, ab, ba) if role == "a" else QueueEnd(size, ba, ab)
    raise ValueError(f"unknown system {system}")


def make_plane(system):
    """What both ends of a system inherit: the multiprocessing objects."""
    if system == "mp.Pipe":
        return {"pingpong": mp.get_context("spawn").Pipe(), "stream": mp.get_context("spawn").Pipe()}
    if system == "mp.Queue":
        ctx = mp.get_context("spawn")
        return {"ab": ctx.Queue(), "ba": ctx.Queue(), "stream": ctx.Queue()}
    return {}


# --- the child processes ----------------------------------------------------------------


def child_main(role, system, mode, plane, control, cpu, scratch, tag):
    """One end of one system. Commands on `control`: ("open", size, streaming),
    ("latency", rounds, warmup), ("stream", count, warmup), ("close",), ("exit",). Each is
    answered with ("ok", result) or ("error", text)."""
    pin(cpu)
    end = None
    while True:
        cmd = control.recv()
        try:
            if cmd[0] == "exit":
                control.send(("ok", None))
                return
            if cmd[0] == "open":
                _, size, streaming = cmd
                end = open_end(system, mode, role, size, streaming, plane, scratch, tag)
                result = None
            elif cmd[0] == "close":
                end.close()
                end = None
                result = None
            elif cmd[0] == "latency":
                result = latency(end, role, cmd[1], cmd[2])
            elif cmd[0] == "stream":
                result = stream(end, role, cmd[1], cmd[2])
            elif cmd[0] == "handshake":
                # One message through the stream, so that the receiver is attached before
                # the sender may find the buffer full (iceoryx2 drops a sample sent to a
                # full buffer of a subscriber that has not yet attached).
                if role == "a":
                    end.send(0)
                else:
                    end.recv()
                result = None
            else:
                raise ValueError(f"unknown command {cmd!r}")
            control.send(("ok", result))
        except Exception as e:  # reported to the orchestrator, which fails the step
            control.send(("error", f"{type(e).__name__}: {e}"))


def latency(end, role, rounds, warmup):
    total = rounds + warmup
    if role == "b":
        for _ in range(total):
            end.send(end.recv())
        return None
    clock = time.perf_counter_ns
    samples = []
    for i in range(total):
        seq = i & 0xFF
        t0 = clock()
        end.send(seq)
        got = end.recv()
        t1 = clock()
        if got != seq:
            raise Mismatch(f"round {i}: answer {got}, {seq} was due")
        if i >= warmup:
            samples.append((t1 - t0) / 2)
    samples.sort()
    return {"p50_ns": percentile(samples, 50), "p99_ns": percentile(samples, 99)}


def stream(end, role, count, warmup):
    total = count + warmup
    if role == "a":
        for i in range(total):
            end.send(i & 0xFF)
        return None
    clock = time.perf_counter_ns
    t0 = None
    for i in range(total):
        if i == warmup:
            t0 = clock()
        got = end.recv()
        if got != i & 0xFF:
            raise Mismatch(f"message {i}: sequence {got}, {i & 0xFF} was due")
    t1 = clock()
    return {"seconds": (t1 - t0) / 1e9}


# --- the orchestrator -------------------------------------------------------------------


class Pair:
    """Both ends of one system, each a spawned process with a control pipe."""

    def __init__(self, system, mode, cpus, scratch, tag):
        ctx = mp.get_context("spawn")
        self.plane = make_plane(system)
        self.controls = []
        self.procs = []
        for role, cpu in (("b", cpus[1]), ("a", cpus[0])):
            parent, child = ctx.Pipe()
            p = ctx.Process(
                target=child_main,
                args=(role, system, mode, self.plane, child, cpu, scratch, tag),
                daemon=True,
            )
            p.start()
            child.close()
            self.controls.append(parent)
            self.procs.append(p)

    def ask(self, i, cmd):
        self.controls[i].send(cmd)

    def answer(self, i):
        c = self.controls[i]
        if not c.poll(STEP_TIMEOUT):
            raise RuntimeError("a child timed out")
        status, result = c.recv()
        if status != "ok":
            raise RuntimeError(result)
        return result

    def both(self, cmd, first=None):
        """Sends `cmd` to both ends (to `first` alone first, if given, and waits for it)."""
        if first is not None:
            self.ask(first, cmd)
            self.answer(first)
            self.ask(1 - first, cmd)
            return [None, self.answer(1 - first)][:: 1 if first == 0 else -1]
        self.ask(0, cmd)
        self.ask(1, cmd)
        results = [None, None]
        # Either answer may come first; an error of one end leaves the other waiting, so
        # the first error ends the pair.
        pending = {0, 1}
        deadline = time.monotonic() + STEP_TIMEOUT
        while pending:
            for i in list(pending):
                if self.controls[i].poll(0.01):
                    results[i] = self.answer(i)
                    pending.discard(i)
            if time.monotonic() > deadline:
                raise RuntimeError("a child timed out")
        return results

    def close(self):
        for c in self.controls:
            try:
                c.send(("exit",))
            except OSError:
                pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()


def measure(system, mode, cpus, scale, scratch, tag, sizes):
    """One run of one system: latency and throughput at every size."""
    records = []
    pair = Pair(system, mode, cpus, scratch, tag)
    try:
        for size in sizes:
            rounds = max(20, int(ROUNDS[size] * scale))
            count = max(20, int(STREAM[size] * scale))
            # The responder (index 0, role b) creates first.
            pair.both(("open", size, False), first=0)
            res = pair.both(("latency", rounds, max(2, rounds // 10)))
            pair.both(("close",))
            lat = res[1]
            records.append(
                {"system": system, "mode": mode, "size": size, "metric": "latency", **lat}
            )
            pair.both(("open", size, True), first=0)
            pair.both(("handshake",))
            res = pair.both(("stream", count, max(2, count // 10)))
            pair.both(("close",))
            secs = res[0]["seconds"]
            records.append(
                {
                    "system": system,
                    "mode": mode,
                    "size": size,
                    "metric": "throughput",
                    "msgs_per_s": count / secs,
                    "gbps": count * size / secs / 1e9,
                }
            )
    finally:
        pair.close()
    return records


def medians(per_run):
    """The median of every figure of every (system, mode, size, metric) over the runs."""
    groups = {}
    for run in per_run:
        for r in run:
            key = (r["system"], r["mode"], r["size"], r["metric"])
            groups.setdefault(key, []).append(r)
    out = []
    for key, rs in groups.items():
        rec = dict(zip(("system", "mode", "size", "metric"), key))
        for field in rs[0]:
            if field not in rec:
                rec[field] = statistics.median(r[field] for r in rs)
        rec["runs"] = len(rs)
        out.append(rec)
    return out


def find(records, system, mode, size, metric):
    for r in records:
        if (r["system"], r["mode"], r["size"], r["metric"]) == (system, mode, size, metric):
            return r
    return None


def micros(ns):
    return f"{ns / 1000:.2f}" if ns < 10_000 else f"{ns / 1000:.1f}"


def grid(records, systems, sizes, metric, cell):
    """A Markdown table of `metric`: a row per system and mode, a column per size."""
    lines = ["| system | mode | " + " | ".join(label(s) for s in sizes) + " |"]
    lines.append("|---|---|" + "---|" * len(sizes))
    for system, mode in systems:
        cells = []
        for size in sizes:
            r = find(records, system, mode, size, metric)
            cells.append(cell(r) if r else "–")
        lines.append(f"| {system} | {mode} | " + " | ".join(cells) + " |")
    return lines


def table(records, systems, sizes):
    lines = ["One-way latency, µs: p50 / p99", ""]
    lines += grid(
        records, systems, sizes, "latency",
        lambda r: f"{micros(r['p50_ns'])} / {micros(r['p99_ns'])}",
    )
    lines += ["", "Throughput: messages/s, GB/s (10^9 payload bytes per second)", ""]
    lines += grid(
        records, systems, sizes, "throughput",
        lambda r: f"{r['msgs_per_s']:,.0f} /s, {r['gbps']:.3g} GB/s",
    )
    ratios = []
    for num, den, size, what in (
        (("shmkit-channel", "loan"), ("mp.Pipe", "pickle"), 64 << 10, "Pipe / shmkit loan"),
        (("shmkit-channel", "send"), ("mp.Pipe", "pickle"), 64 << 10, "Pipe / shmkit send"),
    ):
        a, b = find(records, *num, size, "latency"), find(records, *den, size, "latency")
        if a and b:
            ratios.append(f"- {what} at {label(size)}, p50: {b['p50_ns'] / a['p50_ns']:.1f}×")
    for num, size in ((("shmkit-channel", "loan"), 64), (("shmkit-channel", "send"), 64)):
        a = find(records, *num, size, "latency")
        b = find(records, "iceoryx2", "loan", size, "latency")
        if a and b:
            ratios.append(
                f"- shmkit {num[1]} / iceoryx2 at {label(size)}, p50: "
                f"{a['p50_ns'] / b['p50_ns']:.2f}"
            )
    if ratios:
        lines += ["", "Ratios (p50, this run):", ""] + ratios
    return "\n".join(lines) + "\n"


def available(system):
    try:
        if system == "shmkit-channel":
            import shmkit

            return hasattr(shmkit, "Sender")
        if system == "iceoryx2":
            import iceoryx2  # noqa: F401
    except ImportError:
        return False
    return True


def versions():
    out = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        from importlib.metadata import version

        for pkg in ("shmkit", "iceoryx2"):
            try:
                out[pkg] = version(pkg)
            except Exception:
                pass
    except ImportError:
        pass
    return out


def remove_iox_files(scratch):
    """Removes the run's iceoryx2 files in /dev/shm (named with the run's prefix)."""
    prefix = iox_prefix(scratch)
    removed = []
    try:
        names = os.listdir("/dev/shm")
    except OSError:
        return removed
    for name in names:
        if name.startswith(prefix):
            try:
                os.unlink(os.path.join("/dev/shm", name))
                removed.append(name)
            except OSError:
                pass
    return removed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=None, help="runs (default 3; 1 with --quick or --smoke)")
    ap.add_argument("--json", metavar="FILE", help="write the records as JSON to FILE")
    ap.add_argument("--only", metavar="SYSTEM", action="append", default=[],
                    help="only this system (shmkit-channel, iceoryx2, mp.Pipe, mp.Queue); repeatable")
    ap.add_argument("--sizes", metavar="N", type=int, nargs="+", choices=SIZES, default=list(SIZES))
    ap.add_argument("--cpus", default="0,1", help="the CPUs of the two ends (default 0,1)")
    ap.add_argument("--no-pin", action="store_true", help="leave both ends unpinned")
    scale = ap.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="a tenth of the work")
    scale.add_argument("--smoke", action="store_true", help="a handful of messages: checks, not figures")
    ap.add_argument("--require", metavar="SYSTEM", action="append", default=[],
                    help="fail (instead of leaving it out) when this system is not installed")
    args = ap.parse_args(argv)

    level = "smoke" if args.smoke else "quick" if args.quick else "full"
    runs = args.runs or (3 if level == "full" else 1)
    cpus = (None, None) if args.no_pin else tuple(int(c) for c in args.cpus.split(","))
    wanted = [s for s in SYSTEMS if not args.only or s[0] in args.only]
    systems = [s for s in wanted if available(s[0])]
    for name in sorted({s[0] for s in wanted} - {s[0] for s in systems}):
        if name in args.require:
            print(f"pybench: {name} is required but cannot be imported", file=sys.stderr)
            return 2
        print(f"pybench: {name}: left out (cannot be imported)", file=sys.stderr)

    scratch = tempfile.mkdtemp(prefix=f"pybench-{os.getpid()}-")
    per_run = []
    failures = []
    try:
        for run in range(1, runs + 1):
            records = []
            for i, (system, mode) in enumerate(systems):
                print(f"pybench: run {run}/{runs}: {system} {mode}", file=sys.stderr, flush=True)
                tag = f"{os.getpid()}-{run}-{i}"
                try:
                    records += measure(system, mode, cpus, SCALES[level], scratch, tag, args.sizes)
                except Exception as e:
                    failures.append(f"run {run}: {system} {mode}: {e}")
                    print(f"pybench: failed: {failures[-1]}", file=sys.stderr)
            per_run.append(records)
    finally:
        leftovers = remove_iox_files(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
    result = medians(per_run)
    print(f"pybench{'' if level == 'full' else ' --' + level} "
          f"(median of {runs} run{'s' if runs > 1 else ''}; "
          f"ends {'pinned to CPUs ' + args.cpus if cpus[0] is not None else 'not pinned'}; "
          f"shmkit waits: adaptive unless the mode says busy)\n")
    print(table(result, systems, args.sizes))
    if args.json:
        doc = {
            "runs": runs,
            "scale": level,
            "pinned": None if cpus[0] is None else list(cpus),
            "versions": versions(),
            "records": result,
            "failures": failures,
        }
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"pybench: wrote {args.json}", file=sys.stderr)
    for name in leftovers:
        if not name.endswith("global_mgmt"):
            print(f"pybench: warning: removed a leftover /dev/shm/{name}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
