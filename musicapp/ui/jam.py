"""Jam in the editor: Transport > Jam, the answer shown as it plays, takes as two tracks.

Owns the UI side of live call-and-response (the engine and the model are injected as a
``JamService`` by ``musicapp.jamming``, as outputs and inputs are): turning the jam on (the
transport plays from the edit cursor after a bar of count-in, with the metronome) and off,
the options (call length, "Answer When I Pause"), showing the answer being played as ghost
notes that grow with the playhead, and, while Record is on, landing each take as one undo
step: what the player played in a "Jam calls" track, the answers in a "Jam answers" track.
Service callbacks arrive on other threads and only go on a queue drained by a timer here.
"""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup

from musicapp.core import edits
from musicapp.core.errors import MusicappError
from musicapp.core.song import DRUM_CHANNEL, Note, Song, Track
from musicapp.ui.document import Document
from musicapp.ui.playback import Playback
from musicapp.ui.recording import Recording

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

CALLS, ANSWERS = "Jam calls", "Jam answers"
CALL_LENGTHS = (1, 2, 4, 8)
POLL_MS = 30


class JamService(Protocol):
    """Starts and stops a jam on the open MIDI input and the playing transport.

    ``prepare`` loads the model off the main thread, then calls ``done("")`` or
    ``done(reason)`` from that thread; ``start`` (once loaded) raises MusicappError with a one-line reason, or calls ``listener(kind, message)``
    later from another thread: ready, call, answer, interrupted, done, late, error, stopped.
    ``exchanges`` has objects with ``call``, ``answer`` (as it sounded), ``planned`` (all of
    it) and ``answer_start`` (ticks)."""

    @property
    def loaded(self) -> bool: ...
    def prepare(self, done: Callable[[str], None]) -> None: ...
    def start(self, bars: int, on_pause: bool, answer_channel: int, program: int,
              listener: Callable[[str, str], None]) -> None: ...
    def stop(self) -> None: ...
    def exchanges(self) -> list: ...


class JamController(QObject):
    """Transport > Jam for one window."""

    jamming_changed = Signal(bool)

    def __init__(self, document: Document, playback: Playback, recording: Recording,
                 service: JamService | None, cursor: Callable[[], int], report: Callable[[str], None],
                 metronome: Callable[[bool], None], parent: QObject | None = None):
        super().__init__(parent)
        self.document, self.playback, self.recording, self.service = document, playback, recording, service
        self._cursor, self._report, self._metronome = cursor, report, metronome
        self.bars = 2
        self.on_pause = False
        self._jamming = False
        self._restore_metronome: bool | None = None
        self._loading = False  # Jam is on, waiting for the model before the count-in
        self._take_from: int | None = None
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        playback.playing_changed.connect(self._on_playing)

    @property
    def available(self) -> bool:
        return self.service is not None and self.playback.available

    @property
    def is_jamming(self) -> bool:
        return self._jamming

    # ----- on / off ---------------------------------------------------------------------------
    def set_jamming(self, on: bool, metronome_was: bool = False) -> None:
        """Start answering what comes in on the MIDI input, or stop (landing a running take)."""
        if bool(on) == self._jamming:
            return
        if on:
            self._start(metronome_was)
        else:
            self._stop("Jam stopped")

    def _start(self, metronome_was: bool) -> None:
        if not self.available or not self.recording.chooser.is_open:
            self._report("Choose a MIDI input first (transport bar)")
            self.jamming_changed.emit(False)
            return
        self._restore_metronome = metronome_was
        self._jamming = True
        self.jamming_changed.emit(True)
        self._timer.start()
        if self.service.loaded:
            self._go()
            return
        self._loading = True
        self._report("Jam: loading the model…")
        try:
            self.service.prepare(lambda error: self._events.put(("loaded", error)))
        except MusicappError as err:
            self._fail(str(err))

    def _go(self) -> None:
        """The model is ready: count in, play, answer."""
        self._loading = False
        channel, program = self._answer_voice(self.document.song)
        was_recording = self.recording.is_recording
        if was_recording:
            self.recording.set_recording(False)  # land the plain take; the jam takes over
        self._metronome(True)
        self.playback.set_open_end(True)
        if not self.playback.is_playing:
            self.playback.set_count_in(1)
            self.playback.play(self._cursor())
            self.playback.set_count_in(0)
        try:
            self.service.start(self.bars, self.on_pause, channel, program, self._from_service)
        except MusicappError as err:
            self._fail(str(err))
            return
        self.recording.take_override = self
        if was_recording:
            self.recording.set_recording(True)
        how = "pause for a beat" if self.on_pause else f"play {self.bars}-bar calls"
        self._report(f"Jam: {how}; the answer comes on the next bar line")

    def _fail(self, message: str) -> None:
        self._jamming = self._loading = False
        self._cleanup()
        self.jamming_changed.emit(False)
        self._report(message)

    def _stop(self, message: str) -> None:
        if not self._jamming:
            return
        if self.recording.is_recording:
            self.recording.set_recording(False)  # lands the jam take through take_override
        self._jamming = self._loading = False
        self.service.stop()
        self._cleanup()
        self._poll()
        self.jamming_changed.emit(False)
        if message:
            self._report(message)

    def _cleanup(self) -> None:
        self.recording.take_override = None
        self._timer.stop()
        self.playback.set_open_end(self.recording.is_recording)
        if self._restore_metronome is not None:
            self._metronome(self._restore_metronome)
            self._restore_metronome = None
        self.document.clear_ghost_notes()

    def close(self) -> None:
        self._stop("")

    # ----- takes (Recording calls these while the jam runs) -----------------------------------
    def start_take(self) -> None:
        self._take_from = int(self.playback.position()) if self.playback.is_playing else self._cursor()

    def land_take(self) -> None:
        since, self._take_from = self._take_from, None
        if since is None or self.service is None:
            return
        until = int(self.playback.position()) if self.playback.is_playing else None
        exchanges = self.service.exchanges()
        calls = [n for ex in exchanges for n in ex.call if n.start >= since]
        answers = [n for ex in exchanges for n in ex.answer if n.start >= since]
        if until is not None:  # the answer playing on past the take's end is not in it
            answers = [n if n.end <= until else Note(n.start, n.pitch, until - n.start, n.velocity, n.channel)
                       for n in answers if n.start < until]
        if not calls and not answers:
            self._report("Nothing recorded")
            return
        self.document.apply("Jam take", lambda s: add_jam_take(s, calls, answers, self.document.active_track))
        self._report(f"Jam take: {len(calls)} notes played, {len(answers)} answered")

    # ----- the answer as it plays -------------------------------------------------------------
    def _from_service(self, kind: str, message: str) -> None:
        self._events.put((kind, message))  # any thread: only queue it

    def _poll(self) -> None:
        while True:
            try:
                kind, message = self._events.get_nowait()
            except queue.Empty:
                break
            if kind in ("error", "late") and message:
                self._report(message)
            if kind in ("error", "stopped") and self._jamming:
                self._stop(message if kind == "error" else "Jam stopped")
                return
            if kind == "loaded" and self._loading:
                if message:
                    self._fail(message)
                    return
                self._go()
        if self._jamming and not self._loading:
            self._show_answer()

    def _show_answer(self) -> None:
        exchanges = self.service.exchanges()
        last = exchanges[-1] if exchanges else None
        now = self.playback.position()
        shown = [n for n in last.answer if n.start <= now] if last is not None and last.planned else []
        if tuple(sorted(shown)) != self.document.ghost_notes:
            ti = _track_named(self.document.song, ANSWERS)
            self.document.set_ghost_notes(shown, ti if ti >= 0 else None)

    def _on_playing(self, playing: bool) -> None:
        if not playing and self._jamming and not self._loading:
            self._stop("Jam stopped with the transport")

    @staticmethod
    def _answer_voice(song: Song) -> tuple[int, int]:
        """(channel, program) answers play on: the answers track's, else a free channel."""
        ti = _track_named(song, ANSWERS)
        if ti >= 0:
            return song.tracks[ti].channel, song.tracks[ti].program
        used = {t.channel for t in song.tracks}
        free = [c for c in range(16) if c not in used and c != DRUM_CHANNEL]
        return (free[0] if free else 15), 0


