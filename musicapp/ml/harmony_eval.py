"""Evaluating harmonisations: the rule-based reference, the metrics, and the held-out report.

Owns :func:`reference_harmonize` (diatonic triads chosen per half bar by how much of the melody
they cover, with a small I/IV/V prior), the per-unit metrics (chord-label accuracy with root and
triad type, sevenths folded into their triad; chord-tone overlap; share of melody duration on
chord tones), and :func:`evaluate` which runs the model and the reference on

- the held-out chorale/score split (``test``): true chords exist there (the template match of all
  parts), so accuracy, overlap and melody-on-chord-tones are measured, also for the true chords;
- held-out folk tunes from the melody corpus cache (``corpus-v1`` test split, no Bach): these
  have no true chords, so only melody-on-chord-tones, chords per bar and the share of diatonic
  chords are reported.
- the two lead sheets in music21's ``leadSheet`` folder (a Foster song and a Berlin rag, never
  trained on): their chord symbols were written by an editor, so there the model and the
  reference are compared with human chords on song melodies (``evaluate_leadsheets``).

All lengths in ticks; a "unit" is a beat-sized part of a bar (``harmony_model.unit_grid``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from musicapp.core.chord_detect import TRIAD_OF, segment_bounds
from musicapp.core.chords import Chord
from musicapp.core.scales import scale_pitch_classes
from musicapp.core.song import Key, Note, Song, TimeSignature
from musicapp.ml.harmony_model import class_label, melody_chroma

#: (interval above the tonic, quality) of the diatonic triads, and the I/IV/V degrees.
DIATONIC = {"major": ((0, "maj"), (2, "min"), (4, "min"), (5, "maj"), (7, "maj"), (9, "min"), (11, "dim")),
            "minor": ((0, "min"), (2, "dim"), (3, "maj"), (5, "min"), (7, "maj"), (8, "maj"), (10, "maj"))}
PRIMARY = frozenset({0, 5, 7})
PRIOR = 0.1


def reference_harmonize(melody: np.ndarray, song: Song, key: Key, per_bar: int = 2) -> tuple[Chord, ...]:
    """The rule-based reference: per segment the diatonic triad covering most of the melody's
    duration (+``PRIOR`` for I, IV, V; a segment without melody keeps the previous chord)."""
    end = int((melody[:, 0] + melody[:, 1]).max())
    bounds = segment_bounds(song, end, per_bar)
    chroma = melody_chroma(melody, bounds)
    mode = "minor" if (key.tonic + 3) % 12 in scale_pitch_classes(key) else "major"
    cands = [Chord(0, 1, (key.tonic + iv) % 12, q) for iv, q in DIATONIC[mode]]
    prior = np.asarray([PRIOR if iv in PRIMARY else 0.0 for iv, _ in DIATONIC[mode]])
    tones = np.zeros((len(cands), 12))
    for i, c in enumerate(cands):
        tones[i, list(c.pitch_classes)] = 1.0
    total = chroma.sum(axis=1, keepdims=True)
    score = (chroma / np.maximum(total, 1e-9)) @ tones.T + prior[None, :]
    out: list[Chord] = []
    for s in range(len(bounds) - 1):
        pick = cands[int(score[s].argmax())] if total[s, 0] > 0 or not out else out[-1]
        out.append(Chord(int(bounds[s]), int(bounds[s + 1] - bounds[s]), pick.root, pick.quality))
    return tuple(out)


def chords_per_unit(chords: Sequence[Chord], bounds: np.ndarray) -> list[Chord | None]:
    """The chord sounding at each unit's middle (None where there is none)."""
    starts = np.asarray([c.start for c in chords], dtype=np.int64)
    out: list[Chord | None] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        i = int(np.searchsorted(starts, (a + b) // 2, side="right")) - 1
        out.append(chords[i] if i >= 0 and chords[i].end > (a + b) // 2 else None)
    return out


@dataclass
class Tally:
    """Running sums of the metrics, weighted by unit length (ticks)."""

    acc: float = 0.0
    overlap: float = 0.0
    labelled: float = 0.0
    on_tones: float = 0.0
    melody: float = 0.0
    chords: int = 0
    bars: int = 0
    diatonic: int = 0

    def add_truth(self, pred: list[Chord | None], truth: list[tuple[int, str] | None], ulen: np.ndarray) -> None:
        for p, t, w in zip(pred, truth, ulen):
            if t is None:
                continue
            self.labelled += w
            if p is None:
                continue
            self.acc += w * ((p.root, TRIAD_OF[p.quality]) == (t[0], TRIAD_OF[t[1]]))
            tp, pp = set(Chord(0, 1, *t).pitch_classes), set(p.pitch_classes)
            self.overlap += w * len(tp & pp) / len(tp | pp)

    def add_melody(self, pred: list[Chord | None], mchroma: np.ndarray) -> None:
        for p, row in zip(pred, mchroma):
            self.melody += row.sum()
            if p is not None:
                self.on_tones += row[list(p.pitch_classes)].sum()

    def add_shape(self, chords: Sequence[Chord], bars: int, key: Key) -> None:
        scale = scale_pitch_classes(key) | ({(key.tonic + 11) % 12} if key.mode == "minor" else set())
        self.chords += len(chords)
        self.bars += bars
        self.diatonic += sum(set(c.pitch_classes) <= scale for c in chords)

    def row(self) -> dict[str, float]:
        out = {"melody_on_chord_tones": round(self.on_tones / max(self.melody, 1e-9), 4)}
        if self.labelled:
            out["accuracy"] = round(self.acc / self.labelled, 4)
            out["chord_tone_overlap"] = round(self.overlap / self.labelled, 4)
        if self.bars:
            out["chords_per_bar"] = round(self.chords / self.bars, 3)
            out["diatonic_share"] = round(self.diatonic / max(self.chords, 1), 4)
        return out


def _systems(harmonize: Callable | dict[str, Callable]) -> dict[str, Callable]:
    return dict(harmonize) if isinstance(harmonize, dict) else {"model": harmonize}


def evaluate_scores(examples: list, harmonize: Callable | dict[str, Callable], per_bar: int
                    ) -> dict[str, dict[str, float]]:
    """Model(s) (``harmonize(melody, song, key, per_bar) -> chords``, or a dict name -> such a
    function), reference and true chords on labelled examples (``harmony_train.Example``);
    truth at the same ``per_bar``."""
    systems = _systems(harmonize)
    tallies = {**{name: Tally() for name in systems}, "reference": Tally(), "true chords": Tally()}
    for ex in examples:
        grid, song, mel, key = ex.grid, ex.song, ex.melody, ex.key
        seg = grid.segments(song, per_bar)
        lab = ex.seg_labels[per_bar]
        truth = [None if lab[min(s, len(lab) - 1)] < 0 else class_label(int(lab[min(s, len(lab) - 1)]))
                 for s in seg]
        truth = [None if t is None else ((t[0] + key.tonic) % 12, t[1]) for t in truth]
        ulen = np.diff(grid.bounds).astype(np.float64)
        mchroma = melody_chroma(mel, grid.bounds)
        preds = {**{name: chords_per_unit(fn(mel, song, key, per_bar), grid.bounds) for name, fn in systems.items()},
                 "reference": chords_per_unit(reference_harmonize(mel, song, key, per_bar), grid.bounds),
                 "true chords": [None if t is None else Chord(0, 1, *t) for t in truth]}
        for name, pred in preds.items():
            tallies[name].add_truth(pred, truth, ulen)
            tallies[name].add_melody(pred, mchroma)
    return {k: v.row() for k, v in tallies.items()}


def folk_melodies(limit: int = 300) -> list[tuple[str, np.ndarray, Song, Key]]:
    """Held-out folk tunes (melody-corpus test split, Bach excluded) as ``(name, melody (n, 3)
    ticks, song with their meter, key)``; empty when the melody cache is not prepared."""
    from musicapp.ml import corpus

    out = []
    for name in ("essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs", "miscFolk"):
        try:
            tunes = corpus.load_corpus(name)
        except (FileNotFoundError, OSError):
            continue
        for t in tunes:
            if corpus.split_of(t) != "test" or len(t.bars) < 2 or len(t.notes) < 8:
                continue
            full = int(np.bincount(t.bars[:, 1]).argmax())  # 16th steps per bar
            first = int(t.bars[0, 1])
            shift = (full - first) % full if first < full else 0
            ts = {16: (4, 4), 12: (3, 4), 8: (2, 4), 24: (6, 4), 6: (3, 8), 18: (9, 8)}.get(full)
            if ts is None:
                continue
            notes = t.notes.astype(np.int64).copy()
            notes[:, 0] = (notes[:, 0] + shift) * 120  # 16th step -> ticks at 480 PPQ
            notes[:, 1] *= 120
            song = Song(meters=(TimeSignature(0, *ts),))
            if t.key_tonic >= 0 and t.key_mode in (0, 1):
                key = Key(int(t.key_tonic), "minor" if t.key_mode else "major")
            else:
                from musicapp.core.scales import detect_key

                key = detect_key([Note(int(a), int(p), int(b)) for a, b, p in notes])
            out.append((t.name, notes, song, key))
    rng = np.random.default_rng(0)
    if len(out) > limit:
        out = [out[i] for i in sorted(rng.choice(len(out), limit, replace=False))]
    return out


def evaluate_folk(tunes: list, harmonize: Callable | dict[str, Callable], per_bar: int = 2
                  ) -> dict[str, dict[str, float]]:
    """Model(s) and reference on unlabelled folk melodies: melody on chord tones and shape figures."""
    from musicapp.ml.harmony_model import unit_grid

    systems = _systems(harmonize)
    tallies = {**{name: Tally() for name in systems}, "reference": Tally()}
    for _, mel, song, key in tunes:
        grid = unit_grid(song, int((mel[:, 0] + mel[:, 1]).max()))
        mchroma = melody_chroma(mel, grid.bounds)
        bars = int(grid.bar[-1]) + 1
        runs = [(name, fn(mel, song, key, per_bar)) for name, fn in systems.items()]
        for name, chords in runs + [("reference", reference_harmonize(mel, song, key, per_bar))]:
            tallies[name].add_melody(chords_per_unit(chords, grid.bounds), mchroma)
            tallies[name].add_shape(_merged(chords), bars, key)
    return {k: v.row() for k, v in tallies.items()}


def _merged(chords: Sequence[Chord]) -> list[Chord]:
    out: list[Chord] = []
    for c in chords:
        if out and out[-1].end == c.start and (out[-1].root, out[-1].quality) == (c.root, c.quality):
            out[-1] = out[-1].moved(length=c.end - out[-1].start)
        else:
            out.append(c)
    return out


def model_harmonize(harmonizer, style: str = "simple") -> Callable:
    """Adapter: the best proposal of ``harmonizer`` for ``(melody array, song, key, per_bar)``."""

    def run(mel: np.ndarray, song: Song, key: Key, per_bar: int) -> tuple[Chord, ...]:
        notes = [Note(int(a), int(p), int(max(b, 1))) for a, b, p in mel]
        return harmonizer.harmonize(notes, song, key=key, per_bar=per_bar, variations=1, style=style)[0]

    return run


def format_table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """A Markdown table: one row per (set, system), columns for every metric present."""
    cols = ["accuracy", "chord_tone_overlap", "melody_on_chord_tones", "chords_per_bar", "diatonic_share"]
    lines = ["| set | system | " + " | ".join(c.replace("_", " ") for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for set_name, rows in results.items():
        for system, row in rows.items():
            lines.append(f"| {set_name} | {system} | " + " | ".join(
                f"{row[c]:.3f}" if c in row else "-" for c in cols) + " |")
    return "\n".join(lines)


def analyst_agreement(log: Callable[[str], None] = print) -> dict[str, float]:
    """How often the automatic labels (per beat) agree with an analyst's Roman numerals: the
    Riemenschneider chorale analyses (RomanText) shipped in music21's ``bach/choraleAnalyses``,
    matched to their chorale by BWV number. Root and triad type per beat, sevenths folded."""
    import math
    import re

    from music21 import converter, roman

    from musicapp.ml.corpus import music21_corpus_root
    from musicapp.ml.harmony_data import load_scores
    from musicapp.ml.harmony_train import piece_examples

    by_bwv = {s.name.split("/")[-1][3:].rsplit(".mxl", 1)[0]: s for s in load_scores(("bach",))}
    agree = total = 0.0
    pieces = 0
    for path in sorted((music21_corpus_root() / "bach" / "choraleAnalyses").glob("*.rntxt")):
        m = re.search(r"^BWV:\s*(\S+)", path.read_text(encoding="utf-8", errors="replace"), re.M)
        score = by_bwv.get(m.group(1)) if m else None
        ex = piece_examples(score) if score is not None else None
        if ex is None:
            continue
        # measure and beat are read once per numeral: music21 derives them from the element's
        # current site, which a second parse of the same file (music21's cache) can move
        rns = []
        for r in converter.parse(str(path), format="romanText").recurse().getElementsByClass(roman.RomanNumeral):
            bar, at = r.measureNumber, float(r.beat)
            if bar is not None and math.isfinite(at):  # unplaceable ones skipped
                rns.append((bar, at, r.root().pitchClass, {"major": "maj", "minor": "min", "diminished": "dim",
                                                            "augmented": "aug"}.get(r.quality)))
        if not rns:
            continue
        first = min(bar for bar, _, _, _ in rns)
        beat = score.beat_ticks
        marks = sorted(((bar - first) * score.bar_ticks + round((at - 1) * beat), pc, q) for bar, at, pc, q in rns)
        starts = np.asarray([t for t, _, _ in marks])
        lab = ex.seg_labels[4]
        seg = ex.grid.segments(ex.song, 4)
        mids = (ex.grid.bounds[:-1] + ex.grid.bounds[1:]) // 2
        pieces += 1
        for u, mid in enumerate(mids):
            i = int(np.searchsorted(starts, mid, side="right")) - 1
            label = lab[min(seg[u], len(lab) - 1)]
            if i < 0 or label < 0 or marks[i][2] is None:
                continue
            rel, q = class_label(int(label))
            total += 1
            agree += ((rel + ex.key.tonic) % 12, TRIAD_OF[q]) == (marks[i][1], marks[i][2])
    result = {"pieces": pieces, "beats": int(total), "agreement": round(agree / max(total, 1), 4)}
    log(f"automatic beat labels vs the Riemenschneider analyses: {result}")
    return result


def _symbol_quality(intervals: set[int]) -> str | None:
    """The core quality of a chord symbol's pitch-class intervals above its root (None if none fits)."""
    from musicapp.core.chords import QUALITIES

    for q, ivs in QUALITIES.items():
        if {i % 12 for i in ivs} == intervals:
            return q
    third = "min" if 3 in intervals else "maj" if 4 in intervals else None
    if third and 6 in intervals and 7 not in intervals:
        return "dim" if third == "min" else None
    return third


def leadsheet_songs() -> list:
    """The lead sheets in music21's ``leadSheet`` folder (songs whose chord symbols were written
    by their editors, not derived from parts) as labelled examples: ``(name, melody (n, 3) ticks,
    song with the meter, key, chords)``; songs music21 cannot read are left out."""
    from music21 import converter, harmony, meter, note

    from musicapp.ml.corpus import music21_corpus_root

    out = []
    for path in sorted((music21_corpus_root() / "leadSheet").glob("*.mxl")):
        try:
            score = converter.parse(str(path))
            part = score.parts[0]
            flat = part.stripTies().flatten()
            ts = next(iter(flat.getElementsByClass(meter.TimeSignature)), None) or meter.TimeSignature("4/4")
            mel = np.asarray([(round(float(n.offset) * 480), round(float(n.quarterLength) * 480), n.pitch.midi)
                              for n in flat.getElementsByClass(note.Note) if n.quarterLength > 0], dtype=np.int64)
            marks = []
            for cs in flat.getElementsByClass(harmony.ChordSymbol):
                root = cs.root().pitchClass
                q = _symbol_quality({(p.pitchClass - root) % 12 for p in cs.pitches})
                marks.append((round(float(cs.offset) * 480), root, q))
            k = score.analyze("key")
        except Exception:  # a lead sheet music21 cannot read is left out, not fatal
            continue
        bar = round(float(ts.barDuration.quarterLength) * 480)
        measures = list(part.getElementsByClass("Measure"))
        anchor = 0
        if len(measures) > 1 and float(measures[0].duration.quarterLength) * 480 < bar - 1:
            anchor = round(float(measures[1].offset) * 480)
        shift = (bar - anchor % bar) % bar
        mel[:, 0] += shift
        end = int((mel[:, 0] + mel[:, 1]).max())
        chords = [Chord(on + shift, max(1, nxt - on), r, q) for (on, r, q), (nxt, _, _) in
                  zip(marks, marks[1:] + [(end - shift, 0, None)]) if q is not None and nxt > on]
        song = Song(meters=(TimeSignature(0, ts.numerator, ts.denominator),))
        key = Key(k.tonic.pitchClass, "minor" if k.mode == "minor" else "major")
        out.append((path.stem, mel, song, key, tuple(chords)))
    return out


def evaluate_leadsheets(songs: list, harmonize: Callable | dict[str, Callable], per_bar: int = 2
                        ) -> dict[str, dict[str, float]]:
    """Model(s) and reference against the written chord symbols of ``leadsheet_songs()`` (per unit:
    the symbol sounding at its middle), and the written chords' own melody on chord tones."""
    from musicapp.ml.harmony_model import unit_grid

    systems = _systems(harmonize)
    tallies = {**{name: Tally() for name in systems}, "reference": Tally(), "written chords": Tally()}
    for _, mel, song, key, chords in songs:
        grid = unit_grid(song, int((mel[:, 0] + mel[:, 1]).max()))
        ulen = np.diff(grid.bounds).astype(np.float64)
        mchroma = melody_chroma(mel, grid.bounds)
        written = chords_per_unit(chords, grid.bounds)
        truth = [None if c is None else (c.root, c.quality) for c in written]
        preds = {**{name: chords_per_unit(fn(mel, song, key, per_bar), grid.bounds) for name, fn in systems.items()},
                 "reference": chords_per_unit(reference_harmonize(mel, song, key, per_bar), grid.bounds),
                 "written chords": written}
        for name, pred in preds.items():
            tallies[name].add_truth(pred, truth, ulen)
            tallies[name].add_melody(pred, mchroma)
    return {k: v.row() for k, v in tallies.items()}
