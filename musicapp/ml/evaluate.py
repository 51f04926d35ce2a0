"""Evaluation of the melody LSTM on the held-out split, against a Kneser-Ney 5-gram baseline.

Owns :func:`run_eval` (what ``musicapp eval`` runs): nats per note and next-step accuracy
of the LSTM and of :class:`musicapp.ml.kn.KneserNey` (order 5, bar position in context,
fitted on the train split), plus musical statistics of 4-bar continuations of test seeds
(the first 4 bars of a tune) compared with the true next 4 bars: in-key ratio, pitch-class
and note-length histogram overlap, pitch range and note density. The table can be written
into the model card between ``<!-- eval:start -->`` and ``<!-- eval:end -->``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from musicapp.core.atomic import atomic_write_text
from musicapp.core.song import Key, Note
from musicapp.ml.encoding import NUM_CLASSES, PITCH_OFFSET, TICKS_PER_STEP, decode_notes

CARD_START, CARD_END = "<!-- eval:start -->", "<!-- eval:end -->"
LENGTH_BINS = (1, 2, 3, 4, 6, 8, 12, 16)


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate: checkpoint (None = shipped), split, number of continuation seeds."""

    checkpoint: str | None = None
    split: str = "test"
    seeds: int = 200
    bars: int = 4
    temperature: float = 1.0
    top_p: float = 0.95
    card: str | None = None
    update_metrics: bool = False
    threads: int = 2
    random_seed: int = 0


def _is_note(tokens: np.ndarray) -> np.ndarray:
    return (tokens >= PITCH_OFFSET) & (tokens < NUM_CLASSES)


def lstm_figures(model, tunes, hide_key: bool = False) -> dict[str, float]:
    """Nats/note, nats/step and next-step accuracy of ``model`` over whole tunes."""
    from musicapp.ml.dataset import UNKNOWN_KEY, UNKNOWN_MODE
    from musicapp.ml.lstm import melody_logits

    nats, steps, notes, correct = 0.0, 0, 0, 0
    with torch.inference_mode():
        for t in tunes:
            m = t.melody
            toks = torch.from_numpy(m.tokens)
            key = UNKNOWN_KEY if hide_key else t.key
            mode = UNKNOWN_MODE if hide_key else t.mode
            logits = melody_logits(model, m.tokens, m.pos, m.bar_len, key, mode)
            nats += float(torch.nn.functional.cross_entropy(logits, toks, reduction="sum"))
            correct += int((logits.argmax(-1) == toks).sum())
            steps += len(m)
            notes += int(_is_note(m.tokens).sum())
    return {"nats_per_note": nats / notes, "nats_per_step": nats / steps, "accuracy": correct / steps,
            "notes": notes, "steps": steps}


def kn_figures(kn, tunes) -> dict[str, float]:
    """The same figures for the n-gram baseline."""
    nats, steps, notes, correct = 0.0, 0, 0, 0
    for t in tunes:
        m = t.melody
        nats -= float(kn.log_probs(m).sum())
        correct += int((kn.distribution(m).argmax(1) == m.tokens).sum())
        steps += len(m)
        notes += int(_is_note(m.tokens).sum())
    return {"nats_per_note": nats / notes, "nats_per_step": nats / steps, "accuracy": correct / steps,
            "notes": notes, "steps": steps}


