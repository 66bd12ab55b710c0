"""Does a training-only auxiliary head help the line encoder learn what lies under a line? Developer probe
(docs/training.md, "An auxiliary head").

The labels are a threshold on each line's expected window counts (net ≥ L_D(background)); the auxiliary head regresses
the log margin against L_D and the log background (train.py, `aux_targets`) and is dropped at export. This trains the
shipped recipe on the first N training spectra for E epochs with each auxiliary loss weight given (0 = the shipped
recipe itself), same seed, and scores every run the same way on VALIDATION spectra only: the float32 model's
probabilities, the Decoder's rule, thresholds cross-fitted on the halves of the set (tools/ensemble_probe.py).

Usage (from training/):
  /usr/bin/python3 tools/aux_probe.py --data ../.build/train-data --config configs/shipped.json \\
      --train-limit 400000 --epochs 3 0 0.3 1.0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ensemble_probe import cross_fitted_f1  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.pipeline import config_from_json  # noqa: E402
from xrftrain.train import predict, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--train-limit", type=int, default=400_000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("weights", nargs="+", type=float, help="auxiliary loss weights, e.g. 0 0.3 1.0")
    a = ap.parse_args()
    cfg = config_from_json(json.loads(a.config.read_text())).shipped
    cat = load_catalog()
    le = np.asarray(cat.line_element, dtype=np.int64)
    sub = load_dataset(a.data / "train", cat.sha256).subset(slice(0, a.train_limit))
    val = load_dataset(a.data / "val", cat.sha256)
    val_all = val.subset(slice(None))
    rows = []
    for w in a.weights:
        c = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, aux_head=w > 0), aux_loss_weight=w,
                                epochs=a.epochs, precision=a.precision, max_minutes=None)
        r = train(c, sub, val, le)
        lp, ep = predict(r.model, val_all.x)
        f1, fp, fn = cross_fitted_f1(np.asarray(lp), np.asarray(ep), val_all, cat)
        rows.append({"aux_loss_weight": w, "minutes": round(r.seconds / 60, 2),
                     "val_element_f1_crossfit": round(f1, 5), "false": fp, "missed": fn,
                     "last_epoch": r.history[-1]})
        print(f"aux {w}: {r.seconds / 60:.1f} min, cross-fitted element F1 {f1:.5f} (false {fp}, missed {fn})",
              flush=True)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
