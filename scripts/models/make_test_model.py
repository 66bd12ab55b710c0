#!/usr/bin/python3
"""Builds the small fixed-seed test encoder used by XrfEdge.Inference's tests and benchmarks.

The model has the exact graph contract of the shipped encoder (docs/inference.md, "Model contract"):
input `spectrum` float32 [N,300] = raw counts per 0.1-keV bin (ModelInput "rebin-counts-v1"), the intensity
transform inside the graph (log1p, then x 0.125), an MLP 300 -> HIDDEN -> ReLU, and two sigmoid heads:
`line_probabilities` [N,556] (catalogue order) and `element_probabilities` [N,41] (LineCatalog.Elements order).
Its weights are random (torch seed 20261121): it exercises the runtime, the contract and the numerics, not XRF.

Writes into tests/XrfEdge.Inference.Tests/Models/ (or the folder given as argv[1]):
  test-encoder.fp32.onnx   float graph
  test-encoder.int8.onnx   static QDQ int8 (per-tensor symmetric int8 weights, uint8 activations calibrated by
                           min/max over CALIBRATION synthetic spectra), the form ORT fuses into QLinearMatMul;
                           Q/DQ also on every MatMul output so no weight DequantizeLinear survives optimisation
                           (../shared/reference/onnxruntime-c-api.md section 4.1)
  test-encoder.card.json   model card (schema xrfedge-model-card/1) with both files' SHA-256
  bad/wrong-input-width.onnx   contract violation: input [N,299] (for the refusal tests)
  bad/external-data.onnx       references bad/external-data.weights (the encoder refuses external data)
  weights/*.f32            the float weights, little-endian float32, row-major, for the C# reference forward pass:
                           w1 [300,H], b1 [H], w2 [H,556], b2 [556], w3 [H,41], b3 [41]
Usage: /usr/bin/python3 scripts/models/make_test_model.py [OUT_DIR]
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import datetime, timezone

import numpy as np
import onnx
import onnx.external_data_helper
import torch
from onnx import TensorProto, helper, numpy_helper

BINS = 300
LINES = 556
ELEMENTS = 41
HIDDEN = 128
SEED = 20261121
CALIBRATION = 512
INPUT_SCALE = 0.125  # log1p(counts) of a strong peak (~1e4 counts) is ~9; x 0.125 keeps activations near 1
OPSET = 13
IR_VERSION = 7

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def synthetic_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Spectrum-like raw counts per 0.1-keV bin: a decaying continuum plus a few Gaussian peaks, Poisson noise."""
    energy = (np.arange(BINS) + 0.5) * 0.1
    out = np.empty((n, BINS), dtype=np.float32)
    for i in range(n):
        scale = 10 ** rng.uniform(0.5, 2.5)
        mean = scale * np.exp(-energy / rng.uniform(5, 15))
        for _ in range(rng.integers(1, 8)):
            centre = rng.uniform(1.0, 28.0)
            mean += 10 ** rng.uniform(1, 4) * np.exp(-0.5 * ((energy - centre) / 0.07) ** 2)
        out[i] = rng.poisson(mean)
    return out


