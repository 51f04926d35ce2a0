"""The model library: shipped checkpoints plus the user's own fine-tuned ones.

Owns where user models live (``platformdirs.user_data_dir("musicapp")/models``, or
``$MUSICAPP_USER_MODELS`` so tests and portable installs never touch the real folder), how a
``--model`` value resolves (a checkpoint path, a user model name, or a shipped model name),
listing both kinds with a short card read from each checkpoint's JSON, and renaming and
deleting user models (shipped ones are read-only here). Standard library + platformdirs only:
nothing here loads weights.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from musicapp.core.atomic import atomic_write_text
from musicapp.core.errors import MusicappError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")
RUNS = ".runs"  # resumable fine-tune runs, one folder per model name


class ModelLibraryError(MusicappError):
    """A model name is unknown, invalid or taken, or a model cannot be changed."""


def user_models_dir(create: bool = True) -> Path:
    """Folder of the user's fine-tuned models (``$MUSICAPP_USER_MODELS`` overrides it)."""
    override = os.environ.get("MUSICAPP_USER_MODELS")
    if override:
        path = Path(override)
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("musicapp", appauthor=False)) / "models"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def shipped_models_dir() -> Path:
    from musicapp.paths import models_dir

    return models_dir()


def run_dir(name: str) -> Path:
    """Where the fine-tune of ``name`` keeps its resume point and loss curves."""
    return user_models_dir() / RUNS / check_name(name)


def check_name(name: str) -> str:
    """``name`` stripped, if it is a usable model name (letters, digits, space, ``_.+-``)."""
    name = name.strip()
    if not NAME_RE.match(name) or name.endswith(".json") or name.endswith(".safetensors"):
        raise ModelLibraryError(f"{name!r} is not a usable model name (letters, digits, spaces, _ . + -; "
                                "up to 64 characters)")
    return name


@dataclass(frozen=True)
class ModelInfo:
    """One checkpoint in the library: its name, kind ("lstm", "vae"...), JSON path and origin."""

    name: str
    kind: str
    path: Path
    shipped: bool
    doc: dict

    def card(self) -> list[str]:
        """A few lines describing the model (data, size, time, figures) from its JSON."""
        t, m = self.doc.get("training", {}), self.doc.get("metrics", {})
        lines = []
        if "finetune" in t:
            f = t["finetune"]
            lines.append(f"fine-tuned from {f.get('base')} on {f.get('melodies')} melodies "
                         f"({f.get('notes')} notes, {f.get('minutes')} min of music) from {f.get('files')} files; "
                         f"{f.get('seconds', 0) / 60:.1f} min of training, {t.get('optimizer_steps')} steps"
                         f"{'; corpus mixed in' if f.get('corpus_mix') else '; no corpus mix'}")
            if "user_valid_base_nats_per_note" in m:
                lines.append(f"held-out user melodies: {m['user_valid_base_nats_per_note']:.3f} nats/note with "
                             f"the base, {m.get('user_valid_nats_per_note', float('nan')):.3f} fine-tuned")
        else:
            corpora = ", ".join(t.get("corpora", []))
            lines.append((f"shipped; trained on {corpora}" if corpora else "shipped")
                         + (f" for {t['seconds'] / 60:.0f} min" if "seconds" in t else "")
                         + "; its card is in models/README.md")
            ev = m.get("eval", {}).get("lstm") if isinstance(m.get("eval"), dict) else None
            if ev:
                lines.append(f"test split: {ev['nats_per_note']:.3f} nats/note")
        return lines


