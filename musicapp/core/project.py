"""Project files (``.musicapp``): the whole song plus the editor's state, as JSON.

Owns the on-disk schema and its version. A project is a JSON object::

    {"format": "musicapp-project", "schema_version": 4,
     "song": {"ppq": 480, "tempos": [[tick, us_per_beat], ...],
              "meters": [[tick, numerator, denominator], ...],
              "key": {"tonic": 0-11, "mode": "major"} | null,
              "tracks": [{"name", "channel", "program", "mute", "solo",
                          "notes": [[start, pitch, length, velocity, channel], ...],
                          "controls": [[tick, kind, number, value], ...],
                          "extras": [[tick, kind, hex data], ...]}],
              "chords": [[start, length, name], ...],
              "extras": [[tick, kind, hex data], ...]},
     "editor": {...}}

Ticks are song ticks (PPQ 480). ``editor`` is any JSON object the UI chooses (view,
selection, generation settings); it is stored as given and handed back on load.
``controls`` (schema 2) are the track's other channel messages (``core.song.Control``:
kind is "control_change", "pitchwheel", "program_change", "aftertouch" or "polytouch");
schema 1 files, which have none, still load. ``chords`` (schema 3) is the chord track, each
chord by its name ("F#m7", "Bb/D"); older files without it load with no chords.
``extras`` (schema 4, song and tracks, written only when not empty) are the .mid events the
song keeps without editing them (``core.kept_events``: meta type 0-127 or 240 for sysex, and
the data bytes as hex); older files have none. A newer schema is refused, so an older
musicapp never drops what it cannot read by saving over it.
Saving is atomic and keeps the previous file as ``NAME.musicapp.bak``; loading validates
every field and raises ``ProjectError`` with one line naming what is wrong and where.
"""

from __future__ import annotations

import json
import os
from typing import Any

from itertools import chain

from musicapp.core.atomic import atomic_write_bytes, parse_file
from musicapp.core.chords import Chord
from musicapp.core.errors import MusicappError, ProjectError
from musicapp.core.kept_events import KeptEvent
from musicapp.core.midi_check import MAX_BEATS, MAX_TRACKS as MAX_MIDI_TRACKS
from musicapp.core.scales import mode_intervals
from musicapp.core.song import MAX_PPQ, Control, Key, Note, Song, TempoChange, TimeSignature, Track

PROJECT_SUFFIX = ".musicapp"
FORMAT_NAME = "musicapp-project"
SCHEMA_VERSION = 4
MAX_PROJECT_BYTES = 32 * 1024 * 1024  # MAX_ITEMS rows take ~13 MB
#: largest integer accepted in a note, tempo or meter row (ticks fit in 31 bits).
MAX_INT = 2**31 - 1
#: most tracks in a project: what a .mid holds besides its conductor track.
MAX_TRACKS = MAX_MIDI_TRACKS - 1
#: most notes, controls, tempo and meter changes of a project together (import makes at most
#: 400,000 events; this bounds load time and memory).
MAX_ITEMS = 500_000


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
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (valid JSON "\ud800"): keep it as an escape
        data = json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    atomic_write_bytes(path, data, ProjectError, keep_backup=True)


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
                    "controls": [[c.tick, c.kind, c.number, c.value] for c in t.controls],
                    **_extras_to_dict(t.extras)}
                   for t in song.tracks],
        "chords": [[c.start, c.length, c.name] for c in song.chords],
        **_extras_to_dict(song.extras),
    }


def _extras_to_dict(extras: tuple[KeptEvent, ...]) -> dict[str, list]:
    return {"extras": [[e.tick, e.kind, e.data.hex()] for e in extras]} if extras else {}


