"""Writes the fine-tuning benchmark's "user files": Palestrina mass movements as multi-voice .mid.

The shipped LSTM never saw Palestrina (it was trained on Essen, O'Neill's, Ryan's, Aird's,
miscFolk and Bach chorale sopranos). Every 10th of the 1,318 Humdrum files music21 ships
(sorted by name) is parsed and exported with music21's own MIDI writer, one track per voice,
so the fine-tune has to find the melody itself (the most melodic voice's top line).
A stable hash of the file name puts about a quarter in ``test/`` (held out; never trained
on) and the rest in ``train/``. Files already written are skipped (resumable).

    python benchmarks/finetune_style_data.py OUT_DIR
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def main(out: str, stride: int = 10) -> None:
    import music21

    root = Path(music21.__file__).parent / "corpus" / "palestrina"
    files = sorted(root.glob("*.krn"))[::stride]
    for i, path in enumerate(files):
        h = int(hashlib.sha1(path.name.encode()).hexdigest()[:8], 16) % 4
        dest = Path(out) / ("test" if h == 0 else "train") / (path.stem + ".mid")
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            score = music21.converter.parse(str(path))
            tmp = dest.with_suffix(".tmp")
            score.write("midi", fp=str(tmp))
            tmp.replace(dest)
        except Exception as err:  # a few Humdrum files music21 cannot export
            print(f"skip {path.name}: {type(err).__name__}: {err}", flush=True)
        print(f"{i + 1}/{len(files)} {dest}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
