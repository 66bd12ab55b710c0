"""Renders models/EVALUATION.md from the card (and the per-element tables) so every number in it is traceable
to one reproducible run. `python3 -m xrftrain report --models ../models`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .card import CARD_FILE

TARGETS = {  # issue 5
    "paper_pearson": (">=", 0.80), "paper_sensitivity": (">=", 0.70), "paper_specificity": (">=", 0.99),
    "paper_precision": (">=", 0.92), "line_sensitivity": (">=", 0.90), "line_precision": (">=", 0.95),
    "element_f1": (">=", 0.97), "element_top1": (">=", 0.99),
}


def _f(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _verdict(key: str, v: Any) -> str:
    if key not in TARGETS or v is None:
        return ""
    op, t = TARGETS[key]
    return f"≥ {t} {'met' if v >= t else '**MISSED**'}"


def render(models: Path, eval_json: dict[str, Any] | None = None) -> str:
    card = json.loads((models / CARD_FILE).read_text())
    per_el = json.loads((models / "per-element.json").read_text()) if (models / "per-element.json").exists() else {}
    m, t = card["metrics"], card["training"]
    out: list[str] = ["# Evaluation of the shipped line encoder", ""]
    out += [f"Model `{card['name']}` {card['version']}, catalogue `{card['catalog_hash'][:12]}…`, preprocessing "
            f"`{card['preprocessing']}`. Trained on {t['generator'].get('count')} `{t['generator'].get('profile')}` "
            f"spectra (seed {t['generator'].get('seed')}, generator {t['generator'].get('generator_version')}); "
            f"thresholds chosen on {t['validation_set'].get('count')} validation spectra (seed "
            f"{t['validation_set'].get('seed')}). Training took {_f(t.get('train_minutes'), 1)} min, the whole "
            f"pipeline {_f(t.get('total_minutes'), 1)} min (plus data generation) on {t.get('machine')}.", ""]
    out += ["## How to reproduce", "", "```", "make model            # data → train → ONNX → int8 → card (this file is rendered from the card)",
            "training/eval_models.sh   # the xrfedge eval numbers below, through ONNX Runtime", "```", ""]
    if eval_json:
        out += ["## `xrfedge eval` (C#, ONNX Runtime, int8 model)", "", "```json", json.dumps(eval_json, indent=1), "```", ""]
    out += [f"## Test sets — {m.get('source', '')}", ""]
    keys = ["element_f1", "element_top1", "element_sensitivity", "element_precision", "line_sensitivity",
            "line_precision", "line_f1", "paper_pearson", "paper_sensitivity", "paper_specificity", "paper_precision"]
    for name, row in m.items():
        if not name.startswith("test-"):
            continue
        out += [f"### {name} ({row['spectra']} spectra, profile `{row['profile']}`, seed {row['seed']})", "",
                "| metric | int8 | fp32 | target |", "|---|---|---|---|"]
        for k in keys:
            vi, vf = row["int8"]["summary"].get(k), row["fp32"]["summary"].get(k)
            out.append(f"| {k} | {_f(vi)} | {_f(vf)} | {_verdict(k, vi)} |")
        out += ["", f"Largest |int8 − fp32| over these metrics: {_f(row.get('int8_minus_fp32_max_abs'))} (target ≤ 0.01).", ""]
        conf = row.get("confusions_int8")
        if conf:
            out += ["Overlap confusions (int8): `false` = share of spectra with only the first element where the second "
                    "is reported anyway; `recall with` = recall of the second when both are present.", "",
                    "| present | confused with | spectra | false | spectra both | recall with |", "|---|---|---|---|---|---|"]
            out += [f"| {c['present']} | {c['confused']} | {c['spectra_only_present']} | {_f(c['false_rate'])} | "
                    f"{c['spectra_both']} | {_f(c['recall_with'])} |" for c in conf]
            out.append("")
    if "test-randomized" in per_el:
        out += ["## Per-element (test-randomized, int8, detectable protocol)", "",
                "| element | support | sensitivity | precision | F1 | FP | FN |", "|---|---|---|---|---|---|---|"]
        out += [f"| {r['element']} | {r['support']} | {_f(r['sensitivity'])} | {_f(r['precision'])} | {_f(r['f1'])} | "
                f"{r['fp']} | {r['fn']} |" for r in per_el["test-randomized"]]
        out.append("")
    abl = m.get("ablations_validation") or {}
    if abl:
        out += ["## Ablations (validation set; each trained on a subset, same seeds)", "",
                "| ablation | spectra | min | element F1 | top-1 | line sens. | line prec. | paper Pearson | paper sens. |",
                "|---|---|---|---|---|---|---|---|---|"]
        for name, a in abl.items():
            v = a["validation"]
            out.append(f"| {name} | {a['train_spectra']} | {_f(a['minutes'], 1)} | {_f(v['element_f1'])} | "
                       f"{_f(v['element_top1'])} | {_f(v['line_sensitivity'])} | {_f(v['line_precision'])} | "
                       f"{_f(v['paper_pearson'])} | {_f(v['paper_sensitivity'])} |")
        out.append("")
    real = m.get("real_spectra_python_dev_check")
    if real:
        out += [f"## Real spectra (NIST, Rh 50 kV, vacuum) — {real['summary']['passed']} of {real['summary']['of']} pass",
                "", "Rh (tube anode) and Ar are not scored. Python rebin of the `.msa` files, int8 model (developer check).", "",
                "| spectrum | expected | top element | reported above threshold | pass |", "|---|---|---|---|---|"]
        for n, r in real["spectra"].items():
            out.append(f"| {n} | {', '.join(r['expected'] or []) or 'none'} | {r['top']} ({_f(r['top_probability'], 3)}) | "
                       f"{', '.join(r['reported']) or 'none'} | {'yes' if r['pass'] else '**no**'} |")
        out.append("")
    return "\n".join(out) + "\n"
