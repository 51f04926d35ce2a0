"""The scheduler thread: plays an ``EventList`` against absolute deadlines on a monotonic clock.

Owns everything that happens in real time: when each message goes out, loop wraps, the song
end, count-in clicks, auditioned notes, MIDI clock start/stop/continue and song position,
swapping in a new snapshot mid-play, dropping an output that failed or vanished, sending the
chase (programs and controller state, ``EventList.chase``) before playing from anywhere,
playing on past the song's end while recording (open end), a *cue* beside the song (messages at
absolute deadlines, e.g. a jam's answer: cancelled at once with note-offs for what it has
sounding, left alone by snapshot swaps), and releasing every sounding note on each stop path.
Only this thread touches the outputs.

Timing: each deadline is ``anchor_wall + (event_seconds - anchor_seconds)`` on
``time.perf_counter`` (monotonic); nothing is ever summed. The thread sleeps with the GIL
released until ``spin_s`` before the deadline, then busy-waits the tail (a realtime thread
that keeps its CPU is not at the mercy of timer wake-up latency). Other threads talk
to it only through ``post`` (a queue of callables run in this thread) and read the playhead
from one immutable tuple that is replaced atomically.
"""

from __future__ import annotations

import collections
import gc
import heapq
import itertools
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

from musicapp.engine.events import EventList, Message, count_in_clicks, note_off
from musicapp.engine.outputs import Output

Clock = Callable[[], float]  # seconds on a monotonic scale (``time.perf_counter`` by default)