def _extras_from(rows: Any, where: str, last: int) -> tuple[KeptEvent, ...]:
    """``extras`` rows [tick, kind, hex data] (missing: none) as KeptEvents."""
    if rows is None:
        return ()
    if not isinstance(rows, list):
        raise ProjectError(f"{where}: 'extras' must be a list, not {_json_type(rows)}")
    out = []
    for i, row in enumerate(rows):
        spot = f"{where} kept event {i + 1}"
        if not isinstance(row, list) or len(row) != 3 or type(row[2]) is not str:
            raise ProjectError(f"{spot} must be [tick, kind, hex data]")
        tick, kind = _ints(row[:2], 2, spot, last)
        try:
            out.append(KeptEvent(tick, kind, bytes.fromhex(row[2])))
        except ValueError as err:  # KeptEventError is one, and so is bad hex
            raise ProjectError(f"{spot}: {err}") from None
    return tuple(out)


def song_from_dict(d: dict) -> Song:
    """Inverse of ``song_to_dict``, validating every field (``ProjectError``).

    Besides the model's own checks: ppq 1..32767, at most ``MAX_TRACKS`` tracks and
    ``MAX_ITEMS`` notes, controls, tempo and meter changes, and nothing later than
    ``MAX_BEATS`` quarter notes (what a .mid can hold and import reads back). The counts are
    checked before anything is built, and the work is linear in the file.
    """
    where = "song"
    try:
        ppq = _get(d, "ppq", int, where)
        if not 1 <= ppq <= MAX_PPQ:
            raise ProjectError(f"song: ppq {ppq} outside 1..{MAX_PPQ}")
        last = MAX_BEATS * ppq
        raw_tempos, raw_meters = _get(d, "tempos", list, where), _get(d, "meters", list, where)
        raw_tracks = _get(d, "tracks", list, where)
        _check_counts(raw_tempos, raw_meters, raw_tracks, d.get("chords"), d.get("extras"))
        tempos = [TempoChange(*_ints(row, 2, f"song tempo {i + 1}", last))
                  for i, row in enumerate(raw_tempos)]
        meters = [TimeSignature(*_ints(row, 3, f"song meter {i + 1}", last))
                  for i, row in enumerate(raw_meters)]
        key = None
        raw_key = d.get("key")
        if raw_key is not None:
            where = "song key"
            if not isinstance(raw_key, dict):
                raise ProjectError("song key must be an object or null")
            key = Key(_get(raw_key, "tonic", int, where), _get(raw_key, "mode", str, where))
            mode_intervals(key.mode)
        tracks = [_track_from_dict(t, i + 1, last) for i, t in enumerate(raw_tracks)]
        chords = [_chord_from_row(row, i + 1, last)
                  for i, row in enumerate(_get(d, "chords", list, "song") if "chords" in d else [])]
        where = "song"
        extras = _extras_from(d.get("extras"), "song", last)
        return Song(tuple(tracks), tuple(tempos), tuple(meters), key, ppq, tuple(chords), extras)
    except ProjectError:
        raise
    except MusicappError as err:  # SongError/ScaleError from the model's own checks
        raise ProjectError(f"{where}: {err}") from None


def _check_counts(tempos: list, meters: list, tracks: list, *more: Any) -> None:
    """Refuse too many tracks or items before building any of them (``more``: other song
    lists, such as chords and kept events, when they are lists)."""
    if len(tracks) > MAX_TRACKS:
        raise ProjectError(f"song has {len(tracks)} tracks (limit {MAX_TRACKS})")
    items = len(tempos) + len(meters) + sum(len(m) for m in more if isinstance(m, list))
    for t in tracks:
        if isinstance(t, dict):
            items += sum(len(t[k]) for k in ("notes", "controls", "extras") if isinstance(t.get(k), list))
    if items > MAX_ITEMS:
        raise ProjectError(f"song has {items} notes, controls, chords, tempo and meter changes "
                           f"(limit {MAX_ITEMS})")


