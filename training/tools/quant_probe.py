"""How much element F1 does int8 quantisation cost, and which quantiser settings win it back? Developer probe.

Re-quantises one trained fp32 model with several quantiser settings and scores each int8 model (NumPy QDQ
interpreter) on VALIDATION spectra only, with thresholds cross-fitted exactly as in ensemble_probe.py (chosen
with the shipped procedure on one half, scored on the other, then swapped). The fp32 row is the ceiling a
perfect quantiser could reach. Calibration uses the first `calibration_spectra` validation spectra, as `make
model` does.

Usage (from training/): /usr/bin/python3 tools/quant_probe.py VAL_DIR FP32_ONNX [VARIANT ...]
  VARIANT names are the keys of VARIANTS below (default: all). CALIB_DIR=npy-set calibrates on that set's first
  spectra instead (e.g. the training set: then no scored spectrum is also a calibration spectrum).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ensemble_probe import cross_fitted_f1  # noqa: E402
from xrftrain import quantize  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.pipeline import _onnx_probs  # noqa: E402

VARIANTS: dict[str, dict] = {
    "shipped": {},
    "logit8": {"sigmoid_logit_limit": 8.0},
    "p99.99": {"percentile": 99.99},
    "bias-corrected": {"bias_correction": True},
    "logit8+bias": {"sigmoid_logit_limit": 8.0, "bias_correction": True},
    "8-bit-weights(not deployable on AVX2)": {"reduce_range": False},
}


def main(val_dir: Path, fp32_path: Path, names: list[str]) -> None:
    cat = load_catalog()
    val = load_dataset(val_dir, cat.sha256).subset(slice(None))
    fp32 = onnx.load(str(fp32_path))
    calib_set = load_dataset(Path(os.environ["CALIB_DIR"]), cat.sha256) if os.environ.get("CALIB_DIR") else val
    calib = np.asarray(calib_set.x[:quantize.DEFAULT_CALIBRATION_SPECTRA], np.float32)
    print(f"calibration: first {len(calib)} spectra of {calib_set.meta.get('profile')} seed {calib_set.meta.get('seed')}")
    t = time.monotonic()
    lp, ep = _onnx_probs(fp32, val.x, cat)
    f1, fp, fn = cross_fitted_f1(lp, ep, val, cat)
    print(f"{'fp32 (ceiling)':40s} element F1 {f1:.5f}  false {fp:5d}  missed {fn:5d}  ({time.monotonic() - t:.0f} s)",
          flush=True)
    ref_l, ref_e = lp, ep
    for name in names or list(VARIANTS):
        t = time.monotonic()
        int8 = quantize.quantize(fp32, calib, quantize.QuantConfig(**VARIANTS[name]))
        lp, ep = _onnx_probs(int8, val.x, cat)
        f1, fp, fn = cross_fitted_f1(lp, ep, val, cat)
        dl, de = np.abs(lp - ref_l), np.abs(ep - ref_e)
        print(f"{name:40s} element F1 {f1:.5f}  false {fp:5d}  missed {fn:5d}  |int8-fp32| mean {dl.mean():.5f}/"
              f"{de.mean():.5f} max {dl.max():.3f}/{de.max():.3f}  ({time.monotonic() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