class ManualClock:
    """A clock that moves only when told (tests): ``advance(seconds)`` moves it and wakes the
    scheduler attached to it, which then sends whatever has come due. Use it with
    ``SchedulerConfig(spin_s=0)`` so the scheduler never busy-waits on it."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)
        self._wakers: list[threading.Event] = []

    def __call__(self) -> float:
        return self._t

    def attach(self, wake: threading.Event) -> None:
        self._wakers.append(wake)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._t += seconds
        for wake in self._wakers:
            wake.set()


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """Timing knobs (seconds)."""

    spin_s: float = 0.0015  # busy-wait this long before each deadline
    start_lead_s: float = 0.005  # play() starts this far in the future so the first note is on time
    liveness_every_s: float = 0.5  # how often outputs are asked whether their port still exists
    liveness_gap_s: float = 0.05  # ... but only when the next deadline is this far away (after 4
    # missed turns, 15 ms will do): the question blocks on the MIDI server with the GIL held
    switch_interval_s: float | None = 0.0002  # sys.setswitchinterval while the engine runs
    freeze_gc: bool = True  # gc.freeze() at play: collections stay small (no 100 ms pauses)
    realtime_priority: bool = True  # try SCHED_FIFO for the scheduler thread (silently skipped
    # without the right; MUSICAPP_NO_REALTIME=1 turns it off)
    fifo_priority: int = 3  # below JACK's realtime threads (server 10, clients 5 by default), so the
    # busy-wait tail never delays the MIDI server; above every normal thread and process


@dataclass(frozen=True, slots=True)
class TransportEvent:
    """What listeners receive: ``kind`` is playing, paused, stopped, ended, error or output."""

    kind: str
    tick: float
    message: str = ""


class Playhead(NamedTuple):
    """Published state: where the song is; replaced whole, read without a lock."""

    playing: bool
    anchor_wall: float  # perf_counter seconds at which the song is at anchor_seconds
    anchor_seconds: float
    rest_tick: float  # position while not playing
    events: EventList


class Scheduler:
    """The engine thread. Methods prefixed ``_cmd_`` run in that thread only."""

    def __init__(self, events: EventList, config: SchedulerConfig,
                 notify: Callable[[TransportEvent], None], clock: Clock = time.perf_counter) -> None:
        self.config = config
        self.now = clock  # deadlines and the playhead are on this clock
        self._notify = notify
        self._queue: collections.deque = collections.deque()
        self._wake = threading.Event()
        self._events = events
        self._index = 0
        self._outputs: list[Output] = []
        self._timed: list[tuple[float, int, Message]] = []
        self._cued: list[tuple[float, int, Message]] = []  # a cue: messages at absolute walls
        self._cue_sounding: dict[tuple[int, int], int] = {}  # its notes on now (channel, pitch)
        self._seq = itertools.count()
        self._loop: tuple[int, int] | None = None
        self._loop_active = False
        self._clock_out = False
        self._start_tick = 0.0
        self._count_in_bars = 0
        self._open_end = False  # keep playing past the song's end (recording)
        self._next_liveness = 0.0
        self._closing = False
        self.playhead = Playhead(False, 0.0, 0.0, 0.0, events)
        self._saved_switch = sys.getswitchinterval()
        if config.switch_interval_s:
            sys.setswitchinterval(config.switch_interval_s)
        if isinstance(clock, ManualClock):
            clock.attach(self._wake)
        self._thread = threading.Thread(target=self._run, name="musicapp-engine", daemon=True)
        self._thread.start()

    # ----- cross-thread entry -------------------------------------------------------------
    def post(self, fn: Callable[[], object], wait: bool = True, timeout: float = 2.0) -> object:
        """Run ``fn`` in the engine thread; with ``wait``, block until done and return its result."""
        if threading.current_thread() is self._thread:
            return fn()
        if not self._thread.is_alive():
            raise RuntimeError("the engine thread has stopped")
        done = threading.Event()
        box: list = []
        self._queue.append((fn, done, box))
        self._wake.set()
        if wait:
            done.wait(timeout)
            if box and isinstance(box[0], BaseException):
                raise box[0]
            return box[0] if box else None
        return None

    def join(self, timeout: float = 2.0) -> None:
        self._thread.join(timeout)
        if self.config.switch_interval_s:
            sys.setswitchinterval(self._saved_switch)

    # ----- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        if self.config.realtime_priority and not os.environ.get("MUSICAPP_NO_REALTIME"):
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.config.fifo_priority))
            except (AttributeError, OSError):
                pass
        cfg = self.config
        spin = cfg.spin_s
        now = self.now
        while True:
            self._wake.clear()
            self._run_commands()
            if self._closing:
                return
            deadline, fire = self._next_deadline()
            if deadline is None:
                self._wake.wait()
                continue
            t = now()
            remaining = deadline - t
            if remaining > spin:
                if t >= self._next_liveness and (remaining > cfg.liveness_gap_s or (
                        remaining > 0.015 and t >= self._next_liveness + 4 * cfg.liveness_every_s)):
                    self._check_outputs()
                    continue
                self._wake.wait(remaining - spin)
                continue
            while now() < deadline:
                pass
            fire(deadline)

    def _run_commands(self) -> None:
        while self._queue:
            fn, done, box = self._queue.popleft()
            try:
                box.append(fn())
            except BaseException as err:  # returned to the caller, never kills the thread
                box.append(err)
            done.set()

    def _next_deadline(self):
        """(wall deadline, handler) of the next thing due, or (None, None) when idle."""
        best: tuple[float, Callable[[float], None]] | None = None
        if self._timed:
            best = (self._timed[0][0], self._fire_timed)
        if self._cued and (best is None or self._cued[0][0] < best[0]):
            best = (self._cued[0][0], self._fire_cued)
        ph = self.playhead
        if ph.playing:
            ev = self._events
            base = ph.anchor_wall - ph.anchor_seconds
            limit = self._loop[1] if self._loop_active else None
            i = self._index
            if i < len(ev) and (limit is None or ev.ticks[i] < limit):
                wall = base + ev.seconds[i]
                if best is None or wall < best[0]:
                    best = (wall, self._fire_events)
            elif limit is not None:
                wall = base + ev.song.tick_to_seconds(limit)
                if best is None or wall < best[0]:
                    best = (wall, self._fire_wrap)
            elif not self._open_end:
                wall = base + ev.song.tick_to_seconds(ev.end_tick)
                if best is None or wall < best[0]:
                    best = (wall, self._fire_end)
        return best if best else (None, None)

    # ----- firing -------------------------------------------------------------------------
    def _fire_events(self, deadline: float) -> None:
        ev, i = self._events, self._index
        t = ev.seconds[i]
        while i < len(ev) and ev.seconds[i] == t:
            if self._loop_active and ev.ticks[i] >= self._loop[1]:
                break
            self._send(ev.messages[i])
            i += 1
        self._index = i

    def _fire_timed(self, deadline: float) -> None:
        while self._timed and self._timed[0][0] <= deadline:
            _, _, msg = heapq.heappop(self._timed)
            self._send(msg)

    def _fire_cued(self, deadline: float) -> None:
        while self._cued and self._cued[0][0] <= deadline:
            _, _, msg = heapq.heappop(self._cued)
            self._send(msg)
            kind, key = msg[0] & 0xF0, (msg[0] & 0x0F, msg[1] if len(msg) > 1 else 0)
            if kind == 0x90 and msg[2] > 0:
                self._cue_sounding[key] = self._cue_sounding.get(key, 0) + 1
            elif kind in (0x80, 0x90) and key in self._cue_sounding:
                left = self._cue_sounding.pop(key) - 1
                if left > 0:
                    self._cue_sounding[key] = left

    def _fire_wrap(self, deadline: float) -> None:
        start, _ = self._loop
        self._release()
        ev = self._events
        for msg in ev.chase(start):  # cached: Transport computes it when it compiles a snapshot
            self._send(msg)
        self._index = ev.index_at_tick(start)
        self._publish(True, deadline, ev.song.tick_to_seconds(start), start)
        if self._clock_out:
            self._send_clock_position(start, continuing=True)

    def _fire_end(self, deadline: float) -> None:
        end = self._events.end_tick
        self._halt(end)
        self._emit("ended", end)

    # ----- sending ------------------------------------------------------------------------
    def _send(self, msg: Message) -> None:
        for out in list(self._outputs):
            try:
                out.send(msg)
            except Exception as err:
                self._drop_output(out, f"MIDI output {out.name!r} failed: {err}")

    def _drop_output(self, out: Output, message: str) -> None:
        if out in self._outputs:
            self._outputs.remove(out)
        try:
            out.close()
        except Exception:
            pass
        self._emit("error", self.current_tick(), message)
        if not self._outputs and self.playhead.playing:
            self._halt(self.current_tick())
            self._emit("stopped", self.current_tick(), "playback stopped: no output left")

    def _check_outputs(self) -> None:
        """Ask each output whether its port still exists; drop the ones that have gone.

        The question goes to the MIDI server (milliseconds when it is busy) while python-rtmidi
        holds the GIL, so no other thread could run this safely during playback either: the
        loop asks only when the next deadline is at least ``liveness_gap_s`` away.
        """
        self._next_liveness = self.now() + self.config.liveness_every_s
        for out in list(self._outputs):
            try:
                alive = out.is_alive()
            except Exception:
                alive = False
            if not alive:
                self._drop_output(out, f"MIDI port {out.name!r} has gone away")

    def _release(self) -> None:
        """Every stop path ends here: pending timed and cued messages dropped, every output
        released."""
        self._timed.clear()
        self._cued.clear()
        self._cue_sounding.clear()
        for out in list(self._outputs):
            try:
                out.release_all()
            except Exception as err:
                self._drop_output(out, f"MIDI output {out.name!r} failed: {err}")

    def _send_clock_position(self, tick: float, continuing: bool) -> None:
        """Song position pointer (in 16ths) then start (at 0) or continue."""
        sixteenths = int(tick * 4 // self._events.song.ppq) & 0x3FFF
        if continuing:
            self._send((0xFC,))
        if sixteenths == 0 and not continuing:
            self._send((0xF2, 0, 0))
            self._send((0xFA,))
        else:
            self._send((0xF2, sixteenths & 0x7F, sixteenths >> 7))
            self._send((0xFB,))

    # ----- state --------------------------------------------------------------------------
    def _publish(self, playing: bool, wall: float, seconds: float, rest: float) -> None:
        self.playhead = Playhead(playing, wall, seconds, rest, self._events)

    def current_tick(self) -> float:
        """Playhead in ticks (any thread)."""
        ph = self.playhead
        if not ph.playing:
            return ph.rest_tick
        seconds = ph.anchor_seconds + (self.now() - ph.anchor_wall)
        if seconds <= ph.anchor_seconds:
            return ph.rest_tick
        return max(0.0, ph.events.song.seconds_to_tick(seconds))

    def _halt(self, rest_tick: float) -> None:
        was_playing = self.playhead.playing
        self._release()
        self._publish(False, 0.0, 0.0, rest_tick)
        if was_playing and self._clock_out:
            self._send((0xFC,))

    def _emit(self, kind: str, tick: float, message: str = "") -> None:
        try:
            self._notify(TransportEvent(kind, tick, message))
        except Exception:
            pass  # a broken listener must not stop the music

    def _anchor_at(self, tick: float, extra_delay: float = 0.0) -> float:
        """Start playing ``tick`` at now + lead + ``extra_delay``; returns that wall time."""
        ev = self._events
        wall = self.now() + self.config.start_lead_s + extra_delay
        self._index = ev.index_at_tick(tick)
        self._loop_active = self._loop is not None and tick < self._loop[1]
        self._publish(True, wall, ev.song.tick_to_seconds(tick), tick)
        return wall

    # ----- commands (engine thread) -------------------------------------------------------
    def cmd_play(self, tick: float | None, at: float | None = None) -> None:
        """Play from ``tick``; with ``at`` (a wall time), ``tick`` sounds then, after the
        count-in (as soon as possible if that is too soon)."""
        if self.playhead.playing:
            if tick is not None:
                self.cmd_seek(tick)
            return
        tick = self.playhead.rest_tick if tick is None else tick
        self._start_tick = tick
        if self.config.freeze_gc:
            gc.freeze()  # a full scan of a torch-sized heap holds the GIL for 100s of ms
        for msg in self._events.chase(tick):
            self._send(msg)
        count_len, clicks = 0.0, []
        if self._count_in_bars:
            count_len, clicks = count_in_clicks(self._events.song, int(tick), self._count_in_bars)
        extra = count_len
        if at is not None:
            extra = max(count_len, at - self.now() - self.config.start_lead_s)
        wall = self._anchor_at(tick, extra)
        for offset, msg in clicks:
            heapq.heappush(self._timed, (wall - count_len + offset, next(self._seq), msg))
        if self._clock_out:
            self._send_clock_position(tick, continuing=False)
        self._emit("playing", tick)

    def cmd_stop(self, rewind: bool) -> None:
        tick = self._start_tick if rewind else self.current_tick()
        was_playing = self.playhead.playing
        self._halt(tick)
        if was_playing:
            self._emit("stopped" if rewind else "paused", tick)

    def cmd_seek(self, tick: float) -> None:
        if not self.playhead.playing:
            self._publish(False, 0.0, 0.0, tick)
            self._start_tick = tick
            return
        self._release()
        for msg in self._events.chase(tick):
            self._send(msg)
        self._anchor_at(tick)
        if self._clock_out:
            self._send_clock_position(tick, continuing=True)

    def cmd_swap(self, events: EventList, spans=None) -> None:
        """New snapshot: keep notes the new song still holds here, silence the others.

        ``spans`` (``compiler.note_spans`` of the new song, made on the compile thread) lets
        the check look up only the sounding keys instead of walking every note here."""
        ph = self.playhead
        tick = self.current_tick()
        self._events = events
        if not ph.playing:
            self._publish(False, 0.0, 0.0, ph.rest_tick)
            return
        seconds = events.song.tick_to_seconds(tick)
        wall = self.now() if self.now() > ph.anchor_wall else ph.anchor_wall
        self._index = events.index_after_seconds(seconds)
        self._publish(True, wall, seconds, ph.rest_tick)
        if spans is not None:
            from musicapp.engine.compiler import sounds_at

            def still_held(key) -> bool:
                return sounds_at(spans, key, tick)
        else:
            held = _held_at(events, tick)

            def still_held(key) -> bool:
                return key in held
        for out in list(self._outputs):
            for ch, pitch in out.sounding_notes():
                if not still_held((ch, pitch)) and (ch, pitch) not in self._cue_sounding:
                    try:
                        out.send(note_off(ch, pitch))
                    except Exception as err:
                        self._drop_output(out, f"MIDI output {out.name!r} failed: {err}")
        self._loop_active = self._loop is not None and tick < self._loop[1]

    def cmd_set_loop(self, loop: tuple[int, int] | None) -> None:
        self._loop = loop
        self._loop_active = loop is not None and self.current_tick() < loop[1]

    def cmd_set_outputs(self, outputs: list[Output]) -> None:
        for out in self._outputs:
            if out not in outputs:
                try:
                    out.close()
                except Exception:
                    pass
        self._outputs = list(outputs)
        if self.playhead.playing:
            for msg in self._events.chase(self.current_tick()):
                self._send(msg)

    def cmd_outputs(self) -> list[Output]:
        return list(self._outputs)

    def cmd_set_open_end(self, on: bool) -> None:
        self._open_end = on

    def cmd_set_count_in(self, bars: int) -> None:
        self._count_in_bars = bars

    def cmd_set_clock_out(self, on: bool) -> None:
        self._clock_out = on

    def cmd_send_now(self, msg: Message, off_after: float | None = None) -> None:
        self._send(msg)
        if off_after is not None:
            off = (0x80 | (msg[0] & 0x0F), msg[1], 0)
            heapq.heappush(self._timed, (self.now() + off_after, next(self._seq), off))

    def cmd_cue(self, items: list[tuple[float, Message]]) -> None:
        """Send each message at its wall time (``perf_counter`` seconds), playing or not."""
        for wall, msg in items:
            heapq.heappush(self._cued, (wall, next(self._seq), msg))

    def cmd_cancel_cue(self) -> None:
        """Drop the cue's pending messages and end the notes it has sounding, now."""
        self._cued.clear()
        sounding, self._cue_sounding = self._cue_sounding, {}
        for (ch, pitch), n in sorted(sounding.items()):
            for _ in range(n):
                self._send(note_off(ch, pitch))

    def cmd_close(self) -> None:
        self._halt(self.current_tick())
        for out in self._outputs:
            try:
                out.close()
            except Exception:
                pass
        self._outputs = []
        self._closing = True


def _held_at(events: EventList, tick: float) -> set[tuple[int, int]]:
    """(channel, pitch) of notes in ``events.song`` that sound at ``tick``."""
    from musicapp.engine.events import audible_tracks

    return {(t.channel, n.pitch) for t in audible_tracks(events.song) for n in t.notes
            if n.start <= tick < n.end}
