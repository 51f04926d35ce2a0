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

The JSON is checked before anything is allocated from it: it is read through the bounded
reader (a regular file of at most ``MAX_CONFIG_BYTES``), every member has its type, the
weights file must be a plain name in the checkpoint's own folder, config sizes are positive
integers no larger than ``MAX_SIZE``, and ``build_checked`` builds the model on the meta
device (no memory) and compares its tensor shapes with the weights before the real build.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from musicapp.core.atomic import atomic_write_bytes, read_limited
from musicapp.core.errors import MusicappError

FORMAT = "musicapp-checkpoint"
FORMAT_VERSION = 1
#: largest checkpoint JSON read (the shipped ones are a few KB; training state adds some).
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: largest integer a model config may hold (a layer width, an embedding size, a count).
MAX_SIZE = 4096


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
    """Write ``tensors`` and ``meta`` atomically (``core.atomic``: a unique temp file, fsync,
    rename); returns the JSON path.

    The weights are written first and the JSON last, so a crash leaves the previous
    checkpoint's JSON pointing at a hash the new weights fail: the load refuses it.
    """
    from safetensors.torch import save

    json_path, st_path = checkpoint_paths(path)
    try:
        json_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CheckpointError(f"cannot write {json_path.parent}: {err.strerror or err}") from None
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    data = save(flat, metadata={"format": FORMAT, "kind": meta.kind})
    atomic_write_bytes(st_path, data, CheckpointError)  # unique temp name, fsync, rename
    weights = {"file": st_path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    text = json.dumps(meta.to_json(weights), indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(json_path, text.encode("utf-8"), CheckpointError)
    return json_path


def read_meta(path: str | os.PathLike) -> tuple[CheckpointMeta, dict[str, Any]]:
    """Parse and validate the JSON half; returns the meta and the weights record."""
    json_path, _ = checkpoint_paths(path)
    if not json_path.exists():
        raise CheckpointError(f"checkpoint config {json_path} not found")
    data = read_limited(json_path, MAX_CONFIG_BYTES, CheckpointError)
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        why = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise CheckpointError(f"checkpoint config {json_path.name} is not valid JSON ({why})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{json_path.name} is not a musicapp checkpoint config")
    if doc.get("format_version") != FORMAT_VERSION or type(doc.get("format_version")) is not int:
        raise CheckpointError(f"{json_path.name} has format version {doc.get('format_version')!r}, "
                              f"this musicapp reads version {FORMAT_VERSION}")
    name = json_path.name
    model = _member(doc, "model", dict, name)
    weights = _member(doc, "weights", dict, name)
    meta = CheckpointMeta(kind=_member(model, "kind", str, name), config=_member(model, "config", dict, name),
                          encoding=_member(doc, "encoding", dict, name),
                          training=_member(doc, "training", dict, name, {}),
                          metrics=_member(doc, "metrics", dict, name, {}), extra=_member(doc, "extra", dict, name, {}))
    file, size, digest = (_member(weights, "file", str, name), _member(weights, "bytes", int, name),
                          _member(weights, "sha256", str, name))
    if Path(file).name != file or file in ("", ".", "..") or "/" in file or "\\" in file:
        raise CheckpointError(f"{name} names weights file {file!r} outside its folder; refused")
    if size < 0:
        raise CheckpointError(f"checkpoint config {name} gives a negative weights size")
    return meta, {"file": file, "bytes": size, "sha256": digest}


def _member(doc: dict, key: str, kind: type, name: str, default: Any = None) -> Any:
    """``doc[key]`` if it is exactly of ``kind`` (a bool is not an int); else CheckpointError."""
    if key not in doc and default is not None:
        return default
    value = doc.get(key)
    if type(value) is not kind:
        raise CheckpointError(f"checkpoint config {name} is incomplete ('{key}' must be "
                              f"{kind.__name__}, not {type(value).__name__})")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"JSON contains {name}")


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
    st_path = json_path.with_name(weights["file"])  # a plain name: read_meta checked it
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


def build_checked(factory: Callable[[Any], torch.nn.Module], config: Any,
                  tensors: Mapping[str, torch.Tensor], name: str = "checkpoint") -> torch.nn.Module:
    """``factory(config)`` with ``tensors`` loaded, built only once the weights fit it.

    The model is first made on the meta device (shapes only, no memory), so a config asking
    for gigabytes is refused by its mismatch with the weights before anything is allocated.
    """
    with torch.device("meta"):
        probe = factory(config)
    check_state(probe, tensors, name)
    model = factory(config)
    load_state(model, tensors, name)
    return model


def check_state(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor], name: str = "checkpoint",
                prefix: str = "") -> dict[str, torch.Tensor]:
    """The tensors for ``module`` (``prefix`` removed); names, shapes and dtypes must match."""
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
    return got


def load_state(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor], name: str = "checkpoint",
               prefix: str = "") -> None:
    """Copy ``tensors`` (keys ``prefix + param name``) into ``module``; names and shapes must match."""
    module.load_state_dict(check_state(module, tensors, name, prefix), strict=True)


def config_from_dict(cls: type, data: Mapping[str, Any], name: str = "checkpoint"):
    """Build the config dataclass ``cls`` from JSON; unknown fields are refused, and each
    value must have its default's type: integers 1..MAX_SIZE (a bool is not one), finite
    numbers 0..1 for floats, lists of such integers for tuples."""
    import dataclasses
    import math

    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise CheckpointError(f"{name} has unknown {cls.__name__} fields {unknown}")
    for key, value in data.items():
        default = fields[key].default
        kind = type(default)
        if kind is int:
            ok = type(value) is int and 1 <= value <= MAX_SIZE
        elif kind is float:
            ok = type(value) in (int, float) and math.isfinite(value) and 0 <= value <= 1
        elif kind is bool:
            ok = type(value) is bool
        elif kind is tuple:
            ok = type(value) in (list, tuple) and len(value) <= 64 and all(
                type(v) is int and 1 <= v <= MAX_SIZE for v in value)
        else:
            ok = type(value) is kind
        if not ok:
            raise CheckpointError(f"{name} has an invalid {cls.__name__}: {key} = {str(value)[:40]} "
                                  f"(must be {_WANTED.get(kind, kind.__name__)})")
    try:
        return cls(**dict(data))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{name} has an invalid {cls.__name__}: {err}") from None


_WANTED = {int: f"an integer 1..{MAX_SIZE}", float: "a number 0..1", bool: "true or false",
           tuple: f"a list of integers 1..{MAX_SIZE}"}
