"""Would the element head's loss weight (shipped 0.5) move element F1? Developer probe (docs/training.md, the 1.5.1
section).

The element decision is the element head's probability, gated by a reported line, so the weight of its loss against
the line loss is the recipe knob closest to element F1. It had never been varied. Trains the shipped recipe with other
`element_loss_weight` values, scored as recipe_probe.py describes (validation only, cross-fitted thresholds).

Usage (from training/):
  /usr/bin/python3 tools/loss_weight_probe.py --data ../.build/train-data --config configs/shipped.json \\
      --train-limit 400000 --epochs 3 0.5 1.0 2.0
"""

from __future__ import annotations

import dataclasses

import recipe_probe


def with_weight(cfg, text: str):
    return dataclasses.replace(cfg, element_loss_weight=float(text))


if __name__ == "__main__":
    recipe_probe.run(recipe_probe.arguments(__doc__, "element loss weights, e.g. 0.5 1.0 2.0").parse_args(), with_weight)
