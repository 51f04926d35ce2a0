"""The drawing habits on the tools bar: swing, length of drawn notes, snap to scale.

Owns three controls and their settings: a Swing box (50-75 %, applied to straight grids: it
delays every second grid line, see ``GridSpec.swing``), a Length box (the length of a drawn
note: Auto = the last drawn or resized length, else one grid step; or a fixed note value,
dotted ones included) and the checkable Snap to Scale action (drawing and dragging keep notes
in the song key's scale; disabled while the song has no key). The window's ``set_grid`` asks
``with_swing`` so a grid picked from the menu keeps the swing shown in the box.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QToolBar

from musicapp.ui.pianoroll.geometry import SWING_RANGE, GridSpec

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

#: shown name -> length of a drawn note in quarter notes (None: automatic).
NOTE_LENGTHS: dict[str, float | None] = {
    "Auto": None, "1/32": 0.125, "1/16": 0.25, "1/16.": 0.375, "1/8": 0.5, "1/8.": 0.75, "1/4": 1.0,
    "1/4.": 1.5, "1/2": 2.0, "1/2.": 3.0, "1/1": 4.0,
}


def swingable(grid: GridSpec) -> bool:
    """A grid that can swing: on, straight (not triplet, not dotted)."""
    return grid.enabled and not grid.triplet and not grid.dotted


class DrawControls:
    """The Swing and Length boxes and the Snap to Scale action of one window."""

    def __init__(self, win: "MainWindow", bar: QToolBar):
        self.win = win
        roll, settings = win.roll, win.settings
        self.swing = QSpinBox()
        self.swing.setRange(*SWING_RANGE)
        self.swing.setSuffix(" %")
        self.swing.setToolTip("Swing: how late every second grid line is (50 % = straight)")
        self.swing.valueChanged.connect(self._on_swing)
        self.length = QComboBox()
        self.length.addItems(list(NOTE_LENGTHS))
        self.length.setToolTip("Length of drawn notes (Auto: the last drawn length, or one grid step)")
        self.length.currentTextChanged.connect(self.set_length)
        self.snap_scale = QAction("Snap to &Scale", win)
        self.snap_scale.setCheckable(True)
        self.snap_scale.toggled.connect(self._on_snap_scale)
        win.addAction(self.snap_scale)
        bar.addWidget(QLabel(" Swing "))
        bar.addWidget(self.swing)
        bar.addWidget(QLabel(" Length "))
        bar.addWidget(self.length)
        bar.addAction(self.snap_scale)
        win.document.song_changed.connect(self._update_enabled)
        self.length.setCurrentText(settings.draw_length if settings.draw_length in NOTE_LENGTHS else "Auto")
        self.set_length(self.length.currentText())
        self.snap_scale.setChecked(settings.snap_scale)
        roll.snap_scale = settings.snap_scale
        self._update_enabled()

    def with_swing(self, grid: GridSpec) -> GridSpec:
        """``grid`` as the window should use it: a swung grid sets the box; a straight one
        picked from the menu takes the box's swing; other grids cannot swing."""
        self.swing.setEnabled(swingable(grid))
        if grid.swung:
            self.swing.blockSignals(True)
            self.swing.setValue(grid.swing)
            self.swing.blockSignals(False)
            return grid
        if swingable(grid):
            return replace(grid, swing=self.swing.value())
        return grid

    def set_length(self, name: str) -> None:
        """Draw notes ``name`` long ("1/8.", ...; "Auto" = last drawn / grid)."""
        if name not in NOTE_LENGTHS:
            raise ValueError(f"unknown note length {name!r}")
        if self.length.currentText() != name:
            self.length.setCurrentText(name)  # comes back here through the signal
            return
        self.win.roll.draw_quarters = NOTE_LENGTHS[name]
        self.win.settings.draw_length = name

    def _on_swing(self, value: int) -> None:
        grid = self.win.roll.grid
        if swingable(grid):
            self.win.set_grid(replace(grid, swing=value))

    def _on_snap_scale(self, on: bool) -> None:
        self.win.roll.snap_scale = bool(on)
        self.win.settings.snap_scale = bool(on)

    def _update_enabled(self) -> None:
        key = self.win.document.song.key
        self.snap_scale.setEnabled(key is not None)
        self.snap_scale.setToolTip(f"Keep drawn and dragged notes in {key}" if key is not None
                                   else "Snap to scale needs a key (set the song's key on the transport bar)")
