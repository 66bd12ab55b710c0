#!/usr/bin/env python3
"""Element F1 of a hybrid: one model's outputs with some elements taken from another (docs/training.md, "A lead").

Scores BASE, OTHER and, for each element group, BASE with those elements' element output, line outputs and
thresholds taken from OTHER, on an npy set written by `xrfedge synth --format npy` (the selection set: seed 6006,
`randomized`, ε = 0.02). Python reference interpreter for the int8 QDQ models, the Decoder's rule, the card
thresholds, and inputs above a card's count range scaled to its top as the instrument does; on the 200,000
selection spectra it gives xrfedge eval's element F1 of 1.6.0 and run AI-r to within 0.000001. A measurement for
choosing, not a candidate: no graph is built.

  ./xrfedge synth --profile randomized --count 200000 --seed 6006 --label-systematic 0.02 --format npy \\
      --out /tmp/sel --independent-of 1001 2002
  PYTHONPATH=training /usr/bin/python3 scripts/validation/hybrid_selection.py /tmp/sel \\
      --base models --other .build/model-AIr --groups Mg+Si,Mg,Si
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from xrftrain.card import load_int8_with_card, scale_to_count_range
from xrftrain.catalog import load_catalog
from xrftrain.data import load_dataset
from xrftrain.pipeline import _onnx_probs, _score


def probabilities(folder: Path, x: np.ndarray, cat):
    """(line probs, element probs, line thresholds, element thresholds) of a models folder on x, as the instrument
    reads them (count range scaling included)."""
    model, _, lt, et, top = load_int8_with_card(folder)
    lp, ep = _onnx_probs(model, scale_to_count_range(x, top).astype(np.float32), cat)
    return lp, ep, lt.copy(), et.copy()


def hybrid(base, other, symbols: list[str], cat):
    """BASE's outputs and thresholds with each symbol's element output and its lines taken from OTHER."""
    lp, ep, lt, et = (a.copy() for a in base)
    olp, oep, olt, oet = other
    for symbol in symbols:
        e = cat.element_index(symbol)
        lines = np.asarray(cat.line_element) == e
        ep[:, e], et[e] = oep[:, e], oet[e]
        lp[:, lines], lt[lines] = olp[:, lines], olt[lines]
    return lp, ep, lt, et


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="npy set (xrfedge synth --format npy)")
    ap.add_argument("--base", type=Path, required=True, help="models folder whose outputs are kept")
    ap.add_argument("--other", type=Path, required=True, help="models folder the groups' elements come from")
    ap.add_argument("--groups", default="Mg+Si", help="comma-separated groups of element symbols joined by +")
    a = ap.parse_args()

    cat = load_catalog()
    ds = load_dataset(a.data, cat.sha256).subset(slice(None))
    x = np.asarray(ds.x, np.float32)
    base, other = probabilities(a.base, x, cat), probabilities(a.other, x, cat)
    print(f"{len(ds)} spectra of {a.data}")
    print("| model | element F1 | tp | fp | fn |")
    print("|---|---|---|---|---|")
    rows = [(str(a.base), base), (str(a.other), other)]
    rows += [(f"{a.base} with {g} from {a.other}", hybrid(base, other, g.split("+"), cat)) for g in a.groups.split(",")]
    for name, (lp, ep, lt, et) in rows:
        m = _score(lp, ep, ds, cat, lt, et)["elements"]
        print(f"| {name} | {m['f1']:.6f} | {m['tp']} | {m['fp']} | {m['fn']} |")


if __name__ == "__main__":
    main()
