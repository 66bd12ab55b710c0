#!/usr/bin/python3
"""Generate the physics tables of XrfEdge.Spectra (src/XrfEdge.Spectra/Data/physics/) from xraylib.

Run with Debian's interpreter (python3-xraylib 4.0): /usr/bin/python3 scripts/physics/generate_physics_tables.py

Outputs (little-endian float32 tables, each with a 16-byte header "XRFT", uint32 version=1, uint32 rows,
uint32 cols, then rows*cols float32 in row-major order; their row and column meanings are in index.json):
  line-xs.bin          [556 lines x 600 grid]   CS_FluorLine_Kissel_Cascade(Z, line, E0), cm2/g, E0 = grid centres
  line-xs-anode.bin    [556 lines x A]          the same at each tube-anode line energy (exact, no interpolation)
  mu-total.bin         [B absorbers x 600 grid] CS_Total, cm2/g
  mu-photo.bin         [B absorbers x 600 grid] CS_Photo, cm2/g
  mu-total-lines.bin   [B absorbers x 556]      CS_Total at every catalogue line energy (exact, edges matter)
  mu-total-anode.bin   [B absorbers x A]        CS_Total at every tube-anode line energy
  dcs-rayleigh.bin     [B absorbers x (3 angles * 120 energies)] DCS_Rayl, cm2/g/sr
  dcs-compton.bin      [B absorbers x (3 angles * 120 energies)] DCS_Compt, cm2/g/sr
  elements.csv         Z, symbol, atomic weight, density, edges K..M5, fluorescence yields K, L1..L3
  anode-lines.csv      tube-anode characteristic lines: energy, shell, edge, yield, RadRate
  foreign-lines.csv    lines of elements outside the catalogue (Sc, Ga, Rb, Y, Nb, Hf, Ta, W, REE, ...): z, name, energy
  foreign-line-xs.bin        [F foreign lines x 600 grid] CS_FluorLine_Kissel_Cascade at the grid centres
  foreign-line-xs-anode.bin  [F x A]                      the same at each tube-anode line energy
  mu-total-foreign.bin       [B absorbers x F]            CS_Total at every foreign line energy (exact)
  index.json           grids, row names, file shapes, xraylib version
"""
from __future__ import annotations

import argparse
import json
import pathlib
import struct
import sys

import xraylib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src/XrfEdge.Spectra/Data/emission-lines.csv"

GRID_COUNT = 600
GRID_STEP_KEV = 0.1
GRID = [GRID_STEP_KEV * (k + 0.5) for k in range(GRID_COUNT)]  # bin centres of [0.1k, 0.1(k+1)) keV, 0-60 keV

DCS_ANGLES_DEG = (90.0, 120.0, 150.0)
DCS_ENERGIES = [0.5 * (k + 1) for k in range(120)]  # 0.5 ... 60 keV (Rayleigh/Compton are smooth in E)

EXTRA_ELEMENTS = ("H", "He", "Be", "B", "C", "N", "W")  # dark matrix, path gas, windows, anode
AIR = "Air, Dry (near sea level)"  # xraylib NIST compound

ANODES = ("Cr", "Cu", "Mo", "Rh", "Ag", "W")
ANODE_LINES = (  # IUPAC macro, shell
    ("KL2", "K"), ("KL3", "K"), ("KM2", "K"), ("KM3", "K"), ("KN3", "K"),
    ("L3M5", "L3"), ("L3M4", "L3"), ("L3M1", "L3"), ("L3N5", "L3"), ("L2M4", "L2"), ("L2N4", "L2"),
    ("L1M3", "L1"), ("L1M2", "L1"),
)
MAX_ANODE_LINE_KEV = 50.0
# Elements a real sample holds that the model has no output for (profile option foreign_elements):
# Hf in commercial Zr metal, Rb/Y/Nb in rocks and soils, Nb/Ta/W/Hf in alloys, rare earths, ... Their lines are rendered as
# unlabelled peaks so the model learns that a peak is not always a catalogue line (docs/synthesis.md).
FOREIGN_ELEMENTS = ("Sc", "Ga", "Se", "Rb", "Y", "Nb", "Ru", "In", "I", "La", "Ce", "Nd", "Sm", "Gd", "Yb", "Hf",
                    "Ta", "W", "Re", "Ir", "Tl", "Th", "U")
FOREIGN_LINES = ANODE_LINES + (("L3N1", "L3"), ("M5N7", "M5"), ("M5N6", "M5"), ("M4N6", "M4"))
MIN_FOREIGN_LINE_KEV = 0.5  # keV: below it the detector windows and the profiles' lower thresholds (0.2-1.2 keV) leave little to see
SHELLS = ("K", "L1", "L2", "L3", "M1", "M2", "M3", "M4", "M5")


