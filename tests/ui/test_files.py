"""File menu behaviour on real files: projects, .mid open/import/export, drop, drag-out, prompts."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from musicapp.core.midifile import read_midi, write_midi
from musicapp.core.song import Control, Key, Note, Song, Track
from tests.ui.conftest import click, make_settings, notes, song_with


def two_track_song() -> Song:
    return Song(tracks=(Track("Melody", 0, 73, (Note(0, 72, 240, 90), Note(480, 74, 240, 80))),
                        Track("Bass", 1, 33, (Note(0, 36, 960, 100),))), key=Key(7, "major"))


def test_save_as_then_ctrl_s_saves_without_dialog_and_reloads(win, dialogs, tmp_path):
    click(win, 0, 60)
    path = tmp_path / "song.musicapp"
    dialogs.paths.append(str(path))
    QTest.keyClick(win.roll.canvas, Qt.Key_S, Qt.ControlModifier)
    assert path.is_file() and not win.document.is_modified
    assert win.windowTitle().startswith("song.musicapp")
    click(win, 480, 62)
    asked = len(dialogs.asked)
    QTest.keyClick(win.roll.canvas, Qt.Key_S, Qt.ControlModifier)
    assert len(dialogs.asked) == asked  # no dialog the second time
    win.roll.set_grid(win.roll.grid.from_text("8t"))
    saved = win.document.song
    win.files.save()
    win.document.reset(Song())
    assert win.files.open_path(path)
    assert win.document.song == saved
    assert win.roll.grid.to_text() == "8t"  # editor state came back
    assert str(path.resolve()) in win.settings.recent_files()


def test_open_mid_then_ctrl_s_asks_for_a_project_name_and_leaves_the_mid(win, dialogs, tmp_path):
    path = tmp_path / "in.mid"
    write_midi(two_track_song(), path)
    before = path.read_bytes()
    assert win.files.open_path(path)
    assert [t.name for t in win.document.song.tracks] == ["Melody", "Bass"]
    win.document.set_selection({(0, 0)})
    QTest.keyClick(win.roll.canvas, Qt.Key_Delete)
    dialogs.paths.append(str(tmp_path / "in.musicapp"))
    QTest.keyClick(win.roll.canvas, Qt.Key_S, Qt.ControlModifier)
    assert dialogs.asked[-1] == "save: Save in.mid as a project (the .mid stays as it is)"
    assert path.read_bytes() == before
    from musicapp.core.project import load_project
    assert [n.pitch for n in load_project(tmp_path / "in.musicapp")[0].tracks[0].notes] == [74]
    assert win.document.path == (tmp_path / "in.musicapp").resolve() and not win.document.is_modified


def test_ctrl_s_on_a_mid_cancelled_writes_nothing(win, dialogs, tmp_path):
    (tmp_path / "songs").mkdir()
    path = tmp_path / "songs" / "in.mid"
    write_midi(two_track_song(), path)
    assert win.files.open_path(path)
    click(win, 0, 60)
    QTest.keyClick(win.roll.canvas, Qt.Key_S, Qt.ControlModifier)  # no path given: cancelled
    assert [p.name for p in path.parent.iterdir()] == ["in.mid"] and win.document.is_modified
    win.document.undo_stack.setClean()


def test_editing_an_opened_mid_keeps_its_pedal_and_bend_when_saved_back(win, tmp_path):
    import mido

    pedal = (Control(0, "control_change", 64, 127), Control(240, "pitchwheel", 0, -2000),
             Control(900, "control_change", 64, 0))
    song = Song(tracks=(replace(two_track_song().tracks[0], controls=pedal), two_track_song().tracks[1]))
    path = tmp_path / "daw.mid"
    write_midi(song, path)
    mf = mido.MidiFile(path)  # plus a volume on channel 16, which no track plays
    mf.tracks[0].insert(0, mido.Message("control_change", channel=15, control=7, value=10))
    mf.save(path)
    said: list[str] = []
    win.files.message.connect(said.append)
    assert win.files.open_path(path)
    assert said[-1].endswith("; controllers on channels without notes were left out (channel 16)")
    win.document.set_selection({(0, 0)})
    QTest.keyClick(win.roll.canvas, Qt.Key_Delete)
    before = path.read_bytes()
    win.dialogs.paths.append(str(path))  # Save As the same .mid: rewritten, the old one kept
    assert win.files.save_as()
    back = read_midi(path).tracks[0]
    assert [n.pitch for n in back.notes] == [74] and back.controls == pedal
    assert (tmp_path / "daw.mid.bak").read_bytes() == before


def test_import_offers_tracks_with_their_notes_and_controller_events(win, dialogs, tmp_path):
    song = two_track_song()
    lead = replace(song.tracks[0], controls=(Control(0, "control_change", 7, 100), Control(5, "pitchwheel", 0, 9)))
    path = tmp_path / "two.mid"
    write_midi(song.replace(tracks=(lead, song.tracks[1])), path)
    assert win.files.import_midi(path)
    assert dialogs.asked[-1] == ("tracks: two.mid: ['Melody — ch 1, Flute, C5–D5, 2 notes, 2 controller events', "
                                 "'Bass — ch 2, Electric Bass (finger), C2, 1 note']")
    assert win.document.song.tracks[-2].controls == lead.controls


def test_import_adds_only_chosen_tracks_in_one_step(win, dialogs, tmp_path):
    path = tmp_path / "two.mid"
    write_midi(two_track_song(), path)
    click(win, 0, 60)
    dialogs.track_answers.append([1])
    assert win.files.import_midi(path)
    assert [t.name for t in win.document.song.tracks] == ["Piano", "Bass"]
    assert win.document.active_track == 1
    win.document.undo_stack.undo()
    assert len(win.document.song.tracks) == 1


def test_import_into_empty_song_takes_file_timing(win, dialogs, tmp_path):
    path = tmp_path / "two.mid"
    write_midi(two_track_song(), path)
    assert win.files.import_midi(path)
    assert [t.name for t in win.document.song.tracks] == ["Melody", "Bass"]
    assert win.document.song.key == Key(7, "major")


def test_import_into_empty_song_takes_the_files_chords_and_conductor_events(win, dialogs, tmp_path):
    from musicapp.core.chords import Chord
    from musicapp.core.kept_events import KeptEvent

    chords = (Chord(0, 960, 7), Chord(960, 960, 0, "maj7"), Chord(1920, 1920, 2, "7", bass=6))
    extras = (KeptEvent(0, 0x02, b"(c) 2026 someone"), KeptEvent(1920, 0x06, b"Verse"))
    path = tmp_path / "lead-sheet.mid"
    write_midi(two_track_song().replace(chords=chords, extras=extras), path)
    assert win.files.import_midi(path)
    song = win.document.song
    assert song.chords == chords and song.extras == extras
    win.document.undo_stack.undo()
    assert win.document.song.chords == () and win.document.song.extras == ()
    typed = (Chord(0, 1920, 9, "min"),)  # chords typed into the empty song stay if the file has none
    win.document.reset(Song(chords=typed))
    write_midi(two_track_song(), tmp_path / "plain.mid")
    assert win.files.import_midi(tmp_path / "plain.mid")
    assert win.document.song.chords == typed and len(win.document.song.tracks) == 2


def test_export_whole_song_and_selection(win, dialogs, tmp_path):
    win.document.reset(song_with([Note(1920 + 240, 60, 240), Note(1920 + 720, 64, 240), Note(0, 50, 240)]))
    whole, part = tmp_path / "whole.mid", tmp_path / "part"
    dialogs.paths.append(str(whole))
    QTest.keyClick(win.roll.canvas, Qt.Key_E, Qt.ControlModifier)
    assert read_midi(whole).note_count == 3
    win.document.set_selection({(0, 1), (0, 2)})
    dialogs.paths.append(str(part))
    QTest.keyClick(win.roll.canvas, Qt.Key_E, Qt.ControlModifier | Qt.ShiftModifier)
    exported = read_midi(tmp_path / "part.mid")
    assert [(n.start, n.pitch) for n in exported.tracks[0].notes] == [(240, 60), (720, 64)]  # from bar 2


def test_dropping_a_mid_file_imports_it(win, tmp_path):
    path = tmp_path / "drop.mid"
    write_midi(Song(tracks=(Track("Drop", 0, 0, (Note(0, 67, 480),)),)), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(win, QDropEvent(QPointF(300, 300), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert [n.pitch for n in notes(win)] == [67]


def test_drag_out_carries_selection_as_mid_file_url(win, monkeypatch):
    from PySide6.QtGui import QDrag

    carried = {}

    def fake_exec(self, *args):  # no drop target exists offscreen; capture what would be dropped
        carried["urls"] = self.mimeData().urls()
        return Qt.CopyAction

    monkeypatch.setattr(QDrag, "exec", fake_exec)
    win.document.reset(song_with([Note(2000, 60, 240), Note(2500, 62, 240), Note(100, 40, 100)]))
    win.document.set_selection({(0, 1), (0, 2)})
    assert win.files.drag_selection_out(win.drag_handle)
    (url,) = carried["urls"]
    clip = read_midi(url.toLocalFile())
    assert [(n.start, n.pitch) for n in clip.tracks[0].notes] == [(80, 60), (580, 62)]


def test_close_with_unsaved_changes_asks_and_cancel_keeps_window(win, dialogs):
    click(win, 0, 60)
    dialogs.unsaved_answers.append("cancel")
    assert not win.close()
    assert win.isVisible()
    dialogs.unsaved_answers.append("discard")
    assert win.close()


def test_open_bad_file_reports_one_line_and_keeps_document(win, dialogs, tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    click(win, 0, 60)
    before = win.document.song
    assert not win.files.open_path(bad, ask=False)
    assert win.document.song is before
    assert len(dialogs.errors) == 1 and "\n" not in dialogs.errors[0]


def test_settings_remember_grid_theme_and_window(qtbot, tmp_path, win):
    win.set_grid(win.roll.grid.from_text("32"))
    win.set_theme("light")
    win.close()
    from musicapp.app import build_window
    from musicapp.ui.dialogs import ScriptedDialogs

    again = build_window(settings=make_settings(tmp_path), dialogs=ScriptedDialogs(), with_engine=False)
    qtbot.addWidget(again)
    assert again.roll.grid.to_text() == "32"
    assert again.roll.theme.name == "light"
    again.set_theme("dark")


def test_alt_drag_on_selected_note_starts_external_midi_drag(win, monkeypatch):
    from PySide6.QtGui import QDrag

    carried = []
    monkeypatch.setattr(QDrag, "exec", lambda self, *a: carried.append(self.mimeData().urls()) or Qt.CopyAction)
    win.document.reset(song_with([Note(0, 60, 480), Note(480, 64, 480)]))
    win.roll.view.scroll_to(left_tick=0, top_pitch=84)
    win.document.set_selection({(0, 1)})
    click(win, 480, 64, mods=Qt.AltModifier, dx=10)
    assert len(carried) == 1
    clip = read_midi(carried[0][0].toLocalFile())
    assert [(n.start, n.pitch) for n in clip.tracks[0].notes] == [(480, 64)]
    assert notes(win) == (Note(0, 60, 480), Note(480, 64, 480))  # nothing moved


def test_new_asks_about_unsaved_changes_then_starts_empty(win, dialogs):
    click(win, 0, 60)
    dialogs.unsaved_answers.append("cancel")
    QTest.keyClick(win.roll.canvas, Qt.Key_N, Qt.ControlModifier)
    assert notes(win)  # cancelled: still there
    dialogs.unsaved_answers.append("discard")
    QTest.keyClick(win.roll.canvas, Qt.Key_N, Qt.ControlModifier)
    assert win.document.song.note_count == 0 and not win.document.is_modified
    assert win.document.undo_stack.count() == 0


def test_open_recent_menu_lists_saved_file_and_reopens_it(win, dialogs, tmp_path):
    path = tmp_path / "recent.musicapp"
    click(win, 0, 60)
    dialogs.paths.append(str(path))
    assert win.files.save_as()
    win.document.reset(Song())
    win.recent_menu.aboutToShow.emit()
    entries = [a for a in win.recent_menu.actions() if a.text() == str(path.resolve())]
    assert len(entries) == 1
    entries[0].trigger()
    assert [n.pitch for n in notes(win)] == [60]
