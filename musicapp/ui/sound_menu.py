"""Transport > Sound menu: which SoundFont the built-in synth plays, or its own small synth.

Owns the menu and the ``soundfont`` setting's meaning: "" = automatic (the best SoundFont
found: the app's own, then the system's), a path = that .sf2 file, ``OWN_SYNTH`` = the numpy
synth with no SoundFont. The choice goes to the output chooser (injected by app.py; the UI
never imports the engine), which reopens the built-in synth if it is the current output.
"""

from __future__ import annotations

import os
from typing import Callable, Protocol

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from musicapp.core.errors import MusicappError

OWN_SYNTH = "own"
SF2_FILTER = "SoundFonts (*.sf2 *.SF2);;All files (*)"


class SoundFontChooser(Protocol):
    """What the menu needs from the output chooser."""

    def soundfonts(self) -> list[str]: ...
    def set_soundfont(self, choice: str) -> None: ...


class SoundMenu:
    """Fills ``menu`` each time it opens; choosing stores the setting and applies it."""

    def __init__(self, menu: QMenu, chooser: SoundFontChooser, settings, dialogs,
                 report: Callable[[str], None]) -> None:
        self.menu, self.chooser, self.settings = menu, chooser, settings
        self.dialogs, self.report = dialogs, report
        menu.aboutToShow.connect(self.fill)
        self.fill()

    def choices(self) -> list[tuple[str, str]]:
        """(label, setting value) of every entry, in menu order (the file entry last)."""
        out = [("Automatic (best SoundFont found)", "")]
        found = self.chooser.soundfonts()
        current = self.settings.soundfont
        if current not in ("", OWN_SYNTH) and current not in found:
            found = [*found, current]
        out += [(os.path.basename(p), p) for p in found]
        out.append(("Own synth (no SoundFont)", OWN_SYNTH))
        return out

    def fill(self) -> None:
        self.menu.clear()
        group = QActionGroup(self.menu)
        current = self.settings.soundfont
        for label, value in self.choices():
            act = QAction(label, self.menu, checkable=True, checked=value == current)
            act.setToolTip(value or label)
            act.triggered.connect(lambda _=False, v=value: self.choose(v))
            group.addAction(act)
            self.menu.addAction(act)
        self.menu.addSeparator()
        other = self.menu.addAction("Other SoundFont File...")
        other.triggered.connect(self.choose_file)

    def choose_file(self) -> None:
        path = self.dialogs.open_path("Choose a SoundFont", SF2_FILTER)
        if path:
            self.choose(path)

    def choose(self, value: str) -> bool:
        """Use ``value`` from now on (and for the playing built-in synth); False if it failed,
        leaving the previous choice in place."""
        previous = self.settings.soundfont
        try:
            self.chooser.set_soundfont(value)
        except MusicappError as err:
            self.report(str(err))
            try:
                self.chooser.set_soundfont(previous)
            except MusicappError:
                pass
            return False
        self.settings.soundfont = value
        self.report("Sound: " + (os.path.basename(value) if value not in ("", OWN_SYNTH)
                                 else "own synth" if value == OWN_SYNTH else "automatic SoundFont"))
        self.fill()
        return True


def install_sound_menu(win, chooser: SoundFontChooser) -> SoundMenu:
    """Add Transport > Sound to ``win`` (a MainWindow), bound to its settings and dialogs."""
    menu = win.transport_menu.addMenu("&Sound")
    win.sound_menu = SoundMenu(menu, chooser, win.settings, win.dialogs, win.show_message)
    return win.sound_menu
