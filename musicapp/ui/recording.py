"""Recording from a MIDI input: the input chooser, the Record toggle, and landing takes.

Owns the UI side of live input (the engine side is injected, as the outputs are): which
input the transport bar shows, echoing it on the active track's channel (thru), and turning
Record on (the transport plays from the edit cursor if it stands, after a bar of count-in
clicks when that is on) and off again (or the
transport stopping), which lands the take in the active track as one undo step: its notes,
snapped to the grid when "Quantize Recording" is on, and its pedal/bend/controller moves.
While a jam runs (``take_override``), the jam starts and lands takes instead.
"""

from __future__ import annotations

from typing import Callable, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox

from musicapp.core import edits
from musicapp.core.errors import MusicappError
from musicapp.core.song import Control, Note
from musicapp.ui.document import Document
from musicapp.ui.playback import Playback
from musicapp.ui.transport_bar import fill_choices


class InputChooser(Protocol):
    """Where notes come in. ``select`` may raise MusicappError with a one-line reason; takes
    are timed by the transport's clock and returned in song ticks."""

    def names(self) -> list[str]: ...
    def select(self, name: str) -> None: ...
    @property
    def is_open(self) -> bool: ...
    def set_thru_channel(self, channel: int) -> None: ...
    def start_take(self) -> None: ...
    def finish_take(self, quantize_ticks: int | None = None,
                    end_tick: int | None = None) -> tuple[list[Note], list[Control]]: ...
    def close(self) -> None: ...


class Recording(QObject):
    """MIDI input selection, thru channel and take recording for one window."""

    recording_changed = Signal(bool)
    input_selected = Signal(str)  # an input was opened (the window remembers it)

    def __init__(self, document: Document, playback: Playback, chooser: InputChooser | None,
                 cursor: Callable[[], int], grid_ticks: Callable[[], int | None],
                 report: Callable[[str], None], parent: QObject | None = None):
        super().__init__(parent)
        self.document, self.playback, self.chooser = document, playback, chooser
        self._cursor, self._grid_ticks, self._report = cursor, grid_ticks, report
        self.quantize = False
        self.count_in_bars = 0  # clicks before a take that starts the transport
        self._recording = False
        self._current = ""
        self._last_tick = 0  # playhead while the take ran: where keys still held end
        self.take_override = None  # while set (the jam), it starts and lands takes instead
        self.box = QComboBox()
        self.box.setToolTip("MIDI input: what you play is heard on the active track and recorded with Record (R)")
        self.box.setMinimumWidth(150)
        self.box.activated.connect(lambda i: self.select_input(self.box.itemText(i)))
        document.active_track_changed.connect(lambda _: self._sync_thru())
        document.song_changed.connect(self._sync_thru)
        playback.playing_changed.connect(self._on_playing)
        playback.position_changed.connect(self._on_position)
        self.refresh_inputs()

    @property
    def available(self) -> bool:
        return self.chooser is not None and self.playback.available

    @property
    def is_recording(self) -> bool:
        return self._recording

    # ----- inputs -----------------------------------------------------------------------------
    def refresh_inputs(self, preferred: str = "") -> None:
        names = self.chooser.names() if self.chooser is not None else []
        fill_choices(self.box, names, preferred or self._current or self.box.currentText(), "No MIDI input")

    def select_input(self, name: str) -> bool:
        """Listen to input ``name``; on failure the message says why and the old one stays."""
        if self.chooser is None:
            return False
        try:
            self.chooser.select(name)
        except MusicappError as err:
            self._report(str(err))
            self._current = ""
            self.refresh_inputs()
            return False
        self._current = name
        self._sync_thru()
        self.refresh_inputs(name)
        self._report(f"MIDI input: {name}")
        self.input_selected.emit(name)
        return True

    def _sync_thru(self) -> None:
        song, ti = self.document.song, self.document.active_track
        if self.chooser is not None and 0 <= ti < len(song.tracks):
            self.chooser.set_thru_channel(song.tracks[ti].channel)

    # ----- takes ------------------------------------------------------------------------------
    def set_recording(self, on: bool) -> None:
        """Start a take (playing from the edit cursor if stopped) or land the running one."""
        if bool(on) == self._recording:
            return
        if on:
            if not self.available or not self.chooser.is_open:
                self._report("Choose a MIDI input first (transport bar)")
                self.recording_changed.emit(False)
                return
            if not self.document.song.tracks:
                self._report("Add a track to record into")
                self.recording_changed.emit(False)
                return
            self._sync_thru()
            self._last_tick = self._cursor()
            self.playback.set_open_end(True)  # a take may run past the song's end
            (self.take_override or self.chooser).start_take()
            self._recording = True
            self.recording_changed.emit(True)
            if not self.playback.is_playing:
                self.playback.set_count_in(self.count_in_bars)
                self.playback.play(self._cursor())
                self.playback.set_count_in(0)
            self._report("Recording")
            return
        self._recording = False
        self.playback.set_open_end(self.take_override is not None)  # a jam plays on
        self.recording_changed.emit(False)
        self._land()

    def _land(self) -> None:
        if self.take_override is not None:
            self.take_override.land_take()
            return
        notes, controls = self.chooser.finish_take(self._grid_ticks() if self.quantize else None,
                                                   self._last_tick)
        ti = self.document.active_track
        if not (notes or controls) or not 0 <= ti < len(self.document.song.tracks):
            self._report("Nothing recorded")
            return
        self.document.apply("Record take", lambda s: edits.add_take(s, ti, notes, controls))
        self._report(f"Recorded {len(notes)} notes" + (f", {len(controls)} controller events" if controls else ""))

    def close(self) -> None:
        """Land a running take and close the input (window closing)."""
        if self._recording:
            self.set_recording(False)
        if self.chooser is not None:
            self.chooser.close()

    def _on_position(self, tick: float) -> None:
        if self._recording and self.playback.is_playing:
            self._last_tick = int(tick)

    def _on_playing(self, playing: bool) -> None:
        if not playing and self._recording:
            self.set_recording(False)
