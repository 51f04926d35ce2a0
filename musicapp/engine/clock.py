"""Precise waiting on the monotonic clock, including the last stretch before a deadline.

Owns the one trick that keeps playback on time while other Python threads (a model
generating) compete for the GIL: the final wait before a deadline happens in C
(``clock_nanosleep`` with an absolute CLOCK_MONOTONIC time, called through
``ctypes.PyDLL`` so the GIL stays with the engine thread). Nothing can take the GIL away
in that stretch, so the send right after it is not delayed by another thread's bytecode or
by the OS descheduling that thread while it holds the lock. Elsewhere (no clock_nanosleep,
or perf_counter not on CLOCK_MONOTONIC) it falls back to a Python busy-wait.

Times are ``time.perf_counter()`` seconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import time

CLOCK_MONOTONIC = 1
TIMER_ABSTIME = 1
EINTR = 4


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class PreciseWaiter:
    """``wait_until(deadline)`` returns at ``deadline`` holding the GIL throughout."""

    def __init__(self) -> None:
        self._nanosleep = None
        if sys.platform.startswith("linux") and _perf_counter_is_monotonic():
            try:
                libc = ctypes.PyDLL(ctypes.util.find_library("c") or "libc.so.6")
                fn = libc.clock_nanosleep
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_Timespec),
                               ctypes.c_void_p]
                fn.restype = ctypes.c_int
                self._nanosleep = fn
            except (OSError, AttributeError):
                self._nanosleep = None

    @property
    def holds_gil(self) -> bool:
        """True when the wait runs in C with the GIL held (else a Python busy-wait)."""
        return self._nanosleep is not None

    def wait_until(self, deadline: float) -> None:
        """Return once ``time.perf_counter() >= deadline`` (seconds)."""
        if self._nanosleep is None:
            while time.perf_counter() < deadline:
                pass
            return
        sec = int(deadline)
        ts = _Timespec(sec, int((deadline - sec) * 1e9))
        while self._nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ctypes.byref(ts), None) == EINTR:
            pass


def _perf_counter_is_monotonic() -> bool:
    info = time.get_clock_info("perf_counter")
    return "CLOCK_MONOTONIC" in info.implementation and "RAW" not in info.implementation