def _read(path: Path, shipped: bool) -> ModelInfo | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        kind = str(doc["model"]["kind"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if doc.get("format") != "musicapp-checkpoint":
        return None
    return ModelInfo(path.stem, kind, path, shipped, doc)


def list_models(kind: str | None = None) -> list[ModelInfo]:
    """Shipped models first, then the user's, each sorted by name; only ``kind`` if given."""
    out: list[ModelInfo] = []
    for folder, shipped in ((shipped_models_dir(), True), (user_models_dir(create=False), False)):
        if not folder.is_dir():
            continue
        for p in sorted(folder.glob("*.json")):
            info = _read(p, shipped)
            if info is not None and (kind is None or info.kind == kind):
                out.append(info)
    return out


def resolve_model(value: str | os.PathLike | None, default: str) -> Path:
    """The checkpoint JSON for a ``--model`` value: a path, a user model or a shipped model name."""
    if value is None or str(value) == "":
        value = default
    text = str(value)
    p = Path(text).expanduser()
    for cand in (p, p.with_name(p.name + ".json")):
        if cand.is_file() and (os.sep in text or "/" in text or cand.suffix == ".json"):
            return cand
    for folder in (user_models_dir(create=False), shipped_models_dir()):
        cand = folder / f"{text}.json"
        if cand.is_file():
            return cand
    names = ", ".join(sorted({m.name for m in list_models()})) or "none"
    raise ModelLibraryError(f"no model named {text!r} (available: {names})")


def choose_checkpoint(model: str | None, checkpoint: str | None, default: str) -> Path | str | None:
    """What a command loads: ``--model`` resolved (name or path) when given, else ``--checkpoint``
    (None: the command's shipped default ``default``)."""
    return resolve_model(model, default) if model else checkpoint


def user_model_path(name: str) -> Path:
    """JSON path a new user model ``name`` is written to; shipped names are refused."""
    name = check_name(name)
    if (shipped_models_dir() / f"{name}.json").exists():
        raise ModelLibraryError(f"{name!r} is a shipped model's name; choose another")
    return user_models_dir() / f"{name}.json"


def _user_model(name: str) -> Path:
    path = user_models_dir(create=False) / f"{check_name(name)}.json"
    if not path.is_file():
        if (shipped_models_dir() / f"{name}.json").is_file():
            raise ModelLibraryError(f"{name!r} is a shipped model; it cannot be renamed or deleted")
        raise ModelLibraryError(f"no user model named {name!r}")
    return path


def rename_model(old: str, new: str) -> Path:
    """Rename user model ``old`` to ``new`` (its JSON names its weights file, so both move)."""
    src = _user_model(old)
    dst = user_model_path(new)
    if dst.exists():
        raise ModelLibraryError(f"a model named {new!r} exists already")
    doc = json.loads(src.read_text(encoding="utf-8"))
    weights = src.with_name(doc["weights"]["file"])
    new_weights = dst.with_name(f"{dst.stem}-{doc['weights']['sha256'][:10]}.safetensors")
    os.replace(weights, new_weights)
    doc["weights"]["file"] = new_weights.name
    _write_json(dst, doc)
    src.unlink()
    old_run = user_models_dir() / RUNS / check_name(old)
    if old_run.is_dir():
        os.replace(old_run, user_models_dir() / RUNS / dst.stem)
    return dst


def delete_model(name: str) -> None:
    """Delete user model ``name`` (JSON first, so a half-deleted model never loads) and its run."""
    path = _user_model(name)
    doc = json.loads(path.read_text(encoding="utf-8"))
    path.unlink()
    path.with_name(doc.get("weights", {}).get("file", path.stem + ".safetensors")).unlink(missing_ok=True)
    shutil.rmtree(user_models_dir() / RUNS / check_name(name), ignore_errors=True)


def _write_json(path: Path, doc: dict) -> None:
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")  # unique temp, fsync


def install_checkpoint(tensors, meta, out: Path) -> Path:
    """Write a checkpoint as ``out`` (JSON path) so that a crash at any point leaves either the
    previous model or the new one, never a broken one.

    The weights go to a file named after their checksum, the JSON replaces the old one in one
    rename (the moment the new model exists), and only then the old weights are removed.
    """
    from musicapp.ml.checkpoint import save_checkpoint

    out = Path(out)
    staging = out.parent / RUNS / ".install"
    staging.mkdir(parents=True, exist_ok=True)
    tmp_json = save_checkpoint(staging / out.stem, tensors, meta)
    doc = json.loads(tmp_json.read_text(encoding="utf-8"))
    old_weights = None
    if out.is_file():
        try:
            old_weights = json.loads(out.read_text(encoding="utf-8"))["weights"]["file"]
        except (OSError, ValueError, KeyError, TypeError):
            old_weights = None
    name = f"{out.stem}-{doc['weights']['sha256'][:10]}.safetensors"
    os.replace(staging / doc["weights"]["file"], out.parent / name)
    doc["weights"]["file"] = name
    _write_json(out, doc)
    tmp_json.unlink(missing_ok=True)
    if old_weights and old_weights != name and Path(old_weights).name == old_weights:
        (out.parent / old_weights).unlink(missing_ok=True)
    return out
