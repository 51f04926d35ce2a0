"""The Generate panel (a dock): mode, seed source and what the seed is ("Seed: bars 1-4 of
Lead (30 notes)"), length, variations (Interpolate: steps), temperature, key and chord
lock, pitch range, the harmony modes' chords per bar and styles, model and device with status,
the main button, candidate navigation, progress and messages.

Owns only widgets: every control writes ``GenerateController.options`` and every button calls a
controller verb, so the keyboard (menu actions) and the panel do the same thing. Refreshes
from the controller's signals, and shows the options back (the mode a menu key ran, the key
and seed source going back to Auto when another song opens).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from musicapp.core.accompany_styles import STYLE_HELP, STYLES
from musicapp.core.song import NOTE_NAMES, Key
from musicapp.ui.generate import seed as seeds
from musicapp.ui.generate.jobs import morph_layout
from musicapp.ui.generate.controller import CONTINUE, INFILL_MODE, INTERPOLATE, MODES, VARY, GenerateController
from musicapp.ui.generate import harmony_modes as hm
from musicapp.ui.generate.harmony_modes import ACCOMPANY_MODE, HARMONISE
from musicapp.ui.generate.services import ACCOMPANY, DEVICES, HARMONY, INFILL, LSTM, VAE
from musicapp.ui.generate.steer_box import SteeringBox

BUTTON_TEXT = {CONTINUE: "Continue phrase", VARY: "Vary selection", INTERPOLATE: "Interpolate selection",
               INFILL_MODE: "Infill range", HARMONISE: "Harmonise melody", ACCOMPANY_MODE: "Accompany chords"}
KINDS = {CONTINUE: LSTM, INFILL_MODE: INFILL, HARMONISE: HARMONY, ACCOMPANY_MODE: ACCOMPANY}  # others: VAE
PER_BAR = {"Auto": "auto", "1 a bar": 1, "2 a bar": 2, "4 a bar": 4}
KEYS = [Key(t, m) for t in range(12) for m in ("major", "minor")]
NOT_LOADED = "not loaded (loads on first use)"
PROGRESS_MS = 100


class PitchSpin(QSpinBox):
    """A MIDI pitch 0..127 shown as a note name (C4 = 60)."""

    def __init__(self, value: int):
        super().__init__()
        self.setRange(0, 127)
        self.setValue(value)

    def textFromValue(self, value: int) -> str:  # Qt override
        return f"{NOTE_NAMES[value % 12]}{value // 12 - 1}"

    def valueFromText(self, text: str) -> int:  # Qt override
        text = text.strip()
        for i, name in enumerate(NOTE_NAMES):
            if text.upper().startswith(name.upper()) and text[len(name):].lstrip("-").isdigit():
                return max(0, min(127, (int(text[len(name):]) + 1) * 12 + i))
        return int(text) if text.isdigit() else self.value()


class GeneratePanel(QWidget):
    """Controls of the assistant; everything it does goes through ``controller``."""

    def __init__(self, controller: GenerateController, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("generatePanel")
        self.setMinimumWidth(290)
        self.ctrl = controller
        o = controller.options
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.model = QComboBox()
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(next(k for k, v in DEVICES.items() if v == o.device))
        self.status = QLabel(NOT_LOADED)
        self._status: dict[str, tuple[str, bool]] = {}  # last status line per model kind
        self.status.setWordWrap(True)
        self.bars = _spin(QSpinBox(), 1, 16, o.bars, " bars")
        self.variations = _spin(QSpinBox(), 1, 16, o.variations, "")
        self.temperature = _spin(QDoubleSpinBox(), 0.0, 2.0, o.temperature, "", 0.05)
        self.amount = _spin(QDoubleSpinBox(), 0.0, 1.0, o.amount, "", 0.05)
        self.steer = SteeringBox(controller)
        self.key_lock = QCheckBox("Key lock")
        self.key_lock.setChecked(o.key_lock)
        self.chord_lock = QCheckBox("Chord lock")
        self.chord_lock.setChecked(o.chord_lock)
        self.chord_lock.setToolTip("Favour the chord track's tones on the beats (and the scale between)")
        self.per_bar = QComboBox()
        self.per_bar.addItems(list(PER_BAR))
        self.harmony_style = QComboBox()
        self.harmony_style.addItems(["simple", "rich"])
        self.harmony_style.setToolTip("simple: triads in the key; rich: sevenths, secondary dominants, "
                                      "borrowed chords")
        self.accompany_style = QComboBox()
        for name in STYLES:
            self.accompany_style.addItem(name)
            self.accompany_style.setItemData(self.accompany_style.count() - 1, STYLE_HELP[name], Qt.ToolTipRole)
        self.accompany_style.setCurrentText(o.accompany_style)
        self.key = QComboBox()
        self.key.addItem("Auto")
        for k in KEYS:
            self.key.addItem(str(k), k)
        self.low, self.high = PitchSpin(o.pitch_low), PitchSpin(o.pitch_high)
        self.seed_from = QComboBox()
        self.seed_from.setToolTip("Track the seed is read from; the candidates go into the active track")
        self.seed_info = QLabel("")
        self.seed_info.setObjectName("seedInfo")
        self.seed_info.setWordWrap(True)
        self.swap_ab = QCheckBox("Swap A and B")
        self.swap_ab.setToolTip("Interpolate from the later phrase (B) back to the earlier one (A)")
        self.live = QCheckBox("Live re-seed")
        self.live.setToolTip("Regenerate whenever the seed is edited, even with no candidates shown")
        self.go = QPushButton(BUTTON_TEXT[o.mode])
        self.go.setObjectName("generateButton")
        self.prev_btn, self.next_btn = QPushButton("◀"), QPushButton("▶")
        self.counter = QLabel("no candidates")
        self.counter.setAlignment(Qt.AlignCenter)
        self.audition_btn, self.accept_btn, self.dismiss_btn = (
            QPushButton("Audition"), QPushButton("Accept"), QPushButton("Dismiss"))
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self._pending_progress = (0, 0)
        self._progress_shown = False
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_MS)
        self._progress_timer.timeout.connect(self._apply_progress)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("generateMessage")
        for b in (self.go, self.prev_btn, self.next_btn, self.audition_btn, self.accept_btn, self.dismiss_btn):
            b.setFocusPolicy(Qt.NoFocus)
        self._layout()
        self._connect()
        self._fill_models()
        self._key_timer = QTimer(self)
        self._key_timer.setSingleShot(True)
        self._key_timer.setInterval(60)
        self._key_timer.timeout.connect(self._update_auto_key)
        self._update_mode()
        self.refresh()

    # ----- building ---------------------------------------------------------------------------
    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Mode", self.mode)
        form.addRow("Seed from", self.seed_from)
        form.addRow("", self.seed_info)
        form.addRow("Model", self.model)
        form.addRow("Device", self.device)
        form.addRow("", self.status)
        form.addRow("Length", self.bars)
        form.addRow("Variations", self.variations)
        self._form = form
        form.addRow("Temperature", self.temperature)
        form.addRow("Amount", self.amount)
        form.addRow("Steering", self.steer)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_lock)
        key_row.addWidget(self.chord_lock)  # the chord lock sits beside the key lock
        key_row.addWidget(self.key, 1)
        form.addRow("Key", key_row)
        # one row, shown in place of Amount (a Vary option): Harmonise shows chords per bar and
        # style, Accompany its style; the panel stays as tall as before (window minimum 700 px)
        self._style_row = QHBoxLayout()
        self._style_row.addWidget(self.per_bar)
        self._style_row.addWidget(self.harmony_style)
        self._style_row.addWidget(self.accompany_style, 1)
        form.addRow("Style", self._style_row)
        rng = QHBoxLayout()
        rng.addWidget(self.low)
        rng.addWidget(QLabel("to"))
        rng.addWidget(self.high)
        form.addRow("Pitch range", rng)
        form.addRow("", self.swap_ab)
        form.addRow("", self.live)
        nav = QHBoxLayout()
        nav.addWidget(self.prev_btn)
        nav.addWidget(self.counter, 1)
        nav.addWidget(self.next_btn)
        buttons = QHBoxLayout()
        buttons.addWidget(self.audition_btn)
        buttons.addWidget(self.accept_btn)
        buttons.addWidget(self.dismiss_btn)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.go)
        box.addWidget(self.progress)
        box.addLayout(nav)
        box.addLayout(buttons)
        box.addWidget(self.message)
        box.addStretch(1)

    def _connect(self) -> None:
        c = self.ctrl
        self.mode.currentTextChanged.connect(lambda m: (c.set_options(mode=m), self._update_mode()))
        self.model.currentTextChanged.connect(self._on_model)
        self.device.currentTextChanged.connect(self._on_device)
        self.bars.valueChanged.connect(lambda v: c.set_options(bars=v))
        self.variations.valueChanged.connect(lambda v: c.set_options(variations=v))
        self.temperature.valueChanged.connect(lambda v: c.set_options(temperature=v))
        self.amount.valueChanged.connect(lambda v: c.set_options(amount=v))
        self.key_lock.toggled.connect(lambda on: c.set_options(key_lock=on))
        self.chord_lock.toggled.connect(lambda on: c.set_options(chord_lock=on))
        self.per_bar.currentTextChanged.connect(lambda t: c.set_options(per_bar=PER_BAR[t]))
        self.harmony_style.currentTextChanged.connect(lambda t: c.set_options(harmony_style=t))
        self.accompany_style.currentTextChanged.connect(lambda t: c.set_options(accompany_style=t))
        self.key.currentIndexChanged.connect(lambda i: c.set_options(key=self.key.itemData(i)))
        self.low.valueChanged.connect(lambda v: c.set_options(pitch_low=v))
        self.high.valueChanged.connect(lambda v: c.set_options(pitch_high=v))
        self.live.toggled.connect(lambda on: c.set_options(live=on))
        self.swap_ab.toggled.connect(lambda on: (c.set_options(swap_ab=on), self.seed_moved()))
        self.seed_from.activated.connect(lambda i: (c.set_options(seed_track=self.seed_from.itemData(i)),
                                                    self.seed_moved()))
        self.go.clicked.connect(c.generate)
        self.prev_btn.clicked.connect(c.previous_candidate)
        self.next_btn.clicked.connect(lambda: c.next_candidate())
        self.audition_btn.clicked.connect(c.audition)
        self.accept_btn.clicked.connect(c.accept)
        self.dismiss_btn.clicked.connect(c.dismiss)
        c.changed.connect(self.refresh)
        c.message.connect(self.show_message)
        c.progress.connect(self._on_progress)
        c.model_status.connect(self._on_model_status)
        doc = c.document
        for sig in (doc.selection_changed, doc.song_changed, doc.active_track_changed):
            sig.connect(self.seed_moved)

    def _kind(self) -> str:
        return KINDS.get(self.ctrl.options.mode, VAE)

    def refresh_models(self) -> None:
        """Re-read the model list (a model was learned, renamed or deleted); a vanished choice
        falls back to the first (shipped) model."""
        self._fill_models()
        kind = self._kind()
        if self.model.findText(self.ctrl.options.models[kind]) < 0 and self.model.count():
            self._on_model(self.model.itemText(0))
            self.model.setCurrentIndex(0)

    def _fill_models(self) -> None:
        kind = self._kind()
        self.model.blockSignals(True)
        self.model.clear()
        try:
            names = self.ctrl.services.models(kind)
        except OSError as err:
            names = [self.ctrl.options.models[kind]]
            self.show_message(f"cannot list models: {err}", True)
        self.model.addItems(names)
        self.model.setCurrentText(self.ctrl.options.models[kind])
        self.model.blockSignals(False)

    # ----- reacting ---------------------------------------------------------------------------
    def _update_mode(self) -> None:
        mode = self.ctrl.options.mode
        self.go.setText(BUTTON_TEXT[mode])
        self.bars.setEnabled(mode == CONTINUE)
        self.chord_lock.setEnabled(mode in (CONTINUE, VARY))
        harmony = mode in (HARMONISE, ACCOMPANY_MODE)
        self._form.setRowVisible(self._style_row, harmony)
        self._form.setRowVisible(self.amount, not harmony)
        self.per_bar.setVisible(mode == HARMONISE)
        self.harmony_style.setVisible(mode == HARMONISE)
        self.accompany_style.setVisible(mode == ACCOMPANY_MODE)
        self.accompany_style.setEnabled(mode == ACCOMPANY_MODE)
        self.temperature.setEnabled(mode != ACCOMPANY_MODE)
        self.amount.setEnabled(mode == VARY)
        self.key_lock.setEnabled(mode in (CONTINUE, INFILL_MODE))
        self.steer.setEnabled(mode in (CONTINUE, INFILL_MODE, VARY))
        self.steer.repeat.setEnabled(mode in (CONTINUE, INFILL_MODE))  # the VAE has no lookback
        self.seed_from.setEnabled(mode == CONTINUE)
        self.swap_ab.setEnabled(mode == INTERPOLATE)
        label = self._form.labelForField(self.variations)
        if label is not None:
            label.setText("Steps" if mode == INTERPOLATE else "Variations")
        self.seed_moved()
        self.low.setEnabled(mode in (CONTINUE, INFILL_MODE))
        self.high.setEnabled(mode in (CONTINUE, INFILL_MODE))
        self._fill_models()
        self._show_status(*self._status.get(self._kind(), (NOT_LOADED, True)))

    def _show_status(self, text: str, ok: bool) -> None:
        self.status.setText(text if ok else f"⚠ {text}")
        self.status.setStyleSheet("" if ok else "color: #e05555;")

    def _forget_status(self) -> None:
        self._status.clear()
        self._show_status(NOT_LOADED, True)

    def _on_model(self, name: str) -> None:
        if name:
            models = dict(self.ctrl.options.models)
            models[self._kind()] = name
            self.ctrl.set_options(models=models)
            self._forget_status()

    def _on_device(self, shown: str) -> None:
        self.ctrl.set_options(device=DEVICES[shown])
        self._forget_status()

    def _on_model_status(self, kind: str, text: str, ok: bool) -> None:
        self._status[kind] = (text, ok)
        if kind == self._kind():
            self._show_status(text, ok)

    def _on_progress(self, done: int, total: int) -> None:
        self._pending_progress = (done, max(1, total))
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def seed_moved(self, *_args) -> None:
        """The selection, cursor or song changed: refresh the auto-detected key soon."""
        self._key_timer.start()

    def _update_auto_key(self) -> None:
        """Refresh what depends on the seed: the Auto key, the seed line and the track list."""
        c = self.ctrl
        song = c.document.song
        names = [t.name or f"Track {i + 1}" for i, t in enumerate(song.tracks)]
        if [self.seed_from.itemText(i) for i in range(1, self.seed_from.count())] != names:
            self.seed_from.blockSignals(True)
            self.seed_from.clear()
            self.seed_from.addItem("Auto", None)
            for i, name in enumerate(names):
                self.seed_from.addItem(name, i)
            self.seed_from.blockSignals(False)
        self._sync_options()
        seed = c.session.seed if c.session is not None else c.seed_for_mode()
        key = c.detected_key(seed) if seed is not None or song.key is not None else None
        self.key.setItemText(0, f"Auto ({key})" if key is not None else "Auto (empty seed)")
        auto = seeds.seed_source(song, c.document.active_track) if song.tracks else 0
        self.seed_from.setItemText(0, f"Auto ({names[auto]})" if names else "Auto")
        self.seed_info.setText(self._seed_text(seed))

    def _seed_text(self, seed: seeds.Seed | None) -> str:
        c, song = self.ctrl, self.ctrl.document.song
        mode = c.session.mode if c.session is not None else c.options.mode
        if mode in (HARMONISE, ACCOMPANY_MODE):
            return hm.describe_span(song, mode, seed)
        if seed is None:
            return "Seed: select two phrases (A and B)" if mode == INTERPOLATE else (
                "Seed: select the notes to vary" if mode == VARY else
                "Range: drag on the ruler's loop strip or select notes, with notes on both sides"
                if mode == INFILL_MODE else "Seed: none")
        if mode == INFILL_MODE:
            a, b = seed.region
            bars = f"{song.tick_to_bar_beat(a)[0] + 1}-{song.tick_to_bar_beat(max(a, b - 1))[0] + 1}"
            return f"Range: bars {bars} of {song.tracks[seed.track].name}, from the notes on both sides"
        if mode == INTERPOLATE:
            try:
                a, b, place, _span = morph_layout(song, seed.notes, c.options.variations, c.options.swap_ab)
            except seeds.SeedError as err:
                return str(err)
            bar = song.tick_to_bar_beat(place)[0] + 1
            return (f"A: {seeds.bars_text(song, a)}, B: {seeds.bars_text(song, b)} of {song.tracks[seed.track].name}; "
                    f"{c.options.variations} steps from bar {bar}")
        return seeds.describe_seed(song, seed)

    def _sync_options(self) -> None:
        """Show the controller's options (changed by menu keys or a new document)."""
        o = self.ctrl.options
        widgets = (self.mode, self.key, self.key_lock, self.seed_from)
        for w in widgets:
            w.blockSignals(True)
        try:
            mode_changed = self.mode.currentText() != o.mode
            self.mode.setCurrentText(o.mode)
            self.key.setCurrentIndex(0 if o.key is None else max(0, self.key.findData(o.key)))
            self.key_lock.setChecked(o.key_lock)
            self.seed_from.setCurrentIndex(0 if o.seed_track is None else max(0, self.seed_from.findData(o.seed_track)))
        finally:
            for w in widgets:
                w.blockSignals(False)
        if mode_changed:
            self._update_mode()

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #e05555;" if error else "")

    def refresh(self) -> None:
        c = self.ctrl
        s = c.session
        self._sync_options()
        n = len(s.candidates) if s is not None else 0
        self.counter.setText(f"{s.index + 1} / {n}" if n else ("generating…" if c.busy else "no candidates"))
        for b in (self.prev_btn, self.next_btn):
            b.setEnabled(n > 1)
        for b in (self.audition_btn, self.accept_btn):
            b.setEnabled(n > 0)
        self.dismiss_btn.setEnabled(n > 0 or c.busy)
        self.dismiss_btn.setText("Dismiss" if n or not c.busy else "Stop")
        if c.busy and not self._progress_timer.isActive() and not self._progress_shown:
            self._pending_progress = (0, 0)  # indeterminate until the first report
            self._progress_timer.start()
        elif not c.busy:
            self._progress_timer.stop()
            if self._progress_shown:
                self._progress_shown = False
                self.progress.setRange(0, 1)
                self.progress.setValue(0)
        self._key_timer.start()

    def _apply_progress(self) -> None:
        """Show the latest progress (QProgressBar repaints synchronously: at most every 100 ms,
        and never for requests that finish sooner)."""
        if not self.ctrl.busy:
            return
        done, total = self._pending_progress
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self._progress_shown = True


def _spin(box, lo, hi, value, suffix: str, step=None):
    box.setRange(lo, hi)
    box.setValue(value)
    if suffix:
        box.setSuffix(suffix)
    if step is not None:
        box.setSingleStep(step)
    return box
