"""Choose the harmoniser's decoder weights on the VALIDATION split and print the grid.

    python benchmarks/tune_harmony.py [--checkpoint PATH] [--write]

Needs the harmony cache (``musicapp prepare-harmony``). The network is not retrained: only the
decoder's weights (bigram table, melody on chord tones, in-key and rich-style priors) are
searched (``musicapp.ml.harmony_tune``). The test split is never looked at here. ``--write``
stores the chosen weights in the checkpoint JSON's ``extra.decoder`` (weights file untouched);
then run ``musicapp eval-harmony --card models/README.md --update-metrics`` once for the test
figures.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicapp.ml.harmony import Harmonizer  # noqa: E402
from musicapp.ml.harmony_tune import format_grid, tune_weights  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="model (default: models/harmony.json)")
    ap.add_argument("--write", action="store_true", help="store the chosen weights in the checkpoint JSON")
    args = ap.parse_args(argv)
    from musicapp.ml.harmony_data import load_scores
    from musicapp.ml.harmony_train import build_examples

    h = Harmonizer.load(args.checkpoint)
    scores = load_scores()
    if not scores:
        print("no prepared harmony data: run `musicapp prepare-harmony` first", file=sys.stderr)
        return 1
    valid = build_examples(scores, lambda s: None)["valid"]
    print(f"validation split: {len(valid)} scores; shipped weights {h.weights}")
    chosen, rows = tune_weights(h, valid, log=lambda s: print(s, flush=True))
    print(format_grid(rows, chosen))
    if args.write:
        from musicapp.ml.harmony_ship import update_decoder

        json_path = update_decoder(h.path, chosen)
        print(f"wrote {asdict(chosen)} into {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
