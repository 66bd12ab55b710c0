"""Where one training step's time goes, for the shipped recipe. Developer probe (docs/training.md, "Time").

Runs the training loop's per-batch work (label gather, count thinning, augmentation, forward + backward, AdamW step)
over the first N training spectra, one epoch, timing each part; prints the shares, ms per step and spectra per second.
It trains a throw-away model and writes nothing.

Usage (from training/): /usr/bin/python3 tools/step_profile.py DATA_DIR [N] [CONFIG]
  DATA_DIR holds train/ (xrfedge synth --format npy, with line counts); N defaults to 100,000; CONFIG to
  configs/shipped.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xrftrain.augment import LabelledLineCounts, augment, thin, thin_factors  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.model import LineEncoder  # noqa: E402
from xrftrain.pipeline import config_from_json  # noqa: E402
from xrftrain.train import batch_loss  # noqa: E402


def main(data: Path, n: int, config: Path) -> None:
    cfg = config_from_json(json.loads(config.read_text(encoding="utf-8"))).shipped
    if cfg.augment is None or cfg.augment.thin_prob <= 0 or cfg.aux_loss_weight > 0:
        raise SystemExit("step_profile times the shipped kind of recipe: augmentation with thinning, no auxiliary head")
    cat = load_catalog()
    ds = load_dataset(data / "train", cat.sha256).subset(slice(0, n))
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = LineEncoder(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    x_all = torch.from_numpy(np.array(ds.x, dtype=np.float32))
    yl_all, ye_all = torch.from_numpy(np.array(ds.y_lines)), torch.from_numpy(np.array(ds.y_elements))
    ign_all = torch.from_numpy(np.array(ds.y_elements_ignore)).bool()
    ins_all = torch.from_numpy(np.array(ds.y_elements_in_sample)).bool()
    counts = LabelledLineCounts(ds.y_lines, ds.line_net, ds.line_background).batch
    le = torch.from_numpy(cat.line_element)
    eps = ds.label_systematic_fraction
    parts = dict.fromkeys(("gather", "thin", "augment", "forward+backward", "optimiser"), 0.0)
    perm = torch.randperm(len(ds), generator=gen)
    steps = 0
    for i in range(0, len(ds), cfg.batch_size):
        t0 = time.perf_counter()
        idx = perm[i:i + cfg.batch_size]
        xb, ylb, yeb, ign = x_all[idx], yl_all[idx].float(), ye_all[idx].float(), ign_all[idx]
        t1 = time.perf_counter()
        fac = thin_factors(xb.sum(dim=1), cfg.augment, gen)
        netb, bkgb = counts(idx)
        xb, ylb, yeb, ign = thin(xb, ylb, yeb, ign, ins_all[idx], netb, bkgb, eps, le, cfg.augment, gen, factors=fac)
        t2 = time.perf_counter()
        xb = augment(xb, cfg.augment, gen)
        t3 = time.perf_counter()
        loss = batch_loss(cfg, model, xb, ylb, yeb, ign, le, None)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t4 = time.perf_counter()
        opt.step()
        t5 = time.perf_counter()
        for k, a, b in zip(parts, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5)):
            parts[k] += b - a
        steps += 1
    total = sum(parts.values())
    print(f"{steps} steps of {cfg.batch_size} ({cfg.precision}, {cfg.threads} threads): "
          + ", ".join(f"{k} {v / total:.1%}" for k, v in parts.items())
          + f"; {total / steps * 1000:.1f} ms per step, {len(ds) / total:.0f} spectra/s")


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
         Path(sys.argv[3]) if len(sys.argv) > 3 else root / "configs" / "shipped.json")
