"""Is the synthetic element-F1 gap variance (trainings disagree) or bias (they agree and are wrong)? Developer probe.

Averages the int8 models' probabilities (NumPy QDQ interpreter, the same as decoder_variants.py) over VALIDATION
spectra only and scores the Decoder's rule. Thresholds are chosen with the shipped procedure (choose_for_decoder,
line precision target 0.955) on one half of the spectra and scored on the other half, then the halves swap; every
row, single models included, is scored this way, so the rows compare like with like.

Usage (from training/): /usr/bin/python3 tools/ensemble_probe.py VAL_DIR MODEL_DIR [MODEL_DIR ...]
  each MODEL_DIR holds xrf-line-encoder.int8.onnx; VAL_DIR is an npy set (xrfedge synth --format npy).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.metrics import binary_scores, reported  # noqa: E402
from xrftrain.pipeline import _onnx_probs, line_edges_kev  # noqa: E402
from xrftrain.thresholds import choose_for_decoder  # noqa: E402


def cross_fitted_f1(lp: np.ndarray, ep: np.ndarray, val, cat) -> tuple[float, int, int]:
    """Element F1 (and false, missed) of the Decoder's rule on `val`: thresholds chosen with the shipped procedure on one
    half of the spectra and scored on the other, then the halves swap; the counts of both halves are pooled."""
    edges = line_edges_kev(cat)
    n = len(val.x)
    halves = (np.arange(n) < n // 2, np.arange(n) >= n // 2)
    ignore = val.y_elements_ignore.astype(bool)
    tp = fp = fn = 0
    for fit, score in (halves, halves[::-1]):
        lt, et, _ = choose_for_decoder(lp[fit], ep[fit], val.y_lines[fit], val.y_elements[fit], ignore[fit],
                                       cat.line_element, edges, val.tube_kv[fit], line_precision_target=0.955)
        _, el = reported(lp[score], ep[score], cat.line_element, lt, et, edges, val.tube_kv[score])
        s = binary_scores(ep[score], val.y_elements[score].astype(bool), ~ignore[score], 0.5, pred=el)
        tp, fp, fn = tp + s["tp"], fp + s["fp"], fn + s["fn"]
    return 2 * tp / (2 * tp + fp + fn), fp, fn


def main(val_dir: Path, models: list[Path]) -> None:
    cat = load_catalog()
    val = load_dataset(val_dir, cat.sha256).subset(slice(None))
    probs = {m: _onnx_probs(onnx.load(str(m / "xrf-line-encoder.int8.onnx")), val.x, cat) for m in models}
    for k in range(1, len(models) + 1):
        for combo in itertools.combinations(models, k):
            lp = np.mean([probs[m][0] for m in combo], axis=0)
            ep = np.mean([probs[m][1] for m in combo], axis=0)
            f1, fp, fn = cross_fitted_f1(lp, ep, val, cat)
            print(f"{' + '.join(m.name for m in combo):40s} element F1 {f1:.5f}  false {fp:5d}  missed {fn:5d}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
