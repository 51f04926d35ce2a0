"""Training corpora: parse the melodies that ship inside ``music21`` once, cache them compactly.

Owns the list of corpora we train on, the (slow) music21 parse, and the cache format.
The Nottingham Music Database (``nottingham-dataset``) is our held-out test set and is
never read here.

Cache format (one ``.npz`` shard per corpus, in ``cache_dir()``):

- ``notes``: int32 array ``(N, 3)`` of ``(onset, length, pitch)`` in 16th-note steps and
  MIDI pitch numbers, all tunes concatenated, monophonic (top line), sorted by onset.
- ``bars``: int32 array ``(B, 2)`` of ``(bar_start, bar_length)`` in 16th steps.
- ``tunes``: int32 array ``(T, 6)``: ``note_lo, note_hi, bar_lo, bar_hi, key_tonic, key_mode``
  (``key_mode`` 0 = major, 1 = minor, -1 unknown).
- ``names``: str array ``(T,)`` of stable tune ids ``corpus/file#index``.

Shards are written atomically and skipped when present, so an interrupted preparation
resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicapp.core.atomic import atomic_path

#: corpora (music21 corpus folder names) used for training, never ``nottingham-dataset``.
TRAIN_CORPORA: tuple[str, ...] = (
    "essenFolksong",
    "oneills1850",
    "ryansMammoth",
    "airdsAirs",
    "miscFolk",
    "bach",
)
HELD_OUT_CORPORA: frozenset[str] = frozenset({"nottingham-dataset"})
CACHE_VERSION = 1
STEPS_PER_QUARTER = 4


def cache_dir() -> Path:
    """Where prepared shards live (``$MUSICAPP_CACHE`` or the user cache folder, on Linux
    ``~/.cache/musicapp``)."""
    from musicapp.paths import user_cache_dir

    return user_cache_dir() / f"corpus-v{CACHE_VERSION}"


def music21_corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


@dataclass(frozen=True)
class TuneSource:
    """One tune to parse: ABC text or a file path, with a stable id."""

    name: str
    abc: str | None = None
    path: str | None = None


def _split_abc(text: str) -> list[str]:
    """Split an ABC collection into single tunes, each with the file preamble."""
    lines = text.splitlines()
    preamble: list[str] = []
    tunes: list[list[str]] = []
    for line in lines:
        if line.startswith("X:"):
            tunes.append([line])
        elif tunes:
            tunes[-1].append(line)
        else:
            preamble.append(line)
    head = [ln for ln in preamble if ln[:2] in ("L:", "M:", "Q:", "K:") or ln.startswith("%%")]
    return ["\n".join(t[:1] + head + t[1:]) for t in tunes]


def list_sources(corpus: str) -> list[TuneSource]:
    """Every tune of one music21 corpus folder, in a deterministic order."""
    if corpus in HELD_OUT_CORPORA:
        raise ValueError(f"{corpus} is held out and must never be used for training")
    folder = music21_corpus_root() / corpus
    out: list[TuneSource] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".abc":
            for i, tune in enumerate(_split_abc(path.read_text(encoding="latin-1"))):
                out.append(TuneSource(name=f"{corpus}/{rel}#{i}", abc=tune))
        elif path.suffix in (".mxl", ".xml", ".musicxml", ".krn"):
            out.append(TuneSource(name=f"{corpus}/{rel}#0", path=str(path)))
    return out


def _extract(src: TuneSource) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]], int, int] | None:
    """Parse one tune into (notes, bars, key tonic, key mode) on the 16th grid, or None."""
    from music21 import converter, key as m21key

    try:
        score = converter.parse(src.abc, format="abc") if src.abc is not None else converter.parse(src.path)
    except Exception:
        return None
    parts = list(getattr(score, "parts", [])) or [score]
    if len(parts) > 1:  # chorales etc.: the melody is the highest part
        def mean_pitch(p) -> float:
            ps = [n.pitch.midi for n in p.recurse().notes if not n.isChord]
            return sum(ps) / len(ps) if ps else -1.0

        parts.sort(key=mean_pitch, reverse=True)
    part = parts[0]  # melody / soprano
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return None
    notes: dict[int, tuple[int, int]] = {}
    bars: list[tuple[int, int]] = []
    pad = 0.0
    first = measures[0]
    try:
        bar_ql = float(first.barDuration.quarterLength)
    except Exception:
        bar_ql = float(first.highestTime)
    if float(first.highestTime) < bar_ql - 1e-6:
        pad = bar_ql - float(first.highestTime)  # pickup measure
    for mi, m in enumerate(measures):
        m_off = float(m.offset)
        start = round((m_off + pad) * STEPS_PER_QUARTER) if mi else 0
        try:
            length_ql = float(m.barDuration.quarterLength)
        except Exception:
            length_ql = float(m.highestTime)
        if mi == 0:
            bars.append((0, round(length_ql * STEPS_PER_QUARTER)))
        else:
            bars.append((start, round(length_ql * STEPS_PER_QUARTER)))
        for n in m.recurse().notes:
            if getattr(n, "tie", None) is not None and n.tie.type in ("stop", "continue"):
                # extend the previous note instead of striking again
                on = round((m_off + pad + float(n.getOffsetInHierarchy(m))) * STEPS_PER_QUARTER)
                end = on + round(float(n.quarterLength) * STEPS_PER_QUARTER)
                if notes:
                    last = max(notes)
                    ln, p = notes[last]
                    if end > last + ln:
                        notes[last] = (end - last, p)
                continue
            if n.isChord:
                pitch = max(p.midi for p in n.pitches)
            else:
                pitch = n.pitch.midi
            on = round((m_off + pad + float(n.getOffsetInHierarchy(m))) * STEPS_PER_QUARTER)
            ln = round(float(n.quarterLength) * STEPS_PER_QUARTER)
            if ln <= 0 or not 0 <= pitch <= 127:
                continue
            if on in notes and notes[on][1] >= pitch:
                continue
            notes[on] = (ln, pitch)
    if len(notes) < 8:
        return None
    ordered = sorted(notes.items())
    mono: list[tuple[int, int, int]] = []
    for i, (on, (ln, p)) in enumerate(ordered):
        nxt = ordered[i + 1][0] if i + 1 < len(ordered) else on + ln
        mono.append((on, max(1, min(ln, nxt - on)), p))
    tonic, mode = -1, -1
    ks = list(part.recurse().getElementsByClass(m21key.KeySignature))
    if ks:
        k = ks[0]
        k = k if isinstance(k, m21key.Key) else k.asKey("major")
        tonic, mode = k.tonic.pitchClass, 0 if k.mode == "major" else 1 if k.mode == "minor" else -1
    return mono, bars, tonic, mode


def _extract_safe(src: TuneSource):
    try:
        return _extract(src)
    except Exception:
        return None


def prepare_corpus(corpus: str, workers: int = 2, progress=None) -> Path:
    """Parse one corpus into its cached shard (skipped if present) and return the path."""
    out = cache_dir() / f"{corpus}.npz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    sources = list_sources(corpus)
    notes: list[tuple[int, int, int]] = []
    bars: list[tuple[int, int]] = []
    tunes: list[tuple[int, int, int, int, int, int]] = []
    names: list[str] = []
    t0 = time.monotonic()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for i, (src, res) in enumerate(zip(sources, pool.map(_extract_safe, sources, chunksize=16))):
            if progress:
                progress(corpus, i + 1, len(sources), time.monotonic() - t0)
            if res is None:
                continue
            mono, tbars, tonic, mode = res
            n0, b0 = len(notes), len(bars)
            notes.extend(mono)
            bars.extend(tbars)
            tunes.append((n0, len(notes), b0, len(bars), tonic, mode))
            names.append(src.name)
    with atomic_path(out) as tmp:
        np.savez_compressed(
            tmp,
            notes=np.asarray(notes, dtype=np.int32).reshape(-1, 3),
            bars=np.asarray(bars, dtype=np.int32).reshape(-1, 2),
            tunes=np.asarray(tunes, dtype=np.int32).reshape(-1, 6),
            names=np.asarray(names),
        )
    return out


@dataclass(frozen=True)
class Tune:
    """One cached melody: notes ``(n, 3)`` = onset, length (16th steps), pitch; bars ``(b, 2)``."""

    name: str
    notes: np.ndarray
    bars: np.ndarray
    key_tonic: int
    key_mode: int


def load_corpus(corpus: str) -> list[Tune]:
    """Load a prepared shard as tunes (raises FileNotFoundError if not prepared)."""
    path = cache_dir() / f"{corpus}.npz"
    with np.load(path, allow_pickle=False) as z:
        notes, bars, tunes, names = z["notes"], z["bars"], z["tunes"], z["names"]
    return [
        Tune(str(names[i]), notes[t[0]:t[1]], bars[t[2]:t[3]], int(t[4]), int(t[5]))
        for i, t in enumerate(tunes)
    ]


def split_of(tune: Tune | str) -> str:
    """Deterministic split by tune *content*: 'train' (90%), 'valid' (5%) or 'test' (5%).

    Hashing the melody (not the name) sends duplicate tunes to the same split.
    """
    if isinstance(tune, str):
        key = tune.encode()
    else:
        key = tune.notes[:, 1:].astype(np.int32).tobytes() + (tune.notes[:, 0] - tune.notes[0, 0]).tobytes()
    h = int(hashlib.sha1(key).hexdigest()[:8], 16) % 100
    return "train" if h < 90 else "valid" if h < 95 else "test"


def load_all(corpora: tuple[str, ...] = TRAIN_CORPORA) -> dict[str, list[Tune]]:
    """All prepared tunes grouped by split, exact duplicates removed."""
    seen: set[bytes] = set()
    out: dict[str, list[Tune]] = {"train": [], "valid": [], "test": []}
    for c in corpora:
        for t in load_corpus(c):
            key = hashlib.sha1(t.notes[:, 1:].tobytes() + (t.notes[:, 0] - t.notes[0, 0]).tobytes()).digest()
            if key in seen:
                continue
            seen.add(key)
            out[split_of(t)].append(t)
    return out


def prepare_all(corpora: tuple[str, ...] = TRAIN_CORPORA, workers: int = 2) -> None:
    """Prepare every training corpus with a simple progress line on stderr."""

    def progress(name: str, i: int, n: int, secs: float) -> None:
        if i % 50 == 0 or i == n:
            sys.stderr.write(f"\r{name}: {i}/{n} tunes, {secs:.0f} s")
            if i == n:
                sys.stderr.write("\n")
            sys.stderr.flush()

    for c in corpora:
        prepare_corpus(c, workers=workers, progress=progress)


if __name__ == "__main__":  # pragma: no cover - used by `musicapp prepare-data`
    prepare_all()
