"""Shared by the short recipe probes (capacity_probe.py, aux_probe.py, members_probe.py): train variants of a config's
shipped recipe on the first N training spectra for E epochs, same seed, and score each on VALIDATION spectra only: the
float32 model's probabilities, the Decoder's rule, thresholds cross-fitted on the halves of the set (ensemble_probe.py).

A short probe favours the faster learner: twice (wider net, run W; auxiliary head, run X) its gain shrank to within the
spread of two trainings at full scale (docs/training.md). Use it to drop ideas, not to size them."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ensemble_probe import cross_fitted_f1  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.pipeline import config_from_json  # noqa: E402
from xrftrain.train import TrainConfig, predict, train  # noqa: E402


def arguments(description: str, variants_help: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--train-limit", type=int, default=400_000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("variants", nargs="+", help=variants_help)
    return ap


def run(a: argparse.Namespace, variant: Callable[[TrainConfig, str], TrainConfig]) -> list[dict]:
    """Trains `variant(shipped config, text)` for each variant text in `a.variants`; prints a line per variant and
    the rows as JSON, and returns the rows."""
    base = config_from_json(json.loads(a.config.read_text())).shipped
    base = dataclasses.replace(base, epochs=a.epochs, precision=a.precision, max_minutes=None)
    cat = load_catalog()
    le = np.asarray(cat.line_element, dtype=np.int64)
    sub = load_dataset(a.data / "train", cat.sha256).subset(slice(0, a.train_limit))
    val = load_dataset(a.data / "val", cat.sha256)
    val_all = val.subset(slice(None))
    rows = []
    for text in a.variants:
        r = train(variant(base, text), sub, val, le)
        lp, ep = predict(r.model, val_all.x)
        f1, fp, fn = cross_fitted_f1(np.asarray(lp), np.asarray(ep), val_all, cat)
        params = sum(p.numel() for p in r.model.parameters())
        rows.append({"variant": text, "parameters": params, "minutes": round(r.seconds / 60, 2),
                     "val_element_f1_crossfit": round(f1, 5), "false": fp, "missed": fn,
                     "last_epoch": r.history[-1]})
        print(f"{text}: {params} parameters, {r.seconds / 60:.1f} min, cross-fitted element F1 {f1:.5f} "
              f"(false {fp}, missed {fn})", flush=True)
    print(json.dumps(rows, indent=1))
    return rows
