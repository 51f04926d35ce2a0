"""Harmony training data: polyphonic scores inside ``music21`` parsed once into a resumable cache.

Owns the list of scores the harmoniser learns from (the Bach chorales and the other
tonal scores in three or more parts shipped in music21: madrigals, string quartets, a trio
sonata, songs with accompaniment; never ``nottingham-dataset``, never ``palestrina``, which is the fine-tune
benchmark's unseen style), the parse of one score into plain note arrays, the cache, the
cutting of long movements into chunks and the content-hash split. Each score becomes one
``.npz`` file in ``cache_dir()/CORPUS/`` holding

- ``notes``: int32 ``(N, 5)`` rows ``(onset, length, pitch, top, part)`` in ticks at ``PPQ``
  (480 per quarter), ties merged, every part of the score (this is the score "chordified": all
  sounding pitches per instant), ``top`` = 1 for the notes of the melody (``melody_part``: the
  highest of the parts that sound most of the piece), ``part`` the part's index in the score;
- ``meta``: int32 ``(6,)`` = ``beat_ticks, bar_ticks, anchor, key_tonic, key_mode, parts``;
  ``anchor`` is the tick of a bar line (the start of the first full bar, so a pickup sits
  before it), ``key_mode`` 0 major, 1 minor (music21's key analysis of the whole score);
- ``split_hash``: the split hash of the *whole* line of the part with the highest mean pitch
  (the melody of cache v1), so a score kept only in part (see below) stays in the split its
  full line hashes to, and the v2 melody rule moved no score between splits.

Cache v1 (until 2026-12-07) took the part with the highest mean pitch as the melody: read at
sounding pitch, a chorale's trumpet descant (a few bars) could be "the melody"; v2 takes the
highest of the parts sounding at least half as long as the longest-sounding part.

A score whose meter changes keeps only its longest stretch in one meter (the bar grid the model
reads assumes one meter). The score's files are read in the order ``.mxl``, ``.musicxml``,
``.xml``, ``.krn`` and only the first of the same name is used (music21 ships some works twice).

A score that cannot be used (fewer than 3 parts, no notes, a parse error) leaves an empty
``NAME.skip`` file so a resumed preparation does not try it again. Files are written
atomically, so killing the preparation loses at most the score being parsed.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicapp.ml.corpus import HELD_OUT_CORPORA, music21_corpus_root

PPQ = 480
CACHE_VERSION = 2
#: music21 corpus folders of tonal music in three or more parts, in the order they are parsed:
#: chorales, madrigals, string quartets (Haydn, Mozart, Schumann, Beethoven), a trio sonata,
#: arias, Lieder and songs with their accompaniment. Not the trecento / Josquin / Ciconia
#: polyphony: it is modal, cadences on bare fifths, and the major/minor chord templates the
#: labels come from would mislabel it. Scores with fewer than three parts are skipped.
HARMONY_CORPORA: tuple[str, ...] = (
    "bach", "monteverdi", "haydn", "mozart", "schumann_robert", "corelli", "handel", "cpebach",
    "schubert", "schumann_clara", "verdi", "weber", "beach", "johnson_j_r", "liliuokalani", "beethoven")
#: never trained on: the held-out melody corpus and the fine-tune benchmark's unseen style.
NEVER_TRAIN: frozenset[str] = HELD_OUT_CORPORA | {"palestrina"}
_SCORE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".krn")
#: long scores are cut into chunks of at most this many bars (examples of similar size; the
#: split is still by the whole score).
CHUNK_BARS = 64


def cache_dir() -> Path:
    """``$MUSICAPP_CACHE/harmony-v2`` or ``~/.cache/musicapp/harmony-v2`` (``CACHE_VERSION``)."""
    root = os.environ.get("MUSICAPP_CACHE") or os.path.join(Path.home(), ".cache", "musicapp")
    return Path(root) / f"harmony-v{CACHE_VERSION}"


def list_scores(corpus: str) -> list[tuple[str, Path]]:
    """``(stable id, path)`` of every score file in one music21 corpus folder, sorted."""
    if corpus in NEVER_TRAIN:
        raise ValueError(f"{corpus} is held out and must never be used for training")
    folder = music21_corpus_root() / corpus
    best: dict[Path, Path] = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix in _SCORE_SUFFIXES:
            stem = p.with_suffix("")
            if stem not in best or _SCORE_SUFFIXES.index(p.suffix) < _SCORE_SUFFIXES.index(best[stem].suffix):
                best[stem] = p
    return [(f"{corpus}/{p.relative_to(folder).as_posix()}", p) for p in sorted(best.values())]


def _file_stem(score_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", score_id.split("/", 1)[1])


def _meter_stretches(part, total: int) -> list[tuple[int, int, object]]:
    """``(start, end, TimeSignature)`` in ticks of the stretches of ``part`` in one meter."""
    from music21 import meter

    marks: list[tuple[int, object]] = []
    for ts in part.flatten().getElementsByClass(meter.TimeSignature):
        on = round(float(ts.offset) * PPQ)
        if marks and marks[-1][1].ratioString == ts.ratioString:
            continue
        if marks and marks[-1][0] == on:
            marks[-1] = (on, ts)
        else:
            marks.append((on, ts))
    if not marks:
        marks = [(0, meter.TimeSignature("4/4"))]
    marks[0] = (0, marks[0][1])
    return [(on, marks[i + 1][0] if i + 1 < len(marks) else total, ts) for i, (on, ts) in enumerate(marks)]


def melody_hash(melody: np.ndarray) -> int:
    """Split hash (0-99) of a top line ``(n, 3)``: its relative pitches and onsets."""
    import hashlib

    key = ((melody[:, 2] - melody[:, 2].min()).astype(np.int32).tobytes()
           + (melody[:, 0] - melody[0, 0]).astype(np.int32).tobytes())
    return int(hashlib.sha1(key).hexdigest()[:8], 16) % 100


def sounding_ticks(notes: list[tuple[int, int, int]]) -> int:
    """Ticks during which at least one of ``notes`` ``(onset, length, pitch)`` sounds."""
    total, reach = 0, None
    for on, ln, _ in sorted(notes):
        end = on + ln
        if reach is None or on >= reach:
            total += ln
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


#: a part is a melody candidate when it sounds at least this share of what the part that
#: sounds longest does (a trumpet descant in a few bars of a chorale is not the tune).
MELODY_MIN_SOUNDING = 0.5


def mean_pitches(per_part: list[list[tuple[int, int, int]]]) -> list[float]:
    """Mean MIDI pitch of each part's ``(onset, length, pitch)`` notes (-1 for a part without notes)."""
    return [sum(p for _, _, p in notes) / len(notes) if notes else -1.0 for notes in per_part]


