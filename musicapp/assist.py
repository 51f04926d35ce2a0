"""Composition-root part for the assistant: builds the generation services the editor uses.

Owns the only place where the Generate panel meets ``musicapp.ml``: it lists the shipped
checkpoints in ``models/``, opens an LSTM (``MelodyGenerator``) or VAE (``VaeService``) on a
device, and warms up torch. Everything ML is imported inside the functions, which the panel's
worker thread calls, so neither the window start nor the main thread ever loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicapp.ui.generate.services import LSTM, VAE, GenerateServices

DEFAULT_MODELS = {LSTM: "lstm", VAE: "vae_2bar"}


@dataclass(frozen=True)
class AssistConfig:
    """Where checkpoints live (None: the shipped ``models/``) and torch's CPU thread count.

    One thread is fastest for batches of a few melodies on a shared CPU (tens of ms per
    phrase instead of hundreds when threads fight over cores).
    """

    models_dir: Path | None = None
    torch_threads: int = 1
    switch_interval_s: float | None = 0.001


def _models_dir(config: AssistConfig) -> Path:
    if config.models_dir is not None:
        return Path(config.models_dir)
    from musicapp.paths import models_dir

    return models_dir()


def list_models(config: AssistConfig, kind: str) -> list[str]:
    """Checkpoint names (file stems) of ``kind`` in the models folder; the default one first."""
    folder = _models_dir(config)
    found = sorted(p.stem for p in folder.glob(f"{kind}*.json")) if folder.is_dir() else []
    default = DEFAULT_MODELS[kind]
    return [default] + [n for n in found if n != default]


def open_service(config: AssistConfig, kind: str, name: str, device: str) -> Any:
    """An unloaded generation service for checkpoint ``name`` of ``kind`` on ``device``."""
    path = _models_dir(config) / name
    if kind == LSTM:
        from musicapp.ml.generate import MelodyGenerator

        return MelodyGenerator(path.with_suffix(".json"), device=device)
    if kind == VAE:
        from musicapp.ml.vae_generate import VaeService

        return VaeService(path, device=device)
    raise ValueError(f"unknown model kind {kind!r}")


def warmup(config: AssistConfig) -> None:
    """Import torch and set its thread count (on the worker thread, before any request).

    Also shortens the interpreter's thread switch interval to ``switch_interval_s``, so the Qt
    main thread gets the GIL back within about a millisecond while the worker runs the Python
    between torch calls (the default 5 ms lets the UI wait longer behind generation).
    """
    import sys

    import torch

    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    if config.switch_interval_s:
        sys.setswitchinterval(config.switch_interval_s)


def describe(service: Any) -> str:
    """Where a loaded service runs, e.g. 'cpu'."""
    dev = getattr(service, "_device", None)
    if dev is None and hasattr(service, "loaded") and service.loaded and hasattr(service, "model"):
        try:
            dev = next(service.model().parameters()).device
        except (StopIteration, TypeError):
            dev = None
    return str(dev) if dev is not None else ""


def generate_services(config: AssistConfig = AssistConfig()) -> GenerateServices:
    """The real services for the Generate panel."""
    return GenerateServices(
        open=lambda kind, name, device: open_service(config, kind, name, device),
        models=lambda kind: list_models(config, kind),
        warmup=lambda: warmup(config),
        describe=describe,
    )
