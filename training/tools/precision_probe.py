"""Step time and short-run accuracy of float32 vs bfloat16 training on this machine (training/README.md, "bfloat16").

  cd training && /usr/bin/python3 tools/precision_probe.py --data ../.build/train-data --config configs/shipped.json \
      [--steps 60] [--train-limit 200000 --epochs 3]

0. Matrix-product rate: [512,768] × [768,768] (the shipped hidden layer at batch 512) in each dtype, GFLOPS.
1. Step time: the shipped config's full training step (thinning, augmentation, forward, loss, backward, AdamW) on
   batches of the training set, timed for `--steps` steps after 10 warm-up steps, each precision twice, interleaved.
2. With `--train-limit`: the shipped recipe on the first N training spectra for `--epochs` epochs in each precision,
   same seed, and the validation F1 at 0.5 after each epoch (the training loop's own progress figures).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from xrftrain.augment import augment, thin  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.model import LineEncoder  # noqa: E402
from xrftrain.pipeline import config_from_json  # noqa: E402
from xrftrain.train import batch_loss, train  # noqa: E402


def step_ms(cfg, ds, le, precision: str, steps: int) -> float:
    pcfg = dataclasses.replace(cfg, precision=precision)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = LineEncoder(cfg.model)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(ds)
    x_all = torch.from_numpy(np.array(ds.x, dtype=np.float32))
    yl = torch.from_numpy(np.array(ds.y_lines)); ye = torch.from_numpy(np.array(ds.y_elements))
    ign_all = torch.from_numpy(np.array(ds.y_elements_ignore)).bool()
    ins = torch.from_numpy(np.array(ds.y_elements_in_sample)).bool()
    net = torch.from_numpy(np.array(ds.line_net, dtype=np.float32))
    bkg = torch.from_numpy(np.array(ds.line_background, dtype=np.float32))
    lt = torch.from_numpy(le)
    t0 = 0.0
    for s in range(steps + 10):
        if s == 10:
            t0 = time.perf_counter()
        idx = torch.randint(0, n, (cfg.batch_size,), generator=gen)
        xb, ylb, yeb, ign = x_all[idx], yl[idx].float(), ye[idx].float(), ign_all[idx]
        xb, ylb, yeb, ign = thin(xb, ylb, yeb, ign, ins[idx], net[idx], bkg[idx], ds.label_systematic_fraction, lt,
                                 cfg.augment, gen)
        xb = augment(xb, cfg.augment, gen)
        loss = batch_loss(pcfg, model, xb, ylb, yeb, ign, lt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / steps * 1e3


def matmul_gflops(dtype: torch.dtype, reps: int = 200) -> float:
    a = torch.randn(512, 768).to(dtype)
    b = torch.randn(768, 768).to(dtype)
    for _ in range(10):
        a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * 512 * 768 * 768 * reps / (time.perf_counter() - t0) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    cfg = config_from_json(json.loads(a.config.read_text())).shipped
    torch.set_num_threads(cfg.threads)
    cat = load_catalog()
    le = np.asarray(cat.line_element, dtype=np.int64)
    train_set = load_dataset(a.data / "train", cat.sha256)
    timing_set = train_set.subset(slice(0, 50_000))
    out: dict = {"matmul_gflops": {"fp32": round(matmul_gflops(torch.float32), 1),
                                   "bf16": round(matmul_gflops(torch.bfloat16), 1)},
                 "step_ms": {"fp32": [], "bf16": []}, "batch": cfg.batch_size, "model": cfg.model.to_dict()}
    print(f"matmul 512x768 @ 768x768: {out['matmul_gflops']}", flush=True)
    for precision in ("fp32", "bf16", "fp32", "bf16"):
        ms = step_ms(cfg, timing_set, le, precision, a.steps)
        out["step_ms"][precision].append(round(ms, 1))
        print(f"step {precision}: {ms:.1f} ms", flush=True)
    if a.train_limit:
        val = load_dataset(a.data / "val", cat.sha256)
        sub = train_set.subset(slice(0, a.train_limit))
        out["short_run"] = {}
        for precision in ("fp32", "bf16"):
            c = dataclasses.replace(cfg, epochs=a.epochs, precision=precision, max_minutes=None)
            r = train(c, sub, val, le)
            out["short_run"][precision] = {"minutes": round(r.seconds / 60, 2), "history": r.history}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
