"""Models > Learn From MIDI Files...: pick files, see what was found, train in another process.

Owns :class:`LearnDialog` and :class:`LossPlot`. Scanning the files and training both run in a
child process (``ModelServices.worker_command``, a ``QProcess``) that prints JSON lines; the
dialog only parses them, so the editor's threads never read MIDI files or run torch. It shows
the melodies, notes and minutes found and every skipped file with its reason, a name and a time
budget and the model to start from (the melody LSTM, the VAE or one of the user's); while
training, a progress bar with the time left, a live plot of the train and
validation loss, Cancel (the child keeps the best weights so far and installs them) and, at the
end, a card with the data, the training time and the held-out nats/note before and after.
"""

from __future__ import annotations

import json
from typing import Callable

from PySide6.QtCore import QPointF, QProcess, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

TRAIN_COLOR, VALID_COLOR = QColor("#4a90d9"), QColor("#e08a2c")


class LossPlot(QWidget):
    """Train and validation loss (nats per 16th step) against optimizer step, drawn live."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train: list[tuple[float, float]] = []
        self.valid: list[tuple[float, float]] = []
        self.setMinimumSize(420, 200)

    def clear(self) -> None:
        self.train, self.valid = [], []
        self.update()

    def add(self, step: float, train: float | None, valid: float | None) -> None:
        """One evaluation's point(s)."""
        if train is not None:
            self.train.append((step, train))
        if valid is not None:
            self.valid.append((step, valid))
        self.update()

    def paintEvent(self, event) -> None:  # Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), self.palette().base())
        left, top, right, bottom = 48, 10, self.width() - 10, self.height() - 24
        p.setPen(self.palette().text().color())
        p.drawRect(left, top, right - left, bottom - top)
        pts = self.train + self.valid
        if not pts:
            p.drawText(self.rect(), Qt.AlignCenter, "the loss curves appear here while it learns")
            return
        x1 = max(1.0, max(x for x, _ in pts))
        lo, hi = min(y for _, y in pts), max(y for _, y in pts)
        pad = max(1e-3, (hi - lo) * 0.1)
        lo, hi = lo - pad, hi + pad
        sx = lambda x: left + (right - left) * x / x1  # noqa: E731
        sy = lambda y: bottom - (bottom - top) * (y - lo) / (hi - lo)  # noqa: E731
        for frac in (0.0, 0.5, 1.0):
            y = lo + (hi - lo) * frac
            p.drawText(2, int(sy(y)) + 4, f"{y:.3f}")
        p.drawText(left, self.height() - 6, "step 0")
        p.drawText(right - 70, self.height() - 6, f"step {int(x1)}")
        for series, color, label, row in ((self.train, TRAIN_COLOR, "train", 0), (self.valid, VALID_COLOR,
                                                                                  "validation", 1)):
            p.setPen(QPen(color, 2))
            if len(series) > 1:
                p.drawPolyline(QPolygonF([QPointF(sx(x), sy(y)) for x, y in series]))
            for x, y in series[-1:]:
                p.drawEllipse(QPointF(sx(x), sy(y)), 2.5, 2.5)
            p.drawText(right - 90, top + 16 + 16 * row, f"— {label}")
        p.end()


def _minutes(seconds: float) -> str:
    s = max(0, int(round(seconds)))
    return f"{s // 60}:{s % 60:02d}"