def catalog_hash() -> str:
    with open(os.path.join(ROOT, "src/XrfEdge.Spectra/Data/emission-lines.csv"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_weights() -> dict[str, np.ndarray]:
    torch.manual_seed(SEED)
    l1 = torch.nn.Linear(BINS, HIDDEN)
    l2 = torch.nn.Linear(HIDDEN, LINES)
    l3 = torch.nn.Linear(HIDDEN, ELEMENTS)
    with torch.no_grad():
        # Default init gives outputs near 0.5; a wider spread makes probabilities cover 0-1 like a real model.
        l2.weight.mul_(4.0)
        l3.weight.mul_(4.0)
    t = lambda p: p.detach().numpy().astype(np.float32)  # noqa: E731
    return {"w1": t(l1.weight).T.copy(), "b1": t(l1.bias), "w2": t(l2.weight).T.copy(), "b2": t(l2.bias),
            "w3": t(l3.weight).T.copy(), "b3": t(l3.bias)}


def forward_float(w: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    h0 = np.log1p(x) * np.float32(INPUT_SCALE)
    m1 = h0 @ w["w1"]
    h1 = np.maximum(m1 + w["b1"], 0)
    m2 = h1 @ w["w2"]
    m3 = h1 @ w["w3"]
    return {"h0": h0, "m1": m1, "h1": h1, "m2": m2, "m3": m3}


def io_and_prelude(nodes: list, inits: list) -> None:
    inits.append(numpy_helper.from_array(np.array(INPUT_SCALE, dtype=np.float32), "input_scale"))
    nodes.append(helper.make_node("Relu", ["spectrum"], ["counts_nonneg"]))
    # log1p(x) = log(x + 1); counts are non-negative, Relu guards against negative inputs reaching Log.
    inits.append(numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"))
    nodes.append(helper.make_node("Add", ["counts_nonneg", "one"], ["counts_plus_one"]))
    nodes.append(helper.make_node("Log", ["counts_plus_one"], ["log_counts"]))
    nodes.append(helper.make_node("Mul", ["log_counts", "input_scale"], ["h0"]))


def finish(nodes: list, inits: list, name: str, bins: int = BINS) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("spectrum", TensorProto.FLOAT, ["N", bins])],
        [helper.make_tensor_value_info("line_probabilities", TensorProto.FLOAT, ["N", LINES]),
         helper.make_tensor_value_info("element_probabilities", TensorProto.FLOAT, ["N", ELEMENTS])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="xrfedge-make_test_model")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def build_fp32(w: dict[str, np.ndarray], bins: int = BINS) -> onnx.ModelProto:
    nodes: list = []
    inits: list = []
    io_and_prelude(nodes, inits)
    for k, v in w.items():
        inits.append(numpy_helper.from_array(v, k))
    nodes += [
        helper.make_node("MatMul", ["h0", "w1"], ["m1"]), helper.make_node("Add", ["m1", "b1"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["h1"]),
        helper.make_node("MatMul", ["h1", "w2"], ["m2"]), helper.make_node("Add", ["m2", "b2"], ["a2"]),
        helper.make_node("Sigmoid", ["a2"], ["line_probabilities"]),
        helper.make_node("MatMul", ["h1", "w3"], ["m3"]), helper.make_node("Add", ["m3", "b3"], ["a3"]),
        helper.make_node("Sigmoid", ["a3"], ["element_probabilities"]),
    ]
    return finish(nodes, inits, "xrf_test_encoder_fp32", bins)


def activation_qparams(values: np.ndarray) -> tuple[np.float32, np.uint8]:
    """uint8 asymmetric min/max calibration, range widened to include 0 (ONNX QuantizeLinear semantics)."""
    lo = min(float(values.min()), 0.0)
    hi = max(float(values.max()), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zero = int(round(-lo / scale))
    return np.float32(scale), np.uint8(min(max(zero, 0), 255))


def weight_qparams(wt: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """Symmetric per-tensor int8 with zero point 0 (range +-127)."""
    scale = np.float32(np.abs(wt).max() / 127.0)
    q = np.clip(np.round(wt / scale), -127, 127).astype(np.int8)
    return q, scale


def build_int8(w: dict[str, np.ndarray], calibration: np.ndarray) -> onnx.ModelProto:
    acts = forward_float(w, calibration)
    nodes: list = []
    inits: list = []
    io_and_prelude(nodes, inits)

    def qdq(tensor: str, values: np.ndarray) -> str:
        scale, zero = activation_qparams(values)
        inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{tensor}_scale"))
        inits.append(numpy_helper.from_array(np.array(zero, dtype=np.uint8), f"{tensor}_zero"))
        nodes.append(helper.make_node("QuantizeLinear", [tensor, f"{tensor}_scale", f"{tensor}_zero"], [f"{tensor}_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [f"{tensor}_q", f"{tensor}_scale", f"{tensor}_zero"], [f"{tensor}_dq"]))
        return f"{tensor}_dq"

    def qweight(name: str) -> str:
        q, scale = weight_qparams(w[name])
        inits.append(numpy_helper.from_array(q, f"{name}_q"))
        inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_scale"))
        inits.append(numpy_helper.from_array(np.array(0, dtype=np.int8), f"{name}_zero"))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_scale", f"{name}_zero"], [f"{name}_dq"]))
        return f"{name}_dq"

    for b in ("b1", "b2", "b3"):
        inits.append(numpy_helper.from_array(w[b], b))

    x0 = qdq("h0", acts["h0"])
    nodes.append(helper.make_node("MatMul", [x0, qweight("w1")], ["m1"]))
    nodes += [helper.make_node("Add", [qdq("m1", acts["m1"]), "b1"], ["a1"]), helper.make_node("Relu", ["a1"], ["h1"])]
    x1 = qdq("h1", acts["h1"])
    nodes.append(helper.make_node("MatMul", [x1, qweight("w2")], ["m2"]))
    nodes += [helper.make_node("Add", [qdq("m2", acts["m2"]), "b2"], ["a2"]),
              helper.make_node("Sigmoid", ["a2"], ["line_probabilities"])]
    nodes.append(helper.make_node("MatMul", [x1, qweight("w3")], ["m3"]))
    nodes += [helper.make_node("Add", [qdq("m3", acts["m3"]), "b3"], ["a3"]),
              helper.make_node("Sigmoid", ["a3"], ["element_probabilities"])]
    return finish(nodes, inits, "xrf_test_encoder_int8")


def thresholds(w: dict[str, np.ndarray], calibration: np.ndarray) -> dict[str, list[float]]:
    """Per-output thresholds at the 95th percentile of the fp32 outputs over the calibration spectra, so that about
    5 % of lines fire per spectrum (~28 of 556), roughly what a trained model reports on a multi-element sample.
    With random weights a flat 0.5 would report about half of all lines and make the decoder's load unrealistic."""
    acts = forward_float(w, calibration)
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    lines = np.percentile(sig(acts["m2"] + w["b2"]), 95, axis=0)
    elements = np.percentile(sig(acts["m3"] + w["b3"]), 95, axis=0)
    clip = lambda a: [round(float(v), 4) for v in np.clip(a, 0.05, 0.99)]  # noqa: E731
    return {"lines": clip(lines), "elements": clip(elements)}


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests/XrfEdge.Inference.Tests/Models")
    os.makedirs(os.path.join(out, "weights"), exist_ok=True)
    w = make_weights()
    calibration = synthetic_counts(np.random.default_rng(SEED), CALIBRATION)
    fp32_path = os.path.join(out, "test-encoder.fp32.onnx")
    int8_path = os.path.join(out, "test-encoder.int8.onnx")
    onnx.save(build_fp32(w), fp32_path)
    onnx.save(build_int8(w, calibration), int8_path)
    bad = os.path.join(out, "bad")
    os.makedirs(bad, exist_ok=True)
    # Small (hidden width 4) so the fixtures stay a few KB; only the contract violation matters.
    small = {k: (v[..., :4] if k == "w1" else v[:4] if k in ("w2", "w3") else v[:4] if k == "b1" else v) for k, v in w.items()}
    narrow = dict(small, w1=small["w1"][:BINS - 1].copy())
    onnx.save(build_fp32(narrow, BINS - 1), os.path.join(bad, "wrong-input-width.onnx"))
    external = build_fp32(small)
    if os.path.exists(os.path.join(bad, "external-data.weights")):
        os.remove(os.path.join(bad, "external-data.weights"))  # onnx appends to an existing data file
    onnx.external_data_helper.convert_model_to_external_data(external, all_tensors_to_one_file=True, location="external-data.weights", size_threshold=1024)
    onnx.save(external, os.path.join(bad, "external-data.onnx"))
    for k, v in w.items():
        v.astype("<f4").tofile(os.path.join(out, "weights", f"{k}.f32"))
    card = {
        "schema": "xrfedge-model-card/1",
        "name": "xrf-test-encoder",
        "version": "0.0.1-test",
        "catalog_hash": catalog_hash(),
        "preprocessing": "rebin-counts-v1",
        "input": {"name": "spectrum", "bins": BINS, "lower_kev": 0.0, "bin_width_kev": 0.1},
        "outputs": {"lines": "line_probabilities", "elements": "element_probabilities"},
        "files": {"int8": {"path": "test-encoder.int8.onnx", "sha256": sha256(int8_path)},
                  "fp32": {"path": "test-encoder.fp32.onnx", "sha256": sha256(fp32_path)}},
        "thresholds": thresholds(w, calibration),
        "novelty": None,
        "training": {"note": "random weights for tests, not trained", "torch_seed": SEED, "hidden": HIDDEN,
                     "input_transform": f"log1p(counts) * {INPUT_SCALE}",
                     "thresholds": "95th percentile of each fp32 output over the calibration spectra",
                     "quantisation": f"static QDQ, per-tensor symmetric int8 weights, uint8 activations, min/max over {CALIBRATION} synthetic spectra (numpy seed {SEED})",
                     "script": "scripts/models/make_test_model.py",
                     "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "metrics": {},
    }
    with open(os.path.join(out, "test-encoder.card.json"), "w") as f:
        json.dump(card, f, indent=1)
        f.write("\n")
    print(f"wrote {fp32_path} ({os.path.getsize(fp32_path)} B), {int8_path} ({os.path.getsize(int8_path)} B)")


if __name__ == "__main__":
    main()
