"""Would an ensemble trained in one run beat one network of the same training cost? Developer probe (docs/training.md,
"Ensembles trained in one run").

Trains the shipped recipe with `model.members` independent MLPs of a narrower width side by side (each with its own
loss; model.py, ModelConfig.members), scored as recipe_probe.py describes on the members' averaged logits. A variant
"MxW" is M members with hidden layers W×W (the shipped depth of two layers); "1x768" is the shipped network. Pick
widths that keep the training cost level: with 601 input features and 597 outputs, M members of width W cost about
M·(W² + 1198·W) multiply-adds per spectrum (768 single: 1.51 M; 2×448: 1.48 M; 3×320: 1.46 M).

Usage (from training/):
  /usr/bin/python3 tools/members_probe.py --data ../.build/train-data --config configs/shipped.json \\
      --train-limit 400000 --epochs 3 1x768 2x448 3x320
"""

from __future__ import annotations

import dataclasses

import recipe_probe


def with_members(cfg, text: str):
    members, width = (int(v) for v in text.split("x"))
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, members=members, hidden=[width, width]))


if __name__ == "__main__":
    recipe_probe.run(recipe_probe.arguments(__doc__, "members x width, e.g. 1x768 2x448 3x320").parse_args(),
                     with_members)
