"""The fine-tune's own process, started by the editor: JSON lines out, ``cancel`` in.

Owns the child side of "training never runs in the app's threads". The editor starts
``python -m musicapp.ml.finetune_worker scan [--track N] PATH...`` (prints one JSON line: the
melodies, notes and minutes found and the skipped files with reasons) or ``... train JOB``
(JOB: JSON with ``paths``, ``name``, ``base``, ``minutes``, ``track``), which prints one JSON
event per line (see :mod:`musicapp.ml.finetune`) and ends with ``done`` or ``error``. A line
``cancel`` on stdin, or stdin closing (the editor went away), stops it with the best weights
kept. The process lowers its own priority (nice 10; ``$MUSICAPP_FINETUNE_NICE`` changes it),
uses one torch thread and, on a machine with more than one core, keeps to the last core, so
the editor keeps the others.
"""

from __future__ import annotations

import json
import os
import sys
import threading


def _emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def share_cpu() -> str:
    """Lower this process's priority and keep it off the first core; returns what was done."""
    done = []
    try:
        nice = int(os.environ.get("MUSICAPP_FINETUNE_NICE", "10"))
        if nice:
            os.nice(nice)
            done.append(f"nice {nice}")
    except (AttributeError, OSError, ValueError):
        pass
    try:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(0, {cpus[-1]})
            done.append(f"pinned to CPU {cpus[-1]}")
    except (AttributeError, OSError):
        pass
    return ", ".join(done) or "default priority"


def _scan(argv: list[str]) -> int:
    from musicapp.ml.user_melodies import read_user_melodies

    track = None
    if argv[:1] == ["--track"]:
        track, argv = int(argv[1]), argv[2:]
    _emit({"event": "scan", **read_user_melodies(argv, track=track).summary()})
    return 0


def _train(job: dict) -> int:
    from musicapp.ml.finetune import FinetuneConfig, finetune
    from musicapp.ml.user_melodies import read_user_melodies
    from musicapp.ml.user_models import resolve_model, run_dir, user_model_path

    stop = threading.Event()

    def watch_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "cancel":
                break
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True, name="cancel-watch").start()
    _emit({"event": "started", "pid": os.getpid(), "cpu": share_cpu()})
    out = user_model_path(job["name"])
    base = resolve_model(job.get("base") or "lstm", "lstm")
    data = read_user_melodies(job["paths"], track=job.get("track"))
    cfg = FinetuneConfig(minutes=float(job.get("minutes", 5.0)), **job.get("config", {}))
    finetune(data, base, out, run_dir(job["name"]), cfg, report=_emit, cancel=stop.is_set,
             log=lambda s: _emit({"event": "log", "text": s}))
    return 0


def main(argv: list[str]) -> int:
    """Run ``scan`` or ``train``; every failure is one ``error`` event and exit code 1."""
    from musicapp.core.errors import MusicappError

    try:
        if argv[:1] == ["scan"]:
            return _scan(argv[1:])
        if argv[:1] == ["train"] and len(argv) == 2:
            return _train(json.loads(argv[1]))
        _emit({"event": "error", "message": "usage: finetune_worker scan PATH... | train JOB_JSON"})
        return 2
    except MusicappError as err:
        _emit({"event": "error", "message": str(err)})
        return 1
    except Exception as err:  # noqa: BLE001 - the editor shows one line, never a traceback
        _emit({"event": "error", "message": f"internal error: {type(err).__name__}: {err}"})
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