class LearnDialog(QDialog):
    """The learning dialog. ``command()`` gives ``(program, args)`` that start the worker module."""

    model_ready = Signal(str)  # the new model's name, once installed

    def __init__(self, command: Callable[[], tuple[str, list[str]]], parent: QWidget | None = None,
                 bases: Callable[[], list[str]] = lambda: ["lstm"]) -> None:
        super().__init__(parent)
        self._bases = bases
        self.setWindowTitle("Learn From MIDI Files")
        self._command = command
        self.paths: list[str] = []
        self.scan: dict | None = None
        self.result: dict | None = None
        self.events: list[dict] = []
        self._scan_proc: QProcess | None = None
        self.proc: QProcess | None = None
        self._buf = b""
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.add_files = QPushButton("Add Files...")
        self.add_folder = QPushButton("Add Folder...")
        self.clear_btn = QPushButton("Clear")
        for b in (self.add_files, self.add_folder, self.clear_btn):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.path_list = QListWidget()
        self.path_list.setMaximumHeight(70)
        lay.addWidget(self.path_list)
        self.found = QLabel("Choose .mid files or a folder of them.")
        self.found.setWordWrap(True)
        lay.addWidget(self.found)
        self.skipped = QListWidget()
        self.skipped.setMaximumHeight(90)
        lay.addWidget(self.skipped)
        form = QFormLayout()
        self.name = QLineEdit("my style")
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 240)
        self.minutes.setValue(5)
        self.minutes.setSuffix(" min")
        self.base = QComboBox()
        self.base.setToolTip("The model to start from: the melody LSTM (Continue) or the VAE (Vary), "
                             "or one of your own")
        self.refresh_bases()
        form.addRow("Start from", self.base)
        form.addRow("Name", self.name)
        form.addRow("Time budget", self.minutes)
        lay.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.eta = QLabel("")
        self.plot = LossPlot()
        self.card = QLabel("")
        self.card.setWordWrap(True)
        self.card.setTextInteractionFlags(Qt.TextSelectableByMouse)
        for w in (self.progress, self.eta, self.plot, self.card):
            lay.addWidget(w)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.learn = QPushButton("Learn")
        self.cancel_btn = QPushButton("Cancel Learning")
        self.close_btn = QPushButton("Close")
        for b in (self.learn, self.cancel_btn, self.close_btn):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.add_files.clicked.connect(self._pick_files)
        self.add_folder.clicked.connect(self._pick_folder)
        self.clear_btn.clicked.connect(lambda: self.set_paths([]))
        self.learn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.close_btn.clicked.connect(self.hide)
        self.name.textChanged.connect(self._update_buttons)
        self._update_buttons()

    def refresh_bases(self) -> None:
        """Re-list the models a fine-tune can start from (keeps the current choice)."""
        current = self.base.currentText()
        self.base.clear()
        self.base.addItems(self._bases())
        if current:
            self.base.setCurrentText(current)

    # ----- choosing files ------------------------------------------------------------------
    def _pick_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "MIDI files to learn from", "", "MIDI files (*.mid *.midi)")
        if files:
            self.set_paths(self.paths + files)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of MIDI files to learn from")
        if folder:
            self.set_paths(self.paths + [folder])

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.NotRunning

    def set_paths(self, paths: list[str]) -> None:
        """Choose these files/folders and scan them in the worker process."""
        self.paths = list(dict.fromkeys(paths))
        self.path_list.clear()
        self.path_list.addItems(self.paths)
        self.scan = None
        self.skipped.clear()
        self._update_buttons()
        if not self.paths:
            self.found.setText("Choose .mid files or a folder of them.")
            return
        self.found.setText("Reading the files...")
        if self._scan_proc is not None:
            self._scan_proc.kill()
        proc = QProcess(self)
        program, args = self._command()
        proc.finished.connect(lambda *_: self._scanned(proc))
        self._scan_proc = proc
        proc.start(program, args + ["scan", *self.paths])

    def _scanned(self, proc: QProcess) -> None:
        if proc is not self._scan_proc:
            return
        self._scan_proc = None
        events = [e for e in _json_lines(bytes(proc.readAllStandardOutput()))]
        scan = next((e for e in events if e.get("event") == "scan"), None)
        if scan is None:
            err = next((e["message"] for e in events if e.get("event") == "error"), "the files could not be read")
            self.found.setText(f"⚠ {err}")
            return
        self.scan = scan
        n = scan["melodies"]
        text = (f"Found {n} melod{'y' if n == 1 else 'ies'}, {scan['notes']:,} notes, "
                f"{scan['minutes']:.1f} minutes of music.")
        if scan["skipped"]:
            text += f" {len(scan['skipped'])} file(s) skipped:"
        if n < 2 or scan["notes"] < 200:
            text += " ⚠ Too little to learn from: at least 2 melodies and 200 notes are needed."
        self.found.setText(text)
        self.skipped.addItems([f"{s['path']}: {s['reason']}" for s in scan["skipped"]])
        self._update_buttons()

    def _update_buttons(self) -> None:
        ok = bool(self.scan and self.scan["melodies"] >= 2 and self.scan["notes"] >= 200)
        self.learn.setEnabled(ok and bool(self.name.text().strip()) and not self.running)
        self.cancel_btn.setEnabled(self.running)
        for w in (self.add_files, self.add_folder, self.clear_btn, self.name, self.minutes, self.base):
            w.setEnabled(not self.running)

    # ----- training ------------------------------------------------------------------------
    def start(self, config: dict | None = None) -> None:
        """Start (or resume) the fine-tune in the worker process. ``config``: FinetuneConfig overrides."""
        if self.running or not self.paths:
            return
        job = {"paths": self.paths, "name": self.name.text().strip(), "base": self.base.currentText() or "lstm",
               "minutes": float(self.minutes.value()), "config": dict(config or {})}
        self.result, self.events, self._buf = None, [], b""
        self.plot.clear()
        self.progress.setValue(0)
        self.card.setText("")
        self.eta.setText("Starting...")
        proc = QProcess(self)
        proc.readyReadStandardOutput.connect(self._read)
        proc.finished.connect(self._finished)
        self.proc = proc
        program, args = self._command()
        proc.start(program, args + ["train", json.dumps(job)])
        self._update_buttons()

    def cancel(self) -> None:
        """Ask the worker to stop; it keeps and installs the best weights so far."""
        if self.running:
            self.proc.write(b"cancel\n")
            self.eta.setText("Stopping; keeping the best model so far...")
            self.cancel_btn.setEnabled(False)

    def _read(self) -> None:
        self._buf += bytes(self.proc.readAllStandardOutput())
        *lines, self._buf = self._buf.split(b"\n")
        for e in _json_lines(b"\n".join(lines)):
            self.events.append(e)
            self._handle(e)

    def _handle(self, e: dict) -> None:
        kind = e.get("event")
        if kind == "data" and not e.get("corpus_mix"):
            self.card.setText("The original corpus is not prepared on this machine, so it is not mixed in: "
                              "the new model may forget more of what it knew.")
        elif kind == "step":
            frac = min(1.0, e["seconds"] / max(1e-9, e["budget"]))
            self.progress.setValue(int(frac * 1000))
            self.eta.setText(f"Step {e['step']} · {_minutes(e['seconds'])} of {_minutes(e['budget'])} · "
                             f"about {_minutes(e['budget'] - e['seconds'])} left · loss {e['loss']:.3f}")
        elif kind == "eval":
            self.plot.add(e["step"], e["train_loss"], e["valid_loss"])
        elif kind == "done":
            self.result = e
            self.progress.setValue(1000)
            self.eta.setText("Finished." if e["stopped"] != "cancelled" else "Cancelled; the best model so far is kept.")
            self.card.setText(finished_card(e))
            self.model_ready.emit(e["name"])
        elif kind == "error":
            self.eta.setText(f"⚠ {e['message']}")

    def _finished(self, *_args) -> None:
        self._read()
        if self.result is None and not any(e.get("event") == "error" for e in self.events):
            self.eta.setText("⚠ The learning process stopped unexpectedly; Learn again resumes where it stopped.")
        self._update_buttons()

    def stop_and_wait(self, msecs: int = 30000) -> None:
        """Cancel a running fine-tune and wait for it to save (window closing)."""
        if self.running:
            self.cancel()
            self.proc.waitForFinished(msecs)


def finished_card(e: dict) -> str:
    """The card shown when a fine-tune ends: data, time, held-out figures before and after."""
    change = (e["nats_per_note"] / e["base_nats_per_note"] - 1) * 100 if e["base_nats_per_note"] else 0.0
    why = {"budget": "time budget used", "early": "stopped early: no further gain", "cancelled": "cancelled",
           "steps": "step limit"}.get(e["stopped"], e["stopped"])
    mix = "" if e.get("corpus_mix") else " (without the original corpus mixed in)"
    return (f"<b>{e['name']}</b>: learned from {e['melodies']} melodies ({e['notes']:,} notes, {e['minutes']:.1f} "
            f"minutes of music) in {e['seconds'] / 60:.1f} minutes, {e['steps']} steps ({why}){mix}.<br>"
            f"Held-out melodies: {e['base_nats_per_note']:.3f} nats/note before, {e['nats_per_note']:.3f} after "
            f"({change:+.1f}%; lower is better).<br>Choose it in the Generate panel's Model list.")


def _json_lines(data: bytes) -> list[dict]:
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out
