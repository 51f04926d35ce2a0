"""Take the README screenshot of Generate > Infill (run under ``xvfb-run``).

Opens the demo song of ``packaging/screenshot.py`` (lead: bars 1-8), drags bars 3-4 on the
ruler's loop strip, sets the density slider to 6 notes per bar, presses Ctrl+Shift+I in the
real window, waits for the candidates, steps to the second with Tab and saves
``window.grab()``: ghost notes over the range, the notes they replace crossed out.
Usage: ``xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/screenshot_infill.py OUT.png
[MODELS_DIR]`` (default models: the shipped ``models/``).
"""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

BAR = 1920


def main(out: str, models: str | None = None) -> int:
    if models:
        os.environ["MUSICAPP_MODELS"] = models
    os.environ.setdefault("MUSICAPP_DATA", tempfile.mkdtemp(prefix="musicapp-shot-"))
    demo = runpy.run_path(str(Path(__file__).with_name("screenshot.py")))["demo_song"]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from musicapp.app import NO_OUTPUT, build_window
    from musicapp.ui.dialogs import ScriptedDialogs
    from musicapp.ui.settings import AppSettings

    settings = AppSettings(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat))
    settings.output = NO_OUTPUT
    win = build_window(settings=settings, dialogs=ScriptedDialogs(), with_engine=False)
    win.resize(1600, 960)
    win.show()
    win.activateWindow()
    song = demo()
    lead = song.tracks[0]
    song = song.with_track(0, lead.with_notes(n for n in lead.notes if n.start < 8 * BAR))
    win.document.reset(song)
    roll = win.roll
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    roll.view.px_per_tick = (roll.canvas.width() - 20) / (8 * BAR)
    roll.view.row_height = 12
    roll.center_pitch(68)
    roll.view.scroll_to(left_tick=0)
    ctrl = win.generate
    ctrl.set_options(variations=4, temperature=0.9)
    panel = win.generate_panel
    panel.mode.setCurrentText("Infill")
    panel.temperature.setValue(0.9)
    panel.steer.density.setValue(12)  # 6 notes per bar
    for _ in range(5):
        app.processEvents()
    ruler, view = roll.ruler, roll.view
    y = ruler.height() - 3
    QTest.mousePress(ruler, Qt.LeftButton, Qt.NoModifier, QPoint(int(view.tick_to_x(2 * BAR)) + 1, y))
    QTest.mouseMove(ruler, QPoint(int(view.tick_to_x(3 * BAR)), y))
    QTest.mouseMove(ruler, QPoint(int(view.tick_to_x(4 * BAR)) + 1, y))
    QTest.mouseRelease(ruler, Qt.LeftButton, Qt.NoModifier, QPoint(int(view.tick_to_x(4 * BAR)) + 1, y))
    roll.canvas.setFocus()
    QTest.keyClick(roll.canvas, Qt.Key_I, Qt.ControlModifier | Qt.ShiftModifier)
    deadline = time.time() + 60
    while (ctrl.busy or ctrl.session is None or not ctrl.session.candidates) and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if ctrl.session is None or not ctrl.session.candidates:
        print("no candidates:", panel.message.text(), file=sys.stderr)
        return 1
    QTest.keyClick(roll.canvas, Qt.Key_Tab)
    roll.view.scroll_to(left_tick=0)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)
    ok = win.grab().save(out)
    win.document.undo_stack.setClean()
    win.close()
    ctrl.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(args[0] if args else "docs/screenshot-infill.png", args[1] if len(args) > 1 else None))
