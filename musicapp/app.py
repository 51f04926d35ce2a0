"""Composition root: builds the QApplication, services and main window, and wires them.

Placeholder until the editor lands: shows an empty main window.
"""

from __future__ import annotations

import sys


def run_app(path: str | None = None) -> int:
    """Start the GUI event loop; returns the exit code."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    win = QMainWindow()
    win.setWindowTitle("musicapp")
    win.resize(1200, 800)
    win.show()
    return app.exec()
