"""The open document: the current Song snapshot, the selection, the active track and the undo stack.

Owns the only mutable reference to the song in the UI. Widgets read ``document.song`` and
never change it; every change is a ``SongCommand`` (a QUndoCommand holding the Song before
and after, computed by a pure function from ``musicapp.core.edits``) pushed with
``document.apply``. Because Songs are immutable, undo and redo just swap snapshots, which
share their unchanged notes.

Selection is a frozenset of ``NoteRef = (track index, note index)`` so identical notes can be
selected one at a time. Ghost notes are a non-editable overlay (e.g. generated candidates):
they are not part of the song and never enter the undo stack until accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from musicapp.core.edits import EditResult, NoteRef
from musicapp.core.errors import MusicappError
from musicapp.core.song import Note, Song, Track

SongEdit = Callable[[Song], "Song | EditResult"]


class SongCommand(QUndoCommand):
    """One undoable step: swaps between two Song snapshots (and their selections).

    ``merge_id`` (>= 0) lets consecutive commands of the same kind merge into one step
    (``mergeWith``), e.g. repeated arrow-key nudges of the same selection.
    """

    def __init__(self, document: "Document", text: str, before: Song, after: Song,
                 sel_before: frozenset[NoteRef], sel_after: frozenset[NoteRef], merge_id: int = -1):
        super().__init__(text)
        self._doc = document
        self.before, self.after = before, after
        self.sel_before, self.sel_after = sel_before, sel_after
        self._merge_id = merge_id

    def id(self) -> int:  # Qt override
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # Qt override
        if not isinstance(other, SongCommand) or other.id() != self._merge_id or self._merge_id < 0:
            return False
        if other.before is not self.after or other.sel_before != self.sel_after:
            return False  # something happened in between (another edit, a new selection)
        self.after, self.sel_after = other.after, other.sel_after
        return True

    def redo(self) -> None:  # Qt override
        self._doc._set_state(self.after, self.sel_after)

    def undo(self) -> None:  # Qt override
        self._doc._set_state(self.before, self.sel_before)


class Document(QObject):
    """The song being edited, with selection, active track, undo stack and file path."""

    song_changed = Signal()
    selection_changed = Signal()
    active_track_changed = Signal(int)
    ghosts_changed = Signal()
    path_changed = Signal()
    modified_changed = Signal(bool)
    edit_failed = Signal(str)  # one-line reason an edit was refused
    replaced = Signal()  # reset(): another song (new/open/recovery) replaced the document

    def __init__(self, song: Song | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._song = song if song is not None else Song(tracks=(Track(name="Track 1"),))
        self._selection: frozenset[NoteRef] = frozenset()
        self._active = 0
        self._ghosts: tuple[Note, ...] = ()
        self._ghost_replaces: tuple[Note, ...] = ()
        self._ghost_track = 0
        self._path: Path | None = None
        self.revision = 0  # bumps on every song change (autosave compares it)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)

    # ----- reading ----------------------------------------------------------------------------
    @property
    def song(self) -> Song:
        return self._song

    @property
    def selection(self) -> frozenset[NoteRef]:
        return self._selection

    @property
    def active_track(self) -> int:
        """Index of the track that drawing, pasting and selection act on."""
        return self._active

    @property
    def path(self) -> Path | None:
        """File the document was opened from or last saved to (a project or a .mid)."""
        return self._path

    @property
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    def selected_notes(self) -> list[Note]:
        """Selected notes, sorted by start."""
        tracks = self._song.tracks
        return sorted(tracks[t].notes[i] for t, i in self._selection)

    # ----- changing ---------------------------------------------------------------------------
    def apply(self, text: str, edit: SongEdit, merge_id: int = -1) -> bool:
        """Run ``edit(song)`` and push it as one undo step named ``text``.

        ``edit`` returns a Song (selection cleared where indices would go stale) or an
        EditResult (its selection is kept). Returns False when nothing changed or the edit
        was refused (a MusicappError; its message goes out on ``edit_failed``).
        """
        before = self._song
        try:
            result = edit(before)
        except MusicappError as err:
            self.edit_failed.emit(str(err))
            return False
        if isinstance(result, EditResult):
            after, sel = result.song, result.selection
        else:
            after = result
            sel = self._selection if after.tracks == before.tracks else frozenset()
        if after == before and sel == self._selection:
            return False
        self.undo_stack.push(SongCommand(self, text, before, after, self._selection, sel, merge_id))
        return True

    def set_selection(self, refs: Iterable[NoteRef]) -> None:
        """Select exactly ``refs`` (refs that do not exist are dropped)."""
        tracks = self._song.tracks
        sel = frozenset(
            (t, i) for t, i in refs if 0 <= t < len(tracks) and 0 <= i < len(tracks[t].notes)
        )
        if sel != self._selection:
            self._selection = sel
            self.selection_changed.emit()

    def select_all(self) -> None:
        """Select every note of the active track."""
        if self._song.tracks:
            n = len(self._song.tracks[self._active].notes)
            self.set_selection((self._active, i) for i in range(n))

    def set_active_track(self, index: int) -> None:
        if not self._song.tracks:
            index = 0
        elif not 0 <= index < len(self._song.tracks):
            raise IndexError(f"no track {index}")
        if index != self._active:
            self._active = index
            self.set_selection(())
            self.active_track_changed.emit(index)
            self.song_changed.emit()

    def reset(self, song: Song, path: Path | None = None) -> None:
        """Replace the whole document (new/open): clears undo history, selection and ghosts."""
        self.undo_stack.clear()
        self._song = song
        self._selection = frozenset()
        self._active = 0
        self._ghosts = ()
        self._ghost_replaces = ()
        self.revision += 1
        self.set_path(path)
        self.undo_stack.setClean()
        self.song_changed.emit()
        self.selection_changed.emit()
        self.ghosts_changed.emit()
        self.active_track_changed.emit(0)
        self.replaced.emit()

    def set_path(self, path: Path | None) -> None:
        self._path = Path(path) if path is not None else None
        self.path_changed.emit()

    def mark_saved(self, path: Path | None = None) -> None:
        if path is not None:
            self.set_path(path)
        self.undo_stack.setClean()

    # ----- ghost notes (non-editable overlay) -------------------------------------------------
    @property
    def ghost_notes(self) -> tuple[Note, ...]:
        return self._ghosts

    @property
    def ghost_track(self) -> int:
        return self._ghost_track

    @property
    def ghost_replaces(self) -> tuple[Note, ...]:
        """Notes of the ghost track that accepting the ghosts would replace (drawn as such)."""
        return self._ghost_replaces

    def set_ghost_notes(self, notes: Iterable[Note], track: int | None = None, replaces: Iterable[Note] = ()) -> None:
        """Show ``notes`` as translucent ghosts over ``track`` (default: the active track);
        ``replaces`` are existing notes shown as to-be-replaced."""
        self._ghosts = tuple(sorted(notes))
        self._ghost_track = self._active if track is None else track
        self._ghost_replaces = tuple(replaces) if self._ghosts else ()
        self.ghosts_changed.emit()

    def clear_ghost_notes(self) -> None:
        self.set_ghost_notes(())

    # ----- internal ---------------------------------------------------------------------------
    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def _set_state(self, song: Song, selection: frozenset[NoteRef]) -> None:
        self._song = song
        self.revision += 1
        if self._active >= len(song.tracks):
            self._active = max(0, len(song.tracks) - 1)
            self.active_track_changed.emit(self._active)
        self._selection = selection
        self.song_changed.emit()
        self.selection_changed.emit()
