"""Developer check through the real ONNX Runtime (npm onnxruntime-node, run by tools/ort_run.js):
- the optimised int8 graph fuses every weight DequantizeLinear (none reads an initializer), and counts the
  QLinearMatMul nodes;
- int8 outputs are batch-invariant (batch 1 vs one batch of all) bit for bit;
- max |int8 − fp32| of the probabilities.
Usage: /usr/bin/python3 tools/check_ort.py MODELS_DIR X.npy [N]   (ORT_NODE=…/node_modules/onnxruntime-node)
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

HERE = Path(__file__).resolve().parent


def ort(model: Path, x: np.ndarray, batch: int, work: Path, tag: str, optimized: Path | None = None) -> tuple[dict, float]:
    inp = work / "in.f32"
    x.astype(np.float32).tofile(inp)
    args = ["node", str(HERE / "ort_run.js"), str(model), str(inp), str(len(x)), str(work / tag), str(optimized or ""), str(batch)]
    r = subprocess.run(args, capture_output=True, text=True, check=True)
    info = json.loads(r.stdout.strip().splitlines()[-1])
    outs = {k: np.fromfile(work / f"{tag}.{k}.f32", np.float32).reshape(len(x), -1) for k in info["outputs"]}
    return outs, info["us_per_spectrum"]


def main() -> int:
    models, xfile = Path(sys.argv[1]), Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    x = np.load(xfile, mmap_mode="r")[:n]
    int8, fp32 = models / "xrf-line-encoder.int8.onnx", models / "xrf-line-encoder.fp32.onnx"
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        opt = work / "opt.onnx"
        q1, us1 = ort(int8, x, 1, work, "q1", opt)
        qn, _ = ort(int8, x, len(x), work, "qn")
        f1, usf = ort(fp32, x, 1, work, "f1")
        g = onnx.load(str(opt)).graph
        inits = {t.name for t in g.initializer}
        ops = collections.Counter(f"{nd.domain + '.' if nd.domain else ''}{nd.op_type}" for nd in g.node)
        weight_dq = [nd.name for nd in g.node if nd.op_type == "DequantizeLinear" and nd.input[0] in inits]
    result = {
        "optimised_ops": dict(ops),
        "unfused_weight_dequantize": weight_dq,
        "batch_invariant_max_abs": float(max(np.abs(q1[k] - qn[k]).max() for k in q1)),
        "int8_vs_fp32_max_abs": {k: float(np.abs(q1[k] - f1[k]).max()) for k in q1},
        "int8_vs_fp32_mean_abs": {k: float(np.abs(q1[k] - f1[k]).mean()) for k in q1},
        "node_batch1_us_per_spectrum": {"int8": us1, "fp32": usf},
        "spectra": int(len(x)),
    }
    print(json.dumps(result, indent=1))
    return 0 if not weight_dq and result["batch_invariant_max_abs"] == 0.0 else 1


if __name__ == "__main__":
    sys.exit(main())
