"""Choosing the harmoniser's decoder weights on the validation split (never the test split).

Owns :func:`tune_weights` (a small grid over the decoder's terms, scored on labelled examples;
what ``train-harmony`` and ``benchmarks/tune_harmony.py`` run), :class:`CachedNet` (the network's
output per melody kept, so the grid re-runs only the decoder), and :func:`format_grid` (the
table the script prints).

The search, coordinate-wise (a full product is too slow on a shared 2-core machine), all at
half bars (the harmonic rhythm of "auto" in even meters): (1) rich style, ``transition`` 0
(per-segment argmax, no bigram table), 0.3, 0.6, 1.0 x ``melody`` (weight of the share of melody
on chord tones) 1, 2, 3 at the checkpoint's ``rich``; (2) ``rich`` 0 / 0.3 / 0.6 at the best of
(1); (3) ``in_key`` 0.3 / 0.8 for the simple style at the best of (2). "Best" = the highest
accuracy among rows whose melody-on-chord-tones is at least the true chords' (the highest
accuracy if no row is); ``in_key`` by the simple style's accuracy alone.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Callable

import torch

from musicapp.ml.harmony import DecoderWeights, Harmonizer
from musicapp.ml.harmony_eval import evaluate_scores

TRANSITIONS = (0.0, 0.3, 0.6, 1.0)
MELODY = (1.0, 2.0, 3.0)
IN_KEY = (0.3, 0.8)
RICH = (0.0, 0.3, 0.6)


class CachedNet(torch.nn.Module):
    """Wraps the harmony network: the output for a feature tensor seen before is reused
    (decoder weights do not change the network's input)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net
        self._memo: dict[bytes, torch.Tensor] = {}

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        key = feats.numpy().tobytes() + bytes(str(tuple(feats.shape)), "ascii")
        if key not in self._memo:
            self._memo[key] = self.net(feats)
        return self._memo[key]


def _runner(h: Harmonizer, w: DecoderWeights, style: str) -> Callable:
    from musicapp.core.song import Note

    def run(mel, song, key, per_bar):
        notes = [Note(int(a), int(p), int(max(b, 1))) for a, b, p in mel]
        return h.harmonize(notes, song, key=key, per_bar=per_bar, variations=1, style=style, weights=w)[0]

    return run


def tune_weights(harmonizer: Harmonizer, valid: list, per_bar: int = 2,
                 log: Callable[[str], None] = print) -> tuple[DecoderWeights, list[dict]]:
    """The chosen weights and every grid row (``style``, weights, ``accuracy``,
    ``melody_on_chord_tones``, ``true_on_tones``, ``reference``) on ``valid`` (see the module
    docstring for the grid and the rule)."""
    harmonizer._ensure()
    h = Harmonizer(harmonizer.path, net=CachedNet(harmonizer._net).eval(), transitions=harmonizer._trans,
                   weights=harmonizer.weights)
    rows: list[dict] = []

    def cell(style: str, w: DecoderWeights) -> dict:
        res = evaluate_scores(valid, _runner(h, w, style), per_bar)
        row = {"style": style, "weights": w, "accuracy": float(res["model"]["accuracy"]),
               "melody_on_chord_tones": float(res["model"]["melody_on_chord_tones"]),
               "true_on_tones": float(res["true chords"]["melody_on_chord_tones"]),
               "reference": float(res["reference"]["accuracy"])}
        rows.append(row)
        log(f"{style:6s} transition {w.transition:.1f} melody {w.melody:.1f} in_key {w.in_key:.1f} "
            f"rich {w.rich:.1f}: accuracy {row['accuracy']:.3f}, melody on chord tones "
            f"{row['melody_on_chord_tones']:.3f}")
        return row

    def rank(r: dict) -> tuple[int, float]:
        return int(r["melody_on_chord_tones"] >= r["true_on_tones"]), r["accuracy"]

    base = harmonizer.weights
    stage = [cell("rich", replace(base, transition=t, melody=m)) for t, m in itertools.product(TRANSITIONS, MELODY)]
    best = max(stage, key=rank)
    stage = [best] + [cell("rich", replace(best["weights"], rich=r)) for r in RICH if r != base.rich]
    best_rich = max(stage, key=rank)["weights"]
    simple = [cell("simple", replace(best_rich, in_key=k)) for k in IN_KEY]
    chosen = replace(best_rich, in_key=max(simple, key=lambda r: r["accuracy"])["weights"].in_key)
    log(f"decoder weights chosen on validation: {chosen}")
    return chosen, rows


def format_grid(rows: list[dict], chosen: DecoderWeights | None = None) -> str:
    """A Markdown table of the grid rows (the chosen setting of each style marked)."""
    lines = ["| style | transition | melody | in_key | rich | accuracy | melody on chord tones | |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        w = r["weights"]
        mark = ""
        if chosen is not None and (w.transition, w.melody) == (chosen.transition, chosen.melody) and (
                (r["style"] == "rich" and w.rich == chosen.rich) or (r["style"] == "simple" and w.in_key == chosen.in_key)):
            mark = "chosen"
        lines.append(f"| {r['style']} | {w.transition:.1f} | {w.melody:.1f} | "
                     f"{w.in_key:.1f}{'' if r['style'] == 'simple' else ' (unused)'} | "
                     f"{w.rich:.1f}{'' if r['style'] == 'rich' else ' (unused)'} | {r['accuracy']:.3f} | "
                     f"{r['melody_on_chord_tones']:.3f} | {mark} |")
    if rows:
        lines.append(f"\nreference accuracy {rows[0]['reference']:.3f}; true chords' melody on chord tones "
                     f"{rows[0]['true_on_tones']:.3f}")
    return "\n".join(lines)
