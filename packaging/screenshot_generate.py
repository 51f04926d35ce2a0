"""Take the README screenshot of the Generate panel with ghost notes (run under ``xvfb-run``).

Opens the demo song of ``packaging/screenshot.py`` with the lead cut to four bars, puts the
cursor after it, presses Ctrl+Return (Continue phrase) in the real window, waits for the
candidates, steps to the second one with Tab and saves ``window.grab()``.
Usage: ``xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/screenshot_generate.py OUT.png
[MODELS_DIR]`` (default models: the shipped ``models/``).
"""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
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
    song = song.with_track(0, lead.with_notes(n for n in lead.notes if n.start < 4 * BAR))
    win.document.reset(song)
    roll = win.roll
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    roll.view.px_per_tick = (roll.canvas.width() - 20) / (8 * BAR)
    roll.view.row_height = 12
    roll.center_pitch(68)
    roll.set_cursor_tick(4 * BAR)
    ctrl = win.generate
    ctrl.set_options(bars=4, variations=4, temperature=0.9)
    win.generate_panel.bars.setValue(4)
    win.generate_panel.temperature.setValue(0.9)
    roll.canvas.setFocus()
    QTest.keyClick(roll.canvas, Qt.Key_Return, Qt.ControlModifier)
    deadline = time.time() + 60
    while (ctrl.busy or ctrl.session is None or not ctrl.session.candidates) and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if ctrl.session is None or not ctrl.session.candidates:
        print("no candidates:", win.generate_panel.message.text(), file=sys.stderr)
        return 1
    QTest.keyClick(roll.canvas, Qt.Key_Tab)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)
    ok = win.grab().save(out)
    win.document.undo_stack.setClean()
    win.close()
    ctrl.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot-generate.png",
                  sys.argv[2] if len(sys.argv) > 2 else None))
