"""File operations of the editor: new, open, save, save as, recent files, MIDI import/export,
drop of .mid files and dragging the selection out as a .mid (``DragHandle``).

Owns the policy (which format a path means, when to ask about unsaved changes, what goes
into the recent list) and talks to the user only through the injected ``Dialogs``. Reading
and writing are ``core.project`` and ``core.midifile``; every failure is a MusicappError shown
as one line, and the document is left as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QMimeData, QObject, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLabel, QWidget

from musicapp.core import edits
from musicapp.core.errors import MusicappError
from musicapp.core.song import Song, Track
from musicapp.ui.dialogs import MIDI_FILTER, OPEN_FILTER, PROJECT_FILTER
from musicapp.ui.document import Document
from musicapp.ui.settings import AppSettings

PROJECT_SUFFIX = ".musicapp"
MIDI_SUFFIXES = (".mid", ".midi")


def new_song() -> Song:
    """The song a new document starts with: one piano track, 120 BPM, 4/4."""
    return Song(tracks=(Track(name="Piano", channel=0, program=0),))


def is_midi_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MIDI_SUFFIXES


class FileController(QObject):
    """File menu behaviour for one document."""

    message = Signal(str)
    recent_changed = Signal()
    opened = Signal(object)  # editor state dict of the opened project ({} for .mid); object: a
    # dict signal converts to a QVariantMap, which overflows on a hostile 10**30

    def __init__(self, document: Document, dialogs, settings: AppSettings,
                 editor_state: Callable[[], dict], parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.dialogs = dialogs
        self.settings = settings
        self.editor_state = editor_state
        self.on_saved: Callable[[], None] | None = None  # e.g. drop the recovery file
        self._drag_dir: Path | None = None

    # ----- helpers ----------------------------------------------------------------------------
    def display_name(self) -> str:
        return self.document.path.name if self.document.path else "Untitled"

    def _fail(self, err: MusicappError) -> None:
        self.message.emit(str(err))
        self.dialogs.error(str(err))

    def _folder(self) -> str:
        path = self.document.path
        if path is not None:
            return str(path.parent)
        recent = self.settings.recent_files()
        return str(Path(recent[0]).parent) if recent else ""

    def maybe_save_changes(self) -> bool:
        """Ask about unsaved changes; True when it is fine to discard the document."""
        if not self.document.is_modified:
            return True
        answer = self.dialogs.unsaved_changes(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ----- new / open -------------------------------------------------------------------------
    def new_document(self) -> bool:
        if not self.maybe_save_changes():
            return False
        self.document.reset(new_song())
        self.opened.emit({})
        self.message.emit("New song")
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_save_changes():
            return False
        path = self.dialogs.open_path("Open", OPEN_FILTER, self._folder())
        return self.open_path(path, ask=False) if path else False

    def open_path(self, path: str | Path, ask: bool = True) -> bool:
        """Open a project or a .mid file, replacing the document. False on cancel or error."""
        if ask and not self.maybe_save_changes():
            return False
        path = Path(path)
        remarks: tuple[str, ...] = ()
        try:
            if is_midi_path(path):
                from musicapp.core.midifile import read_midi_details

                details = read_midi_details(path)
                song, state, remarks = details.song, {}, details.notes
            else:
                from musicapp.core.project import load_project

                song, state = load_project(path)
        except MusicappError as err:
            self._fail(err)
            return False
        self.document.reset(song, path.resolve())
        self.opened.emit(state)
        self._remember(path)
        self.message.emit(f"Opened {path.name} ({song.note_count} notes, {len(song.tracks)} tracks)"
                          + "".join(f"; {r}" for r in remarks))
        return True

    def _remember(self, path: Path) -> None:
        self.settings.add_recent_file(str(path))
        self.recent_changed.emit()

    # ----- save -------------------------------------------------------------------------------
    def save(self) -> bool:
        """Save back to the project the document came from; no dialog if known.

        As DAWs do, a document opened from a .mid is saved as a project: Save asks for its
        name (suggesting NAME.musicapp beside the .mid), and the .mid is left as it is. Save
        As or Export with a .mid name rewrites a .mid (keeping the old one as NAME.mid.bak).
        """
        path = self.document.path
        if path is None:
            return self.save_as()
        if is_midi_path(path):
            return self.save_as(f"Save {path.name} as a project (the .mid stays as it is)")
        return self._write(path)

    def save_as(self, title: str = "Save As") -> bool:
        suggested = str(self.document.path.with_suffix(PROJECT_SUFFIX)) if self.document.path else "untitled.musicapp"
        path = self.dialogs.save_path(title, PROJECT_FILTER + ";;" + MIDI_FILTER, suggested)
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() not in (PROJECT_SUFFIX, *MIDI_SUFFIXES):
            path = path.with_name(path.name + PROJECT_SUFFIX)
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            if is_midi_path(path):
                from musicapp.core.midifile import write_midi

                write_midi(self.document.song, path, keep_backup=True)
            else:
                from musicapp.core.project import save_project

                save_project(path, self.document.song, self.editor_state())
        except MusicappError as err:
            self._fail(err)
            return False
        self.document.mark_saved(path.resolve())
        self._remember(path)
        if self.on_saved is not None:
            self.on_saved()
        self.message.emit(f"Saved {path.name}")
        return True

    # ----- MIDI import / export ---------------------------------------------------------------
    def import_dialog(self) -> bool:
        path = self.dialogs.open_path("Import MIDI", MIDI_FILTER, self._folder())
        return self.import_midi(path) if path else False

    def import_midi(self, path: str | Path) -> bool:
        """Add the tracks the user picks from a .mid file to the song (one undo step)."""
        from musicapp.core.midifile import read_midi_details

        path = Path(path)
        try:
            details = read_midi_details(path)
            imported = details.song
        except MusicappError as err:
            self._fail(err)
            return False
        if not imported.tracks:
            self._fail(MusicappError(f"{path.name} has no notes to import"))
            return False
        from musicapp.ui.import_chooser import describe_track, spread_channels

        names = [describe_track(t, i) for i, t in enumerate(imported.tracks)]
        chosen = self.dialogs.choose_tracks(path.name, names, imported.tracks)
        if not chosen:
            return False
        song = self.document.song
        empty = song.note_count == 0
        tracks = spread_channels(() if empty else song.tracks,
                                 [imported.tracks[i] for i in chosen if 0 <= i < len(imported.tracks)])
        first_new = 0 if empty else len(song.tracks)

        def do_import(s: Song) -> Song:
            base = s.replace(tracks=()) if s.note_count == 0 else s
            return edits.merge_tracks(base, tracks, imported if s.note_count == 0 else None)

        self.document.apply(f"Import {path.name}", do_import)
        self.document.set_active_track(first_new)
        self.message.emit(f"Imported {len(tracks)} track(s) from {path.name}"
                          + "".join(f"; {r}" for r in details.notes))
        return True

    def export_dialog(self, selection_only: bool = False) -> bool:
        """Ask for a path and export the whole song, or only the selected notes, as .mid."""
        doc = self.document
        if selection_only and not doc.selection:
            self.message.emit("Nothing selected to export")
            return False
        stem = doc.path.stem if doc.path else "untitled"
        suggested = str(Path(self._folder() or ".") / f"{stem}{'-selection' if selection_only else ''}.mid")
        path = self.dialogs.save_path("Export MIDI", MIDI_FILTER, suggested)
        return self.export_midi(path, selection_only) if path else False

    def export_midi(self, path: str | Path, selection_only: bool = False) -> bool:
        from musicapp.core.midifile import write_midi

        path = Path(path)
        if not is_midi_path(path):
            path = path.with_name(path.name + ".mid")
        try:
            song = self.document.song
            if selection_only:
                song = edits.extract_song(song, self.document.selection)
            write_midi(song, path, keep_backup=True)
        except MusicappError as err:
            self._fail(err)
            return False
        self.message.emit(f"Exported {path.name} ({song.note_count} notes)")
        return True

    # ----- drag and drop ----------------------------------------------------------------------
    def drop_paths(self, paths: list[str]) -> bool:
        """Files dropped on the window: a project opens, .mid files are imported."""
        done = False
        for p in paths:
            if Path(p).suffix.lower() == PROJECT_SUFFIX:
                done = self.open_path(p) or done
            elif is_midi_path(p):
                done = self.import_midi(p) or done
            else:
                self.message.emit(f"Cannot open {Path(p).name}: not a project or .mid file")
        return done

    def selection_midi_file(self) -> Path:
        """Write the selection (or the whole active track) to a temporary .mid; its path."""
        from musicapp.core.midifile import write_midi

        doc = self.document
        refs = doc.selection
        if not refs:
            ti = doc.active_track
            refs = frozenset((ti, i) for i in range(len(doc.song.tracks[ti].notes))) if doc.song.tracks else frozenset()
        song = edits.extract_song(doc.song, refs)
        if self._drag_dir is None:
            self._drag_dir = Path(tempfile.mkdtemp(prefix="musicapp-drag-"))
        path = self._drag_dir / f"{doc.path.stem if doc.path else 'musicapp'}-clip.mid"
        write_midi(song, path)
        return path

    def drag_selection_out(self, source: QWidget) -> bool:
        """Start a drag carrying the selection as a .mid file URL (for a DAW or file manager)."""
        try:
            path = self.selection_midi_file()
        except MusicappError as err:
            self.message.emit(str(err))
            return False
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        mime.setData("audio/midi", path.read_bytes())
        drag = QDrag(source)
        drag.setMimeData(mime)
        drag.exec(Qt.CopyAction)
        return True

    def cleanup(self) -> None:
        if self._drag_dir is not None:
            shutil.rmtree(self._drag_dir, ignore_errors=True)
            self._drag_dir = None


class DragHandle(QLabel):
    """Press and drag to carry the selection out of the app as a .mid file."""

    def __init__(self, files: "FileController"):
        super().__init__(" ♪ Drag MIDI ")
        self.files = files
        self.setObjectName("dragHandle")
        self.setToolTip("Drag the selection (or the whole track) into a DAW or file manager as a .mid file")
        self.setCursor(Qt.OpenHandCursor)
        self._press: QPoint | None = None

    def mousePressEvent(self, event) -> None:  # Qt override
        self._press = event.position().toPoint()

    def mouseMoveEvent(self, event) -> None:  # Qt override
        if self._press is not None and (event.position().toPoint() - self._press).manhattanLength() > 4:
            self._press = None
            self.files.drag_selection_out(self)
