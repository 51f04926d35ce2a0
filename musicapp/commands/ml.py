"""Melody-model subcommands: ``prepare-data``, ``train``, ``continue``, ``score``, ``eval``.

Thin layer over ``musicapp.ml``: parse arguments, read/write .mid files through
``core.midifile``, print results. torch is imported inside the handlers only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from musicapp.commands.infill import add_steering_args, steering_from_args
from musicapp.core.errors import MusicappError


class CommandError(MusicappError):
    """Bad command-line input for a melody-model command."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the melody-model subcommands."""
    p = sub.add_parser("prepare-data", help="parse the training corpora (music21) into the cache",
                       description="Parse the folk and chorale corpora shipped with music21 once and cache "
                       "them (~/.cache/musicapp or $MUSICAPP_CACHE). Takes minutes; resumes if interrupted.")
    p.add_argument("--workers", type=int, default=2, help="parallel parser processes (2)")
    p.set_defaults(handler=_prepare)

    p = sub.add_parser("train", help="train a melody model (lstm, vae or infill)",
                       description="Train on the prepared corpora (prepared automatically if missing). "
                       "Resumes from RUN_DIR/last unless --no-resume; writes loss.csv and loss.png there "
                       "and the final weights to --out.")
    p.add_argument("--model", choices=("lstm", "vae", "infill"), default="lstm", help="which model (lstm)")
    p.add_argument("--run-dir", help="folder for resume checkpoints and loss curves (runs/MODEL)")
    p.add_argument("--out", help="shipped checkpoint to write, NAME or NAME.json (models/MODEL)")
    p.add_argument("--minutes", type=float, help="wall-time budget in minutes")
    p.add_argument("--steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--batch-size", type=int, help="windows per optimizer step")
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--init", help="infill: checkpoint to start from: an LSTM (default: the shipped "
                   "lstm) or an infill checkpoint to go on fine-tuning")
    p.add_argument("--keep", choices=("best", "last"), default="best",
                   help="infill: weights written to --out: best (lowest loss on the validation windows) or last")
    p.add_argument("--lookahead", type=_bar_list,
                   help='infill: lookahead distances in bars, "1,2,4,8" (default); with an infill --init they '
                   "must start with its distances and the new ones start untrained")
    p.add_argument("--suffix-steps", type=int,
                   help="infill: 16th steps after the region the lookahead may read (128)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--device", help="auto (default), cpu, cuda or mps")
    p.add_argument("--threads", type=int, help="CPU threads for torch (2)")
    p.add_argument("--no-resume", action="store_true", help="start over even if RUN_DIR/last exists")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--hidden", type=int, help="lstm: hidden units per layer (160)")
    p.add_argument("--layers", type=int, help="lstm: LSTM layers (2)")
    p.add_argument("--dropout", type=float, help="lstm: dropout (0); may change when resuming")
    p.add_argument("--max-shift", type=int, help="lstm: transposition augmentation, +-semitones (2)")
    p.add_argument("--lookback", help='lstm: lookback distances in bars, "1,2,4,8" (default) or "none"')
    p.add_argument("--embed", type=int, help="lstm: token embedding width (96)")
    p.add_argument("--feat", type=int, help="lstm: width of each feature embedding (16)")
    p.add_argument("--latent", type=int, help="vae: latent size")
    p.add_argument("--enc-hidden", type=int, help="vae: encoder hidden units")
    p.add_argument("--dec-hidden", type=int, help="vae: decoder hidden units")
    p.set_defaults(handler=_train)

    p = sub.add_parser("continue", help="continue a melody with the LSTM",
                       description="Continue the top line of SEED.mid. Writes OUT.mid with the seed as the "
                       "first track and each variation as its own track.")
    p.add_argument("seed", help="the seed phrase, a .mid file")
    p.add_argument("-o", "--output", required=True, help="the .mid file to write")
    p.add_argument("--bars", type=int, default=4, help="bars to add (4)")
    p.add_argument("--variations", type=int, default=1, help="candidate continuations, one track each (1)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature, 0 = greedy (1.0)")
    p.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (0.95)")
    p.add_argument("--key", default="auto", help='"auto" (detect from the seed), "none", or e.g. "D minor"')
    p.add_argument("--range", dest="pitch_range", help='lowest-highest MIDI pitch, e.g. "55-84"')
    p.add_argument("--seed-value", "--random-seed", dest="random_seed", type=int, default=0,
                   help="random seed (0); the same seed gives the same output")
    p.add_argument("--checkpoint", help="LSTM checkpoint (default: the shipped model)")
    p.add_argument("--model", help="model NAME (see `musicapp models`) or a checkpoint path")
    p.add_argument("--device", default="cpu", help="cpu (default), auto, cuda or mps")
    add_steering_args(p)
    p.set_defaults(handler=_continue)

    p = sub.add_parser("score", help="log-likelihood of melodies under the LSTM (nats per note)",
                       description="Score the top line of each FILE (all non-drum tracks merged).")
    p.add_argument("files", nargs="+", help=".mid files")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--checkpoint", help="LSTM checkpoint (default: the shipped model)")
    p.add_argument("--model", help="model NAME (see `musicapp models`) or a checkpoint path")
    p.add_argument("--device", default="cpu", help="cpu (default), auto, cuda or mps")
    p.set_defaults(handler=_score)

    p = sub.add_parser("eval", help="evaluate the LSTM against a Kneser-Ney 5-gram on the test split",
                       description="Nats per note, next-step accuracy, KN 5-gram baseline and musical "
                       "statistics of 4-bar continuations on the held-out test split.")
    p.add_argument("--checkpoint", help="LSTM checkpoint (default: the shipped model)")
    p.add_argument("--split", default="test", choices=("test", "valid"), help="split to evaluate (test)")
    p.add_argument("--seeds", type=int, default=200, help="test seeds for continuation statistics (200)")
    p.add_argument("--card", help="write the table into this model card (between eval markers)")
    p.add_argument("--update-metrics", action="store_true", help="store the figures in the checkpoint JSON")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch (2)")
    p.set_defaults(handler=_eval)


