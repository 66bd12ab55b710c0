from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from xrftrain import export, quantize, reference
from xrftrain.model import LineEncoder, ModelConfig, TRANSFORMS


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_build_fp32_matches_torch_for_every_transform(transform, rng):
    torch.manual_seed(0)
    model = LineEncoder(ModelConfig(transform=transform, hidden=[64], element_head=True, dropout=0.0)).eval()
    x = rng.poisson(50.0, (7, 300)).astype(np.float32)
    x[0] = 0  # an empty spectrum must not divide by zero
    x[1, :3] = -5  # negative channels (seen in the NIST Bruker files) must not give NaN
    m = export.build_fp32(model)
    got = reference.run(m, {"spectrum": x})
    with torch.no_grad():
        lo, eo = model(torch.from_numpy(x))
    np.testing.assert_allclose(got["line_probabilities"], torch.sigmoid(lo).numpy(), atol=1e-5)
    np.testing.assert_allclose(got["element_probabilities"], torch.sigmoid(eo).numpy(), atol=1e-5)
    assert np.isfinite(got["line_probabilities"]).all()


def test_build_fp32_follows_onnx_contract():
    m = export.build_fp32(LineEncoder(ModelConfig(hidden=[32], element_head=False)))
    assert m.opset_import[0].version >= 17
    (inp,) = m.graph.input
    assert inp.name == "spectrum"
    dims = inp.type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and dims[1].dim_value == 300
    assert [o.name for o in m.graph.output] == ["line_probabilities"]
    assert m.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 556


def test_quantize_weights_are_int8_per_channel_and_outputs_close(rng):
    torch.manual_seed(1)
    model = LineEncoder(ModelConfig(hidden=[128, 128], dropout=0.0)).eval()
    fp32 = export.build_fp32(model)
    x = rng.poisson(30.0, (300, 300)).astype(np.float32)
    q = quantize.quantize(fp32, x[:200])
    inits = {t.name: t for t in q.graph.initializer}
    weights = [n for n in q.graph.node if n.op_type == "DequantizeLinear" and n.input[0].endswith(".weight_q")]
    assert len(weights) == 4  # two hidden layers + two heads
    for n in weights:
        w = onnx.numpy_helper.to_array(inits[n.input[0]])
        assert w.dtype == np.int8 and np.abs(w).max() <= 63  # reduce_range: 7-bit weights
        assert onnx.numpy_helper.to_array(inits[n.input[1]]).shape == (w.shape[1],)  # one scale per output column
        assert any(a.name == "axis" and a.i == 1 for a in n.attribute)
    # Every MatMul is wrapped DQ → MatMul → Q so ONNX Runtime can fuse QLinearMatMul.
    producers = {o: n for n in q.graph.node for o in n.output}
    consumers = {}
    for n in q.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    for mm in (n for n in q.graph.node if n.op_type == "MatMul"):
        assert all(producers[i].op_type == "DequantizeLinear" for i in mm.input)
        assert [c.op_type for c in consumers[mm.output[0]]] == ["QuantizeLinear"]
    a = reference.run(fp32, {"spectrum": x[200:]})
    b = reference.run(q, {"spectrum": x[200:]})
    # Untrained random weights give logits near 0, where sigmoid is steepest: 0.03 is a loose bound
    # (trained models are checked on real metrics by the pipeline).
    assert np.abs(a["line_probabilities"] - b["line_probabilities"]).max() < 0.03


def test_bias_correction_cuts_the_int8_error_on_spectra_it_did_not_calibrate_on(rng):
    torch.manual_seed(3)
    model = LineEncoder(ModelConfig(hidden=[128, 128], dropout=0.0)).eval()
    fp32 = export.build_fp32(model)
    x = rng.poisson(rng.uniform(5.0, 500.0, (600, 1)), (600, 300)).astype(np.float32)
    plain = quantize.quantize(fp32, x[:300])
    corrected = quantize.quantize(fp32, x[:300], quantize.QuantConfig(bias_correction=True))
    # Same graph, same integer weights and scales: only the float biases after each MatMul move.
    assert [n.op_type for n in plain.graph.node] == [n.op_type for n in corrected.graph.node]
    a = {t.name: onnx.numpy_helper.to_array(t) for t in plain.graph.initializer}
    b = {t.name: onnx.numpy_helper.to_array(t) for t in corrected.graph.initializer}
    moved = sorted(k for k in a if not np.array_equal(a[k], b[k]))
    assert moved == ["elements.bias", "fc0.bias", "fc1.bias", "lines.bias"]
    ref = reference.run(fp32, {"spectrum": x[300:]})
    err = {name: np.abs(reference.run(q, {"spectrum": x[300:]})["line_probabilities"] - ref["line_probabilities"]).mean()
           for name, q in (("plain", plain), ("corrected", corrected))}
    assert err["corrected"] < 0.9 * err["plain"], err


