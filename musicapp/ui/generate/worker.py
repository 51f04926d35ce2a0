"""The one inference worker thread of the editor: newest request wins, results come back queued.

Owns the ML worker thread (a plain ``threading.Thread``) and its hand-over slot. The main
thread ``submit``s a ``Request``; if one is running, its cancel event is set (the services
poll it between 16th steps and stop), and only the newest waiting request is kept. Model
services are opened and loaded lazily, on this thread, through the injected ``opener``, so
torch never loads on the main thread. Results, progress and errors are emitted through
``WorkerSignals`` (a QObject living on the main thread), so Qt delivers them queued on the
main thread. ``close`` cancels, wakes and joins the thread; the window calls it on quit.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from musicapp.core.errors import MusicappError

#: (kind, model name, device) -> an opened service, e.g. ("lstm", "lstm", "cpu").
ModelKey = tuple[str, str, str]
#: job(service, cancel_event, progress(done, total)) -> candidates (lists of Notes).
Job = Callable[[Any, threading.Event, Callable[[int, int], None]], list]
Opener = Callable[[str, str, str], Any]

PROGRESS_EVERY_S = 0.03  # at most ~30 progress signals a second
#: niceness added to the worker thread (Linux). Measured on the shared 2-core machine
#: (benchmarks/bench_assist.py --nice): +10 did not lower main-thread stalls beyond noise but
#: made re-seed latency worse (p50 ~30 -> ~50 ms), so the default is 0.
WORKER_NICE = 0


@dataclass(frozen=True)
class Request:
    """One generation: run ``job`` on the service for ``model``. ``rid`` is unique per request."""

    rid: int
    model: ModelKey
    job: Job = field(compare=False)
    label: str = "generate"


class WorkerSignals(QObject):
    """Signals from the worker thread, delivered queued to main-thread receivers."""

    started = Signal(int)  # rid
    progress = Signal(int, int, int)  # rid, done steps, total steps
    finished = Signal(int, object, float)  # rid, candidates, seconds spent generating
    failed = Signal(int, str)  # rid, one-line message
    cancelled = Signal(int)  # rid
    model_status = Signal(object, str, bool)  # ModelKey, text, ok


class InferenceWorker:
    """Runs generation requests one at a time on its own thread; a new request cancels the old."""

    def __init__(self, opener: Opener, warmup: Callable[[], None] | None = None,
                 describe: Callable[[Any], str] | None = None) -> None:
        self.signals = WorkerSignals()
        self._opener = opener
        self._warmup = warmup
        self._describe = describe
        self._cond = threading.Condition()
        self._pending: Request | None = None
        self._running: tuple[Request, threading.Event] | None = None
        self._services: dict[ModelKey, Any] = {}
        self._closing = False
        self.last_cpu_seconds = 0.0  # CPU time of the last finished job on this thread (figures)
        self._thread = threading.Thread(target=self._loop, name="musicapp-ml-worker", daemon=True)
        self._thread.start()

    # ----- public API (main thread) -----------------------------------------------------------
    def submit(self, request: Request) -> None:
        """Queue ``request``: it replaces any waiting one and cancels the running one."""
        if not isinstance(request, Request):
            raise TypeError(f"submit needs a Request, not {type(request).__name__}")
        with self._cond:
            if self._closing:
                return
            replaced, self._pending = self._pending, request
            if self._running is not None:
                self._running[1].set()
            self._cond.notify()
        if replaced is not None:  # never started: report it as cancelled too
            self._emit("cancelled", replaced.rid)

    def cancel(self) -> None:
        """Drop the waiting request and cancel the running one."""
        with self._cond:
            self._pending = None
            if self._running is not None:
                self._running[1].set()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._pending is not None or self._running is not None

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def forget_models(self) -> None:
        """Drop opened services (the next request reopens, e.g. after a device change)."""
        with self._cond:
            self._services = {}

    def close(self, timeout: float = 5.0) -> bool:
        """Cancel everything and stop the thread; True when it has ended within ``timeout`` s."""
        with self._cond:
            self._closing = True
            self._pending = None
            if self._running is not None:
                self._running[1].set()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # ----- the worker thread ------------------------------------------------------------------
    def _emit(self, name: str, *args) -> None:
        try:
            getattr(self.signals, name).emit(*args)
        except RuntimeError:  # the signals object is gone (app shutting down)
            pass

    def _loop(self) -> None:
        _lower_thread_priority(WORKER_NICE)
        while True:
            with self._cond:
                while self._pending is None and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                request, self._pending = self._pending, None
                cancel = threading.Event()
                self._running = (request, cancel)
            try:
                self._run(request, cancel)
            finally:
                with self._cond:
                    self._running = None

    def _service(self, key: ModelKey) -> Any:
        with self._cond:
            service = self._services.get(key)
        if service is not None and getattr(service, "loaded", True):
            return service
        self._emit("model_status", key, "loading…", True)
        t0 = time.perf_counter()
        if self._warmup is not None:
            warmup, self._warmup = self._warmup, None
            warmup()
        if service is None:
            service = self._opener(*key)
        load = getattr(service, "load", None) or getattr(service, "model", None)
        if load is not None:
            load()
        with self._cond:
            self._services[key] = service
        where = self._describe(service) if self._describe is not None else ""
        where = f" on {where}" if where else ""
        self._emit("model_status", key, f"loaded{where} in {(time.perf_counter() - t0) * 1000:.0f} ms", True)
        return service

    def _run(self, request: Request, cancel: threading.Event) -> None:
        rid = request.rid
        try:
            service = self._service(request.model)
        except MusicappError as err:
            msg = f"Model {request.model[1]!r} cannot be used: {err}"
            self._emit("model_status", request.model, str(err), False)
            self._emit("failed", rid, msg)
            return
        except Exception as err:  # a broken file can fail in many ways: report, keep working
            msg = f"Model {request.model[1]!r} cannot be used: {type(err).__name__}: {err}"
            self._emit("model_status", request.model, msg, False)
            self._emit("failed", rid, msg)
            return
        if cancel.is_set():
            self._emit("cancelled", rid)
            return
        self._emit("started", rid)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= PROGRESS_EVERY_S or done == total:
                last[0] = now
                self._emit("progress", rid, done, total)

        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            result = request.job(service, cancel, progress)
            self.last_cpu_seconds = time.thread_time() - c0
        except Exception as err:
            if cancel.is_set():
                self._emit("cancelled", rid)
            elif isinstance(err, MusicappError):
                self._emit("failed", rid, str(err))
            else:
                self._emit("failed", rid, f"{request.label} failed: {type(err).__name__}: {err}")
            return
        if cancel.is_set():
            self._emit("cancelled", rid)
        else:
            self._emit("finished", rid, result, time.perf_counter() - t0)


def _lower_thread_priority(nice: int) -> None:
    """Make the calling thread ``nice`` steps nicer (Linux: niceness is per thread)."""
    if not nice or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except OSError:  # not permitted here: run at normal priority
        pass
