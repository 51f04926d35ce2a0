"""Dark and light themes: the widget style sheet (resources/themes/*.qss) and piano-roll colours.

Owns the named colour sets the custom-painted widgets use; the rest of the UI is styled by
the matching .qss file. ``apply_theme`` sets the application palette and style sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from musicapp.paths import resources_dir


@dataclass(frozen=True, slots=True)
class Theme:
    """Colours (``#rrggbb`` / ``#aarrggbb``) of the piano roll for one theme."""

    name: str
    window: str
    base: str
    text: str
    highlight: str
    row_in_scale: str
    row_out_scale: str
    row_black_key: str
    line_bar: str
    line_beat: str
    line_grid: str
    note_low: str
    note_high: str
    note_border: str
    note_selected: str
    note_other_track: str
    ghost: str
    key_white: str
    key_black: str
    key_pressed: str
    ruler_bg: str
    loop: str
    playhead: str
    marquee: str

    def color(self, field: str) -> QColor:
        return QColor(getattr(self, field))


DARK = Theme(
    name="dark", window="#23252b", base="#1b1d22", text="#d8dae0", highlight="#3d8fd1",
    row_in_scale="#2a2d35", row_out_scale="#22242b", row_black_key="#1e2026",
    line_bar="#5a5f6c", line_beat="#3a3e48", line_grid="#2e313a",
    note_low="#3f7fbf", note_high="#e5534b", note_border="#101114", note_selected="#f2c14e",
    note_other_track="#4a4e5a", ghost="#9a7fe0", key_white="#e4e4e8", key_black="#24262c",
    key_pressed="#3d8fd1", ruler_bg="#2b2e36", loop="#403d8fd1", playhead="#ff5a4e",
    marquee="#3d8fd1",
)

LIGHT = Theme(
    name="light", window="#eceef2", base="#ffffff", text="#1d1f24", highlight="#2f6fb5",
    row_in_scale="#fafbfd", row_out_scale="#eceef3", row_black_key="#e2e5ec",
    line_bar="#8a8f9c", line_beat="#c2c6d0", line_grid="#dde0e7",
    note_low="#5a9ad8", note_high="#d9483f", note_border="#3b3f4a", note_selected="#f0a81e",
    note_other_track="#c3c7d2", ghost="#7a5fd0", key_white="#ffffff", key_black="#2a2c33",
    key_pressed="#2f6fb5", ruler_bg="#dfe2e8", loop="#402f6fb5", playhead="#e0392f",
    marquee="#2f6fb5",
)

THEMES: dict[str, Theme] = {"dark": DARK, "light": LIGHT}


def theme_named(name: str) -> Theme:
    """The theme called ``name``; unknown names give the dark theme."""
    return THEMES.get(name, DARK)


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Set the Fusion style, a matching palette and the theme's style sheet on ``app``.

    Re-applying the theme already in use is skipped (restyling every widget is slow).
    """
    if app.property("musicapp_theme") == theme.name:
        return
    app.setProperty("musicapp_theme", theme.name)
    app.setStyle("Fusion")
    pal = QPalette()
    c = QColor
    pal.setColor(QPalette.Window, c(theme.window))
    pal.setColor(QPalette.WindowText, c(theme.text))
    pal.setColor(QPalette.Base, c(theme.base))
    pal.setColor(QPalette.AlternateBase, c(theme.row_in_scale))
    pal.setColor(QPalette.Text, c(theme.text))
    pal.setColor(QPalette.Button, c(theme.window))
    pal.setColor(QPalette.ButtonText, c(theme.text))
    pal.setColor(QPalette.Highlight, c(theme.highlight))
    pal.setColor(QPalette.HighlightedText, c("#ffffff"))
    pal.setColor(QPalette.ToolTipBase, c(theme.base))
    pal.setColor(QPalette.ToolTipText, c(theme.text))
    disabled = c(theme.text)
    disabled.setAlpha(110)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, disabled)
    app.setPalette(pal)
    qss = resources_dir() / "themes" / f"{theme.name}.qss"
    app.setStyleSheet(qss.read_text(encoding="utf-8") if qss.is_file() else "")
