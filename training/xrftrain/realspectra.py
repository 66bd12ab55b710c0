"""Developer check on the real spectra in ../shared/spectra (never trained on; the ship rules' real-spectra guard
counts them, so they are validation data, not an untouched test: docs/training.md).

Reads EMSA/MAS `.msa` files and rebins them onto the model grid with the same fractional-overlap rule as the
C# Rebinner (channel ch covers [E(ch−½), E(ch+½)), counts spread in proportion to overlap). The reported
figures for the shipped model come from `xrfedge eval`/`identify` (C#, ONNX Runtime); this module lets the
training loop see the sim-to-real gap early.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .data import BINS

BIN_WIDTH_KEV = 0.1


def read_msa(path: Path) -> tuple[np.ndarray, float, float]:
    """(counts, offset_kev = energy of channel 0, gain_kev_per_channel), negative channels clamped to 0 as the C#
    MsaReader does by default for EMSA files (FormatParsing.ClampNegatives; the NIST Bruker files hold down to −316
    near 0.3 keV where the zero peak was subtracted). Since 2026-11-24; before, the negatives were rebinned as read."""
    values, offset, gain = read_msa_raw(path)
    counts, _, _ = clamp_negatives(values)
    return counts, offset, gain


def clamp_negatives(values: np.ndarray) -> tuple[np.ndarray, int, float]:
    """(values with every negative set to 0, how many channels were negative, their sum ≤ 0): what C#
    FormatParsing.ClampNegatives does and records as metadata clamped_negative_channels / clamped_negative_sum."""
    negative = values < 0
    return np.where(negative, 0.0, values), int(negative.sum()), float(values[negative].sum())


def read_msa_raw(path: Path) -> tuple[np.ndarray, float, float]:
    """(values as written, offset_kev = energy of channel 0, gain_kev_per_channel). #XUNITS eV (the PIXL files) is
    converted; anything else is read as keV (the Bruker files). #DATATYPE XY (the XGT-7200 files: "energy, counts"
    per line) keeps the counts; the energies are left to #OFFSET/#XPERCHAN, which the C# reader checks them against."""
    offset = gain = None
    scale = 1.0
    columns = 1
    values: list[float] = []
    in_data = False
    for raw in path.read_text(encoding="latin-1").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            key, _, val = line[1:].partition(":")
            key = key.strip().upper()
            if key.startswith("XUNITS"):
                scale = 1e-3 if val.strip().lower() == "ev" else 1.0
            elif key.startswith("XPERCHAN"):
                gain = float(val)
            elif key.startswith("DATATYPE"):
                kind = val.strip().upper()
                if kind not in ("Y", "XY"):
                    raise ValueError(f"{path}: #DATATYPE {val.strip()!r} is neither Y nor XY")
                columns = 2 if kind == "XY" else 1
            elif key.startswith("OFFSET"):
                offset = float(val)
            elif key.startswith("SPECTRUM"):
                in_data = True
            elif key.startswith("ENDOFDATA"):
                break
            continue
        if in_data and line:
            values += [float(v) for v in line.replace(",", " ").split()]
    if offset is None or gain is None or not values:
        raise ValueError(f"{path}: not an EMSA spectrum (missing #OFFSET, #XPERCHAN or data)")
    if len(values) % columns:
        raise ValueError(f"{path}: #DATATYPE XY data hold {len(values)} values, not x, y pairs")
    return np.asarray(values[columns - 1::columns]), offset * scale, gain * scale


def rebin(counts: np.ndarray, offset_kev: float, gain_kev: float) -> np.ndarray:
    """Counts per 0.1-keV model bin [0, 30) keV (linear calibration)."""
    edges = offset_kev + gain_kev * (np.arange(len(counts) + 1) - 0.5)
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    grid = np.arange(BINS + 1) * BIN_WIDTH_KEV
    c = np.interp(grid, edges, cum)
    return np.diff(c).astype(np.float32)


def load_folder(folder: Path) -> dict[str, np.ndarray]:
    return {p.name.split("_")[0]: rebin(*read_msa(p)) for p in sorted(folder.glob("*.msa"))}
