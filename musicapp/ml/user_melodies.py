"""The user's own MIDI files as training melodies: find, read, pick the melody, encode, split.

Owns what a fine-tune learns from (no torch here, so the editor's scan runs in a light
process): :func:`find_midi_files` walks files and folders, :func:`read_user_melodies` reads
each ``.mid`` with the app's own importer (every meter, tempo map and SMPTE timing it reads),
chooses the melody track (the one the user names, else the most melodic non-drum track: the
highest-sounding top line among tracks with at least a quarter of the busiest track's notes),
reduces it to its top line on the 16th grid and encodes it with its meters and key (the
file's key signature, else the key detected from the notes). Every file that gives nothing
is listed with a one-line reason. :func:`split_user_melodies` holds out about 15% of the
melodies (at least one) by a hash of their content, so the split is stable across runs.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from musicapp.core.errors import MusicappError
from musicapp.ml.dataset import UNKNOWN_KEY, UNKNOWN_MODE, EncodedTune
from musicapp.ml.encoding import PITCH_OFFSET, NUM_CLASSES, EncodedMelody, encode_notes, top_line

MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
MIN_NOTES_PER_FILE = 8
MIN_TOTAL_NOTES = 200  # fewer than this and a fine-tune learns nothing it can show
MAX_STEPS = 4096  # 16th steps per melody kept (256 bars of 4/4)
VALID_PERCENT = 15
MAX_FILES = 5000


class UserDataError(MusicappError):
    """Nothing (or too little) to learn from in the chosen files."""


@dataclass(frozen=True)
class Skipped:
    """A file that gave no melody, and why (one line)."""

    path: str
    reason: str


@dataclass(frozen=True)
class UserMelody:
    """One file's melody: its encoding with key features, source track, notes and length."""

    tune: EncodedTune
    path: str
    track: str
    notes: int
    seconds: float


@dataclass
class UserData:
    """Everything read from the user's files."""

    melodies: list[UserMelody] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def notes(self) -> int:
        return sum(m.notes for m in self.melodies)

    @property
    def minutes(self) -> float:
        return sum(m.seconds for m in self.melodies) / 60.0

    def summary(self) -> dict:
        """JSON-able counts and the skipped files (what the editor's dialog shows)."""
        return {"melodies": len(self.melodies), "notes": self.notes, "minutes": round(self.minutes, 2),
                "files": [{"path": m.path, "track": m.track, "notes": m.notes} for m in self.melodies],
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped]}


def find_midi_files(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Skipped]]:
    """MIDI files named or inside the named folders (recursively, sorted); the rest skipped.

    Files in folders that are not MIDI by name are listed as skipped; so are missing paths.
    """
    found: list[Path] = []
    skipped: list[Skipped] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file()):
                if f.suffix.lower() in MIDI_SUFFIXES:
                    found.append(f)
                elif not f.name.startswith("."):
                    skipped.append(Skipped(str(f), "not a MIDI file"))
        elif p.is_file():
            found.append(p)
        else:
            skipped.append(Skipped(str(p), "no such file or folder"))
    if len(found) > MAX_FILES:
        skipped += [Skipped(str(f), f"more than {MAX_FILES} files; left out") for f in found[MAX_FILES:]]
        found = found[:MAX_FILES]
    return found, skipped


def _key_features(song, notes) -> tuple[int, int]:
    from musicapp.core.scales import detect_key

    key = song.key
    if key is None:
        try:
            key = detect_key(notes)
        except MusicappError:
            return UNKNOWN_KEY, UNKNOWN_MODE
    return key.tonic, {"major": 0, "minor": 1}.get(key.mode, UNKNOWN_MODE)


def melody_track(song, track: int | None = None):
    """The track holding the melody: 1-based ``track`` if given, else the most melodic one.

    Returns ``(track, reason)``: the track, or None and why there is none.
    """
    if track is not None:
        if not 1 <= track <= len(song.tracks):
            return None, f"has no track {track} (it has {len(song.tracks)})"
        t = song.tracks[track - 1]
        if t.is_drums:
            return None, f"track {track} is a drum track"
        if not t.notes:
            return None, f"track {track} has no notes"
        return t, ""
    pitched = [t for t in song.tracks if not t.is_drums and t.notes]
    if not pitched:
        return None, "no melody (only drums)" if any(t.notes for t in song.tracks) else "no notes"
    tps = song.ppq // 4
    lines = {id(t): top_line(t.notes, tps) for t in pitched}
    busiest = max(len(v) for v in lines.values())
    candidates = [t for t in pitched if len(lines[id(t)]) * 4 >= busiest]
    return max(candidates, key=lambda t: float(np.mean([p for _, _, p in lines[id(t)]]))), ""


