"""Training loop: multi-label line (and element) heads, BCE / focal / KL (paper) loss, masked ignore-elements."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .augment import AugmentConfig, LabelledLineCounts, augment, currie_limit, thin, thin_factors
from .data import Dataset
from .device import check_device, describe_device, resolve_device
from .model import ABS_LOG_DIVISOR, LineEncoder, ModelConfig

LOSSES = ("bce", "focal", "kl")
# "fp32": every training op in float32 (runs A–R). "bf16": the MLP's matrix products run in bfloat16 under CPU autocast
# (weights, gradients and optimiser state stay float32). On a CPU with AVX512-BF16 (the dev VM on its Zen 4 host) a full
# training step of the shipped recipe takes about half the float32 time; augmentation is most of the rest
# (training/README.md, "bfloat16").
# The input transform always runs in float32: its significance map is a difference of two large Anscombe values, which
# bfloat16's 8-bit mantissa would turn into noise of several standard deviations.
PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    loss: str = "bce"
    epochs: int = 20
    batch_size: int = 512
    lr: float = 2e-3
    weight_decay: float = 1e-5
    element_loss_weight: float = 0.5
    focal_gamma: float = 2.0
    seed: int = 1
    threads: int = 2
    max_minutes: float | None = None  # stop early (and say so) to keep `make model` inside its time budget
    precision: str = "fp32"
    # Where the training loop runs: "auto" (CUDA when torch sees a GPU, else the CPU), "cpu", "cuda" or "cuda:N"
    # (device.py). Not a hyper-parameter of the recipe (to_dict leaves it out); the card records the device used.
    device: str = "auto"
    # Weight of the auxiliary head's regression loss (model.aux_head; `aux_targets`). 0 for every shipped model so far.
    aux_loss_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision '{self.precision}' (known: {', '.join(PRECISIONS)})")
        check_device(self.device)
        if self.aux_loss_weight < 0:
            raise ValueError(f"aux_loss_weight must be ≥ 0, got {self.aux_loss_weight}")
        if (self.aux_loss_weight > 0) != self.model.aux_head:
            # A head without a loss would be trained on nothing; a loss without a head has nothing to train.
            raise ValueError(f"aux_loss_weight ({self.aux_loss_weight}) > 0 and model.aux_head "
                             f"({self.model.aux_head}) must go together")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["augment"] = self.augment.to_dict() if self.augment else None
        # Where a recipe ran is recorded as the card's training.device, the device actually used; kept out of the
        # hyper-parameters, so a card trained before the key existed (1.6.0) still compares equal to its config
        # (pipeline.add_ablations) and a GPU-trained card to the same recipe's.
        d.pop("device")
        if self.aux_loss_weight == 0:
            # Recipes without the head record exactly the hyper-parameters they always did (the model card's).
            d.pop("aux_loss_weight")
            d["model"].pop("aux_head")
        return d


@dataclass
class TrainResult:
    model: LineEncoder
    history: list[dict[str, float]]
    seconds: float
    stopped_early: bool
    # The device the loop ran on, as the card records it (device.describe_device): "cpu" or "cuda:0 (<GPU name>)".
    device: str


def _loss(cfg: TrainConfig, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    if cfg.loss == "kl":
        # The paper's loss: KL(target distribution ‖ softmax(logits)) with the multi-hot target normalised.
        t = target * mask
        denom = t.sum(dim=1, keepdim=True)
        keep = denom.squeeze(1) > 0
        if not keep.any():
            return logits.sum() * 0.0
        t = t[keep] / denom[keep]
        logp = F.log_softmax(logits[keep].masked_fill(mask[keep] == 0, -1e4), dim=1)
        return F.kl_div(logp, t, reduction="batchmean")
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    if cfg.loss == "focal":
        p = torch.sigmoid(logits)
        pt = p * target + (1 - p) * (1 - target)
        bce = bce * (1 - pt).pow(cfg.focal_gamma)
    return (bce * mask).sum() / mask.sum().clamp_min(1.0)


def predict(model: LineEncoder, x: np.ndarray, batch: int = 4096) -> tuple[np.ndarray, np.ndarray | None]:
    """Sigmoid probabilities (lines [N,556], elements [N,41] or None) of the float model, computed on the device its
    weights are on."""
    model.eval()
    device = next(model.parameters()).device
    lines: list[np.ndarray] = []
    elems: list[np.ndarray] = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            lo, eo = model(torch.from_numpy(np.array(x[i:i + batch], dtype=np.float32, copy=True)).to(device))
            lines.append(torch.sigmoid(lo).cpu().numpy())
            if eo is not None:
                elems.append(torch.sigmoid(eo).cpu().numpy())
    return np.concatenate(lines), (np.concatenate(elems) if elems else None)


def train(cfg: TrainConfig, train_set: Dataset, val_set: Dataset, line_element: np.ndarray,
          log: bool = True) -> TrainResult:
    """Trains cfg's model on cfg.device (device.resolve_device) and returns it on the CPU. On the CPU every op and
    random draw is what it was before the device option existed (tests/test_determinism.py; the shipped 1.6.0 files
    are reproduced bit for bit). On CUDA the model and each batch live on the GPU: batches are gathered on the CPU,
    pinned and copied per step, the augmentation draws from a CUDA generator, bf16 uses CUDA autocast, and the
    per-epoch validation pass runs there too."""
    if cfg.loss not in LOSSES:
        raise ValueError(f"unknown loss '{cfg.loss}' (known: {', '.join(LOSSES)})")
    device = resolve_device(cfg.device)
    cuda = device.type == "cuda"
    torch.set_num_threads(cfg.threads)
    if cfg.precision == "bf16" and log and not cuda and not native_bf16():
        print("  warning: precision bf16 on a CPU without native bfloat16 (no avx512_bf16, amx_bf16 or bf16 flag in "
              "/proc/cpuinfo): torch emulates it, so training is likely slower than with fp32", flush=True)
    if cfg.precision == "bf16" and log and cuda and not torch.cuda.is_bf16_supported():
        print(f"  warning: precision bf16 on {describe_device(device)}, which has no native bfloat16 "
              "(torch.cuda.is_bf16_supported() is False)", flush=True)
    torch.manual_seed(cfg.seed)
    if cuda:
        # torch.manual_seed seeds the CUDA generators as well (dropout masks draw from them); seeded here explicitly so
        # a CUDA run's seeding does not rest on that.
        torch.cuda.manual_seed_all(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    # The batch order is drawn on the CPU whatever the device; the augmentation draws where the batch is (augment.py).
    # On the CPU that is the one generator, exactly as before the device option existed.
    aug_gen = torch.Generator(device=device).manual_seed(cfg.seed) if cuda else gen
    move = _to_device(device)
    model = LineEncoder(cfg.model)
    if cuda:
        model.to(device)  # before the optimiser is built, so that it holds the GPU's parameters
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(train_set)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    planned_epochs = cfg.epochs
    x_all = torch.from_numpy(np.array(train_set.x, dtype=np.float32, copy=True))
    # Labels stay uint8 (0/1) in memory and become float per batch: a quarter of the RAM (1.3 GB less per 800k).
    yl_all = torch.from_numpy(np.array(train_set.y_lines, copy=True))
    ye_all = torch.from_numpy(np.array(train_set.y_elements, copy=True))
    ign_all = torch.from_numpy(np.array(train_set.y_elements_ignore, copy=True)).bool()
    le = move(torch.from_numpy(line_element))
    thinning = cfg.augment is not None and cfg.augment.thin_prob > 0
    aux = cfg.aux_loss_weight > 0
    if thinning or aux:
        if not train_set.has_line_counts:
            what = "augment.thin_prob" if thinning else "aux_loss_weight"
            raise ValueError(f"{train_set.path}: {what} needs line_net.npy and line_background.npy "
                             "(regenerate the set with this xrfedge: `xrfedge synth --format npy`)")
        ins_all = torch.from_numpy(np.array(train_set.y_elements_in_sample, copy=True)).bool()
        if aux:
            net_all = torch.from_numpy(np.array(train_set.line_net, dtype=np.float32, copy=True))
            bkg_all = torch.from_numpy(np.array(train_set.line_background, dtype=np.float32, copy=True))

            def line_counts(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
                return net_all[idx], bkg_all[idx]
        else:
            # Thinning alone reads only the labelled lines' counts: keep just those (LabelledLineCounts).
            line_counts = LabelledLineCounts(train_set.y_lines, train_set.line_net, train_set.line_background).batch
        eps = train_set.label_systematic_fraction
    history: list[dict[str, float]] = []
    start = time.monotonic()
    stopped = False
    step = 0
    epoch = 0
    while epoch < planned_epochs:
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            # On a GPU the labels are copied as uint8 and become float there (a quarter of the bytes to copy).
            xb, ylb, yeb = move(x_all[idx]), move(yl_all[idx]).float(), move(ye_all[idx]).float()
            ign = move(ign_all[idx])
            aux_t = None
            if thinning:
                # The keep factors are drawn here exactly as thin() would draw them (same generator, same order), so a
                # recipe without the auxiliary head trains on the same random stream as before the head existed.
                fac = thin_factors(xb.sum(dim=1), cfg.augment, aug_gen)
                netb, bkgb = map(move, line_counts(idx))
                xb, ylb, yeb, ign = thin(xb, ylb, yeb, ign, move(ins_all[idx]), netb, bkgb, eps, le, cfg.augment,
                                         aug_gen, factors=fac)
                if aux:
                    aux_t = aux_targets(netb * fac[:, None], bkgb * fac[:, None], eps)
            elif aux:
                aux_t = aux_targets(*map(move, line_counts(idx)), eps)
            if cfg.augment is not None:
                xb = augment(xb, cfg.augment, aug_gen)
            loss = batch_loss(cfg, model, xb, ylb, yeb, ign, le, aux_t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for group in opt.param_groups:
                group["lr"] = _lr(cfg.lr, step, planned_epochs * steps_per_epoch)
            opt.step()
            step += 1
            total += float(loss) * len(idx)
        lp, ep = predict(model, val_set.x)
        val = _val_summary(lp, ep, val_set, line_element)
        row = {"epoch": epoch + 1, "lr": _lr(cfg.lr, step - 1, planned_epochs * steps_per_epoch), "train_loss": total / n, **val, "minutes": (time.monotonic() - start) / 60}
        history.append(row)
        if log:
            print("  " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        epoch += 1
        if epoch == 1 and cfg.max_minutes is not None:
            # Fit the schedule to the time budget once the first epoch's speed is known, so the learning rate
            # still anneals to zero (stopping a schedule half-way leaves a worse model).
            fits = max(1, int(cfg.max_minutes / max(row["minutes"], 1e-6)))
            if fits < planned_epochs:
                planned_epochs = fits
                stopped = True
                if log:
                    print(f"  time budget {cfg.max_minutes} min: {planned_epochs} of {cfg.epochs} epochs fit", flush=True)
    if cuda:
        # Export, quantisation and everything after training run on the CPU; the ensemble's dense form below is then
        # built there too, as in a CPU run.
        model.cpu()
    # An ensemble leaves as its exact single-network form (model.LineEncoder.dense): what export and every later step
    # expect.
    return TrainResult(model.dense(), history, time.monotonic() - start, stopped, describe_device(device))


def _to_device(device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """How a CPU batch reaches `device`: unchanged on the CPU; on CUDA pinned and copied without blocking, so the copy
    overlaps the CPU's gathering of the batch's other tensors (copies and the kernels that read them share the current
    stream, which keeps them in order)."""
    if device.type == "cpu":
        return lambda t: t
    return lambda t: t.pin_memory().to(device, non_blocking=True)


def native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU computes in bfloat16 natively (x86 AVX512-BF16 or AMX-BF16, Arm BF16), from /proc/cpuinfo's flag
    lines. Elsewhere torch emulates bfloat16, which should make a bf16 step slower than a float32 one. The dev VM moves
    between hosts (docs/PERFORMANCE.md names a Zen 3 host without AVX-512), so this is checked where training runs."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")) and ":" in line:
            flags.update(line.split(":", 1)[1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


# Auxiliary targets (model.aux_head). The labels are y = [net ≥ L_D(B)] on each line's expected window counts, with
# L_D = 2.71 + 4.65·√(B + (εB)²) (augment.currie_limit). A 0/1 label says which side of L_D a line is on; the head
# is asked how far (the log₂ margin, clipped to −3…+5 and scaled so 0 is the label's boundary) and what the background
# under the line is (log B, scaled like the absolute-count features). Lines the tube cannot excite have net 0: margin −3.
AUX_MARGIN_MIN = -3.0
AUX_MARGIN_MAX = 5.0
AUX_MARGIN_SCALE = 4.0


def aux_targets(net: torch.Tensor, background: torch.Tensor, eps: float) -> torch.Tensor:
    """Expected window counts net/background [N,556] (after any thinning) → auxiliary targets [N, 2·556]."""
    # The clamp only keeps log₂ finite for net = 0: L_D ≥ 2.71 counts, so anything below 2.71·2⁻³ counts clips to −3.
    ratio = net.clamp_min(1e-6) / currie_limit(background, eps)
    margin = torch.log2(ratio).clamp(AUX_MARGIN_MIN, AUX_MARGIN_MAX) / AUX_MARGIN_SCALE
    return torch.cat([margin, torch.log1p(background) / ABS_LOG_DIVISOR], dim=1)


def batch_loss(cfg: TrainConfig, model: LineEncoder, x: torch.Tensor, y_lines: torch.Tensor, y_elements: torch.Tensor,
               ignore: torch.Tensor, line_element: torch.Tensor, aux_target: torch.Tensor | None = None
               ) -> torch.Tensor:
    """One batch's training loss: the line loss with ignored elements' lines masked, plus the weighted element-head loss
    (BCE when the line loss is the paper's KL), plus, with model.aux_head, the weighted mean squared error of the
    auxiliary head against `aux_target` (`aux_targets`). Shared by the training loop and tools/precision_probe.py."""
    if model.member_nets is not None:
        # An ensemble: every member is trained on its own logits (the mean of the members' losses), so each learns
        # as a network of its own would; only the exported model averages them (model.LineEncoder.dense).
        outs = _forward_members(model, x, cfg.precision)
        return torch.stack([_heads_loss(cfg, lo, eo, y_lines, y_elements, ignore, line_element)
                            for lo, eo in outs]).mean()
    lo, eo, ao = _forward(model, x, cfg.precision, aux=aux_target is not None)
    loss = _heads_loss(cfg, lo, eo, y_lines, y_elements, ignore, line_element)
    if ao is not None:
        loss = loss + cfg.aux_loss_weight * F.mse_loss(ao, aux_target)
    return loss


def _heads_loss(cfg: TrainConfig, lo: torch.Tensor, eo: torch.Tensor | None, y_lines: torch.Tensor,
                y_elements: torch.Tensor, ignore: torch.Tensor, line_element: torch.Tensor) -> torch.Tensor:
    loss = _loss(cfg, lo, y_lines, (~ignore[:, line_element]).float())
    if eo is not None:
        loss = loss + cfg.element_loss_weight * _loss(cfg if cfg.loss != "kl" else TrainConfig(loss="bce"),
                                                      eo, y_elements, (~ignore).float())
    return loss


def _forward_members(model: LineEncoder, x: torch.Tensor, precision: str
                     ) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """An ensemble's training forward pass: each member's float32 logits (see `_forward`)."""
    f = model.transform(x)
    with _matmul_precision(precision, f.device.type):
        outs = model.heads_members(f)
    return [(lo.float(), eo.float() if eo is not None else None) for lo, eo in outs]


def _forward(model: LineEncoder, x: torch.Tensor, precision: str, aux: bool = False
             ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Training forward pass: float32 logits whatever the precision of the matrix products (see PRECISIONS); the
    auxiliary head's outputs only when `aux`."""
    f = model.transform(x)
    with _matmul_precision(precision, f.device.type):
        out = (model.heads_aux if aux else model.heads)(f)
    lo, eo = out[0].float(), (out[1].float() if out[1] is not None else None)
    return lo, eo, (out[2].float() if aux else None)


def _matmul_precision(precision: str, device_type: str = "cpu") -> contextlib.AbstractContextManager:
    """Where the heads run: as they are for "fp32", under bfloat16 autocast of their device type ("cpu" or "cuda") for
    "bf16" (see PRECISIONS). The input transform stays outside it, in float32."""
    return contextlib.nullcontext() if precision == "fp32" else torch.autocast(device_type, dtype=torch.bfloat16)


def _lr(peak: float, step: int, total: int) -> float:
    """Linear warm-up over the first 5 % of steps, then cosine decay to zero."""
    warm = max(1, int(0.05 * total))
    if step < warm:
        return peak * (step + 1) / warm
    t = min(1.0, (step - warm) / max(1, total - warm))
    return peak * 0.5 * (1.0 + math.cos(math.pi * t))


def _val_summary(lp: np.ndarray, ep: np.ndarray | None, ds: Dataset, line_element: np.ndarray) -> dict[str, float]:
    """Validation F1 at a fixed 0.5 threshold (a progress signal only; thresholds are tuned after training)."""
    from .metrics import binary_scores

    ign = ds.y_elements_ignore.astype(bool)
    out = {"val_line_f1@0.5": binary_scores(lp, ds.y_lines, ~ign[:, line_element], 0.5)["f1"]}
    if ep is not None:
        out["val_element_f1@0.5"] = binary_scores(ep, ds.y_elements, ~ign, 0.5)["f1"]
    return out
