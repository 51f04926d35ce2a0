"""Chord symbols in ticks: the ``Chord`` type of a song's chord track, names and pitch classes.

Owns the chord-name grammar ("C", "F#m7", "Bb/D", "Gsus4", "Ebmaj7", "Bm7b5", "Adim7") and its
canonical spelling, the quality table (``QUALITIES``: quality -> semitones above the root),
transposition, and the chord track's rule: chords sorted by start and never overlapping
(``normalize_chord_track``). Also the two-way mapping between a chord track and the marker
meta events a .mid file carries (``chord_markers`` / ``chords_from_markers``).

Units: ``start`` and ``length`` in ticks; ``root`` and ``bass`` are pitch classes 0-11, 0 = C.
A name that does not parse raises ``ChordError`` with one line saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Iterable, Mapping

from musicapp.core.song import NOTE_NAMES, SongError

#: quality -> semitones above the root, chord tones in stacking order (the root first).
QUALITIES: Mapping[str, tuple[int, ...]] = MappingProxyType({
    "maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8),
    "sus2": (0, 2, 7), "sus4": (0, 5, 7), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10), "m7b5": (0, 3, 6, 10), "dim7": (0, 3, 6, 9), "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9), "add9": (0, 4, 7, 14),
})

#: quality -> the suffix its canonical name carries after the root ("" for major).
_SUFFIX: Mapping[str, str] = MappingProxyType({
    "maj": "", "min": "m", "dim": "dim", "aug": "aug", "sus2": "sus2", "sus4": "sus4",
    "7": "7", "maj7": "maj7", "m7": "m7", "m7b5": "m7b5", "dim7": "dim7", "6": "6",
    "m6": "m6", "add9": "add9",
})

#: every suffix the parser accepts (case-sensitive: "M7" is maj7, "m7" is minor seventh).
_ALIASES: Mapping[str, str] = MappingProxyType({
    **{suffix: quality for quality, suffix in _SUFFIX.items()},
    "M": "maj", "maj": "maj", "major": "maj", "min": "min", "minor": "min", "-": "min",
    "mi": "min", "o": "dim", "\u00b0": "dim", "+": "aug", "#5": "aug", "sus": "sus4",
    "dom7": "7", "M7": "maj7", "\u0394": "maj7", "\u03947": "maj7", "\u25b37": "maj7", "ma7": "maj7",
    "min7": "m7", "-7": "m7", "mi7": "m7", "\u00f8": "m7b5", "\u00f87": "m7b5", "min7b5": "m7b5",
    "-7b5": "m7b5", "m7(b5)": "m7b5", "o7": "dim7", "\u00b07": "dim7", "min6": "m6", "-6": "m6",
    "(add9)": "add9", "add2": "add9", "maj6": "6", "M6": "6",
})

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"#": 1, "\u266f": 1, "b": -1, "\u266d": -1}
_NAME_RE = re.compile(r"^([A-G])([#\u266fb\u266d]?)([^/]*)(?:/([A-G])([#\u266fb\u266d]?))?$")
#: the marker a .mid file carries where the chord track is silent ("no chord").
NO_CHORD = "N.C."
MAX_NAME_CHARS = 24


class ChordError(SongError):
    """A chord name that does not parse, or an invalid chord value."""


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord symbol on the chord track: ``start`` and ``length`` in ticks (length >= 1),
    ``root`` pitch class 0-11, ``quality`` a key of ``QUALITIES`` and, for a slash chord,
    ``bass`` pitch class 0-11 (None when the bass is the root)."""

    start: int
    length: int
    root: int
    quality: str = "maj"
    bass: int | None = None

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ChordError(f"chord start {self.start} is negative")
        if self.length < 1:
            raise ChordError(f"chord length {self.length} must be at least 1 tick")
        if not 0 <= self.root <= 11:
            raise ChordError(f"chord root {self.root} outside 0..11")
        if self.quality not in QUALITIES:
            raise ChordError(f"unknown chord quality {self.quality!r} (known: {', '.join(QUALITIES)})")
        if self.bass is not None:
            if not 0 <= self.bass <= 11:
                raise ChordError(f"chord bass {self.bass} outside 0..11")
            if self.bass == self.root:
                object.__setattr__(self, "bass", None)

    @classmethod
    def parse(cls, name: str, start: int = 0, length: int = 1920) -> "Chord":
        """The chord named ``name`` ("C", "F#m7", "Bb/D") at ``start`` for ``length`` ticks."""
        root, quality, bass = parse_chord_name(name)
        return cls(start, length, root, quality, bass)

    @property
    def end(self) -> int:
        """Tick just after the chord (start + length)."""
        return self.start + self.length

    @property
    def name(self) -> str:
        """Canonical name: root spelt as in ``NOTE_NAMES``, e.g. "Bbm7", "F#dim/C"."""
        text = NOTE_NAMES[self.root] + _SUFFIX[self.quality]
        return text if self.bass is None else f"{text}/{NOTE_NAMES[self.bass]}"

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Pitch classes of the chord tones, root first in stacking order; a slash bass that
        is not a chord tone comes last."""
        pcs = tuple(dict.fromkeys((self.root + i) % 12 for i in QUALITIES[self.quality]))
        if self.bass is not None and self.bass not in pcs:
            pcs += (self.bass,)
        return pcs

    @property
    def bass_pc(self) -> int:
        """The pitch class the bass plays: the slash bass, else the root."""
        return self.root if self.bass is None else self.bass

    def transposed(self, semitones: int) -> "Chord":
        """Copy moved by ``semitones`` (root and bass; timing unchanged)."""
        bass = None if self.bass is None else (self.bass + semitones) % 12
        return replace(self, root=(self.root + semitones) % 12, bass=bass)

    def moved(self, start: int | None = None, length: int | None = None) -> "Chord":
        """Copy with a new ``start`` and/or ``length`` (ticks)."""
        return replace(self, start=self.start if start is None else start,
                       length=self.length if length is None else length)

    def __str__(self) -> str:
        return self.name


def parse_chord_name(name: str) -> tuple[int, str, int | None]:
    """Parse a chord name into (root pc, quality, bass pc or None); ``ChordError`` if it is not one.

    Root: a letter A-G with an optional #, b or the Unicode signs. Quality suffixes: "" / "M" /
    "maj" (major), "m" / "min" / "-", "dim" / "o", "aug" / "+", "sus2", "sus4" / "sus", "7",
    "maj7" / "M7", "m7", "m7b5" / "ø", "dim7" / "o7", "6", "m6", "add9". Slash bass: "/E", "/Bb".
    """
    if not isinstance(name, str):
        raise ChordError(f"a chord name must be text, not {type(name).__name__}")
    text = name.strip()
    if not text:
        raise ChordError("empty chord name")
    if len(text) > MAX_NAME_CHARS:
        raise ChordError(f"not a chord name: {text[:MAX_NAME_CHARS]!r}...")
    m = _NAME_RE.match(text[0].upper() + text[1:])
    if m is None:
        raise ChordError(f"not a chord name: {text!r} (try e.g. C, F#m7, Bb/D, Gsus4)")
    letter, acc, suffix, bass_letter, bass_acc = m.groups()
    quality = _ALIASES.get(suffix)
    if quality is None:
        raise ChordError(f"unknown chord quality {suffix!r} in {text!r} "
                         f"(known: {', '.join(s or 'major' for s in _SUFFIX.values())})")
    root = (_LETTERS[letter] + _ACCIDENTALS.get(acc, 0)) % 12
    bass = None if bass_letter is None else (_LETTERS[bass_letter] + _ACCIDENTALS.get(bass_acc, 0)) % 12
    return root, quality, bass


def chord_name(root: int, quality: str, bass: int | None = None) -> str:
    """Canonical name of a chord symbol without timing."""
    return Chord(0, 1, root, quality, bass).name


def normalize_chord_track(chords: Iterable[Chord]) -> tuple[Chord, ...]:
    """``chords`` sorted by start; ``SongError`` if two of them overlap."""
    track = tuple(chords)
    if any(not isinstance(c, Chord) for c in track):
        raise ChordError("the chord track holds something that is not a Chord")
    if any(track[i].start > track[i + 1].start for i in range(len(track) - 1)):
        track = tuple(sorted(track, key=lambda c: c.start))
    for a, b in zip(track, track[1:]):
        if a.end > b.start:
            raise ChordError(f"chords {a.name} (tick {a.start}) and {b.name} (tick {b.start}) overlap")
    return track


def chord_at(chords: tuple[Chord, ...], tick: int) -> Chord | None:
    """The chord sounding at ``tick`` on a normalized chord track, or None."""
    lo, hi = 0, len(chords)
    while lo < hi:
        mid = (lo + hi) // 2
        if chords[mid].start <= tick:
            lo = mid + 1
        else:
            hi = mid
    if lo and chords[lo - 1].end > tick:
        return chords[lo - 1]
    return None


def chord_markers(chords: Iterable[Chord]) -> list[tuple[int, str]]:
    """Marker events (tick, text) for a chord track: the chord's name where each starts and
    ``NO_CHORD`` where one ends without the next starting there."""
    out: list[tuple[int, str]] = []
    track = tuple(chords)
    for i, c in enumerate(track):
        out.append((c.start, c.name))
        if i + 1 == len(track) or track[i + 1].start != c.end:
            out.append((c.end, NO_CHORD))
    return out


_NOT_A_CHORD = object()  # a marker that is neither a chord nor "no chord"


def _marker_symbol(text: str):
    """What a .mid marker says for the chord track: a parsed chord (root, quality, bass),
    None for "no chord", or ``_NOT_A_CHORD`` (a section name, a cue, garbage)."""
    label = text.strip() if isinstance(text, str) else ""
    if label.upper() in (NO_CHORD, "NC", "N.C"):
        return None
    try:
        return parse_chord_name(label)
    except ChordError:
        return _NOT_A_CHORD


def is_chord_marker(text: str) -> bool:
    """True when a .mid marker's text names a chord or "no chord" (it belongs to the chord
    track, which export writes again); other markers are kept as they are."""
    return _marker_symbol(text) is not _NOT_A_CHORD


def chords_from_markers(markers: Iterable[tuple[int, str]], end: int,
                        bar: int = 1920) -> tuple[tuple[Chord, ...], tuple[str, ...]]:
    """The chord track of a file's markers (tick, text), in song ticks, plus remarks.

    A marker naming a chord starts it; the chord lasts until the next marker that is a chord or
    ``NO_CHORD`` (other markers, e.g. section names, are skipped and said so). The last chord
    without an end lasts to ``end`` (the song's last tick), or one ``bar`` when it starts there.
    Of several chords at one tick the last wins. Never raises.
    """
    starts: list[tuple[int, tuple[int, str, int | None] | None]] = []
    skipped: list[str] = []
    for tick, text in sorted(markers, key=lambda m: m[0]):
        symbol = _marker_symbol(text)
        if symbol is _NOT_A_CHORD:
            skipped.append(text.strip() if isinstance(text, str) else "")
            continue
        if starts and starts[-1][0] == tick:
            starts[-1] = (tick, symbol)
        else:
            starts.append((tick, symbol))
    chords: list[Chord] = []
    for i, (tick, symbol) in enumerate(starts):
        if symbol is None:
            continue
        stop = starts[i + 1][0] if i + 1 < len(starts) else (end if end > tick else tick + bar)
        chords.append(Chord(tick, stop - tick, *symbol))
    remarks: tuple[str, ...] = ()
    if skipped:
        shown = ", ".join(repr(s[:MAX_NAME_CHARS]) for s in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        remarks = (f"{len(skipped)} marker(s) that are not chord names were left out ({shown}{more})",)
    return tuple(chords), remarks
