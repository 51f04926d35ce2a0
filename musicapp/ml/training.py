"""Training utilities shared by every model's trainer (LSTM, VAE).

Owns device choice, thread limits, the progress bar, the loss log (CSV + PNG plot) and
resumable training checkpoints (model + optimizer + counters + RNG states, all in the
safetensors/JSON format of :mod:`musicapp.ml.checkpoint`; nothing is pickled).

A run folder holds ``last.safetensors``/``last.json`` (resume point), ``best.*`` (lowest
validation loss), ``loss.csv`` and ``loss.png``.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from musicapp.core.atomic import atomic_path
from musicapp.core.errors import MusicappError
from musicapp.ml.checkpoint import CheckpointError, CheckpointMeta, load_checkpoint, load_state, save_checkpoint

OPTIM_PREFIX = "optim."
RNG_KEY = "rng.torch"


def pick_device(override: str | None = None) -> torch.device:
    """``override`` ('cpu', 'cuda', 'cuda:1', 'mps') or the best available: cuda, mps, cpu.

    Raises :class:`DeviceError` for a device that is not available here.
    """
    if override and override != "auto":
        dev = torch.device(override)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise DeviceError("CUDA was requested but is not available")
        if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise DeviceError("MPS was requested but is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class DeviceError(MusicappError, ValueError):
    """The requested compute device does not exist here."""


def limit_threads(n: int | None) -> None:
    """Use at most ``n`` CPU threads for torch (None/0: leave torch's default)."""
    if n:
        torch.set_num_threads(int(n))
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set once in this process
            pass


class Progress:
    """A progress bar on stderr (tqdm when installed, a plain line otherwise).

    ``total`` and ``initial`` are in optimizer steps; ``update(n, **postfix)`` advances it.
    """

    def __init__(self, total: int, initial: int = 0, desc: str = "train", enabled: bool = True) -> None:
        self._bar = None
        self._n, self._total, self._desc, self._last = initial, total, desc, 0.0
        self._enabled = enabled
        if enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True,
                                 mininterval=1.0, file=sys.stderr)
            except ImportError:
                self._bar = None

    def update(self, n: int = 1, **postfix: float) -> None:
        self._n += n
        if not self._enabled:
            return
        text = " ".join(f"{k}={v:.4g}" for k, v in postfix.items())
        if self._bar is not None:
            self._bar.update(n)
            if postfix:
                self._bar.set_postfix_str(text, refresh=False)
        elif time.monotonic() - self._last > 2.0 or self._n >= self._total:
            self._last = time.monotonic()
            sys.stderr.write(f"\r{self._desc}: {self._n}/{self._total} {text}")
            sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._enabled:
            sys.stderr.write("\n")


@dataclass
class LossLog:
    """Loss curves: one CSV row per evaluation, plus a PNG plot redrawn on demand.

    Columns: ``step, epoch, seconds, train_loss, valid_loss, lr`` (losses in nats per step,
    seconds of training wall time).
    """

    csv_path: Path
    png_path: Path
    columns: tuple[str, ...] = ("step", "epoch", "seconds", "train_loss", "valid_loss", "lr")
    rows: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.csv_path, self.png_path = Path(self.csv_path), Path(self.png_path)
        if self.csv_path.is_file():
            with open(self.csv_path, newline="") as f:
                self.rows = [{k: float(v) for k, v in r.items() if v not in ("", None)}
                             for r in csv.DictReader(f)]

    def truncate_after(self, step: int) -> None:
        """Forget rows past ``step`` (after resuming from an earlier checkpoint)."""
        self.rows = [r for r in self.rows if r.get("step", 0) <= step]
        self._write_all()

    def append(self, **row: float) -> None:
        self.rows.append({k: float(v) for k, v in row.items()})
        self._write_all()

    def _write_all(self) -> None:
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.csv_path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(self.columns), extrasaction="ignore")
            w.writeheader()
            for r in self.rows:
                w.writerow({k: r.get(k, "") for k in self.columns})

    def plot(self, title: str = "loss") -> None:
        """Draw every ``*_loss`` column against step into ``png_path`` (matplotlib, Agg)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
        for col in self.columns:
            if not col.endswith("loss"):
                continue
            pts = [(r["step"], r[col]) for r in self.rows if col in r]
            if pts:
                ax.plot(*zip(*pts), label=col, marker="." if len(pts) < 50 else None)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss (nats)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        try:
            with atomic_path(self.png_path) as tmp:
                fig.savefig(tmp)
        finally:
            plt.close(fig)


@dataclass
class TrainState:
    """Counters a run resumes from. ``seconds`` is training wall time so far."""

    step: int = 0
    epoch: int = 0
    seconds: float = 0.0
    best_valid: float = float("inf")
    numpy_rng: dict[str, Any] = field(default_factory=dict)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state dict into flat tensors and JSON (param groups, scalars)."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for name, val in st.items():
            if torch.is_tensor(val):
                tensors[f"{OPTIM_PREFIX}{pid}.{name}"] = val
            else:
                scalars.setdefault(str(pid), {})[name] = val
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor],
                       info: Mapping[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, val in tensors.items():
        if key.startswith(OPTIM_PREFIX):
            pid, name = key[len(OPTIM_PREFIX):].split(".", 1)
            state.setdefault(int(pid), {})[name] = val
    for pid, sc in info.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(sc)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"resume checkpoint's optimizer state does not fit ({err})") from None


def save_training_checkpoint(path: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                             meta: CheckpointMeta, state: TrainState) -> Path:
    """Save model weights (keys ``model.*``), optimizer state and ``state`` in ``meta.extra``."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt_t, opt_info = _optimizer_tensors(optimizer)
    tensors.update(opt_t)
    tensors[RNG_KEY] = torch.get_rng_state()
    meta.extra = {**meta.extra, "train_state": asdict(state), "optimizer": opt_info}
    return save_checkpoint(path, tensors, meta)


def load_training_checkpoint(path: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                             kind: str, encoding: Mapping[str, Any] | None = None) -> tuple[CheckpointMeta, TrainState]:
    """Restore what :func:`save_training_checkpoint` wrote into ``model`` and ``optimizer``."""
    meta, tensors = load_checkpoint(path, kind=kind, encoding=encoding)
    load_state(model, tensors, name=str(path), prefix="model.")
    _restore_optimizer(optimizer, tensors, meta.extra.get("optimizer", {}))
    if RNG_KEY in tensors:
        torch.set_rng_state(tensors[RNG_KEY].to(torch.uint8))
    raw = meta.extra.get("train_state", {})
    state = TrainState(**{k: v for k, v in raw.items() if k in TrainState.__dataclass_fields__})
    return meta, state


def model_tensors(path: str | os.PathLike, kind: str, encoding: Mapping[str, Any] | None = None
                  ) -> tuple[CheckpointMeta, dict[str, torch.Tensor]]:
    """Model weights (``model.`` prefix removed) from either a shipped or a training checkpoint."""
    meta, tensors = load_checkpoint(path, kind=kind, encoding=encoding)
    if any(k.startswith("model.") for k in tensors):
        tensors = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return meta, tensors


def hardware_description(device: torch.device) -> str:
    """One line naming the device, CPU model and torch thread count (for the model card)."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    return f"{device.type}: {cpu}, {torch.get_num_threads()} torch threads"


def numpy_rng(state: Mapping[str, Any] | None, seed: int) -> np.random.Generator:
    """A PCG64 generator restored from ``state`` (a bit_generator.state dict) or seeded."""
    rng = np.random.default_rng(seed)
    if state:
        rng.bit_generator.state = dict(state)
    return rng
