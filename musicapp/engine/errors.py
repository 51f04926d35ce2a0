"""Engine errors: every failure of ports, backends and audio a user can cause.

All subclass ``MusicappError`` so the CLI prints one line and the GUI shows the message.
"""

from __future__ import annotations

from musicapp.core.errors import MusicappError


class EngineError(MusicappError):
    """Base class for playback, port and audio failures."""


class NoMidiBackendError(EngineError):
    """No MIDI system is reachable (no ALSA sequencer, no JACK server, no CoreMIDI/WinMM)."""


class PortError(EngineError):
    """A MIDI port could not be found, opened, or vanished while in use."""


class AudioDeviceError(EngineError):
    """No audio output device is available for the built-in synth."""
