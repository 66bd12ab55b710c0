#!/usr/bin/python3
"""Generate the emission-line catalogue (src/XrfEdge.Spectra/Data/emission-lines.csv) from xraylib.

Run with Debian's interpreter (python3-xraylib): /usr/bin/python3 scripts/physics/generate_catalog.py

The catalogue is the paper's output basis: for 41 elements, the 25 Siegbahn lines that scikit-beam lists
(Ka1 … Mg, its 'Ln' being xraylib's LE_LINE = L2M1), keeping every line whose xraylib LineEnergy is non-zero
and below 29.95 keV. That leaves exactly 556 lines. Rows are ordered by energy, ties by Z, then by the
Siegbahn order below; the row index is the encoder's output index.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import xraylib

ELEMENTS = ("O F Na Mg Al Si P S Cl Ar K Ca Ti V Cr Mn Fe Co Ni Cu Zn Ge As Br Sr Zr Mo Rh Pd "
            "Ag Cd Sn Sb Te Cs Ba Pt Au Hg Pb Bi").split()

# (Siegbahn alias as printed, xraylib macro, IUPAC transition, initial vacancy shell)
LINES: tuple[tuple[str, str, str, str], ...] = (
    ("Ka1", "KA1_LINE", "KL3", "K"), ("Ka2", "KA2_LINE", "KL2", "K"), ("Ka3", "KA3_LINE", "KL1", "K"),
    ("Kb1", "KB1_LINE", "KM3", "K"), ("Kb2", "KB2_LINE", "KN3", "K"), ("Kb3", "KB3_LINE", "KM2", "K"),
    ("Kb4", "KB4_LINE", "KN5", "K"), ("Kb5", "KB5_LINE", "KM5", "K"),
    ("La1", "LA1_LINE", "L3M5", "L3"), ("La2", "LA2_LINE", "L3M4", "L3"), ("Lb1", "LB1_LINE", "L2M4", "L2"),
    ("Lb2", "LB2_LINE", "L3N5", "L3"), ("Lb3", "LB3_LINE", "L1M3", "L1"), ("Lb4", "LB4_LINE", "L1M2", "L1"),
    ("Lb5", "LB5_LINE", "L3O45", "L3"), ("Lg1", "LG1_LINE", "L2N4", "L2"), ("Lg2", "LG2_LINE", "L1N2", "L1"),
    ("Lg3", "LG3_LINE", "L1N3", "L1"), ("Lg4", "LG4_LINE", "L1O3", "L1"), ("Ll", "LL_LINE", "L3M1", "L3"),
    ("Ln", "LE_LINE", "L2M1", "L2"), ("Ma1", "MA1_LINE", "M5N7", "M5"), ("Ma2", "MA2_LINE", "M5N6", "M5"),
    ("Mb", "MB_LINE", "M4N6", "M4"), ("Mg", "MG_LINE", "M3N5", "M3"),
)
MAX_ENERGY_KEV = 29.95
EXPECTED_COUNT = 556


def _safe(fn, *args) -> float:
    """xraylib 4 raises ValueError where it has no data; the catalogue records that as 0."""
    try:
        return float(fn(*args))
    except ValueError:
        return 0.0


def build_rows() -> list[tuple]:
    rows = []
    for symbol in ELEMENTS:
        z = xraylib.SymbolToAtomicNumber(symbol)
        for order, (siegbahn, macro, iupac, shell) in enumerate(LINES):
            line = getattr(xraylib, macro)
            energy = _safe(xraylib.LineEnergy, z, line)
            if energy <= 0.0 or energy >= MAX_ENERGY_KEV:
                continue
            rate = _safe(xraylib.RadRate, z, line)
            edge = _safe(xraylib.EdgeEnergy, z, getattr(xraylib, f"{shell}_SHELL"))
            rows.append((energy, z, order, symbol, f"{symbol}-{iupac}", f"{symbol} {siegbahn}", rate, shell, edge))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = pathlib.Path(__file__).resolve().parents[2] / "src/XrfEdge.Spectra/Data/emission-lines.csv"
    parser.add_argument("--out", type=pathlib.Path, default=default_out)
    args = parser.parse_args()
    rows = build_rows()
    if len(rows) != EXPECTED_COUNT:
        print(f"expected {EXPECTED_COUNT} lines, xraylib gave {len(rows)}", file=sys.stderr)
        return 1
    with args.out.open("w", encoding="utf-8", newline="\n") as f:
        f.write("index,element,z,name,siegbahn,energy_kev,rad_rate,shell,edge_kev\n")
        for i, (energy, z, _order, symbol, name, siegbahn, rate, shell, edge) in enumerate(rows):
            f.write(f"{i},{symbol},{z},{name},{siegbahn},{energy:.6f},{rate:.6g},{shell},{edge:.6f}\n")
    print(f"wrote {len(rows)} lines to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
