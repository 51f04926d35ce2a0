"""Scales and keys: mode intervals, key parsing, scale snapping and key detection.

Owns the mode table (``MODES``: mode name -> semitone intervals above the tonic), the
key-name grammar used by the CLI's ``--key`` ("C major", "F# minor", "Bb dorian", "Am"),
the mapping between a ``Key`` and a MIDI key signature (sharps, minor), and
Krumhansl-Schmuckler key detection on a duration-weighted pitch-class histogram.
Pitches are MIDI note numbers 0-127; pitch classes 0-11 with 0 = C.
"""

from __future__ import annotations

import math
import re
from types import MappingProxyType
from typing import Iterable, Mapping, Protocol

from musicapp.core.errors import MusicappError
from musicapp.core.song import DRUM_CHANNEL, NOTE_NAMES, Key

MODES: Mapping[str, tuple[int, ...]] = MappingProxyType({
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic_minor": (0, 2, 3, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "chromatic": tuple(range(12)),
})

_MODE_ALIASES: Mapping[str, str] = MappingProxyType({
    "": "major", "maj": "major", "ionian": "major", "m": "minor", "min": "minor",
    "aeolian": "minor", "natural_minor": "minor", "harmonic": "harmonic_minor",
    "harm_minor": "harmonic_minor", "melodic": "melodic_minor", "mel_minor": "melodic_minor",
    "dor": "dorian", "phr": "phrygian", "lyd": "lydian", "mixo": "mixolydian",
    "mix": "mixolydian", "loc": "locrian", "pentatonic": "major_pentatonic",
    "maj_pentatonic": "major_pentatonic", "pentatonic_major": "major_pentatonic",
    "min_pentatonic": "minor_pentatonic", "m_pentatonic": "minor_pentatonic",
    "pentatonic_minor": "minor_pentatonic",
})

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"#": 1, "\u266f": 1, "b": -1, "\u266d": -1}
_KEY_RE = re.compile(r"^([A-Ga-g])([#\u266fb\u266d]{0,2})(.*)$")

#: (offset from the mode's tonic to the tonic of the major or minor key whose
#: signature it uses, that key is minor). Chromatic has no key signature.
_SIGNATURE_PARENT: Mapping[str, tuple[int, bool]] = MappingProxyType({
    "major": (0, False), "minor": (0, True), "harmonic_minor": (0, True),
    "melodic_minor": (0, True), "dorian": (-2, False), "phrygian": (-4, False),
    "lydian": (-5, False), "mixolydian": (-7, False), "locrian": (1, False),
    "major_pentatonic": (0, False), "minor_pentatonic": (0, True), "blues": (0, True),
})

# Krumhansl-Kessler probe-tone profiles, tonic first.
_MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
_MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


class ScaleError(MusicappError, ValueError):
    """An unknown key name or mode, or nothing to detect a key from."""


class _NoteLike(Protocol):
    pitch: int
    length: int
    channel: int


def mode_intervals(mode: str) -> tuple[int, ...]:
    """Semitones above the tonic for ``mode``; ``ScaleError`` if the mode is unknown."""
    try:
        return MODES[mode]
    except KeyError:
        raise ScaleError(f"unknown mode {mode!r} (known: {', '.join(MODES)})") from None


def scale_pitch_classes(key: Key) -> frozenset[int]:
    """Pitch classes (0-11, 0 = C) of ``key``'s scale."""
    return frozenset((key.tonic + i) % 12 for i in mode_intervals(key.mode))


def in_scale(pitch: int, key: Key) -> bool:
    """Whether MIDI ``pitch`` belongs to ``key``'s scale."""
    return pitch % 12 in scale_pitch_classes(key)


def snap_to_scale(pitch: int, key: Key, prefer: str = "down") -> int:
    """Nearest in-scale pitch to ``pitch`` within 0..127; ties go ``prefer`` ("down"/"up")."""
    if not 0 <= pitch <= 127:
        raise ScaleError(f"pitch {pitch} outside 0..127")
    if prefer not in ("down", "up"):
        raise ScaleError(f"prefer must be 'down' or 'up', not {prefer!r}")
    classes = scale_pitch_classes(key)
    sign = -1 if prefer == "down" else 1
    for d in range(12):
        for cand in (pitch + sign * d, pitch - sign * d):
            if 0 <= cand <= 127 and cand % 12 in classes:
                return cand
    raise AssertionError("every scale has a pitch within an octave")


