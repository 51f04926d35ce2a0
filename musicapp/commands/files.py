"""File subcommands: ``musicapp info FILE`` and ``musicapp convert IN -o OUT``.

Thin layer over ``core.midifile`` and ``core.project``: parse arguments, load, print.
Errors are ``MusicappError``s, which ``cli.main`` turns into one line and exit code 1.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` and ``convert`` subcommands."""
    info = sub.add_parser("info", help="show tracks, notes, tempo, meter, key and length of a file",
                          description="Summarise a .mid or .musicapp file.")
    info.add_argument("file", help=".mid/.midi or .musicapp file")
    info.add_argument("--json", action="store_true", help="print the summary as JSON")
    info.set_defaults(handler=_info)
    conv = sub.add_parser("convert", help="convert between .mid and .musicapp",
                          description="Convert a .mid file to a project or back; the output "
                          "type follows the extension of OUT (.mid/.midi or .musicapp). "
                          "A project's editor state is kept when converting project to project; "
                          "a file OUT replaces is kept as OUT.bak.")
    conv.add_argument("input", metavar="IN", help=".mid/.midi or .musicapp file")
    conv.add_argument("-o", "--output", metavar="OUT", required=True, help="file to write")
    conv.set_defaults(handler=_convert)


def _is_project(path: str) -> bool:
    from musicapp.core.project import PROJECT_SUFFIX

    return Path(path).suffix.lower() == PROJECT_SUFFIX


def _load(path: str):
    """(song, facts) for a .mid or project file; facts describe the file itself."""
    if _is_project(path):
        from musicapp.core.project import load_project

        song, _state = load_project(path)
        return song, {"type": "musicapp project", "file_key": None}
    from musicapp.core.midifile import read_midi_details

    imp = read_midi_details(path)
    smpte = bool(imp.division & 0x8000)  # the remarks describe SMPTE timing
    facts = {"type": f"MIDI format {imp.format}", "division": None if smpte else imp.division,
             "file_tracks": imp.file_tracks, "file_key": imp.file_key, "remarks": list(imp.notes)}
    return imp.song, facts


def summarize(song, facts: dict) -> dict:
    """Plain-data summary of ``song`` (what ``info`` prints)."""
    from musicapp.core.scales import detect_key, key_scores, pitch_name
    from musicapp.core.timing import bars_spanned, format_position

    def prange(notes) -> str | None:
        pitches = [n.pitch for n in notes]
        return f"{pitch_name(min(pitches))} to {pitch_name(max(pitches))}" if pitches else None

    all_notes = [n for t in song.tracks for n in t.notes]
    detected = detect_key(all_notes, default=None) if any(n.channel != 9 for n in all_notes) else None
    score = key_scores(all_notes)[0][1] if detected else None
    file_key = facts.get("file_key")
    return {
        "file_type": facts["type"],
        "division": facts.get("division"),
        "remarks": facts.get("remarks", []),
        "tracks": [{"name": t.name, "channel": t.channel + 1, "program": t.program,
                    "drums": t.is_drums, "notes": len(t.notes), "range": prange(t.notes),
                    "controls": len(t.controls)}
                   for t in song.tracks],
        "notes": len(all_notes),
        "range": prange(all_notes),
        "tempos": [{"at": format_position(song, tc.tick), "bpm": round(tc.bpm, 2)}
                   for tc in song.tempos],
        "meters": [{"at": format_position(song, m.tick), "meter": f"{m.numerator}/{m.denominator}"}
                   for m in song.meters],
        "key": str(song.key) if song.key else None,
        "file_key": str(file_key) if file_key else None,
        "detected_key": str(detected) if detected else None,
        "detected_key_score": round(score, 3) if score is not None else None,
        "length_ticks": song.end,
        "length_bars": bars_spanned(song, song.end),
        "length_seconds": round(song.tick_to_seconds(song.end), 3),
    }


def _info(args: argparse.Namespace) -> int:
    from musicapp.core.timing import format_seconds

    song, facts = _load(args.file)
    s = summarize(song, facts)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    head = s["file_type"] + (f", {s['division']} ticks per quarter note" if s["division"] else "")
    lines = [f"{Path(args.file).name}: {head}"]
    lines += [f"note: {r}" for r in s["remarks"]]
    bars = f"{s['length_bars']} bar{'' if s['length_bars'] == 1 else 's'}"
    lines.append(f"length: {bars}, {format_seconds(s['length_seconds'])} "
                 f"({s['length_ticks']} ticks at 480 per quarter note)")
    lines.append("tempo: " + _some([f"{t['bpm']:g} BPM at {t['at']}" for t in s["tempos"]]))
    lines.append("meter: " + _some([f"{m['meter']} at {m['at']}" for m in s["meters"]]))
    key = f"key: {s['key'] or 'none set'}"
    if s["file_key"]:
        same = s["file_key"] == s["key"]
        key += " (from the key signature)" if same else f" (key signature {s['file_key']})"
    if s["detected_key"]:
        key += f"; detected {s['detected_key']} (r={s['detected_key_score']:.2f})"
    lines.append(key)
    lines.append(f"notes: {s['notes']}" + (f", range {s['range']}" if s["range"] else ""))
    lines.append(f"tracks: {len(s['tracks'])}")
    for i, t in enumerate(s["tracks"], 1):
        program = "drums" if t["drums"] else f"program {t['program']}"
        rng = f", {t['range']}" if t["range"] else ""
        ctrl = f", {t['controls']} controller events" if t["controls"] else ""
        lines.append(f"  {i:>2}. {t['name']} (channel {t['channel']}, {program}): "
                     f"{t['notes']} notes{rng}{ctrl}")
    print("\n".join(lines))
    return 0


def _some(items: list[str], limit: int = 6) -> str:
    """First ``limit`` items joined, with a count of the rest."""
    more = f"; ... {len(items) - limit} more" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more


def _convert(args: argparse.Namespace) -> int:
    from musicapp.core.errors import MusicappError

    if Path(args.output).suffix.lower() not in (".mid", ".midi", ".musicapp"):
        raise MusicappError(f"output {args.output} must end in .mid, .midi or .musicapp")
    song, _facts = _load(args.input)
    if _is_project(args.output):
        from musicapp.core.project import load_project, save_project

        state = load_project(args.input)[1] if _is_project(args.input) else {}
        save_project(args.output, song, state)
    else:
        from musicapp.core.midifile import write_midi

        write_midi(song, args.output, keep_backup=True)
    print(f"wrote {args.output}")
    return 0
