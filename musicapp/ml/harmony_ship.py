"""The harmoniser's whole recipe: train, tune the decoder on validation, evaluate, ship, card.

Owns :func:`train_and_ship` (what ``musicapp train-harmony`` runs; the training part resumes
from ``RUN_DIR/last``), :func:`tune_decoder` (a small grid over the decoder weights, chosen on
the validation split: best half-bar accuracy among settings whose melody-on-chord-tones is at
least the true chords'), and :func:`evaluate_checkpoint` (what ``musicapp eval-harmony``
runs: the evaluation table on the held-out split and folk tunes, optionally written into the
model card between ``<!-- harmony-eval:start -->`` and ``<!-- harmony-eval:end -->``).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from musicapp.ml.harmony import DecoderWeights, Harmonizer
from musicapp.ml.harmony_eval import evaluate_scores, folk_melodies, format_table, model_harmonize
from musicapp.ml.harmony_eval import evaluate_folk, evaluate_leadsheets, leadsheet_songs

CARD_START, CARD_END = "<!-- harmony-eval:start -->", "<!-- harmony-eval:end -->"


def tune_decoder(harmonizer: Harmonizer, valid: list, log: Callable[[str], None] = print) -> DecoderWeights:
    """The decoder weights chosen on ``valid`` (``harmony_tune.tune_weights``: half-bar accuracy
    among settings whose share of melody on chord tones is at least the true chords')."""
    from musicapp.ml.harmony_tune import tune_weights

    return tune_weights(harmonizer, valid, log=log)[0]


def evaluation(harmonizer: Harmonizer, test: list, folk_limit: int = 300, label: str = "held-out") -> dict:
    """Every figure of the model card, for the simple and the rich style: held-out scores at 2
    and 1 chords a bar and per beat (and at 2 a bar the Bach chorales and the other scores
    apart, when both are there), music21's two lead sheets against their written chord symbols
    (``label`` "held-out" only), held-out folk tunes (no true chords) at 2 a bar."""
    run = {f"model ({style})": model_harmonize(harmonizer, style) for style in ("simple", "rich")}
    out = {f"{label} chorales/scores, {name}": evaluate_scores(test, run, per_bar)
           for name, per_bar in (("half bar", 2), ("bar", 1), ("beat", 4))}
    bach = [ex for ex in test if ex.name.startswith("bach/")]
    other = [ex for ex in test if not ex.name.startswith("bach/")]
    if bach and other:  # the same half-bar figures for the chorales and the other scores apart
        out[f"of which Bach chorales ({len(bach)}), half bar"] = evaluate_scores(bach, run, 2)
        out[f"of which other scores ({len(other)} chunks), half bar"] = evaluate_scores(other, run, 2)
    songs = leadsheet_songs() if label == "held-out" else []
    for name, per_bar in (("half bar", 2), ("bar", 1)) if songs else ():
        out[f"lead sheets, written chords ({len(songs)} songs), {name}"] = evaluate_leadsheets(songs, run, per_bar)
    folk = folk_melodies(folk_limit)
    if folk:
        out[f"held-out folk tunes ({len(folk)}), half bar"] = evaluate_folk(folk, run, 2)
    return out


def card_text(results: dict) -> str:
    """The evaluation table plus the check of the automatic labels against an analyst's."""
    from musicapp.ml.harmony_eval import analyst_agreement

    text = format_table(results)
    try:
        ag = analyst_agreement(log=lambda s: None)
    except Exception as err:  # music21's RomanText reader failing must not lose the table
        return text + f"\n\n(label check against the Riemenschneider analyses failed: {err})"
    return text + (f"\n\nThe automatic beat labels agree with the analyst's Roman numerals (root and triad "
                   f"type, sevenths folded) on {ag['agreement']:.1%} of {ag['beats']} beats in the {ag['pieces']} "
                   "chorales that music21's Riemenschneider analyses cover (`bach/choraleAnalyses`).")


def write_card(card: Path, text: str) -> None:
    """Replace the harmoniser's evaluation block in ``card`` (appended when absent)."""
    from musicapp.ml.evaluate import write_card as _write

    _write(card, text, CARD_START, CARD_END, heading=None)


def train_and_ship(run_dir: str, out: str, minutes: float, card: str | None = None,
                   log: Callable[[str], None] = print, model: dict | None = None, members: int = 1,
                   seed: int = 0, **train_kw) -> Path:
    """Build examples from the cache, train (resumable), tune the decoder, evaluate, export.
    ``model``: ``HarmonyConfig`` fields that differ from its defaults. ``members`` > 1 trains
    that many networks from seeds ``seed``, ``seed + 1``, ... (each ``minutes`` long, in
    ``RUN_DIR/mI``) and ships their ensemble (``harmony_model.HarmonyEnsemble``)."""
    from dataclasses import replace

    from musicapp.ml.checkpoint import config_from_dict
    from musicapp.ml.harmony_data import load_scores
    from musicapp.ml.harmony_model import ENCODING, KIND, HarmonyConfig, HarmonyEnsemble, HarmonyNet
    from musicapp.ml.harmony_train import HarmonyTrainConfig, build_examples, export, train, transition_table
    from musicapp.ml.training import model_tensors

    t0 = time.monotonic()
    scores = load_scores()
    if not scores:
        from musicapp.core.errors import MusicappError

        raise MusicappError("no prepared harmony data: run `musicapp prepare-harmony` first")
    splits = build_examples(scores, log)
    model_cfg = HarmonyConfig(**(model or {}))
    nets, bests, metas = [], [], []
    for i in range(members):
        member_dir = run_dir if members == 1 else str(Path(run_dir) / f"m{i}")
        best = train(HarmonyTrainConfig(run_dir=member_dir, minutes=minutes, seed=seed + i, **train_kw),
                     replace(model_cfg, members=1), splits, log)
        meta, tensors = model_tensors(best, kind=KIND, encoding=ENCODING)
        net = HarmonyNet(config_from_dict(HarmonyConfig, meta.config))
        net.load_state_dict(tensors)
        nets.append(net.eval())
        bests.append(best)
        metas.append(meta)
    net = nets[0] if members == 1 else HarmonyEnsemble.of(nets).eval()
    trans = transition_table(splits["train"])
    h = Harmonizer(path=out, net=net, transitions=trans.astype("float64"))
    weights = tune_decoder(h, splits["valid"], log)
    h = Harmonizer(path=out, net=net, transitions=trans.astype("float64"), weights=weights)
    results = evaluation(h, splits["test"])
    table = card_text(results)
    log(table)
    metrics = {"evaluation": results, "pieces": {k: len(v) for k, v in splits.items()}}
    path = export(bests[0], out, trans, asdict(weights), metrics=metrics,
                  ensemble=None if members == 1 else net, member_metas=metas if members > 1 else ())
    if card:
        write_card(Path(card), table)
    log(f"shipped {path} ({time.monotonic() - t0:.0f} s)")
    return path


def _rewrite_json(path: str | Path, edit: Callable[[dict], None]) -> Path:
    """Apply ``edit`` to a checkpoint's JSON document and write it back atomically (the weights
    file and its hash stay); returns the JSON path."""
    import json
    import os

    from musicapp.ml.checkpoint import checkpoint_paths

    json_path, _ = checkpoint_paths(path)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    edit(doc)
    tmp = json_path.with_name(json_path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, json_path)
    return json_path


def update_metrics(path: str | Path, results: dict) -> None:
    """Replace ``metrics.evaluation`` in a checkpoint's JSON (the weights and their hash stay)."""
    _rewrite_json(path, lambda doc: doc.setdefault("metrics", {}).__setitem__("evaluation", results))


def update_decoder(path: str | Path, weights: DecoderWeights) -> Path:
    """Replace ``extra.decoder`` in a checkpoint's JSON with ``weights``; returns the JSON path."""
    return _rewrite_json(path, lambda doc: doc.setdefault("extra", {}).__setitem__("decoder", asdict(weights)))


def evaluate_checkpoint(path: str | None = None, card: str | None = None, folk_limit: int = 300,
                        log: Callable[[str], None] = print, update: bool = False, split: str = "test") -> dict:
    """Evaluate a shipped checkpoint on a held-out split (``test``, or ``valid``: the split the
    choices are made on); print (and optionally card) the table; ``update`` writes the figures
    into the checkpoint's JSON metrics too."""
    from musicapp.ml.harmony_data import load_scores
    from musicapp.ml.harmony_train import build_examples

    h = Harmonizer.load(path)
    scores = load_scores()
    if not scores:
        from musicapp.core.errors import MusicappError

        raise MusicappError("no prepared harmony data: run `musicapp prepare-harmony` first")
    splits = build_examples(scores, log)
    results = evaluation(h, splits[split], folk_limit, label="held-out" if split == "test" else "validation")
    table = card_text(results) if split == "test" else format_table(results)
    log(table)
    if card:
        write_card(Path(card), table)
    if update:
        update_metrics(h.path, results)
    return results
