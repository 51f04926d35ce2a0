"""What the editor remembers between runs, stored in QSettings.

Owns the keys and types: window geometry/state, theme, grid, output choice, follow and
metronome switches, and the recent-files list (most recent first, at most ``MAX_RECENT``,
missing files dropped when read). Tests pass a QSettings on a temporary INI file.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


class _Value:
    """One typed setting of ``AppSettings``: read with its default (a stored value of the wrong
    type reads as the default), written as given (bools as bools)."""

    def __init__(self, key: str, default, kind=str, doc: str = "") -> None:
        self.key, self.default, self.kind, self.__doc__ = key, default, kind, doc

    def __get__(self, obj, owner=None):
        return self if obj is None else obj._get(self.key, self.default, self.kind)

    def __set__(self, obj, value) -> None:
        obj.store.setValue(self.key, bool(value) if self.kind is bool else value)


class AppSettings:
    """Typed access to a QSettings store."""

    def __init__(self, store: QSettings | None = None):
        self.store = store if store is not None else QSettings("musicapp", "musicapp")

    def _get(self, key: str, default, kind=str):
        value = self.store.value(key, default)
        try:
            if kind is bool:
                return value in (True, "true", "1", 1)
            return kind(value)
        except (TypeError, ValueError):
            return default

    # ----- simple values ----------------------------------------------------------------------
    theme = _Value("ui/theme", "dark")
    grid = _Value("editor/grid", "16", doc="Grid in ``GridSpec.to_text`` form.")
    output = _Value("engine/output", "", doc="Name of the chosen output ('' = none chosen yet).")
    midi_input = _Value("engine/midi_input", "", doc="Name of the chosen MIDI input ('' = none).")
    quantize_recording = _Value("engine/quantize_recording", False, bool,
                                doc="Snap recorded notes to the grid when a take lands.")
    count_in_recording = _Value("engine/count_in_recording", False, bool,
                                doc="A bar of clicks before a take that starts the transport.")
    soundfont = _Value("engine/soundfont", "", doc="Built-in synth's SoundFont: '' = automatic, "
                       "a .sf2 path, or 'own' = the own synth (``ui.sound_menu``).")
    follow = _Value("editor/follow", True, bool)
    draw_length = _Value("editor/draw_length", "auto", doc="Length of drawn notes: 'auto' or e.g. '1/8.'.")
    snap_scale = _Value("editor/snap_scale", False, bool, doc="Draw and drag notes onto the song key's scale.")
    midi_clock = _Value("engine/midi_clock", False, bool, doc="Send MIDI clock and song position on play.")
    metronome = _Value("engine/metronome", False, bool)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """(geometry, dock/toolbar state) saved by ``save_window_state``."""
        geo = self.store.value("window/geometry")
        state = self.store.value("window/state")
        return (geo if isinstance(geo, QByteArray) else None, state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    # ----- recent files -----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Recently opened or saved files that still exist, most recent first."""
        value = self.store.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [p for p in (value or []) if isinstance(p, str) and os.path.isfile(p)][:MAX_RECENT]

    def add_recent_file(self, path: str) -> None:
        path = os.path.abspath(path)
        items = [p for p in self.recent_files() if p != path]
        self.store.setValue("files/recent", [path, *items][:MAX_RECENT])

    def clear_recent_files(self) -> None:
        self.store.setValue("files/recent", [])

    def sync(self) -> None:
        self.store.sync()
