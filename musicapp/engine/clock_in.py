"""Incoming MIDI clock: the tempo and beat of another device (a drum machine, a DAW) to play to.

Owns reading MIDI clock from an input: ``ClockFollower.feed`` is a ``MidiInput`` handler (open
the input with ``InputConfig(ignore_clock=False)``) that keeps the arrival times of the clock
pulses (24 per quarter note) since the last Start; ``tempo_bpm`` fits a line to them (robust
to the poll thread's late, bunched stamps), and ``next_beat``
predicts the wall time (``time.perf_counter``) of a coming beat: counted from the last Start
when one was seen (beat 1 of the master's bar then falls on a whole bar), else from the first
pulse heard.
"""

from __future__ import annotations

import threading
from collections import deque

from musicapp.engine.outputs import Message

PULSES_PER_BEAT = 24
CLOCK, START, CONTINUE, STOP = 0xF8, 0xFA, 0xFB, 0xFC


class ClockFollower:
    """Collects clock pulses; thread-safe (fed by the input's poll thread)."""

    def __init__(self, keep: int = 24 * 16) -> None:
        self._lock = threading.Lock()
        self._pulses: deque[tuple[int, float]] = deque(maxlen=keep)  # (pulse number, wall)
        self._count = 0  # pulses since the last Start (or since the first heard)
        self.started = False  # a Start was seen: pulse 0 is the master's downbeat
        self.running = False

    def feed(self, wall: float, msg: Message) -> None:
        status = msg[0] if msg else 0
        with self._lock:
            if status == CLOCK:
                self._pulses.append((self._count, wall))
                self._count += 1
                self.running = True
            elif status == START:
                self._pulses.clear()
                self._count, self.started, self.running = 0, True, True
            elif status == CONTINUE:
                self.running = True
            elif status == STOP:
                self.running = False

    def forget(self) -> None:
        """Drop the pulses kept so far (their times were poor: the poll thread was starved,
        e.g. while a model loaded), keeping the count since Start (the bar phase)."""
        with self._lock:
            self._pulses.clear()

    def _line(self, min_pulses: int) -> tuple[float, float] | None:
        """(wall of pulse 0, seconds per pulse) fitted to the pulses kept, or None.

        A pulse is only ever stamped late (the poll thread waited for the GIL or a core), and
        late ones come in bunches, so the slope is the median over one-beat spans and the line
        is laid along the earliest stamps (their 10th percentile), not through the middle."""
        with self._lock:
            pulses = list(self._pulses)
        if len(pulses) < min_pulses:
            return None
        span = min(PULSES_PER_BEAT, len(pulses) - 1)
        rates = sorted((pulses[i + span][1] - pulses[i][1]) / (pulses[i + span][0] - pulses[i][0])
                       for i in range(len(pulses) - span))
        per_pulse = rates[len(rates) // 2]
        if per_pulse <= 0:
            return None
        origins = sorted(w - p * per_pulse for p, w in pulses)
        return origins[len(origins) // 10], per_pulse

    def tempo_bpm(self, min_pulses: int = 12) -> float | None:
        """The master's tempo from the pulses kept, or None with fewer than ``min_pulses``."""
        line = self._line(min_pulses)
        return None if line is None else 60.0 / (line[1] * PULSES_PER_BEAT)

    def next_beat(self, after: float, beats_per_bar: int = 4, on_bar: bool = True) -> float | None:
        """Wall time of the first beat (bar line, with ``on_bar`` and a Start seen) after
        ``after``, extrapolated from the pulses kept; None without a tempo."""
        line = self._line(12)
        if line is None:
            return None
        w0, per_pulse = line
        step = PULSES_PER_BEAT * (beats_per_bar if on_bar and self.started else 1)
        k = int((after - w0) / (per_pulse * step)) + 1
        return w0 + k * step * per_pulse
