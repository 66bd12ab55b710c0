"""Static QDQ int8 quantisation written with the onnx package.

Every MatMul whose right operand is a weight initializer becomes
    QuantizeLinear(act) → DequantizeLinear(act) ─┐
    int8 weights (per output channel) → DequantizeLinear(axis=1) ─┴→ MatMul → Add(bias, float) → …
Activation scales (uint8, asymmetric) are fixed numbers calibrated on validation spectra, so a spectrum's
output never depends on what else shares its batch (dynamic quantisation computes one scale per batch).
ONNX Runtime's QDQ transformer fuses each DQ/DQ→MatMul group into an integer kernel (MatMulIntegerToFloat;
with `quantize_outputs` the MatMul result is also requantised so the group becomes QLinearMatMul).

Weights use 7 bits by default (`reduce_range`): on x86 CPUs without VNNI, ONNX Runtime's u8×s8 kernel adds
pairs of products in int16 (vpmaddubsw), which saturates for 255·127·2 but not for 255·63·2 = 32130.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

from . import reference


@dataclass
class QuantConfig:
    reduce_range: bool = True
    quantize_outputs: bool = True
    percentile: float = 99.999  # activation range clip: ignore the rarest outliers, keep resolution
    clip_to_consumer: bool = True  # drop the part of a MatMul result's range that its Relu / Sigmoid discards
    sigmoid_logit_limit: float = 16.0  # |logit| beyond which sigmoid is within 1.2e-7 of 0 or 1
    bias_correction: bool = False  # shift each layer's bias by its mean int8 error on the calibration spectra

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, strict: bool = True) -> "QuantConfig":
        """Settings from a config's "quantization" block (strict: an unknown key is a ValueError naming it) or from
        a card's training.quantization record (not strict: the card also records calibration provenance, and
        settings it predates take their defaults)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if strict and unknown:
            raise ValueError(f"config 'quantization': unknown setting(s) {unknown} (known: {sorted(known)})")
        return cls(**{k: v for k, v in d.items() if k in known})


def _weight_qparams(w: np.ndarray, reduce_range: bool) -> tuple[np.ndarray, np.ndarray]:
    qmax = 63 if reduce_range else 127
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / qmax, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale


def _act_qparams(lo: float, hi: float) -> tuple[np.float32, np.uint8]:
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # zero must be exact (ReLU zeros, padding)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(np.rint(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


# How many validation spectra calibrate the activation ranges (and bias correction) unless a config says otherwise.
DEFAULT_CALIBRATION_SPECTRA = 4000
# Spectra per reference-interpreter call while calibrating: bounds the memory of the kept activations, not a result.
CALIBRATION_CHUNK = 1024


def _calibration_runs(model: onnx.ModelProto, calibration_x: np.ndarray, keep: set[str]) -> list[dict[str, np.ndarray]]:
    """The `keep` tensors of `model` on the calibration spectra, one dict per chunk of CALIBRATION_CHUNK spectra."""
    name = model.graph.input[0].name
    return [reference.run(model, {name: calibration_x[i:i + CALIBRATION_CHUNK]}, keep=keep)
            for i in range(0, len(calibration_x), CALIBRATION_CHUNK)]


