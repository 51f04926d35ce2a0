"""Checkpoints: bad files are refused with CheckpointError, never unpickled."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from musicapp.ml.checkpoint import CheckpointError, load_checkpoint
from musicapp.ml.generate import MelodyGenerator


def test_good_checkpoint_loads(tiny_checkpoint):
    meta, tensors = load_checkpoint(tiny_checkpoint, kind="lstm")
    assert meta.config["hidden"] == 24 and "head.weight" in tensors


def test_missing_checkpoint_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        MelodyGenerator(tmp_path / "nope.json").load()


def test_truncated_weights_are_refused(tiny_checkpoint):
    st = tiny_checkpoint.with_suffix(".safetensors")
    st.write_bytes(st.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated"):
        MelodyGenerator(tiny_checkpoint).load()


def test_tampered_json_is_refused(tiny_checkpoint):
    tiny_checkpoint.write_text(tiny_checkpoint.read_text()[:-20])
    with pytest.raises(CheckpointError, match="not valid JSON"):
        MelodyGenerator(tiny_checkpoint).load()


def test_replaced_weights_fail_the_checksum(tiny_checkpoint):
    st = tiny_checkpoint.with_suffix(".safetensors")
    data = bytearray(st.read_bytes())
    data[-1] ^= 0xFF
    st.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(tiny_checkpoint)


def test_mismatched_config_is_refused(tiny_checkpoint):
    doc = json.loads(tiny_checkpoint.read_text())
    doc["model"]["config"]["hidden"] = 32
    tiny_checkpoint.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="does not match the model config"):
        MelodyGenerator(tiny_checkpoint).load()


def test_other_model_kind_and_encoding_are_refused(tiny_checkpoint):
    with pytest.raises(CheckpointError, match="expected 'vae'"):
        load_checkpoint(tiny_checkpoint, kind="vae")
    doc = json.loads(tiny_checkpoint.read_text())
    doc["encoding"]["version"] = 99
    tiny_checkpoint.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="encoding"):
        MelodyGenerator(tiny_checkpoint).load()


class _Boom:
    def __reduce__(self):
        return (pytest.fail, ("a pickle was executed",))


def test_pickle_file_is_refused_without_unpickling(tiny_checkpoint):
    st = tiny_checkpoint.with_suffix(".safetensors")
    st.write_bytes(pickle.dumps({"w": _Boom()}))
    with pytest.raises(CheckpointError, match="pickle"):
        MelodyGenerator(tiny_checkpoint).load()
    torch.save({"w": torch.zeros(2)}, st)  # torch.save zip archive
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(tiny_checkpoint)


def test_saving_a_checkpoint_leaves_only_its_two_files(tiny_checkpoint):
    from musicapp.ml.checkpoint import save_checkpoint

    meta, tensors = load_checkpoint(tiny_checkpoint, kind="lstm")
    target = tiny_checkpoint.parent / "copy"
    before = set(tiny_checkpoint.parent.iterdir())
    save_checkpoint(target, tensors, meta)
    assert {p.name for p in set(tiny_checkpoint.parent.iterdir()) - before} == {"copy.json",
                                                                                "copy.safetensors"}
    assert load_checkpoint(target, kind="lstm")[1].keys() == tensors.keys()
