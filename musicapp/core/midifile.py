"""Standard MIDI File import and export: .mid bytes <-> ``Song``.

Owns the policy for turning MIDI events into notes and back. mido does the byte-level
decoding and encoding; ``core.midi_check`` validates the framing first so every malformed
file becomes one ``MidiFileError`` with a plain message.

Import rules (deterministic):
- Any division is rescaled to the song PPQ (480), rounding half up, start and end apart.
  SMPTE-timed files (ticks are fractions of a second) keep every event's time in seconds: their
  tempo events become the tempo map at the seconds they stand at (120 BPM without any).
- Note-on with velocity 0 is a note-off. A note-off closes the *oldest* open note of the
  same channel and pitch (first in, first out), so overlapping same-pitch notes keep their
  own starts. A note that would end up shorter than 1 tick (zero-length) gets 1 tick;
  notes still open at the end of a track end at the track's last event.
- A track whose notes use several channels is split into one track per channel (a type 0
  file always is); channel 10 (9 zero-based) makes a drum track. Each track takes the
  last program change on its channel at or before its first note as its program.
- Every other channel message is kept in the track's ``controls``: controllers, pitch bend,
  channel and key aftertouch, and program changes after the first note. Controls on a
  channel that has no notes in their own MTrk (a conductor track setting volumes) join the
  first track on that channel; with no such track they are left out, and said so.
- Tempo, time signature and key signature events count from whichever track holds them.
- Every other event (lyrics, text, copyright, cue points, SMPTE offset, sysex, sequencer-
  specific and unknown meta events, a second track name) is kept in order as a
  ``core.kept_events.KeptEvent``: on the first track its MTrk made, or, for an MTrk that made
  none (the conductor track), on the song (``Song.extras``). Export writes them back where
  they came from, so they survive a trip through the app.
- Type 2 files are read as sequential patterns: each track starts where the previous ended.
- Marker events naming chords make the chord track (``core.chords.chords_from_markers``);
  other markers are kept (``Song.extras``) and written back.

Export writes type 1: a conductor track (tempo, meter, key signature plus a text event
with the exact mode, and the chord track as markers) and one track per song track (name, program change, controls, notes,
all on the track's channel). Overlaps of one pitch are cut where the next note starts, duplicates
dropped and zero-length notes written 1 tick long, so nothing hangs; ``midi_normal_form``
gives the song a written file reads back as.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from fractions import Fraction

import mido

from musicapp.core.atomic import atomic_write_bytes, parse_file
from musicapp.core.chords import chord_markers, chords_from_markers, is_chord_marker
from musicapp.core.errors import MidiFileError, MusicappError
from musicapp.core.kept_events import KeptEvent, kept_event_of
from musicapp.core.midi_check import (
    MAX_BEATS, MAX_EVENTS, MAX_FILE_BYTES, MAX_TRACKS, SMPTE_RATES, MidiHeader, check_midi_bytes)
from musicapp.core.scales import key_from_signature, key_signature_of
from musicapp.core.song import DEFAULT_US_PER_BEAT, DRUM_CHANNEL, PPQ, Control, Key, Note, Song, TempoChange, TimeSignature, Track

_PADDING = "\x00 \t\r\n"
_KEY_TEXT = re.compile(r"^musicapp-key (\d{1,2}) ([a-z_]+)$")
_MAJOR_NAMES = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
_MINOR_NAMES = ("Abm", "Ebm", "Bbm", "Fm", "Cm", "Gm", "Dm", "Am", "Em", "Bm", "F#m", "C#m",
                "G#m", "D#m", "A#m")


@dataclass(frozen=True, slots=True)
class MidiImport:
    """What ``read_midi_details`` found: the song plus facts about the file itself."""

    song: Song
    format: int
    division: int
    file_tracks: int
    file_key: Key | None
    notes: tuple[str, ...] = ()  # plain remarks, e.g. how a type 2 file was read


def read_midi(source: str | os.PathLike | bytes) -> Song:
    """Read a .mid file (a path or its bytes) into a ``Song`` at PPQ 480."""
    return read_midi_details(source).song


def read_midi_details(source: str | os.PathLike | bytes) -> MidiImport:
    """Like ``read_midi`` but also reports the file's format, division and key signature."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _import(bytes(source))
    return parse_file(source, MAX_FILE_BYTES, MidiFileError, _import)


