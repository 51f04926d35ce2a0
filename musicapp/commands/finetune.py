"""Fine-tuning and the model library on the command line: ``musicapp finetune``, ``musicapp models``.

``finetune FILES_OR_FOLDERS... [--base lstm] [--minutes M] --name NAME`` reads the melodies of
the user's .mid files (skipped files listed with reasons), fine-tunes the base model on them
(Ctrl-C stops early and keeps the best so far; running it again with the same name resumes a
stopped or killed run) and prints base and fine-tuned nats/note on the held-out files.
``models`` lists the shipped and the user's models with their cards.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``finetune`` and ``models``."""
    p = sub.add_parser("finetune", help="teach a model your style from your own .mid files",
                       description="Fine-tune a melody model on the melodies of FILES_OR_FOLDERS (.mid files "
                       "or folders of them). The new model goes to your model folder (see `musicapp models`) "
                       "and is chosen with --model NAME. Ctrl-C stops and keeps the best so far; the same "
                       "command again resumes a stopped or killed run.")
    p.add_argument("paths", nargs="+", metavar="FILES_OR_FOLDERS", help=".mid files or folders")
    p.add_argument("--base", default="lstm",
                   help="model to start from: lstm (default), vae_2bar, infill, a user model name or a checkpoint path")
    p.add_argument("--minutes", type=float, default=5.0, help="training time budget in minutes (5)")
    p.add_argument("--name", required=True, help="name of the new model")
    p.add_argument("--track", type=int, default=None,
                   help="1-based track holding the melody in every file (default: the most melodic one)")
    p.set_defaults(handler=_finetune)

    p = sub.add_parser("models", help="list the shipped and your own models with their cards")
    p.set_defaults(handler=_models)


def print_data_summary(data, out=None) -> None:
    """What was found and what was skipped, one line per skipped file (on ``out``, default stdout)."""
    out = out or sys.stdout
    print(f"found {len(data.melodies)} melodies ({data.notes} notes, {data.minutes:.1f} min of music)"
          + (f"; skipped {len(data.skipped)} file(s):" if data.skipped else ""), file=out)
    for s in data.skipped[:50]:
        print(f"  {s.path}: {s.reason}", file=out)
    if len(data.skipped) > 50:
        print(f"  ... and {len(data.skipped) - 50} more", file=out)


def _finetune(args: argparse.Namespace) -> int:
    from musicapp.ml.finetune import FinetuneConfig, finetune
    from musicapp.ml.training import Progress
    from musicapp.ml.user_melodies import read_user_melodies, split_user_melodies
    from musicapp.ml.user_models import ModelLibraryError, resolve_model, run_dir, user_model_path

    if not args.minutes > 0:
        raise ModelLibraryError("--minutes must be more than 0")
    out = user_model_path(args.name)
    base = resolve_model(args.base, "lstm")
    data = read_user_melodies(args.paths, track=args.track)
    print_data_summary(data)
    split_user_melodies(data.melodies)  # too little music: one clear line before anything starts
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    bar = Progress(total=int(args.minutes * 60), desc="fine-tune")
    state = {"shown": 0}

    def report(e: dict) -> None:
        if e["event"] == "data":
            mix = "with" if e["corpus_mix"] else "WITHOUT"
            print(f"fine-tuning {base.stem} for {args.minutes:g} min on {e['train_melodies']} melodies, "
                  f"{e['valid_melodies']} held out, {mix} the original corpus mixed in", flush=True)
        elif e["event"] == "step":
            now = int(min(e["seconds"], e["budget"]))
            bar.update(now - state["shown"], loss=e["loss"])
            state["shown"] = now

    try:
        res = finetune(data, base, out, run_dir(args.name), FinetuneConfig(minutes=args.minutes), report=report,
                       cancel=stop.is_set, log=lambda s: print(s, flush=True))
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    change = (res.nats_per_note / res.base_nats_per_note - 1) * 100
    print(f"held-out melodies: base {res.base_nats_per_note:.3f} nats/note, fine-tuned {res.nats_per_note:.3f} "
          f"nats/note ({change:+.1f}%)")
    why = {"cancelled": "stopped by you; run the same command to go on", "early": "stopped early: no more gain",
           "budget": "time budget used", "steps": "step limit"}[res.stopped]
    print(f"wrote {out.stem} ({out}); {res.steps} steps in {res.seconds / 60:.1f} min, {why}")
    return 0


def _models(args: argparse.Namespace) -> int:
    from musicapp.ml.user_models import list_models, user_models_dir

    models = list_models()
    for shipped in (True, False):
        group = [m for m in models if m.shipped == shipped]
        print("shipped models:" if shipped else f"your models ({user_models_dir()}):")
        if not group:
            print("  (none yet: musicapp finetune FILES --name NAME)")
        for m in group:
            print(f"  {m.name} [{m.kind}]")
            for line in m.card():
                print(f"      {line}")
    return 0
