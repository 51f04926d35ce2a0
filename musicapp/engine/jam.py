"""Jam: live call-and-response with a MIDI keyboard (Qt-free; the model is injected).

Owns the exchange in real time. The transport plays (count-in, metronome) and gives the
grid: ``tick_at(wall)``/``wall_at(tick)``. The player's notes arrive from a polled MIDI input
(``feed``, in the input's poll thread: it only records, echoes and wakes the others). A call
starts at the bar holding its first note and lasts ``bars`` bars, or, with ``on_pause``, until
no key has been down for ``pause_beats`` beats; the answer is due on the next bar line, lasts
as many bars and goes out as a transport *cue* (messages at absolute deadlines, sent by the
engine thread) on ``answer_channel``. Then it is the player's turn again.

Threads: a generation thread re-asks the model after every note-on and note-off of the call
(the newest request cancels the running one), so when the call ends the answer for exactly
that call is normally ready; a conductor thread wakes at the cue deadline (``lead_s`` before
the bar line), cues the answer, and ends it. If the answer is not ready by then it starts on
the first beat it can still make (``Exchange.shift``), never off the grid. A note-on during an
answer cancels the cue (the engine sends the note-offs at once) and starts the next call.
``stop`` cancels the cue too; the caller stops the transport, which releases everything.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Callable

from musicapp.core.song import Note
from musicapp.engine.events import note_off, note_on
from musicapp.engine.jam_parts import (
    Exchange, Generate, Grid, JamConfig, JamEvent, JamRequest, realtime_thread, answer_pitch_classes,
    answer_register, call_key, choose_answer, cut_answer, exchange_tracks, quantized_call,
)
from musicapp.engine.outputs import Message

now = time.perf_counter
#: an answer handed to the engine less than this long (seconds) before its bar line is late
LATE_MARGIN_S = 0.006
#: SCHED_FIFO priorities where allowed: below the engine thread (3) and JACK's threads, above
#: every normal thread, so a busy machine delays neither the cue nor the answer's generation
CONDUCTOR_PRIORITY, GEN_PRIORITY = 2, 1
#: how often (seconds) the session asks whether its input port still exists
ALIVE_EVERY_S = 1.0

__all__ = ["JamConfig", "JamEvent", "JamSession", "Exchange", "JamRequest", "Generate",
           "exchange_tracks"]


class JamSession:
    """One jam on a playing ``transport``, fed by ``source`` (a ``MidiInput``: add_handler,
    remove_handler, error), answered by ``generate``."""

    def __init__(self, transport, source, generate: Generate, config: JamConfig = JamConfig(),
                 listener: Callable[[JamEvent], None] | None = None) -> None:
        if not 1 <= config.bars <= config.max_bars:
            raise ValueError(f"a call lasts 1..{config.max_bars} bars, not {config.bars}")
        self.transport, self.source, self.generate, self.config = transport, source, generate, config
        self._listener = listener
        self.grid = Grid(transport.song)
        self._cond = threading.Condition()
        self._exchanges: list[Exchange] = []
        self._state = "listen"  # listen -> call -> answer -> listen
        self._held: dict[tuple[int, int], tuple[int, int, Exchange]] = {}  # key -> start, velocity, exchange
        self._last_off = 0.0  # wall of the last note-off of the call
        self._version = 0  # bumped whenever the call changes
        self._gen_version = 0
        self._cancel = threading.Event()
        self._result: tuple[JamRequest, list[list[Note]], float] | None = None
        self._answer_end = 0.0  # wall when the playing answer is over
        self._closing = False
        self._next_alive = 0.0
        self._threads = [threading.Thread(target=self._generate_loop, name="musicapp-jam-gen", daemon=True),
                         threading.Thread(target=self._conduct, name="musicapp-jam", daemon=True)]

    # ----- life ---------------------------------------------------------------------------
    def start(self) -> None:
        """Listen to the input and answer (the transport must be playing)."""
        for th in self._threads:
            th.start()
        self.source.add_handler(self.feed)

    def stop(self, reason: str = "") -> None:
        """Stop answering: the answer playing is cut, held keys end the call. Safe twice."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cancel.set()
            tick = self._tick(now())
            if self._state == "answer":
                self._cut(tick)
            held = list(self._held)
            for (_ch, pitch), (start, vel, ex) in self._held.items():
                ex.call.append(Note(start, pitch, max(1, int(tick) - start), vel))
            self._held.clear()
        if self.config.thru_channel is not None:  # keys echoed and not yet released
            for _ch, pitch in held:
                self._send_now(note_off(self.config.thru_channel, pitch))
        with self._cond:
            self._cond.notify_all()
        self.source.remove_handler(self.feed)
        self._cancel_cue()
        for th in self._threads:
            if th.is_alive() and th is not threading.current_thread():
                th.join(2.0)
        self._emit([JamEvent("stopped", len(self._exchanges) - 1, reason)])

    @property
    def running(self) -> bool:
        return not self._closing

    def exchanges(self) -> list[Exchange]:
        """Copies of the exchanges so far (calls and answers in song ticks)."""
        with self._cond:
            return [replace(e, call=sorted(e.call), answer=list(e.answer), planned=list(e.planned))
                    for e in self._exchanges]

    @property
    def state(self) -> str:
        return self._state

    # ----- input (poll thread) ------------------------------------------------------------
    def feed(self, wall: float, msg: Message) -> None:
        """``MidiInput`` handler: the player's messages with their arrival time."""
        if len(msg) < 2 or msg[0] >= 0xF0 or self._closing:
            return
        kind, ch = msg[0] & 0xF0, msg[0] & 0x0F
        thru = self.config.thru_channel
        events: list[JamEvent] = []
        with self._cond:
            if self._closing:  # checked with the echo under the lock: a stop running now
                return  # releases every echoed key it knows, and it knows this one or none
            if thru is not None and kind in (0x80, 0x90, 0xB0, 0xE0):
                self._send_now(((kind | thru), *msg[1:]))  # queued to the engine, not blocking
            if kind not in (0x80, 0x90) or len(msg) < 3:
                return
            tick = self._tick(wall)
            key = (ch, msg[1])
            if kind == 0x90 and msg[2] > 0:
                self._note_on(key, msg[2], wall, tick, events)
            elif key in self._held:
                start, vel, ex = self._held.pop(key)
                ex.call.append(Note(start, msg[1], max(1, int(tick) - start), vel))
                self._last_off = wall
                if ex is self._current and self._state == "call":
                    self._changed()
        self._emit(events)

    def _note_on(self, key: tuple[int, int], velocity: int, wall: float, tick: float,
                 events: list[JamEvent]) -> None:
        q = self.grid.snap16(tick)
        if self._state == "answer":
            self._cut(tick)
            events.append(JamEvent("interrupted", len(self._exchanges) - 1))
            self._new_call(q, events)
        elif self._state == "listen":
            self._new_call(q, events)
        elif not self.config.on_pause and q >= (self._current.answer_due or 0):
            self._new_call(q, events)  # played on into the answer's bar: that is the next call
        if key in self._held:  # re-struck without a note-off: close the old one
            start, vel, ex = self._held.pop(key)
            ex.call.append(Note(start, key[1], max(1, int(tick) - start), vel))
        self._held[key] = (max(0, int(tick)), velocity, self._current)
        self._changed()

    def _new_call(self, q: int, events: list[JamEvent]) -> None:
        ex = Exchange(call_start=self.grid.bar_floor(max(0, q)))
        if not self.config.on_pause:
            ex.answer_due, ex.bars = self.grid.add_bars(ex.call_start, self.config.bars), self.config.bars
        self._exchanges.append(ex)
        self._state = "call"
        self._result = None
        events.append(JamEvent("call", len(self._exchanges) - 1))

    @property
    def _current(self) -> Exchange:
        return self._exchanges[-1]

    def _changed(self) -> None:
        self._version += 1
        self._cancel.set()  # the running generation is for an older call
        self._cond.notify_all()

    # ----- the model request --------------------------------------------------------------
    def _request(self, wall: float) -> JamRequest | None:
        """The request for the call as it stands at ``wall`` (lock held)."""
        if self._state != "call":
            return None
        ex = self._current
        if self.config.on_pause:
            start, bars = self._pause_answer(self._last_off if not self._held_in(ex) else wall)
        else:
            start, bars = ex.answer_due, ex.bars
        held = [Note(s, k[1], max(1, start - s), v) for k, (s, v, e) in self._held.items() if e is ex]
        played = [n for n in [*ex.call, *held] if self.grid.snap16(n.start) < start]
        seed = quantized_call(played, self.grid, start)
        if not seed:
            return None
        key, classes = self.config.key, None
        if key == "auto":
            previous = self._exchanges[-2].call if len(self._exchanges) > 1 else ()
            key = call_key(played, previous)  # as played: the seed's last note is stretched
            classes = answer_pitch_classes(played, key)
        return JamRequest(seed, start, bars, key, answer_register(seed), self.grid.meters, self.grid.ppq,
                          random_seed=len(self._exchanges), pitch_classes=classes)

    def _held_in(self, ex: Exchange) -> bool:
        return any(e is ex for _, _, e in self._held.values())

    def _pause_answer(self, last_off: float) -> tuple[int, int]:
        """(answer start, bars) if the call ends ``pause_beats`` after ``last_off`` (a wall)."""
        ex = self._current
        beat_s = self._beat_seconds(ex.call_start)
        ends = last_off + self.config.pause_beats * beat_s + self.config.lead_s + 0.005
        start = self.grid.bar_ceil(self._tick(ends))
        bars, t = 0, ex.call_start
        while t < start:
            t, bars = self.grid.add_bars(t, 1), bars + 1
        return start, max(1, min(self.config.max_bars, bars))

    def _beat_seconds(self, tick: int) -> float:
        w0, w1 = self._wall(tick), self._wall(tick + self.grid.beat_ticks(tick))
        return (w1 - w0) if w0 is not None and w1 is not None else 0.5

    # ----- generation thread --------------------------------------------------------------
    def _generate_loop(self) -> None:
        realtime_thread(GEN_PRIORITY)
        while True:
            with self._cond:
                while not self._closing and self._gen_version == self._version:
                    self._cond.wait()
                if self._closing:
                    return
                self._gen_version = self._version
                request = self._request(now())
                if request is None or (self._result is not None and self._result[0] == request):
                    continue
                self._cancel = cancel = threading.Event()
            try:
                candidates = [list(c) for c in self.generate(request, cancel)]
            except Exception as err:
                if not cancel.is_set():
                    self._emit([JamEvent("error", len(self._exchanges) - 1, f"generation failed: {err}")])
                continue
            if cancel.is_set():
                continue
            with self._cond:
                self._result = (request, candidates, now())
                self._cond.notify_all()

    # ----- conductor thread ---------------------------------------------------------------
    def _conduct(self) -> None:
        realtime_thread(CONDUCTOR_PRIORITY)
        while True:
            events: list[JamEvent] = []
            with self._cond:
                if self._closing:
                    return
                try:
                    timeout = self._step(events)
                except Exception as err:  # never leave the jam half running
                    timeout, events = None, [JamEvent("error", -1, f"jam failed: {err}")]
                if timeout is not None and events == []:
                    self._cond.wait(timeout)
            if timeout is None:
                self._emit(events)
                self.stop(events[-1].message if events else "")
                return
            self._emit(events)

    def _step(self, events: list[JamEvent]) -> float | None:
        """Do what is due (lock held); seconds until the next look, None to stop the jam."""
        error = getattr(self.source, "error", None)
        t = now()
        if not error and not self.transport.is_playing:
            return None
        if not error and t >= self._next_alive and hasattr(self.source, "is_alive") and self._quiet(t):
            self._next_alive = t + ALIVE_EVERY_S
            if not self.source.is_alive():
                error = f"MIDI input {getattr(self.source, 'name', '')!r} has gone away"
        if error:
            events.append(JamEvent("error", len(self._exchanges) - 1, error))
            return None
        if self._state == "answer":
            if t >= self._answer_end:
                self._state = "listen"
                events.append(JamEvent("done", len(self._exchanges) - 1))
                return 0.0
            return min(0.05, self._answer_end - t)
        if self._state != "call":
            return 0.05
        ex = self._current
        if self.config.on_pause and ex.answer_due is None:
            if self._held_in(ex) or not ex.call:
                return 0.05
            ends = self._last_off + self.config.pause_beats * self._beat_seconds(ex.call_start)
            if t < ends:
                return min(0.05, ends - t)
            ex.answer_due, ex.bars = self._pause_answer(self._last_off)
        due = self._wall(ex.answer_due) - self.config.lead_s
        if t < due:
            return min(0.05, due - t)
        request = self._request(due)
        if request is None:  # nothing to answer (every note began in the answer's bar)
            self._state = "listen"
            return 0.05
        if self._result is None or self._result[0] != request:
            if self._gen_version != self._version:
                self._cond.notify_all()
            return 0.05  # still generating: woken when it is done
        _, candidates, ready = self._result
        bar_wall = due + self.config.lead_s
        ex.ready_s = bar_wall - ready
        shift = 0
        if t > bar_wall - LATE_MARGIN_S:  # late: the first beat still reachable, never off the grid
            shift = self.grid.beat_ceil(self._tick(t + self.config.lead_s)) - ex.answer_due
            events.append(JamEvent("late", len(self._exchanges) - 1,
                                   f"answer {ex.ready_s * -1000:.0f} ms late, starts {shift} ticks later"))
        ex.shift, ex.key = shift, request.key
        notes = choose_answer(request.seed, ex.call_start, candidates, request.start_tick)
        ex.planned = [n.moved(dt=shift) for n in notes]
        self._cue(ex.planned)
        self._answer_end = self._wall(self.grid.add_bars(ex.answer_due, ex.bars) + shift)
        ex.answer = list(ex.planned)
        self._state = "answer"
        events.append(JamEvent("answer", len(self._exchanges) - 1))
        return 0.0

    def _quiet(self, t: float) -> bool:
        """Whether nothing is due soon (a port question holds the GIL for milliseconds)."""
        if self._state == "call" and self._current.answer_due is not None:
            return self._wall(self._current.answer_due) - t > 0.2
        return True

    # ----- output ---------------------------------------------------------------------------
    def _cue(self, notes: list[Note]) -> None:
        ch = self.config.answer_channel
        items: list[tuple[float, int, Message]] = []
        for n in notes:
            items.append((self._wall(n.start), 1, note_on(ch, n.pitch, n.velocity)))
            items.append((self._wall(n.end), 0, note_off(ch, n.pitch)))
        items.sort(key=lambda x: (x[0], x[1]))
        try:
            self.transport.cue([(w, m) for w, _, m in items])
        except Exception as err:
            raise RuntimeError(f"cannot play the answer: {err}") from None

    def _cut(self, tick: float) -> None:
        """The player cut in at ``tick`` (lock held): the rest of the answer never sounds."""
        ex = self._current
        # a key a few ms before the answer's last bar line is the next call, not a cut
        ex.interrupted = self.grid.snap16(tick) < self._tick(self._answer_end) - 1
        ex.answer = cut_answer(ex.planned, tick)
        self._cancel_cue()
        self._state = "listen"

    def _cancel_cue(self) -> None:
        try:
            self.transport.cancel_cue()
        except Exception:
            pass  # the transport is closing: it releases every note itself

    def _send_now(self, msg: Message) -> None:
        try:
            self.transport.send_now(msg)
        except Exception:
            pass

    def _tick(self, wall: float) -> float:
        return self.transport.tick_at(wall)

    def _wall(self, tick: float) -> float:
        wall = self.transport.wall_at(tick)
        if wall is None:
            raise RuntimeError("the transport stopped")
        return wall

    def _emit(self, events: list[JamEvent]) -> None:
        if self._listener is None:
            return
        for event in events:
            try:
                self._listener(event)
            except Exception:
                pass

