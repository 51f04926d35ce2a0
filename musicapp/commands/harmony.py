"""Harmony subcommands: ``chords``, ``harmonize``, ``prepare-harmony``, ``train-harmony``, ``eval-harmony``.

Thin layer over ``core.chord_detect`` (detection, no torch) and ``ml.harmony`` (the harmoniser):
parse arguments, read and write .mid files through ``core.midifile``, print. Also owns the
block voicing the ``harmonize`` command writes (chord tones in close position under the melody,
the root or slash bass an octave or more below, each voicing near the previous one).
"""

from __future__ import annotations

import argparse
import json
from typing import Sequence

PER_BAR_CHOICES = ("auto", "1", "2", "4")
BASS_LOW = 36   # C2: lowest bass note of the voicing
UPPER_LOW = 48  # C3: lowest upper-voice note


def register(sub: argparse._SubParsersAction) -> None:
    """Add the harmony subcommands."""
    p = sub.add_parser("chords", help="detect the chords of a .mid file",
                       description="Print one chord per segment (bar.beat and name) detected from every "
                       "pitched track: template matching on duration-weighted chroma, with the key.")
    p.add_argument("file", metavar="FILE.mid", help=".mid file (or .musicapp project)")
    p.add_argument("--per-bar", choices=PER_BAR_CHOICES, default="auto",
                   help="chords per bar: 1, 2, 4 or auto (changes where the music changes)")
    p.add_argument("--json", action="store_true", help="print JSON instead of lines")
    p.set_defaults(handler=_chords)

    p = sub.add_parser("harmonize", help="propose chords for a melody and write them as a track",
                       description="Harmonise the melody of MELODY.mid with the shipped model. OUT keeps the "
                       "melody as track 1 and adds a track 'Chords' (block chords under the melody, chord "
                       "names as markers); --variations K adds the other proposals as tracks.")
    p.add_argument("file", metavar="MELODY.mid", help=".mid file whose first pitched track is the melody")
    p.add_argument("--per-bar", choices=PER_BAR_CHOICES, default="auto", help="chords per bar (auto)")
    p.add_argument("--variations", type=int, default=1, metavar="K", help="number of proposals (1)")
    p.add_argument("--key", default="auto", help="key, e.g. 'G major', 'Em', or auto (detected)")
    p.add_argument("--style", choices=("simple", "rich"), default="simple",
                   help="simple: triads; rich: sevenths, secondary dominants, borrowed chords")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature of proposals 2..K")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--checkpoint", default=None, help="model (default: models/harmony.json)")
    p.add_argument("-o", "--output", metavar="OUT.mid", required=True, help=".mid file to write")
    p.set_defaults(handler=_harmonize)

    p = sub.add_parser("prepare-harmony", help="parse the chordal scores of music21 into the harmony cache",
                       description="Parse the Bach chorales and other chordal scores shipped with music21 into "
                       "~/.cache/musicapp/harmony-v2 (or $MUSICAPP_CACHE). Resumes if interrupted.")
    p.add_argument("--corpus", action="append", default=None, metavar="NAME",
                   help="only this music21 corpus folder (repeatable; default: all the harmony corpora, in order)")
    p.set_defaults(handler=_prepare)

    p = sub.add_parser("train-harmony", help="train, evaluate and ship the harmoniser",
                       description="Train the harmoniser on the prepared harmony cache (resumes from "
                       "RUN_DIR/last), tune its decoder on validation, evaluate and write the checkpoint.")
    p.add_argument("--minutes", type=float, default=20.0, help="training wall-time budget (20)")
    p.add_argument("--run-dir", default="runs/harmony", help="run folder (runs/harmony)")
    p.add_argument("--out", default="models/harmony", help="checkpoint to write (models/harmony)")
    p.add_argument("--card", default=None, help="model card to write the evaluation table into")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    p.add_argument("--hidden", type=int, default=None, help="GRU units per direction (default: HarmonyConfig)")
    p.add_argument("--layers", type=int, default=None, help="GRU layers (default: HarmonyConfig)")
    p.add_argument("--dropout", type=float, default=None, help="dropout (default: HarmonyConfig)")
    p.add_argument("--members", type=int, default=1,
                   help="networks to train from seeds SEED, SEED+1, ... and ship as one ensemble (1)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the first network (0)")
    p.set_defaults(handler=_train)

    p = sub.add_parser("eval-harmony", help="evaluate the harmoniser and the rule-based reference",
                       description="Chord-label accuracy, chord-tone overlap and melody on chord tones on the "
                       "held-out split (and melody on chord tones on held-out folk tunes).")
    p.add_argument("--checkpoint", default=None, help="model (default: models/harmony.json)")
    p.add_argument("--card", default=None, help="model card to write the table into")
    p.add_argument("--folk", type=int, default=300, help="held-out folk tunes to use (300)")
    p.add_argument("--update-metrics", action="store_true", help="write the figures into the checkpoint's JSON")
    p.add_argument("--split", choices=("test", "valid"), default="test",
                   help="held-out split to evaluate on (test; valid is what choices are made on)")
    p.set_defaults(handler=_eval)


def _per_bar(text: str) -> int | str:
    return text if text == "auto" else int(text)


def _load_song(path: str):
    from musicapp.commands.files import _load

    return _load(path)[0]


