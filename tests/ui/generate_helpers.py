"""Shared pieces for the Generate panel tests: tiny seeded real checkpoints in a models folder,
a window built by the real composition root with them, and a seed phrase."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from musicapp.app import build_window
from musicapp.core.song import Note, Song, Track
from musicapp.ui.autosave import AutosaveConfig

Q = 480  # a quarter note in ticks
LSTM_TINY = dict(hidden=24, layers=2, embed=12, feat=4, dropout=0.0)
VAE_TINY = dict(token_dim=8, pos_dim=4, enc_hidden=16, latent=8, dec_hidden=24)

#: two bars of C major quarter notes, then (after a bar of rest) two more bars.
PHRASE_A = [Note(i * Q, p, Q, 90) for i, p in enumerate([60, 62, 64, 65, 67, 65, 64, 62])]
PHRASE_B = [Note(12 * Q + i * Q, p, Q, 90) for i, p in enumerate([72, 71, 69, 67, 65, 64, 62, 60])]


def write_tiny_models(folder: Path) -> Path:
    """A random tiny LSTM (``lstm``) and VAE (``vae_2bar``) checkpoint in ``folder`` (seed 0)."""
    from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
    from musicapp.ml.encoding import EncodingInfo
    from musicapp.ml.lstm import KIND, LSTMConfig, MelodyLSTM
    from musicapp.ml.vae import MelodyVae, VaeConfig

    torch.manual_seed(0)
    lstm = LSTMConfig(**LSTM_TINY)
    save_checkpoint(folder / "lstm", MelodyLSTM(lstm).state_dict(),
                    CheckpointMeta(KIND, lstm.to_dict(), asdict(EncodingInfo())))
    vae = VaeConfig(**VAE_TINY)
    save_checkpoint(folder / "vae_2bar", MelodyVae(vae).state_dict(),
                    CheckpointMeta("vae", vae.to_dict(), asdict(EncodingInfo())))
    return folder


def make_window(tmp_path: Path, monkeypatch, song: Song, models: Path | None = None, settings=None):
    """The real window (no engine) with the assistant reading checkpoints from ``models``."""
    from tests.ui.conftest import make_settings
    from musicapp.ui.dialogs import ScriptedDialogs

    monkeypatch.setenv("MUSICAPP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICAPP_MODELS", str(models or write_tiny_models(tmp_path / "models")))
    w = build_window(settings=settings or make_settings(tmp_path), dialogs=ScriptedDialogs(),
                     autosave=AutosaveConfig(folder=tmp_path / "recovery"), with_engine=False)
    w.resize(1200, 800)
    w.document.reset(song)
    return w


def lead(notes: list[Note]) -> Song:
    return Song(tracks=(Track(name="Lead", notes=tuple(notes)),))


def show_window(w, qtbot):
    """Show ``w`` active (shortcuts need the active window), bar 1 at the left, zoomed for tests."""
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)
    w.roll.view.scroll_to(left_tick=0, top_pitch=84)
    w.roll.view.px_per_tick = 0.08
    return w


def close_window(w) -> None:
    """Close ``w`` without the save prompt; the ML worker must stop."""
    w.document.undo_stack.setClean()
    w.close()
    assert w.generate.worker.close(5.0)
    w.deleteLater()


def wait_candidates(qtbot, win, timeout=20000) -> None:
    qtbot.waitUntil(lambda: win.generate.session is not None and bool(win.generate.session.candidates)
                    and not win.generate.busy, timeout=timeout)


def wait_worker_signal(qtbot, signal, action, timeout: int = 15000) -> list:
    """Run ``action`` and wait until the worker's ``signal`` has been emitted; returns the
    emissions' arguments. Not ``qtbot.waitSignal``: the worker emits progress many times from
    its own thread, and a queued emission reaching pytest-qt's blocker after its event loop is
    gone crashed the test process (segfault in ``_quit_loop_by_signal``, seen several times)."""
    got: list = []

    def record(*args) -> None:
        got.append(args)

    signal.connect(record)
    try:
        action()
        qtbot.waitUntil(lambda: bool(got), timeout=timeout)
    finally:
        signal.disconnect(record)
    return got
