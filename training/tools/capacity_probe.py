"""Would a wider MLP learn more from the same data? Developer probe (docs/training.md, "Not the variance of one
training either" and the capacity probe after it).

Trains the shipped recipe (config, augmentation, thinning, loss) with other hidden widths, scored as recipe_probe.py
describes. Equal epochs, not equal time: a wider net costs more per step, and the latency target (docs/PERFORMANCE.md)
decides whether it could ship at all. (The parameter counts include the heads; an auxiliary head is not exported.)

Usage (from training/):
  /usr/bin/python3 tools/capacity_probe.py --data ../.build/train-data --config configs/shipped.json \\
      --train-limit 400000 --epochs 3 768x768 1024x1024
"""

from __future__ import annotations

import dataclasses

import recipe_probe


def with_hidden(cfg, text: str):
    hidden = [int(h) for h in text.split("x")]
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, hidden=hidden))


if __name__ == "__main__":
    recipe_probe.run(recipe_probe.arguments(__doc__, "hidden widths, e.g. 768x768 1024x1024").parse_args(), with_hidden)
