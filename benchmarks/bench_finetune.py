"""Benchmark of "learn my style": prints figures, asserts nothing.

``quality``: fine-tune the shipped LSTM for ``--minutes`` (5) of CPU time on the ``train/``
files of a style it never saw (``benchmarks/finetune_style_data.py`` writes Palestrina mass
movements as multi-voice .mid files; the melody is found by the app's own extraction), exactly
as ``musicapp finetune`` does (1 torch thread), then measure nats/note of the base and the
fine-tuned model on the held-out ``test/`` files of that style and on the shipped model's own
test split (the corpus cache). Targets: style -15% or better; own test split +10% at most.

``ui``: the editor (Qt offscreen) starts a fine-tune from its learning dialog (the real child
process: nice 10, pinned to the last core) and, while it runs, measures the main thread's
stalls (largest gap of a 1 ms QTimer probe in each 250 ms window, p95 and max) and Continue
latency (request -> candidates, 2 bars x 4, p50). The same with no fine-tune is the reference.
Targets: stall p95 < 30 ms, Continue p50 < 100 ms.

    python benchmarks/finetune_style_data.py /tmp/style
    python benchmarks/bench_finetune.py quality --data /tmp/style [--minutes 5]
    python benchmarks/bench_finetune.py ui --data /tmp/style [--seconds 90]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def own_test_split(limit: int | None):
    """The shipped model's test split from the corpus cache (the shards present)."""
    from musicapp.ml import corpus
    from musicapp.ml.dataset import encoded_splits

    present = tuple(c for c in corpus.TRAIN_CORPORA if (corpus.cache_dir() / f"{c}.npz").exists())
    tunes = encoded_splits(present, prepare=False)["test"] if present else []
    if limit and len(tunes) > limit:
        step = len(tunes) / limit
        tunes = [tunes[int(i * step)] for i in range(limit)]
    return tunes, present


def quality(args) -> int:
    from dataclasses import asdict

    from musicapp.ml.checkpoint import read_meta
    from musicapp.ml.encoding import EncodingInfo
    from musicapp.ml.finetune import FinetuneConfig, finetune
    from musicapp.ml.finetune_tasks import TASKS
    from musicapp.ml.training import model_tensors
    from musicapp.ml.user_melodies import read_user_melodies
    from musicapp.ml.user_models import resolve_model

    base = resolve_model(args.base, "lstm")
    kind = read_meta(base)[0].kind

    def nats_per_note(checkpoint, tunes) -> float:
        """The model's held-out figure over ``tunes`` (the task's own measure for its kind)."""
        meta, tensors = model_tensors(checkpoint, kind=kind, encoding=asdict(EncodingInfo()))
        return TASKS[kind](meta, tensors, tunes, tunes, [], FinetuneConfig(corpus_share=0.0)).nats_per_note()

    data_dir = Path(args.data)
    out_dir = Path(tempfile.mkdtemp(prefix="bench_finetune_"))
    train = read_user_melodies([data_dir / "train"])
    test = read_user_melodies([data_dir / "test"])
    print(f"style data: {len(train.melodies)} train melodies ({train.notes} notes, {train.minutes:.0f} min), "
          f"{len(test.melodies)} held-out test melodies ({test.notes} notes); skipped {len(train.skipped) + len(test.skipped)}")
    t0 = time.perf_counter()
    events = []
    res = finetune(train, base, out_dir / "style.json", out_dir / "run",
                   FinetuneConfig(minutes=args.minutes, threads=1), report=events.append,
                   log=lambda s: print(s, flush=True))
    wall = time.perf_counter() - t0
    print(f"fine-tune: {res.steps} steps, {res.seconds / 60:.2f} min of training ({wall / 60:.2f} min wall with "
          f"data loading), stopped: {res.stopped}, corpus mix: {res.corpus_mix}")
    evals = [e for e in events if e["event"] == "eval"]
    print("  validation (user held-out 15%) nats/step by step: "
          + ", ".join(f"{e['step']}:{e['valid_loss']:.3f}" for e in evals))
    own, present = own_test_split(args.own_limit)
    style = [m.tune for m in test.melodies]
    rows = {}
    for label, tunes in (("style test (held-out Palestrina files)", style), (f"shipped test split ({len(own)} tunes)", own)):
        rows[label] = (nats_per_note(base, tunes), nats_per_note(res.model, tunes))
    print(f"base model: {base.stem} ({kind}); nats/note" + (" = negative ELBO per note" if kind == "vae" else ""))
    print(f"\n{'':<44} {'base':>8} {'tuned':>8} {'change':>8}   target")
    targets = ("<= -15%", "<= +10%")
    for (label, (b, t)), target in zip(rows.items(), targets):
        print(f"{label:<44} {b:8.3f} {t:8.3f} {(t / b - 1) * 100:+7.1f}%   {target}")
    print(f"(corpus shards for the mix and the own split: {', '.join(present) or 'none'}; "
          f"threads: 1 torch thread; load: {os.getloadavg()[0]:.1f} 1-min load average at the end)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "steps": res.steps, "seconds": res.seconds,
                                               "stopped": res.stopped, "evals": evals}, indent=1))
    return 0


