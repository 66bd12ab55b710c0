"""The emission-line catalogue shared with C# (src/XrfEdge.Spectra/Data/emission-lines.csv).

Line order = catalogue index (the model's 556 outputs); element order = LineCatalog.Elements (by Z).
The hash is SHA-256 of the CSV bytes, exactly as LineCatalog.Hash computes it, so the card can be checked
against the catalogue the service loads.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LINE_COUNT = 556
ELEMENT_COUNT = 41
EXPECTED_HEADER = "index,element,z,name,siegbahn,energy_kev,rad_rate,shell,edge_kev"


@dataclass(frozen=True)
class Catalog:
    """Line names, energies and the line→element map, in catalogue order."""

    line_names: tuple[str, ...]
    line_energy_kev: np.ndarray  # float64 [556]
    line_element: np.ndarray  # int64 [556], index into elements
    elements: tuple[str, ...]  # 41 symbols ordered by Z
    sha256: str

    def element_index(self, symbol: str) -> int:
        return self.elements.index(symbol)

    def lines_of(self, symbol: str) -> np.ndarray:
        return np.flatnonzero(self.line_element == self.element_index(symbol))


def repo_root(start: Path | None = None) -> Path:
    """The directory holding XrfEdge.sln, found by walking up from `start` (default: this file)."""
    here = (start or Path(__file__)).resolve()
    for p in [here, *here.parents]:
        if (p / "XrfEdge.sln").exists():
            return p
    raise FileNotFoundError(f"no XrfEdge.sln above {here}")


def default_catalog_path() -> Path:
    return repo_root() / "src" / "XrfEdge.Spectra" / "Data" / "emission-lines.csv"


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or default_catalog_path()
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = ",".join(next(reader))
    if header != EXPECTED_HEADER:
        raise ValueError(f"{path}: header is '{header}', expected '{EXPECTED_HEADER}'")
    names: list[str] = []
    energies: list[float] = []
    symbols: list[str] = []
    z_of: dict[str, int] = {}
    for row_no, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 9 or int(row[0]) != len(names):
            raise ValueError(f"{path}: row {row_no} is malformed: {row}")
        names.append(row[3])
        energies.append(float(row[5]))
        symbols.append(row[1])
        z_of[row[1]] = int(row[2])
    if len(names) != LINE_COUNT:
        raise ValueError(f"{path}: {len(names)} lines, expected {LINE_COUNT}")
    elements = tuple(sorted(z_of, key=lambda s: z_of[s]))
    if len(elements) != ELEMENT_COUNT:
        raise ValueError(f"{path}: {len(elements)} elements, expected {ELEMENT_COUNT}")
    line_element = np.array([elements.index(s) for s in symbols], dtype=np.int64)
    return Catalog(tuple(names), np.array(energies), line_element, elements, hashlib.sha256(raw).hexdigest())
