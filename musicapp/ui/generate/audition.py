"""Auditioning a candidate: play a preview song through the injected Playback, then put the
document's song back into the engine.

Owns the short-lived state of one audition: the preview Song handed to the Transport, the tick
where playback stops (the candidate's end) and the restore when playback stops for any reason.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from musicapp.core.errors import MusicappError
from musicapp.core.song import Song
from musicapp.ui.document import Document


class Audition(QObject):
    """Plays ``preview`` songs from a tick up to an end tick on ``playback`` (may be None)."""

    def __init__(self, document: Document, playback=None, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.playback = playback
        self._end: int | None = None  # tick where the audition stops
        self._active = False
        if playback is not None:
            playback.position_changed.connect(self._on_position)
            playback.playing_changed.connect(self._on_playing_changed)

    @property
    def available(self) -> bool:
        return self.playback is not None and self.playback.available

    def play(self, preview: Song, from_tick: int, end_tick: int) -> str | None:
        """Start playing ``preview`` at ``from_tick`` until ``end_tick``; an error text or None."""
        if not self.available:
            return "Audition needs an audio/MIDI output (the engine is not running)"
        if not 0 <= from_tick < end_tick:
            return f"nothing to audition between ticks {from_tick} and {end_tick}"
        try:
            self.playback.transport.set_song(preview)
        except (MusicappError, ValueError) as err:  # the engine refused the song: say so, keep editing
            return f"Audition failed: {err}"
        self._end, self._active = end_tick, True
        self.playback.play(from_tick)
        return None

    def _on_position(self, tick: float) -> None:
        if self._active and self._end is not None and tick >= self._end:
            self._end = None
            self.playback.stop()

    def _on_playing_changed(self, playing: bool) -> None:
        if playing or not self._active:
            return
        self._active, self._end = False, None
        transport = self.playback.transport
        if transport is not None and transport.song is not self.document.song:
            transport.set_song(self.document.song)
