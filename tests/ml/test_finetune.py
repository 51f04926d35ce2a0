"""Fine-tuning on the user's files: it learns, installs a loadable model, cancels, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from musicapp.ml.finetune import FinetuneConfig, FinetuneError, finetune
from musicapp.ml.generate import MelodyGenerator
from musicapp.ml.user_melodies import read_user_melodies
from musicapp.ml.user_models import list_models, resolve_model, run_dir, user_model_path
from tests.ml.finetune_helpers import tiny_base, write_style_files

FAST = FinetuneConfig(minutes=5, max_steps=60, batch=8, seq_len=64, lr=1e-2, eval_every=10, corpus_share=0.0,
                      patience=100)


@pytest.fixture
def user_models(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICAPP_USER_MODELS", str(tmp_path / "user-models"))
    return tmp_path / "user-models"


def _run(tmp_path, name="mine", cfg=FAST, **kw):
    data = read_user_melodies([write_style_files(tmp_path / "files")])
    base = tiny_base(tmp_path / "base")
    return finetune(data, base, user_model_path(name), run_dir(name), cfg, **kw)


def test_tiny_finetune_lowers_held_out_loss_and_installs_a_loadable_model(tmp_path, user_models):
    res = _run(tmp_path)
    assert res.stopped == "steps" and res.steps == 60
    assert res.nats_per_note < 0.7 * res.base_nats_per_note
    gen = MelodyGenerator(res.model)
    out = gen.continue_melody([], bars=2, random_seed=1)
    assert out and gen.meta.metrics["user_valid_nats_per_note"] == pytest.approx(res.nats_per_note, rel=1e-3)
    assert gen.meta.training["finetune"]["melodies"] == 8


def test_new_model_is_listed_and_selected_by_name_in_the_cli(tmp_path, user_models, capsys):
    from musicapp.cli import main
    from tests.ml.finetune_helpers import style_song
    from musicapp.core.midifile import write_midi

    res = _run(tmp_path, name="my style")
    mine = [m for m in list_models("lstm") if not m.shipped]
    assert [m.name for m in mine] == ["my style"] and resolve_model("my style", "lstm") == res.model
    seed = tmp_path / "seed.mid"
    write_midi(style_song(0, bars=2), seed)
    assert main(["score", str(seed), "--model", "my style", "--json"]) == 0
    tuned = json.loads(capsys.readouterr().out)["overall"]["nats_per_note"]
    assert main(["score", str(seed), "--model", str(tmp_path / "base.json"), "--json"]) == 0
    assert tuned < json.loads(capsys.readouterr().out)["overall"]["nats_per_note"]
    assert main(["continue", str(seed), "-o", str(tmp_path / "out.mid"), "--model", "my style"]) == 0
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "my style [lstm]" in listing and "fine-tuned from base on 8 melodies" in listing
    assert main(["score", str(seed), "--model", "nobody"]) == 1
    assert "no model named 'nobody'" in capsys.readouterr().err
    write_midi(style_song(0, bars=4), tmp_path / "four.mid")
    assert main(["infill", str(tmp_path / "four.mid"), "-o", str(tmp_path / "i.mid"), "--bars", "2-2",
                 "--model", "my style"]) == 1
    assert "holds a 'lstm' model" in capsys.readouterr().err  # found by name; the infill kind is checked


def test_cancel_keeps_the_best_model_so_far_and_the_next_run_resumes(tmp_path, user_models):
    steps = {"n": 0}

    def cancel() -> bool:
        steps["n"] += 1
        return steps["n"] > 25

    res = _run(tmp_path, cancel=cancel)
    assert res.stopped == "cancelled" and res.steps == 25
    assert res.nats_per_note < res.base_nats_per_note  # the best of the evaluations so far
    MelodyGenerator(res.model).load()
    logs: list[str] = []
    again = _run(tmp_path, log=logs.append)
    assert any("resumed" in line and "step 25" in line for line in logs)
    assert again.stopped == "steps" and again.steps == 60


def test_killed_training_process_resumes_and_leaves_the_previous_model_intact(tmp_path, user_models):
    first = _run(tmp_path, name="style")  # a finished model of that name exists already
    before = first.model.read_bytes()
    files = str(tmp_path / "files")
    job = {"paths": [files], "name": "style", "base": str(tmp_path / "base.json"), "minutes": 30,
           "config": {"max_steps": 100000, "batch": 8, "seq_len": 64, "eval_every": 5, "corpus_share": 0.0,
                      "patience": 1000}}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "MUSICAPP_FINETUNE_NICE": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "musicapp.ml.finetune_worker", "train", json.dumps(job)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        evals = 0
        for line in proc.stdout:
            e = json.loads(line)
            assert e["event"] != "error", e
            evals += e["event"] == "eval" and e["step"] > 0
            if evals >= 2:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert first.model.read_bytes() == before  # the killed run never touched the installed model
    MelodyGenerator(first.model).load()
    last = json.loads((run_dir("style") / "last.json").read_text())
    killed_at = last["extra"]["train_state"]["step"]
    assert killed_at >= 10
    logs: list[str] = []
    data = read_user_melodies([files])
    cfg = FinetuneConfig(minutes=30, max_steps=killed_at + 10, batch=8, seq_len=64, eval_every=5,
                         corpus_share=0.0, patience=1000)
    res = finetune(data, tmp_path / "base.json", user_model_path("style"), run_dir("style"), cfg, log=logs.append)
    assert any(f"at step {killed_at}" in line for line in logs)
    assert res.steps == killed_at + 10
    assert first.model.read_bytes() != before
    MelodyGenerator(res.model).load()


def test_a_full_disk_keeps_the_previous_model(tmp_path, user_models, monkeypatch):
    first = _run(tmp_path, name="style")
    before = first.model.read_bytes()
    import musicapp.ml.user_models as um

    def full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(um, "install_checkpoint", full)
    with pytest.raises(FinetuneError, match="No space left on device.*previous models are unchanged"):
        _run(tmp_path, name="style", cfg=FinetuneConfig(**{**FAST.__dict__, "resume": False, "max_steps": 5}))
    assert first.model.read_bytes() == before
    MelodyGenerator(first.model).load()


def test_the_melody_vae_is_fine_tuned_too_and_varies_with_the_new_model(tmp_path, user_models, capsys):
    from dataclasses import asdict

    import torch

    from musicapp.cli import main
    from musicapp.core.midifile import write_midi
    from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
    from musicapp.ml.encoding import EncodingInfo
    from musicapp.ml.vae import MelodyVae, VaeConfig
    from tests.ml.finetune_helpers import style_song

    torch.manual_seed(0)
    cfg = VaeConfig(token_dim=8, pos_dim=4, enc_hidden=16, latent=8, dec_hidden=24)
    base = save_checkpoint(tmp_path / "vae", MelodyVae(cfg).state_dict(),
                           CheckpointMeta("vae", cfg.to_dict(), asdict(EncodingInfo())))
    data = read_user_melodies([write_style_files(tmp_path / "files")])
    res = finetune(data, base, user_model_path("my vae"), run_dir("my vae"), FAST)
    assert res.nats_per_note < 0.7 * res.base_nats_per_note
    assert [m.name for m in list_models("vae") if not m.shipped] == ["my vae"]
    write_midi(style_song(0, bars=2), tmp_path / "phrase.mid")
    assert main(["vary", str(tmp_path / "phrase.mid"), "-o", str(tmp_path / "v.mid"), "--model", "my vae",
                 "--variations", "2", "--device", "cpu"]) == 0
    assert main(["continue", str(tmp_path / "phrase.mid"), "-o", str(tmp_path / "c.mid"), "--model", "my vae"]) == 1
    assert "holds a 'vae' model, expected 'lstm'" in capsys.readouterr().err


def test_the_infill_model_is_fine_tuned_and_chosen_by_name(tmp_path, user_models, capsys):
    from musicapp.cli import main
    from musicapp.core.midifile import write_midi
    from tests.ml.finetune_helpers import style_song
    from tests.ml.infill_helpers import save_tiny_infill

    base = save_tiny_infill(tmp_path / "infill.json")
    data = read_user_melodies([write_style_files(tmp_path / "files")])
    res = finetune(data, base, user_model_path("my infill"), run_dir("my infill"), FAST)
    assert res.nats_per_note < 0.8 * res.base_nats_per_note
    assert [m.name for m in list_models("infill") if not m.shipped] == ["my infill"]
    write_midi(style_song(0, bars=4), tmp_path / "four.mid")
    assert main(["infill", str(tmp_path / "four.mid"), "-o", str(tmp_path / "i.mid"), "--bars", "2-2",
                 "--model", "my infill"]) == 0, capsys.readouterr().err
