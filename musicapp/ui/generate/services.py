"""What the Generate panel needs from the models, injected by the composition root.

Owns the small contract between the UI and the Qt-free generation services: which models
exist for each job, how to open one on a device, and an optional warm-up (import torch) run
on the worker thread. The UI never imports ``musicapp.ml`` or torch; ``musicapp.assist``
builds the real ``GenerateServices`` and tests may build theirs around tiny real models.

An opened "lstm" service must offer ``continue_melody(seed_notes, bars=, variations=,
temperature=, top_p=, key=, pitch_range=, random_seed=, scale_mask=, meters=, start_tick=,
cancel=, progress=, ppq=)``; a "vae" service ``vary(phrase, amount, variations, meters=,
seed=, cancel=)`` and ``interpolate(a, b, steps, meters=, start_a=, start_b=, cancel=)``.
Both return lists of candidate melodies, each a list of ``Note`` in ticks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

LSTM = "lstm"
VAE = "vae"
#: shown name -> device string handed to the services ("auto": CUDA/MPS if present).
DEVICES: dict[str, str] = {"Auto": "auto", "CPU": "cpu", "GPU": "cuda"}


@dataclass
class GenerateServices:
    """Factories for the generation services.

    ``models(kind)`` lists model names for ``kind`` ("lstm" or "vae"); ``open(kind, name,
    device)`` builds an (unloaded) service; ``warmup()`` prepares the ML runtime (called once,
    on the worker thread); ``describe(service)`` says where a loaded service runs.
    """

    open: Callable[[str, str, str], Any]
    models: Callable[[str], list[str]]
    warmup: Callable[[], None] | None = None
    describe: Callable[[Any], str] = field(default=lambda service: "")
