"""Edit-menu verbs on the selection: clipboard, duplicate, delete, quantize, transpose, velocity.

Owns the clipboard format (MIME ``application/x-musicapp-notes``: JSON rows
``[start, pitch, length, velocity]`` in ticks, relative to the earliest note) and the rule
for where a paste lands (the edit cursor, which then moves to the end of the pasted block so
repeated pastes follow each other). Every verb is one undo step via ``core.edits``.
"""

from __future__ import annotations

import atexit
import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from musicapp.core import edits
from musicapp.core.song import Note
from musicapp.ui.document import Document
from musicapp.ui.pianoroll.widget import PianoRoll

NOTES_MIME = "application/x-musicapp-notes"


def notes_to_mime(notes: list[Note]) -> QMimeData:
    first = min(n.start for n in notes)
    rows = [[n.start - first, n.pitch, n.length, n.velocity] for n in notes]
    mime = QMimeData()
    mime.setData(NOTES_MIME, json.dumps(rows).encode("utf-8"))
    mime.setText(" ".join(f"{r[1]}@{r[0]}" for r in rows[:64]))
    return mime


def _clear_clipboard_at_exit() -> None:
    """Empty our clipboard data while Python still runs (see ``_set_clipboard``)."""
    app = QApplication.instance()
    if app is None:
        return
    mime = app.clipboard().mimeData()
    if mime is not None and mime.hasFormat(NOTES_MIME):  # never wipe another program's copy
        app.clipboard().clear()


def _set_clipboard(mime: QMimeData) -> None:
    """Put ``mime`` on the clipboard.

    Qt frees clipboard data when it tears down after the interpreter is gone, which crashes
    (SIGSEGV) with Python-created QMimeData; clearing it from an atexit hook avoids that.
    Registering the same function again is a no-op for atexit's purpose (unregister first).
    """
    atexit.unregister(_clear_clipboard_at_exit)
    atexit.register(_clear_clipboard_at_exit)
    QApplication.clipboard().setMimeData(mime)


def notes_from_mime(mime: QMimeData | None) -> list[Note]:
    """Notes on the clipboard (empty if it holds none or holds garbage)."""
    if mime is None or not mime.hasFormat(NOTES_MIME):
        return []
    try:
        rows = json.loads(bytes(mime.data(NOTES_MIME)).decode("utf-8"))
        return [Note(int(s), int(p), int(ln), int(v)) for s, p, ln, v in rows]
    except (ValueError, TypeError):
        return []


class EditVerbs:
    """The selection verbs of one document and piano roll."""

    def __init__(self, document: Document, roll: PianoRoll, dialogs):
        self.document = document
        self.roll = roll
        self.dialogs = dialogs

    def _sel(self) -> frozenset:
        return self.document.selection

    def copy(self) -> bool:
        notes = self.document.selected_notes()
        if not notes:
            return False
        _set_clipboard(notes_to_mime(notes))
        self.roll.status(f"Copied {len(notes)} note(s)")
        return True

    def cut(self) -> bool:
        if not self.copy():
            return False
        sel = self._sel()
        self.document.apply("Cut", lambda s: edits.remove_notes(s, sel))
        return True

    def paste(self) -> bool:
        notes = notes_from_mime(QApplication.clipboard().mimeData())
        doc = self.document
        if not notes or not doc.song.tracks:
            return False
        track, at = doc.active_track, self.roll.cursor_tick
        doc.apply("Paste", lambda s: edits.paste_notes(s, track, notes, at))
        span = max(n.end for n in notes) - min(n.start for n in notes)
        self.roll.set_cursor_tick(self._round_up(at + span))
        return True

    def _round_up(self, tick: int) -> int:
        g = self.roll.grid.ticks(self.document.song.ppq)
        return -(-tick // g) * g

    def duplicate(self) -> bool:
        notes = self.document.selected_notes()
        if not notes:
            return False
        span = max(n.end for n in notes) - min(n.start for n in notes)
        offset = self._round_up(span)
        sel = self._sel()
        self.document.apply("Duplicate", lambda s: edits.duplicate_notes(s, sel, offset))
        return True

    def delete(self) -> bool:
        sel = self._sel()
        if not sel:
            return False
        self.document.apply("Delete", lambda s: edits.remove_notes(s, sel))
        return True

    def quantize(self, ends: bool = False) -> bool:
        """Snap the selection (or the whole active track if nothing is selected) to the grid."""
        doc = self.document
        sel = self._sel()
        if not sel and doc.song.tracks:
            ti = doc.active_track
            sel = frozenset((ti, i) for i in range(len(doc.song.tracks[ti].notes)))
        if not sel:
            return False
        g, ppq = self.roll.grid, doc.song.ppq
        if g.swung:  # onto the late off-beat lines too
            return doc.apply("Quantize", lambda s: edits.snap_notes(s, sel, lambda t: g.snap(t, ppq), ends, g.ticks(ppq)))
        grid = g.ticks(ppq) if g.enabled else ppq // 4
        return doc.apply("Quantize", lambda s: edits.quantize_notes(s, sel, grid, 1.0, ends))

    def transpose(self, semitones: int) -> bool:
        sel = self._sel()
        if not sel:
            return False
        return self.document.apply("Transpose", lambda s: edits.transpose_notes(s, sel, semitones))

    def set_velocity(self) -> bool:
        notes = self.document.selected_notes()
        if not notes:
            return False
        value = self.dialogs.ask_int("Set velocity", "Velocity (1-127):", notes[0].velocity, 1, 127)
        if value is None:
            return False
        sel = self._sel()
        return self.document.apply("Set velocity", lambda s: edits.set_velocity(s, sel, value))

    def select_all(self) -> None:
        self.document.select_all()

    def select_none(self) -> None:
        self.document.set_selection(())
