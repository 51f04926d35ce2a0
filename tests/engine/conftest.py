"""Engine fixtures: one private JACK dummy server per test session, and polled input ports.

The server runs without realtime rights (``jackd -S --no-realtime -d dummy``), so it works in
CI containers with no sound card. ``-S`` (synchronous mode) matters on a loaded machine: in
the default asynchronous mode a client that misses its cycle loses that cycle's MIDI events. ``JACK_DEFAULT_SERVER`` points every rtmidi client of this
process (and of subprocesses started by the tests) at it. Only that server's PID is stopped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from engine_helpers import Inbox


def pytest_collection_modifyitems(config, items) -> None:
    """Tests on a JACK server check real-time behaviour against the wall clock (notes on the
    grid, an answer on the bar line, a cut within a beat). This VM stalls even realtime threads
    for 7-33 ms several times a minute (DEVELOPERS.md), so such a test gets two more tries; a
    real fault fails all three. The timing figures themselves live in benchmarks/."""
    for item in items:
        if "jack_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=1))


@pytest.fixture(scope="session")
def jack_server():
    """Name of a running JACK dummy server (48 kHz, 64-frame periods)."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip("jackd is not installed (Debian: jackd2)")
    name = f"musicapp-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    log = open(os.devnull, "w")
    proc = subprocess.Popen([jackd, "-S", "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000",
                             "-p", "64"], stdout=log, stderr=log)
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        _wait_for_jack(proc)
        yield name
    finally:
        _release_portaudio()
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old


def _release_portaudio() -> None:
    """PortAudio (sounddevice) may hold a JACK connection; it aborts at exit if JACK is gone."""
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        try:
            sd._terminate()
        except Exception:
            pass


def _wait_for_jack(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    from musicapp.engine.errors import NoMidiBackendError
    from musicapp.engine.ports import _make

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stale = sorted(f for f in os.listdir("/dev/shm") if f.startswith("jack_")) \
                if os.path.isdir("/dev/shm") else []
            hint = (f"; /dev/shm holds {len(stale)} JACK segments: JACK's registry takes 8 servers and "
                    "killed jackd processes leave theirs behind (remove /dev/shm/jack* while no jackd runs)"
                    if stale else "")
            pytest.fail(f"jackd exited with code {proc.returncode}{hint}")
        try:
            _make("out", api=3, client="musicapp-probe").delete()
            return
        except NoMidiBackendError:
            time.sleep(0.1)
    pytest.fail("jackd did not come up")


@pytest.fixture
def inbox(jack_server, request):
    """A fresh polled JACK input port, unique per test."""
    box = Inbox(f"inbox{uuid.uuid4().hex[:6]}")
    yield box
    box.close()
