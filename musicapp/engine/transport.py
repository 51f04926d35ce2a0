"""The transport: the Qt-free, thread-safe face of the engine that the UI and CLI use.

Owns the public playback API (play, stop, pause, seek, loop, metronome, count-in, clock out,
snapshot swap, outputs, auditioning single notes) and the output factories. Every method may
be called from any thread (normally the Qt main thread); the work happens in the one
scheduler thread (``engine.scheduler``). Listeners are called from the engine thread with a
``TransportEvent``; a GUI must marshal them to its own thread.

Ownership: outputs handed to the transport belong to it; it releases their notes and closes
them when they are replaced (``set_output``/``set_outputs``) and on ``close``.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from typing import Callable, Sequence

from musicapp.core.song import Song
from musicapp.engine.compiler import Compiled, CompileJob, SnapshotCompiler
from musicapp.engine.errors import EngineError
from musicapp.engine.events import EventOptions, compile_song, note_on
from musicapp.engine.midi_input import (
    MidiInput, Recorder, free_running_ticks, open_input_port, open_virtual_input,
)
from musicapp.engine.outputs import Output, RecordingOutput, check_message
from musicapp.engine.ports import (
    MidiPortOutput, VirtualOutput, list_input_ports, list_output_ports, open_output_port,
    open_virtual_output,
)
from musicapp.engine.scheduler import Clock, ManualClock, Scheduler, SchedulerConfig, TransportEvent

__all__ = [
    "Transport", "TransportEvent", "SchedulerConfig", "Output", "RecordingOutput",
    "MidiPortOutput", "VirtualOutput", "list_output_ports", "list_input_ports",
    "open_output_port", "open_virtual_output", "BuiltinSynthOutput", "MidiInput",
    "open_input_port", "open_virtual_input", "Recorder", "free_running_ticks", "ManualClock",
]

Listener = Callable[[TransportEvent], None]
#: bars of metronome/clock past the song's end while it plays on (recording)
OPEN_END_BARS = 256


def BuiltinSynthOutput(*args, **kwargs):  # noqa: N802 - a factory that reads like a class
    """The built-in synth on the default audio device (see ``engine.audio``)."""
    from musicapp.engine.audio import BuiltinSynthOutput as _Synth

    return _Synth(*args, **kwargs)


class Transport:
    """Plays Song snapshots on one or more outputs. Ticks in, ticks out.

    ``stop()`` halts and rewinds to the tick where play last started; ``pause()`` halts
    where it is. Both release every sounding note before they return.
    """

    def __init__(self, output: Output | None = None, song: Song | None = None,
                 config: SchedulerConfig = SchedulerConfig(), clock: Clock | None = None) -> None:
        """``clock``: seconds on a monotonic scale for every deadline (default
        ``time.perf_counter``; tests pass a ``ManualClock``)."""
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._song = song if song is not None else Song()
        self._options = EventOptions()
        self._loop: tuple[int, int] | None = None
        self._open_end = False
        self._closed = False
        self._sched = Scheduler(compile_song(self._song, self._options), config, self._dispatch,
                                **({"clock": clock} if clock is not None else {}))
        self._compiler = SnapshotCompiler(self._deliver, self._compile_failed)
        if output is not None:
            self.set_output(output)
        atexit.register(_close_at_exit, weakref.ref(self))

    # ----- song ---------------------------------------------------------------------------
    def set_song(self, song: Song) -> None:
        """Play ``song`` from now on; while playing the swap is seamless (held notes go on).

        Returns at once: the engine's compile thread compiles the snapshot (a burst of calls
        compiles once, for the newest song) and the scheduler swaps it in a few ms later.
        ``play`` waits for it, so play always plays the newest song."""
        if not isinstance(song, Song):
            raise EngineError(f"set_song needs a Song, got {type(song).__name__}")
        if self._closed:
            raise EngineError("the transport is closed")
        with self._lock:
            self._song = song
        self._recompile()

    def wait_compiled(self, timeout: float = 10.0) -> bool:
        """Block until every song/option change so far is compiled and handed to the
        scheduler; False on timeout."""
        return self._compiler.flush(timeout)

    @property
    def song(self) -> Song:
        return self._song

    # ----- transport ----------------------------------------------------------------------
    def play(self, from_tick: float | None = None, at: float | None = None) -> None:
        """Start playing at ``from_tick`` (default: where the playhead is); seeks if playing.
        ``at``: the ``time.perf_counter()`` value at which ``from_tick`` is to sound (after the
        count-in; e.g. on another device's beat), else as soon as possible."""
        tick = None if from_tick is None else self._check_tick(from_tick)
        self._compiler.flush()  # the newest song first (nothing to wait for unless just edited)
        self._call(lambda: self._sched.cmd_play(tick, at))

    def stop(self) -> None:
        """Stop, release every note, and rewind to where play last started."""
        self._call(lambda: self._sched.cmd_stop(rewind=True))

    def pause(self) -> None:
        """Stop and release every note, keeping the playhead where it is."""
        self._call(lambda: self._sched.cmd_stop(rewind=False))

    def seek(self, tick: float) -> None:
        """Move the playhead to ``tick``; while playing, sounding notes are released first."""
        tick = self._check_tick(tick)
        self._call(lambda: self._sched.cmd_seek(tick))

    def set_loop(self, start_tick: int | None, end_tick: int | None = None) -> None:
        """Loop ``[start_tick, end_tick)`` while the playhead is before ``end_tick``; None: off."""
        if start_tick is None:
            loop = None
        else:
            if end_tick is None:
                raise EngineError("set_loop needs an end tick")
            start, end = int(self._check_tick(start_tick)), int(self._check_tick(end_tick))
            if end <= start:
                raise EngineError(f"loop end {end} must be after its start {start}")
            loop = (start, end)
        with self._lock:
            self._loop = loop
        self._recompile()  # the scheduler takes the loop with the events compiled for it

    @property
    def loop(self) -> tuple[int, int] | None:
        return self._loop

    def set_metronome(self, on: bool) -> None:
        """Click every beat on GM drum channel 10 (accent on the bar)."""
        with self._lock:
            self._options = _replace(self._options, metronome=bool(on))
        self._recompile()

    def set_open_end(self, on: bool) -> None:
        """Keep playing past the song's end until stopped (while recording), with metronome and
        clock going on for ``OPEN_END_BARS`` more bars; off: end as usual."""
        with self._lock:
            changed, self._open_end = self._open_end != bool(on), bool(on)
        if changed and (self._options.metronome or self._options.clock):
            self._recompile()
        self._call(lambda: self._sched.cmd_set_open_end(bool(on)))

    def set_count_in(self, bars: int) -> None:
        """Bars of clicks before playback starts (0 = none)."""
        if not isinstance(bars, int) or not 0 <= bars <= 16:
            raise EngineError(f"count-in must be 0..16 bars, got {bars!r}")
        self._call(lambda: self._sched.cmd_set_count_in(bars))

    def set_clock_out(self, on: bool) -> None:
        """Send MIDI clock (24 per quarter), start/stop/continue and song position."""
        with self._lock:
            self._options = _replace(self._options, clock=bool(on))
        self._recompile()
        self._call(lambda: self._sched.cmd_set_clock_out(bool(on)))

    def position_ticks(self) -> float:
        """The playhead in ticks (cheap; call it from a UI timer)."""
        return self._sched.current_tick()

    @property
    def is_playing(self) -> bool:
        return self._sched.playhead.playing

    # ----- outputs ------------------------------------------------------------------------
    def set_output(self, output: Output | None) -> None:
        """Use only ``output`` from now on; the previous outputs are released and closed."""
        self.set_outputs([] if output is None else [output])

    def set_outputs(self, outputs: Sequence[Output]) -> None:
        """Play on all of ``outputs`` at once (e.g. a port and the built-in synth)."""
        outs = list(outputs)
        for out in outs:
            if not isinstance(out, Output):
                raise EngineError(f"not an output: {out!r}")
        self._call(lambda: self._sched.cmd_set_outputs(outs))

    def add_output(self, output: Output) -> None:
        self.set_outputs([*self.outputs(), output])

    def outputs(self) -> list[Output]:
        return self._call(self._sched.cmd_outputs)

    def send_now(self, message: Sequence[int]) -> None:
        """Send one message to every output right away (MIDI thru, controller moves)."""
        msg = check_message(message)
        self._call(lambda: self._sched.cmd_send_now(msg), wait=False)

    def note_on(self, pitch: int, velocity: int = 100, channel: int = 0) -> None:
        """Start a note now (piano-roll keyboard); pair it with ``note_off``."""
        self.send_now(note_on(_channel(channel), pitch, velocity))

    def note_off(self, pitch: int, channel: int = 0) -> None:
        self.send_now((0x80 | _channel(channel), pitch, 0))

    def audition(self, pitch: int, velocity: int = 100, seconds: float = 0.4,
                 channel: int = 0) -> None:
        """Play one note now for ``seconds`` (the engine sends its note-off)."""
        msg = check_message(note_on(_channel(channel), pitch, velocity))
        if not 0 < seconds <= 30:
            raise EngineError(f"audition length {seconds} s outside (0, 30]")
        self._call(lambda: self._sched.cmd_send_now(msg, off_after=seconds), wait=False)

    # ----- listeners and life -------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(TransportEvent)`` on state changes and errors (engine thread)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def tick_at(self, wall: float) -> float:
        """Song tick at ``time.perf_counter()`` value ``wall`` while playing (for recording)."""
        ph = self._sched.playhead
        if not ph.playing:
            return ph.rest_tick
        seconds = ph.anchor_seconds + (wall - ph.anchor_wall)
        return max(0.0, ph.events.song.seconds_to_tick(seconds))

    def wall_at(self, tick: float) -> float | None:
        """``time.perf_counter()`` value at which the playhead reaches ``tick`` while playing
        (inverse of ``tick_at``); None while stopped."""
        ph = self._sched.playhead
        if not ph.playing:
            return None
        return ph.anchor_wall + ph.events.song.tick_to_seconds(tick) - ph.anchor_seconds

    def cue(self, messages: Sequence[tuple[float, Sequence[int]]]) -> None:
        """Send each ``(wall, message)`` at ``wall`` (``time.perf_counter`` seconds) on every
        output, beside the song (a live answer). A new cue adds to the pending one; the song
        swapping under it leaves its notes sounding; stop and pause drop it."""
        items = [(float(wall), check_message(msg)) for wall, msg in messages]
        self._call(lambda: self._sched.cmd_cue(items), wait=False)

    def cancel_cue(self) -> None:
        """Drop what the cue has not sent yet and end its sounding notes at once."""
        self._call(self._sched.cmd_cancel_cue, wait=False)

    def close(self) -> None:
        """Stop, release every note, close every output and end the engine thread."""
        if self._closed:
            return
        self._closed = True
        self._compiler.close()
        try:
            self._sched.post(self._sched.cmd_close)
        except RuntimeError:
            pass
        self._sched.join()

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- private ------------------------------------------------------------------------
    def _call(self, fn, wait: bool = True):
        if self._closed:
            raise EngineError("the transport is closed")
        return self._sched.post(fn, wait=wait)

    def _recompile(self) -> None:
        """Hand the current song, options and loop to the compile thread (returns at once)."""
        with self._lock:
            song, options, loop = self._song, self._options, self._loop
            until = loop[1] if loop else 0
            if self._open_end:
                until = max(until, song.end + OPEN_END_BARS * song.meters[-1].bar_ticks(song.ppq))
            self._compiler.submit(CompileJob(song, options, loop, until))

    def _deliver(self, compiled: Compiled) -> None:
        """Compile thread: queue the swap (and the loop it was made for) for the scheduler."""
        sched = self._sched

        def swap() -> None:
            sched.cmd_swap(compiled.events, compiled.spans)
            sched.cmd_set_loop(compiled.loop)

        try:
            sched.post(swap, wait=False)
        except RuntimeError:
            pass  # the engine thread has stopped (closing)

    def _compile_failed(self, err: Exception) -> None:
        self._dispatch(TransportEvent("error", self.position_ticks(), f"cannot play this song: {err}"))

    def _dispatch(self, event: TransportEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                pass

    @staticmethod
    def _check_tick(tick: float) -> float:
        try:
            value = float(tick)
        except (TypeError, ValueError):
            raise EngineError(f"tick must be a number, got {tick!r}") from None
        if not 0 <= value < 2**31:
            raise EngineError(f"tick {tick} outside 0..2^31")
        return value


def _channel(channel: int) -> int:
    if not isinstance(channel, int) or not 0 <= channel <= 15:
        raise EngineError(f"MIDI channel {channel!r} outside 0..15")
    return channel


def _replace(options: EventOptions, **changes) -> EventOptions:
    from dataclasses import replace

    return replace(options, **changes)


def _close_at_exit(ref: "weakref.ref[Transport]") -> None:
    transport = ref()
    if transport is not None:
        transport.close()

