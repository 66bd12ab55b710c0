"""Where a batch-1 call of the int8 encoder spends its time: the whole model, its preprocessing subgraph
(spectrum → features), its MLP subgraph (features → probabilities) and an Identity model (the caller's own cost
per call), each timed by tools/ort_time.js through ONNX Runtime (npm onnxruntime-node), 1 thread.
A developer measurement behind docs/PERFORMANCE.md; the figures of record stay `xrfedge bench`'s.
Usage: ORT_NODE=…/node_modules/onnxruntime-node /usr/bin/python3 tools/latency_split.py [MODEL.int8.onnx]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx
import onnx.utils
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent


def main(model: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        onnx.utils.extract_model(str(model), str(work / "pre.onnx"), ["spectrum"], ["features"])
        onnx.utils.extract_model(str(model), str(work / "mlp.onnx"), ["features"],
                                 ["line_probabilities", "element_probabilities"])
        width = onnx.load(str(work / "mlp.onnx")).graph.input[0].type.tensor_type.shape.dim[1].dim_value
        x = helper.make_tensor_value_info("spectrum", TensorProto.FLOAT, [None, 300])
        y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 300])
        ident = helper.make_model(helper.make_graph([helper.make_node("Identity", ["spectrum"], ["out"])], "id", [x], [y]),
                                  opset_imports=[helper.make_opsetid("", 17)])
        ident.ir_version = 8
        onnx.save(ident, str(work / "identity.onnx"))
        specs = [f"{work / 'identity.onnx'}:spectrum:300", f"{work / 'pre.onnx'}:spectrum:300",
                 f"{work / 'mlp.onnx'}:features:{width}", f"{model}:spectrum:300"]
        out = subprocess.run(["node", str(HERE / "ort_time.js"), *specs], capture_output=True, text=True, check=True)
        rows = {Path(r["model"]).stem: r for r in map(json.loads, out.stdout.strip().splitlines())}
        base = rows["identity"]["median_us"]
        for name, row in rows.items():
            net = "" if name == "identity" else f"  net of the call cost: {row['median_us'] - base:6.1f} µs"
            print(f"{name:28s} median {row['median_us']:6.1f} µs  runs {row['runs_us']}{net}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else HERE.parent.parent / "models" / "xrf-line-encoder.int8.onnx").resolve())
