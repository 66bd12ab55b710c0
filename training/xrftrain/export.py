"""ONNX export of a trained LineEncoder, written node by node with the onnx package.

Contract (common brief): input `spectrum` float32 [N,300] raw counts (rebin-counts-v1), output
`line_probabilities` float32 [N,556] (sigmoid applied, catalogue order), optional `element_probabilities`
float32 [N,41]; dynamic N; opset 17; no external data. Linear layers are written as MatMul + Add (weights
[in,out]) so that static QDQ quantisation lets ONNX Runtime fuse them into integer kernels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .model import (ABS_LOG_DIVISOR, NORM_SCALE, SIG_DIVISOR, SIG_FLANK_FAR, SIG_SOFT, TOTAL_DIVISOR, LineEncoder,
                    norm_scale, significance_kernel, significance_kernels_sided)
from .data import BINS
from .catalog import ELEMENT_COUNT, LINE_COUNT

OPSET = 17
INPUT = "spectrum"
LINES_OUTPUT = "line_probabilities"
ELEMENTS_OUTPUT = "element_probabilities"


def _const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _transform_nodes(transform: str) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto], str]:
    """The in-graph input transform; mirrors model.InputTransform exactly. Returns (nodes, inits, feature)."""
    nodes = [
        helper.make_node("Relu", [INPUT], ["t_counts"], name="clamp_negative_counts"),
        helper.make_node("ReduceSum", ["t_counts", "t_axes"], ["t_sum"], keepdims=1, name="total_counts"),
        helper.make_node("Max", ["t_sum", "t_one"], ["t_total"], name="total_at_least_one"),
        helper.make_node("Div", ["t_counts", "t_total"], ["t_frac"], name="normalise_by_total"),
    ]
    inits = [_const("t_axes", np.array([1], np.int64)), _const("t_one", np.array(1.0, np.float32))]
    if transform == "norm":
        nodes.append(helper.make_node("Mul", ["t_frac", "t_bins"], ["features"], name="scale"))
        inits.append(_const("t_bins", np.array(float(BINS), np.float32)))
        return nodes, inits, "features"
    if transform == "log1p+total":
        inits += [_const("t_abs_div", np.array(ABS_LOG_DIVISOR, np.float32)),
                  _const("t_ln10_div", np.array(np.log(10.0) * TOTAL_DIVISOR, np.float32))]
        nodes += [helper.make_node("Add", ["t_counts", "t_one"], ["t_counts1"], name="counts_plus_one"),
                  helper.make_node("Log", ["t_counts1"], ["t_logc"], name="log1p_counts"),
                  helper.make_node("Div", ["t_logc", "t_abs_div"], ["t_bins_feat"], name="scale_log_counts"),
                  helper.make_node("Log", ["t_total"], ["t_ln_total"], name="ln_total"),
                  helper.make_node("Div", ["t_ln_total", "t_ln10_div"], ["t_total_feat"], name="log10_total_scaled"),
                  helper.make_node("Concat", ["t_bins_feat", "t_total_feat"], ["features"], axis=1, name="append_total")]
        return nodes, inits, "features"
    inits.append(_const("t_scale", np.array(norm_scale(transform) if transform.startswith("log1p") else NORM_SCALE, np.float32)))
    nodes.append(helper.make_node("Mul", ["t_frac", "t_scale"], ["t_scaled"], name="scale"))
    if transform.startswith("log1p-norm"):
        nodes += [helper.make_node("Add", ["t_scaled", "t_one"], ["t_plus1"], name="plus_one"),
                  helper.make_node("Log", ["t_plus1"], ["t_bins_feat"], name="log1p")]
    elif transform.startswith("sqrt-norm"):
        nodes.append(helper.make_node("Sqrt", ["t_scaled"], ["t_bins_feat"], name="sqrt"))
    else:
        raise ValueError(f"no ONNX form for transform '{transform}'")
    feature_parts = ["t_bins_feat"]
    if "+sig" in transform:
        # Mirrors InputTransform.significance: Anscombe 2·sqrt(c + 3/8) → minus its flank mean (Conv with the flank
        # kernel) → divided by SIG_SOFT → asinh → / SIG_DIVISOR. The Anscombe factor 2 and SIG_SOFT cancel, so the
        # graph takes the excess of the bare sqrt and skips both ops; with 2 = SIG_SOFT (powers of two) the result is
        # bit-identical; every op costs a batch-1 call a fixed ~1.5 µs (docs/PERFORMANCE.md). Any other
        # SIG_SOFT gets one Mul by 2 / SIG_SOFT, still exact in meaning.
        sided = "+sigmin" in transform  # the lower one-sided flank mean (model.py): a [2,1,K] Conv, then a min
        kernel = significance_kernels_sided().numpy() if sided else significance_kernel().numpy().reshape(1, 1, -1)
        inits += [_const("t_anscombe_off", np.array(0.375, np.float32)), _const("t_axis1", np.array([1], np.int64)),
                  _const("t_sig_kernel", kernel.astype(np.float32)),
                  _const("t_sig_div", np.array(SIG_DIVISOR, np.float32))]
        nodes += [helper.make_node("Add", ["t_counts", "t_anscombe_off"], ["t_ans_in"], name="anscombe_offset"),
                  helper.make_node("Sqrt", ["t_ans_in"], ["t_ans_sqrt"], name="anscombe_sqrt"),
                  helper.make_node("Unsqueeze", ["t_ans_sqrt", "t_axis1"], ["t_ans3"], name="as_channels"),
                  helper.make_node("Conv", ["t_ans3", "t_sig_kernel"], ["t_flank3"], name="flank_mean",
                                   pads=[SIG_FLANK_FAR, SIG_FLANK_FAR], kernel_shape=[2 * SIG_FLANK_FAR + 1]),
                  helper.make_node("ReduceMin", ["t_flank3"], ["t_flank"], axes=[1], keepdims=0, name="lower_flank")
                  if sided else helper.make_node("Squeeze", ["t_flank3", "t_axis1"], ["t_flank"], name="from_channels"),
                  helper.make_node("Sub", ["t_ans_sqrt", "t_flank"], ["t_excess"], name="local_excess")]
        excess = "t_excess"
        if 2.0 / SIG_SOFT != 1.0:
            inits.append(_const("t_sig_factor", np.array(2.0 / SIG_SOFT, np.float32)))
            nodes.append(helper.make_node("Mul", ["t_excess", "t_sig_factor"], ["t_excess_s"], name="soften"))
            excess = "t_excess_s"
        nodes += [helper.make_node("Asinh", [excess], ["t_excess_a"], name="compress"),
                  helper.make_node("Div", ["t_excess_a", "t_sig_div"], ["t_sig_feat"], name="scale_significance")]
        feature_parts.append("t_sig_feat")
    if transform.endswith("+total"):
        inits += [_const("t_ln10_div", np.array(np.log(10.0) * TOTAL_DIVISOR, np.float32))]
        nodes += [helper.make_node("Log", ["t_total"], ["t_ln_total"], name="ln_total"),
                  helper.make_node("Div", ["t_ln_total", "t_ln10_div"], ["t_total_feat"], name="log10_total_scaled")]
        feature_parts.append("t_total_feat")
    if len(feature_parts) > 1:
        # One Concat of all feature groups (bins, significance, total), not one per appended group.
        nodes.append(helper.make_node("Concat", feature_parts, ["features"], axis=1, name="append_features"))
        return nodes, inits, "features"
    shape_feat = feature_parts[0]
    nodes.append(helper.make_node("Identity", [shape_feat], ["features"], name="features"))
    return nodes, inits, "features"


def _linear(name: str, x: str, w: np.ndarray, b: np.ndarray, out: str) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    return ([helper.make_node("MatMul", [x, f"{name}.weight"], [f"{name}.mm"], name=f"{name}.matmul"),
             helper.make_node("Add", [f"{name}.mm", f"{name}.bias"], [out], name=f"{name}.add")],
            [_const(f"{name}.weight", w.T.astype(np.float32)), _const(f"{name}.bias", b.astype(np.float32))])


def build_fp32(model: LineEncoder, metadata: dict[str, str] | None = None) -> onnx.ModelProto:
    if model.config.conv:
        # The graph below is transform → MatMul layers; silently skipping the convolutions would write a model
        # with the wrong input width for its first layer. CNNs are an ablation scored in PyTorch only.
        raise ValueError(f"ONNX export supports the MLP line encoder only; this model has a conv front end "
                         f"(model.conv={model.config.conv}); remove 'conv' from the model config to export it")
    model.eval()
    nodes, inits, cur = _transform_nodes(model.config.transform)
    for i, layer in enumerate(model.linear_layers()):
        n, c = _linear(f"fc{i}", cur, layer.weight.detach().numpy(), layer.bias.detach().numpy(), f"fc{i}.pre")
        nodes += n + [helper.make_node("Relu", [f"fc{i}.pre"], [f"h{i}"], name=f"fc{i}.relu")]
        inits += c
        cur = f"h{i}"
    n, c = _linear("lines", cur, model.line_head.weight.detach().numpy(), model.line_head.bias.detach().numpy(), "lines.logits")
    nodes += n + [helper.make_node("Sigmoid", ["lines.logits"], [LINES_OUTPUT], name="lines.sigmoid")]
    inits += c
    outputs = [helper.make_tensor_value_info(LINES_OUTPUT, TensorProto.FLOAT, ["N", LINE_COUNT])]
    if model.element_head is not None:
        n, c = _linear("elements", cur, model.element_head.weight.detach().numpy(),
                       model.element_head.bias.detach().numpy(), "elements.logits")
        nodes += n + [helper.make_node("Sigmoid", ["elements.logits"], [ELEMENTS_OUTPUT], name="elements.sigmoid")]
        inits += c
        outputs.append(helper.make_tensor_value_info(ELEMENTS_OUTPUT, TensorProto.FLOAT, ["N", ELEMENT_COUNT]))
    graph = helper.make_graph(nodes, "xrf_line_encoder",
                              [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", BINS])], outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="xrfedge-training")
    m.ir_version = 8  # opset 17 needs IR 8; older runtimes refuse newer IR versions
    for k, v in (metadata or {}).items():
        m.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    onnx.checker.check_model(m, full_check=True)
    return m


def save(model: onnx.ModelProto, path: Path) -> None:
    """Saves with every tensor inline (no external data), as the service expects one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path), save_as_external_data=False)


