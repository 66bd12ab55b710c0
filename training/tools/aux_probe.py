"""Does a training-only auxiliary head help the line encoder learn what lies under a line? Developer probe
(docs/training.md, run X; training/README.md, "Auxiliary head").

The labels are a threshold on each line's expected window counts (net ≥ L_D(background)); the auxiliary head regresses
the log margin against L_D and the log background (train.py, `aux_targets`) and is dropped at export. This trains the
shipped recipe with each auxiliary loss weight given (0 = the shipped recipe itself), scored as recipe_probe.py
describes.

Usage (from training/):
  /usr/bin/python3 tools/aux_probe.py --data ../.build/train-data --config configs/shipped.json \\
      --train-limit 400000 --epochs 3 0 0.3 1.0
"""

from __future__ import annotations

import dataclasses

import recipe_probe


def with_aux_weight(cfg, text: str):
    w = float(text)
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, aux_head=w > 0), aux_loss_weight=w)


if __name__ == "__main__":
    recipe_probe.run(recipe_probe.arguments(__doc__, "auxiliary loss weights, e.g. 0 0.3 1.0").parse_args(),
                     with_aux_weight)
