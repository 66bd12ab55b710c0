"""A small NumPy interpreter for exactly the ONNX operators this pipeline writes.

Python here has no ONNX Runtime (the service binds the native library from C#), so export and quantisation
are checked against this interpreter in the tests, and the quantiser calibrates activation ranges with it.
The authoritative numbers still come from `xrfedge eval` through ONNX Runtime.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import onnx
from onnx import numpy_helper


def _attr(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return default


def _ints(node: onnx.NodeProto, name: str) -> list[int]:
    """An ints attribute (opset 17 ReduceMin takes its axes this way; ReduceSum already takes them as an input)."""
    a = next((a for a in node.attribute if a.name == name), None)
    if a is None:
        raise NotImplementedError(f"reference {node.op_type} needs the '{name}' attribute (node {node.name})")
    return list(a.ints)


def _broadcast_axis(v: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    if v.ndim == 0 or v.size == 1:
        return v.reshape(())
    shape = [1] * ndim
    shape[axis] = v.size
    return v.reshape(shape)


def _quantize(node: onnx.NodeProto, x: np.ndarray, scale: np.ndarray, zp: np.ndarray) -> np.ndarray:
    axis = _attr(node, "axis", 1)
    s = _broadcast_axis(scale, axis % x.ndim, x.ndim)
    z = _broadcast_axis(zp, axis % x.ndim, x.ndim)
    info = np.iinfo(zp.dtype)
    q = np.rint(x.astype(np.float32) / s) + z.astype(np.int32)  # rint: round half to even, as ONNX specifies
    return np.clip(q, info.min, info.max).astype(zp.dtype)


def _dequantize(node: onnx.NodeProto, q: np.ndarray, scale: np.ndarray, zp: np.ndarray) -> np.ndarray:
    axis = _attr(node, "axis", 1)
    s = _broadcast_axis(scale, axis % q.ndim, q.ndim)
    z = _broadcast_axis(zp, axis % q.ndim, q.ndim)
    return ((q.astype(np.int32) - z.astype(np.int32)) * s).astype(np.float32)


def _conv1d(node: onnx.NodeProto, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Conv for exactly what the transform writes: [N,1,L] input, [C,1,K] kernels, symmetric zero pads → [N,C,L']."""
    pads = next((list(a.ints) for a in node.attribute if a.name == "pads"), [0, 0])
    if x.ndim != 3 or x.shape[1] != 1 or w.ndim != 3 or w.shape[1] != 1:
        raise NotImplementedError(f"reference Conv handles [N,1,L] × [C,1,K] only (node {node.name})")
    xp = np.pad(x[:, 0, :].astype(np.float64), ((0, 0), (pads[0], pads[1])))
    out_len = xp.shape[1] - w.shape[2] + 1
    out = np.zeros((x.shape[0], w.shape[0], out_len))
    for c in range(w.shape[0]):
        for j, kv in enumerate(w[c, 0].astype(np.float64)):  # ONNX Conv is a cross-correlation
            if kv != 0:
                out[:, c, :] += kv * xp[:, j:j + out_len]
    return out.astype(np.float32)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # exp(-a) overflows to inf for a < -88 in float32, which gives the right 0; only the warning is silenced.
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-a))).astype(np.float32)


_OPS: dict[str, Callable[..., np.ndarray]] = {
    "Add": lambda n, a, b: a + b,
    "Mul": lambda n, a, b: a * b,
    "Div": lambda n, a, b: a / b,
    "Max": lambda n, a, b: np.maximum(a, b),
    "Log": lambda n, a: np.log(a),
    "Sqrt": lambda n, a: np.sqrt(a),
    "Sub": lambda n, a, b: a - b,
    "Asinh": lambda n, a: np.arcsinh(a).astype(np.float32),
    "Unsqueeze": lambda n, a, axes: np.expand_dims(a, tuple(int(i) for i in axes)),
    "Squeeze": lambda n, a, axes: np.squeeze(a, tuple(int(i) for i in axes)),
    "Conv": lambda n, x, w: _conv1d(n, x, w),
    "Relu": lambda n, a: np.maximum(a, 0),
    "Sigmoid": lambda n, a: _sigmoid(a),
    "Identity": lambda n, a: a,
    # float64 accumulation: close to ORT's exact int32 accumulation, so a requantised output does not flip a
    # rounding step with the batch size (float32 GEMV and GEMM sum in different orders).
    "MatMul": lambda n, a, b: (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32),
    "ReduceMin": lambda n, a: a.min(axis=tuple(_ints(n, "axes")), keepdims=bool(_attr(n, "keepdims", 1))),
    "ReduceSum": lambda n, a, axes: a.sum(axis=tuple(int(i) for i in axes), keepdims=bool(_attr(n, "keepdims", 1))),
    "Concat": lambda n, *xs: np.concatenate(xs, axis=_attr(n, "axis", 0)),
    # The experimental hybrid graph's splice (scripts/validation/build_hybrid.py).
    "Gather": lambda n, a, idx: np.take(a, idx, axis=_attr(n, "axis", 0)),
    "Where": lambda n, c, a, b: np.where(c, a, b),
    "QuantizeLinear": _quantize,
    "DequantizeLinear": _dequantize,
}


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray], keep: set[str] | None = None) -> dict[str, np.ndarray]:
    """Evaluates the graph; returns the graph outputs plus any tensor named in `keep`."""
    env: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float32) for k, v in feeds.items()})
    for node in model.graph.node:
        op = _OPS.get(node.op_type)
        if op is None:
            raise NotImplementedError(f"reference interpreter has no '{node.op_type}' (node {node.name})")
        args = [env[i] for i in node.input if i]
        env[node.output[0]] = np.asarray(op(node, *args))
    wanted = {o.name for o in model.graph.output} | (keep or set())
    return {k: env[k] for k in wanted}