def _track_named(song: Song, name: str) -> int:
    return next((i for i, t in enumerate(song.tracks) if t.name == name), -1)


def add_jam_take(song: Song, calls: Sequence[Note], answers: Sequence[Note], active: int) -> Song:
    """``song`` with the calls and answers added to the "Jam calls" / "Jam answers" tracks
    (made on first use: calls on the active track's channel and program, answers on a free
    channel)."""
    channel, program = JamController._answer_voice(song)
    if _track_named(song, CALLS) < 0:
        src = song.tracks[active] if 0 <= active < len(song.tracks) else Track()
        song = edits.add_track(song, CALLS, src.channel, src.program)
    if _track_named(song, ANSWERS) < 0:
        song = edits.add_track(song, ANSWERS, channel, program)
    song = edits.add_notes(song, _track_named(song, CALLS), calls).song
    return edits.add_notes(song, _track_named(song, ANSWERS), answers).song


def install_jam(win: "MainWindow", service: JamService | None) -> JamController:
    """Add Transport > Jam (J), its options, and the controller to ``win``."""
    a, menu = win.actions_, win.transport_menu

    def metronome(on: bool) -> None:  # shown in the menu, not stored as the user's setting
        a.metronome.setChecked(on)
        win.playback.set_metronome(on)

    ctrl = JamController(win.document, win.playback, win.recording, service, lambda: win.roll.cursor_tick,
                         win.show_message, metronome, win)
    win.jam = ctrl
    jam = QAction("&Jam (Call and Response)", win)
    jam.setShortcut("J")
    jam.setCheckable(True)
    jam.setToolTip("Play a phrase on the MIDI input; the app answers it on the next bar line (J)")
    jam.triggered.connect(lambda on: ctrl.set_jamming(on, a.metronome.isChecked()))
    ctrl.jamming_changed.connect(jam.setChecked)
    jam.setEnabled(ctrl.available)
    win.addAction(jam)
    pause = QAction("Jam: Answer When I &Pause", win)
    pause.setCheckable(True)
    pause.setToolTip("A beat with no key down ends the call (instead of a fixed call length)")
    pause.toggled.connect(lambda on: setattr(ctrl, "on_pause", bool(on)))
    group = QActionGroup(win)
    length_actions = []
    for bars in CALL_LENGTHS:
        act = QAction(f"Jam Calls of {bars} Bar{'s' if bars > 1 else ''}", win)
        act.setCheckable(True)
        act.setChecked(bars == ctrl.bars)
        act.triggered.connect(lambda _=False, b=bars: setattr(ctrl, "bars", b))
        group.addAction(act)
        length_actions.append(act)
    menu.addSeparator()
    menu.addAction(jam)
    menu.addAction(pause)
    sub = menu.addMenu("Jam Call &Length")
    sub.addActions(length_actions)
    a.jam, a.jam_pause, a.jam_lengths = jam, pause, length_actions
    win.transport_bar.addAction(jam)
    return ctrl
