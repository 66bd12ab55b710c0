"""The line encoder: in-graph input transform → ReLU MLP → 556 line logits (+ optional 41-element head).

The last layer keeps the paper's privileged basis: one output per catalogue line, sigmoid, multi-label.
The input transform is part of the model (and of the exported ONNX graph) because the C# side hands over raw
counts per 0.1-keV bin only ("rebin-counts-v1").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from .catalog import ELEMENT_COUNT, LINE_COUNT
from .data import BINS

# Scale applied after normalising by the total so a typical bin of a 1e5-count spectrum is O(1..1e3) before
# log1p; a constant of the graph, not learned.
NORM_SCALE = 1.0e4
# log10(total counts) / TOTAL_DIVISOR keeps the count-level feature in [0, ~1.2] for 1 to 1e8 counts.
TOTAL_DIVISOR = 7.0
# log1p(counts) / ABS_LOG_DIVISOR keeps absolute-count features in [0, ~1.3] up to 1e7 counts in one bin.
ABS_LOG_DIVISOR = 12.0

TRANSFORMS = ("norm", "log1p-norm", "log1p-norm+total", "sqrt-norm+total", "log1p+total", "log1p-norm1e6+total",
              "log1p-norm+sig+total", "log1p-norm+sigmin+total")
# log1p-norm1e6: scale 1e6 instead of NORM_SCALE keeps one count resolvable up to ~1e6 total counts.
NORM_SCALE_1E6 = 1.0e6
# The auxiliary head's targets per line: log-margin against the detection limit, log background (train.py).
AUX_TARGETS = 2


# "+sig": a count-level-free significance map next to the shape features. Anscombe's 2·sqrt(x + 3/8) has unit
# variance for Poisson counts at any level, so (value − mean of its flanks) is a local excess in standard
# deviations: a peak the Currie criterion calls detectable stands out by the same amount at 1e4 or 1e8 total
# counts, where log(counts / total) squashes it to a ripple of a few per mille (element recall fell with counts).
# The flanks are the bins 3–6 away on each side (0.3–0.6 keV: outside a peak's ±1 FWHM at these resolutions).
# asinh(r / SIG_SOFT) keeps one-sigma resolution near 0 after 8-bit quantisation and compresses major peaks
# (r of several thousand) to ≈ 8.
SIG_FLANK_NEAR = 3
SIG_FLANK_FAR = 6
SIG_SOFT = 2.0
SIG_DIVISOR = 4.0


def significance_kernel() -> "torch.Tensor":
    """1-D kernel (odd length) averaging the flank bins; the centre ±(near−1) bins get weight 0."""
    k = torch.zeros(2 * SIG_FLANK_FAR + 1, dtype=torch.float32)
    for d in range(SIG_FLANK_NEAR, SIG_FLANK_FAR + 1):
        k[SIG_FLANK_FAR - d] = 1.0
        k[SIG_FLANK_FAR + d] = 1.0
    return k / k.sum()


# "+sigmin" (2026-11-22): the same map, but the background under a bin is the lower of its two one-sided flank means
# instead of their average. Below 4 keV lines crowd (Mg 1.25, Si 1.74, Sr-L 1.81, Ca-K escape 1.95, S 2.31 keV …) and a
# strong peak 0.3–0.6 keV from a weak one raises the two-sided mean above the weak peak: in the XGT carbonate
# (validation/spectra/xgt7200-rh50kv-geo-crms) Mg Kα stands ~16σ above its left flank, yet the mean of both flanks,
# lifted by Si and the Ca escape peak, puts its excess below zero. One clean side is enough for the lower mean. On a
# smooth continuum the lower mean is biased low by a fraction of a standard deviation, the same in training and use.


def significance_kernels_sided() -> "torch.Tensor":
    """[2,1,K] kernels: row 0 averages the left flank bins (3–6 below), row 1 the right flank bins (3–6 above)."""
    k = torch.zeros(2, 1, 2 * SIG_FLANK_FAR + 1, dtype=torch.float32)
    n = SIG_FLANK_FAR - SIG_FLANK_NEAR + 1
    for d in range(SIG_FLANK_NEAR, SIG_FLANK_FAR + 1):
        k[0, 0, SIG_FLANK_FAR - d] = 1.0 / n
        k[1, 0, SIG_FLANK_FAR + d] = 1.0 / n
    return k


def norm_scale(transform: str) -> float:
    return NORM_SCALE_1E6 if transform.startswith("log1p-norm1e6") else NORM_SCALE


@dataclass
class ModelConfig:
    transform: str = "log1p-norm+total"
    hidden: list[int] = field(default_factory=lambda: [1024, 1024])
    element_head: bool = True
    dropout: float = 0.1
    # Optional small 1-D CNN front end (issue #5 ablation "MLP or small CNN"): output channels of each
    # Conv1d(kernel conv_kernel, padding same) + ReLU, then one MaxPool1d(conv_pool) before the MLP.
    # Empty (the default) is the plain MLP, whose parameters, ONNX export and card entry stay as they were.
    conv: list[int] = field(default_factory=list)
    conv_kernel: int = 7
    conv_pool: int = 2
    # Training-only auxiliary head (2026-11-22): regresses, for every line, where its expected net counts sit against
    # the label's detection limit and the expected background under it (train.py, `aux_targets`). The labels are a
    # threshold on exactly these quantities, so the head hands the network the margin and the background that a 0/1
    # label hides. It is never exported: the ONNX graph, its [N,300] → [N,556] contract and the latency are unchanged.
    aux_head: bool = False
    # Members > 1 trains that many independent MLPs of `hidden` side by side on the same batches (each with its own
    # loss, their own initial weights and dropout), sharing only the parameter-free input transform: an ensemble
    # trained in one run. Exported, they are one plain MLP whose hidden widths are members·hidden, block-diagonal after
    # the first layer, with heads that average the members' logits (LineEncoder.dense), so the ONNX contract, the
    # quantiser and the C# side see the same graph shape as for one member.
    members: int = 1

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ValueError(f"model.members must be ≥ 1, got {self.members}")
        if self.members > 1 and (self.conv or self.aux_head):
            raise ValueError("model.members > 1 supports the MLP line encoder only (no 'conv', no 'aux_head')")
        if any(c < 1 for c in self.conv):
            raise ValueError(f"model.conv channel counts must be ≥ 1, got {self.conv}")
        if self.conv_kernel < 1 or self.conv_kernel % 2 == 0:
            # An even kernel has no centre bin, so "same" padding would shift every feature by half a bin.
            raise ValueError(f"model.conv_kernel must be an odd number ≥ 1, got {self.conv_kernel}")
        if self.conv_pool < 1 or BINS % self.conv_pool != 0:
            raise ValueError(f"model.conv_pool must divide the {BINS} bins, got {self.conv_pool}")

    def to_dict(self) -> dict:
        d = asdict(self)
        if not self.conv:
            # An MLP's recorded hyper-parameters (model card, ablation table) stay exactly as before the CNN option.
            for k in ("conv", "conv_kernel", "conv_pool"):
                d.pop(k)
        if not self.aux_head:
            d.pop("aux_head")
        if self.members == 1:
            d.pop("members")  # single-network recipes record exactly what they always did
        return d


def feature_count(transform: str) -> int:
    return BINS * (2 if "+sig" in transform else 1) + (1 if transform.endswith("+total") else 0)


class InputTransform(nn.Module):
    """Raw counts [N,300] → features [N,300(+1)]; mirrored op for op by export.build_transform_nodes."""

    def __init__(self, transform: str) -> None:
        super().__init__()
        if transform not in TRANSFORMS:
            raise ValueError(f"unknown input transform '{transform}' (known: {', '.join(TRANSFORMS)})")
        self.transform = transform
        self.register_buffer("sig_kernel", significance_kernel().view(1, 1, -1), persistent=False)
        self.register_buffer("sig_kernels_sided", significance_kernels_sided(), persistent=False)

    def significance(self, x: torch.Tensor) -> torch.Tensor:
        """Counts (clamped ≥ 0) [N,B] → asinh-compressed local excess in Poisson standard deviations [N,B]."""
        a = 2.0 * torch.sqrt(x + 0.375)
        if "+sigmin" in self.transform:
            sides = torch.nn.functional.conv1d(a.unsqueeze(1), self.sig_kernels_sided, padding=SIG_FLANK_FAR)
            flank = sides.amin(dim=1)
        else:
            flank = torch.nn.functional.conv1d(a.unsqueeze(1), self.sig_kernel, padding=SIG_FLANK_FAR).squeeze(1)
        return torch.asinh((a - flank) / SIG_SOFT) / SIG_DIVISOR

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Counts cannot be negative, but some vendors' processed spectra (the NIST Bruker files) hold a few
        # negative channels; clamping keeps log/sqrt defined whatever the file says.
        x = x.clamp_min(0.0)
        total = x.sum(dim=1, keepdim=True).clamp_min(1.0)
        frac = x / total
        if self.transform == "norm":
            return frac * float(BINS)
        if self.transform == "log1p+total":
            # Absolute counts: keeps the Poisson resolution of small peaks in very high-count spectra, which
            # normalising by the total squashes towards 0 (see models/EVALUATION.md, errors by count level).
            return torch.cat([torch.log(x + 1.0) / ABS_LOG_DIVISOR, torch.log10(total) / TOTAL_DIVISOR], dim=1)
        if self.transform.startswith("log1p-norm"):
            f = torch.log(frac * norm_scale(self.transform) + 1.0)
        else:
            f = torch.sqrt(frac * NORM_SCALE)
        if "+sig" in self.transform:
            f = torch.cat([f, self.significance(x)], dim=1)
        if self.transform.endswith("+total"):
            f = torch.cat([f, torch.log10(total) / TOTAL_DIVISOR], dim=1)
        return f


class ConvFrontEnd(nn.Module):
    """Transform features [N,F] → the bins as channels [N,C,300] → Conv1d/ReLU stack → MaxPool → flat [N,width].

    Channel 0 is the per-bin shape feature, channel 1 (with "+sig") the significance row; the scalar "+total"
    feature is not a bin, so it bypasses the convolutions and is appended after flattening.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.rows = 2 if "+sig" in config.transform else 1
        self.has_total = config.transform.endswith("+total")
        layers: list[nn.Module] = []
        channels = self.rows
        for c in config.conv:
            layers += [nn.Conv1d(channels, c, config.conv_kernel, padding=config.conv_kernel // 2), nn.ReLU()]
            channels = c
        layers.append(nn.MaxPool1d(config.conv_pool))
        self.convs = nn.Sequential(*layers)
        self.width = channels * (BINS // config.conv_pool) + (1 if self.has_total else 0)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        h = self.convs(f[:, :self.rows * BINS].reshape(-1, self.rows, BINS)).flatten(1)
        return torch.cat([h, f[:, -1:]], dim=1) if self.has_total else h


class LineEncoder(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.transform = InputTransform(config.transform)
        # An ensemble (config.members > 1) holds its members as single-network encoders and runs their heads on the
        # features computed once here; the fields below then stay empty.
        self.member_nets = (nn.ModuleList(LineEncoder(replace(config, members=1)) for _ in range(config.members))
                            if config.members > 1 else None)
        if self.member_nets is not None:
            self.front = None
            self.body = nn.Sequential()
            self.line_head = self.element_head = self.aux_head = None
            return
        layers: list[nn.Module] = []
        # Registered only for a CNN so an MLP's state_dict (and its parameter count) is unchanged.
        self.front = ConvFrontEnd(config) if config.conv else None
        width = self.front.width if self.front is not None else feature_count(config.transform)
        for h in config.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if config.dropout > 0:
                layers.append(nn.Dropout(config.dropout))
            width = h
        self.body = nn.Sequential(*layers)
        self.line_head = nn.Linear(width, LINE_COUNT)
        self.element_head = nn.Linear(width, ELEMENT_COUNT) if config.element_head else None
        # Registered only when asked for, so the shipped recipe's state_dict and parameter count are unchanged.
        self.aux_head = nn.Linear(width, AUX_TARGETS * LINE_COUNT) if config.aux_head else None
        if self.aux_head is not None:
            # Zero weights: the head's first gradients reach the body only as the head learns, so its regression loss
            # (large at the start) cannot kill the body's ReLUs before the line loss has shaped them.
            nn.init.zeros_(self.aux_head.weight)
            nn.init.zeros_(self.aux_head.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (no sigmoid): lines [N,556], elements [N,41] or None."""
        return self.heads(self.transform(x))

    def heads(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Transform features [N,F] → logits; split from forward so training can run it in bfloat16 while the
        transform stays float32 (train.py, `precision`). An ensemble returns its members' mean logits."""
        if self.member_nets is not None:
            outs = self.heads_members(f)
            lines = torch.stack([o[0] for o in outs]).mean(dim=0)
            return lines, (torch.stack([o[1] for o in outs]).mean(dim=0) if outs[0][1] is not None else None)
        return self._logits(self._hidden(f))

    def heads_members(self, f: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """Each member's logits (one entry for a single network): what training puts a loss on."""
        if self.member_nets is None:
            return [self.heads(f)]
        return [m.heads(f) for m in self.member_nets]

    def dense(self) -> "LineEncoder":
        """The ensemble as one single-network encoder computing exactly its `heads` (the members' mean logits): the
        first layers stacked (they share the input), later hidden layers block-diagonal, the heads' weights side by
        side divided by the member count and their biases averaged. A single network is returned as it is."""
        if self.member_nets is None:
            return self
        c, m = self.config, len(self.member_nets)
        out = LineEncoder(replace(c, members=1, hidden=[m * h for h in c.hidden]))
        with torch.no_grad():
            for i, layer in enumerate(out.linear_layers()):
                parts = [net.linear_layers()[i] for net in self.member_nets]
                w = [p.weight for p in parts]
                layer.weight.copy_(torch.cat(w, dim=0) if i == 0 else torch.block_diag(*w))
                layer.bias.copy_(torch.cat([p.bias for p in parts]))
            heads = [("line_head", out.line_head)] + ([("element_head", out.element_head)]
                                                      if out.element_head is not None else [])
            for name, head in heads:
                parts = [getattr(net, name) for net in self.member_nets]
                head.weight.copy_(torch.cat([p.weight for p in parts], dim=1) / m)
                head.bias.copy_(torch.stack([p.bias for p in parts]).mean(dim=0))
        return out.train(self.training)

    def heads_aux(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """As `heads`, plus the auxiliary head's outputs [N, AUX_TARGETS·556] (training only)."""
        if self.aux_head is None:
            raise ValueError("this model has no auxiliary head (model.aux_head is false)")
        h = self._hidden(f)
        return (*self._logits(h), self.aux_head(h))

    def _hidden(self, f: torch.Tensor) -> torch.Tensor:
        return self.body(self.front(f) if self.front is not None else f)

    def _logits(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.line_head(h), (self.element_head(h) if self.element_head is not None else None)

    def linear_layers(self) -> list[nn.Linear]:
        """The MLP's hidden Linear layers in order (the heads excluded); a CNN's convolutions are not included."""
        if self.member_nets is not None:
            raise ValueError("an ensemble (model.members > 1) has no single layer stack: export its dense() form")
        return [m for m in self.body if isinstance(m, nn.Linear)]