def safe(fn, *args) -> float:
    """xraylib 4 raises ValueError where it has no data (below an edge, unknown line): that is 0 here."""
    try:
        return float(fn(*args))
    except ValueError:
        return 0.0


def emitted_lines(symbol: str, transitions, min_kev: float) -> list[tuple]:
    """(z, IUPAC name, shell, xraylib macro, LineEnergy, RadRate) of each of `transitions` that `symbol` emits: RadRate > 0
    and an energy above `min_kev` (and above 0) up to MAX_ANODE_LINE_KEV."""
    z = xraylib.SymbolToAtomicNumber(symbol)
    rows = []
    for iupac, shell in transitions:
        macro = getattr(xraylib, f"{iupac}_LINE")
        energy = safe(xraylib.LineEnergy, z, macro)
        rate = safe(xraylib.RadRate, z, macro)
        if energy > 0 and energy >= min_kev and energy <= MAX_ANODE_LINE_KEV and rate > 0:
            rows.append((z, iupac, shell, macro, energy, rate))
    return rows


def write_table(path: pathlib.Path, rows: list[list[float]]) -> tuple[int, int]:
    n, m = len(rows), len(rows[0])
    with path.open("wb") as f:
        f.write(b"XRFT" + struct.pack("<III", 1, n, m))
        for row in rows:
            assert len(row) == m
            f.write(struct.pack(f"<{m}f", *row))
    return n, m


