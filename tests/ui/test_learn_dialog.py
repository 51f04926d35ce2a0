"""Models > Learn From MIDI Files...: scan, train in a child process, plot, cancel, manage models."""

from __future__ import annotations

import os

from musicapp.ml.generate import MelodyGenerator
from musicapp.ui.models_menu import ManageModelsDialog
from tests.ml.finetune_helpers import write_style_files
from tests.ui.generate_helpers import PHRASE_A, lead, make_window

FAST = {"max_steps": 30, "batch": 8, "seq_len": 64, "lr": 1e-2, "eval_every": 10, "corpus_share": 0.0,
        "patience": 100}


def _window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_USER_MODELS", str(tmp_path / "user-models"))
    monkeypatch.setenv("MUSICAPP_FINETUNE_NICE", "0")  # the suite shares a busy machine: do not starve it
    win = make_window(tmp_path, monkeypatch, lead(PHRASE_A))
    win.show()
    qtbot.waitExposed(win)
    folder = write_style_files(tmp_path / "files")
    (folder / "notes.txt").write_text("not music")
    (folder / "broken.mid").write_bytes(b"MThd garbage")
    dlg = win.learn_dialog
    dlg.set_paths([str(folder)])
    qtbot.waitUntil(lambda: dlg.scan is not None, timeout=60000)
    return win, dlg


def test_learning_runs_in_a_child_process_with_a_live_plot_and_the_model_joins_the_chooser(qtbot, tmp_path,
                                                                                            monkeypatch):
    win, dlg = _window(qtbot, tmp_path, monkeypatch)
    assert [a.text() for a in win.models_menu.actions()] == ["Learn From MIDI Files...", "Manage Models..."]
    assert dlg.found.text().startswith("Found 8 melodies, 864 notes") and "2 file(s) skipped" in dlg.found.text()
    skipped = [dlg.skipped.item(i).text() for i in range(dlg.skipped.count())]
    assert any(s.endswith("notes.txt: not a MIDI file") for s in skipped) and any("broken.mid" in s for s in skipped)
    assert [dlg.base.itemText(i) for i in range(dlg.base.count())] == ["lstm", "vae_2bar"]
    dlg.name.setText("my style")
    assert dlg.learn.isEnabled()
    with qtbot.waitSignal(dlg.model_ready, timeout=120000) as sig:
        dlg.start(FAST)
        assert dlg.running and not dlg.learn.isEnabled() and dlg.cancel_btn.isEnabled()
    assert sig.args == ["my style"]
    started = next(e for e in dlg.events if e["event"] == "started")
    assert started["pid"] != os.getpid()  # trained in its own process, never in the editor's threads
    assert len(dlg.plot.valid) >= 4 and len(dlg.plot.train) == len(dlg.plot.valid)
    assert dlg.result["nats_per_note"] < dlg.result["base_nats_per_note"]
    assert "nats/note before" in dlg.card.text() and "8 melodies" in dlg.card.text()
    assert dlg.base.itemText(dlg.base.count() - 1) == "my style"  # a fine-tune can go on from it
    panel = win.generate_panel
    assert "my style" in [panel.model.itemText(i) for i in range(panel.model.count())]
    panel.model.setCurrentText("my style")
    assert win.generate.options.models["lstm"] == "my style"
    win.roll.set_cursor_tick(8 * 480)
    win.generate.continue_phrase()
    qtbot.waitUntil(lambda: not win.generate.busy, timeout=60000)
    assert win.generate.session is not None and win.generate.session.candidates
    qtbot.waitUntil(lambda: not dlg.running, timeout=10000)


def test_cancel_keeps_a_usable_model(qtbot, tmp_path, monkeypatch):
    win, dlg = _window(qtbot, tmp_path, monkeypatch)
    dlg.name.setText("halfway")
    with qtbot.waitSignal(dlg.model_ready, timeout=120000):
        dlg.start({**FAST, "max_steps": 100000, "eval_every": 5})
        qtbot.waitUntil(lambda: any(e["event"] == "eval" and e["step"] > 0 for e in dlg.events), timeout=60000)
        dlg.cancel()
    assert dlg.result["stopped"] == "cancelled" and dlg.result["steps"] < 100000
    assert "best model so far is kept" in dlg.eta.text()
    MelodyGenerator(dlg.result["model"]).load()
    qtbot.waitUntil(lambda: not dlg.running, timeout=10000)
    assert dlg.learn.isEnabled()


def test_models_are_renamed_and_deleted_and_the_chooser_follows(qtbot, tmp_path, monkeypatch):
    from musicapp.assist import model_services

    win, dlg = _window(qtbot, tmp_path, monkeypatch)
    dlg.name.setText("first")
    with qtbot.waitSignal(dlg.model_ready, timeout=120000):
        dlg.start({**FAST, "max_steps": 5})
    qtbot.waitUntil(lambda: not dlg.running, timeout=10000)
    panel = win.generate_panel
    panel.model.setCurrentText("first")
    manager = ManageModelsDialog(model_services(), lambda *a: "renamed", panel.refresh_models, win)
    names = [m[0] for m in manager.models]
    assert names == ["lstm", "vae_2bar", "first"]
    manager.list.setCurrentRow(0)
    assert not manager.rename_btn.isEnabled() and not manager.delete_btn.isEnabled()  # shipped: read-only
    manager.list.setCurrentRow(2)
    assert manager.rename("first") and "renamed" in [m[0] for m in manager.models]
    assert [panel.model.itemText(i) for i in range(panel.model.count())] == ["lstm", "renamed"]
    assert win.generate.options.models["lstm"] == "lstm"  # the chosen model vanished: back to the shipped one
    MelodyGenerator(tmp_path / "user-models" / "renamed.json").load()
    assert not manager.rename("renamed", "lstm") and "shipped model's name" in manager.message.text()
    assert manager.delete("renamed")
    assert [panel.model.itemText(i) for i in range(panel.model.count())] == ["lstm"]
    assert not list((tmp_path / "user-models").glob("*.safetensors"))
