"""The track list: one row per track with name, MIDI channel, GM program, mute and solo.

Selecting a row makes that track the active one. Every change (add, remove, rename, channel,
program, mute, solo) is one undo step through ``Document.apply`` and ``core.edits``. The
table is rebuilt only when track metadata changes, not on every note edit.
"""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QPushButton, QSpinBox, QTableWidget,
    QTableWidgetItem, QToolButton, QVBoxLayout, QWidget,
)

from musicapp.core import edits
from musicapp.core.song import DRUM_CHANNEL
from musicapp.ui.document import Document
from musicapp.ui.gm import GM_PROGRAMS

COLUMNS = ("Name", "Ch", "Program", "M", "S")
#: up to this many tracks every row gets its widgets at once; beyond, rows in view only.
EAGER_ROWS = 64


class TrackList(QWidget):
    """Table of the document's tracks with add/remove buttons."""

    #: cell widgets were made for some rows (after a song change or a scroll)
    widgets_made = Signal()

    def __init__(self, document: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for col in (1, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Interactive)
        self.table.setColumnWidth(2, 128)
        self.table.horizontalHeader().setMinimumSectionSize(24)
        self.setMinimumWidth(340)
        self.add_button = QPushButton("Add track", self)
        self.remove_button = QPushButton("Remove", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table)
        lay.addLayout(buttons)
        self._shown: tuple = ()
        self._building = False
        self._made: set[int] = set()  # rows that have their cell widgets
        self.table.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self._programs = QStringListModel([f"{i + 1}. {name}" for i, name in enumerate(GM_PROGRAMS)], self)
        self.add_button.clicked.connect(self.add_track)
        self.remove_button.clicked.connect(self.remove_active_track)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.currentCellChanged.connect(self._on_current_changed)
        document.song_changed.connect(self.rebuild)
        document.active_track_changed.connect(self._select_active)
        self.rebuild()

    # ----- verbs ------------------------------------------------------------------------------
    def add_track(self) -> None:
        song = self.document.song
        used = {t.channel for t in song.tracks}
        channel = next((c for c in range(16) if c not in used and c != DRUM_CHANNEL), 0)
        name = f"Track {len(song.tracks) + 1}"
        self.document.apply("Add track", lambda s: edits.add_track(s, name, channel))
        self.document.set_active_track(len(self.document.song.tracks) - 1)

    def remove_active_track(self) -> None:
        ti = self.document.active_track
        if 0 <= ti < len(self.document.song.tracks):
            self.document.apply("Remove track", lambda s: edits.remove_track(s, ti))

    def _apply(self, text: str, fn, *args) -> None:
        self.document.apply(text, lambda s: fn(s, *args))

    # ----- view -------------------------------------------------------------------------------
    def rebuild(self) -> None:
        tracks = self.document.song.tracks
        shown = tuple((t.name, t.channel, t.program, t.mute, t.solo) for t in tracks)
        if shown == self._shown:
            return
        self._shown = shown
        self._building = True
        try:
            self.table.setRowCount(0)  # drops the old rows' widgets
            self.table.setRowCount(len(tracks))
            for row, t in enumerate(tracks):
                self.table.setItem(row, 0, QTableWidgetItem(t.name))
            self._made = set()
            self._make_widgets(range(len(tracks)) if len(tracks) <= EAGER_ROWS else self._visible_rows())
            self._select_active(self.document.active_track)
        finally:
            self._building = False
        self.remove_button.setEnabled(len(tracks) > 0)

    def _visible_rows(self) -> range:
        """Rows on screen now, with a screenful of margin either side."""
        n = self.table.rowCount()
        top = max(self.table.rowAt(0), 0)
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        bottom = n - 1 if bottom < 0 else bottom
        margin = max(bottom - top, EAGER_ROWS // 2)
        return range(max(0, top - margin), min(n, bottom + margin + 1))

    def _make_widgets(self, rows) -> None:
        """Channel, program, mute and solo widgets for ``rows`` that have none yet.

        Cell widgets cost about a millisecond each, so a song with thousands of tracks gets
        them only for the rows scrolled into view (see ``EAGER_ROWS``).
        """
        tracks = self.document.song.tracks
        was, self._building = self._building, True
        made = False
        try:
            for row in rows:
                if row in self._made or row >= len(tracks):
                    continue
                self._made.add(row)
                t = tracks[row]
                self.table.setCellWidget(row, 1, self._channel_box(row, t.channel))
                self.table.setCellWidget(row, 2, self._program_box(row, t.program, t.channel == DRUM_CHANNEL))
                self.table.setCellWidget(row, 3, self._toggle(row, "M", t.mute, edits.set_track_mute, "Mute"))
                self.table.setCellWidget(row, 4, self._toggle(row, "S", t.solo, edits.set_track_solo, "Solo"))
                made = True
        finally:
            self._building = was
        if made:
            self.widgets_made.emit()

    def _on_scrolled(self, *_args) -> None:
        if len(self._made) < self.table.rowCount():
            self._make_widgets(self._visible_rows())

    def _channel_box(self, row: int, channel: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(1, 16)
        box.setValue(channel + 1)
        box.setToolTip("MIDI channel (10 = drums)")
        box.setFrame(False)
        box.editingFinished.connect(lambda: self._apply("Set channel", edits.set_track_channel, row, box.value() - 1))
        return box

    def _program_box(self, row: int, program: int, drums: bool) -> QComboBox:
        box = QComboBox()
        box.setModel(self._programs)  # one shared list: 128 items per row made big songs slow
        box.setCurrentIndex(program)
        box.setEnabled(not drums)
        box.setToolTip("Drum kit (channel 10)" if drums else "General MIDI program")
        box.setFrame(False)
        box.activated.connect(lambda idx: self._apply("Set program", edits.set_track_program, row, idx))
        return box

    def _toggle(self, row: int, text: str, on: bool, fn, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setCheckable(True)
        button.setChecked(on)
        button.setToolTip(tip)
        button.setObjectName(f"track{text}")
        button.toggled.connect(lambda checked: self._apply(tip, fn, row, checked))
        return button

    def _select_active(self, index: int) -> None:
        if 0 <= index < self.table.rowCount() and self.table.currentRow() != index:
            was, self._building = self._building, True
            self.table.setCurrentCell(index, 0)
            self._building = was
            self._on_scrolled()

    def resizeEvent(self, event) -> None:  # Qt override: more rows may come into view
        super().resizeEvent(event)
        self._on_scrolled()

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._building or item.column() != 0:
            return
        row, name = item.row(), item.text()
        if name.strip() and name != self.document.song.tracks[row].name:
            self._apply("Rename track", edits.rename_track, row, name)
        else:
            self._shown = ()
            self.rebuild()

    def _on_current_changed(self, row: int, col: int, prev_row: int, prev_col: int) -> None:
        if not self._building and 0 <= row < len(self.document.song.tracks):
            self.document.set_active_track(row)
