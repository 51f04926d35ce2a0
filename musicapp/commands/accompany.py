"""The ``musicapp accompany IN.mid [--style NAME] [--bass/--no-bass] [--keys/--no-keys] -o OUT.mid``
subcommand: adds a bass and/or keys track that follow the song's chords.

Thin layer over ``core.accompany``. The chords are the file's chord track (chord markers in a
.mid, the chord track of a project); a file without them gets chords first: detected
(``core.chord_detect``) when it already has harmony (several pitched tracks, or notes sounding
together), else harmonised from its melody with the shipped harmoniser (``ml.harmony``). Errors are ``MusicappError``s (one line).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``accompany`` subcommand."""
    from musicapp.core.accompany_styles import STYLES

    p = sub.add_parser("accompany", help="add a bass line and a keys part that follow the chords",
                       description="Write OUT.mid: IN plus a bass track and a keys track following "
                       "IN's chords (its chord markers or chord track; without them the melody is "
                       "harmonised first). Styles: " + ", ".join(STYLES) + ".")
    p.add_argument("input", metavar="IN.mid", help=".mid/.midi or .musicapp file")
    p.add_argument("--style", metavar="NAME", default="block", choices=STYLES,
                   help="keys pattern and bass rhythm: " + ", ".join(STYLES) + " (default block)")
    p.add_argument("--bass", action=argparse.BooleanOptionalAction, default=True,
                   help="add the bass track (default yes)")
    p.add_argument("--keys", action=argparse.BooleanOptionalAction, default=True,
                   help="add the keys track (default yes)")
    p.add_argument("-o", "--output", metavar="OUT.mid", required=True, help=".mid file to write")
    p.set_defaults(handler=_accompany)


def _accompany(args: argparse.Namespace) -> int:
    from musicapp.commands.files import _load
    from musicapp.core.accompany import AccompanyOptions, add_accompaniment
    from musicapp.core.errors import MusicappError
    from musicapp.core.midifile import write_midi

    if Path(args.output).suffix.lower() not in (".mid", ".midi"):
        raise MusicappError(f"output {args.output} must end in .mid or .midi")
    if not (args.bass or args.keys):
        raise MusicappError("nothing to add: --no-bass and --no-keys together leave no part")
    song, _facts = _load(args.input)
    how = "its chords"
    if not song.chords:
        song, how = with_chords(song)
    out = add_accompaniment(song, AccompanyOptions(style=args.style, bass=args.bass, keys=args.keys))
    write_midi(out, args.output)
    added = ", ".join(f"{t.name} ({len(t.notes)} notes)" for t in out.tracks[len(song.tracks):])
    print(f"wrote {args.output}: {added} following {len(song.chords)} chords ({how})")
    return 0


def with_chords(song):
    """(``song`` with a chord track, how it was found) for a file without chords."""
    pitched = [t for t in song.tracks if not t.is_drums and t.notes]
    polyphonic = len(pitched) > 1 or any(a.end > b.start for t in pitched for a, b in zip(t.notes, t.notes[1:]))
    if polyphonic:
        try:
            from musicapp.core.chord_detect import detect_chords
        except ImportError:
            pass
        else:
            found = detect_chords([n for t in pitched for n in t.notes], song, "auto", song.key)
            if found.chords:
                return song.replace(chords=found.chords), "chords detected from its parts"
    return harmonised(song), "chords harmonised from its melody"


def harmonised(song):
    """``song`` with a chord track proposed for its melody (the notes of its pitched tracks)."""
    from musicapp.core.errors import MusicappError

    notes = [n for t in song.tracks if not t.is_drums for n in t.notes]
    if not notes:
        raise MusicappError("the file has no chords and no pitched notes to harmonise")
    try:
        from musicapp.ml.harmony import Harmonizer
    except ImportError:
        raise MusicappError("the file has no chords (no chord markers) and this musicapp has no "
                            "harmoniser: add chords first") from None
    proposals = Harmonizer.load().harmonize(notes, song, variations=1)
    return song.replace(chords=tuple(proposals[0]))
