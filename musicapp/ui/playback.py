"""Thin Qt adapter over the engine's Transport (injected by app.py; the UI never imports engine).

Owns the bridge between threads: transport listener callbacks arrive on the engine thread
and only put the event on a thread-safe queue (no Qt call off the main thread); a QTimer on
the main thread drains it and polls the playhead while playing (``position_ticks`` is cheap),
and a slow idle timer drains it otherwise. Keeps the transport's song snapshot in
step with the document. Without a transport every verb is a no-op and ``available`` is False,
so the window disables the transport actions instead of showing dead buttons.
"""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from musicapp.core.errors import MusicappError
from musicapp.ui.document import Document

if TYPE_CHECKING:  # types only: the object itself is injected
    from musicapp.engine.transport import Transport

POLL_MS = 30  # playhead refresh while playing
IDLE_MS = 200  # event drain while stopped


class Playback(QObject):
    """Play/stop/seek/loop/metronome and audition through an optional Transport."""

    position_changed = Signal(float)  # ticks
    playing_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, document: Document, transport: "Transport | None" = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.transport = transport
        self._playing = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._idle = QTimer(self)
        self._idle.setInterval(IDLE_MS)
        self._idle.timeout.connect(self._drain)
        document.song_changed.connect(self._push_song)
        self._closed = False
        if transport is not None:
            transport.add_listener(self._from_engine)
            self._idle.start()
            self._push_song()

    @property
    def available(self) -> bool:
        return self.transport is not None

    @property
    def is_playing(self) -> bool:
        return self._playing

    def _guard(self, fn, *args) -> Any:
        if self.transport is None:
            return None
        try:
            return fn(*args)
        except MusicappError as err:
            self.error.emit(str(err))
            return None

    # ----- verbs ------------------------------------------------------------------------------
    def play(self, from_tick: float | None = None) -> None:
        if self.transport is None:
            return
        self._guard(self.transport.play, from_tick)
        self._set_playing(True)

    def stop(self) -> None:
        """Stop and rewind to where play started (the engine releases all notes)."""
        if self.transport is None:
            return
        self._guard(self.transport.stop)
        self._set_playing(False)
        self.position_changed.emit(self.transport.position_ticks())

    def toggle(self, from_tick: float | None = None) -> None:
        if self._playing:
            self.stop()
        else:
            self.play(from_tick)

    def seek(self, tick: float) -> None:
        self._guard(self.transport.seek if self.transport else None, tick)

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        if self.transport is None:
            return
        if loop is None:
            self._guard(self.transport.set_loop, None)
        else:
            self._guard(self.transport.set_loop, loop[0], loop[1])

    def set_count_in(self, bars: int) -> None:
        """Bars of clicks before the next play starts (0 = none)."""
        if self.transport is not None:
            self._guard(self.transport.set_count_in, bars)

    def set_open_end(self, on: bool) -> None:
        """Play on past the song's end until stopped (recording); off: stop at the end."""
        if self.transport is not None:
            self._guard(self.transport.set_open_end, on)

    def set_metronome(self, on: bool) -> None:
        if self.transport is not None:
            self._guard(self.transport.set_metronome, bool(on))

    def set_clock_out(self, on: bool) -> None:
        """Send MIDI clock, start/stop/continue and song position while playing."""
        if self.transport is not None:
            self._guard(self.transport.set_clock_out, bool(on))

    def set_output(self, output) -> None:
        if self.transport is not None:
            self._guard(self.transport.set_output, output)

    def audition(self, pitch: int, velocity: int = 100, channel: int = 0) -> None:
        if self.transport is not None:
            self._guard(self.transport.audition, pitch, velocity, 0.4, channel)

    def position(self) -> float:
        return self.transport.position_ticks() if self.transport is not None else 0.0

    def close(self) -> None:
        """Stop polling and detach from the transport (call before the window goes away)."""
        self._timer.stop()
        self._idle.stop()
        self._closed = True
        if self.transport is not None:
            self.transport.remove_listener(self._from_engine)

    def _from_engine(self, event) -> None:
        """Transport listener: runs on the engine thread, hands the event to the Qt thread."""
        if not self._closed:
            self._events.put(event)

    def _drain(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            self._on_engine_event(event)

    # ----- internal ---------------------------------------------------------------------------
    def _push_song(self) -> None:
        if self.transport is not None:
            self._guard(self.transport.set_song, self.document.song)

    def _set_playing(self, playing: bool) -> None:
        if playing:
            self._timer.start()
        else:
            self._timer.stop()
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)

    def _poll(self) -> None:
        self._drain()
        if self.transport is not None:
            self.position_changed.emit(self.transport.position_ticks())

    def _on_engine_event(self, event) -> None:
        kind = getattr(event, "kind", "")
        if kind == "playing":
            self._set_playing(True)
        elif kind in ("stopped", "paused", "ended"):
            self._set_playing(False)
            self.position_changed.emit(float(getattr(event, "tick", 0.0)))
        elif kind == "error":
            self.error.emit(getattr(event, "message", "") or "playback error")
