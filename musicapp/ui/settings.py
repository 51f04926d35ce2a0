"""What the editor remembers between runs, stored in QSettings.

Owns the keys and types: window geometry/state, theme, grid, output choice, follow and
metronome switches, and the recent-files list (most recent first, at most ``MAX_RECENT``,
missing files dropped when read). Tests pass a QSettings on a temporary INI file.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


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
    @property
    def theme(self) -> str:
        return self._get("ui/theme", "dark")

    @theme.setter
    def theme(self, name: str) -> None:
        self.store.setValue("ui/theme", name)

    @property
    def grid(self) -> str:
        """Grid in ``GridSpec.to_text`` form."""
        return self._get("editor/grid", "16")

    @grid.setter
    def grid(self, text: str) -> None:
        self.store.setValue("editor/grid", text)

    @property
    def output(self) -> str:
        """Name of the chosen output ('' = none chosen yet)."""
        return self._get("engine/output", "")

    @output.setter
    def output(self, name: str) -> None:
        self.store.setValue("engine/output", name)

    @property
    def midi_input(self) -> str:
        """Name of the chosen MIDI input ('' = none)."""
        return self._get("engine/midi_input", "")

    @midi_input.setter
    def midi_input(self, name: str) -> None:
        self.store.setValue("engine/midi_input", name)

    @property
    def quantize_recording(self) -> bool:
        """Snap recorded notes to the grid when a take lands."""
        return self._get("engine/quantize_recording", False, bool)

    @quantize_recording.setter
    def quantize_recording(self, on: bool) -> None:
        self.store.setValue("engine/quantize_recording", bool(on))

    @property
    def count_in_recording(self) -> bool:
        """A bar of clicks before a take that starts the transport."""
        return self._get("engine/count_in_recording", False, bool)

    @count_in_recording.setter
    def count_in_recording(self, on: bool) -> None:
        self.store.setValue("engine/count_in_recording", bool(on))

    @property
    def follow(self) -> bool:
        return self._get("editor/follow", True, bool)

    @follow.setter
    def follow(self, on: bool) -> None:
        self.store.setValue("editor/follow", bool(on))

    @property
    def metronome(self) -> bool:
        return self._get("engine/metronome", False, bool)

    @metronome.setter
    def metronome(self, on: bool) -> None:
        self.store.setValue("engine/metronome", bool(on))

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
