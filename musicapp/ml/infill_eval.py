"""Evaluation of infilling and steering on the held-out split (``musicapp eval-infill``).

Owns :func:`run_infill_eval`. Tunes: test-split tunes with at least 12 whole bars of one
meter, cut to 12 bars; the region is bars 5-8, the context bars 1-4 and 9-12.

1. **Likelihood**: nats per true note of the region's steps under the infill model (both
   sides) and under the shipped forward LSTM (left side only), and their ratio; once on the
   12-bar tunes (bars 5-8) and once on the *whole* tunes the editor would hold (every test
   tune of at least 12 whole bars of one meter, uncut, one 4-bar region per tune on a bar
   line drawn uniformly among those with at least 4 bars on each side, seeded).
2. **Generated regions** (4 per tune, T=1, top-p 0.95, the tune's key as mask) from the
   infill model and from forward continuation of bars 1-4 (the LSTM), and one from the
   reference (8 forward samples re-ranked by the LSTM's likelihood of bars 9-12 after them):
   pitch-class and note-length histogram overlap with the true regions (pooled over all
   regions, and per region: each against its own tune's true bars, averaged), mean |interval| from the region's
   last note to the first note after it, and the LSTM's nats/note of bars 9-12 after the
   generated region (how well it leads into what follows).
3. **Controls**, requested against generated: density (notes per bar) and in-key ratio,
   rhythm seed/free (onsets off the context's grid, intervals shorter than its shortest),
   repeat 0/0.5/1 (8-bar continuations: bars equal to one 1, 2 or 4 bars earlier), register
   (context moved two octaves down: generated minus context mean pitch).

The markdown table goes into the model card between ``<!-- infill-eval:start -->`` and
``<!-- infill-eval:end -->``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import Key, Note
from musicapp.ml.encoding import NUM_CLASSES, PITCH_OFFSET, TICKS_PER_STEP, decode_notes, encode_notes
from musicapp.ml.evaluate import MelodyStats, _meter_for, histogram_overlap, write_card
from musicapp.ml.steering import Steering, onset_grid

CARD_START, CARD_END = "<!-- infill-eval:start -->", "<!-- infill-eval:end -->"
DENSITIES = (2, 3, 4, 6, 8)
REPEATS = (0.0, 0.5, 1.0)


@dataclass(frozen=True)
class InfillEvalConfig:
    """What to evaluate; counts of tunes per part; ``card`` = model card to write the table into."""

    checkpoint: str | None = None
    split: str = "test"
    generate_tunes: int = 120
    control_tunes: int = 40
    rerank_samples: int = 8
    samples: int = 4  # generated regions per tune for the infill model and forward continuation
    card: str | None = None
    random_seed: int = 0
    threads: int = 1


@dataclass
class EvalTune:
    """A 12-bar test tune: tokens/pos/bar_len (steps), key, region steps ``a..b``, notes in ticks."""

    tokens: np.ndarray
    pos: np.ndarray
    bar_len: np.ndarray
    key: int
    mode: int
    a: int
    b: int
    meters: tuple

    def notes(self, lo: int = 0, hi: int | None = None) -> list[Note]:
        """Notes (ticks from the tune's step 0) starting in steps ``lo..hi-1``."""
        out = decode_notes(self.tokens)
        return [n for n in out if lo * TICKS_PER_STEP <= n.start < (hi or len(self.tokens)) * TICKS_PER_STEP]

    @property
    def key_obj(self) -> Key:
        return Key(self.key if self.key < 12 else 0, "minor" if self.mode == 1 else "major")

    @property
    def lines(self) -> np.ndarray:
        """Steps of the bar lines, with the tune's end appended (bar ``k`` = ``lines[k]..lines[k+1]``)."""
        return np.append(np.flatnonzero(self.pos == 0), len(self.tokens))

    @property
    def region_bars(self) -> range:
        """Indices of the bars inside the region ``a..b``."""
        lines = self.lines
        return range(int(np.searchsorted(lines, self.a)), int(np.searchsorted(lines, self.b)))


def _notes_in(tokens: np.ndarray, lo: int, hi: int) -> int:
    seg = tokens[lo:hi]
    return int(((seg >= PITCH_OFFSET) & (seg < NUM_CLASSES)).sum())


def _cut(t, end: int, a: int, b: int) -> EvalTune | None:
    """Tune ``t`` cut at step ``end`` with the region ``a..b``; None unless there are notes
    before, inside and after the region."""
    m = t.melody
    toks = m.tokens[:end]
    if _notes_in(toks, 0, a) == 0 or _notes_in(toks, a, b) == 0 or _notes_in(toks, b, end) == 0:
        return None
    return EvalTune(toks, m.pos[:end], m.bar_len[:end], t.key, t.mode, a, b, _meter_for(int(m.bar_len[0])))


def twelve_bar_tunes(tunes) -> list[EvalTune]:
    """Tunes with 12 whole bars of one meter from step 0, cut there; region bars 5-8."""
    out = []
    for t in tunes:
        m = t.melody
        lines = np.flatnonzero(m.pos == 0)
        if len(lines) < 13 or lines[0] != 0 or len(set(m.bar_len[:lines[12]].tolist())) != 1:
            continue
        cut = _cut(t, int(lines[12]), int(lines[4]), int(lines[8]))
        if cut is not None:
            out.append(cut)
    return out


def whole_tunes(tunes, seed: int = 0, region: int = 4, margin: int = 4) -> list[EvalTune]:
    """Whole tunes of one meter starting on a bar line, with at least ``region + 2 * margin``
    whole bars (a last bar shorter than the meter's is cut off); the region is ``region`` bars
    from a bar line drawn uniformly (``seed``, one draw per usable tune) among those with at
    least ``margin`` whole bars before and after it."""
    rng = np.random.default_rng(seed)
    out = []
    for t in tunes:
        m = t.melody
        lines = np.flatnonzero(m.pos == 0)
        if len(lines) == 0 or lines[0] != 0 or len(set(m.bar_len.tolist())) != 1:
            continue
        end = len(m.tokens) if len(m.tokens) - lines[-1] == m.bar_len[0] else int(lines[-1])
        starts = lines[lines < end]  # starts of whole bars
        if len(starts) < region + 2 * margin:
            continue
        first = int(rng.integers(margin, len(starts) - margin - region + 1))
        b = int(starts[first + region]) if first + region < len(starts) else end
        cut = _cut(t, end, int(starts[first]), b)
        if cut is not None:
            out.append(cut)
    return out


BAR_KINDS = ("prefix", "suffix", "new")


def bar_kind(t: EvalTune, lines: np.ndarray, k: int) -> str:
    """What region bar ``k`` (0-based) of ``t`` is: "prefix" (its steps equal a bar before the
    region: bars 1-4 of a 12-bar tune), "suffix" (equal to a bar after the region only: 9-12)
    or "new" (on neither side)."""
    bar = lambda i: t.tokens[lines[i]:lines[i + 1]].tobytes()  # noqa: E731
    before = range(0, int(np.searchsorted(lines, t.a)))
    after = range(int(np.searchsorted(lines, t.b)), len(lines) - 1)
    if any(bar(k) == bar(i) for i in before):
        return "prefix"
    return "suffix" if any(bar(k) == bar(i) for i in after) else "new"


def likelihood(infill_model, lstm, tunes: list[EvalTune]) -> dict:
    """Region nats per note under both models (teacher forced), also per kind of region bar
    (:func:`bar_kind`), and what the ratio would be if the copies cost nothing: ``bound_suffix``
    (bars found only in bars 9-12 free, the rest at the infill model's cost) and ``bound_copies``
    (every bar found on either side free)."""
    from musicapp.ml.infill_model import region_inputs
    from musicapp.ml.lstm import melody_logits

    nats_i = {k: 0.0 for k in BAR_KINDS}
    nats_f = {k: 0.0 for k in BAR_KINDS}
    count = {k: 0 for k in BAR_KINDS}
    with torch.inference_mode():
        for t in tunes:
            target = torch.from_numpy(t.tokens[t.a:t.b])
            end = t.b + infill_model.infill_config.suffix_steps  # what the infill service reads after the region
            li, _ = infill_model(**region_inputs(infill_model, t.tokens[:end], t.pos[:end], t.bar_len[:end], t.key,
                                                 t.mode, (t.a, t.b)))
            lf = melody_logits(lstm, t.tokens, t.pos, t.bar_len, t.key, t.mode)
            ni = torch.nn.functional.cross_entropy(li[0, t.a:t.b].float(), target, reduction="none")
            nf = torch.nn.functional.cross_entropy(lf[t.a:t.b].float(), target, reduction="none")
            is_note = (target >= PITCH_OFFSET) & (target < NUM_CLASSES)
            lines = t.lines
            for k in t.region_bars:
                lo, hi = int(lines[k]) - t.a, int(lines[k + 1]) - t.a
                kind = bar_kind(t, lines, k)
                nats_i[kind] += float(ni[lo:hi].sum())
                nats_f[kind] += float(nf[lo:hi].sum())
                count[kind] += int(is_note[lo:hi].sum())
    ti, tf, notes = sum(nats_i.values()), sum(nats_f.values()), sum(count.values())
    kinds = {k: {"notes": count[k], "infill": nats_i[k] / max(count[k], 1), "forward": nats_f[k] / max(count[k], 1),
                 "forward_share": nats_f[k] / tf} for k in BAR_KINDS}
    return {"tunes": len(tunes), "notes": notes, "infill": ti / notes, "forward": tf / notes, "ratio": ti / tf,
            "suffix_steps": infill_model.infill_config.suffix_steps,
            "kinds": kinds, "bound_suffix": (ti - nats_i["suffix"]) / tf, "bound_copies": nats_i["new"] / tf}


def suffix_nats(lstm, t: EvalTune, region_notes: list[Note]) -> tuple[float, int]:
    """LSTM nats over bars 9-12 of ``t`` after ``region_notes`` replaced bars 5-8 (and its note count)."""
    from musicapp.ml.lstm import melody_logits

    notes = t.notes(0, t.a) + list(region_notes) + t.notes(t.b)
    enc, _ = encode_notes(notes, t.meters, 0, len(t.tokens) * TICKS_PER_STEP)
    with torch.inference_mode():
        lg = melody_logits(lstm, enc.tokens, t.pos, t.bar_len, t.key, t.mode)
        tgt = torch.from_numpy(enc.tokens[t.b:])
        nats = float(torch.nn.functional.cross_entropy(lg[t.b:].float(), tgt, reduction="sum"))
    return nats, int(((tgt >= PITCH_OFFSET) & (tgt < NUM_CLASSES)).sum())


class RegionStats(MelodyStats):
    """:class:`MelodyStats` plus the interval into the next note and the suffix's likelihood."""

    def __init__(self) -> None:
        super().__init__()
        self.junction: list[int] = []
        self.s_nats = 0.0
        self.s_notes = 0
        self.region_hists: list[tuple[int, np.ndarray, np.ndarray]] = []  # per region: (tune, pitch classes, lengths)

    def add_region(self, notes: list[Note], scale, next_pitch: int, lstm=None, tune: EvalTune | None = None,
                   index: int | None = None, suffix: tuple[float, int] | None = None) -> None:
        """Add one region's notes; ``index`` names its tune (default: one region per tune, in order);
        ``suffix`` is :func:`suffix_nats` of it when already known (else computed with ``lstm``)."""
        pc, lengths = self.pc.copy(), self.lengths.copy()
        self.add(notes, scale)
        index = len(self.region_hists) if index is None else index
        self.region_hists.append((index, self.pc - pc, self.lengths - lengths))
        if notes:
            self.junction.append(abs(max(notes, key=lambda n: n.start).pitch - next_pitch))
        if suffix is None and lstm is not None and tune is not None:
            suffix = suffix_nats(lstm, tune, notes)
        if suffix is not None:
            n, k = suffix
            self.s_nats += n
            self.s_notes += k

    def figures(self, truth: "RegionStats") -> dict:
        """Overlaps with ``truth`` (the true regions): of the pooled histograms, and the mean over
        regions of each region's own overlap with the true bars of its tune (same ``index``)."""
        true = {i: (pc, ln) for i, pc, ln in truth.region_hists}
        pairs = [((pc, ln), true[i]) for i, pc, ln in self.region_hists if i in true]
        return {"pitch_class_overlap": histogram_overlap(self.pc, truth.pc),
                "length_overlap": histogram_overlap(self.lengths, truth.lengths),
                "pitch_class_overlap_region": float(np.mean([histogram_overlap(g[0], t[0]) for g, t in pairs]))
                if pairs else float("nan"),
                "length_overlap_region": float(np.mean([histogram_overlap(g[1], t[1]) for g, t in pairs]))
                if pairs else float("nan"),
                "junction_interval": float(np.mean(self.junction)) if self.junction else float("nan"),
                "suffix_nats_per_note": self.s_nats / max(1, self.s_notes),
                "notes_per_bar": self.notes / max(1, self.melodies * 4),
                "in_key": self.in_key / max(1, self.notes)}


def generated_regions(infiller, generator, tunes: list[EvalTune], cfg: InfillEvalConfig) -> dict:
    """Figures of infill, forward and re-ranked regions against the true ones."""
    lstm = generator._ready()[0]
    stats = {k: RegionStats() for k in ("true", "infill", "forward", "rerank")}
    for i, t in enumerate(tunes):
        key = t.key_obj
        scale = scale_pitch_classes(key)
        context = t.notes(0, t.a) + t.notes(t.b)
        nxt = t.notes(t.b)[0].pitch
        a_t, b_t = t.a * TICKS_PER_STEP, t.b * TICKS_PER_STEP
        stats["true"].add_region(t.notes(t.a, t.b), scale, nxt, lstm, t, index=i)
        for fill in infiller.fill(context, a_t, b_t, variations=cfg.samples, key=key, meters=t.meters, random_seed=i):
            stats["infill"].add_region(fill, scale, nxt, lstm, t, index=i)
        samples = generator.continue_melody(t.notes(0, t.a), bars=4, variations=max(cfg.rerank_samples, cfg.samples),
                                            key=key, meters=t.meters, start_tick=a_t, random_seed=i)
        samples = [[n for n in s if n.start < b_t] for s in samples]
        scored = [suffix_nats(lstm, t, s) for s in samples]  # once per sample: the forward rows and the re-rank
        for s, sc in zip(samples[:cfg.samples], scored):
            stats["forward"].add_region(s, scale, nxt, tune=t, index=i, suffix=sc)
        best = min(range(min(cfg.rerank_samples, len(samples))), key=lambda j: scored[j][0])
        stats["rerank"].add_region(samples[best], scale, nxt, tune=t, index=i, suffix=scored[best])
    truth = stats["true"]
    return {"tunes": len(tunes), "samples": cfg.samples, **{k: v.figures(truth) for k, v in stats.items()}}


def _notes_per_bar(cands: list[list[Note]], bars: float) -> float:
    return float(np.mean([len(c) / bars for c in cands]))


def _rhythm(cands: list[list[Note]], grid: int, min_ioi: int, bar_steps: int, first_step: int) -> tuple[float, float]:
    """(fraction of onsets off ``grid``, fraction of inter-onset intervals shorter than ``min_ioi``)."""
    off = short = onsets = gaps = 0
    for c in cands:
        steps = sorted(n.start // TICKS_PER_STEP for n in c)
        off += sum(((s - first_step) % bar_steps) % grid != 0 for s in steps)
        short += sum(int(d) < min_ioi for d in np.diff(steps))
        onsets += len(steps)
        gaps += max(0, len(steps) - 1)
    return off / max(1, onsets), short / max(1, gaps)


def repeated_bars(tokens: np.ndarray, lines: np.ndarray, first_bar: int) -> tuple[int, int]:
    """Bars from ``first_bar`` on (indices into bar lines) whose tokens equal a bar 1, 2 or 4 bars earlier."""
    rep = total = 0
    for i in range(first_bar, len(lines) - 1):
        cur = tokens[lines[i]:lines[i + 1]]
        if not ((cur >= PITCH_OFFSET) & (cur < NUM_CLASSES)).any():
            continue
        total += 1
        rep += any(i - d >= 0 and np.array_equal(cur, tokens[lines[i - d]:lines[i - d + 1]]) for d in (1, 2, 4))
    return rep, total


def controls(infiller, generator, tunes: list[EvalTune], cfg: InfillEvalConfig) -> dict:
    """Requested against generated values of each steering control, for Infill and Continue."""
    four = [t for t in tunes if int(t.bar_len[0]) == 16][:cfg.control_tunes]
    out: dict = {"tunes": len(four), "density": {}, "rhythm": {}, "repeat": {}, "register": {}}
    for d in DENSITIES:
        row = {}
        for name in ("infill", "continue"):
            npb, ink = [], []
            for i, t in enumerate(four):
                cands = _run(infiller, generator, name, t, Steering(density=d), i, variations=4)
                npb.append(_notes_per_bar(cands, 4))
                sc = scale_pitch_classes(t.key_obj)
                ink += [n.pitch % 12 in sc for c in cands for n in c]
            row[name] = {"notes_per_bar": float(np.mean(npb)), "in_key": float(np.mean(ink)) if ink else 1.0}
        out["density"][str(d)] = row
    for r in ("seed", "free"):
        row = {}
        for name in ("infill", "continue"):
            off, short = [], []
            for i, t in enumerate(four):
                grid, ioi = onset_grid(t.tokens[:t.a], t.pos[:t.a])
                cands = _run(infiller, generator, name, t, Steering(rhythm=r), i, variations=4, temperature=1.3)
                o, s = _rhythm(cands, grid, ioi, 16, 0)
                off.append(o)
                short.append(s)
            row[name] = {"off_grid": float(np.mean(off)), "shorter": float(np.mean(short))}
        out["rhythm"][r] = row
    for rep in REPEATS:
        hits = total = 0
        for i, t in enumerate(four):
            prefix = t.notes(0, t.a)
            cands = generator.continue_melody(prefix, bars=8, variations=4, key=t.key_obj, meters=t.meters,
                                              start_tick=t.a * TICKS_PER_STEP, random_seed=i,
                                              steering=Steering(repeat=rep))
            for c in cands:
                enc, _ = encode_notes(prefix + c, t.meters, 0, (t.a + 128) * TICKS_PER_STEP)
                h, n = repeated_bars(enc.tokens, np.arange(0, t.a + 129, 16), t.a // 16)
                hits, total = hits + h, total + n
        out["repeat"][str(rep)] = hits / max(1, total)
    for follow in (True, False):
        row = {}
        for name in ("infill", "continue"):
            diffs = []
            for i, t in enumerate(four):
                low = _transposed(t, -24)
                if low is None:
                    continue
                cands = _run(infiller, generator, name, low, Steering(register=follow), i, variations=2)
                ctx = [n.pitch for n in low.notes(0, low.a) + low.notes(low.b)]
                diffs += [np.mean([n.pitch for n in c]) - np.mean(ctx) for c in cands if c]
            row[name] = float(np.mean(diffs)) if diffs else float("nan")
        out["register"]["follow" if follow else "off"] = row
    return out


def _transposed(t: EvalTune, semis: int) -> EvalTune | None:
    note = (t.tokens >= PITCH_OFFSET) & (t.tokens < NUM_CLASSES)
    p = t.tokens[note] - PITCH_OFFSET + semis
    if p.size == 0 or p.min() < 0 or p.max() > 127:
        return None
    toks = np.where(note, t.tokens + semis, t.tokens)
    return EvalTune(toks, t.pos, t.bar_len, t.key, t.mode, t.a, t.b, t.meters)


def _run(infiller, generator, name: str, t: EvalTune, steering: Steering, seed: int, variations: int,
         temperature: float = 1.0) -> list[list[Note]]:
    a_t, b_t = t.a * TICKS_PER_STEP, t.b * TICKS_PER_STEP
    if name == "infill":
        return infiller.fill(t.notes(0, t.a) + t.notes(t.b), a_t, b_t, variations=variations, key=t.key_obj,
                             meters=t.meters, random_seed=seed, steering=steering, temperature=temperature)
    return generator.continue_melody(t.notes(0, t.a), bars=4, variations=variations, key=t.key_obj, meters=t.meters,
                                     start_tick=a_t, random_seed=seed, steering=steering, temperature=temperature)


def run_infill_eval(cfg: InfillEvalConfig, log=print) -> dict:
    """Run every part, print the table, optionally write it into the model card."""
    from musicapp.ml.dataset import encoded_splits
    from musicapp.ml.generate import MelodyGenerator
    from musicapp.ml.infill import MelodyInfiller
    from musicapp.ml.training import limit_threads

    limit_threads(cfg.threads)
    t0 = time.monotonic()
    infiller, generator = MelodyInfiller(cfg.checkpoint), MelodyGenerator()
    split = encoded_splits(prepare=False)[cfg.split]
    tunes = twelve_bar_tunes(split)
    rng = np.random.default_rng(cfg.random_seed)
    order = rng.permutation(len(tunes))
    infill_model, lstm = infiller._ready()[0], generator._ready()[0]
    fig = {"split": cfg.split, "checkpoint": infiller.checkpoint.name,
           "likelihood": likelihood(infill_model, lstm, tunes)}
    whole = whole_tunes(split, seed=cfg.random_seed)
    fig["likelihood_whole"] = likelihood(infill_model, lstm, whole)
    fig["likelihood_whole"]["mean_bars"] = float(np.mean([len(t.lines) - 1 for t in whole])) if whole else 0.0
    log(f"likelihood done ({time.monotonic() - t0:.0f} s)")
    fig["generated"] = generated_regions(infiller, generator, [tunes[i] for i in order[:cfg.generate_tunes]], cfg)
    w_order = rng.permutation(len(whole))
    fig["generated_whole"] = generated_regions(infiller, generator, [whole[i] for i in w_order[:cfg.generate_tunes]],
                                               cfg)
    log(f"generated regions done ({time.monotonic() - t0:.0f} s)")
    fig["controls"] = controls(infiller, generator, [tunes[i] for i in order], cfg)
    fig["seconds"] = round(time.monotonic() - t0, 1)
    table = format_table(fig)
    log(table)
    if cfg.card:
        write_card(Path(cfg.card), table, start=CARD_START, end=CARD_END, heading=None)
    return fig


def _likelihood_lines(lk: dict, ratio: str, intro: str, labels: tuple[str, str, str]) -> list[str]:
    """Nats/note of both models, the ``ratio`` sentence, and the table by kind of region bar
    (``labels`` for prefix copies, suffix-only copies and new bars) after ``intro``."""
    return [
        "| model (true region notes, teacher forced) | nats/note |",
        "|---|---|",
        f"| forward LSTM, left side only | {lk['forward']:.3f} |",
        f"| infill model, both sides | {lk['infill']:.3f} |",
        "",
        ratio,
        "",
        *([intro, ""] if intro else []),
        "| region bars | notes | forward nats/note | infill nats/note | share of forward nats |",
        "|---|---|---|---|---|",
        *[f"| {label} | {lk['kinds'][k]['notes']} | {lk['kinds'][k]['forward']:.3f} | "
          f"{lk['kinds'][k]['infill']:.3f} | {lk['kinds'][k]['forward_share']:.3f} |"
          for k, label in zip(BAR_KINDS, labels)],
        "",
    ]


def _whole_tune_lines(lk: dict | None) -> list[str]:
    """The whole-tune likelihood section of the card (none for figures made before it existed)."""
    if not lk or not lk.get("notes"):
        return []
    return [
        f"Whole tunes, as the editor holds them: {lk['tunes']} tunes of the split with at least 12 whole bars "
        f"of one meter, uncut (mean {lk['mean_bars']:.1f} bars); one 4-bar region per tune from a bar line "
        "drawn at random (seed 0) among those with at least 4 bars on each side; the forward LSTM reads "
        f"everything before the region, the infill model also up to {lk.get('suffix_steps', 128)} 16th steps after it:",
        "",
        *_likelihood_lines(lk, f"Ratio infill / forward on whole tunes: **{lk['ratio']:.3f}** ({lk['notes']} notes).",
                           "", ("copy of a bar before the region", "copy of a bar after it only", "on neither side")),
    ]


def _generated_lines(g: dict, after: str) -> list[str]:
    """The table of :func:`generated_regions`' figures; ``after`` names what follows the region."""
    lines = ["| source | pitch-class overlap | length overlap | per region: pitch classes | per region: lengths "
             f"| \\|last -> next\\| (semitones) | LSTM nats/note of {after} after it | notes/bar |",
             "|---|---|---|---|---|---|---|---|"]
    n = g.get("samples", 1)
    each = f" ({n} samples per tune)" if n > 1 else ""
    names = {"true": "true bars", "infill": f"infill model{each}", "forward": f"forward LSTM{each or ' (1 sample)'}",
             "rerank": f"reference: 8 forward samples re-ranked by {after}"}
    for k, label in names.items():
        f = g[k]
        po = "1" if k == "true" else f"{f['pitch_class_overlap']:.3f}"
        lo = "1" if k == "true" else f"{f['length_overlap']:.3f}"
        rp = "1" if k == "true" else f"{f.get('pitch_class_overlap_region', float('nan')):.3f}"
        rl = "1" if k == "true" else f"{f.get('length_overlap_region', float('nan')):.3f}"
        lines.append(f"| {label} | {po} | {lo} | {rp} | {rl} | {f['junction_interval']:.2f} | {f['suffix_nats_per_note']:.3f} "
                     f"| {f['notes_per_bar']:.2f} |")
    return lines


def format_table(fig: dict) -> str:
    """The model-card markdown of :func:`run_infill_eval`'s figures."""
    lk, g, c = fig["likelihood"], fig["generated"], fig["controls"]
    lines = [
        f"Split `{fig['split']}`: {lk['tunes']} tunes with 12 whole bars of one meter; region = bars 5-8, "
        f"context = bars 1-4 and 9-12; checkpoint `{fig['checkpoint']}`.",
        "",
        *_likelihood_lines(lk, f"Ratio infill / forward: **{lk['ratio']:.3f}** (target <= 0.80; {lk['notes']} notes).",
                           "The same notes by kind of region bar (a bar whose 16th steps equal one of bars 1-4, "
                           "one of bars 9-12 only, or neither):",
                           ("copy of a bar of 1-4", "copy of a bar of 9-12 only", "on neither side")),
        f"Ratio if every bar copied from 9-12 only cost 0 nats: {lk['bound_suffix']:.3f}; if every copied "
        f"bar (either side) cost 0: {lk['bound_copies']:.3f}.",
        "",
        *_whole_tune_lines(fig.get("likelihood_whole")),
        f"Generated bars 5-8 of {g['tunes']} tunes (T=1, top-p 0.95, key mask) against the true bars:",
        "",
        *_generated_lines(g, "bars 9-12"),
    ]
    if fig.get("generated_whole"):
        gw = fig["generated_whole"]
        lines += ["", f"Generated regions of {gw['tunes']} of the whole tunes above (the same sampling):", "",
                  *_generated_lines(gw, "the rest of the tune")]
    lines += ["", f"Controls ({c['tunes']} 4/4 tunes, 4 variations each; Infill = bars 5-8, Continue = 4 bars "
              "after bars 1-4):", "",
              "| density requested (notes/bar) | Infill generated | in-key | Continue generated | in-key |",
              "|---|---|---|---|---|"]
    for d, row in c["density"].items():
        lines.append(f"| {d} | {row['infill']['notes_per_bar']:.2f} | {row['infill']['in_key']:.3f} "
                     f"| {row['continue']['notes_per_bar']:.2f} | {row['continue']['in_key']:.3f} |")
    lines += ["", "| rhythm (T=1.3) | Infill: onsets off the seed's grid | shorter than its shortest | "
              "Continue: off grid | shorter |", "|---|---|---|---|---|"]
    for r, row in c["rhythm"].items():
        lines.append(f"| {r} | {row['infill']['off_grid']:.3f} | {row['infill']['shorter']:.3f} "
                     f"| {row['continue']['off_grid']:.3f} | {row['continue']['shorter']:.3f} |")
    lines += ["", "| repeat requested | 8-bar continuations: bars equal to one 1, 2 or 4 bars earlier |", "|---|---|"]
    lines += [f"| {r} | {v:.3f} |" for r, v in c["repeat"].items()]
    lines += ["", "| register (context two octaves down) | Infill: generated - context mean pitch | Continue |",
              "|---|---|---|"]
    for k, row in c["register"].items():
        lines.append(f"| {k} | {row['infill']:+.1f} | {row['continue']:+.1f} |")
    lines += ["", f"({fig['seconds']:.0f} s; `musicapp eval-infill --tunes {g['tunes']} --card models/README.md`.)"]
    return "\n".join(lines)
