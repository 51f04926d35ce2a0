"""Hostile checkpoint JSON: checked before anything is allocated, one-line CheckpointError and
exit 1 for any size, type or nesting, and a weights file outside the folder refused by name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from musicapp.cli import main
from musicapp.paths import models_dir

SHIPPED_VAE = models_dir() / "vae_2bar"


def _copy(tmp_path: Path, name: str = "vae_2bar") -> Path:
    for ext in (".json", ".safetensors"):
        shutil.copy(models_dir() / f"{name}{ext}", tmp_path / f"{name}{ext}")
    return tmp_path / f"{name}.json"


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _sample_fails_in_one_line(ckpt: Path, tmp_path: Path, capsys, fragment: str) -> None:
    code = main(["sample", "--bars", "1", "--count", "1", "-o", str(tmp_path / "o.mid"),
                 "--checkpoint", str(ckpt), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and fragment in err, (code, err)
    assert not (tmp_path / "o.mid").exists()


@pytest.mark.parametrize("field, value, fragment", [
    ("latent", 0, "latent = 0 (must be an integer 1..4096)"),
    ("latent", -1, "latent = -1"),
    ("latent", "128", "latent = 128 (must be an integer"),
    ("latent", 128.0, "latent = 128.0"),
    ("latent", 1e6, "latent = 1000000.0"),
    ("latent", True, "latent = True"),
    ("dec_hidden", [256], "dec_hidden = [256]"),
    ("enc_hidden", None, "enc_hidden = None"),
])
def test_bad_config_values_give_the_one_line_checkpoint_error(tmp_path, capsys, field, value, fragment) -> None:
    ckpt = _copy(tmp_path)
    _edit(ckpt, lambda d: d["model"]["config"].__setitem__(field, value))
    _sample_fails_in_one_line(ckpt, tmp_path, capsys, fragment)


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.__setitem__("model", [1]), "'model' must be dict"),
    (lambda d: d["model"].__setitem__("config", "x"), "'config' must be dict"),
    (lambda d: d.__setitem__("encoding", 5), "'encoding' must be dict"),
    (lambda d: d["weights"].__setitem__("bytes", "12"), "'bytes' must be int"),
    (lambda d: d["weights"].__setitem__("file", "../vae_2bar.safetensors"),
     "names weights file '../vae_2bar.safetensors' outside its folder"),
    (lambda d: d["weights"].__setitem__("file", "/etc/passwd"), "names weights file '/etc/passwd' outside its folder"),
    (lambda d: d["weights"].__setitem__("file", ""), "names weights file '' outside its folder"),
    (lambda d: d.__setitem__("extra", [[[[[]]]]]), "'extra' must be dict"),
])
def test_bad_checkpoint_structure_is_refused_in_one_line(tmp_path, capsys, change, fragment) -> None:
    ckpt = _copy(tmp_path)
    _edit(ckpt, change)
    _sample_fails_in_one_line(ckpt, tmp_path, capsys, fragment)


def test_deeply_nested_json_is_the_checkpoint_error_not_a_crash(tmp_path, capsys) -> None:
    ckpt = _copy(tmp_path)
    ckpt.write_text('{"format": "musicapp-checkpoint", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _sample_fails_in_one_line(ckpt, tmp_path, capsys, "nested too deeply")


def test_an_oversized_checkpoint_json_is_not_read(tmp_path, capsys) -> None:
    ckpt = _copy(tmp_path)
    ckpt.write_text(" " * (5 * 1024 * 1024) + "{}")
    _sample_fails_in_one_line(ckpt, tmp_path, capsys, "file is too large")


@pytest.mark.parametrize("name, field, value", [("vae_2bar", "latent", 4096), ("vae_2bar", "dec_hidden", 4096),
                                                ("lstm", "hidden", 4096)])
def test_a_config_asking_for_gigabytes_is_refused_before_allocating(tmp_path, name, field, value) -> None:
    """The refusal comes from comparing shapes built on the meta device with the weights: the
    process never grows (9 GB / 1.9 GB before the fix)."""
    ckpt = _copy(tmp_path, name)
    _edit(ckpt, lambda d: d["model"]["config"].__setitem__(field, value))
    loader = ("from musicapp.ml.vae_generate import load_vae as load" if name.startswith("vae") else
              "from musicapp.ml.generate import MelodyGenerator\nload = lambda p: MelodyGenerator(p, device='cpu').load()")
    code = f"""
import resource, sys
from musicapp.core.errors import MusicappError
{loader}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load({str(ckpt)!r})
    print("loaded")
except MusicappError as err:
    print("refused:", err)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    lines = run.stdout.splitlines()
    assert run.returncode == 0 and lines[0].startswith("refused:") and "does not match the model config" in lines[0], run
    assert int(lines[1]) < 200_000  # KB grown while loading: the weights only, no model of that size