def transform_nodes_of(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The nodes that the tensor `features` depends on, i.e. an export's input transform, in graph order."""
    producer = {o: n for n in graph.node for o in n.output}
    if "features" not in producer:
        raise ValueError("the model has no tensor named 'features' (not an xrftrain export)")
    seen, stack = set(), ["features"]  # output names of the nodes found
    while stack:  # graph inputs and initialisers have no producer
        n = producer.get(stack.pop())
        if n is not None and not seen.intersection(n.output):
            seen.update(n.output)
            stack.extend(n.input)
    return [n for n in graph.node if seen.intersection(n.output)]


def regraft_transform(model: onnx.ModelProto, transform: str) -> onnx.ModelProto:
    """Returns a copy of `model` whose input transform (every node that `features` depends on) is replaced by this
    module's current form of `transform`; the layers after `features` (fp32 or QDQ int8) are kept as they are. For
    shipping an already trained model with a leaner preprocessing graph without retraining or requantising."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    # Nodes are told apart by their outputs (unique in a graph): protobuf wrappers' id() is not stable across iterations.
    old = {o for n in transform_nodes_of(g) for o in n.output}
    new_nodes, new_inits, feature = _transform_nodes(transform)
    assert feature == "features"
    rest = [n for n in g.node if not old.intersection(n.output)]
    new_names = {i.name for i in new_inits}
    used = {i for n in rest for i in n.input}
    kept = [i for i in g.initializer if i.name in used and i.name not in new_names]
    del g.node[:]
    g.node.extend(list(new_nodes) + rest)
    del g.initializer[:]
    g.initializer.extend(new_inits + kept)
    onnx.checker.check_model(out)
    return out