def quantize(fp32: onnx.ModelProto, calibration_x: np.ndarray, cfg: QuantConfig | None = None) -> onnx.ModelProto:
    cfg = cfg or QuantConfig()
    inits = {t.name: t for t in fp32.graph.initializer}
    targets = [n for n in fp32.graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    if not targets:
        raise ValueError("model has no MatMul with a weight initializer: nothing to quantise")
    acts = {n.input[0] for n in targets} | ({n.output[0] for n in targets} if cfg.quantize_outputs else set())
    ranges: dict[str, tuple[float, float]] = {}
    for vals in _calibration_runs(fp32, calibration_x, acts):
        for k in acts:
            v = vals[k]
            lo = float(np.percentile(v, 100 - cfg.percentile)) if v.size else 0.0
            hi = float(np.percentile(v, cfg.percentile)) if v.size else 0.0
            a, b = ranges.get(k, (lo, hi))
            ranges[k] = (min(a, lo), max(b, hi))

    if cfg.quantize_outputs and cfg.clip_to_consumer:
        for n in targets:
            ranges[n.output[0]] = _consumer_clip(fp32, n.output[0], ranges[n.output[0]], inits, cfg.sigmoid_logit_limit)

    q = onnx.ModelProto()
    q.CopyFrom(fp32)
    g = q.graph
    new_nodes: list[onnx.NodeProto] = []
    new_inits: list[onnx.TensorProto] = []
    drop = set()
    quantized_acts: set[str] = set()
    target_names = {n.name for n in targets}
    for node in g.node:
        if node.name not in target_names:
            new_nodes.append(node)
            continue
        a, wname = node.input[0], node.input[1]
        w = numpy_helper.to_array(inits[wname])
        wq, ws = _weight_qparams(w, cfg.reduce_range)
        drop.add(wname)
        new_inits += [numpy_helper.from_array(wq, f"{wname}_q"), numpy_helper.from_array(ws, f"{wname}_scale"),
                      numpy_helper.from_array(np.zeros(ws.shape, np.int8), f"{wname}_zp")]
        if a not in quantized_acts:
            # One Q/DQ pair per activation, shared by every MatMul that reads it (the two heads read the
            # last hidden layer).
            quantized_acts.add(a)
            s, z = _act_qparams(*ranges[a])
            new_inits += [numpy_helper.from_array(np.array(s, np.float32), f"{a}_scale"),
                          numpy_helper.from_array(np.array(z, np.uint8), f"{a}_zp")]
            new_nodes += [
                helper.make_node("QuantizeLinear", [a, f"{a}_scale", f"{a}_zp"], [f"{a}_q"], name=f"{a}_quantize"),
                helper.make_node("DequantizeLinear", [f"{a}_q", f"{a}_scale", f"{a}_zp"], [f"{a}_dq"], name=f"{a}_dequantize"),
            ]
        new_nodes += [
            helper.make_node("DequantizeLinear", [f"{wname}_q", f"{wname}_scale", f"{wname}_zp"], [f"{wname}_dq"],
                             name=f"{wname}_dequantize", axis=1),
        ]
        out = node.output[0]
        mm_out = f"{out}_raw" if cfg.quantize_outputs else out
        new_nodes.append(helper.make_node("MatMul", [f"{a}_dq", f"{wname}_dq"], [mm_out], name=node.name))
        if cfg.quantize_outputs:
            so, zo = _act_qparams(*ranges[out])
            new_inits += [numpy_helper.from_array(np.array(so, np.float32), f"{out}_scale"),
                          numpy_helper.from_array(np.array(zo, np.uint8), f"{out}_zp")]
            new_nodes += [
                helper.make_node("QuantizeLinear", [mm_out, f"{out}_scale", f"{out}_zp"], [f"{out}_q"], name=f"{out}_quantize"),
                helper.make_node("DequantizeLinear", [f"{out}_q", f"{out}_scale", f"{out}_zp"], [out], name=f"{out}_dequantize"),
            ]
    kept = [t for t in g.initializer if t.name not in drop]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    q.metadata_props.append(onnx.StringStringEntryProto(key="quantization", value=
                            f"static QDQ: uint8 activations (calibrated), int8 per-channel weights"
                            f"{' (7-bit, reduce_range)' if cfg.reduce_range else ''}"))
    if cfg.bias_correction:
        _correct_biases(fp32, q, calibration_x, targets, ranges if cfg.quantize_outputs else None)
    onnx.checker.check_model(q, full_check=True)
    return q


# A channel whose MatMul result fell inside its requantisation range on fewer calibration spectra than this keeps its
# bias: the mean of a handful of rounding errors (each up to half a quantisation step) is noise, not an offset.
BIAS_CORRECTION_MIN_SAMPLES = 16


def _correct_biases(fp32: onnx.ModelProto, q: onnx.ModelProto, calibration_x: np.ndarray, targets: list,
                    ranges: dict[str, tuple[float, float]] | None) -> None:
    """Bias correction (Nagel et al. 2019, "Data-free quantization"): rounding a channel's weights shifts that
    channel's MatMul result by a roughly constant amount for the spectra it sees. Layer by layer, in graph order,
    the mean of (fp32 − int8) MatMul result over the calibration spectra is added to the bias that follows it, so
    each later layer is corrected for the earlier corrections. Only values inside the range the result is
    requantised to count: values its Relu or Sigmoid cannot tell apart (clipped there) carry a clipping error
    that says nothing about the channel's offset."""
    fp_inits = {t.name: t for t in fp32.graph.initializer}
    # The fp32 results do not change as biases are corrected: one pass gives every layer's reference.
    refs = _calibration_runs(fp32, calibration_x, {n.output[0] for n in targets})
    for node in targets:
        out = node.output[0]
        adds = [n for n in q.graph.node if n.op_type == "Add" and out in n.input]
        if len(adds) != 1:
            continue
        bias_name = next((i for i in adds[0].input if i != out), None)
        if bias_name not in fp_inits:
            continue
        diff_sum, count = 0.0, 0
        # The int8 results are taken after the earlier layers' corrections, so each layer corrects what is left.
        for r, g in zip(refs, _calibration_runs(q, calibration_x, {out})):
            ref, got = r[out], g[out]
            m = np.ones_like(ref, dtype=bool)
            if ranges is not None and out in ranges:
                lo, hi = ranges[out]
                m = (ref > lo) & (ref < hi)
            diff_sum = diff_sum + np.where(m, ref - got, 0.0).sum(axis=0)
            count = count + m.sum(axis=0)
        shift = np.where(count >= BIAS_CORRECTION_MIN_SAMPLES, diff_sum / np.maximum(count, 1), 0.0)
        idx = next(k for k, t in enumerate(q.graph.initializer) if t.name == bias_name)
        b = numpy_helper.to_array(q.graph.initializer[idx]).astype(np.float64)
        q.graph.initializer[idx].CopyFrom(numpy_helper.from_array((b + shift).astype(np.float32), bias_name))



def _consumer_clip(model: onnx.ModelProto, tensor: str, rng: tuple[float, float], inits: dict[str, onnx.TensorProto],
                   logit_limit: float) -> tuple[float, float]:
    """Narrows a MatMul result's range to what its `Add(bias) → Relu|Sigmoid` consumer can tell apart.

    Before Relu every value below −max(bias) ends as 0; before Sigmoid every logit beyond ±limit ends within
    1e-7 of 0 or 1. The 256 levels then cover only the values that matter: for this model's hidden layers the
    quantisation step shrinks ~8× and the output error of the int8 model with it.
    """
    users = [n for n in model.graph.node if tensor in n.input]
    if len(users) != 1 or users[0].op_type != "Add":
        return rng
    add = users[0]
    bias_name = next((i for i in add.input if i != tensor), None)
    if bias_name not in inits:
        return rng
    b = numpy_helper.to_array(inits[bias_name])
    after = [n for n in model.graph.node if add.output[0] in n.input]
    if len(after) != 1:
        return rng
    lo, hi = rng
    if after[0].op_type == "Relu":
        lo = max(lo, -float(b.max()))
    elif after[0].op_type == "Sigmoid":
        lo = max(lo, -logit_limit - float(b.max()))
        hi = min(hi, logit_limit - float(b.min()))
    if hi <= lo:
        return rng
    return lo, hi
