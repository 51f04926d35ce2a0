"""Training the harmoniser: labelled examples from cached scores, transition counts, the loop, export.

Owns :func:`piece_examples` (one cached score -> the soprano's unit features and the "true"
chord of every unit at each granularity), :func:`transition_table` (key-relative chord bigrams
per mode and granularity, the decoder's transition scores), :class:`HarmonyTrainConfig` and
:func:`train` (time-budgeted, resumable from ``RUN_DIR/last``, best-on-validation kept), and
:func:`export` (the shipped ``models/harmony.*`` checkpoint with its decoder table and weights).

The true chord of a segment is the template match (``core.chord_detect.template_scores``,
qualities ``QUALS``) of *all* parts sounding in it, with the score's key: the score chordified
and labelled. The model sees only the top part.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from musicapp.core.chord_detect import segment_bounds, segment_chroma, template_scores
from musicapp.core.scales import detect_key
from musicapp.core.song import Key, Note, Song, TimeSignature
from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
from musicapp.ml.harmony_data import Score, chunks, load_scores, split_of_score
from musicapp.ml.harmony_model import (ENCODING, GRANULARITIES, KIND, N_CLASSES, QUALS, HarmonyConfig,
                                       HarmonyNet, UnitGrid, unit_features, unit_grid)
from musicapp.ml.training import (LossLog, Progress, TrainState, hardware_description, limit_threads,
                                  load_training_checkpoint, model_tensors, numpy_rng, save_training_checkpoint)


def meter_of(beat_ticks: int, bar_ticks: int, ppq: int = 480) -> TimeSignature:
    """The time signature with this beat and bar length (720-tick beats are compound: x/8)."""
    if beat_ticks % 3 == 0 and (beat_ticks // 3) * 2 == ppq:  # dotted quarter beat
        return TimeSignature(0, bar_ticks // (ppq // 2), 8)
    den = max(1, 4 * ppq // beat_ticks)
    return TimeSignature(0, max(1, bar_ticks // beat_ticks), den)


@dataclass
class Example:
    """One piece ready for training: per (granularity, key variant) features ``(U, F)`` and
    labels ``(U,)`` (class index, -1 where the texture is silent), and segment label runs."""

    name: str
    minor: bool
    feats: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    labels: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    seg_labels: dict[int, np.ndarray] = field(default_factory=dict)  # score key, per granularity
    grid: UnitGrid | None = None
    song: Song | None = None
    melody: np.ndarray | None = None
    key: Key | None = None


def score_song(score: Score) -> tuple[Song, np.ndarray]:
    """The meter as a Song and the score's notes shifted so the first full bar starts on a bar line."""
    bar = score.bar_ticks
    shift = (bar - score.anchor % bar) % bar
    notes = score.notes.astype(np.int64).copy()
    notes[:, 0] += shift
    return Song(meters=(meter_of(score.beat_ticks, bar),)), notes


#: extra cost of a four-note label per granularity (chords per bar): a bar of a chorale holds
#: several chords, and their union would otherwise read as a seventh chord.
SEVENTH_COST = {1: 0.12, 2: 0.06, 4: 0.0}


def segment_labels(notes: np.ndarray, song: Song, end: int, per_bar: int, key: Key) -> np.ndarray:
    """Absolute chord class of each segment ``(S,)`` from all ``notes`` (-1 where silent)."""
    bounds = segment_bounds(song, end, per_bar)
    chroma, lowest = segment_chroma(notes[:, :3], bounds)
    scores = template_scores(chroma, lowest, key, QUALS, seventh_cost=SEVENTH_COST[per_bar])
    lab = scores.argmax(axis=1)
    lab[chroma.sum(axis=1) <= 0] = -1
    return lab


def relative(labels: np.ndarray, tonic: int) -> np.ndarray:
    """Absolute class indices -> key-relative ones (root - tonic), -1 kept."""
    q, r = labels // 12, labels % 12
    return np.where(labels < 0, -1, q * 12 + (r - tonic) % 12)