def _chords(args: argparse.Namespace) -> int:
    from musicapp.core.chord_detect import detect_chords
    from musicapp.core.errors import MusicappError
    from musicapp.core.timing import format_position

    song = _load_song(args.file)
    notes = [n for t in song.tracks if not t.is_drums for n in t.notes if n.channel != 9]
    if not notes:
        raise MusicappError(f"{args.file} has no pitched notes to detect chords from (empty or drums only)")
    det = detect_chords(notes, song, _per_bar(args.per_bar))
    rows = [{"position": ".".join(format_position(song, c.start).split(".")[:2]), "tick": c.start,
             "length": c.length, "chord": c.name, "root": c.root, "quality": c.quality, "bass": c.bass}
            for c in det.chords]
    if args.json:
        print(json.dumps({"key": str(det.key), "per_bar": args.per_bar, "chords": rows}, indent=1))
    else:
        for r in rows:
            print(f"{r['position']:>7}  {r['chord']}")
    return 0


def voice_chords(chords: Sequence, melody: Sequence, velocity: int = 72, channel: int = 1) -> list:
    """Block-chord notes for ``chords`` under ``melody`` (core Notes): the bass (root or slash
    bass) between C2 and B2, the other chord tones in close position below the lowest melody
    note of the chord's span (never under C3), each voicing the nearest to the previous one."""
    from musicapp.core.song import Note

    out: list[Note] = []
    prev: list[int] | None = None
    lowest_all = min((n.pitch for n in melody), default=72)
    for c in chords:
        span = [n.pitch for n in melody if n.start < c.end and n.end > c.start]
        ceiling = max(min(min(span, default=lowest_all), 79) - 1, UPPER_LOW + 11)
        pcs = [pc for pc in c.pitch_classes if pc != c.bass_pc or len(c.pitch_classes) <= 3][:4]
        options = []
        for top_pc in pcs:
            top = max(p for p in range(ceiling - 11, ceiling + 1) if p % 12 == top_pc)
            voicing = [top]
            for pc in pcs:
                if pc != top_pc:
                    voicing.append(max(p for p in range(top - 12, top) if p % 12 == pc))
            if min(voicing) >= UPPER_LOW:
                options.append(sorted(voicing))
        if not options:
            options = [sorted(UPPER_LOW + (pc - UPPER_LOW) % 12 for pc in pcs)]
        best = min(options, key=lambda v: sum(abs(a - b) for a, b in zip(v, prev)) if prev else -v[-1])
        prev = best
        bass = BASS_LOW + (c.bass_pc - BASS_LOW) % 12
        for p in [bass, *best]:
            out.append(Note(c.start, p, c.length, velocity, channel))
    return out


def _harmonize(args: argparse.Namespace) -> int:
    from musicapp.core.errors import MusicappError
    from musicapp.core.midifile import write_midi
    from musicapp.core.scales import parse_key
    from musicapp.core.song import Track
    from musicapp.ml.harmony import Harmonizer

    song = _load_song(args.file)
    melody_track = next((t for t in song.tracks if t.notes and not t.is_drums), None)
    if melody_track is None:
        raise MusicappError(f"{args.file} has no melody to harmonise (empty or drums only)")
    if not 1 <= args.variations <= 16:
        raise MusicappError(f"--variations must be 1..16, not {args.variations}")
    key = None if args.key.strip().lower() == "auto" else parse_key(args.key)
    melody = [n for n in melody_track.notes if n.channel != 9]
    harmonizer = Harmonizer.load(args.checkpoint)
    song_for_meter = song.replace(key=None)  # "auto" detects the key from the melody itself
    proposals = harmonizer.harmonize(melody, song_for_meter, key=key, per_bar=_per_bar(args.per_bar),
                                     variations=args.variations, temperature=args.temperature,
                                     style=args.style, seed=args.seed)
    used = {melody_track.channel, 9}
    tracks = [melody_track]
    for i, chords in enumerate(proposals):
        channel = next(ch for ch in range(16) if ch not in used)
        used.add(channel)
        name = "Chords" if i == 0 else f"Chords {i + 1}"
        tracks.append(Track(name=name, channel=channel, program=0,
                            notes=tuple(voice_chords(chords, melody, channel=channel))))
    out = song.replace(tracks=tuple(tracks), chords=tuple(proposals[0]))
    write_midi(out, args.output)
    for i, chords in enumerate(proposals):
        label = "Chords" if i == 0 else f"Chords {i + 1}"
        print(f"{label}: " + " ".join(c.name for c in chords))
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from musicapp.core.errors import MusicappError
    from musicapp.ml.harmony_data import HARMONY_CORPORA, NEVER_TRAIN, cache_dir, prepare_harmony

    corpora = tuple(args.corpus) if args.corpus else HARMONY_CORPORA
    for name in corpora:
        if name in NEVER_TRAIN or name not in HARMONY_CORPORA:
            raise MusicappError(f"{name!r} is not a harmony corpus (choose from {', '.join(HARMONY_CORPORA)})")
    n = prepare_harmony(corpora)
    print(f"{n} scores cached in {cache_dir()}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from musicapp.ml.harmony_ship import train_and_ship

    model = {k: v for k, v in (("hidden", args.hidden), ("layers", args.layers), ("dropout", args.dropout))
             if v is not None}
    from musicapp.core.errors import MusicappError

    if not 1 <= args.members <= 16:
        raise MusicappError(f"--members must be 1..16, not {args.members}")
    train_and_ship(args.run_dir, args.out, args.minutes, card=args.card, model=model, threads=args.threads,
                   members=args.members, seed=args.seed)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from musicapp.ml.harmony_ship import evaluate_checkpoint

    from musicapp.core.errors import MusicappError

    if args.split != "test" and (args.card or args.update_metrics):
        raise MusicappError("--card and --update-metrics report the test split only")
    evaluate_checkpoint(args.checkpoint, card=args.card, folk_limit=args.folk, update=args.update_metrics,
                        split=args.split)
    return 0
