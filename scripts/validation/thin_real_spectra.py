#!/usr/bin/python3
"""Write count-thinned copies of a real-spectra set (validation only; derived data, never training data).

The PIXL glass bulk sums hold about 1.2e8 counts, four times the most any generator profile makes (300 s × 1e5
counts/s), so this asks how the model does on the same real spectral shapes at counts it was trained for.
Binomial thinning keeps each recorded count with probability target/total, which is what a shorter live time at
the same count rate would have recorded (Poisson statistics), nothing else changes.

    /usr/bin/python3 scripts/validation/thin_real_spectra.py validation/spectra/pixl-bb-rh28kv-glasses OUT 1e6 3

writes OUT/<target>-s<seed>/<stem>.msa for seeds 1..N (header copied, #LIVETIME scaled, counts replaced) and a
copy of expected.json (the ids are the file stems, which stay the same), so score_real_spectra.py can score
OUT/<target>-s<seed>. It expects one count per data line, as the PIXL bulk sums have.
"""
from __future__ import annotations

import json
import pathlib
import sys

import numpy as np


def thin(folder: pathlib.Path, out: pathlib.Path, target: float, seeds: int) -> None:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    for seed in range(1, seeds + 1):
        rng = np.random.default_rng(seed)
        dest = out / f"{target:.0e}-s{seed}"
        dest.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.msa")):
            lines = path.read_text(encoding="utf-8").splitlines()
            start = next(i for i, l in enumerate(lines) if l.startswith("#SPECTRUM")) + 1
            end = next(i for i, l in enumerate(lines) if l.startswith("#ENDOFDATA"))
            counts = np.array([round(float(v)) for v in lines[start:end]], dtype=np.int64)
            p = min(1.0, target / counts.sum())
            kept = rng.binomial(counts, p)
            header = [f"#LIVETIME    : {float(l.split(':', 1)[1]) * p:.4f}" if l.startswith("#LIVETIME") else l
                      for l in lines[:start]]
            (dest / path.name).write_text("\n".join(header + [str(int(c)) for c in kept] + lines[end:]) + "\n",
                                          encoding="utf-8")
        (dest / "expected.json").write_text(json.dumps(expected, indent=2), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: thin_real_spectra.py FOLDER OUT TARGET_COUNTS SEEDS")
    thin(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