def normalize_mode(text: str) -> str:
    """Canonical mode name for ``text`` ("Harmonic Minor", "m", "aeolian" ...)."""
    name = re.sub(r"[\s\-]+", "_", text.strip().lower())
    name = _MODE_ALIASES.get(name, name)
    if name not in MODES:
        raise ScaleError(f"unknown mode {text.strip()!r} (known: {', '.join(MODES)})")
    return name


def parse_key(text: str) -> Key:
    """Parse a key name: "C major", "F# minor", "Bb dorian", "Am", "c#m", "Eb blues".

    The tonic is a letter A-G with up to two accidentals (#, b, or the Unicode signs);
    the mode may follow with or without a space; no mode means major.
    """
    src = text.strip() if isinstance(text, str) else ""
    m = _KEY_RE.match(src)
    if m:
        letter, accs, rest = m.groups()
        # "Bblues" is B blues, "Bbm" is B-flat minor: try the longest accidental run first.
        for n in range(len(accs), -1, -1):
            try:
                mode = normalize_mode(accs[n:] + rest)
            except ScaleError:
                continue
            tonic = _LETTERS[letter.upper()] + sum(_ACCIDENTALS[a] for a in accs[:n])
            return Key(tonic % 12, mode)
    raise ScaleError(
        f"unknown key {text!r} (try e.g. 'C major', 'F# minor', 'Bb dorian', 'Am')")


def key_signature_of(key: Key) -> tuple[int, bool] | None:
    """MIDI key signature for ``key``: (sharps -7..7, negative = flats; is minor).

    Modes use the signature of their parent major/minor key; chromatic has none.
    """
    mode_intervals(key.mode)
    parent = _SIGNATURE_PARENT.get(key.mode)
    if parent is None:
        return None
    offset, minor = parent
    major_tonic = (key.tonic + offset + (3 if minor else 0)) % 12
    sharps = major_tonic * 7 % 12
    return (sharps - 12 if sharps > 6 else sharps), minor


def key_from_signature(sharps: int, minor: bool) -> Key:
    """The major or minor ``Key`` of a MIDI key signature (sharps -7..7)."""
    if not -7 <= sharps <= 7:
        raise ScaleError(f"key signature with {sharps} sharps is invalid")
    major_tonic = sharps * 7 % 12
    return Key((major_tonic - 3) % 12, "minor") if minor else Key(major_tonic, "major")


def pitch_class_histogram(notes: Iterable[_NoteLike]) -> list[float]:
    """Total length in ticks per pitch class (a zero-length note counts 1 tick); drums skipped."""
    hist = [0.0] * 12
    for n in notes:
        if n.channel != DRUM_CHANNEL:
            hist[n.pitch % 12] += max(n.length, 1)
    return hist


def key_scores(notes: Iterable[_NoteLike]) -> list[tuple[Key, float]]:
    """All 24 major/minor keys with their Pearson correlation to the notes, best first.

    Ties keep the order C major, C minor, C# major ... (deterministic).
    """
    hist = pitch_class_histogram(notes)
    mean = sum(hist) / 12.0
    dx = [x - mean for x in hist]  # deviations are the same for every rotation
    sx = math.sqrt(sum(a * a for a in dx))
    scores = []
    for tonic in range(12):
        rotated = dx[tonic:] + dx[:tonic]
        for mode, (dy, sy) in _PROFILE_DEVIATIONS.items():
            den = sx * sy
            scores.append((Key(tonic, mode), sum(a * b for a, b in zip(rotated, dy)) / den if den else 0.0))
    return sorted(scores, key=lambda ks: -ks[1])


def detect_key(notes: Iterable[_NoteLike], default: Key | None = None) -> Key:
    """Most likely major/minor key of ``notes`` (Krumhansl-Schmuckler, duration-weighted).

    Drum-channel notes are ignored. With no pitched notes, returns ``default`` or raises
    ``ScaleError`` if no default was given.
    """
    notes = list(notes)
    if not any(n.channel != DRUM_CHANNEL for n in notes):
        if default is not None:
            return default
        raise ScaleError("no pitched notes to detect a key from")
    return key_scores(notes)[0][0]


def _deviations(profile: tuple[float, ...]) -> tuple[tuple[float, ...], float]:
    """A key profile's deviations from its mean and their root sum of squares (for Pearson's r)."""
    mean = sum(profile) / len(profile)
    dy = tuple(y - mean for y in profile)
    return dy, math.sqrt(sum(b * b for b in dy))


_PROFILE_DEVIATIONS = {"major": _deviations(_MAJOR_PROFILE), "minor": _deviations(_MINOR_PROFILE)}


def pitch_name(pitch: int) -> str:
    """MIDI pitch as a note name with octave, middle C (60) = "C4"."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"