def _prepare(args: argparse.Namespace) -> int:
    from musicapp.ml.corpus import cache_dir
    from musicapp.ml.dataset import ensure_corpus

    ensure_corpus(workers=max(1, args.workers))
    print(f"corpora ready in {cache_dir()}")
    return 0


def _bar_list(text: str) -> tuple[int, ...]:
    """``"1,2,4,8"`` -> ``(1, 2, 4, 8)`` (argparse type: a bad list is a usage error)."""
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a list of bar counts like "1,2,4,8"') from None


def _train(args: argparse.Namespace) -> int:
    if args.model == "infill":
        from musicapp.ml import infill_train

        return infill_train.run(args)
    if args.model == "vae":
        try:
            from musicapp.ml import vae_train
        except ImportError as err:
            raise CommandError(f"the VAE trainer is not available ({err})") from None
        if not hasattr(vae_train, "run"):
            raise CommandError("the VAE trainer has no run() entry point")
        return int(vae_train.run(args) or 0)
    from dataclasses import replace

    from musicapp.ml.lstm_train import SHIPPED_MODEL, LSTMTrainConfig, export, train

    cfg = LSTMTrainConfig(run_dir=args.run_dir or "runs/lstm")
    changes = {k: v for k, v in (("minutes", args.minutes), ("max_steps", args.steps), ("batch", args.batch_size),
                                 ("lr", args.lr), ("seed", args.seed), ("device", args.device),
                                 ("threads", args.threads),
                                 ("max_shift", args.max_shift)) if v is not None}
    if args.no_resume:
        changes["resume"] = False
    try:
        cfg = replace(cfg, **changes)
        lookback = None
        if args.lookback and args.lookback.strip().lower() == "none":
            lookback = ()
        elif args.lookback:
            try:
                lookback = tuple(int(x) for x in args.lookback.split(","))
            except ValueError:
                raise CommandError(f'--lookback {args.lookback!r} is not a list of bar counts like "1,2,4,8"') from None
        model_cfg = replace(SHIPPED_MODEL, **{k: v for k, v in (("hidden", args.hidden), ("layers", args.layers),
                                                                          ("dropout", args.dropout), ("lookback", lookback),
                                                                          ("embed", args.embed), ("feat", args.feat))
                                             if v is not None})
    except ValueError as err:
        raise CommandError(str(err)) from None
    best = train(cfg, model_cfg, progress=not args.quiet)
    out = export(best, args.out or "models/lstm")
    print(f"wrote {out}")
    return 0


