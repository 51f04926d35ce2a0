"""Take the README screenshot of the chord lane and the Accompany mode (run under ``xvfb-run``).

Opens the demo melody of ``screenshot.py`` with a chord track in the real main window, puts the
edit cursor in bar 4 (its chord's tones tinted in the roll), runs Accompany (waltz-free "block"
style) through the Generate panel and saves ``window.grab()`` with candidate 1 shown as ghost
notes. Usage: ``xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/screenshot_harmony.py
docs/screenshot-harmony.png``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from musicapp.core.chords import Chord
from screenshot import BAR, demo_song

PROGRESSION = ["C", "Am", "F", "G7", "C/E", "Am7", "Dm7", "G7"]


def main(out: str) -> int:
    os.environ.setdefault("MUSICAPP_DATA", tempfile.mkdtemp(prefix="musicapp-shot-"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from musicapp.app import build_window
    from musicapp.ui.dialogs import ScriptedDialogs
    from musicapp.ui.settings import AppSettings

    settings = AppSettings(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat))
    win = build_window(settings=settings, dialogs=ScriptedDialogs(), with_engine=False)
    win.resize(1600, 960)
    win.show()
    app.processEvents()
    lead = demo_song().tracks[0]
    song = demo_song().replace(tracks=(lead,), chords=tuple(Chord.parse(n, i * BAR, BAR)
                                                              for i, n in enumerate(PROGRESSION)))
    win.document.reset(song)
    roll = win.roll
    roll.view.px_per_tick = (roll.canvas.width() - 20) / (8 * BAR)
    roll.view.row_height = 9
    roll.center_pitch(60)
    roll.set_cursor_tick(3 * BAR + 300)
    roll.chord_lane.select(3)
    win.generate_panel.mode.setCurrentText("Accompany")
    win.generate.accompany()
    deadline = time.monotonic() + 120
    while (win.generate.busy or not win.document.ghost_notes) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()
    ok = win.grab().save(out)
    win.generate.dismiss()
    win.document.undo_stack.setClean()
    win.close()
    return 0 if ok and win.document.song.chords else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot-harmony.png"))
