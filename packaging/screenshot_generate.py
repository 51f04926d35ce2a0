"""Take the README screenshot of the Generate panel with ghost notes (run under ``xvfb-run``).

Opens the demo song of ``packaging/screenshot.py`` with the lead cut to four bars, puts the
cursor after it, presses Ctrl+Return (Continue phrase) in the real window, waits for the
candidates, steps to the second one with Tab and saves ``window.grab()``. With
``--interpolate`` it keeps the lead's bars 1-2 (A) and 5-6 moved to bars 7-8 (B), selects both
with a marquee, presses Ctrl+Alt+Return and shows the 2-step morph laid out between them.
Usage: ``xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/screenshot_generate.py OUT.png
[MODELS_DIR] [--interpolate]`` (default models: the shipped ``models/``).
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


def main(out: str, models: str | None = None, interpolate: bool = False) -> int:
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
    if interpolate:
        kept = [n for n in lead.notes if n.start < 2 * BAR]
        kept += [n.moved(dt=2 * BAR) for n in lead.notes if 4 * BAR <= n.start < 6 * BAR]
        song = song.with_track(0, lead.with_notes(kept))
    else:
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
    if interpolate:
        ctrl.set_options(variations=2)
        win.generate_panel.variations.setValue(2)
        roll.set_tool("select")
        view = roll.view
        QTest.mousePress(roll.canvas, Qt.LeftButton, Qt.NoModifier, _at(view, 10, 90))
        QTest.mouseMove(roll.canvas, _at(view, 8 * BAR - 10, 60))
        QTest.mouseRelease(roll.canvas, Qt.LeftButton, Qt.NoModifier, _at(view, 8 * BAR - 10, 60))
        QTest.keyClick(roll.canvas, Qt.Key_Return, Qt.ControlModifier | Qt.AltModifier)
    else:
        QTest.keyClick(roll.canvas, Qt.Key_Return, Qt.ControlModifier)
    deadline = time.time() + 60
    while (ctrl.busy or ctrl.session is None or not ctrl.session.candidates) and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    if ctrl.session is None or not ctrl.session.candidates:
        print("no candidates:", win.generate_panel.message.text(), file=sys.stderr)
        return 1
    if not interpolate:
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


def _at(view, tick: int, pitch: int):
    from PySide6.QtCore import QPoint

    return QPoint(int(view.tick_to_x(tick)), int(view.pitch_to_y(pitch)))


if __name__ == "__main__":
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(args[0] if args else "docs/screenshot-generate.png", args[1] if len(args) > 1 else None,
                  "--interpolate" in flags))
