"""Harmony training data: polyphonic scores inside ``music21`` parsed once into a resumable cache.

Owns the list of scores the harmoniser learns from (the Bach chorales and other chordal
scores shipped in music21; never ``nottingham-dataset``), the parse of one score into
plain note arrays, and the cache. Each score becomes one ``.npz`` file in
``cache_dir()/CORPUS/`` holding

- ``notes``: int32 ``(N, 4)`` rows ``(onset, length, pitch, top)`` in ticks at ``PPQ`` (480
  per quarter), ties merged, every part of the score (this is the score "chordified": all
  sounding pitches per instant), ``top`` = 1 for the notes of the highest part (the melody);
- ``meta``: int32 ``(6,)`` = ``beat_ticks, bar_ticks, anchor, key_tonic, key_mode, parts``;
  ``anchor`` is the tick of a bar line (the start of the first full bar, so a pickup sits
  before it), ``key_mode`` 0 major, 1 minor (music21's key analysis of the whole score).

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
CACHE_VERSION = 1
#: music21 corpus folders with chordal (homophonic) texture: chorales, madrigals, quartets.
HARMONY_CORPORA: tuple[str, ...] = ("bach", "monteverdi", "haydn", "mozart", "beethoven")
_SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn")


def cache_dir() -> Path:
    """``$MUSICAPP_CACHE/harmony-v1`` or ``~/.cache/musicapp/harmony-v1``."""
    root = os.environ.get("MUSICAPP_CACHE") or os.path.join(Path.home(), ".cache", "musicapp")
    return Path(root) / f"harmony-v{CACHE_VERSION}"


def list_scores(corpus: str) -> list[tuple[str, Path]]:
    """``(stable id, path)`` of every score file in one music21 corpus folder, sorted."""
    if corpus in HELD_OUT_CORPORA:
        raise ValueError(f"{corpus} is held out and must never be used for training")
    folder = music21_corpus_root() / corpus
    return [(f"{corpus}/{p.relative_to(folder).as_posix()}", p)
            for p in sorted(folder.rglob("*")) if p.suffix in _SCORE_SUFFIXES]


def _file_stem(score_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", score_id.split("/", 1)[1])


def extract_score(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray] | None:
    """Parse one score into ``(notes (N, 4), meta (6,))`` as described above, or None."""
    from music21 import converter, meter

    score = converter.parse(str(path))
    parts = list(getattr(score, "parts", []))
    if len(parts) < 3:
        return None
    ts = next(iter(score.recurse().getElementsByClass(meter.TimeSignature)), None)
    if ts is None:
        ts = meter.TimeSignature("4/4")
    beat = round(float(ts.beatDuration.quarterLength) * PPQ)
    bar = round(float(ts.barDuration.quarterLength) * PPQ)
    if beat <= 0 or bar <= 0 or bar % beat:
        return None
    rows: list[tuple[int, int, int, int]] = []
    mean_pitch: list[float] = []
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
        mean_pitch.append(sum(p for _, _, p in notes) / len(notes) if notes else -1.0)
    top = int(np.argmax(mean_pitch))
    for i, notes in enumerate(per_part):
        rows.extend((on, ln, p, int(i == top)) for on, ln, p in notes)
    if len(per_part[top]) < 8:
        return None
    measures = list(parts[top].getElementsByClass("Measure"))
    anchor = 0
    if len(measures) > 1 and float(measures[0].duration.quarterLength) * PPQ < bar - 1:
        anchor = round(float(measures[1].offset) * PPQ)  # pickup before the first bar line
    k = score.analyze("key")
    mode = 0 if k.mode == "major" else 1
    arr = np.asarray(sorted(rows), dtype=np.int32).reshape(-1, 4)
    meta = np.asarray([beat, bar, anchor, k.tonic.pitchClass, mode, len(parts)], dtype=np.int32)
    return arr, meta


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
            np.savez_compressed(tmp, notes=res[0], meta=res[1], name=np.asarray(score_id))
            os.replace(tmp, npz)
            done += 1
            if log is not None and (i % 20 == 0 or i + 1 == len(scores)):
                log.write(f"{corpus}: {i + 1}/{len(scores)} scores, {time.monotonic() - t0:.0f} s\n")
                log.flush()
    return done


@dataclass(frozen=True)
class Score:
    """One cached score: ``notes`` ``(N, 4)`` onset, length, pitch, top (ticks at PPQ 480)."""

    name: str
    notes: np.ndarray
    beat_ticks: int
    bar_ticks: int
    anchor: int
    key_tonic: int
    key_mode: int

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
                out.append(Score(str(z["name"]), z["notes"], int(m[0]), int(m[1]), int(m[2]),
                                 int(m[3]), int(m[4])))
    return out


def split_of_score(score: Score) -> str:
    """'train' (90%), 'valid' (5%) or 'test' (5%) by a hash of the melody's content.

    Chorale tunes harmonised twice (same melody) therefore land in the same split.
    """
    import hashlib

    mel = score.melody
    key = ((mel[:, 2] - mel[:, 2].min()).astype(np.int32).tobytes()
           + (mel[:, 0] - mel[0, 0]).astype(np.int32).tobytes())
    h = int(hashlib.sha1(key).hexdigest()[:8], 16) % 100
    return "train" if h < 90 else "valid" if h < 95 else "test"


if __name__ == "__main__":  # pragma: no cover - `python -m musicapp.ml.harmony_data`
    n = prepare_harmony()
    print(f"{n} scores cached in {cache_dir()}")
