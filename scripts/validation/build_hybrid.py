#!/usr/bin/env python3
"""Builds the experimental hybrid int8 graph of docs/training.md, "A lead": BASE's model with the outputs of some
elements (their element output and their lines) taken from OTHER, in one graph, to measure what such a model costs
(ONNX Runtime fusion, `xrfedge bench`) and scores (`xrfedge eval`). A measurement, not a shippable model: there is no
fp32 twin, and the card is BASE's with those elements' thresholds from OTHER's card, its int8 hash updated and its
version set to `0.0.0-hybrid-experiment` so that it cannot be mistaken for a release.

OTHER's layers read BASE's input features (the two transforms must be identical, checked), keep their own
quantisation, and its heads are cut to the chosen outputs (per-channel weights, so the kept columns compute exactly
what they did); Gather and Where splice them into BASE's output tensors.

  PYTHONPATH=training /usr/bin/python3 scripts/validation/build_hybrid.py --base models --other .build/model-AIr \\
      --elements Mg,Si --out /tmp/hybrid
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from xrftrain.catalog import load_catalog

INT8 = "xrf-line-encoder.int8.onnx"
CARD = "xrf-line-encoder.card.json"
OUTPUTS = ("line_probabilities", "element_probabilities")


def build(base_dir: Path, other_dir: Path, symbols: list[str], out_dir: Path) -> Path:
    cat = load_catalog()
    a = onnx.load(str(base_dir / INT8))
    b = onnx.load(str(other_dir / INT8))
    a_init = {t.name: numpy_helper.to_array(t) for t in a.graph.initializer}
    b_init = {t.name: numpy_helper.to_array(t) for t in b.graph.initializer}
    for name, value in a_init.items():
        if name.startswith("t_") and not np.array_equal(value, b_init.get(name)):
            raise ValueError(f"input transforms differ at {name}: the hybrid needs one features tensor")
    elements = [cat.element_index(s) for s in symbols]
    lines = np.nonzero(np.isin(np.asarray(cat.line_element), elements))[0]
    keep = {"lines": lines, "elements": np.asarray(elements)}

    g = a.graph
    for node in g.node:
        node.output[:] = ["a_" + o if o in OUTPUTS else o for o in node.output]
    copying, used = False, set()
    for node in b.graph.node:
        copying = copying or node.name == "features_quantize"
        if not copying:
            continue
        m = onnx.NodeProto()
        m.CopyFrom(node)
        m.name = "b_" + node.name
        m.input[:] = [i if i == "features" else "b_" + i for i in node.input]
        m.output[:] = ["b_" + o for o in node.output]
        used.update(node.input)
        g.node.append(m)
    for name in sorted(used & b_init.keys()):
        value = b_init[name]
        head = name.split(".")[0]
        if head in keep and name.endswith(".weight_q"):
            value = value[:, keep[head]]
        elif head in keep and name.endswith((".weight_scale", ".weight_zp", ".bias")):
            value = value[keep[head]]
        g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(value), "b_" + name))
    for head, output, size in (("lines", OUTPUTS[0], len(cat.line_element)), ("elements", OUTPUTS[1], len(cat.elements))):
        mask = np.zeros(size, bool)
        mask[keep[head]] = True
        index = np.zeros(size, np.int64)
        index[keep[head]] = np.arange(len(keep[head]))
        g.initializer.extend([numpy_helper.from_array(mask, f"h_{head}_mask"), numpy_helper.from_array(index, f"h_{head}_index")])
        g.node.extend([helper.make_node("Gather", ["b_" + output, f"h_{head}_index"], [f"h_{head}_b"], axis=1, name=f"h_gather_{head}"),
                       helper.make_node("Where", [f"h_{head}_mask", f"h_{head}_b", "a_" + output], [output], name=f"h_where_{head}")])
    onnx.checker.check_model(a)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / INT8
    onnx.save(a, str(model_path))

    card = json.loads((base_dir / CARD).read_text())
    other = json.loads((other_dir / CARD).read_text())
    for i in lines:
        card["thresholds"]["lines"][int(i)] = other["thresholds"]["lines"][int(i)]
    for e in elements:
        card["thresholds"]["elements"][e] = other["thresholds"]["elements"][e]
    card["version"] = "0.0.0-hybrid-experiment"
    card["files"]["int8"]["sha256"] = hashlib.sha256(model_path.read_bytes()).hexdigest()
    card["hybrid_experiment"] = {"base": str(base_dir), "other": str(other_dir), "elements": symbols}
    (out_dir / CARD).write_text(json.dumps(card, indent=1), encoding="utf-8")
    return model_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--other", type=Path, required=True)
    ap.add_argument("--elements", default="Mg,Si")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    print(build(a.base, a.other, a.elements.split(","), a.out))


if __name__ == "__main__":
    main()
