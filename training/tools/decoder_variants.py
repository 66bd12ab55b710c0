"""Would another element decision rule lift element F1? Developer probe (docs/training.md, "Not the Decoder's rule").

Scores the shipped Decoder's rule and a few alternatives on VALIDATION spectra only (never a test set), with the
int8 model's outputs from the NumPy QDQ interpreter (on 1.4.1 the shipped rule scores 0.96802 here, and
`xrfedge eval` 0.968022 on the same spectra read as .jsonl). Every alternative gets its per-element thresholds chosen again at max F1 on the same spectra, which
flatters the alternatives: a gain here is an upper bound, and would still need a held-out check.

Usage (from training/): /usr/bin/python3 tools/decoder_variants.py MODELS_DIR VAL_DIR
  MODELS_DIR holds xrf-line-encoder.int8.onnx and its card; VAL_DIR is an npy set (xrfedge synth --format npy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.metrics import binary_scores, excitable, line_support, reported  # noqa: E402
from xrftrain.pipeline import _onnx_probs, line_edges_kev  # noqa: E402
from xrftrain.thresholds import choose  # noqa: E402


def main(models: Path, val_dir: Path) -> None:
    cat = load_catalog()
    val = load_dataset(val_dir, cat.sha256).subset(slice(None))
    card = json.loads((models / "xrf-line-encoder.card.json").read_text(encoding="utf-8"))
    lp, ep = _onnx_probs(onnx.load(str(models / "xrf-line-encoder.int8.onnx")), val.x, cat)
    lt = np.asarray(card["thresholds"]["lines"], np.float32)
    et = np.asarray(card["thresholds"]["elements"], np.float32)
    ignore = val.y_elements_ignore.astype(bool)
    truth = val.y_elements.astype(bool)
    n_el = ep.shape[1]

    def score(pred: np.ndarray) -> str:
        s = binary_scores(ep, truth, ~ignore, 0.5, pred=pred)
        return f"F1 {s['f1']:.5f}  false {s['fp']:5d}  missed {s['fn']:5d}"

    def rechosen(s: np.ndarray) -> str:
        return score(s >= choose(s, truth, ~ignore))

    edges = line_edges_kev(cat)
    lines, elements = reported(lp, ep, cat.line_element, lt, et, edges, val.tube_kv)
    lpx = np.where(excitable(edges, val.tube_kv), lp, 0.0)
    best_line = np.stack([lpx[:, cat.line_element == e].max(axis=1) for e in range(n_el)], axis=1)
    rows = [("shipped: element probability gated by a reported line (card thresholds)", score(elements)),
            ("gated by the lines' plain max-F1 thresholds",
             rechosen(np.where(line_support(lpx >= choose(lpx, val.y_lines, ~ignore[:, cat.line_element]),
                                            cat.line_element, n_el), ep, 0.0)))]
    for s in (0.05, 0.1, 0.2, 0.3, 0.5):
        rows.append((f"gated by any excitable line >= {s}",
                     rechosen(np.where(line_support(lpx >= s, cat.line_element, n_el), ep, 0.0))))
    rows += [("element probability alone (no gate)", rechosen(ep)),
             ("best line probability alone", rechosen(best_line)),
             ("mean of element and best-line probabilities", rechosen((ep + best_line) / 2)),
             ("geometric mean of element and best-line probabilities", rechosen(np.sqrt(ep * best_line)))]
    print(f"{len(val)} validation spectra, model {card['version']}; the shipped row uses the card's thresholds")
    for name, s in rows:
        print(f"{name:<72} {s}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