def test_quantized_model_is_batch_invariant_in_reference(rng):
    model = LineEncoder(ModelConfig(hidden=[64], dropout=0.0)).eval()
    q = quantize.quantize(export.build_fp32(model), rng.poisson(30.0, (100, 300)).astype(np.float32))
    x = rng.poisson(30.0, (16, 300)).astype(np.float32)
    whole = reference.run(q, {"spectrum": x})["line_probabilities"]
    one = np.concatenate([reference.run(q, {"spectrum": x[i:i + 1]})["line_probabilities"] for i in range(16)])
    # Fixed scales: a row's result cannot depend on its batch (dynamic quantisation would move outputs by ~7e-3).
    # ONNX Runtime's integer kernels are checked bit-exact too, by tools/check_ort.py (models/EVALUATION.md).
    assert np.array_equal(whole, one)


def _transform_node_count(m: onnx.ModelProto) -> int:
    return len(export.transform_nodes_of(m.graph))


def test_shipped_transform_is_exported_lean():
    # Each op is a fixed cost of a batch-1 call (docs/PERFORMANCE.md): the Anscombe factor 2 and SIG_SOFT = 2 cancel,
    # and the three feature groups are joined by one Concat, so the shipped transform takes 18 ops, not 21.
    m = export.build_fp32(LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[16], dropout=0.0)))
    assert _transform_node_count(m) == 18
    assert [n.op_type for n in m.graph.node].count("Concat") == 1
    assert not any(n.op_type == "Mul" and "t_two" in n.input for n in m.graph.node)


FIXTURE = Path(__file__).parent / "fixtures" / "transform-2026-11-21.fp32.onnx"


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_regraft_turns_the_old_transform_into_the_lean_one_with_identical_outputs(precision, rng):
    old = onnx.load(str(FIXTURE))  # exported by the previous export.py (21-op transform), hidden width 8
    assert _transform_node_count(old) == 21
    x = rng.poisson(40.0, (64, 300)).astype(np.float32)
    x[0] = 0
    x[1, :3] = -5
    x[2] *= 1000  # a bright spectrum: large excesses in the significance branch
    if precision == "int8":
        old = quantize.quantize(old, rng.poisson(40.0, (100, 300)).astype(np.float32))
    new = export.regraft_transform(old, "log1p-norm+sig+total")
    assert _transform_node_count(new) == 18
    assert len(new.graph.node) == len(old.graph.node) - 3
    before, after = reference.run(old, {"spectrum": x}), reference.run(new, {"spectrum": x})
    for name in ("line_probabilities", "element_probabilities"):
        assert np.array_equal(before[name], after[name]), name
    # The layers after `features` are untouched: the same weight tensors, byte for byte.
    weights = lambda m: {t.name: t.raw_data for t in m.graph.initializer if not t.name.startswith("t_")}  # noqa: E731
    assert weights(new) == weights(old)


def test_regraft_refuses_a_graph_without_features():
    m = onnx.load(str(FIXTURE))
    for n in m.graph.node:
        n.output[:] = ["feats" if o == "features" else o for o in n.output]
        n.input[:] = ["feats" if i == "features" else i for i in n.input]
    with pytest.raises(ValueError, match="no tensor named 'features'"):
        export.regraft_transform(m, "log1p-norm+sig+total")


def test_sigmin_sees_a_weak_peak_beside_a_strong_one_that_the_mean_hides():
    # The XGT carbonate's pattern (rounded from validation/spectra/xgt7200-rh50kv-geo-crms/MBH_REE_MID_22_P_01.msa):
    # a flat ~650-count continuum, Mg Kα as +450 counts in bin 12 and Si/Sr-L/escape peaks 5-7 bins above it.
    x = np.full((1, 300), 650.0, np.float32)
    x[0, 12] = 1100.0
    x[0, 17:20] = [4600.0, 3300.0, 7000.0]
    mean = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[8])).transform.significance(torch.from_numpy(x))
    low = LineEncoder(ModelConfig(transform="log1p-norm+sigmin+total", hidden=[8])).transform.significance(torch.from_numpy(x))
    assert mean[0, 12] < 0  # the two-sided mean, lifted by the right flank, calls the Mg bin a dip
    assert low[0, 12] > 0.3  # the lower (left) flank sees it: asinh(excess / 2) / 4 with an excess of ~15 σ
    assert abs(float(low[0, 100])) < 0.05  # on the flat continuum both are ~0


def test_quant_config_from_a_card_record_ignores_provenance_and_defaults_what_the_card_predates():
    # A card written before bias correction existed records the other settings and the calibration provenance.
    old = {"reduce_range": True, "percentile": 99.99, "calibration_spectra": 4000, "calibration_source": "validation set"}
    cfg = quantize.QuantConfig.from_dict(old, strict=False)
    assert cfg.percentile == 99.99 and cfg.bias_correction is False
    with pytest.raises(ValueError, match="calibration_source"):
        quantize.QuantConfig.from_dict(old)  # a config block with a stray key is refused
