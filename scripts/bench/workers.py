"""Worker processes: one per competitor, alive for the whole run, driven over a pipe.

Workers start with multiprocessing's 'spawn', so each begins with nothing imported and its competitor's
thread settings (``env``) already in its environment; no two libraries share a process (the issue saw
JAX slow NumPy ≈2× in one process). The driver sends a command; the worker answers each with one message:

- ("prepare", request) → ("ready", result) | ("skip" | "unavailable" | "error", why)
    load the data, build the Run and call it once: the warm-up, whose output the driver checks
- ("time", None)       → ("time", seconds per call, calls): one repetition. The first calls until
    MIN_REPETITION seconds have passed and so fixes how many calls every later one makes (no extra
    calibration call: one epoch of per-sample SGD in torch takes seconds). Parameter resets are untimed.
- ("stop", None)
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import time
from contextlib import contextmanager

from . import workloads
from .competitors import EVERYONE
from .protocol import Unavailable, compute

MIN_REPETITION = 0.05    # seconds per timed repetition
ANSWER_TIMEOUT = 900     # seconds; longer means the worker hangs


# ---------------------------------------------------------------- inside the worker
class _Server:
    def __init__(self, name):
        self.name = name
        self.competitor = EVERYONE[name]()
        self.run, self.number = None, None

    def prepare(self, request):
        self.run, self.number = None, None
        gc.collect()             # free the last workload's arrays (JAX's copy of X) before the next
        answer, self.run = self._call_once(request)
        return answer

    def time(self, _):
        if self.number is None:      # the first repetition: calls in doubling batches for MIN_REPETITION
            elapsed, calls = 0.0, 0
            while elapsed < MIN_REPETITION:
                batch = 1 if self.run.reset else max(1, calls)
                elapsed += self._timed(batch)
                calls += batch
            self.number = calls
            return ("time", elapsed / calls, calls)
        return ("time", self._timed(self.number) / self.number, self.number)

    def _timed(self, calls):
        """Seconds spent in `calls` calls; a Run with a reset gets it before each call, off the clock."""
        run = self.run
        if run.reset is None:
            start = time.perf_counter()
            for _ in range(calls):
                run.call()
            return time.perf_counter() - start
        elapsed = 0.0
        for _ in range(calls):
            run.reset()
            start = time.perf_counter()
            run.call()
            elapsed += time.perf_counter() - start
        return elapsed

    def _call_once(self, request):
        data = workloads.data(request)
        method = getattr(self.competitor, data.task, None)
        if method is None:
            return ("skip", f"{self.name} does not run {data.task}"), None
        try:
            run = method(data)
            return ("ready", compute(run)), run
        except Unavailable as why:
            return ("unavailable", str(why)), None
        except Exception as error:   # a competitor that fails on valid input is a finding: report it
            return ("error", f"{type(error).__name__}: {error}"), None


def serve(conn, name):
    try:
        server = _Server(name)
        conn.send(("ready", server.competitor.setup()))
    except Unavailable as why:
        conn.send(("unavailable", str(why)))
        return
    except Exception as error:
        conn.send(("error", f"setup failed: {type(error).__name__}: {error}"))
        return
    while True:
        command, request = conn.recv()
        if command == "stop":
            return
        try:
            conn.send(getattr(server, command)(request))
        except Exception as error:
            conn.send(("error", f"{command} failed: {type(error).__name__}: {error}"))


# ---------------------------------------------------------------- in the driver
@contextmanager
def _environ(overrides):
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Worker:
    """The driver's handle on one worker process."""

    def __init__(self, name, common_env):
        context = multiprocessing.get_context("spawn")
        self.name = name
        self.conn, child = context.Pipe()
        self.env = {**common_env, **EVERYONE[name].env}
        self.settle = getattr(EVERYONE[name], "settle", 0.0)
        with _environ(self.env):     # a spawned child copies the environment when it starts
            self.process = context.Process(target=serve, args=(child, name), daemon=True,
                                           name=f"bench-{name}")
            self.process.start()
        child.close()

    def send(self, command, request=None):
        try:
            self.conn.send((command, request))
        except OSError:     # the worker is gone: receive() says how it ended
            pass

    def receive(self):
        try:
            if not self.conn.poll(ANSWER_TIMEOUT):
                return ("error", f"no answer in {ANSWER_TIMEOUT} s")
            return self.conn.recv()
        except (EOFError, OSError):
            self.process.join(5)
            return ("error", f"worker died (exit code {self.process.exitcode})")

    def ask(self, command, request=None):
        self.send(command, request)
        return self.receive()

    def stop(self):
        self.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
