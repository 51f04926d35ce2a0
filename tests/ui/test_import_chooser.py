"""The MIDI import chooser driven with the mouse and keys: what each track is, a preview, and
imported tracks landing on channels of their own."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from musicapp.core.midifile import write_midi
from musicapp.core.song import Note, Song, Track
from musicapp.ui.dialogs import Dialogs
from musicapp.ui.import_chooser import ImportChooser, describe_track
from tests.ui.conftest import click


def band() -> Song:
    """Three tracks a sequencer left on channel 1, one unnamed."""
    return Song(tracks=(
        Track("Piano", 0, 0, tuple(Note(i * 480, 60 + i, 480, 90) for i in range(8))),
        Track("", 0, 48, (Note(0, 55, 1920, 70), Note(1920, 67, 1920, 70))),
        Track("Bass", 0, 33, (Note(0, 36, 960, 100), Note(960, 43, 960, 100))),
    ))


def test_the_chooser_names_each_track_with_channel_instrument_range_and_a_preview(qtbot):
    song = band()
    names = [describe_track(t, i) for i, t in enumerate(song.tracks)]
    assert names == ["Piano — ch 1, Acoustic Grand Piano, C4–G4, 8 notes",
                     "Track 2 — ch 1, String Ensemble 1, G3–G4, 2 notes",
                     "Bass — ch 1, Electric Bass (finger), C2–G2, 2 notes"]
    dlg = ImportChooser("band.mid", names, song.tracks)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    lst = dlg.list
    assert all(not lst.item(i).icon().isNull() for i in range(3))  # a mini roll per track
    preview = lst.item(0).icon().pixmap(lst.iconSize()).toImage()
    assert len({preview.pixelColor(x, y).name() for x in range(0, 180, 3) for y in range(0, 40, 3)}) > 1
    QTest.mouseClick(lst.viewport(), Qt.LeftButton, Qt.NoModifier, lst.visualItemRect(lst.item(1)).center())
    QTest.keyClick(lst, Qt.Key_Space)  # leave the strings out
    assert dlg.chosen() == [0, 2]
    QTest.mouseClick(dlg.none_button, Qt.LeftButton)
    ok = dlg.buttons.button(QDialogButtonBox.Ok)
    assert dlg.chosen() == [] and not ok.isEnabled()
    QTest.mouseClick(dlg.all_button, Qt.LeftButton)
    assert dlg.chosen() == [0, 1, 2] and ok.isEnabled()


def test_import_through_the_real_chooser_puts_tracks_on_free_channels(win, tmp_path):
    path = tmp_path / "band.mid"
    write_midi(band(), path)
    click(win, 0, 72)  # the song already has a Lead on channel 1
    win.dialogs = win.files.dialogs = Dialogs(win)
    seen = []

    def answer() -> None:
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, ImportChooser):
            QTimer.singleShot(20, answer)
            return
        seen.append([dlg.list.item(i).text() for i in range(dlg.list.count())])
        lst = dlg.list
        QTest.mouseClick(lst.viewport(), Qt.LeftButton, Qt.NoModifier, lst.visualItemRect(lst.item(0)).center())
        QTest.keyClick(lst, Qt.Key_Space)  # not the piano
        QTest.mouseClick(dlg.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)

    QTimer.singleShot(0, answer)
    assert win.files.import_midi(path)
    assert seen and seen[0][1].startswith("Track 2 — ch 1, String Ensemble 1")
    tracks = win.document.song.tracks
    assert [t.channel for t in tracks] == [0, 1, 2]  # the strings and the bass got channels 2 and 3
    assert all(n.channel == t.channel for t in tracks for n in t.notes)
    assert [t.program for t in tracks[1:]] == [48, 33]
