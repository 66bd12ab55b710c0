"""Model card JSON (schema "xrfedge-model-card/1", snake_case, exactly the common brief's shape)."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .data import BINS, PREPROCESSING_ID

SCHEMA = "xrfedge-model-card/1"
NAME = "xrf-line-encoder"
INT8_FILE = f"{NAME}.int8.onnx"
FP32_FILE = f"{NAME}.fp32.onnx"
CARD_FILE = f"{NAME}.card.json"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _clean(v: Any) -> Any:
    """JSON has no NaN: undefined metrics (no positives) are written as null."""
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else round(v, 6)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


# Version of a card whose pipeline config names none (smoke and test runs); shipped.json names the shipped one.
DEFAULT_VERSION = "0.0.0-dev"


# The training spectra's total counts (model grid) between these percentiles are the card's "count_range": the instrument
# flags spectra outside it and scales those above it down to its top (docs/real-spectra.md, "Count range").
COUNT_RANGE_PERCENTILES = (0.1, 99.9)


def count_range(x: np.ndarray, chunk: int = 100_000) -> dict[str, Any]:
    """The card's count_range from the training inputs x [N, 300] (may be memory-mapped; read in chunks)."""
    if len(x) == 0:
        raise ValueError("count range: no training spectra")
    totals = np.concatenate([np.asarray(x[i:i + chunk], dtype=np.float64).sum(axis=1) for i in range(0, len(x), chunk)])
    low, high = np.percentile(totals, COUNT_RANGE_PERCENTILES)
    low, high = max(1.0, float(round(low))), float(round(high))
    if not high > low:
        raise ValueError(f"count range: the training spectra's totals span no range ({low} to {high})")
    return {"low_total": low, "high_total": high,
            "definition": f"{COUNT_RANGE_PERCENTILES[0]}th and {COUNT_RANGE_PERCENTILES[1]}th percentiles of the total counts "
                          f"(model grid) of the {len(x)} training spectra"}


def _profile(profile: str, root: Path | None) -> dict[str, Any] | None:
    """The training profile's JSON: `profile` is a shipped profile name (src/XrfEdge.Synthesis/Profiles/NAME.json) or a
    .json path relative to the repository root, as the pipeline config's train_profile; None when it cannot be read."""
    from .catalog import repo_root
    base = root or repo_root()
    path = base / profile if profile.endswith(".json") else base / "src" / "XrfEdge.Synthesis" / "Profiles" / f"{profile}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def trained_full_scale(profile: str, root: Path | None = None) -> dict[str, Any] | None:
    """The card's "trained_full_scale_kev" from the training profile's mca.full_scale_kev ({"min", "max"}, keV): the MCA
    full scales the training spectra were generated with. The instrument flags a spectrum whose channels end below min
    (docs/inference.md, "Energy coverage"). None when the profile file or its field cannot be found (the card then
    states no trained full scale and the instrument gives no verdict)."""
    try:
        fs = _profile(profile, root)["mca"]["full_scale_kev"]  # type: ignore[index]
        low, high = float(fs["min"]), float(fs["max"])
    except (ValueError, KeyError, TypeError):
        return None
    return {"min": low, "max": high, "definition": f"mca.full_scale_kev of the training profile {profile}"}


def trained_lower_threshold(profile: str, root: Path | None = None) -> dict[str, Any] | None:
    """The card's "trained_lower_threshold_kev" from the training profile's detectors[].lower_threshold_kev ({"min",
    "max"}, keV; the lowest min and the highest max over the detectors): the discriminators below which the training
    spectra hold zeros. The instrument flags a spectrum whose first channel starts above max (docs/inference.md,
    "Energy coverage"). None when the profile file or its field cannot be found."""
    try:
        ranges = [d["lower_threshold_kev"] for d in _profile(profile, root)["detectors"]]  # type: ignore[index]
        low, high = min(float(r["min"]) for r in ranges), max(float(r["max"]) for r in ranges)
    except (ValueError, KeyError, TypeError):
        return None
    return {"min": low, "max": high,
            "definition": f"detectors[].lower_threshold_kev of the training profile {profile}, lowest min and highest max"}