class GapProbe:
    """A 1 ms QTimer on the main thread; per-window largest gap between its ticks (ms)."""

    def __init__(self, window_s: float = 0.25):
        from PySide6.QtCore import QTimer

        self.window = window_s
        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self.windows: list[float] = []
        self.last = self.w_start = None
        self.w_max = 0.0

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.w_max = max(self.w_max, now - self.last)
        if self.w_start is None:
            self.w_start = now
        elif now - self.w_start >= self.window:
            self.windows.append(self.w_max * 1000)
            self.w_start, self.w_max = now, 0.0
        self.last = now

    def start(self):
        self.windows, self.last, self.w_start, self.w_max = [], None, None, 0.0
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.windows


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def ui(args) -> int:
    os.environ["MUSICAPP_USER_MODELS"] = tempfile.mkdtemp(prefix="bench_finetune_models_")
    os.environ.setdefault("MUSICAPP_DATA", tempfile.mkdtemp(prefix="bench_finetune_data_"))
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from musicapp.app import build_window
    from musicapp.core.song import Note, Song, Track
    from musicapp.ui.dialogs import ScriptedDialogs
    from musicapp.ui.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    settings = AppSettings(QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.IniFormat))
    win = build_window(settings=settings, dialogs=ScriptedDialogs(), with_engine=False)
    win.resize(1280, 800)
    win.show()
    q = 480
    phrase = [Note(i * q // 2, p, q // 2, 90) for i, p in enumerate([60, 62, 64, 65, 67, 69, 67, 65,
                                                                      64, 62, 60, 62, 64, 67, 72, 71])]
    win.document.reset(Song(tracks=(Track(name="Lead", notes=tuple(phrase)),)))
    win.roll.set_cursor_tick(8 * q)
    ctrl = win.generate
    ctrl.set_options(bars=2, variations=4)

    def spin(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def wait(done, timeout=120.0) -> None:
        end = time.perf_counter() + timeout
        while not done() and time.perf_counter() < end:
            spin(0.002)

    ctrl.preload()
    wait(lambda: not ctrl.worker.busy)

    def measure(seconds: float) -> tuple[list[float], list[float]]:
        probe = GapProbe()
        probe.start()
        lat = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            ctrl.continue_phrase()
            wait(lambda: not ctrl.busy, 30)
            lat.append((time.perf_counter() - t0) * 1000)
            ctrl.dismiss()
            spin(0.25)
        return probe.stop(), lat

    ref_gaps, ref_lat = measure(args.seconds / 3)
    dlg = win.learn_dialog
    dlg.set_paths([str(Path(args.data) / "train")])
    wait(lambda: dlg.scan is not None, 60)
    dlg.name.setText("bench style")
    dlg.minutes.setValue(max(1, int(args.seconds / 60) + 2))
    dlg.show()
    dlg.start()
    wait(lambda: any(e.get("event") == "step" for e in dlg.events), 120)
    started = next(e for e in dlg.events if e.get("event") == "started")
    gaps, lat = measure(args.seconds)
    steps = max((e["step"] for e in dlg.events if e.get("event") == "step"), default=0)
    dlg.cancel()
    wait(lambda: not dlg.running, 120)
    print(f"fine-tune process during the measurement: {started['cpu']}; {steps} steps; cores: "
          f"{os.cpu_count()}; editor unpinned, ML worker thread at its usual nice; Qt offscreen")
    print(f"{'':<30} {'stall p95':>10} {'stall max':>10} {'Continue p50':>13} {'p95':>8}  (n)")
    for label, g, l in (("no fine-tune (reference)", ref_gaps, ref_lat), ("while fine-tuning", gaps, lat)):
        print(f"{label:<30} {_pct(g, 0.95):8.1f}ms {max(g):8.1f}ms {statistics.median(l):11.1f}ms "
              f"{_pct(l, 0.95):6.1f}ms  ({len(g)} windows, {len(l)} requests)")
    print("targets while fine-tuning: stall p95 < 30 ms, Continue p50 < 100 ms "
          f"(stall = largest gap of a 1 ms QTimer in each 250 ms window; load {os.getloadavg()[0]:.1f})")
    print(f"dialog after cancel: {dlg.eta.text()!r}")
    win.close()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("quality")
    p.add_argument("--data", required=True)
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--base", default="lstm", help="model to fine-tune (lstm, vae_2bar, infill, a path)")
    p.add_argument("--own-limit", type=int, default=None, help="at most this many own-test-split tunes")
    p.add_argument("--json", help="also write the figures here")
    p = sub.add_parser("ui")
    p.add_argument("--data", required=True)
    p.add_argument("--seconds", type=float, default=90.0)
    args = ap.parse_args()
    return quality(args) if args.what == "quality" else ui(args)


if __name__ == "__main__":
    sys.exit(main())
