"""Window habits a DAW user expects: ports that appear by themselves, MIDI clock out from the
editor, a time display that starts over with each song, a sensible first window size.

Owns ``PortWatcher`` (lists the MIDI outputs and inputs every ``WATCH_MS`` while the transport
is stopped -- listing is a round trip to the MIDI server that holds the GIL, so never during
playback -- and refreshes the transport bar's choosers when the lists changed), the Send MIDI
Clock action (clock, start/stop/continue and song position on the transport's outputs,
remembered in the settings) and ``first_geometry`` (85 % of the screen's free area, centred,
for a first start with no saved geometry). ``install_window_habits`` wires them to a window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRect, QTimer
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QToolBar

from musicapp.ui.focus import tame_focus

if TYPE_CHECKING:
    from musicapp.ui.main_window import MainWindow

WATCH_MS = 2000  # how often the port lists are compared while stopped (milliseconds)
FIRST_SIZE = 0.85  # part of the screen's free area the window takes on a first start
MIN_FIRST = (1024, 680)  # never smaller than this on a first start (pixels), screen permitting


def first_geometry(available: QRect) -> QRect:
    """The window's rectangle on a first start: ``FIRST_SIZE`` of ``available`` (at least
    ``MIN_FIRST`` where the screen allows), centred in it."""
    w = min(available.width(), max(MIN_FIRST[0], round(available.width() * FIRST_SIZE)))
    h = min(available.height(), max(MIN_FIRST[1], round(available.height() * FIRST_SIZE)))
    return QRect(available.x() + (available.width() - w) // 2, available.y() + (available.height() - h) // 2, w, h)


def apply_first_geometry(win: "MainWindow") -> None:
    """Size and centre ``win`` for a first start on the screen it will open on."""
    screen = win.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        win.resize(1280, 800)
        return
    win.setGeometry(first_geometry(screen.availableGeometry()))


class PortWatcher(QObject):
    """Refreshes the window's output and input lists when ports come or go, between plays."""

    def __init__(self, win: "MainWindow", interval_ms: int = WATCH_MS):
        super().__init__(win)
        self.win = win
        self._last: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        if win.output_chooser is not None or win.recording.chooser is not None:
            self.timer.start()

    def _tick(self) -> None:
        if self.win.isVisible():  # a closed (or not yet shown) window asks the MIDI server nothing
            self.check()

    def lists(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        outs, ins = self.win.output_chooser, self.win.recording.chooser
        return (tuple(outs.names()) if outs is not None else (), tuple(ins.names()) if ins is not None else ())

    def check(self) -> bool:
        """Compare the port lists with the last look; True (and the choosers refreshed) when
        they changed. Does nothing while playing or while a list is open."""
        win = self.win
        if win.playback.is_playing or any(box.view().isVisible() for box in (
                win.transport_bar.output_box, win.recording.box)):
            return False
        now = self.lists()
        changed = self._last is not None and now != self._last
        self._last = now
        if changed:
            win.refresh_outputs()
        return changed


def install_window_habits(win: "MainWindow") -> None:
    """Port watching, the Send MIDI Clock action (Transport menu), the time display reset, and
    the keyboard policy of ``ui.focus`` on the tool bars and the track list (its cell widgets
    are made with the song's tracks and on scrolling, so it is applied again whenever they are)."""
    home = lambda: win.roll.canvas  # noqa: E731
    for bar in win.findChildren(QToolBar):
        tame_focus(bar, home)
    tame_focus(win.track_list, home)
    win.track_list.widgets_made.connect(lambda: tame_focus(win.track_list, home))  # not per edit
    win.port_watcher = PortWatcher(win)
    clock = QAction("Send MIDI &Clock", win)
    clock.setCheckable(True)
    clock.setToolTip("Send MIDI clock, start/stop and song position to the output while playing")
    clock.setEnabled(win.playback.available)
    clock.toggled.connect(lambda on: (win.playback.set_clock_out(on), setattr(win.settings, "midi_clock", on)))
    clock.setChecked(win.settings.midi_clock)
    win.addAction(clock)
    win.actions_.midi_clock = clock
    win.transport_menu.insertAction(win.actions_.record, clock)

    def new_song() -> None:  # the display and the playhead start over
        win.playback.stop()
        win.roll.set_playhead(0)
        win.transport_bar.set_position(0)

    win.document.replaced.connect(new_song)
