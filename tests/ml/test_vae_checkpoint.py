"""VAE training runs (curves, resume, export) and refusal of bad checkpoints."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import torch
from vae_helpers import PHRASE_A, TINY, tiny_checkpoint

from musicapp.ml.checkpoint import CheckpointError
from musicapp.ml.vae_generate import VaeService, load_vae


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("vae")
    out = tiny_checkpoint(root / "run", root / "vae_tiny", steps=4)
    return root, out


def test_training_writes_curves_and_resumes_from_its_last_checkpoint(trained, tmp_path):
    root, _ = trained
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    tiny_checkpoint(run, tmp_path / "again", steps=8)
    with open(run / "loss.csv", newline="") as f:
        steps = [int(float(r["step"])) for r in csv.DictReader(f)]
    assert steps == [2, 4, 6, 8]  # resumed at 4, did not start over
    assert (run / "loss.png").stat().st_size > 1000
    state = json.loads((run / "last.json").read_text())["extra"]["train_state"]
    assert state["step"] == 8


def test_exported_checkpoint_loads_lazily_and_generates(trained):
    _, out = trained
    svc = VaeService(out, device="cpu")
    assert not svc.loaded
    melodies = svc.vary(PHRASE_A, 0.5, 2, seed=0)
    assert svc.loaded and len(melodies) == 2
    model, metrics = load_vae(out)
    assert model.cfg == TINY and "valid_recon_acc" in metrics


def _copy(out, tmp_path):
    """A copy of checkpoint ``out`` in ``tmp_path`` (same names: the JSON names its weights)."""
    for suffix in (".json", ".safetensors"):
        shutil.copy(out.with_name(out.name + suffix), tmp_path / (out.name + suffix))
    return tmp_path / out.name


def _edit_json(path, fn):
    p = path.with_name(path.name + ".json")
    doc = json.loads(p.read_text())
    fn(doc)
    p.write_text(json.dumps(doc))


def test_missing_checkpoint_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        VaeService(tmp_path / "nothing").vary(PHRASE_A, 0.0, 1)


def test_truncated_weights_are_refused(trained, tmp_path):
    bad = _copy(trained[1], tmp_path)
    st = bad.with_name(bad.name + ".safetensors")
    st.write_bytes(st.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated"):
        load_vae(bad)


def test_tampered_weights_are_refused(trained, tmp_path):
    bad = _copy(trained[1], tmp_path)
    st = bad.with_name(bad.name + ".safetensors")
    data = bytearray(st.read_bytes())
    data[-7] ^= 0xFF
    st.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        load_vae(bad)


def test_config_that_does_not_match_the_weights_is_refused(trained, tmp_path):
    bad = _copy(trained[1], tmp_path)
    _edit_json(bad, lambda d: d["model"]["config"].update(dec_hidden=65))
    with pytest.raises(CheckpointError, match="does not match the model config"):
        load_vae(bad)


def test_unknown_config_field_and_wrong_kind_are_refused(trained, tmp_path):
    bad = _copy(trained[1], tmp_path)
    _edit_json(bad, lambda d: d["model"]["config"].update(layers=3))
    with pytest.raises(CheckpointError, match="unknown"):
        load_vae(bad)
    _edit_json(bad, lambda d: (d["model"]["config"].pop("layers"), d["model"].update(kind="lstm")))
    with pytest.raises(CheckpointError, match="'lstm'"):
        load_vae(bad)


def test_pickled_weights_are_never_loaded(trained, tmp_path):
    bad = _copy(trained[1], tmp_path)
    st = bad.with_name(bad.name + ".safetensors")
    torch.save({"x": torch.zeros(3)}, st)
    import hashlib

    _edit_json(bad, lambda d: d["weights"].update(bytes=st.stat().st_size,
                                                  sha256=hashlib.sha256(st.read_bytes()).hexdigest()))
    with pytest.raises(CheckpointError, match="pickle"):
        load_vae(bad)
