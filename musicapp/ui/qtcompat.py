"""Work-arounds for bugs in the Qt binding we run on; applied once when ``musicapp.ui`` is imported.

PySide6 6.12.0 on CPython 3.11 returns ``None`` from every void method (``QPainter.drawRect``,
``QWidget.update``...) without taking a reference, as if ``None`` were immortal (it is only
from Python 3.12 on). Each call drops None's reference count by one; a piano roll paints
thousands of such calls per second, so within minutes CPython aborts with
"none_dealloc: deallocating None". ``immortalize_none`` gives None the huge reference count
Python 3.12 gives it, so those stray decrements can never reach zero. Nothing is changed on
Python 3.12 or newer, where None is immortal already.
"""

from __future__ import annotations

import ctypes
import sys

#: the reference count Python 3.12+ gives immortal objects is of this order; half of ssize_t.
_IMMORTAL_REFCNT = 1 << 62


def binding_drops_none_references() -> bool:
    """True for the PySide6 releases with the bug (6.12.x); pyproject.toml excludes them."""
    import PySide6

    return PySide6.__version__.startswith("6.12.")


def immortalize_none() -> bool:
    """On an affected binding under CPython < 3.12, make None's refcount unreachably large.

    Returns True if applied. pyproject.toml excludes the affected PySide6 releases, so this
    only guards environments that installed one anyway.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not binding_drops_none_references():
        return False
    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field of PyObject
    if refcnt.value < _IMMORTAL_REFCNT // 2:
        refcnt.value = _IMMORTAL_REFCNT
    return True
