"""PySide6 widgets of the editor (see musicapp/ui/main_window.py); engine and ml are injected."""

from musicapp.ui.qtcompat import immortalize_none

immortalize_none()