def write_midi(song: Song, path: str | os.PathLike, keep_backup: bool = False) -> None:
    """Write ``song`` as a type 1 .mid file, atomically (temp file + rename); with
    ``keep_backup`` a file it replaces is kept as ``NAME.mid.bak``."""
    atomic_write_bytes(path, midi_bytes(song), MidiFileError, keep_backup=keep_backup)


def midi_bytes(song: Song) -> bytes:
    """The type 1 .mid file for ``song`` as bytes (what ``write_midi`` writes).

    Refuses (``MidiFileError``) a song that import would refuse to read back: more tracks
    than ``MAX_TRACKS`` with the conductor, an event later than ``MAX_BEATS`` quarter notes,
    more than ``MAX_EVENTS`` events or more bytes than ``MAX_FILE_BYTES``.
    """
    if not isinstance(song, Song):
        raise MidiFileError(f"cannot export {type(song).__name__} as MIDI")
    if len(song.tracks) + 1 > MAX_TRACKS:
        raise MidiFileError(f"cannot export {len(song.tracks)} tracks as MIDI "
                            f"(a .mid musicapp reads holds at most {MAX_TRACKS - 1} besides its tempo track)")
    _check_exportable_times(song)
    mf = mido.MidiFile(type=1, ticks_per_beat=song.ppq, charset="utf-8")
    mf.tracks.append(_to_track(_conductor_events(song)))
    for track in midi_normal_form(song).tracks:
        mf.tracks.append(_to_track(_track_events(track)))
    events = sum(len(t) for t in mf.tracks)
    if events > MAX_EVENTS:
        raise MidiFileError(f"cannot export {events} MIDI events (a .mid musicapp reads holds at most {MAX_EVENTS})")
    out = io.BytesIO()
    try:
        mf.save(file=out)
    except (ValueError, TypeError, UnicodeError) as err:
        raise MidiFileError(f"cannot encode the song as MIDI: {err}") from None
    if out.tell() > MAX_FILE_BYTES:
        raise MidiFileError(f"cannot export {out.tell() / 1e6:.1f} MB of MIDI "
                            f"(a .mid musicapp reads holds at most {MAX_FILE_BYTES / 1e6:.1f} MB)")
    return out.getvalue()


#: largest delta time a Standard MIDI File can store (4 bytes of 7 bits).
_MAX_DELTA = 0x0FFFFFFF


def _check_exportable_times(song: Song) -> None:
    """No event may lie later than ``MAX_BEATS`` quarter notes (import's limit), nor need a
    delta time longer than 4 bytes (only possible at a ppq above 2684)."""
    last = MAX_BEATS * song.ppq
    latest = max([song.end, song.tempos[-1].tick, song.meters[-1].tick,
                  *(t.controls[-1].tick for t in song.tracks if t.controls),
                  *(e[-1].tick for e in [song.extras, *(t.extras for t in song.tracks)] if e)])
    if latest > last:
        beats = latest / song.ppq
        raise MidiFileError(f"cannot export an event at quarter note {beats:,.0f}: "
                            f"a .mid musicapp reads ends at {MAX_BEATS:,}")


def midi_normal_form(song: Song) -> Song:
    """The song as a MIDI round trip returns it (same PPQ, mute/solo cleared, names
    without trailing padding, see ``clean_name``).

    Every note is played on its track's channel (as the engine plays it). Per track, notes
    of one pitch never overlap: a note is cut where the next one starts, of notes starting
    together only the last in sort order (longest, then loudest) is kept, and zero-length
    notes become 1 tick long.
    """
    tracks = []
    for t in song.tracks:
        by_voice: dict[int, list[Note]] = defaultdict(list)
        for n in t.notes:
            if n.channel != t.channel or not n.length:
                n = replace(n, channel=t.channel, length=max(n.length, 1))
            by_voice[n.pitch].append(n)
        kept: list[Note] = []
        for voice in by_voice.values():
            for a, b in zip(voice, voice[1:] + [None]):
                if b is not None and b.start == a.start:
                    continue
                if b is not None and a.end > b.start:
                    a = replace(a, length=b.start - a.start)
                kept.append(a)
        program, controls = _fold_start_programs(t, min((n.start for n in kept), default=None))
        tracks.append(replace(t, name=clean_name(t.name), notes=tuple(sorted(kept)), program=program,
                              controls=controls, mute=False, solo=False))
    return song.replace(tracks=tuple(tracks))


