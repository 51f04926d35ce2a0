"""The Generate panel driven like a user: keys and mouse on the real window, tiny real models."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from musicapp.core.song import Note
from tests.ui.conftest import drag, point
from tests.ui.generate_helpers import (
    PHRASE_A, PHRASE_B, Q, close_window, lead, make_window, show_window, wait_candidates,
    wait_worker_signal,
)


@pytest.fixture
def gwin(qtbot, tmp_path, monkeypatch):
    w = show_window(make_window(tmp_path, monkeypatch, lead(PHRASE_A)), qtbot)
    yield w
    close_window(w)


def keys(win, key, mods=Qt.NoModifier):
    win.roll.canvas.setFocus()
    QTest.keyClick(win.roll.canvas, key, mods)


def test_continue_cycle_accept_then_undo_removes_the_notes(gwin, qtbot):
    ctrl, doc = gwin.generate, gwin.document
    gwin.roll.canvas.setFocus()
    keys(gwin, Qt.Key_A, Qt.ControlModifier)  # select the phrase: it is the seed
    keys(gwin, Qt.Key_Return, Qt.ControlModifier)  # Continue phrase
    wait_candidates(qtbot, gwin)
    s = ctrl.session
    assert len(s.candidates) == ctrl.options.variations == 4
    seed_end = max(n.end for n in PHRASE_A)
    assert doc.ghost_notes == s.candidates[0] and doc.ghost_notes
    assert all(n.start >= seed_end for n in doc.ghost_notes)
    assert all(n.start < seed_end + 2 * 4 * Q for n in doc.ghost_notes)  # 2 bars after the seed
    assert "1 / 4" in gwin.generate_panel.counter.text()
    keys(gwin, Qt.Key_Tab)
    assert s.index == 1 and doc.ghost_notes == s.candidates[1]
    keys(gwin, Qt.Key_Tab)
    keys(gwin, Qt.Key_Backtab, Qt.ShiftModifier)
    assert s.index == 1
    chosen = doc.ghost_notes
    steps = doc.undo_stack.count()
    keys(gwin, Qt.Key_Return)  # accept
    assert doc.ghost_notes == ()
    assert doc.undo_stack.count() == steps + 1
    track = doc.song.tracks[0].notes
    assert set(chosen) <= set(track) and len(track) == len(PHRASE_A) + len(chosen)
    keys(gwin, Qt.Key_Z, Qt.ControlModifier)
    assert doc.song.tracks[0].notes == tuple(PHRASE_A)


def test_escape_dismisses_and_the_menu_lists_the_shortcuts(gwin, qtbot):
    texts = {a.text().replace("&", ""): a.shortcut().toString() for a in gwin.generate_menu.actions()}
    assert texts["Continue Phrase"] == "Ctrl+Return" and texts["Accept Candidate"] == "Return"
    assert texts["Next Candidate"] == "Tab" and texts["Dismiss Candidates"] == "Esc"
    gwin.roll.set_cursor_tick(8 * Q)  # no selection: the notes before the cursor are the seed
    gwin.generate_panel.go.click()
    wait_candidates(qtbot, gwin)
    assert gwin.generate.session.seed.notes == tuple(PHRASE_A)
    keys(gwin, Qt.Key_Escape)
    assert gwin.document.ghost_notes == () and gwin.generate.session is None
    assert gwin.document.song.tracks[0].notes == tuple(PHRASE_A)


def continue_before_cursor(win, qtbot) -> int:
    """Select tool, cursor after the phrase, Continue; returns the request id shown."""
    win.roll.set_tool("select")
    win.roll.set_cursor_tick(8 * Q)
    win.generate.continue_phrase()
    wait_candidates(qtbot, win)
    return win.generate._rid


def test_dragging_a_seed_note_regenerates_the_continuation(gwin, qtbot):
    ctrl, doc = gwin.generate, gwin.document
    first_rid = continue_before_cursor(gwin, qtbot)
    last = PHRASE_A[-1]
    with qtbot.waitSignal(ctrl.ghosts_shown, timeout=15000) as shown:
        drag(gwin.roll.canvas, point(gwin, last.start, last.pitch, 10), point(gwin, last.start, last.pitch + 5, 10))
    assert shown.args[0] > first_rid
    moved = Note(last.start, last.pitch + 5, last.length, last.velocity)
    assert moved in doc.song.tracks[0].notes and moved in ctrl.session.seed.notes
    assert last not in ctrl.session.seed.notes
    assert doc.ghost_notes == ctrl.session.current and doc.ghost_notes


def test_ghost_notes_follow_a_seed_note_while_it_is_still_being_dragged(gwin, qtbot):
    ctrl, doc = gwin.generate, gwin.document
    first_rid, song = continue_before_cursor(gwin, qtbot), doc.song
    last = PHRASE_A[-1]
    start, end = point(gwin, last.start, last.pitch, 10), point(gwin, last.start, last.pitch + 4, 10)
    QTest.mousePress(gwin.roll.canvas, Qt.LeftButton, Qt.NoModifier, start)
    with qtbot.waitSignal(ctrl.ghosts_shown, timeout=15000) as shown:
        for k in range(1, 5):
            QTest.mouseMove(gwin.roll.canvas, start + (end - start) * (k / 4))
    assert shown.args[0] > first_rid and doc.song is song  # regenerated before any edit
    QTest.mouseRelease(gwin.roll.canvas, Qt.LeftButton, Qt.NoModifier, end)
    qtbot.waitUntil(lambda: last.moved(dp=4) in ctrl.session.seed.notes, timeout=3000)  # the edit settles it
    assert last not in ctrl.session.seed.notes


def test_an_edit_outside_the_seed_does_not_regenerate(gwin, qtbot):
    ctrl = gwin.generate
    ctrl.continue_phrase()
    wait_candidates(qtbot, gwin)
    rid = ctrl._rid
    gwin.roll.add_notes([Note(40 * Q, 50, Q)])  # far after the phrase and its candidates
    qtbot.wait(120)
    assert ctrl._rid == rid and gwin.document.ghost_notes


def test_a_new_request_cancels_the_running_one(gwin, qtbot):
    ctrl = gwin.generate
    ctrl.set_options(bars=64, variations=64)
    cancelled, finished = [], []
    ctrl.worker.signals.cancelled.connect(cancelled.append)
    ctrl.worker.signals.finished.connect(lambda rid, *_: finished.append(rid))
    wait_worker_signal(qtbot, ctrl.worker.signals.progress, ctrl.continue_phrase)
    slow = ctrl._rid
    ctrl.set_options(bars=1, variations=2)
    ctrl.continue_phrase()
    wait_candidates(qtbot, gwin)
    qtbot.waitUntil(lambda: slow in cancelled and bool(finished), timeout=5000)  # one queued event per receiver
    assert slow not in finished and finished[-1] == ctrl._rid
    assert len(ctrl.session.candidates) == 2


def test_closing_the_window_during_generation_exits_cleanly(qtbot, tmp_path, monkeypatch):
    w = make_window(tmp_path, monkeypatch, lead(PHRASE_A))
    w.show()
    ctrl = w.generate
    ctrl.set_options(bars=64, variations=64)
    wait_worker_signal(qtbot, ctrl.worker.signals.progress, ctrl.continue_phrase)
    assert ctrl.worker.alive
    w.document.undo_stack.setClean()
    assert w.close()
    qtbot.waitUntil(lambda: not ctrl.worker.alive, timeout=5000)
    w.deleteLater()
    qtbot.wait(10)


def test_a_broken_model_file_is_reported_and_the_editor_keeps_working(qtbot, tmp_path, monkeypatch):
    from tests.ui.generate_helpers import write_tiny_models

    models = write_tiny_models(tmp_path / "models")
    (models / "lstm.safetensors").write_bytes(b"\x00garbage" * 10)
    w = make_window(tmp_path, monkeypatch, lead(PHRASE_A), models=models)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)  # shortcuts need the active window
    w.roll.view.scroll_to(left_tick=0, top_pitch=84)
    panel = w.generate_panel
    keys(w, Qt.Key_Return, Qt.ControlModifier)
    qtbot.waitUntil(lambda: panel.message.text() != "" and not w.generate.busy, timeout=15000)
    assert "lstm" in panel.message.text().lower() and "⚠" in panel.status.text()
    assert w.document.ghost_notes == ()
    w.roll.set_tool("draw")
    QTest.mouseClick(w.roll.canvas, Qt.LeftButton, Qt.NoModifier, point(w, 16 * Q, 70))
    assert len(w.document.song.tracks[0].notes) == len(PHRASE_A) + 1
    w.document.undo_stack.undo()
    assert w.document.song.tracks[0].notes == tuple(PHRASE_A)
    w.document.undo_stack.setClean()
    w.close()
    assert w.generate.worker.close(5.0)


def test_vary_replaces_the_selection_in_one_undo_step(gwin, qtbot):
    ctrl, doc = gwin.generate, gwin.document
    doc.select_all()
    keys(gwin, Qt.Key_Return, Qt.ControlModifier | Qt.ShiftModifier)  # Vary Selection
    wait_candidates(qtbot, gwin)
    cand = ctrl.session.current
    assert cand and all(0 <= n.start < 2 * 4 * Q + Q for n in cand)  # on the phrase's own bars
    keys(gwin, Qt.Key_Return)
    assert doc.song.tracks[0].notes == tuple(sorted(cand))
    doc.undo_stack.undo()
    assert doc.song.tracks[0].notes == tuple(PHRASE_A)


def test_interpolate_lays_the_steps_out_after_the_second_phrase_as_one_morph(gwin, qtbot):
    ctrl, doc = gwin.generate, gwin.document
    doc.reset(lead(PHRASE_A + PHRASE_B))
    doc.select_all()
    gwin.generate_panel.mode.setCurrentText("Interpolate")
    gwin.generate_panel.go.click()
    wait_candidates(qtbot, gwin)
    end_b, step = 20 * Q, 8 * Q  # B ends at bar 5; each step is as long as A (2 bars)
    (morph,) = ctrl.session.candidates  # no room for 4 steps in the one bar between A and B
    assert all(end_b <= n.start < end_b + ctrl.options.variations * step for n in morph)


def test_interpolate_with_one_phrase_says_what_to_select(gwin):
    gwin.document.set_selection([(0, 0)])
    gwin.generate.interpolate_selection()
    assert "two" in gwin.generate_panel.message.text()


def test_live_toggle_regenerates_when_a_note_is_drawn(gwin, qtbot):
    ctrl = gwin.generate
    gwin.generate_panel.live.setChecked(True)
    assert gwin.actions_.live_reseed.isChecked()
    gwin.roll.set_cursor_tick(9 * Q)
    gwin.roll.set_tool("draw")
    with qtbot.waitSignal(ctrl.ghosts_shown, timeout=15000):
        QTest.mouseClick(gwin.roll.canvas, Qt.LeftButton, Qt.NoModifier, point(gwin, 8 * Q, 69))
    assert Note(8 * Q, 69, gwin.roll.default_length(), 100) in ctrl.session.seed.notes


def test_panel_shows_the_detected_key_and_an_override_is_used(gwin, qtbot):
    from musicapp.core.scales import detect_key, scale_pitch_classes
    from musicapp.core.song import Key

    panel = gwin.generate_panel
    gwin.document.reset(lead([]))  # nothing to read: the seed is empty
    qtbot.waitUntil(lambda: panel.key.itemText(0) == "Auto (empty seed)", timeout=3000)
    gwin.document.reset(lead(PHRASE_A))
    gwin.roll.set_cursor_tick(0)  # at bar 1 of a tune: the seed is the phrase before its end
    detected = str(detect_key(PHRASE_A))
    qtbot.waitUntil(lambda: panel.key.itemText(0) == f"Auto ({detected})", timeout=3000)
    panel.key.setCurrentText("E major")
    assert gwin.generate.options.key == Key(4, "major")
    gwin.generate.continue_phrase()
    wait_candidates(qtbot, gwin)
    allowed = scale_pitch_classes(Key(4, "major"))
    assert all(n.pitch % 12 in allowed for c in gwin.generate.session.candidates for n in c)


def test_audition_plays_seed_and_candidate_from_the_seed_start_then_restores_the_song(qtbot, tmp_path, monkeypatch):
    from musicapp.assist import AssistConfig, generate_services
    from musicapp.engine.outputs import RecordingOutput
    from musicapp.engine.transport import Transport
    from musicapp.ui.autosave import AutosaveConfig
    from musicapp.ui.dialogs import ScriptedDialogs
    from musicapp.ui.document import Document
    from musicapp.ui.generate import install_generate
    from musicapp.ui.main_window import MainWindow
    from musicapp.ui.playback import Playback
    from tests.ui.conftest import make_settings
    from tests.ui.generate_helpers import write_tiny_models

    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    transport, recorder = Transport(), RecordingOutput()
    transport.set_output(recorder)
    from musicapp.core.song import TempoChange

    # the last bar of the phrase, fast: a short audition
    doc = Document(lead(PHRASE_A[4:]).replace(tempos=(TempoChange.from_bpm(0, 400),)))
    w = MainWindow(settings=make_settings(tmp_path), dialogs=ScriptedDialogs(), playback=Playback(doc, transport),
                   autosave=AutosaveConfig(folder=tmp_path / "rec"), document=doc)
    ctrl = install_generate(w, generate_services(AssistConfig(models_dir=write_tiny_models(tmp_path / "m"))))
    try:
        ctrl.set_options(bars=1, variations=2, temperature=0.0)
        doc.select_all()
        ctrl.continue_phrase()
        qtbot.waitUntil(lambda: ctrl.session is not None and bool(ctrl.session.candidates), timeout=15000)
        cand = ctrl.session.current
        assert cand
        ctrl.audition()
        assert transport.song is not doc.song and len(transport.song.tracks[0].notes) == 4 + len(cand)
        qtbot.waitUntil(lambda: not w.playback.is_playing, timeout=15000)  # stops after the candidate
        ons = [m[1] for _, m in list(recorder.messages) if m[0] & 0xF0 == 0x90 and m[2] > 0]
        assert ons[:4] == [n.pitch for n in PHRASE_A[4:]]
        assert ons[4:4 + len(cand)] == [n.pitch for n in sorted(cand)]
        assert transport.song is doc.song  # the document's song is back in the engine
    finally:
        doc.undo_stack.setClean()
        w.close()
        ctrl.shutdown()
        transport.close()


def test_choosing_a_missing_gpu_says_so_and_cpu_works_again(gwin, qtbot):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    panel, ctrl = gwin.generate_panel, gwin.generate
    panel.device.setCurrentText("GPU")
    gwin.roll.set_cursor_tick(8 * Q)
    panel.go.click()
    qtbot.waitUntil(lambda: not ctrl.busy and "CUDA" in panel.message.text(), timeout=15000)
    assert "⚠" in panel.status.text() and gwin.document.ghost_notes == ()
    panel.device.setCurrentText("CPU")
    panel.go.click()
    wait_candidates(qtbot, gwin)
    assert gwin.document.ghost_notes


def test_escape_stops_a_first_generation_before_anything_is_shown(gwin, qtbot):
    ctrl = gwin.generate
    ctrl.set_options(bars=64, variations=64)
    gwin.roll.set_cursor_tick(8 * Q)
    wait_worker_signal(qtbot, ctrl.worker.signals.progress, lambda: keys(gwin, Qt.Key_Return, Qt.ControlModifier))
    assert gwin.generate_panel.dismiss_btn.text() == "Stop"
    wait_worker_signal(qtbot, ctrl.worker.signals.cancelled, lambda: keys(gwin, Qt.Key_Escape), timeout=5000)
    qtbot.waitUntil(lambda: not ctrl.busy, timeout=5000)
    qtbot.wait(50)
    assert gwin.document.ghost_notes == () and ctrl.session is None


def test_the_window_starts_without_torch_and_models_load_on_the_worker(tmp_path):
    """In a fresh process: no torch after the window is built; the service opens on the worker."""
    import subprocess
    import sys
    import textwrap

    from tests.ui.generate_helpers import write_tiny_models

    models = write_tiny_models(tmp_path / "models")
    code = textwrap.dedent(f"""
        import os, sys, threading, time
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        os.environ["MUSICAPP_MODELS"] = {str(models)!r}
        os.environ["MUSICAPP_DATA"] = {str(tmp_path / "data")!r}
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from musicapp.app import build_window
        win = build_window(with_engine=False)
        print("torch at start:", "torch" in sys.modules)
        print("numpy at start:", "numpy" in sys.modules)
        from tests.ui.generate_helpers import PHRASE_A, lead  # (imports torch itself)
        opened = []
        ctrl = win.generate
        real_open = ctrl.services.open
        ctrl.worker._opener = lambda *a: (opened.append(threading.current_thread().name), real_open(*a))[1]
        win.document.reset(lead(PHRASE_A))
        win.roll.set_cursor_tick(8 * 480)
        ctrl.continue_phrase()
        end = time.time() + 60
        while (ctrl.busy or not win.document.ghost_notes) and time.time() < end:
            app.processEvents(); time.sleep(0.005)
        print("opened on:", opened, "ghosts:", len(win.document.ghost_notes))
        win.document.undo_stack.setClean(); win.close(); print("stopped:", ctrl.shutdown())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert "torch at start: False" in out.stdout, out.stdout + out.stderr
    assert "numpy at start: False" in out.stdout, out.stdout + out.stderr  # the harmony modes load it lazily
    assert "opened on: ['musicapp-ml-worker']" in out.stdout, out.stdout + out.stderr
    assert "stopped: True" in out.stdout and out.returncode == 0, out.stdout + out.stderr
