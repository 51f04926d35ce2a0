"""The error hierarchy: every failure a user can cause is a ``MusicappError``.

Each layer subclasses it (``MidiFileError`` here, ``CheckpointError`` in ml, ``PortError`` in
engine). Messages are one plain line meant for the user; the CLI prints ``str(err)`` and the
GUI shows it in the status bar or a dialog, never a traceback.
"""

from __future__ import annotations


class MusicappError(Exception):
    """Base class for user-facing errors; ``str()`` is a one-line message."""


class MidiFileError(MusicappError):
    """A .mid file could not be read or written (corrupt, unsupported, too large, disk full)."""


class ProjectError(MusicappError):
    """A project file could not be read or written."""