def piece_examples(score: Score) -> Example | None:
    """Features and labels of one score at every granularity, for the score's key (variant 0)
    and for the key ``detect_key`` finds in the melody alone (variant 1, as at inference)."""
    song, notes = score_song(score)
    melody = notes[notes[:, 3] == 1, :3]
    if len(melody) < 8:
        return None
    end = int((notes[:, 0] + notes[:, 1]).max())
    grid = unit_grid(song, end)
    score_key = Key(score.key_tonic, "minor" if score.key_mode else "major")
    mel_key = detect_key([Note(int(a), int(p), int(max(b, 1))) for a, b, p in melody])
    ex = Example(score.name, bool(score.key_mode), grid=grid, song=song, melody=melody, key=score_key)
    for g in GRANULARITIES:
        seg = grid.segments(song, g)
        lab = segment_labels(notes, song, end, g, score_key)
        ex.seg_labels[g] = relative(lab, score_key.tonic)
        for v, k in enumerate((score_key, mel_key)):
            minor = k.mode == "minor"
            ex.feats[(g, v)] = unit_features(melody, grid, k.tonic, minor, seg, g)
            ex.labels[(g, v)] = relative(lab, k.tonic)[np.clip(seg, 0, len(lab) - 1)]
    return ex


def build_examples(scores: list[Score], log: Callable[[str], None] = print) -> dict[str, list[Example]]:
    """Examples grouped by split (``split_of_score`` of the whole score); a long score gives one
    example per chunk of at most ``CHUNK_BARS`` bars (``harmony_data.chunks``)."""
    out: dict[str, list[Example]] = {"train": [], "valid": [], "test": []}
    parents: dict[str, set[str]] = {k: set() for k in out}
    for s in scores:
        for part in chunks(s):
            ex = piece_examples(part)
            if ex is not None:
                out[split_of_score(part)].append(ex)
                parents[split_of_score(part)].add(s.name)
    log("examples (scores): " + ", ".join(f"{k} {len(v)} ({len(parents[k])})" for k, v in out.items()))
    return out


def corpora_of(examples: list[Example]) -> list[str]:
    """The music21 corpus folders the examples come from, sorted."""
    return sorted({ex.name.split("/", 1)[0] for ex in examples})