def _track_from_dict(d: Any, number: int, last: int) -> Track:
    where = f"track {number}"
    if not isinstance(d, dict):
        raise ProjectError(f"{where} must be an object")
    notes = _notes(_get(d, "notes", list, where), where, last)
    controls = []
    for i, row in enumerate(_get(d, "controls", list, where) if "controls" in d else []):
        spot = f"{where} control {i + 1}"
        if not isinstance(row, list) or len(row) != 4 or type(row[1]) is not str:
            raise ProjectError(f"{spot} must be [tick, kind, number, value]")
        try:
            tick, number, value = _ints([row[0], row[2], row[3]], 3, spot)
            if tick > last:
                raise ProjectError(f"{spot} lies beyond {MAX_BEATS} quarter notes")
            controls.append(Control(tick, row[1], number, value))
        except ProjectError:
            raise
        except MusicappError as err:
            raise ProjectError(f"{spot}: {err}") from None
    try:
        return Track(_get(d, "name", str, where), _get(d, "channel", int, where),
                     _get(d, "program", int, where), tuple(notes),
                     _get(d, "mute", bool, where), _get(d, "solo", bool, where), tuple(controls),
                     _extras_from(d.get("extras"), where, last))
    except ProjectError:
        raise
    except MusicappError as err:
        raise ProjectError(f"{where}: {err}") from None


def _chord_from_row(row: Any, number: int, last: int) -> Chord:
    spot = f"song chord {number}"
    if not isinstance(row, list) or len(row) != 3 or type(row[2]) is not str:
        raise ProjectError(f"{spot} must be [start, length, name]")
    start, length = _ints(row[:2], 2, spot, last)
    try:
        return Chord.parse(row[2], start, length)
    except MusicappError as err:
        raise ProjectError(f"{spot}: {err}") from None


def _notes(rows: list, where: str, last: int) -> list[Note]:
    """Notes from ``[start, pitch, length, velocity, channel]`` rows, all ending by ``last``.

    Checks the whole list at once (rows, types, bounds) and builds the notes in one pass;
    only a failing list is walked again row by row to name the bad one.
    """
    try:
        if all(type(r) is list and len(r) == 5 for r in rows):
            flat = list(chain.from_iterable(rows))
            if all(type(v) is int for v in flat) and (not flat or -MAX_INT <= min(flat) and max(flat) <= MAX_INT):
                notes = [Note(*r) for r in rows]
                if all(n.end <= last for n in notes):
                    return notes
    except MusicappError:
        pass
    for i, row in enumerate(rows):  # name the first bad row
        spot = f"{where} note {i + 1}"
        try:
            note = Note(*_ints(row, 5, spot))
        except ProjectError:
            raise
        except MusicappError as err:
            raise ProjectError(f"{spot}: {err}") from None
        if note.end > last:
            raise ProjectError(f"{spot} ends beyond {MAX_BEATS} quarter notes")
    raise AssertionError("unreachable: a list that failed has a bad row")


def _get(d: dict, name: str, kind: type, where: str) -> Any:
    if name not in d:
        raise ProjectError(f"{where}: missing '{name}'")
    value = d[name]
    if type(value) is not kind:  # exact: a bool is not an int, an int is not a bool
        raise ProjectError(f"{where}: '{name}' must be {_KIND_NAMES[kind]}, not {_json_type(value)}")
    return value


def _ints(row: Any, count: int, where: str, last: int | None = None) -> list[int]:
    """``row`` if it is ``count`` integers within +-MAX_INT (its first, a tick, at most ``last``)."""
    if not isinstance(row, list) or len(row) != count or any(type(v) is not int for v in row):
        raise ProjectError(f"{where} must be a list of {count} integers")
    if any(abs(v) > MAX_INT for v in row):
        raise ProjectError(f"{where} holds a number beyond {MAX_INT}")
    if last is not None and row[0] > last:
        raise ProjectError(f"{where} lies beyond {MAX_BEATS} quarter notes")
    return row


_KIND_NAMES = {int: "an integer", str: "a string", bool: "true or false",
               list: "a list", dict: "an object"}


def _json_type(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a value")


def _reject_constant(name: str) -> float:
    raise ProjectError(f"not a musicapp project (JSON contains {name})")