def build_card(out_dir: Path, catalog_hash: str, has_element_head: bool, line_thresholds: list[float],
               element_thresholds: list[float] | None, training: dict[str, Any], metrics: dict[str, Any],
               version: str = DEFAULT_VERSION, counts: dict[str, Any] | None = None,
               full_scale: dict[str, Any] | None = None,
               lower_threshold: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "name": NAME,
        "version": version,
        "catalog_hash": catalog_hash,
        "preprocessing": PREPROCESSING_ID,
        "input": {"name": "spectrum", "bins": BINS, "lower_kev": 0.0, "bin_width_kev": 0.1},
        "outputs": {"lines": "line_probabilities", "elements": "element_probabilities" if has_element_head else None},
        "files": {
            "int8": {"path": INT8_FILE, "sha256": sha256_file(out_dir / INT8_FILE)},
            "fp32": {"path": FP32_FILE, "sha256": sha256_file(out_dir / FP32_FILE)},
        },
        "thresholds": {"lines": [round(float(t), 4) for t in line_thresholds],
                       "elements": [round(float(t), 4) for t in element_thresholds] if element_thresholds is not None else None},
        "count_range": counts,
        "trained_full_scale_kev": full_scale,
        "trained_lower_threshold_kev": lower_threshold,
        "novelty": None,
        "training": _clean(training),
        "metrics": _clean(metrics),
    }


def validate_card(card: dict[str, Any], line_count: int = 556, element_count: int = 41) -> None:
    """Raises ValueError naming the first field that breaks the schema."""
    for key in ("schema", "name", "version", "catalog_hash", "preprocessing", "input", "outputs", "files",
                "thresholds", "novelty", "training", "metrics"):
        if key not in card:
            raise ValueError(f"model card: missing '{key}'")
    if card["schema"] != SCHEMA:
        raise ValueError(f"model card: schema '{card['schema']}', expected '{SCHEMA}'")
    if card["input"] != {"name": "spectrum", "bins": BINS, "lower_kev": 0.0, "bin_width_kev": 0.1}:
        raise ValueError(f"model card: input {card['input']} is not the 300 × 0.1 keV grid")
    if len(card["thresholds"]["lines"]) != line_count:
        raise ValueError(f"model card: {len(card['thresholds']['lines'])} line thresholds, expected {line_count}")
    el = card["thresholds"]["elements"]
    if (el is None) != (card["outputs"]["elements"] is None):
        raise ValueError("model card: element thresholds must be present exactly when the element output is")
    if el is not None and len(el) != element_count:
        raise ValueError(f"model card: {len(el)} element thresholds, expected {element_count}")
    for t in card["thresholds"]["lines"] + (el or []):
        if not 0.0 < t < 1.0:
            raise ValueError(f"model card: threshold {t} outside (0, 1)")
    cr = card.get("count_range")
    if cr is not None and not 0.0 < cr.get("low_total", 0.0) < cr.get("high_total", 0.0):
        raise ValueError(f"model card: count_range {cr} must have 0 < low_total < high_total")
    fs = card.get("trained_full_scale_kev")
    if fs is not None and not 0.0 < fs.get("min", 0.0) <= fs.get("max", 0.0):
        raise ValueError(f"model card: trained_full_scale_kev {fs} must have 0 < min <= max")
    lt = card.get("trained_lower_threshold_kev")
    if lt is not None and not 0.0 <= lt.get("min", -1.0) <= lt.get("max", -1.0) < 10.0:
        raise ValueError(f"model card: trained_lower_threshold_kev {lt} must have 0 <= min <= max < 10")


def write_card(path: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Every card on disk goes through here, so every writer's metrics are rounded and NaN-free the same way: build_card's
    and those that edit a loaded card (`xrftrain ablations`, `count-range`) alike. Returns the card as written."""
    validate_card(card)
    written = _clean(card)
    path.write_text(json.dumps(written, indent=1) + "\n", encoding="utf-8")
    return written


def scale_to_count_range(x: np.ndarray, top: float | None) -> np.ndarray:
    """x (one spectrum [300] or [N, 300]) with every spectrum above `top` total counts scaled down to it, as the
    instrument does by default (Decoder:AboveTrainedCounts = ScaleDown); x itself when `top` is None (a card without a
    count range). `top` is the card's count_range.high_total, as load_int8_with_card returns it. Shared by the scripts
    that probe a model as the instrument reads spectra (swap_regions.py, analogue_recall.py, hybrid_selection.py)."""
    if not top:
        return x
    total = x.sum(axis=-1, keepdims=True)
    return np.where(total > top, x * (top / np.maximum(total, 1.0)), x)


def load_int8_with_card(models: Path) -> tuple[Any, dict[str, Any], np.ndarray, np.ndarray, float | None]:
    """(int8 ONNX model, card, line thresholds, element thresholds, count range top or None) of a models folder, as
    the instrument reads them: the scripts that probe a model on real or synthetic spectra share this
    (scripts/validation/swap_regions.py, analogue_recall.py)."""
    import onnx

    card = json.loads((models / "xrf-line-encoder.card.json").read_text())
    lines = np.asarray(card["thresholds"]["lines"], np.float32)
    elements = np.asarray(card["thresholds"]["elements"], np.float32)
    top = (card.get("count_range") or {}).get("high_total")
    return onnx.load(str(models / "xrf-line-encoder.int8.onnx")), card, lines, elements, top