def histogram_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Histogram intersection of two count vectors after normalising each to sum 1."""
    if a.sum() == 0 or b.sum() == 0:
        return 0.0
    return float(np.minimum(a / a.sum(), b / b.sum()).sum())


def _length_bin(steps: int) -> int:
    for i, b in enumerate(LENGTH_BINS):
        if steps <= b:
            return i
    return len(LENGTH_BINS)


class MelodyStats:
    """Accumulates pitch classes, lengths, ranges and in-key counts of melodies."""

    def __init__(self) -> None:
        self.pc = np.zeros(12)
        self.lengths = np.zeros(len(LENGTH_BINS) + 1)
        self.ranges: list[int] = []
        self.in_key = 0
        self.notes = 0
        self.melodies = 0

    def add(self, notes: list[Note], scale: frozenset[int]) -> None:
        self.melodies += 1
        for n in notes:
            self.pc[n.pitch % 12] += 1
            self.lengths[_length_bin(max(1, n.length // TICKS_PER_STEP))] += 1
            self.in_key += n.pitch % 12 in scale
        self.notes += len(notes)
        if notes:
            self.ranges.append(max(n.pitch for n in notes) - min(n.pitch for n in notes))


def continuation_stats(generator, tunes, cfg: EvalConfig) -> dict[str, float]:
    """Statistics of continuations of the first 4 bars of tunes (key given, no scale mask) vs the truth.

    In-key ratio uses the tune's key (else the key detected in the seed); overlaps are
    histogram intersections (1 = identical distributions).
    """
    from musicapp.core.scales import detect_key, scale_pitch_classes
    from musicapp.ml.encoding import tokens_to_steps

    gen, truth = MelodyStats(), MelodyStats()
    rng = np.random.default_rng(cfg.random_seed)
    usable = [t for t in tunes if _bar_lines(t.melody.pos)[8:9].size]
    pick = rng.permutation(len(usable))[:cfg.seeds]
    for i in sorted(pick):
        t = usable[i]
        lines = _bar_lines(t.melody.pos)
        cut, stop = int(lines[4]), int(lines[8])  # seed = bars 0-3 (incl. pickup), truth = next 4
        seed = decode_notes(t.melody.tokens[:cut])
        true = [Note(on * TICKS_PER_STEP, p, ln * TICKS_PER_STEP) for on, ln, p in
                tokens_to_steps(t.melody.tokens[cut:stop])]
        blen = int(t.melody.bar_len[cut])
        meters = _meter_for(blen)
        key = Key(t.key, "minor" if t.mode == 1 else "major") if t.key < 12 else detect_key(seed, default=Key(0))
        scale = scale_pitch_classes(key)
        cand = generator.continue_melody(seed, bars=cfg.bars, variations=1, temperature=cfg.temperature,
                                         top_p=cfg.top_p, key=key, scale_mask=False, random_seed=int(i),
                                         meters=meters, start_tick=cut * TICKS_PER_STEP)[0]
        gen.add(cand, scale)
        truth.add(true, scale)
    return {
        "seeds": len(pick),
        "in_key_generated": gen.in_key / max(1, gen.notes),
        "in_key_true": truth.in_key / max(1, truth.notes),
        "pitch_class_overlap": histogram_overlap(gen.pc, truth.pc),
        "length_overlap": histogram_overlap(gen.lengths, truth.lengths),
        "range_generated": float(np.mean(gen.ranges)) if gen.ranges else 0.0,
        "range_true": float(np.mean(truth.ranges)) if truth.ranges else 0.0,
        "notes_per_bar_generated": gen.notes / max(1, gen.melodies * cfg.bars),
        "notes_per_bar_true": truth.notes / max(1, truth.melodies * cfg.bars),
    }


def _bar_lines(pos: np.ndarray) -> np.ndarray:
    return np.flatnonzero(pos == 0)


def _meter_for(bar_steps: int):
    """A one-meter map whose bar is ``bar_steps`` 16ths (x/4 when it divides, else x/8 or x/16)."""
    from musicapp.core.song import TimeSignature

    if bar_steps % 4 == 0:
        return (TimeSignature(0, bar_steps // 4, 4),)
    if bar_steps % 2 == 0:
        return (TimeSignature(0, bar_steps // 2, 8),)
    return (TimeSignature(0, bar_steps, 16),)


def format_table(fig: dict) -> str:
    """The model-card markdown for ``run_eval``'s figures."""
    l, k, c = fig["lstm"], fig["kn5"], fig["continuations"]
    lines = [
        f"Split: `{fig['split']}` ({l['notes']} notes, {l['steps']} 16th steps, {fig['tunes']} tunes); "
        f"checkpoint `{fig['checkpoint']}`.",
        "",
        "| model | nats/note | nats/step | next-step accuracy |",
        "|---|---|---|---|",
        f"| LSTM | {l['nats_per_note']:.3f} | {l['nats_per_step']:.4f} | {l['accuracy']:.3f} |",
        f"| LSTM, key hidden | {fig['lstm_no_key']['nats_per_note']:.3f} | {fig['lstm_no_key']['nats_per_step']:.4f} "
        f"| {fig['lstm_no_key']['accuracy']:.3f} |",
        f"| Kneser-Ney 5-gram (+ bar position) | {k['nats_per_note']:.3f} | {k['nats_per_step']:.4f} "
        f"| {k['accuracy']:.3f} |",
        "",
        f"LSTM / 5-gram nats-per-note ratio: **{fig['ratio']:.3f}** "
        f"(key hidden: {fig['ratio_no_key']:.3f}).",
        "",
        f"4-bar continuations of {c['seeds']} {fig['split']} seeds (first 4 bars; T={fig['temperature']}, "
        f"top-p={fig['top_p']}, no scale mask) vs the true next 4 bars:",
        "",
        "| statistic | generated | true |",
        "|---|---|---|",
        f"| in-key ratio | {c['in_key_generated']:.3f} | {c['in_key_true']:.3f} |",
        f"| mean pitch range (semitones) | {c['range_generated']:.1f} | {c['range_true']:.1f} |",
        f"| notes per bar | {c['notes_per_bar_generated']:.2f} | {c['notes_per_bar_true']:.2f} |",
        f"| pitch-class histogram overlap | {c['pitch_class_overlap']:.3f} | 1 |",
        f"| note-length histogram overlap | {c['length_overlap']:.3f} | 1 |",
    ]
    return "\n".join(lines)


