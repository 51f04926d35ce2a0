"""Checkpoints: weights in safetensors, a JSON config beside them; never pickle.

Owns the on-disk format shared by every model (LSTM, VAE) and the checks made on load.
A checkpoint ``NAME`` is two files:

- ``NAME.safetensors``: tensors only (safetensors never runs code on load);
- ``NAME.json``: ``{"format": "musicapp-checkpoint", "format_version", "model": {"kind",
  "config"}, "encoding": {...}, "training": {...}, "metrics": {...}, "weights": {"file",
  "bytes", "sha256"}, "extra": {...}}``.

Loading checks the format version, the model kind, the encoding, the weight file's size and
SHA-256 (so a truncated or swapped file is refused), that the file is not a pickle/zip
(``torch.save``) archive, and finally that tensor names and shapes match the model built
from the config. Every failure is a one-line :class:`CheckpointError`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from musicapp.core.errors import MusicappError

FORMAT = "musicapp-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(MusicappError):
    """A checkpoint is missing, damaged, of another format, or does not match the model."""


@dataclass
class CheckpointMeta:
    """Everything in the JSON file except the weights record.

    ``kind`` names the model ("lstm", "vae"); ``config`` is the model config dataclass as a
    dict; ``encoding`` the :class:`EncodingInfo` as a dict; ``training`` describes data,
    sizes, time and hardware; ``metrics`` holds evaluation figures; ``extra`` is free JSON
    (the trainer keeps its resume state there).
    """

    kind: str
    config: dict[str, Any]
    encoding: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self, weights: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "model": {"kind": self.kind, "config": self.config},
            "encoding": self.encoding,
            "training": self.training,
            "metrics": self.metrics,
            "weights": dict(weights),
            "extra": self.extra,
        }


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(json_path, safetensors_path)`` for ``NAME``, ``NAME.json`` or ``NAME.safetensors``."""
    p = Path(path)
    if p.suffix in (".json", ".safetensors"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".json"), p.with_name(p.name + ".safetensors")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor],
                    meta: CheckpointMeta) -> Path:
    """Write ``tensors`` and ``meta`` atomically (temp file + rename); returns the JSON path.

    The weights are written first and the JSON last, so a crash leaves the previous
    checkpoint's JSON pointing at a hash the new weights fail: the load refuses it.
    """
    from safetensors.torch import save_file

    json_path, st_path = checkpoint_paths(path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    tmp_st = st_path.with_name(st_path.name + ".tmp")
    save_file(flat, str(tmp_st), metadata={"format": FORMAT, "kind": meta.kind})
    os.replace(tmp_st, st_path)
    weights = {"file": st_path.name, "bytes": st_path.stat().st_size, "sha256": _sha256(st_path)}
    tmp_json = json_path.with_name(json_path.name + ".tmp")
    tmp_json.write_text(json.dumps(meta.to_json(weights), indent=2, sort_keys=True) + "\n")
    os.replace(tmp_json, json_path)
    return json_path


def read_meta(path: str | os.PathLike) -> tuple[CheckpointMeta, dict[str, Any]]:
    """Parse and validate the JSON half; returns the meta and the weights record."""
    json_path, _ = checkpoint_paths(path)
    if not json_path.is_file():
        raise CheckpointError(f"checkpoint config {json_path} not found")
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"checkpoint config {json_path.name} is not valid JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{json_path.name} is not a musicapp checkpoint config")
    if doc.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{json_path.name} has format version {doc.get('format_version')!r}, "
                              f"this musicapp reads version {FORMAT_VERSION}")
    try:
        model, weights = doc["model"], doc["weights"]
        meta = CheckpointMeta(kind=str(model["kind"]), config=dict(model["config"]),
                              encoding=dict(doc["encoding"]), training=dict(doc.get("training", {})),
                              metrics=dict(doc.get("metrics", {})), extra=dict(doc.get("extra", {})))
        weights = {"file": str(weights["file"]), "bytes": int(weights["bytes"]),
                   "sha256": str(weights["sha256"])}
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint config {json_path.name} is incomplete ({err})") from None
    return meta, weights


def load_checkpoint(path: str | os.PathLike, kind: str | None = None,
                    encoding: Mapping[str, Any] | None = None,
                    device: str | torch.device = "cpu") -> tuple[CheckpointMeta, dict[str, torch.Tensor]]:
    """Read and verify a checkpoint; returns ``(meta, tensors)`` without building a model.

    ``kind`` and ``encoding``, when given, must equal what the checkpoint records.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    json_path, _ = checkpoint_paths(path)
    meta, weights = read_meta(json_path)
    if kind is not None and meta.kind != kind:
        raise CheckpointError(f"{json_path.name} holds a {meta.kind!r} model, expected {kind!r}")
    if encoding is not None and dict(encoding) != meta.encoding:
        raise CheckpointError(f"{json_path.name} was trained with encoding {meta.encoding.get('name')} "
                              f"v{meta.encoding.get('version')}, which does not match this musicapp's "
                              f"{encoding.get('name')} v{encoding.get('version')}")
    st_path = json_path.with_name(weights["file"])
    if Path(weights["file"]).name != weights["file"]:
        raise CheckpointError(f"{json_path.name} names a weights file outside its folder")
    if not st_path.is_file():
        raise CheckpointError(f"checkpoint weights {st_path} not found")
    with open(st_path, "rb") as f:
        head = f.read(8)
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise CheckpointError(f"{st_path.name} is a pickle/torch.save file; only safetensors are loaded")
    size = st_path.stat().st_size
    if size != weights["bytes"]:
        raise CheckpointError(f"{st_path.name} is {size} bytes, its config says {weights['bytes']} "
                              "(truncated or replaced)")
    if _sha256(st_path) != weights["sha256"]:
        raise CheckpointError(f"{st_path.name} does not match the checksum in {json_path.name} (damaged "
                              "or replaced)")
    try:
        tensors = load_file(str(st_path), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{st_path.name} is not a valid safetensors file ({err})") from None
    return meta, tensors


def load_state(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor], name: str = "checkpoint",
               prefix: str = "") -> None:
    """Copy ``tensors`` (keys ``prefix + param name``) into ``module``; names and shapes must match."""
    own = module.state_dict()
    got = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing = sorted(set(own) - set(got))
    unexpected = sorted(set(got) - set(own))
    if missing or unexpected:
        what = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise CheckpointError(f"{name} does not match the model config: {what}")
    for k, v in own.items():
        if tuple(got[k].shape) != tuple(v.shape) or got[k].dtype != v.dtype:
            raise CheckpointError(f"{name} does not match the model config: {k} has shape "
                                  f"{tuple(got[k].shape)} {got[k].dtype}, model wants {tuple(v.shape)} {v.dtype}")
    module.load_state_dict(got, strict=True)


def config_from_dict(cls: type, data: Mapping[str, Any], name: str = "checkpoint"):
    """Build the config dataclass ``cls`` from JSON; unknown or missing fields are refused."""
    import dataclasses

    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise CheckpointError(f"{name} has unknown {cls.__name__} fields {unknown}")
    try:
        return cls(**dict(data))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{name} has an invalid {cls.__name__}: {err}") from None