def transition_table(examples: list[Example], smoothing: float = 0.2) -> np.ndarray:
    """Log P(next class | class) ``(2 modes, len(GRANULARITIES), C, C)`` from segment label runs
    (a repeated chord counts as a transition to itself); add-``smoothing`` counts."""
    counts = np.full((2, len(GRANULARITIES), N_CLASSES, N_CLASSES), smoothing, dtype=np.float64)
    for ex in examples:
        for gi, g in enumerate(GRANULARITIES):
            lab = ex.seg_labels[g]
            a, b = lab[:-1], lab[1:]
            ok = (a >= 0) & (b >= 0)
            np.add.at(counts[int(ex.minor), gi], (a[ok], b[ok]), 1.0)
    return np.log(counts / counts.sum(axis=-1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class HarmonyTrainConfig:
    """How to train. ``minutes`` of wall clock; ``crop`` units per training window."""

    run_dir: str = "runs/harmony"
    minutes: float = 20.0
    max_steps: int = 1_000_000
    batch: int = 16
    crop: int = 128
    lr: float = 2e-3
    min_lr_ratio: float = 0.05
    weight_decay: float = 1e-4
    clip: float = 1.0
    eval_every: int = 100
    seed: int = 0
    threads: int = 1
    resume: bool = True


def sample_batch(examples: list[Example], rng: np.random.Generator, batch: int, crop: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows: features ``(B, L, F)`` and labels ``(B, L)`` (-1 = ignore / padding)."""
    xs, ys = [], []
    for _ in range(batch):
        ex = examples[int(rng.integers(len(examples)))]
        g = GRANULARITIES[int(rng.choice(len(GRANULARITIES), p=[0.35, 0.45, 0.2]))]
        v = int(rng.integers(2))
        x, y = ex.feats[(g, v)], ex.labels[(g, v)]
        if len(x) > crop:
            starts = np.flatnonzero(ex.grid.pos[: len(x) - crop + 1] == 0)
            s = int(starts[rng.integers(len(starts))]) if len(starts) else 0
            x, y = x[s:s + crop], y[s:s + crop]
        xs.append(x)
        ys.append(y)
    n = max(len(x) for x in xs)
    fx = np.zeros((batch, n, xs[0].shape[1]), dtype=np.float32)
    fy = np.full((batch, n), -1, dtype=np.int64)
    for i, (x, y) in enumerate(zip(xs, ys)):
        fx[i, :len(x)], fy[i, :len(y)] = x, y
    return torch.from_numpy(fx), torch.from_numpy(fy)


@torch.no_grad()
def valid_loss(model: HarmonyNet, examples: list[Example]) -> float:
    """Mean cross-entropy (nats per labelled unit) over every example, granularity 2, score key."""
    model.eval()
    total, count = 0.0, 0
    for ex in examples:
        x, y = ex.feats[(2, 0)], ex.labels[(2, 0)]
        logits = model(torch.from_numpy(x)[None])[0]
        yt = torch.from_numpy(y)
        total += float(F.cross_entropy(logits, yt, ignore_index=-1, reduction="sum"))
        count += int((yt >= 0).sum())
    model.train()
    return total / max(count, 1)


def _meta(model_cfg: HarmonyConfig, cfg: HarmonyTrainConfig, splits: dict, state: TrainState,
          valid: float | None, decoder: dict | None = None) -> CheckpointMeta:
    training = {
        "corpora": corpora_of([ex for v in splits.values() for ex in v]),
        "labels": "template match of all parts per segment (score chordified), qualities " + ",".join(QUALS),
        "split": "content hash of the whole score's top line 80/10/10 (musicapp.ml.harmony_data.split_of_score); "
                 "scores longer than 64 bars cut into chunks in the same split",
        "pieces": {k: len(v) for k, v in splits.items()},
        "units": {k: int(sum(len(ex.grid.pos) for ex in v)) for k, v in splits.items()},
        "optimizer_steps": state.step, "seconds": round(state.seconds, 1),
        "hardware": hardware_description(torch.device("cpu")), "train_config": asdict(cfg),
    }
    return CheckpointMeta(kind=KIND, config=asdict(model_cfg), encoding=dict(ENCODING), training=training,
                          metrics={} if valid is None else {"valid_nats_per_unit": round(valid, 5)},
                          extra={} if decoder is None else {"decoder": decoder})


def train(cfg: HarmonyTrainConfig, model_cfg: HarmonyConfig = HarmonyConfig(),
          splits: dict[str, list[Example]] | None = None, log: Callable[[str], None] = print,
          progress: bool = False) -> Path:
    """Train, resuming from ``run_dir/last`` when present; returns ``run_dir/best.json``."""
    limit_threads(cfg.threads)
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    splits = splits if splits is not None else build_examples(load_scores(), log)
    train_ex = splits["train"]
    valid_ex = splits["valid"] or train_ex
    torch.manual_seed(cfg.seed)
    model = HarmonyNet(model_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = TrainState()
    last = run / "last.json"
    if cfg.resume and last.exists():
        _, state = load_training_checkpoint(last, model, opt, kind=KIND, encoding=ENCODING)
        log(f"resumed from {last} at step {state.step} ({state.seconds / 60:.1f} min)")
    rng = numpy_rng(state.numpy_rng, cfg.seed)
    losses = LossLog(run / "loss.csv", run / "loss.png")
    losses.truncate_after(state.step)
    budget = cfg.minutes * 60.0
    log(f"training {sum(p.numel() for p in model.parameters()):,} parameters; {len(train_ex)} pieces, "
        f"budget {cfg.minutes} min")
    bar = Progress(total=cfg.max_steps, initial=state.step, desc="harmony", enabled=progress)
    running, t_last = None, time.monotonic()
    model.train()
    while state.step < cfg.max_steps and state.seconds < budget:
        frac = min(1.0, state.seconds / budget)
        lr = cfg.lr * min(1.0, (state.step + 1) / 50) * (
            cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = sample_batch(train_ex, rng, cfg.batch, cfg.crop)
        loss = F.cross_entropy(model(x).reshape(-1, N_CLASSES), y.reshape(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        now = time.monotonic()
        state.seconds += now - t_last
        t_last = now
        state.step += 1
        value = float(loss.detach())
        running = value if running is None else 0.95 * running + 0.05 * value
        bar.update(1, loss=running)
        done = state.step >= cfg.max_steps or state.seconds >= budget
        if state.step % cfg.eval_every == 0 or done:
            valid = valid_loss(model, valid_ex)
            losses.append(step=state.step, epoch=state.epoch, seconds=state.seconds, train_loss=running,
                          valid_loss=valid, lr=lr)
            log(f"step {state.step} ({state.seconds / 60:.1f} min): train {running:.4f} valid {valid:.4f}")
            state.numpy_rng = rng.bit_generator.state
            if valid < state.best_valid:
                state.best_valid = valid
                save_checkpoint(run / "best", model.state_dict(), _meta(model_cfg, cfg, splits, state, valid))
            save_training_checkpoint(run / "last", model, opt, _meta(model_cfg, cfg, splits, state, valid), state)
            t_last = time.monotonic()
    bar.close()
    try:
        losses.plot(title=f"harmoniser BiGRU {model_cfg.layers}x{model_cfg.hidden}")
    except Exception:  # matplotlib missing or broken: the CSV is what counts
        pass
    log(f"done: step {state.step}, {state.seconds / 60:.1f} min, best valid {state.best_valid:.4f}")
    return run / "best.json"


def export(best: str | Path, out: str | Path, transitions: np.ndarray, decoder: dict,
           metrics: dict | None = None, ensemble: torch.nn.Module | None = None,
           member_metas: Sequence[CheckpointMeta] = ()) -> Path:
    """Write the shipped checkpoint: the best network weights (``net.*``), the transition
    table (``transitions``) and the decoder weights in ``extra.decoder``. With ``ensemble``
    (a ``HarmonyEnsemble``) its weights are shipped instead (``net.members.I.*``, config
    ``members``), the training record being ``best``'s plus each member's steps, seed and
    validation loss (``member_metas``: the metadata of their best checkpoints)."""
    meta, tensors = model_tensors(best, kind=KIND, encoding=ENCODING)
    if ensemble is not None:
        tensors = {k: v.detach().clone() for k, v in ensemble.state_dict().items()}
        meta.config = asdict(ensemble.cfg)
        runs = [{"optimizer_steps": m.training.get("optimizer_steps"), "seconds": m.training.get("seconds"),
                 "seed": m.training.get("train_config", {}).get("seed"),
                 "valid_nats_per_unit": m.metrics.get("valid_nats_per_unit")} for m in member_metas]
        meta.training = {**meta.training, "members": runs}
        meta.metrics = {k: v for k, v in meta.metrics.items() if k != "valid_nats_per_unit"}
    out_tensors = {f"net.{k}": v for k, v in tensors.items()}
    out_tensors["transitions"] = torch.from_numpy(np.ascontiguousarray(transitions))
    meta.extra = {"decoder": dict(decoder)}
    if metrics:
        meta.metrics = {**meta.metrics, **metrics}
    return save_checkpoint(out, out_tensors, meta)
