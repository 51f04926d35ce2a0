"""Void Qt calls never drop references to None: the binding is a good one (pyproject excludes
PySide6 6.12.x), or the work-around in musicapp.ui.qtcompat is in force."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QColor, QImage, QPainter

import musicapp.ui  # noqa: F401  (applies the work-around where needed)
from musicapp.ui.qtcompat import binding_drops_none_references


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_qt_calls_can_never_free_none():
    image = QImage(8, 8, QImage.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(1000):
        painter.setBrush(QColor("red"))  # a void method: the binding may drop a None reference
    painter.end()
    after = sys.getrefcount(None)
    if binding_drops_none_references():
        assert after > 2 ** 61  # the work-around: far out of reach of stray decrements
    else:
        assert abs(after - before) <= 5  # a good binding keeps None's count balanced
