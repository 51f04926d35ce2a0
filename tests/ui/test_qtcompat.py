"""The PySide6 6.12 / CPython 3.11 None-refcount work-around is in force once musicapp.ui loads."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QColor, QImage, QPainter

import musicapp.ui  # noqa: F401  (applies the work-around)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_qt_calls_can_never_free_none():
    image = QImage(8, 8, QImage.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(1000):
        painter.setBrush(QColor("red"))  # a void method: the binding may drop a None reference
    painter.end()
    after = sys.getrefcount(None)
    assert after > 2 ** 61  # far out of reach of stray decrements
    assert before - after <= 1001  # what the binding takes per call, at most one
