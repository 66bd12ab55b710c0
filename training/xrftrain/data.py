"""Reads and checks the npy training sets written by `xrfedge synth --format npy` (contract: common brief).

x.npy float32 [N,300] raw counts per 0.1-keV bin (ModelInput "rebin-counts-v1"); y_lines/y_lines_paper uint8
[N,556]; y_elements/y_elements_in_sample/y_elements_ignore uint8 [N,41]; tube_kv float32 [N]; meta.json.
Optional (sets written by `xrfedge synth` since 2026-11-21; older ones lack them): line_net/line_background float32 [N,556], each line's expected net
and background counts in its label window, from which y_lines follow (Currie with the meta's
label_systematic_fraction); count thinning (augment.py) needs them. Arrays are memory-mapped so a training set larger
than RAM still loads.
Optional anode.npy int8 [N] (sets written since 2026-11-24): the tube anode's catalogue element index, -1 when it is
no catalogue element (W); the C# Decoder never reports a named anode, so the metrics replay needs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import ELEMENT_COUNT, LINE_COUNT

BINS = 300
PREPROCESSING_ID = "rebin-counts-v1"

_SPEC: dict[str, tuple[np.dtype, tuple[int, ...]]] = {
    "x": (np.dtype(np.float32), (BINS,)),
    "y_lines": (np.dtype(np.uint8), (LINE_COUNT,)),
    "y_elements": (np.dtype(np.uint8), (ELEMENT_COUNT,)),
    "y_lines_paper": (np.dtype(np.uint8), (LINE_COUNT,)),
    "y_elements_in_sample": (np.dtype(np.uint8), (ELEMENT_COUNT,)),
    "y_elements_ignore": (np.dtype(np.uint8), (ELEMENT_COUNT,)),
    "tube_kv": (np.dtype(np.float32), ()),
}
_OPTIONAL: dict[str, tuple[np.dtype, tuple[int, ...]]] = {
    "line_net": (np.dtype(np.float32), (LINE_COUNT,)),
    "line_background": (np.dtype(np.float32), (LINE_COUNT,)),
    "anode": (np.dtype(np.int8), ()),
}


class DatasetError(ValueError):
    """A training-set directory is missing a file or holds an array of the wrong dtype/shape."""


@dataclass
class Dataset:
    """One npy training set; arrays may be memory-mapped (index them to load)."""

    x: np.ndarray
    y_lines: np.ndarray
    y_elements: np.ndarray
    y_lines_paper: np.ndarray
    y_elements_in_sample: np.ndarray
    y_elements_ignore: np.ndarray
    tube_kv: np.ndarray
    meta: dict[str, Any]
    path: Path | None = None
    line_net: np.ndarray | None = None
    line_background: np.ndarray | None = None
    anode: np.ndarray | None = None

    @property
    def has_line_counts(self) -> bool:
        return self.line_net is not None and self.line_background is not None

    @property
    def label_systematic_fraction(self) -> float:
        return float(self.meta.get("label_systematic_fraction", 0.0))

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, idx: np.ndarray | slice) -> "Dataset":
        return Dataset(
            np.asarray(self.x[idx]), np.asarray(self.y_lines[idx]), np.asarray(self.y_elements[idx]),
            np.asarray(self.y_lines_paper[idx]), np.asarray(self.y_elements_in_sample[idx]),
            np.asarray(self.y_elements_ignore[idx]), np.asarray(self.tube_kv[idx]), dict(self.meta), self.path,
            None if self.line_net is None else np.asarray(self.line_net[idx]),
            None if self.line_background is None else np.asarray(self.line_background[idx]),
            None if self.anode is None else np.asarray(self.anode[idx]))


def load_dataset(directory: Path, catalog_sha256: str | None = None, mmap: bool = True) -> Dataset:
    """Loads and validates a training set; raises DatasetError naming the file and what is wrong."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory}: training-set directory does not exist")
    arrays: dict[str, np.ndarray] = {}
    n: int | None = None
    for name, (dtype, tail) in {**_SPEC, **_OPTIONAL}.items():
        f = directory / f"{name}.npy"
        if not f.exists() and name in _OPTIONAL:
            continue
        if not f.exists():
            raise DatasetError(f"{f}: missing (expected {dtype} [N{''.join(',' + str(t) for t in tail)}])")
        try:
            a = np.load(f, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DatasetError(f"{f}: not a readable .npy file ({e})") from e
        if a.dtype != dtype:
            raise DatasetError(f"{f}: dtype {a.dtype}, expected {dtype}")
        if a.ndim != 1 + len(tail) or tuple(a.shape[1:]) != tail:
            raise DatasetError(f"{f}: shape {a.shape}, expected [N{''.join(',' + str(t) for t in tail)}]")
        if n is None:
            n = a.shape[0]
        elif a.shape[0] != n:
            raise DatasetError(f"{f}: {a.shape[0]} rows, but x.npy has {n}")
        arrays[name] = a
    meta_file = directory / "meta.json"
    if not meta_file.exists():
        raise DatasetError(f"{meta_file}: missing")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{meta_file}: not valid JSON ({e})") from e
    pre = meta.get("preprocessing_id", meta.get("preprocessing"))
    if pre is not None and pre != PREPROCESSING_ID:
        raise DatasetError(f"{meta_file}: preprocessing '{pre}', this pipeline expects '{PREPROCESSING_ID}'")
    h = meta.get("catalog_hash")
    if catalog_sha256 is not None and h is not None and h != catalog_sha256:
        raise DatasetError(f"{meta_file}: catalogue hash {h} differs from the catalogue in this checkout ({catalog_sha256})")
    if n == 0:
        raise DatasetError(f"{directory}: the training set is empty")
    return Dataset(meta=meta, path=directory, **arrays)


def save_dataset(directory: Path, ds: Dataset) -> None:
    """Writes a set in the contract's layout (used by tests and by dataset merging)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in (*_SPEC, *_OPTIONAL):
        if getattr(ds, name) is not None:
            np.save(directory / f"{name}.npy", np.ascontiguousarray(getattr(ds, name)))
    (directory / "meta.json").write_text(json.dumps(ds.meta, indent=2), encoding="utf-8")


def random_dataset(n: int, seed: int, line_element: np.ndarray) -> Dataset:
    """Arrays in the contract's shapes with a learnable toy relation (tests only: never a training source).

    Each present element adds a Gaussian bump at a fixed bin, so a model can learn something in one epoch.
    """
    rng = np.random.default_rng(seed)
    in_sample = (rng.random((n, ELEMENT_COUNT)) < 0.1).astype(np.uint8)
    ignore = np.zeros_like(in_sample)
    ignore[:, 27] = 1  # Rh, the usual tube anode
    detectable = in_sample * (rng.random(in_sample.shape) < 0.9)
    bins = np.arange(BINS)
    centres = 10 + (np.arange(ELEMENT_COUNT) * 7) % 280
    x = rng.poisson(5.0, (n, BINS)).astype(np.float32)
    for e in range(ELEMENT_COUNT):
        rows = np.flatnonzero(detectable[:, e])
        x[rows] += (200 * np.exp(-0.5 * ((bins - centres[e]) / 1.5) ** 2)).astype(np.float32)
    y_lines = detectable[:, line_element]
    paper = in_sample[:, line_element]
    meta = {"generator_version": "random-test", "profile": "random", "seed": seed, "count": n,
            "preprocessing_id": PREPROCESSING_ID}
    # Window counts consistent with the labels under the generator's rule: a bump's ≈ 750 net counts over 15.
    line_net = (750.0 * y_lines).astype(np.float32)
    line_background = np.full((n, LINE_COUNT), 15.0, np.float32)
    meta["label_systematic_fraction"] = 0.02
    return Dataset(x, y_lines.astype(np.uint8), detectable.astype(np.uint8), paper.astype(np.uint8),
                   in_sample, ignore, np.full(n, 40.0, np.float32), meta, None, line_net, line_background)
