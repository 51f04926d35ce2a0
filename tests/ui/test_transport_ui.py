"""The transport bar and keyboard wired to a real engine Transport playing into a recording output."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from musicapp.core.errors import MusicappError
from musicapp.core.song import Note
from musicapp.engine.outputs import RecordingOutput
from musicapp.engine.transport import Transport
from musicapp.ui.autosave import AutosaveConfig
from musicapp.ui.dialogs import ScriptedDialogs
from musicapp.ui.document import Document
from musicapp.ui.main_window import MainWindow
from musicapp.ui.playback import Playback
from tests.ui.conftest import drag, make_settings, song_with


class RecorderChoice:
    """Output chooser offering one recording output (real ports need a MIDI backend)."""

    def __init__(self, transport, recorder):
        self.transport, self.recorder, self.selected = transport, recorder, []

    def names(self):
        return ["Silent", "Recorder", "Broken"]

    def select(self, name):
        if name == "Broken":
            raise MusicappError("cannot open output 'Broken': device busy")
        self.selected.append(name)
        self.transport.set_output(self.recorder if name == "Recorder" else None)


@pytest.fixture
def engine_win(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    transport = Transport()
    recorder = RecordingOutput()
    doc = Document(song_with([Note(0, 60, 240), Note(240, 62, 240), Note(480, 64, 240)]))
    chooser = RecorderChoice(transport, recorder)
    w = MainWindow(settings=make_settings(tmp_path), dialogs=ScriptedDialogs(), playback=Playback(doc, transport),
                   output_chooser=chooser, autosave=AutosaveConfig(folder=tmp_path / "rec"), document=doc)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    w.select_output("Recorder")
    yield w, transport, recorder
    w.document.undo_stack.setClean()
    w.close()
    transport.close()


def note_ons(recorder):
    return [m[1] for _, m in list(recorder.messages) if m[0] & 0xF0 == 0x90 and m[2] > 0]


def test_space_plays_song_snapshot_and_moves_playhead_then_stops(engine_win, qtbot):
    win, transport, recorder = engine_win
    assert win.actions_.play.isEnabled()
    QTest.keyClick(win.roll.canvas, Qt.Key_Space)
    qtbot.waitUntil(lambda: 64 in note_ons(recorder), timeout=10000)
    assert note_ons(recorder)[:3] == [60, 62, 64]
    qtbot.waitUntil(lambda: win.roll.playhead_tick > 0, timeout=10000)
    assert win.transport_bar.position_label.text() != "1.1.000"
    QTest.keyClick(win.roll.canvas, Qt.Key_Space)
    qtbot.waitUntil(lambda: not transport.is_playing, timeout=10000)
    assert not win.playback.is_playing


def test_edits_reach_the_engine_as_new_snapshots(engine_win, qtbot):
    win, transport, _ = engine_win
    win.roll.add_notes([Note(960, 72, 240)])
    assert transport.song is win.document.song


def test_loop_region_and_metronome_go_to_transport(engine_win):
    win, transport, _ = engine_win
    ruler = win.roll.ruler
    v = win.roll.view
    y = ruler.height() - 3
    drag(ruler, QPoint(int(v.tick_to_x(0)) + 1, y), QPoint(int(v.tick_to_x(1920)) + 1, y))
    assert transport.loop == (0, 1920)
    win.actions_.loop.trigger()  # toggles off
    assert transport.loop is None and win.roll.loop is None


def test_keyboard_click_auditions_through_engine(engine_win, qtbot):
    win, _, recorder = engine_win
    v = win.roll.view
    v.scroll_to(top_pitch=84)
    QTest.mouseClick(win.roll.keyboard, Qt.LeftButton, Qt.NoModifier, QPoint(50, int(v.pitch_to_y(69) + 3)))
    qtbot.waitUntil(lambda: 69 in note_ons(recorder), timeout=10000)


def test_tempo_meter_key_fields_are_undoable_song_edits(engine_win):
    win, transport, _ = engine_win
    bar = win.transport_bar
    bar.tempo.setValue(96)
    assert round(win.document.song.tempos[0].bpm) == 96
    bar.meter_num.setValue(3)
    assert win.document.song.meters[0].numerator == 3
    bar.key_box.setCurrentIndex(bar.key_box.findText("D minor"))
    assert str(win.document.song.key) == "D minor"
    assert win.roll.scale_pcs == frozenset({2, 4, 5, 7, 9, 10, 0})
    for _ in range(3):
        win.document.undo_stack.undo()
    assert round(win.document.song.tempos[0].bpm) == 120 and win.document.song.key is None
    assert round(bar.tempo.value()) == 120


def test_output_choice_is_remembered_and_a_failing_one_is_reported(engine_win):
    win, _, _ = engine_win
    box = win.transport_bar.output_box
    assert box.currentText() == "Recorder" and win.settings.output == "Recorder"
    box.activated.emit(box.findText("Broken"))
    assert "device busy" in win.statusBar().currentMessage()
    assert box.currentText() == "Recorder" and win.settings.output == "Recorder"
    box.activated.emit(box.findText("Silent"))
    assert win.settings.output == "Silent"


def test_metronome_action_makes_the_engine_click(engine_win, qtbot):
    win, transport, recorder = engine_win
    win.actions_.metronome.trigger()
    assert win.settings.metronome
    win.playback.play(0)
    qtbot.waitUntil(lambda: any(m[0] == 0x99 for _, m in list(recorder.messages)), timeout=10000)
    win.playback.stop()
