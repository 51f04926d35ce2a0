"""Composition-root part for the jam: finds the model and turns it into the engine's callable.

Owns the join between ``musicapp.ml`` and ``musicapp.engine.jam`` (which never import each
other): ``find_model`` resolves ``--model NAME`` (a shipped/installed checkpoint name in the
models folder, or a checkpoint path) and ``jam_generate`` wraps ``MelodyGenerator`` as the
``Generate`` callable a ``JamSession`` calls from its generation thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

from musicapp.core.errors import MusicappError

#: candidate answers sampled per request (one batch); the session keeps one that is not a copy
VARIATIONS = 4
#: sampling temperature of jam answers (a little tamer than the editor's default 1.0)
TEMPERATURE = 0.9


class ModelNotFound(MusicappError):
    """``--model`` names no LSTM checkpoint."""


def find_model(name: str | None) -> Path:
    """The LSTM checkpoint (``.json``) for ``name``: None for the shipped one, a name in the
    models folder (as the editor's model list shows them), or a path to a checkpoint."""
    from musicapp.paths import models_dir

    folder = models_dir()
    names = sorted(p.stem for p in folder.glob("lstm*.json")) if folder.is_dir() else []
    if not name:
        name = "lstm"
    path = Path(name).expanduser()
    for candidate in (path, path.with_suffix(".json"), folder / f"{name}.json"):
        if candidate.suffix == ".json" and candidate.is_file() and candidate.with_suffix(".safetensors").is_file():
            return candidate
    raise ModelNotFound(f"no melody model {name!r} (available: {', '.join(names) or 'none'}; "
                        "or give a checkpoint path, NAME.json with NAME.safetensors beside it)")


def jam_generate(checkpoint: Path, device: str = "cpu", threads: int = 1):
    """A loaded ``Generate`` callable for ``engine.jam`` backed by the LSTM at ``checkpoint``."""
    import torch

    from musicapp.ml.generate import MelodyGenerator

    if threads:
        torch.set_num_threads(threads)
    generator = MelodyGenerator(checkpoint, device=device)
    try:
        generator.load()
    except MusicappError:
        raise
    except Exception as err:  # a damaged checkpoint: one line, not a traceback
        raise ModelNotFound(f"cannot load model {checkpoint}: {err}") from None

    def generate(request, cancel: threading.Event):
        return generator.continue_melody(
            request.seed, bars=request.bars, variations=VARIATIONS, temperature=TEMPERATURE,
            key=request.key, pitch_range=request.pitch_range, random_seed=request.random_seed,
            meters=request.meters, start_tick=request.start_tick, cancel=cancel, ppq=request.ppq)

    generate(_warmup_request(), threading.Event())  # first call pays torch's one-off costs
    return generate


def _warmup_request():
    from musicapp.core.song import Note, TimeSignature
    from musicapp.engine.jam_parts import JamRequest

    seed = tuple(Note(i * 240, 60 + (2 * i) % 12, 240) for i in range(8))
    return JamRequest(seed, 1920, 2, None, (55, 79), (TimeSignature(0),), 480, 0)
