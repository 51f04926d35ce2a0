"""MIDI ports through python-rtmidi: pick a backend, list ports, open them by name.

Owns the choice of rtmidi API (ALSA, JACK, CoreMIDI, WinMM), port lookup by full name or a
unique part of it, the virtual output a DAW can record from, and the clean failure when no
MIDI system is reachable. ``MUSICAPP_MIDI_API`` (alsa, jack, coremidi, winmm) forces a
backend; otherwise JACK is used when ``JACK_DEFAULT_SERVER`` is set, else the first
compiled API that answers.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass

from musicapp.engine.errors import NoMidiBackendError, PortError
from musicapp.engine.outputs import Message, Output

CLIENT_NAME = "musicapp"
#: JACK makes a new connection live a few cycles after jack_connect returns; messages sent
#: before that are lost, so opening a JACK port waits this long (seconds).
JACK_SETTLE_S = 0.03
_API_NAMES = {"alsa": 2, "jack": 3, "coremidi": 1, "winmm": 4}


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One port as listed by the backend: its index there and its full name."""

    index: int
    name: str


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C-level chatter (ALSA lib, libjack) while probing backends."""
    try:
        fd = sys.stderr.fileno()
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        sys.stderr.flush()
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _rtmidi():
    try:
        import rtmidi
    except ImportError as err:  # pragma: no cover - dependency is declared
        raise NoMidiBackendError(f"python-rtmidi is not installed ({err})") from None
    return rtmidi


def candidate_apis() -> list[int]:
    """rtmidi API ids to try, most preferred first."""
    rtmidi = _rtmidi()
    compiled = [a for a in rtmidi.get_compiled_api() if a != rtmidi.API_RTMIDI_DUMMY]
    forced = os.environ.get("MUSICAPP_MIDI_API", "").strip().lower()
    if forced:
        if forced not in _API_NAMES:
            raise NoMidiBackendError(
                f"MUSICAPP_MIDI_API={forced!r} is not one of {', '.join(sorted(_API_NAMES))}")
        api = _API_NAMES[forced]
        if api not in compiled:
            raise NoMidiBackendError(f"this python-rtmidi has no {forced} support")
        return [api]
    if os.environ.get("JACK_DEFAULT_SERVER") and rtmidi.API_UNIX_JACK in compiled:
        compiled.remove(rtmidi.API_UNIX_JACK)
        compiled.insert(0, rtmidi.API_UNIX_JACK)
    return compiled


def api_name(api: int) -> str:
    return _rtmidi().get_api_display_name(api)


def _make(kind: str, api: int | None = None, client: str = CLIENT_NAME):
    """A new rtmidi MidiIn/MidiOut on the first API that works, or NoMidiBackendError."""
    rtmidi = _rtmidi()
    cls = rtmidi.MidiOut if kind == "out" else rtmidi.MidiIn
    tried: list[str] = []
    for candidate in ([api] if api is not None else candidate_apis()):
        try:
            before = _thread_ids()
            with _quiet_stderr():
                obj = cls(rtapi=candidate, name=client)
                obj.get_port_count()  # forces the connection on lazy backends (JACK)
            if candidate == rtmidi.API_UNIX_JACK:
                _make_realtime(_thread_ids() - before)
            return obj
        except Exception:
            tried.append(rtmidi.get_api_display_name(candidate))
    raise NoMidiBackendError(
        "no MIDI system is available (tried " + (", ".join(tried) or "nothing")
        + "); start JACK or enable the ALSA sequencer, or use the built-in synth")


def _thread_ids() -> set[int]:
    try:
        return {int(t) for t in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def _make_realtime(thread_ids: set[int], priority: int = 20) -> None:
    """Give libjack's new client threads SCHED_FIFO where allowed.

    A JACK server started without realtime (``--no-realtime``) leaves its clients' process
    threads at normal priority, so any busy thread of this process (a model generating)
    delays MIDI delivery by whole scheduler slices. Without the right to do so: no change.
    Set ``MUSICAPP_NO_REALTIME=1`` to skip.
    """
    if os.environ.get("MUSICAPP_NO_REALTIME") or not hasattr(os, "sched_setscheduler"):
        return
    for tid in thread_ids:
        try:
            if os.sched_getscheduler(tid) == os.SCHED_OTHER:
                os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(priority))
        except OSError:
            return


def settle(midi) -> None:
    """JACK only: wait until a fresh connection carries messages, or the ones just sent
    (still in rtmidi's ring buffer) have gone out before the port closes."""
    if midi.get_current_api() == _rtmidi().API_UNIX_JACK:
        time.sleep(JACK_SETTLE_S)


def _list(kind: str) -> list[PortInfo]:
    obj = _make(kind)
    try:
        return [PortInfo(i, n) for i, n in enumerate(obj.get_ports())]
    finally:
        obj.delete()


def backend_name() -> str:
    """Display name of the MIDI backend in use (e.g. "Jack", "ALSA")."""
    obj = _make("out")
    try:
        return api_name(obj.get_current_api())
    finally:
        obj.delete()


def list_output_ports() -> list[str]:
    """Full names of the MIDI output destinations (other programs' inputs)."""
    return [p.name for p in _list("out")]


def list_input_ports() -> list[str]:
    """Full names of the MIDI sources we can read from."""
    return [p.name for p in _list("in")]


def find_port(ports: list[str], name: str, kind: str = "output") -> int:
    """Index of the port called ``name``, or the one port whose name contains it (any case)."""
    if not name:
        raise PortError(f"empty {kind} port name")
    if name in ports:
        return ports.index(name)
    hits = [i for i, p in enumerate(ports) if name.lower() in p.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        have = ", ".join(repr(p) for p in ports) or "none"
        raise PortError(f"no MIDI {kind} port matches {name!r} (available: {have})")
    raise PortError(f"{name!r} matches several {kind} ports: "
                    + ", ".join(repr(ports[i]) for i in hits))


class _RtmidiOutput(Output):
    """Shared delivery through an rtmidi ``MidiOut`` held in ``self._midi``."""

    _midi = None

    def _send(self, msg: Message) -> None:
        try:
            self._midi.send_message(msg)
        except Exception as err:
            raise PortError(f"MIDI output {self.name!r} failed: {err}") from None

    def _close(self) -> None:
        settle(self._midi)  # JACK: let the last cycle carry the releases out before closing
        with contextlib.suppress(Exception):
            self._midi.close_port()
        self._midi.delete()


class MidiPortOutput(_RtmidiOutput):
    """An rtmidi output connected to an existing port (a synth, a DAW input)."""

    def __init__(self, name_or_part: str, client: str = CLIENT_NAME) -> None:
        super().__init__()
        self._midi = _make("out", client=client)
        try:
            ports = self._midi.get_ports()
            index = find_port(ports, name_or_part)
            self.name = ports[index]
            with _quiet_stderr():
                self._midi.open_port(index, CLIENT_NAME)
            settle(self._midi)
        except Exception as err:
            self._midi.delete()
            if isinstance(err, PortError):
                raise
            raise PortError(f"cannot open MIDI output {name_or_part!r}: {err}") from None

    def is_alive(self) -> bool:
        """Whether the port is still listed. Asks the MIDI server and python-rtmidi holds the GIL
        throughout, so the scheduler calls it only when the next deadline is far away."""
        if self.closed:
            return False
        try:
            return self.name in self._midi.get_ports()
        except Exception:
            return False



class VirtualOutput(_RtmidiOutput):
    """A new output port other programs (a DAW) connect to and record from."""

    def __init__(self, name: str = CLIENT_NAME, client: str = CLIENT_NAME) -> None:
        super().__init__()
        if not name:
            raise PortError("a virtual port needs a name")
        self._midi = _make("out", client=client)
        try:
            with _quiet_stderr():
                self._midi.open_virtual_port(name)
        except Exception as err:
            api = self._midi.get_current_api()
            self._midi.delete()
            if api == _rtmidi().API_WINDOWS_MM:
                raise PortError("Windows MIDI (WinMM) cannot create virtual ports; install a "
                                "loopback driver such as loopMIDI and use --port") from None
            raise PortError(f"cannot create virtual MIDI port {name!r}: {err}") from None
        self.name = name
        settle(self._midi)  # JACK: a port registered this cycle drops what is sent in it


def open_output_port(name_or_part: str) -> MidiPortOutput:
    """Open the output port called ``name_or_part`` (or the one port containing it)."""
    return MidiPortOutput(name_or_part)


def open_virtual_output(name: str = CLIENT_NAME) -> VirtualOutput:
    """Create a virtual output port called ``name`` (not possible on WinMM)."""
    return VirtualOutput(name)
