"""CLI for the melody VAE: ``musicapp vary``, ``musicapp interpolate``, ``musicapp sample``.

Owns the argument parsing and the .mid in/out around ``musicapp.ml.vae_generate``:

- ``vary IN.mid --amount A --variations K -o OUT.mid``: the phrase (first non-drum track,
  or ``--track N``) as track 1, then one track per variation on the same ticks;
- ``interpolate A.mid B.mid --steps S -o OUT.mid``: one track per step, A first and B last,
  each placed after the previous one in time, so playing the file walks from A to B;
- ``sample --bars N -o OUT.mid``: ``--count`` new melodies, one track each, from tick 0.

Torch and the model load only when a handler runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from musicapp.commands.infill import add_steering_args, steering_from_args


def register(sub: argparse._SubParsersAction) -> None:
    """Add the three VAE subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-o", "--output", required=True, help="the .mid file to write")
    common.add_argument("--checkpoint", help="VAE checkpoint (NAME, NAME.json); default: the shipped model")
    common.add_argument("--model", help="model NAME (see `musicapp models`) or a checkpoint path")
    common.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    common.add_argument("--seed", type=int, default=None, help="random seed (same seed, same output)")

    p = sub.add_parser("vary", parents=[common], help="variations of a phrase (melody VAE)")
    p.add_argument("input", help="the phrase, a .mid file")
    p.add_argument("--amount", type=float, default=0.5, help="0 = reproduce the phrase .. 1 = unrelated (0.5)")
    p.add_argument("--variations", type=int, default=4, help="how many variations (4)")
    p.add_argument("--temperature", type=float, default=0.0, help="decoder temperature, 0 = greedy (0)")
    p.add_argument("--track", type=int, default=None, help="1-based track holding the phrase (first non-drum)")
    add_steering_args(p)
    p.set_defaults(handler=_vary)

    p = sub.add_parser("interpolate", parents=[common], help="melodies morphing from one phrase to another")
    p.add_argument("a", help="first phrase, a .mid file")
    p.add_argument("b", help="last phrase, a .mid file")
    p.add_argument("--steps", type=int, default=5, help="melodies including both ends (5)")
    p.set_defaults(handler=_interpolate)

    p = sub.add_parser("sample", parents=[common], help="new melodies from the VAE's prior")
    p.add_argument("--bars", type=int, default=2, help="length in bars (2)")
    p.add_argument("--count", type=int, default=1, help="how many melodies, one track each (1)")
    p.add_argument("--temperature", type=float, default=1.0, help="decoder temperature (1.0)")
    p.add_argument("--key", default=None, help='keep notes in this scale, e.g. "D minor"')
    p.add_argument("--meter", default="4/4", help="time signature (4/4)")
    p.add_argument("--bpm", type=float, default=120.0, help="tempo (120)")
    add_steering_args(p)
    p.set_defaults(handler=_sample)


def _service(args: argparse.Namespace):
    from musicapp.ml.vae_generate import VaeService

    from musicapp.ml.user_models import choose_checkpoint

    return VaeService(choose_checkpoint(args.model, args.checkpoint, "vae_2bar"), device=args.device)


def _phrase(path: str, track: int | None):
    """``(song, track)`` of the phrase in a .mid file: track ``track`` (1-based) or the first
    non-drum track with notes."""
    from musicapp.core.errors import MusicappError
    from musicapp.core.midifile import read_midi

    song = read_midi(path)
    if track is not None:
        if not 1 <= track <= len(song.tracks):
            raise MusicappError(f"{Path(path).name} has {len(song.tracks)} tracks, no track {track}")
        chosen = song.tracks[track - 1]
    else:
        chosen = next((t for t in song.tracks if t.notes and not t.is_drums), None)
    if chosen is None or not chosen.notes or chosen.is_drums:
        raise MusicappError(f"{Path(path).name} has no melody track with notes")
    return song, chosen


def _write(song, tracks, output: str) -> None:
    from musicapp.core.midifile import write_midi

    write_midi(song.replace(tracks=tuple(tracks)), output)


def _vary(args: argparse.Namespace) -> int:
    from dataclasses import replace

    song, track = _phrase(args.input, args.track)
    out = _service(args).vary(track.notes, args.amount, args.variations, meters=song.meters,
                              seed=args.seed, temperature=args.temperature, steering=steering_from_args(args))
    tracks = [replace(track, name=f"{track.name or 'phrase'}")]
    tracks += [replace(track, name=f"variation {i + 1}", notes=tuple(notes)) for i, notes in enumerate(out)]
    _write(song, tracks, args.output)
    print(f"wrote {args.output}: the phrase and {len(out)} variations (amount {args.amount})")
    return 0


def _interpolate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    song_a, ta = _phrase(args.a, None)
    _, tb = _phrase(args.b, None)
    melodies = _service(args).interpolate(ta.notes, tb.notes, args.steps, meters=song_a.meters)
    span = _span(song_a, melodies)
    tracks = []
    for i, notes in enumerate(melodies):
        label = " (A)" if i == 0 else " (B)" if i == len(melodies) - 1 else ""
        moved = tuple(n.moved(dt=i * span) for n in notes)
        tracks.append(replace(ta, name=f"step {i + 1}{label}", notes=moved))
    _write(song_a, tracks, args.output)
    print(f"wrote {args.output}: {len(melodies)} melodies from {args.a} to {args.b}")
    return 0


def _span(song, melodies) -> int:
    """Ticks from the bar holding the first note to the bar line after the latest note end."""
    start = min((n.start for m in melodies for n in m), default=0)
    end = max((n.end for m in melodies for n in m), default=1)
    last_bar = song.bar_starts(end - 1)[-1]
    return max(1, last_bar + song.meter_at(last_bar).bar_ticks(song.ppq) - song.bar_starts(start)[-1])


def _sample(args: argparse.Namespace) -> int:
    from musicapp.core.errors import MusicappError
    from musicapp.core.song import Song, TempoChange, TimeSignature, Track

    try:
        num, den = (int(x) for x in args.meter.split("/"))
        meter = TimeSignature(0, num, den)
        tempo = TempoChange.from_bpm(0, args.bpm)
    except ValueError as err:
        raise MusicappError(f"bad --meter/--bpm: {err}") from None
    melodies = _service(args).sample(args.bars, args.temperature, args.count, key=args.key, meters=(meter,),
                                     seed=args.seed, steering=steering_from_args(args))
    song = Song(tempos=(tempo,), meters=(meter,))
    tracks = [Track(name=f"sample {i + 1}", notes=tuple(m)) for i, m in enumerate(melodies)]
    _write(song, tracks, args.output)
    print(f"wrote {args.output}: {len(melodies)} melodies of {args.bars} bars")
    return 0
