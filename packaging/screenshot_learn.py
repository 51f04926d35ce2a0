"""Take the README screenshot of Models > Learn From MIDI Files... (run under ``xvfb-run``).

Opens the learning dialog of the real window on a folder of .mid files, lets it scan them,
starts a fine-tune (the real child process) with a short budget, waits for several points of
the loss plot (or the end) and saves the dialog's ``grab()``. The model is written to a temp
user-model folder, never the real one.
Usage: ``xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/screenshot_learn.py OUT.png FOLDER
[MINUTES]``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication


def main(out: str, folder: str, minutes: int = 2) -> int:
    os.environ["MUSICAPP_USER_MODELS"] = tempfile.mkdtemp(prefix="musicapp-shot-models-")
    os.environ.setdefault("MUSICAPP_DATA", tempfile.mkdtemp(prefix="musicapp-shot-"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from musicapp.app import NO_OUTPUT, build_window
    from musicapp.ui.dialogs import ScriptedDialogs
    from musicapp.ui.settings import AppSettings

    settings = AppSettings(QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat))
    settings.output = NO_OUTPUT
    win = build_window(settings=settings, dialogs=ScriptedDialogs(), with_engine=False)
    win.resize(1400, 900)
    win.show()
    dlg = win.learn_dialog

    def wait(done, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not done() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    dlg.set_paths([folder])
    dlg.resize(760, 820)
    dlg.show()
    wait(lambda: dlg.scan is not None, 120)
    dlg.name.setText("palestrina")
    dlg.minutes.setValue(minutes)
    dlg.start()
    wait(lambda: not dlg.running, minutes * 60 + 240)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    dlg.grab().save(out)
    print(f"wrote {out}: {dlg.eta.text()!r}; {len(dlg.plot.valid)} validation points")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2))