def read_catalog() -> list[dict]:
    lines = CATALOG.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, row.split(","))) for row in lines[1:] if row]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "src/XrfEdge.Spectra/Data/physics")
    args = parser.parse_args()
    out: pathlib.Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    catalog = read_catalog()
    cat_elements = sorted({(int(r["z"]), r["element"]) for r in catalog})
    symbols = [s for _, s in cat_elements] + list(EXTRA_ELEMENTS)
    zs = [xraylib.SymbolToAtomicNumber(s) for s in symbols]
    absorbers = symbols + ["Air"]

    def mu(name: str, fn_elem, fn_cp, energy: float) -> float:
        if name == "Air":
            return safe(fn_cp, AIR, energy)
        return safe(fn_elem, xraylib.SymbolToAtomicNumber(name), energy)

    # Tube-anode characteristic lines.
    anode_rows = []
    for anode in ANODES:
        for z, iupac, shell, _, energy, rate in emitted_lines(anode, ANODE_LINES, 0.0):
            shell_macro = getattr(xraylib, f"{shell}_SHELL")
            anode_rows.append((anode, z, f"{anode}-{iupac}", shell, energy,
                               safe(xraylib.EdgeEnergy, z, shell_macro), safe(xraylib.FluorYield, z, shell_macro),
                               rate, safe(xraylib.JumpFactor, z, shell_macro)))
    anode_energies = [r[4] for r in anode_rows]
    with (out / "anode-lines.csv").open("w", encoding="utf-8", newline="\n") as f:
        f.write("anode,z,name,shell,energy_kev,edge_kev,fluor_yield,rad_rate,jump_factor\n")
        for a, z, name, shell, e, edge, w, rate, jump in anode_rows:
            f.write(f"{a},{z},{name},{shell},{e:.6f},{edge:.6f},{w:.6g},{rate:.6g},{jump:.6g}\n")

    # Lines of elements outside the catalogue (RadRate > 0, 0.5-50 keV).
    foreign_rows = [(symbol, z, f"{symbol}-{iupac}", shell, energy, macro)
                    for symbol in FOREIGN_ELEMENTS
                    for z, iupac, shell, macro, energy, _ in emitted_lines(symbol, FOREIGN_LINES, MIN_FOREIGN_LINE_KEV)]
    with (out / "foreign-lines.csv").open("w", encoding="utf-8", newline="\n") as f:
        f.write("element,z,name,shell,energy_kev\n")
        for symbol, z, name, shell, e, _ in foreign_rows:
            f.write(f"{symbol},{z},{name},{shell},{e:.6f}\n")

    # Elements.
    with (out / "elements.csv").open("w", encoding="utf-8", newline="\n") as f:
        f.write("z,symbol,atomic_weight,density_g_cm3," + ",".join(f"edge_{s.lower()}_kev" for s in SHELLS)
                + ",yield_k,yield_l1,yield_l2,yield_l3\n")
        for s, z in zip(symbols, zs):
            edges = [safe(xraylib.EdgeEnergy, z, getattr(xraylib, f"{sh}_SHELL")) for sh in SHELLS]
            yields = [safe(xraylib.FluorYield, z, getattr(xraylib, f"{sh}_SHELL")) for sh in ("K", "L1", "L2", "L3")]
            f.write(f"{z},{s},{xraylib.AtomicWeight(z):.6g},{safe(xraylib.ElementDensity, z):.6g},"
                    + ",".join(f"{e:.6f}" for e in edges) + "," + ",".join(f"{y:.6g}" for y in yields) + "\n")

    shapes = {}
    line_macros = []
    for r in catalog:
        transition = r["name"].split("-", 1)[1]
        line_macros.append((int(r["z"]), getattr(xraylib, f"{transition}_LINE"), float(r["energy_kev"])))

    shapes["line-xs.bin"] = write_table(out / "line-xs.bin", [
        [safe(xraylib.CS_FluorLine_Kissel_Cascade, z, m, e0) for e0 in GRID] for z, m, _ in line_macros])
    shapes["line-xs-anode.bin"] = write_table(out / "line-xs-anode.bin", [
        [safe(xraylib.CS_FluorLine_Kissel_Cascade, z, m, e0) for e0 in anode_energies] for z, m, _ in line_macros])
    shapes["mu-total.bin"] = write_table(out / "mu-total.bin", [
        [mu(a, xraylib.CS_Total, xraylib.CS_Total_CP, e) for e in GRID] for a in absorbers])
    shapes["mu-photo.bin"] = write_table(out / "mu-photo.bin", [
        [mu(a, xraylib.CS_Photo, xraylib.CS_Photo_CP, e) for e in GRID] for a in absorbers])
    shapes["mu-total-lines.bin"] = write_table(out / "mu-total-lines.bin", [
        [mu(a, xraylib.CS_Total, xraylib.CS_Total_CP, e) for _, _, e in line_macros] for a in absorbers])
    shapes["mu-total-anode.bin"] = write_table(out / "mu-total-anode.bin", [
        [mu(a, xraylib.CS_Total, xraylib.CS_Total_CP, e) for e in anode_energies] for a in absorbers])

    shapes["foreign-line-xs.bin"] = write_table(out / "foreign-line-xs.bin", [
        [safe(xraylib.CS_FluorLine_Kissel_Cascade, z, m, e0) for e0 in GRID] for _, z, _, _, _, m in foreign_rows])
    shapes["foreign-line-xs-anode.bin"] = write_table(out / "foreign-line-xs-anode.bin", [
        [safe(xraylib.CS_FluorLine_Kissel_Cascade, z, m, e0) for e0 in anode_energies]
        for _, z, _, _, _, m in foreign_rows])
    shapes["mu-total-foreign.bin"] = write_table(out / "mu-total-foreign.bin", [
        [mu(a, xraylib.CS_Total, xraylib.CS_Total_CP, r[4]) for r in foreign_rows] for a in absorbers])

    def dcs(a: str, fn_elem, fn_cp) -> list[float]:
        row = []
        for angle in DCS_ANGLES_DEG:
            theta = angle * 3.141592653589793 / 180.0
            for e in DCS_ENERGIES:
                row.append(safe(fn_cp, AIR, e, theta) if a == "Air"
                           else safe(fn_elem, xraylib.SymbolToAtomicNumber(a), e, theta))
        return row

    shapes["dcs-rayleigh.bin"] = write_table(out / "dcs-rayleigh.bin",
                                             [dcs(a, xraylib.DCS_Rayl, xraylib.DCS_Rayl_CP) for a in absorbers])
    shapes["dcs-compton.bin"] = write_table(out / "dcs-compton.bin",
                                            [dcs(a, xraylib.DCS_Compt, xraylib.DCS_Compt_CP) for a in absorbers])

    index = {
        "schema": "xrfedge-physics-tables/1",
        "source": "xraylib " + getattr(xraylib, "__version__", "4.0.0"),
        "generator": "scripts/physics/generate_physics_tables.py",
        "grid": {"count": GRID_COUNT, "step_kev": GRID_STEP_KEV, "first_centre_kev": GRID[0],
                 "meaning": "values at bin centres of [0.1k, 0.1(k+1)) keV"},
        "dcs": {"angles_deg": list(DCS_ANGLES_DEG), "energies_kev": {"first": DCS_ENERGIES[0], "step": 0.5,
                                                                     "count": len(DCS_ENERGIES)},
                "layout": "angle-major: column = angle_index * count + energy_index"},
        "absorbers": absorbers,
        "air_compound": AIR,
        "lines": "catalogue order (emission-lines.csv)",
        "anode_lines": [r[2] for r in anode_rows],
        "foreign_lines": [r[2] for r in foreign_rows],
        "tables": {k: {"rows": v[0], "cols": v[1]} for k, v in shapes.items()},
    }
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    for k, v in shapes.items():
        print(f"{k}: {v[0]} x {v[1]}")
    print(f"{len(anode_rows)} anode lines, {len(absorbers)} absorbers -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
