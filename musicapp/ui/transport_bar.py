"""The transport tool bar: play/stop/loop/metronome/follow, position, tempo, meter, key, output.

Tempo, meter and key changes are undoable song edits (``core.edits``); the output choice goes
to an injected ``OutputChooser`` (app.py builds it from the engine), so this module never
imports the engine.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSpinBox, QToolBar, QWidget

from musicapp.core import edits
from musicapp.core.scales import MODES
from musicapp.core.song import NOTE_NAMES, Key
from musicapp.ui.document import Document

KEY_MODES = ("major", "minor", "dorian", "mixolydian", "harmonic_minor")


class OutputChooser(Protocol):
    """Where playback goes. ``names()`` lists choices; ``select(name)`` switches (may raise
    MusicappError with a one-line reason)."""

    def names(self) -> list[str]: ...
    def select(self, name: str) -> None: ...


class TransportBar(QToolBar):
    """Transport controls bound to a Document."""

    output_selected = Signal(str)

    def __init__(self, document: Document, actions: Sequence[QAction], parent: QWidget | None = None):
        super().__init__("Transport", parent)
        self.setObjectName("transportBar")
        self.document = document
        for act in actions:
            self.addAction(act)
        self.addSeparator()
        self.position_label = QLabel("1.1.000")
        self.position_label.setObjectName("positionLabel")
        self.position_label.setMinimumWidth(80)
        self.position_label.setAlignment(Qt.AlignCenter)
        self.addWidget(self.position_label)
        self.addSeparator()
        self.tempo = QDoubleSpinBox()
        self.tempo.setRange(10, 999)
        self.tempo.setDecimals(1)
        self.tempo.setSuffix(" BPM")
        self.tempo.setKeyboardTracking(False)
        self.tempo.setToolTip("Tempo")
        self.addWidget(self.tempo)
        self.meter_num = QSpinBox()
        self.meter_num.setRange(1, 32)
        self.meter_num.setToolTip("Beats per bar")
        self.meter_den = QComboBox()
        self.meter_den.addItems(["2", "4", "8", "16"])
        self.meter_den.setToolTip("Beat unit")
        self.addWidget(self.meter_num)
        self.addWidget(QLabel("/"))
        self.addWidget(self.meter_den)
        self.addSeparator()
        self.key_box = QComboBox()
        self.key_box.setToolTip("Song key (scale highlighting)")
        self.key_box.addItem("No key", None)
        for mode in (m for m in KEY_MODES if m in MODES):
            for tonic in range(12):
                self.key_box.addItem(f"{NOTE_NAMES[tonic]} {mode.replace('_', ' ')}", (tonic, mode))
        self.addWidget(self.key_box)
        self.addSeparator()
        self.output_box = QComboBox()
        self.output_box.setToolTip("Output: MIDI port, virtual port or built-in synth")
        self.output_box.setMinimumWidth(180)
        self.addWidget(self.output_box)
        self.chooser: OutputChooser | None = None
        self._updating = False
        self.tempo.valueChanged.connect(self._on_tempo)
        self.meter_num.valueChanged.connect(self._on_meter)
        self.meter_den.currentIndexChanged.connect(self._on_meter)
        self.key_box.currentIndexChanged.connect(self._on_key)
        self.output_box.activated.connect(self._on_output)
        document.song_changed.connect(self.sync_from_song)
        self.sync_from_song()

    # ----- outputs ----------------------------------------------------------------------------
    def set_chooser(self, chooser: OutputChooser | None, preferred: str = "") -> None:
        """Fill the output list from ``chooser`` and select ``preferred`` if offered."""
        self.chooser = chooser
        self.refresh_outputs(preferred)

    def refresh_outputs(self, preferred: str = "") -> None:
        names = self.chooser.names() if self.chooser is not None else []
        fill_choices(self.output_box, names, preferred or self.output_box.currentText(), "No output")

    def _on_output(self, index: int) -> None:
        name = self.output_box.itemText(index)
        if self.chooser is not None and name:
            self.output_selected.emit(name)

    # ----- song fields ------------------------------------------------------------------------
    def set_position(self, tick: float) -> None:
        bar, beat, sub = self.document.song.tick_to_bar_beat(max(0, int(tick)))
        self.position_label.setText(f"{bar + 1}.{beat + 1}.{sub:03d}")

    def sync_from_song(self) -> None:
        song = self.document.song
        self._updating = True
        try:
            self.tempo.setValue(round(song.tempos[0].bpm, 1))
            meter = song.meters[0]
            self.meter_num.setValue(meter.numerator)
            den = str(meter.denominator)
            if self.meter_den.findText(den) < 0:
                self.meter_den.addItem(den)
            self.meter_den.setCurrentText(den)
            key = song.key
            idx = self.key_box.findData((key.tonic, key.mode)) if key is not None else 0
            if idx < 0:
                self.key_box.addItem(str(key), (key.tonic, key.mode))
                idx = self.key_box.count() - 1
            self.key_box.setCurrentIndex(idx)
        finally:
            self._updating = False

    def _on_tempo(self, bpm: float) -> None:
        if not self._updating and abs(bpm - self.document.song.tempos[0].bpm) > 0.05:
            self.document.apply("Set tempo", lambda s: edits.set_tempo(s, bpm), merge_id=10)

    def _on_meter(self, *_args) -> None:
        if self._updating:
            return
        num, den = self.meter_num.value(), int(self.meter_den.currentText())
        self.document.apply("Set meter", lambda s: edits.set_meter(s, num, den))

    def _on_key(self, index: int) -> None:
        if self._updating:
            return
        data = self.key_box.itemData(index)
        key = Key(*data) if data else None
        self.document.apply("Set key", lambda s: edits.set_key(s, key))


def fill_choices(box: QComboBox, names: list[str], current: str, empty: str) -> None:
    """Refill ``box`` with ``names`` (or a disabled ``empty`` entry), keeping ``current``
    selected if still offered, without emitting selection signals."""
    box.blockSignals(True)
    box.clear()
    box.addItems(names or [empty])
    box.setEnabled(bool(names))
    if current in names:
        box.setCurrentIndex(names.index(current))
    box.blockSignals(False)


def apply_output_choice(chooser: OutputChooser, name: str, report: Callable[[str], None]) -> bool:
    """Switch to output ``name``; reports a one-line error instead of raising."""
    from musicapp.core.errors import MusicappError

    try:
        chooser.select(name)
    except MusicappError as err:
        report(str(err))
        return False
    report(f"Output: {name}")
    return True
