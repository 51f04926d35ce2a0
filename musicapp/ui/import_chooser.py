"""The MIDI import chooser: which tracks of a file to add, each shown with what it is.

Owns the description of a track as the user meets it in the chooser ("Strings — ch 2, String
Ensemble 1, C3–G5, 68 notes"), a mini piano-roll preview of each track drawn over the file's
length, the dialog itself (check boxes, All / None, OK / Cancel) and the channel rule for
imported tracks: a track keeps its channel when no other track uses it, else it gets the next
free one (channel 10 stays the drums'), so imports no longer pile up on channel 1.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
    QVBoxLayout, QWidget,
)

from musicapp.core.song import DRUM_CHANNEL, NOTE_NAMES, Track
from musicapp.ui.gm import GM_PROGRAMS

PREVIEW_SIZE = QSize(180, 40)  # pixels of one track's mini roll


def pitch_text(pitch: int) -> str:
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def describe_track(track: Track, index: int) -> str:
    """One line for the chooser: name, channel, instrument, pitch range, notes, controllers."""
    drums = track.channel == DRUM_CHANNEL
    sound = "Drums" if drums else GM_PROGRAMS[track.program] if 0 <= track.program < len(GM_PROGRAMS) else ""
    name = track.name.strip() or f"Track {index + 1}"
    parts = [f"ch {track.channel + 1}", sound]
    if track.notes:
        lo, hi = min(n.pitch for n in track.notes), max(n.pitch for n in track.notes)
        parts.append(pitch_text(lo) if lo == hi else f"{pitch_text(lo)}–{pitch_text(hi)}")
    n = len(track.notes)
    parts.append(f"{n} note{'s' * (n != 1)}")
    if track.controls:
        parts.append(f"{len(track.controls)} controller events")
    return f"{name} — " + ", ".join(p for p in parts if p)


def preview(track: Track, end_tick: int, size: QSize = PREVIEW_SIZE) -> QPixmap:
    """A mini piano roll of ``track`` from tick 0 to ``end_tick``, its pitch range filling the height."""
    pix = QPixmap(size)
    pix.fill(QColor("#1e2026"))
    if not track.notes:
        return pix
    lo, hi = min(n.pitch for n in track.notes), max(n.pitch for n in track.notes)
    rows = hi - lo + 1
    w, h = size.width(), size.height()
    sx, sy = w / max(1, end_tick), h / rows
    p = QPainter(pix)
    p.setPen(Qt.NoPen)
    p.setBrush(QColor("#e0a84c") if track.channel != DRUM_CHANNEL else QColor("#8fb3e8"))
    p.drawRects([QRectF(n.start * sx, (hi - n.pitch) * sy, max(1.0, n.length * sx), max(1.0, sy))
                 for n in track.notes])
    p.end()
    return pix


def spread_channels(existing: Iterable[Track], new: Sequence[Track]) -> list[Track]:
    """``new`` tracks on channels of their own: each keeps its channel unless a track of
    ``existing`` or an earlier new track has it, else it takes the lowest free channel (never
    the drums' channel 10). Drum tracks keep channel 10; with all 16 taken a track keeps its own."""
    used = {t.channel for t in existing}
    out = []
    for t in new:
        channel = t.channel
        if channel != DRUM_CHANNEL and channel in used:
            channel = next((c for c in range(16) if c not in used and c != DRUM_CHANNEL), channel)
        used.add(channel)
        out.append(t if channel == t.channel else
                   replace(t, channel=channel, notes=tuple(replace(n, channel=channel) for n in t.notes)))
    return out


class ImportChooser(QDialog):
    """Check the tracks to import; each row shows the track's description and mini roll."""

    def __init__(self, file_name: str, names: Sequence[str], tracks: Sequence[Track] = (),
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Import {file_name}")
        self.setObjectName("importChooser")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Tracks of {file_name} to add (Space or a click on the box includes or leaves out):"))
        self.list = QListWidget()
        self.list.setIconSize(PREVIEW_SIZE)
        end = max((t.end for t in tracks), default=0)
        for i, name in enumerate(names):
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked)
            if i < len(tracks) and end > 0:
                item.setIcon(QIcon(preview(tracks[i], end)))
            self.list.addItem(item)
        self.list.itemChanged.connect(lambda _item: self._update_ok())
        self.list.setMinimumWidth(PREVIEW_SIZE.width() + 420)
        lay.addWidget(self.list)
        row = QHBoxLayout()
        self.all_button, self.none_button = QPushButton("All"), QPushButton("None")
        self.all_button.clicked.connect(lambda: self._check_all(Qt.Checked))
        self.none_button.clicked.connect(lambda: self._check_all(Qt.Unchecked))
        row.addWidget(self.all_button)
        row.addWidget(self.none_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._update_ok()

    def chosen(self) -> list[int]:
        """Indices of the checked tracks."""
        return [i for i in range(self.list.count()) if self.list.item(i).checkState() == Qt.Checked]

    def _check_all(self, state) -> None:
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(state)
        self._update_ok()

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(self.chosen()))