def _fold_start_programs(track: Track, first_note: int | None) -> tuple[int, tuple[Control, ...]]:
    """Program changes at or before the first note (or anywhere, with no notes) are the
    track's program, as import reads them: the last of them wins. Bank selects at tick 0
    come first (export writes them before the track's program change)."""
    program, controls = track.program, []
    for c in track.controls:
        if c.kind == "program_change" and (first_note is None or c.tick <= first_note):
            program = c.value
        else:
            controls.append(c)
    controls.sort(key=lambda c: (c.tick, 0 if _is_start_bank_select(c) else 1))
    return program, tuple(controls)


def _is_start_bank_select(c: Control) -> bool:
    return c.tick == 0 and c.kind == "control_change" and c.number in (0, 32)


# ----- import ----------------------------------------------------------------------------

@dataclass
class _Part:
    """Notes, programs and controls of one MTrk, in file ticks (pattern offset already added)."""

    name: str | None = None
    notes: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    programs: dict[int, int] = field(default_factory=dict)
    controls: dict[int, list[tuple[int, str, int, int]]] = field(default_factory=dict)
    first_note: dict[int, int] = field(default_factory=dict)  # channel -> tick of its first note-on
    extras: list[tuple[int, int, bytes]] = field(default_factory=list)  # (tick, kind, data) kept as is


@dataclass
class _Conductor:
    tempos: list[tuple[int, int]] = field(default_factory=list)
    meters: list[tuple[int, int, int]] = field(default_factory=list)
    keys: list[tuple[int, Key]] = field(default_factory=list)
    text_key: Key | None = None
    #: (tick, text, the same as the file's bytes) of each marker
    markers: list[tuple[int, str, KeptEvent | None]] = field(default_factory=list)


def _import(data: bytes) -> MidiImport:
    header, bodies = check_midi_bytes(data)
    clean = b"".join([b"MThd", (6).to_bytes(4, "big"), header.format.to_bytes(2, "big"),
                      len(bodies).to_bytes(2, "big"), header.division.to_bytes(2, "big")]
                     + [b"MTrk" + len(b).to_bytes(4, "big") + b for b in bodies])
    try:
        # clip: sysex (we ignore its contents) may carry bytes > 127 in F7 escapes;
        # channel-message data was already checked, so clipping changes nothing else.
        mf = mido.MidiFile(file=io.BytesIO(clean), charset="latin1", clip=True)
    except Exception as err:  # the pre-check should make this unreachable; stay one line
        raise MidiFileError(f"corrupt MIDI data ({type(err).__name__}: {err})") from None
    try:
        return _build(mf, header)
    except MidiFileError:
        raise
    except MusicappError as err:  # a value the song model refuses (the pre-check should stop it)
        raise MidiFileError(f"unsupported MIDI data: {err}") from None


