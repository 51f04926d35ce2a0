"""Composition-root part for the assistant: builds the generation services the editor uses.

Owns the only place where the Generate panel meets ``musicapp.ml``: it lists the shipped
checkpoints in ``models/``, opens an LSTM (``MelodyGenerator``), infill (``MelodyInfiller``), VAE
(``VaeService``) or harmoniser (``Harmonizer``) on a device or the rule-based accompanist
(``core.accompany``), and warms up torch. Everything ML is imported inside the functions, which
the panel's worker thread calls, so neither the window start nor the main thread ever loads torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicapp.ui.generate.services import ACCOMPANY, HARMONY, INFILL, LSTM, VAE, GenerateServices

DEFAULT_MODELS = {LSTM: "lstm", VAE: "vae_2bar", INFILL: "infill", HARMONY: "harmony", ACCOMPANY: "built-in"}


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
    if kind == ACCOMPANY:
        return [DEFAULT_MODELS[ACCOMPANY]]  # rules and searches, no checkpoint
    folder = _models_dir(config)
    found = sorted(p.stem for p in folder.glob(f"{kind}*.json")) if folder.is_dir() else []
    default = DEFAULT_MODELS[kind]
    return [default] + [n for n in found if n != default] + [n for n in user_model_names(kind) if n not in found]


def user_model_names(kind: str) -> list[str]:
    """Names of the user's fine-tuned models of ``kind`` (their JSON read, no weights)."""
    from musicapp.ml.user_models import user_models_dir, _read

    folder = user_models_dir(create=False)
    infos = (_read(p, False) for p in sorted(folder.glob("*.json"))) if folder.is_dir() else ()
    return [i.name for i in infos if i is not None and i.kind == kind]


def open_service(config: AssistConfig, kind: str, name: str, device: str) -> Any:
    """An unloaded generation service for checkpoint ``name`` of ``kind`` on ``device``."""
    path = _models_dir(config) / name
    if not path.with_suffix(".json").is_file():
        from musicapp.ml.user_models import user_models_dir

        mine = user_models_dir(create=False) / f"{name}.json"
        if mine.is_file():
            path = mine.with_suffix("")
    if kind == LSTM:
        from musicapp.ml.generate import MelodyGenerator

        return MelodyGenerator(path.with_suffix(".json"), device=device)
    if kind == INFILL:
        from musicapp.ml.infill import MelodyInfiller

        return MelodyInfiller(path.with_suffix(".json"), device=device)
    if kind == VAE:
        from musicapp.ml.vae_generate import VaeService

        return VaeService(path, device=device)
    if kind == HARMONY:
        return _open_harmonizer(path.with_suffix(".json"))
    if kind == ACCOMPANY:
        from musicapp.core.accompany import Accompanist

        return Accompanist()
    raise ValueError(f"unknown model kind {kind!r}")


class _HarmonyService:
    """The harmoniser checkpoint at ``path`` as a ``HarmonyService`` the worker loads once
    (``Harmonizer.load`` is a constructor, so the worker's ``load()`` goes through here)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._harmonizer: Any = None

    @property
    def loaded(self) -> bool:
        return self._harmonizer is not None

    def load(self) -> None:
        from musicapp.core.errors import MusicappError

        try:
            from musicapp.ml.harmony import Harmonizer
        except ImportError:
            raise MusicappError("this musicapp has no harmoniser (ml.harmony is missing)") from None
        self._harmonizer = Harmonizer.load(self.path)

    def harmonize(self, *args, **kwargs):
        if self._harmonizer is None:
            self.load()
        return self._harmonizer.harmonize(*args, **kwargs)


def _open_harmonizer(path: Path) -> Any:
    """An unloaded ``HarmonyService`` for the harmoniser checkpoint at ``path``."""
    return _HarmonyService(path)


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


def model_services():
    """The Models menu's services: the fine-tune worker process and the model library."""
    import sys

    from musicapp.ui.models_menu import ModelServices

    def models() -> list[tuple[str, str, bool, list[str]]]:
        from musicapp.ml.user_models import list_models as all_models

        return [(m.name, m.kind, m.shipped, m.card()) for m in all_models()]

    def rename(old: str, new: str) -> None:
        from musicapp.ml.user_models import rename_model

        rename_model(old, new)

    def delete(name: str) -> None:
        from musicapp.ml.user_models import delete_model

        delete_model(name)

    return ModelServices(worker_command=lambda: (sys.executable, ["-m", "musicapp.ml.finetune_worker"]),
                         models=models, rename=rename, delete=delete)
