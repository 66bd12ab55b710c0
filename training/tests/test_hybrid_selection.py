"""scripts/validation/hybrid_selection.py (docs/training.md, "A lead"): real xrfedge synth, the shipped int8 model."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts/validation"))


def test_hybrid_takes_the_named_elements_outputs_and_thresholds_from_the_other_model():
    from hybrid_selection import hybrid
    from xrftrain.catalog import load_catalog

    cat = load_catalog()
    n, lines, elements = 3, len(cat.line_element), len(cat.elements)
    base = (np.zeros((n, lines)), np.zeros((n, elements)), np.full(lines, 0.5), np.full(elements, 0.5))
    other = (np.ones((n, lines)), np.ones((n, elements)), np.full(lines, 0.25), np.full(elements, 0.25))
    lp, ep, lt, et = hybrid(base, other, ["Mg"], cat)
    mg = cat.element_index("Mg")
    mg_lines = np.asarray(cat.line_element) == mg
    assert mg_lines.any()
    assert (ep[:, mg] == 1).all() and et[mg] == 0.25 and (np.delete(ep, mg, axis=1) == 0).all()
    assert (lp[:, mg_lines] == 1).all() and (lt[mg_lines] == 0.25).all()
    assert (lp[:, ~mg_lines] == 0).all() and (lt[~mg_lines] == 0.5).all()
    assert (base[0] == 0).all() and (base[2] == 0.5).all()  # the base is not changed


def test_a_model_with_its_own_elements_scores_as_itself(tmp_path):
    # The shipped model as both BASE and OTHER: every row has the same F1 (the hybrid of a model with itself is itself).
    subprocess.run([str(ROOT / "xrfedge"), "synth", "--profile", "randomized", "--count", "40", "--seed", "6006",
                    "--format", "npy", "--out", str(tmp_path / "sel")], capture_output=True, timeout=300, cwd=ROOT, check=True)
    out = subprocess.run([sys.executable, str(ROOT / "scripts/validation/hybrid_selection.py"), str(tmp_path / "sel"),
                          "--base", str(ROOT / "models"), "--other", str(ROOT / "models"), "--groups", "Mg+Si,Fe"],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "training")}, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [line.strip("|").split("|") for line in out.stdout.splitlines() if line.startswith("| ") and "element F1" not in line]
    assert len(rows) == 4
    assert len({r[1].strip() for r in rows}) == 1 and 0.0 < float(rows[0][1]) <= 1.0


def test_build_hybrid_graph_computes_the_hybrid_of_its_two_models(tmp_path):
    # scripts/validation/build_hybrid.py: the graph's outputs are BASE's with the chosen elements' outputs from OTHER,
    # exactly (the Python reference interpreter; per-channel heads cut to the kept columns). Here BASE is the shipped
    # model and OTHER the shipped model with its Mg/Si head biases shifted, so the splice is visible.
    import json

    import onnx
    from onnx import numpy_helper

    from build_hybrid import build
    from hybrid_selection import hybrid, probabilities
    from xrftrain.catalog import load_catalog

    cat = load_catalog()
    other = tmp_path / "other"
    other.mkdir()
    m = onnx.load(str(ROOT / "models/xrf-line-encoder.int8.onnx"))
    for t in m.graph.initializer:
        if t.name in ("lines.bias", "elements.bias"):
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) + np.float32(1.5), t.name))
    onnx.save(m, str(other / "xrf-line-encoder.int8.onnx"))
    card = json.loads((ROOT / "models/xrf-line-encoder.card.json").read_text())
    card["thresholds"]["elements"][cat.element_index("Mg")] = 0.123
    (other / "xrf-line-encoder.card.json").write_text(json.dumps(card))

    model = build(ROOT / "models", other, ["Mg", "Si"], tmp_path / "hybrid")
    rng = np.random.default_rng(5)
    x = rng.poisson(50.0, size=(16, 300)).astype(np.float32)
    expected = hybrid(probabilities(ROOT / "models", x, cat), probabilities(other, x, cat), ["Mg", "Si"], cat)
    got = probabilities(model.parent, x, cat)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    assert not np.array_equal(got[1], probabilities(ROOT / "models", x, cat)[1])  # the splice changed something
    g = onnx.load(str(model)).graph
    assert sum(n.op_type == "MatMul" for n in g.node) == 8  # 4 of BASE, 4 of OTHER (heads cut, not dropped)
