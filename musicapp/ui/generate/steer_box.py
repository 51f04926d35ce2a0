"""The Generate panel's steering controls: density slider with its number, rhythm, repeat.

Owns only widgets; each writes ``GenerateController.options`` (``density`` notes per bar or
None for Auto, ``rhythm`` 'free'/'seed', ``repeat`` 0..1). The services apply them while
sampling (``musicapp.ml.steering``); the panel enables the box for the modes that use it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSlider, QWidget

#: density slider positions: 0 = Auto, then half notes per bar up to 16 notes per bar
DENSITY_STEPS = 32
RHYTHMS = {"Free rhythm": "free", "Seed's rhythm": "seed"}


def density_text(value: float | None) -> str:
    return "Auto" if value is None else f"{value:g} notes/bar"


def repeat_text(value: float) -> str:
    if abs(value - 0.5) < 1e-9:
        return "as trained"
    return f"{value:.2f} ({'more' if value > 0.5 else 'less'} reuse)"


class SteeringBox(QWidget):
    """Density (slider + number), rhythm (free / keep the seed's) and repeat (slider + number)."""

    def __init__(self, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctrl = controller
        o = controller.options
        self.density = QSlider(Qt.Horizontal)
        self.density.setObjectName("densitySlider")
        self.density.setRange(0, DENSITY_STEPS)
        self.density.setValue(0 if o.density is None else round(o.density * 2))
        self.density.setToolTip("Average notes per bar of the generated notes (far left: as the model likes)")
        self.density_label = QLabel(density_text(o.density))
        self.rhythm = QComboBox()
        self.rhythm.addItems(list(RHYTHMS))
        self.rhythm.setCurrentIndex(list(RHYTHMS.values()).index(o.rhythm))
        self.rhythm.setToolTip("Keep the seed's rhythmic grid and shortest note value, or let the model choose")
        self.repeat = QSlider(Qt.Horizontal)
        self.repeat.setObjectName("repeatSlider")
        self.repeat.setRange(0, 100)
        self.repeat.setValue(round(o.repeat * 100))
        self.repeat.setToolTip("How much earlier bars may be reused: 0 avoids it, the middle is as trained, "
                               "1 reuses them (Continue and Infill)")
        self.repeat_label = QLabel(repeat_text(o.repeat))
        for w in (self.density, self.rhythm, self.repeat):
            w.setFocusPolicy(Qt.NoFocus)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        grid.addWidget(QLabel("Density"), 0, 0)
        grid.addWidget(self.density, 0, 1)
        grid.addWidget(self.density_label, 0, 2)
        grid.addWidget(self.rhythm, 0, 3)
        grid.addWidget(QLabel("Repeat"), 1, 0)
        grid.addWidget(self.repeat, 1, 1)
        grid.addWidget(self.repeat_label, 1, 2, 1, 2)
        self.density.valueChanged.connect(self._on_density)
        self.rhythm.currentTextChanged.connect(lambda text: controller.set_options(rhythm=RHYTHMS[text]))
        self.repeat.valueChanged.connect(self._on_repeat)

    def _on_density(self, v: int) -> None:
        value = None if v == 0 else v / 2.0
        self.density_label.setText(density_text(value))
        self.ctrl.set_options(density=value)

    def _on_repeat(self, v: int) -> None:
        self.repeat_label.setText(repeat_text(v / 100.0))
        self.ctrl.set_options(repeat=v / 100.0)