def read_user_melody(path: str | os.PathLike, track: int | None = None) -> UserMelody | Skipped:
    """One file's melody, or why it has none."""
    from musicapp.core.midifile import read_midi

    name = str(path)
    try:
        song = read_midi(path)
    except MusicappError as err:
        return Skipped(name, str(err))
    except (OSError, ValueError, EOFError) as err:
        return Skipped(name, f"cannot read it ({type(err).__name__}: {err})")
    t, why = melody_track(song, track)
    if t is None:
        return Skipped(name, why)
    try:
        melody, _ = encode_notes(t.notes, meters=song.meters, ppq=song.ppq)
    except (ValueError, MusicappError) as err:
        return Skipped(name, f"cannot encode its melody ({err})")
    if len(melody) > MAX_STEPS:
        melody = EncodedMelody(melody.tokens[:MAX_STEPS], melody.pos[:MAX_STEPS], melody.bar_len[:MAX_STEPS])
    notes = int(((melody.tokens >= PITCH_OFFSET) & (melody.tokens < NUM_CLASSES)).sum())
    if notes < MIN_NOTES_PER_FILE:
        return Skipped(name, f"melody too short ({notes} notes; at least {MIN_NOTES_PER_FILE} needed)")
    key, mode = _key_features(song, t.notes)
    end = max(n.end for n in t.notes)
    start = min(n.start for n in t.notes)
    seconds = max(0.0, song.tick_to_seconds(end) - song.tick_to_seconds(start))
    return UserMelody(EncodedTune(name, melody, key, mode), name, t.name, notes, seconds)


def read_user_melodies(paths: Iterable[str | os.PathLike], track: int | None = None) -> UserData:
    """Every melody in ``paths`` (files or folders) plus the skipped files with reasons."""
    files, skipped = find_midi_files(paths)
    data = UserData(skipped=list(skipped))
    seen: set[bytes] = set()
    for f in files:
        res = read_user_melody(f, track)
        if isinstance(res, Skipped):
            data.skipped.append(res)
            continue
        digest = _content_hash(res.tune.melody)
        if digest in seen:
            data.skipped.append(Skipped(str(f), "same melody as another file"))
            continue
        seen.add(digest)
        data.melodies.append(res)
    return data


def _content_hash(m: EncodedMelody) -> bytes:
    return hashlib.sha1(m.tokens.astype(np.int64).tobytes()).digest()


def split_user_melodies(melodies: Sequence[UserMelody], percent: int = VALID_PERCENT
                        ) -> tuple[list[UserMelody], list[UserMelody]]:
    """``(train, valid)``: about ``percent``% held out by content hash, at least one each side.

    Raises :class:`UserDataError` with fewer than two melodies or too few notes to train on.
    """
    if len(melodies) < 2:
        raise UserDataError(f"found {len(melodies)} usable melod{'y' if len(melodies) == 1 else 'ies'}; "
                            "at least 2 are needed (one is held out to check the model)")
    total = sum(m.notes for m in melodies)
    if total < MIN_TOTAL_NOTES:
        raise UserDataError(f"found only {total} melody notes; a fine-tune needs at least {MIN_TOTAL_NOTES}")
    ranked = sorted(melodies, key=lambda m: _content_hash(m.tune.melody))
    hashes = [int.from_bytes(_content_hash(m.tune.melody)[:4], "big") % 100 for m in ranked]
    valid = [m for m, h in zip(ranked, hashes) if h < percent]
    if not valid:
        valid = [ranked[0]]
    if len(valid) == len(ranked):
        valid = valid[:-1]
    ids = {id(m) for m in valid}
    order = {id(m): i for i, m in enumerate(melodies)}
    train = sorted((m for m in melodies if id(m) not in ids), key=lambda m: order[id(m)])
    valid = sorted(valid, key=lambda m: order[id(m)])
    return train, valid
