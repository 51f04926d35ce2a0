"""Project files (``.musicapp``): the whole song plus the editor's state, as JSON.

Owns the on-disk schema and its version. A project is a JSON object::

    {"format": "musicapp-project", "schema_version": 3,
     "song": {"ppq": 480, "tempos": [[tick, us_per_beat], ...],
              "meters": [[tick, numerator, denominator], ...],
              "key": {"tonic": 0-11, "mode": "major"} | null,
              "tracks": [{"name", "channel", "program", "mute", "solo",
                          "notes": [[start, pitch, length, velocity, channel], ...],
                          "controls": [[tick, kind, number, value], ...]}],
              "chords": [[start, length, name], ...]},
     "editor": {...}}

Ticks are song ticks (PPQ 480). ``editor`` is any JSON object the UI chooses (view,
selection, generation settings); it is stored as given and handed back on load.
``controls`` (schema 2) are the track's other channel messages (``core.song.Control``:
kind is "control_change", "pitchwheel", "program_change", "aftertouch" or "polytouch");
schema 1 files, which have none, still load. ``chords`` (schema 3) is the chord track, each
chord by its name ("F#m7", "Bb/D"); older files without it load with no chords. A newer schema is refused, so an older
musicapp never drops what it cannot read by saving over it.
Saving is atomic and keeps the previous file as ``NAME.musicapp.bak``; loading validates
every field and raises ``ProjectError`` with one line naming what is wrong and where.
"""

from __future__ import annotations

import json
import os
from typing import Any

from musicapp.core.atomic import atomic_write_bytes, parse_file
from musicapp.core.chords import Chord
from musicapp.core.errors import MusicappError, ProjectError
from musicapp.core.scales import mode_intervals
from musicapp.core.song import Control, Key, Note, Song, TempoChange, TimeSignature, Track

PROJECT_SUFFIX = ".musicapp"
FORMAT_NAME = "musicapp-project"
SCHEMA_VERSION = 3
MAX_PROJECT_BYTES = 64 * 1024 * 1024
#: largest integer accepted in a note, tempo or meter row (ticks fit in 31 bits).
MAX_INT = 2**31 - 1


def save_project(path: str | os.PathLike, song: Song, editor_state: dict | None = None) -> None:
    """Write ``song`` and ``editor_state`` (a JSON-able dict) to ``path`` atomically.

    The file being replaced, if any, is kept as ``path + ".bak"``.
    """
    if not isinstance(song, Song):
        raise ProjectError(f"cannot save {type(song).__name__} as a project")
    state = {} if editor_state is None else editor_state
    if not isinstance(state, dict):
        raise ProjectError("editor state must be a dict")
    doc = {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION,
           "song": song_to_dict(song), "editor": state}
    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as err:
        raise ProjectError(f"editor state cannot be saved as JSON: {err}") from None
    atomic_write_bytes(path, text.encode("utf-8"), ProjectError, keep_backup=True)


def load_project(path: str | os.PathLike) -> tuple[Song, dict]:
    """Read a project file; returns (song, editor_state). Raises ``ProjectError``."""
    return parse_file(path, MAX_PROJECT_BYTES, ProjectError, project_from_bytes)


