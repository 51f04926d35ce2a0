"""Take the README screenshot of the real editor (run under ``xvfb-run``).

Builds a short song from a few phrases (melody, chords, bass), opens it in the real main
window, selects a phrase, sets a loop and places the playhead, then saves ``window.grab()``.
Usage: ``xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/screenshot.py docs/screenshot.png``
"""

from __future__ import annotations

import os
import sys
import tempfile

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from musicapp.core.song import Control, Key, Note, Song, TempoChange, Track

BAR = 1920
MELODY = [  # (beat offset in eighths, pitch, length in eighths, velocity)
    (0, 76, 2, 96), (2, 74, 1, 78), (3, 72, 1, 70), (4, 74, 2, 88), (6, 76, 2, 92),
    (8, 79, 3, 104), (11, 77, 1, 74), (12, 76, 2, 86), (14, 74, 2, 80),
    (16, 72, 2, 90), (18, 74, 1, 72), (19, 76, 1, 76), (20, 77, 2, 94), (22, 79, 2, 100),
    (24, 81, 4, 112), (28, 79, 2, 84), (30, 77, 2, 76),
]
CHORDS = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]
BASS = [36, 33, 29, 31]


def demo_song() -> Song:
    eighth = 240
    melody = []
    for rep in range(2):
        for off, pitch, length, vel in MELODY:
            melody.append(Note(rep * 4 * BAR + off * eighth, pitch - (2 if rep and pitch > 78 else 0),
                               length * eighth - 10, max(1, vel - rep * 8), 0))
    chords, bass = [], []
    for bar in range(8):
        for pitch in CHORDS[bar % 4]:
            chords.append(Note(bar * BAR, pitch, BAR - 40, 70, 1))
        for beat, octave in ((0, 0), (2, 12), (3, 0)):
            bass.append(Note(bar * BAR + beat * 480, BASS[bar % 4] + octave, 440, 100 if beat == 0 else 82, 2))
    bends = []  # a scoop into each long high note, shown in the controller lane
    for rep in range(2):
        start = rep * 4 * BAR + 24 * eighth
        bends += [Control(start + k * 60, "pitchwheel", 0, -3000 + k * 500) for k in range(7)]
        bends.append(Control(start + 4 * eighth, "pitchwheel", 0, 0))
    return Song(tracks=(Track("Lead", 0, 73, tuple(melody), controls=tuple(bends)),
                        Track("Chords", 1, 48, tuple(chords)),
                        Track("Bass", 2, 33, tuple(bass))),
                tempos=(TempoChange.from_bpm(0, 96),), key=Key(0, "major"))


def main(out: str) -> int:
    os.environ.setdefault("MUSICAPP_DATA", tempfile.mkdtemp(prefix="musicapp-shot-"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from musicapp.app import build_window
    from musicapp.ui.dialogs import ScriptedDialogs
    from musicapp.ui.settings import AppSettings

    from musicapp.app import NO_OUTPUT

    settings = AppSettings(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat))
    settings.output = NO_OUTPUT  # no sound card under Xvfb; the transport itself runs
    win = build_window(settings=settings, dialogs=ScriptedDialogs(), with_engine=True)
    win.resize(1600, 960)
    win.show()
    app.processEvents()
    win.document.reset(demo_song())
    roll = win.roll
    roll.view.px_per_tick = (roll.canvas.width() - 20) / (8 * BAR)
    roll.view.row_height = 12
    roll.center_pitch(58)
    roll.set_loop((2 * BAR, 4 * BAR))
    roll.set_cursor_tick(2 * BAR)
    roll.set_playhead(2 * BAR + 1100)
    win.document.set_selection((0, i) for i in range(17, 26))
    win.transport_bar.set_position(2 * BAR + 1100)
    for _ in range(5):
        app.processEvents()
    ok = win.grab().save(out)
    win.document.undo_stack.setClean()
    win.close()
    win.playback.transport.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png"))