def _build(mf: mido.MidiFile, header: MidiHeader) -> MidiImport:
    cond = _Conductor()
    parts: list[_Part] = []
    offset = 0
    for mtrk in mf.tracks:
        part, end = _read_part(mtrk, offset, cond)
        parts.append(part)
        if header.format == 2:
            offset = end
    d = header.division
    if header.smpte is not None:
        scale, tempos, timing = _smpte_timing(header.smpte, cond.tempos)
    else:
        scale = (lambda t: t) if d == PPQ else (lambda t: (t * PPQ + d // 2) // d)
        tempos, timing = tuple(TempoChange(scale(t), us) for t, us in cond.tempos), ()
    tracks: list[Track] = []
    loose: list[tuple[int, list]] = []
    song_extras: list[KeptEvent] = []
    for i, part in enumerate(parts):
        made = _part_tracks(part, i + 1, scale, split_names=header.format == 0)
        kept = [KeptEvent(scale(t), kind, data) for t, kind, data in part.extras]
        if made and kept:
            made[0] = replace(made[0], extras=tuple(kept))
        else:
            song_extras += kept
        tracks.extend(made)
        loose += [(ch, rows) for ch, rows in part.controls.items() if ch not in {t.channel for t in made}]
    remarks = _adopt_loose_controls(loose, tracks, scale)
    file_key = min(cond.keys, key=lambda k: k[0])[1] if cond.keys else None
    meters = tuple(TimeSignature(scale(t), n, dd) for t, n, dd in cond.meters)
    chords, _ = chords_from_markers(  # its remark on non-chord markers: they are kept below
        [(scale(t), text) for t, text, _ in cond.markers], max((t.end for t in tracks), default=0),
        Song(meters=meters).meter_at(0).bar_ticks())
    # markers that are not chords (section names, cues) go back out as they came in
    song_extras += [KeptEvent(scale(t), e.kind, e.data) for t, text, e in cond.markers
                    if e is not None and not is_chord_marker(text)]
    song_extras.sort(key=lambda e: e.tick)
    song = Song(
        tracks=tuple(tracks),
        tempos=tempos,
        meters=meters,
        key=cond.text_key or file_key,
        chords=chords,
        extras=tuple(song_extras),
    )
    remarks = timing + remarks
    if header.format == 2:
        remarks = ("type 2 file: its patterns were read one after another",) + remarks
    return MidiImport(song, header.format, d, len(mf.tracks), file_key, remarks)


def _smpte_timing(smpte: tuple[int, int], file_tempos: list[tuple[int, int]]):
    """Song ticks for an SMPTE-timed file, whose ticks are fixed fractions of a second.

    Each event keeps its time in seconds; the file's tempo events (which SMPTE timing does not
    obey) become the song's tempo map at the second they stand at, so bars follow the music
    (120 BPM when there are none). Returns (file tick -> song tick, tempo changes, remarks).
    """
    fps, per_frame = smpte
    num, den = SMPTE_RATES[fps]
    second = Fraction(den, num * per_frame)  # seconds per file tick
    changes: list[tuple[int, Fraction, int]] = [(0, Fraction(0), DEFAULT_US_PER_BEAT)]  # file tick, song tick, us
    for t, us in sorted(file_tempos):
        t0, k0, us0 = changes[-1]
        k = k0 + (t - t0) * second * 1_000_000 * PPQ / us0
        if t == t0:
            changes[-1] = (t, k0, us)
        else:
            changes.append((t, k, us))
    starts = [c[0] for c in changes]

    def scale(t: int) -> int:
        t0, k0, us0 = changes[bisect.bisect_right(starts, t) - 1]
        tick = math.floor(k0 + (t - t0) * second * 1_000_000 * PPQ / us0 + Fraction(1, 2))
        if tick > MAX_BEATS * PPQ:
            raise MidiFileError(f"SMPTE file's tempo events put events past {MAX_BEATS} quarter notes")
        return tick

    tempos = tuple(TempoChange(math.floor(k + Fraction(1, 2)), us) for _, k, us in changes)
    rate = "29.97" if fps == 29 else str(fps)
    how = "its tempo events set the bars" if file_tempos else "read at 120 BPM"
    return scale, tempos, (f"SMPTE-timed file ({rate} fps x {per_frame} ticks per frame): {how}",)


def _read_part(mtrk: mido.MidiTrack, offset: int, cond: _Conductor) -> tuple[_Part, int]:
    """Collect one track's notes (file ticks) and its tempo/meter/key events into ``cond``."""
    part = _Part()
    open_notes: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
    tick = offset
    for msg in mtrk:
        tick += msg.time
        kind = msg.type
        if kind == "note_on" and msg.velocity > 0:
            open_notes[(msg.channel, msg.note)].append((tick, msg.velocity))
            part.notes.setdefault(msg.channel, [])
            part.first_note.setdefault(msg.channel, tick)
        elif kind in ("note_on", "note_off"):
            queue = open_notes.get((msg.channel, msg.note))
            if queue:
                start, vel = queue.popleft()
                part.notes[msg.channel].append((start, tick, msg.note, vel))
        elif kind == "program_change":
            if tick <= part.first_note.get(msg.channel, tick):
                part.programs[msg.channel] = msg.program  # the program the track starts with
            else:
                part.controls.setdefault(msg.channel, []).append((tick, kind, 0, msg.program))
        elif kind in _CONTROL_FIELDS:
            number, value = _CONTROL_FIELDS[kind]
            part.controls.setdefault(msg.channel, []).append(
                (tick, kind, getattr(msg, number) if number else 0, getattr(msg, value)))
        elif kind == "track_name" and part.name is None:
            part.name = clean_name(_fix_text(msg.name))
        elif kind == "set_tempo":
            cond.tempos.append((tick, msg.tempo))
        elif kind == "time_signature":
            cond.meters.append((tick, msg.numerator, msg.denominator))
        elif kind == "key_signature":
            minor = msg.key.endswith("m")
            cond.keys.append((tick, key_from_signature(_sharps(msg.key), minor)))
        elif kind == "text" and (key := _parse_key_text(msg.text)) is not None:
            cond.text_key = cond.text_key or key  # musicapp's own key text: the song's key
        elif kind == "marker":
            cond.markers.append((tick, _fix_text(msg.text), kept_event_of(tick, msg)))
        else:
            event = kept_event_of(tick, msg)
            if event is not None:
                part.extras.append((tick, event.kind, event.data))
    for (channel, pitch), queue in sorted(open_notes.items()):
        for start, vel in queue:
            part.notes[channel].append((start, tick, pitch, vel))
    return part, tick


#: mido message type -> (field holding Control.number or None, field holding Control.value)
_CONTROL_FIELDS = {"control_change": ("control", "value"), "pitchwheel": (None, "pitch"),
                   "aftertouch": (None, "value"), "polytouch": ("note", "value")}


def _controls(rows: list[tuple[int, str, int, int]], scale) -> tuple[Control, ...]:
    return tuple(Control(scale(t), kind, number, value) for t, kind, number, value in rows)


def _adopt_loose_controls(loose: list[tuple[int, list]], tracks: list[Track], scale) -> tuple[str, ...]:
    """Controls of a channel for which their own MTrk made no track (a conductor track setting
    volumes, say) join the first track playing that channel; returns a remark for those that
    no track plays, which are left out."""
    lost: set[int] = set()
    for ch, rows in loose:
        home = next((i for i, t in enumerate(tracks) if t.channel == ch), None)
        if home is None:
            lost.add(ch)
            continue
        t = tracks[home]
        tracks[home] = replace(t, controls=t.controls + _controls(rows, scale))
    if not lost:
        return ()
    chans = ", ".join(str(ch + 1) for ch in sorted(lost))
    return (f"controllers on channels without notes were left out (channel {chans})",)


def _part_tracks(part: _Part, number: int, scale, split_names: bool) -> list[Track]:
    channels = sorted(ch for ch, notes in part.notes.items() if notes)
    if not channels:
        if not part.programs:
            return []  # a conductor track, or controllers only: not an instrument part
        channels = [min(part.programs)]
    drums_only = channels == [DRUM_CHANNEL]
    base = part.name if part.name is not None else ("Drums" if drums_only else f"Track {number}")
    tracks = []
    for ch in channels:
        notes = []
        for start, end, pitch, vel in part.notes.get(ch, ()):
            s = scale(start)
            notes.append(Note(s, pitch, max(scale(end) - s, 1), vel, ch))
        label = "Drums" if ch == DRUM_CHANNEL else f"Channel {ch + 1}"
        if split_names and part.name is None:
            name = label  # type 0 without a name: one track per channel
        else:
            name = f"{base} ({label})" if len(channels) > 1 else base
        tracks.append(Track(name, ch, part.programs.get(ch, 0), tuple(sorted(notes)),
                            controls=_controls(part.controls.get(ch, []), scale)))
    return tracks


def _sharps(mido_key: str) -> int:
    name = mido_key
    return (_MINOR_NAMES.index(name) if name.endswith("m") else _MAJOR_NAMES.index(name)) - 7


def clean_name(name: str) -> str:
    """A track name as import keeps it: trailing NULs and whitespace (padding) removed, and
    lone surrogates (valid in JSON, not encodable as UTF-8) replaced by U+FFFD."""
    name = name.rstrip(_PADDING)
    if not name.isascii():
        name = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in name)
    return name


def _fix_text(text: str) -> str:
    """Meta text is decoded as latin-1 (never fails); recover UTF-8 where it is valid."""
    try:
        return text.encode("latin1").decode("utf-8")
    except UnicodeError:
        return text


def _parse_key_text(text: str) -> Key | None:
    m = _KEY_TEXT.match(text)
    if not m or int(m.group(1)) > 11:
        return None
    try:
        key = Key(int(m.group(1)), m.group(2))
        key_signature_of(key)  # checks the mode is known
    except MusicappError:
        return None
    return key


# ----- export ----------------------------------------------------------------------------

#: (tick, order within the tick, is_meta, message type, message fields)
_Event = tuple[int, int, bool, str, dict]


def _conductor_events(song: Song) -> list[_Event]:
    events: list[_Event] = []
    for tc in song.tempos:
        events.append((tc.tick, 0, True, "set_tempo", {"tempo": tc.us_per_beat}))
    for ts in song.meters:
        events.append((ts.tick, 0, True, "time_signature", {
            "numerator": ts.numerator, "denominator": ts.denominator,
            "clocks_per_click": 96 // ts.denominator or 1}))
    if song.key is not None:
        sig = key_signature_of(song.key)
        if sig is not None:
            sharps, minor = sig
            name = (_MINOR_NAMES if minor else _MAJOR_NAMES)[sharps + 7]
            events.append((0, 0, True, "key_signature", {"key": name}))
        text = f"musicapp-key {song.key.tonic} {song.key.mode}"
        events.append((0, 0, True, "text", {"text": text}))
    for tick, name in chord_markers(song.chords):
        events.append((tick, 1, True, "marker", {"text": name}))
    events += _kept_events(song.extras)
    return events


def _kept_events(extras: tuple[KeptEvent, ...]) -> list[_Event]:
    return [(e.tick, 0, True, _KEPT, {"event": e}) for e in extras]


_KEPT = "kept"  # an _Event kind: fields["event"] is a KeptEvent


def _track_events(track: Track) -> list[_Event]:
    ch = track.channel
    events: list[_Event] = [
        (0, 0, True, "track_name", {"name": track.name}),
        *_kept_events(track.extras),
        (0, 1, False, "program_change", {"channel": ch, "program": track.program}),
    ]
    for c in track.controls:
        # a bank select at the start belongs before the track's program change
        order = 0 if _is_start_bank_select(c) else 1
        number_field, value_field = _CONTROL_FIELDS.get(c.kind, (None, "program"))
        fields = {"channel": ch, value_field: c.value}
        if number_field:
            fields[number_field] = c.number
        events.append((c.tick, order, False, c.kind, fields))
    for n in track.notes:  # already in normal form: no overlaps, length >= 1
        on = {"channel": n.channel, "note": n.pitch, "velocity": n.velocity}
        events.append((n.start, 3, False, "note_on", on))
        events.append((n.end, 2, False, "note_off", {**on, "velocity": 64}))
    return events


def _to_track(events: list[_Event]) -> mido.MidiTrack:
    """Absolute-time events -> a delta-time track ending at the last one.

    Channel messages skip mido's per-field checks: every value comes from a validated
    ``Note``/``Track`` (this halves export time for large songs).
    """
    track = mido.MidiTrack()
    now = 0
    for tick, _, is_meta, kind, fields in sorted(events, key=lambda e: (e[0], e[1])):
        if tick - now > _MAX_DELTA:
            raise MidiFileError(f"cannot export a gap of {tick - now} ticks (a .mid stores at most {_MAX_DELTA})")
        if kind == _KEPT:
            track.append(fields["event"].to_mido(tick - now))
        elif is_meta:
            track.append(mido.MetaMessage(kind, time=tick - now, **fields))
        else:
            track.append(mido.Message(kind, skip_checks=True, time=tick - now, **fields))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track