def project_from_bytes(data: bytes) -> tuple[Song, dict]:
    """Parse and validate project file contents."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ProjectError("not a musicapp project (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise ProjectError(f"not a musicapp project (bad JSON at line {err.lineno}, "
                           f"column {err.colno}: {err.msg})") from None
    except RecursionError:
        raise ProjectError("not a musicapp project (JSON nested too deeply)") from None
    except ValueError as err:  # e.g. an integer with thousands of digits
        raise ProjectError(f"not a musicapp project ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ProjectError("not a musicapp project (missing 'format': 'musicapp-project')")
    version = doc.get("schema_version")
    if type(version) is not int or version < 1:
        raise ProjectError(f"bad schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise ProjectError(f"saved by a newer musicapp (schema {version}, this one reads "
                           f"up to {SCHEMA_VERSION})")
    editor = doc.get("editor", {})
    if not isinstance(editor, dict):
        raise ProjectError("'editor' must be an object")
    return song_from_dict(_get(doc, "song", dict, "project")), editor


def song_to_dict(song: Song) -> dict[str, Any]:
    """JSON-able form of ``song`` (the ``"song"`` member of a project)."""
    return {
        "ppq": song.ppq,
        "tempos": [[t.tick, t.us_per_beat] for t in song.tempos],
        "meters": [[m.tick, m.numerator, m.denominator] for m in song.meters],
        "key": None if song.key is None else {"tonic": song.key.tonic, "mode": song.key.mode},
        "tracks": [{"name": t.name, "channel": t.channel, "program": t.program,
                    "mute": t.mute, "solo": t.solo,
                    "notes": [[n.start, n.pitch, n.length, n.velocity, n.channel]
                              for n in t.notes],
                    "controls": [[c.tick, c.kind, c.number, c.value] for c in t.controls]}
                   for t in song.tracks],
        "chords": [[c.start, c.length, c.name] for c in song.chords],
    }


def song_from_dict(d: dict) -> Song:
    """Inverse of ``song_to_dict``, validating every field (``ProjectError``)."""
    where = "song"
    try:
        ppq = _get(d, "ppq", int, where)
        tempos = [TempoChange(*_ints(row, 2, f"song tempo {i + 1}"))
                  for i, row in enumerate(_get(d, "tempos", list, where))]
        meters = [TimeSignature(*_ints(row, 3, f"song meter {i + 1}"))
                  for i, row in enumerate(_get(d, "meters", list, where))]
        key = None
        raw_key = d.get("key")
        if raw_key is not None:
            where = "song key"
            if not isinstance(raw_key, dict):
                raise ProjectError("song key must be an object or null")
            key = Key(_get(raw_key, "tonic", int, where), _get(raw_key, "mode", str, where))
            mode_intervals(key.mode)
        tracks = [_track_from_dict(t, i + 1) for i, t in enumerate(_get(d, "tracks", list, "song"))]
        chords = [_chord_from_row(row, i + 1)
                  for i, row in enumerate(_get(d, "chords", list, "song") if "chords" in d else [])]
        where = "song"
        return Song(tuple(tracks), tuple(tempos), tuple(meters), key, ppq, tuple(chords))
    except ProjectError:
        raise
    except MusicappError as err:  # SongError/ScaleError from the model's own checks
        raise ProjectError(f"{where}: {err}") from None


def _track_from_dict(d: Any, number: int) -> Track:
    where = f"track {number}"
    if not isinstance(d, dict):
        raise ProjectError(f"{where} must be an object")
    notes = []
    for i, row in enumerate(_get(d, "notes", list, where)):
        spot = f"{where} note {i + 1}"
        try:
            notes.append(Note(*_ints(row, 5, spot)))
        except ProjectError:
            raise
        except MusicappError as err:
            raise ProjectError(f"{spot}: {err}") from None
    controls = []
    for i, row in enumerate(_get(d, "controls", list, where) if "controls" in d else []):
        spot = f"{where} control {i + 1}"
        if not isinstance(row, list) or len(row) != 4 or type(row[1]) is not str:
            raise ProjectError(f"{spot} must be [tick, kind, number, value]")
        try:
            tick, number, value = _ints([row[0], row[2], row[3]], 3, spot)
            controls.append(Control(tick, row[1], number, value))
        except ProjectError:
            raise
        except MusicappError as err:
            raise ProjectError(f"{spot}: {err}") from None
    try:
        return Track(_get(d, "name", str, where), _get(d, "channel", int, where),
                     _get(d, "program", int, where), tuple(notes),
                     _get(d, "mute", bool, where), _get(d, "solo", bool, where), tuple(controls))
    except ProjectError:
        raise
    except MusicappError as err:
        raise ProjectError(f"{where}: {err}") from None


def _chord_from_row(row: Any, number: int) -> Chord:
    spot = f"song chord {number}"
    if not isinstance(row, list) or len(row) != 3 or type(row[2]) is not str:
        raise ProjectError(f"{spot} must be [start, length, name]")
    start, length = _ints(row[:2], 2, spot)
    try:
        return Chord.parse(row[2], start, length)
    except MusicappError as err:
        raise ProjectError(f"{spot}: {err}") from None


def _get(d: dict, name: str, kind: type, where: str) -> Any:
    if name not in d:
        raise ProjectError(f"{where}: missing '{name}'")
    value = d[name]
    if type(value) is not kind:  # exact: a bool is not an int, an int is not a bool
        raise ProjectError(f"{where}: '{name}' must be {_KIND_NAMES[kind]}, not {_json_type(value)}")
    return value


def _ints(row: Any, count: int, where: str) -> list[int]:
    if not isinstance(row, list) or len(row) != count or any(type(v) is not int for v in row):
        raise ProjectError(f"{where} must be a list of {count} integers")
    if any(abs(v) > MAX_INT for v in row):
        raise ProjectError(f"{where} holds a number beyond {MAX_INT}")
    return row


_KIND_NAMES = {int: "an integer", str: "a string", bool: "true or false",
               list: "a list", dict: "an object"}


def _json_type(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a value")


def _reject_constant(name: str) -> float:
    raise ProjectError(f"not a musicapp project (JSON contains {name})")