def melody_part(per_part: list[list[tuple[int, int, int]]]) -> int:
    """Index of the melody among the parts' ``(onset, length, pitch)`` notes: the part with the
    highest mean pitch among those sounding at least ``MELODY_MIN_SOUNDING`` of the longest-
    sounding part's time (read at sounding pitch, trumpets and descants often lie higher than
    the soprano for a few bars)."""
    sounding = [sounding_ticks(n) for n in per_part]
    longest = max(sounding, default=0)
    best, best_mean = 0, -1.0
    for i, mean in enumerate(mean_pitches(per_part)):
        if per_part[i] and sounding[i] >= MELODY_MIN_SOUNDING * longest and mean > best_mean:
            best, best_mean = i, mean
    return best


def extract_score(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Parse one score into ``(notes (N, 5), meta (6,), split_hash)`` as described above, or None."""
    from music21 import converter

    score = converter.parse(str(path))
    parts = list(getattr(score, "parts", []))
    if len(parts) < 3:
        return None
    if any(p.atSoundingPitch is False for p in parts) or any(
            getattr(i, "transposition", None) is not None for i in score.recurse().getElementsByClass("Instrument")):
        score.toSoundingPitch(inPlace=True)  # a clarinet in B flat is written a tone above its sound
        parts = list(score.parts)
    rows: list[tuple[int, int, int, int, int]] = []
    per_part: list[list[tuple[int, int, int]]] = []
    for part in parts:
        notes: list[tuple[int, int, int]] = []
        for n in part.stripTies().flatten().notes:
            on = round(float(n.offset) * PPQ)
            ln = round(float(n.quarterLength) * PPQ)
            if ln <= 0:
                continue  # grace notes
            for p in n.pitches:
                if 0 <= p.midi <= 127:
                    notes.append((on, ln, int(p.midi)))
        per_part.append(notes)
    top = melody_part(per_part)
    highest = int(np.argmax(mean_pitches(per_part)))  # the melody until cache v2: still what the split hashes
    for i, notes in enumerate(per_part):
        rows.extend((on, ln, p, int(i == top), i) for on, ln, p in notes)
    if len(per_part[top]) < 8:
        return None
    arr = np.asarray(sorted(rows), dtype=np.int32).reshape(-1, 5)
    split_hash = melody_hash(arr[arr[:, 4] == highest, :3])
    total = int((arr[:, 0] + arr[:, 1]).max())
    lo, hi, ts = max(_meter_stretches(parts[top], total), key=lambda m: m[1] - m[0])
    beat = round(float(ts.beatDuration.quarterLength) * PPQ)
    bar = round(float(ts.barDuration.quarterLength) * PPQ)
    if beat <= 0 or bar <= 0 or bar % beat:
        return None
    if lo > 0 or hi < total:  # keep the longest stretch in one meter, notes cut at its ends
        arr = arr[(arr[:, 0] < hi) & (arr[:, 0] + arr[:, 1] > lo)].copy()
        end = np.minimum(arr[:, 0] + arr[:, 1], hi)
        arr[:, 0] = np.maximum(arr[:, 0], lo)
        arr[:, 1] = end - arr[:, 0]
        arr = arr[arr[:, 1] > 0]
        arr[:, 0] -= lo
        if int((arr[:, 3] == 1).sum()) < 8:
            return None
    anchor = 0
    measures = list(parts[top].getElementsByClass("Measure"))
    if lo == 0 and len(measures) > 1 and float(measures[0].duration.quarterLength) * PPQ < bar - 1:
        anchor = round(float(measures[1].offset) * PPQ)  # pickup before the first bar line
    k = score.analyze("key")
    mode = 0 if k.mode == "major" else 1
    meta = np.asarray([beat, bar, anchor, k.tonic.pitchClass, mode, len(parts)], dtype=np.int32)
    return arr, meta, split_hash


def prepare_harmony(corpora: tuple[str, ...] = HARMONY_CORPORA, limit: int | None = None,
                    log=sys.stderr) -> int:
    """Parse every score not yet cached (resumable); returns how many scores are cached."""
    done = 0
    t0 = time.monotonic()
    for corpus in corpora:
        out_dir = cache_dir() / corpus
        out_dir.mkdir(parents=True, exist_ok=True)
        scores = list_scores(corpus)[:limit]
        for i, (score_id, path) in enumerate(scores):
            stem = _file_stem(score_id)
            npz, skip = out_dir / f"{stem}.npz", out_dir / f"{stem}.skip"
            if npz.exists():
                done += 1
                continue
            if skip.exists():
                continue
            try:
                res = extract_score(path)
            except Exception:  # a score music21 cannot read is skipped, not fatal
                res = None
            if res is None:
                skip.touch()
                continue
            tmp = out_dir / f"{stem}.tmp.npz"
            np.savez_compressed(tmp, notes=res[0], meta=res[1], name=np.asarray(score_id),
                                split_hash=np.asarray(res[2], dtype=np.int32))
            os.replace(tmp, npz)
            done += 1
            if log is not None:
                log.write(f"{corpus}: {i + 1}/{len(scores)} {score_id} ({len(res[0])} notes), "
                          f"{time.monotonic() - t0:.0f} s\n")
                log.flush()
    return done


@dataclass(frozen=True)
class Score:
    """One cached score: ``notes`` ``(N, 5)`` onset, length, pitch, top, part (ticks at PPQ 480)."""

    name: str
    notes: np.ndarray
    beat_ticks: int
    bar_ticks: int
    anchor: int
    key_tonic: int
    key_mode: int
    split_hash: int | None = None

    @property
    def melody(self) -> np.ndarray:
        """The top part's notes ``(n, 3)``: onset, length, pitch."""
        return self.notes[self.notes[:, 3] == 1, :3]


def load_scores(corpora: tuple[str, ...] = HARMONY_CORPORA) -> list[Score]:
    """Every cached score of ``corpora`` (whatever has been prepared so far), sorted by name."""
    out: list[Score] = []
    for corpus in corpora:
        for f in sorted((cache_dir() / corpus).glob("*.npz")):
            if f.name.endswith(".tmp.npz"):
                continue
            with np.load(f, allow_pickle=False) as z:
                m = z["meta"]
                h = int(z["split_hash"]) if "split_hash" in z.files else None
                out.append(Score(str(z["name"]), z["notes"], int(m[0]), int(m[1]), int(m[2]),
                                 int(m[3]), int(m[4]), h))
    return out


def chunks(score: Score, bars: int = CHUNK_BARS) -> list[Score]:
    """``score`` cut at bar lines into pieces of at most ``bars`` bars (itself when shorter).

    Each chunk keeps the parent's split hash (so every chunk of a held-out score is held out);
    its notes are clipped to the chunk and shifted to start at 0; its key is the one
    ``core.scales.detect_key`` finds in all its parts (a long movement modulates, so the key of
    the whole score says little about bars 129-192). Chunks with fewer than 8 melody notes are dropped.
    """
    from musicapp.core.scales import detect_key
    from musicapp.core.song import Note

    notes = score.notes
    end = int((notes[:, 0] + notes[:, 1]).max())
    span = bars * score.bar_ticks
    if end - score.anchor <= span + score.bar_ticks:
        return [score]
    h = score.split_hash if score.split_hash is not None else melody_hash(score.melody)
    out: list[Score] = []
    cuts = [0] + list(range(score.anchor + span, end, span)) + [end]
    for k, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:])):
        sel = notes[(notes[:, 0] >= lo) & (notes[:, 0] < hi)].astype(np.int64)
        sel[:, 1] = np.minimum(sel[:, 0] + sel[:, 1], hi) - sel[:, 0]
        sel[:, 0] -= lo
        if int((sel[:, 3] == 1).sum()) < 8:
            continue
        key = detect_key([Note(int(a), int(p), int(max(b, 1))) for a, b, p in sel[:, :3]])
        out.append(Score(f"{score.name}#{k}", sel.astype(np.int32), score.beat_ticks, score.bar_ticks,
                         score.anchor if k == 0 else 0, key.tonic, int(key.mode == "minor"), h))
    return out


def split_of_score(score: Score) -> str:
    """'train' (80%), 'valid' (10%) or 'test' (10%) by a hash (0-99) of the melody's content:
    train below 80, test 80-84 and 95-99, valid 85-94. (Until the harmoniser of December 2026
    the split was 90/5/5 with valid 90-94 and test 95-99; the larger held-out splits keep every
    score that was held out in the same split, and 80-89 came out of training.)

    Chorale tunes harmonised twice (same melody) therefore land in the same split, and so do
    all chunks of one score (``score.split_hash``, the hash of the whole score's top line).
    """
    h = score.split_hash if score.split_hash is not None else melody_hash(score.melody)
    return "train" if h < 80 else "valid" if 85 <= h < 95 else "test"


if __name__ == "__main__":  # pragma: no cover - `python -m musicapp.ml.harmony_data`
    n = prepare_harmony()
    print(f"{n} scores cached in {cache_dir()}")