def _generator(args: argparse.Namespace):
    from musicapp.ml.generate import MelodyGenerator

    from musicapp.ml.user_models import choose_checkpoint

    return MelodyGenerator(choose_checkpoint(args.model, args.checkpoint, "lstm"), device=args.device)


def _parse_range(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        lo, hi = (int(x) for x in text.replace(":", "-").split("-"))
    except ValueError:
        raise CommandError(f'pitch range {text!r} is not "LOW-HIGH" (MIDI numbers)') from None
    return lo, hi


def _melody_notes(song):
    return [n for t in song.tracks if not t.is_drums for n in t.notes]


def _continue(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from musicapp.core.midifile import read_midi, write_midi
    from musicapp.core.scales import parse_key
    from musicapp.core.song import Track

    song = read_midi(args.seed)
    seed = _melody_notes(song)
    if not seed:
        raise CommandError(f"{args.seed} has no melody notes to continue")
    key_text = args.key.strip().lower()
    key = "auto" if key_text == "auto" else None if key_text == "none" else parse_key(args.key)
    gen = _generator(args)
    cands = gen.continue_melody(seed, bars=args.bars, variations=args.variations, temperature=args.temperature,
                                top_p=args.top_p, key=key, pitch_range=_parse_range(args.pitch_range),
                                random_seed=args.random_seed, meters=song.meters, ppq=song.ppq,
                                steering=steering_from_args(args))
    seed_track = next(t for t in song.tracks if not t.is_drums and t.notes)
    tracks = list(song.tracks)  # the seed, unchanged, comes first
    free = [c for c in range(16) if c != 9 and c not in {t.channel for t in tracks}] or [seed_track.channel]
    for i, notes in enumerate(cands, start=1):
        ch = free[(i - 1) % len(free)]
        tracks.append(Track(name=f"Variation {i}", channel=ch, program=seed_track.program,
                            notes=tuple(replace(n, channel=ch) for n in notes)))
    write_midi(song.replace(tracks=tuple(tracks)), args.output)
    counts = ", ".join(str(len(c)) for c in cands)
    print(f"wrote {args.output}: seed + {len(cands)} variation(s) of {args.bars} bars ({counts} notes)")
    return 0


def _score(args: argparse.Namespace) -> int:
    from musicapp.core.midifile import read_midi

    gen = _generator(args)
    rows = []
    total_notes, total_nats = 0, 0.0
    for path in args.files:
        song = read_midi(path)
        res = gen.score([_melody_notes(song)], meters=song.meters, key=song.key, ppq=song.ppq)[0]
        total_notes += res.notes
        total_nats += res.nats
        rows.append({"path": path, "notes": res.notes, "nats_per_note": _finite(res.nats_per_note)})
    overall = {"notes": total_notes, "nats_per_note": _finite(total_nats / total_notes if total_notes else math.nan)}
    if args.json:
        json.dump({"files": rows, "overall": overall}, sys.stdout)
        sys.stdout.write("\n")
    else:
        for r in rows:
            npn = "n/a" if r["nats_per_note"] is None else f"{r['nats_per_note']:.4f}"
            print(f"{r['path']}: {r['notes']} notes, {npn} nats/note")
        npn = "n/a" if overall["nats_per_note"] is None else f"{overall['nats_per_note']:.4f}"
        print(f"overall: {total_notes} notes, {npn} nats/note")
    return 0


def _finite(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 6)


def _eval(args: argparse.Namespace) -> int:
    from musicapp.ml.evaluate import EvalConfig, run_eval

    log = (lambda text: print(text, file=sys.stderr)) if args.json else print
    figures = run_eval(EvalConfig(checkpoint=args.checkpoint, split=args.split, seeds=args.seeds,
                                  card=args.card, update_metrics=args.update_metrics, threads=args.threads), log=log)
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
