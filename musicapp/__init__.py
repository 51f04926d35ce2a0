"""musicapp: an offline desktop composing assistant (piano roll + neural melody models + MIDI engine)."""

__version__ = "0.1.0"
