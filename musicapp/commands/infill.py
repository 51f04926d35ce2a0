"""CLI for infilling, ``musicapp infill`` and ``musicapp eval-infill``, and the steering flags shared by the generators.

Owns ``musicapp infill IN.mid --bars A-B [--variations K] [--temperature T] [--key auto|NAME]
[--seed N] -o OUT.mid``: bars A to B (1-based, inclusive) of the top line are regenerated
from the notes on both sides; OUT.mid holds the input as track 1 and one track per variation
with the whole melody (context kept, new bars A-B). Also owns :func:`add_steering_args` /
:func:`steering_from_args` (``--density N``, ``--rhythm seed|free``, ``--repeat 0..1``), which
``continue``, ``infill``, ``vary`` and ``sample`` accept. Torch loads only in the handler.
"""

from __future__ import annotations

import argparse
import re

from musicapp.core.errors import MusicappError


class InfillCommandError(MusicappError):
    """Bad command-line input for ``musicapp infill``."""


def add_steering_args(p: argparse.ArgumentParser) -> None:
    """Add ``--density``, ``--rhythm`` and ``--repeat`` to a generating subcommand."""
    p.add_argument("--density", type=float, default=None,
                   help="average notes per bar to aim for (default: as the model likes)")
    p.add_argument("--rhythm", choices=("seed", "free"), default="free",
                   help="seed: keep the context's onset grid and shortest note value; free (default)")
    p.add_argument("--repeat", type=float, default=None,
                   help="0..1: how much earlier bars may be reused (0.5 = as trained; default)")


def steering_from_args(args: argparse.Namespace):
    """The :class:`musicapp.ml.steering.Steering` the flags ask for (one-line error if out of range)."""
    from musicapp.ml.steering import Steering, SteeringError

    try:
        return Steering(density=args.density, rhythm=args.rhythm, repeat=args.repeat)
    except SteeringError as err:
        raise InfillCommandError(str(err)) from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``musicapp infill``."""
    p = sub.add_parser("infill", help="regenerate bars A-B of a melody from the notes on both sides",
                       description="Regenerate bars A to B (1-based, inclusive) of the top line of IN.mid with "
                       "the infill model, which reads the notes before and after them. Writes OUT.mid with "
                       "the input as track 1 and one track per variation holding the whole melody.")
    p.add_argument("input", help="the melody, a .mid file")
    p.add_argument("-o", "--output", required=True, help="the .mid file to write")
    p.add_argument("--bars", required=True, help='the bars to regenerate, "A-B" (1-based, inclusive)')
    p.add_argument("--variations", type=int, default=1, help="candidate infills, one track each (1)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature, 0 = greedy (1.0)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (0.95)")
    p.add_argument("--key", default="auto", help='"auto" (detect from the notes around), "none", or e.g. "D minor"')
    p.add_argument("--seed", type=int, default=0, help="random seed (0); the same seed gives the same output")
    p.add_argument("--checkpoint", help="infill checkpoint (default: the shipped model)")
    p.add_argument("--model", help="model NAME (see `musicapp models`) or a checkpoint path")
    add_steering_args(p)
    p.set_defaults(handler=_infill)

    p = sub.add_parser("eval-infill", help="evaluate the infill model and the steering controls (test split)",
                       description="Nats/note of masked bars 5-8 of 12 (infill vs forward LSTM), statistics of "
                       "generated regions (infill, forward, re-ranked reference) and requested-vs-generated "
                       "figures of each steering control, on the held-out test split.")
    p.add_argument("--checkpoint", help="infill checkpoint (default: the shipped model)")
    p.add_argument("--split", default="test", choices=("test", "valid"), help="split (test)")
    p.add_argument("--tunes", type=int, default=120, help="tunes for the generated-region figures (120)")
    p.add_argument("--control-tunes", type=int, default=40, help="tunes per steering control (40)")
    p.add_argument("--card", help="write the table into this model card (between infill-eval markers)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(handler=_eval_infill)


def parse_bars(text: str) -> tuple[int, int]:
    """``"A-B"`` (or ``"A"``) -> (A, B), 1-based; one-line error otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text or "")
    if not m:
        raise InfillCommandError(f'--bars {text!r} is not "A-B" (1-based bar numbers)')
    a = int(m.group(1))
    b = int(m.group(2)) if m.group(2) else a
    if a < 1:
        raise InfillCommandError("bars are numbered from 1")
    if a > b:
        raise InfillCommandError(f"--bars {a}-{b}: A must not be after B")
    return a, b


def _infill(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from musicapp.core.midifile import read_midi, write_midi
    from musicapp.core.scales import parse_key
    from musicapp.core.song import Track

    a, b = parse_bars(args.bars)
    steering = steering_from_args(args)
    song = read_midi(args.input)
    melody = [n for t in song.tracks if not t.is_drums for n in t.notes]
    if not melody:
        raise InfillCommandError(f"{args.input} has no melody notes")
    start, end = song.bar_beat_to_tick(a - 1), song.bar_beat_to_tick(b)
    song_end = max(n.end for n in melody)
    if start >= song_end:
        last = song.tick_to_bar_beat(song_end - 1)[0] + 1
        raise InfillCommandError(f"bar {a} is outside the song (it has {last} bars)")
    key_text = args.key.strip().lower()
    key = "auto" if key_text == "auto" else None if key_text == "none" else parse_key(args.key)
    from musicapp.ml.infill import MelodyInfiller

    from musicapp.ml.user_models import choose_checkpoint

    infiller = MelodyInfiller(choose_checkpoint(args.model, args.checkpoint, "infill"))
    cands = infiller.infill(melody, start, end, variations=args.variations, temperature=args.temperature,
                            top_p=args.top_p, key=key, random_seed=args.seed, meters=song.meters,
                            steering=steering, ppq=song.ppq)
    source = next(t for t in song.tracks if not t.is_drums and t.notes)
    tracks = [Track(name=source.name or "input", channel=source.channel, program=source.program,
                    notes=tuple(sorted(melody)))]
    for i, notes in enumerate(cands, start=1):
        tracks.append(Track(name=f"Infill {i}", channel=source.channel, program=source.program,
                            notes=tuple(replace(n, channel=source.channel) for n in notes)))
    write_midi(song.replace(tracks=tuple(tracks)), args.output)
    new = ", ".join(str(sum(1 for n in c if start <= n.start < end)) for c in cands)
    print(f"wrote {args.output}: input + {len(cands)} variation(s) with new bars {a}-{b} ({new} new notes)")
    return 0


def _eval_infill(args: argparse.Namespace) -> int:
    import json
    import sys

    from musicapp.ml.infill_eval import InfillEvalConfig, run_infill_eval

    log = (lambda text: print(text, file=sys.stderr)) if args.json else print
    fig = run_infill_eval(InfillEvalConfig(checkpoint=args.checkpoint, split=args.split, generate_tunes=args.tunes,
                                           control_tunes=args.control_tunes, card=args.card), log=log)
    if args.json:
        json.dump(fig, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
