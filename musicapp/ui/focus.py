"""Which keys a panel's fields keep, so the window's shortcuts work after touching a panel.

Owns the keyboard policy for panels beside the piano roll: buttons, check boxes and combo
boxes do not take the focus on a click (Tab still reaches them), so Ctrl+Z, K, L, 1/2/3,
Ctrl+0 ... keep acting on the editor. A text field (spin box, line edit) keeps only the keys
its editing needs -- digits, sign and decimal point, the extra characters it is given (note
names for a pitch), cursor movement, Backspace/Delete, select-all and clipboard, Tab and
Shift+Tab to move between fields -- and lets every other shortcut through. Return/Enter
commits the field and Esc leaves it; both hand the keyboard back to ``home`` (the canvas), so
the next Return accepts a candidate again instead of being swallowed by a field.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QWidget,
)

#: keys any text field needs, whatever it holds.
EDIT_KEYS = frozenset({
    Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down, Qt.Key_Home, Qt.Key_End, Qt.Key_PageUp,
    Qt.Key_PageDown, Qt.Key_Backspace, Qt.Key_Delete, Qt.Key_Tab, Qt.Key_Backtab, Qt.Key_Return,
    Qt.Key_Enter, Qt.Key_Escape,
})
#: Ctrl+key combinations a text field keeps (select all, copy, paste, cut).
CONTROL_KEYS = frozenset({Qt.Key_A, Qt.Key_C, Qt.Key_V, Qt.Key_X})
NUMBER_TEXT = "0123456789.,-+"
#: what a pitch field accepts besides a number: note names like "F#3" or "Bb2".
PITCH_TEXT = "ABCDEFGabcdefg#"


class FieldKeys(QObject):
    """Event filter for one text field: keeps the keys in its needs, passes the rest on."""

    def __init__(self, field: QWidget, home: Callable[[], QWidget | None], text: str = NUMBER_TEXT):
        super().__init__(field)
        self.field = field
        self.home = home
        self.text = text

    def needs(self, event) -> bool:
        """True when the field needs ``event``'s key (a QKeyEvent) for its own editing."""
        mods = event.modifiers() & ~(Qt.KeypadModifier | Qt.ShiftModifier)
        key = event.key()
        if mods == Qt.ControlModifier:
            return key in CONTROL_KEYS
        if mods:
            return False
        if key in EDIT_KEYS:
            return True
        text = event.text()
        return bool(text) and all(ch in self.text for ch in text)

    def eventFilter(self, obj, event) -> bool:  # Qt override
        kind = event.type()
        if kind == QEvent.ShortcutOverride:
            if self.needs(event):
                event.accept()  # the field gets the key press
            else:
                event.ignore()  # a window shortcut may take it
            return True
        if kind == QEvent.KeyPress and event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape) \
                and not event.modifiers() & ~Qt.KeypadModifier:
            if event.key() != Qt.Key_Escape and isinstance(self.field, QAbstractSpinBox):
                self.field.interpretText()
            home = self.home()
            if home is not None:
                home.setFocus(Qt.OtherFocusReason)
            return True
        return False


def tame_focus(root: QWidget, home: Callable[[], QWidget | None], pitch_fields: tuple[QWidget, ...] = ()) -> None:
    """Apply the policy to every child of ``root``: no focus on click for buttons, check boxes
    and non-editable combo boxes; ``FieldKeys`` on spin boxes and line edits (``pitch_fields``
    also keep note-name letters). Safe to call again after adding widgets."""
    for w in root.findChildren(QWidget):
        if getattr(w, "_musicapp_keys", None) is not None:
            continue
        if isinstance(w, QAbstractSpinBox) or (isinstance(w, QLineEdit) and not isinstance(w.parent(), (
                QAbstractSpinBox, QComboBox))):
            if isinstance(w, QLineEdit):
                w._musicapp_keys = _TextKeys(w, home)  # free text: it keeps every printable key
            else:
                w._musicapp_keys = FieldKeys(w, home, NUMBER_TEXT + (PITCH_TEXT if w in pitch_fields else ""))
            w.installEventFilter(w._musicapp_keys)
        elif isinstance(w, (QAbstractButton, QComboBox)):
            if not (isinstance(w, QComboBox) and w.isEditable()):
                w.setFocusPolicy(Qt.TabFocus if w.focusPolicy() != Qt.NoFocus else Qt.NoFocus)


class _TextKeys(FieldKeys):
    """A free-text field: keeps every printable key, Ctrl+Z (its own undo) and the edit keys."""

    def needs(self, event) -> bool:
        mods = event.modifiers() & ~(Qt.KeypadModifier | Qt.ShiftModifier)
        if mods == Qt.ControlModifier:
            return event.key() in CONTROL_KEYS or event.key() in (Qt.Key_Z, Qt.Key_Y)
        if mods:
            return False
        return event.key() in EDIT_KEYS or bool(event.text() and event.text().isprintable())