def write_card(card: Path, table: str, start: str = CARD_START, end: str = CARD_END,
               heading: str | None = "## Evaluation") -> None:
    """Replace the text between the ``start``/``end`` markers of ``card``.

    Without the markers, appends them with ``table`` (under ``heading`` unless it is None).
    """
    text = card.read_text(encoding="utf-8") if card.exists() else ""
    block = f"{start}\n{table}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        title = f"{heading}\n\n" if heading is not None else ""
        text = text.rstrip() + f"\n\n{title}{block}\n"
    atomic_write_text(card, text)


def run_eval(cfg: EvalConfig, log=print) -> dict:
    """Evaluate, print the table, optionally write it to the card and the checkpoint metrics."""
    from musicapp.ml.dataset import encoded_splits
    from musicapp.ml.generate import MelodyGenerator
    from musicapp.ml.kn import KneserNey
    from musicapp.ml.training import limit_threads

    limit_threads(cfg.threads)
    t0 = time.monotonic()
    generator = MelodyGenerator(cfg.checkpoint)
    generator.load()
    model = generator._ready()[0]
    splits = encoded_splits()
    tunes = splits[cfg.split]
    lstm = lstm_figures(model, tunes)
    lstm_nk = lstm_figures(model, tunes, hide_key=True)
    kn = KneserNey(5).fit([t.melody for t in splits["train"]])
    knf = kn_figures(kn, tunes)
    cont = continuation_stats(generator, tunes, cfg)
    fig = {"split": cfg.split, "tunes": len(tunes), "checkpoint": str(generator.checkpoint.name),
           "lstm": lstm, "lstm_no_key": lstm_nk, "kn5": knf, "continuations": cont,
           "ratio": lstm["nats_per_note"] / knf["nats_per_note"],
           "ratio_no_key": lstm_nk["nats_per_note"] / knf["nats_per_note"],
           "temperature": cfg.temperature, "top_p": cfg.top_p, "seconds": round(time.monotonic() - t0, 1)}
    table = format_table(fig)
    log(table)
    if cfg.card:
        write_card(Path(cfg.card), table)
    if cfg.update_metrics:
        _store_metrics(generator.checkpoint, fig)
    return fig


def _store_metrics(checkpoint: Path, fig: dict) -> None:
    """Record the figures in the checkpoint JSON (the weights and their checksum are unchanged)."""
    from musicapp.ml.checkpoint import checkpoint_paths

    json_path, _ = checkpoint_paths(checkpoint)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    doc["metrics"] = {**doc.get("metrics", {}), "eval": {k: v for k, v in fig.items() if k != "checkpoint"}}
    atomic_write_text(json_path, json.dumps(doc, indent=2, sort_keys=True) + "\n")
