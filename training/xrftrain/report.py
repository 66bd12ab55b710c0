"""Renders models/EVALUATION.md from the card (and the per-element tables) so every number in it is traceable
to one reproducible run. `python3 -m xrftrain report --models ../models`."""

from __future__ import annotations

import json
import math
import re
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
    if key not in TARGETS:
        return ""
    _, t = TARGETS[key]
    return f"≥ {t} {_met(v, t)}"


def _targets_section(models: Path) -> list[str]:
    """The issue's targets against the `xrfedge eval` figures (int8, ONNX Runtime)."""
    ev = models / "eval"

    def load(name: str, kind: str) -> dict[str, Any] | None:
        f = ev / f"{name}.{kind}.json"
        return json.loads(f.read_text()) if f.exists() else None

    q, f = load("test-randomized", "int8"), load("test-randomized", "fp32")
    if q is None:
        return []

    def flat(d: dict[str, Any]) -> dict[str, float]:
        return {"paper Pearson": d["paper"]["line"]["pearson"], "paper sensitivity": d["paper"]["line"]["sensitivity"],
                "paper specificity": d["paper"]["line"]["specificity"], "paper precision": d["paper"]["line"]["precision"],
                "line sensitivity": d["line"]["sensitivity"], "line precision": d["line"]["precision"],
                "element F1": d["element"]["f1"], "top-1 hit rate": d["guess_ratio"]["top1_hit_rate"]}

    goals = {"paper Pearson": 0.80, "paper sensitivity": 0.70, "paper specificity": 0.99, "paper precision": 0.92,
             "line sensitivity": 0.90, "line precision": 0.95, "element F1": 0.97, "top-1 hit rate": 0.99}
    fq = flat(q)
    currie = load("test-randomized-currie", "int8")
    fc = flat(currie) if currie else {}
    out = ["## Targets (issue 5) — `xrfedge eval`, int8, ONNX Runtime, test-randomized "
           f"({q['spectra']} spectra, {_set_seed(models, 'test-randomized')})", "",
           "The `int8` and `fp32` columns use the shipped labels (Currie's limit with a 2 % systematic background term, "
           "ε = 0.02: an element below that limit is neither a hit nor a miss). The last column scores the same int8 "
           f"outputs on the same spectra with issue 3's Poisson-only labels (ε = 0){_extra_positives(q, currie)}; "
           "the issue does not say which labels its targets mean, so both are shown and the verdict is given for each.", "",
           "| metric | int8 | fp32 | target | verdict | int8, ε = 0 labels | verdict (ε = 0) |", "|---|---|---|---|---|---|---|"]
    ff = flat(f) if f else {}
    for k, goal in goals.items():
        vc = fc.get(k)
        out.append(f"| {k} | {_f(fq[k])} | {_f(ff.get(k))} | ≥ {goal} | {_met(fq[k], goal)} | {_f(vc)} | "
                   f"{_met(vc, goal) if currie else ''} |")
    if f:
        worst = _worst_difference(fq, ff)
        out.append(f"| max over these of abs(int8 − fp32) | {_f(worst)} | | ≤ 0.01 | "
                   f"{'met' if worst is not None and worst <= 0.01 else '**missed**'} | | |")
    out.append("")
    out += ["Per profile (element F1, target ≥ 0.95; line precision shown for information, its 0.95 target is the "
            "randomized set's):", "", "| profile | spectra | int8 element F1 | verdict | int8 line precision |",
            "|---|---|---|---|---|"]
    for p in ("handheld-sdd", "handheld-pin", "benchtop", "macro-xrf"):
        d = load(f"test-{p}", "int8")
        if d:
            out.append(f"| {p} ({_set_seed(models, f'test-{p}')}) | {d['spectra']} | {_f(d['element']['f1'])} | "
                       f"{_met(d['element']['f1'], 0.95)} | {_f(d['line']['precision'])} |")
    return out + [""] + _foreign_rows(q, load("test-randomized-foreign", "int8"))


def _extra_positives(shipped: dict[str, Any], currie: dict[str, Any] | None) -> str:
    """How many more present-element pairs the ε = 0 labels count, and how many of those the model reports."""
    if currie is None:
        return ""
    a, b = shipped["element"], currie["element"]
    more = (b["tp"] + b["fn"]) - (a["tp"] + a["fn"])
    found = b["tp"] - a["tp"]
    return f", which count {more} more present-element pairs (the model reports {found} of them)"


def _met(value: Any, goal: float) -> str:
    """'met' only for a number at or above the goal: a missing or NaN figure is a miss, never a pass."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "**missed** (no figure)"
    return "met" if value >= goal else "**missed**"


def _worst_difference(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Largest |a − b| over the keys; None (a failed check) when any figure is missing or NaN: Python's max() would
    skip a NaN depending on where it sits, and the check would pass on it."""
    diffs = []
    for k in a:
        x, y = a.get(k), b.get(k)
        if x is None or y is None or math.isnan(x) or math.isnan(y):
            return None
        diffs.append(abs(x - y))
    return max(diffs) if diffs else None


def _set_seed(models: Path, name: str) -> str:
    """'seed N' of a test set as training/eval_models.sh wrote it (models/eval/eval-sets.json); 'seed not recorded'
    for results from before that file existed."""
    f = models / "eval" / "eval-sets.json"
    if f.exists():
        entry = json.loads(f.read_text()).get(name)
        if entry:
            return f"seed {entry['seed']}"
    return "seed not recorded"


def _foreign_rows(plain: dict[str, Any], foreign: dict[str, Any] | None) -> list[str]:
    """Robustness to elements outside the catalogue: the test spectra again with 1–3 of them in 30 % of the samples
    (training/profiles/randomized-foreign.json, same seed, so the same samples). No issue target: a figure to watch."""
    if foreign is None:
        return []
    out = ["Elements outside the catalogue (`test-randomized-foreign`: the same seed with 1–3 of Hf, Nb, Rb, Y, W, rare "
           "earths, ... in 30 % of the samples, rendered as unlabelled lines; `training/profiles/randomized-foreign.json`, "
           "docs/synthesis-profiles.md). No target; a model that reads their lines as catalogue lines reports false "
           "elements here:", "", "| test set | int8 element F1 | element precision | false element reports |",
           "|---|---|---|---|"]
    for name, d in (("test-randomized", plain), ("test-randomized-foreign", foreign)):
        e = d["element"]
        out.append(f"| {name} | {_f(e['f1'])} | {_f(e['precision'])} | {e['fp']} |")
    return out + [""]


def _notes_section(models: Path) -> list[str]:
    """Integer-path checks through ONNX Runtime and what the misses mean."""
    out = ["## Notes", ""]
    ort = models / "eval" / "ort-node-check.json"
    inspect = models / "eval" / "model-inspect.int8.txt"
    if inspect.exists():
        ops = [ln for ln in inspect.read_text().splitlines() if ln.startswith(("ops", "int8 check"))]
        out += ["- `xrfedge model inspect` (C# binding, ORT 1.30 optimised graph):", "", "```", *ops, "```", ""]
    if ort.exists():
        o = json.loads(ort.read_text())
        out += [f"- `training/tools/check_ort.py` (ORT 1.30 via onnxruntime-node, {o['spectra']} test spectra): batch 1 vs "
                f"one batch of all, max abs difference {o['batch_invariant_max_abs']} (batch-invariant); unfused weight "
                f"DequantizeLinear: {len(o['unfused_weight_dequantize'])}; int8 − fp32 probabilities: mean abs "
                f"{_f(o['int8_vs_fp32_mean_abs']['line_probabilities'], 5)} (lines) / "
                f"{_f(o['int8_vs_fp32_mean_abs']['element_probabilities'], 5)} (elements), worst single output "
                f"{_f(o['int8_vs_fp32_max_abs']['line_probabilities'], 3)} / {_f(o['int8_vs_fp32_max_abs']['element_probabilities'], 3)}. "
                "The worst cases are outputs whose logit sits near 0 (p ≈ 0.5), where 8-bit activations, 7-bit "
                "weights and the 8-bit requantisation of each MatMul result (needed for QLinearMatMul) add up. The "
                "quantiser clips each requantised result to the range its Relu/Sigmoid can tell apart, which cut "
                "the mean deviation by about a quarter on validation spectra; bias correction (quantize.py, on since "
                "1.5.1) cut it by another quarter. How far the metrics move is the "
                "int8 − fp32 row of the targets table; a per-output tolerance of 0.5 is what can be promised today.", ""]
    out += ["- Paper protocol: the paper's labels count every catalogue line of every element in the sample, including "
            "sub-keV lines, zero-rate lines and trace elements far below the detection limit. The 'ceiling' table shows "
            "what a perfect detector scores under that protocol, read two ways: the Pearson ≥ 0.80 and sensitivity "
            "≥ 0.70 targets are out of reach of any model on these labels.", "",
            "- Labels: a line is detectable when its net counts reach Currie's limit with a 2 % systematic term on "
            "the background, L_D = 2.71 + 4.65·sqrt(B + (0.02·B)²) (`xrfedge synth --label-systematic 0.02`, "
            "docs/synthesis.md). The ε = 0 column of the targets table and the `test-randomized-currie` rows score the "
            "same model on the same spectra with issue 3's Poisson-only labels. The ε = 0.02 labels were adopted in run "
            "B, a choice made on the development test set (seed 3003; docs/training.md).", "",
            "- Which data informed which choice: training (seed 1001), validation and thresholds (2002), int8 "
            "calibration (the first 4,000 validation spectra) and the selection set of runs AB–AD (6006) are the only "
            "sets the shipped recipe was chosen on by rule. The development test sets (3003 randomized, 4004–4007 per "
            "profile) are the sets of every model-history figure in docs/training.md, and their figures informed "
            "design choices (run B against C, the 1.6.0 recipe after run AA), so the figures of record above are on "
            "sets that no choice has seen (eval-sets.json; first scored 2026-11). The real spectra below were never "
            "trained on, but since run O every ship rule has had a real-spectra guard over all of them (docs/training.md, "
            "'Model history'): they are validation figures, not an untouched held-out test.", "",
            "- Count level: the table 'by total counts' below.", ""]
    real = models / "eval" / "nist-real.int8.jsonl"
    if real.exists():
        rows = [v for v in _nist_verdicts(real) if v["want"] is not None and "error" not in v]
        tops = [v for v in rows if len(v["want"]) == 1]
        on_top = sum(1 for v in tops if v["top"] in v["want"])
        out += [f"- Real spectra (NIST table below): the standard's element is the top reported element in {on_top} of "
                f"{len(tops)} pure-element files. What each model reported on these files, and which reports match "
                "real peaks the README does not list, is in docs/real-spectra.md ('Model history on the NIST files').", ""]
    return out


def _eval_section(models: Path) -> list[str]:
    """Tables from `xrfedge eval --json` (training/eval_models.sh → models/eval/*.json): the figures of record."""
    ev = models / "eval"
    files = sorted(ev.glob("test-*.json")) if ev.is_dir() else []
    if not files:
        return ["## `xrfedge eval` (C#, ONNX Runtime)", "", "Not run yet: `training/eval_models.sh`.", ""]
    out = ["## `xrfedge eval` — the figures of record (C# reader → Rebinner → ONNX Runtime → Decoder)", "",
           "Same spectra as the npy test sets (same profile, count, seed), read from `.jsonl` raw MCA channels.", "",
           "| set | model | spectra | el. sens | el. prec | el. F1 | top-1 | line sens | line prec | paper Pearson | paper sens | paper spec | paper prec | spectra/s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for f in files:
        d = json.loads(f.read_text())
        name, kind = f.stem.rsplit(".", 1)
        e, ln, pl = d["element"], d["line"], d["paper"]["line"]
        out.append(f"| {name} | {kind} | {d['spectra']} | {_f(e['sensitivity'])} | {_f(e['precision'])} | {_f(e['f1'])} | "
                   f"{_f(d['guess_ratio']['top1_hit_rate'])} | {_f(ln['sensitivity'])} | {_f(ln['precision'])} | "
                   f"{_f(pl['pearson'])} | {_f(pl['sensitivity'])} | {_f(pl['specificity'])} | {_f(pl['precision'])} | "
                   f"{_f(d.get('spectra_per_second'), 0)} |")
    out.append("")
    real = ev / "nist-real.int8.jsonl"
    if real.exists():
        out += _real_section(real)
    return out


def _validation_sets_section(models: Path) -> list[str]:
    """The real-spectra sets of validation/spectra/, as eval_models.sh scored them (models/eval/<set>.int8.md)."""
    out: list[str] = []
    for table in sorted((models / "eval").glob("*.int8.md")):
        out += [f"## Real spectra — `xrfedge identify` on `validation/spectra/{table.name[:-len('.int8.md')]}/` "
                "(int8, C#; never trained on, but part of the ship rules' real-spectra guard since run O: validation "
                "figures, not an untouched test; docs/real-spectra.md)", "",
                *table.read_text(encoding="utf-8").strip().splitlines(), ""]
    return out


def _nist_verdicts(real: Path) -> list[dict[str, Any]]:
    """One verdict per NIST file from `xrfedge identify --json` output (C#, int8): expectations of
    ../shared/spectra/README.md (pipeline.REAL_EXPECTED / REAL_TRACES); Rh, the anode, is not scored.
    Keys: name, elements (as identify wrote them), top, want (None: not scored), ok, extra (false elements), error."""
    from .pipeline import REAL_EXPECTED, REAL_IGNORED, REAL_TRACES, real_verdict

    rows: list[dict[str, Any]] = []
    for line in real.read_text().splitlines():
        r = json.loads(line)
        name = r["id"].split("_")[0]
        if "error" in r:
            rows.append({"name": name, "error": r["error"], "want": REAL_EXPECTED.get(name), "ok": False, "extra": []})
            continue
        els = r.get("elements", [])
        reported = [x["symbol"] for x in els]
        scored_els = [x for x in reported if x not in REAL_IGNORED]
        top = scored_els[0] if scored_els else "-"
        want = REAL_EXPECTED.get(name)
        ok = None if want is None else real_verdict(name, top, reported)
        extra = [] if want is None else sorted(set(scored_els) - want - REAL_TRACES.get(name, set()))
        rows.append({"name": name, "elements": els, "top": top, "want": want, "ok": ok, "extra": extra})
    return rows


def _real_section(real: Path) -> list[str]:
    """Verdicts on the NIST files from `xrfedge identify` (C#, int8). Nothing was trained or thresholded on these
    files, but the ship rules' real-spectra guard counted them (see Notes)."""
    from .pipeline import REAL_TRACES

    out = ["## Real spectra — `xrfedge identify` on the NIST files (int8, C#)", "",
           "Reported = every element above its threshold, with its probability (`xrfedge identify --anode Rh`: the "
           "tube anode is not assessed, so not reported). Expected: `../shared/spectra/README.md` (documented traces are "
           "allowed). The blank is scored by the issue's rule, nothing reported; PMMA is C5H8O2, so an O report there is "
           "physically plausible in vacuum but still fails the rule. The set is measured in vacuum, so Ar counts as false.", "",
           "| file | reported (probability) | expected | verdict |", "|---|---|---|---|"]
    passed = scored = spurious = 0
    for v in _nist_verdicts(real):
        name, want = v["name"], v["want"]
        if "error" in v:
            out.append(f"| {name} | ERROR {v['error']} | | **fail** |")
            continue
        if want is None:
            verdict = "not scored"
        else:
            scored += 1
            passed += int(v["ok"])
            spurious += len(v["extra"])
            verdict = "**pass**" if v["ok"] else "**fail**" + (f": spurious {', '.join(v['extra'])}" if v["extra"] else "") + \
                ("" if len(want) != 1 or v["top"] in want else f"; top {v['top']}")
        expected = ", ".join(sorted(want)) if want else "none (blank)"
        traces = REAL_TRACES.get(name)
        if traces:
            expected += f" (traces allowed: {', '.join(sorted(traces))})"
        out.append(f"| {name} | " + ", ".join(f"{x['symbol']} {x['probability']:.3f}" for x in v["elements"]) +
                   f" | {expected} | {verdict} |")
    out += ["", f"**{passed} of {scored} files pass; {spurious} spurious elements reported in all.**", ""]
    return out


_SET_SUMMARY = re.compile(r"passed (\d+) of (\d+); missed expected elements: (\d+); "
                          r"reported elements outside the documented composition: (\d+)")


def real_totals(models: Path) -> dict[str, Any]:
    """The real-file figures the ship rules count (docs/training.md), from what eval_models.sh wrote under
    MODELS/eval: per set passes, files scored and false elements (NIST: reported elements neither expected nor a
    documented trace; validation/spectra sets: reported elements outside the documented composition), and the
    totals. A NIST file `xrfedge identify` could not read counts as a fail (the EVALUATION.md table shows it as
    ERROR). A set whose output is missing is left out and named in "missing"."""
    ev = models / "eval"
    if not ev.is_dir():
        raise ValueError(f"{ev}: no such folder (run training/eval_models.sh {models} first)")
    sets: dict[str, dict[str, int]] = {}
    missing: list[str] = []
    nist = ev / "nist-real.int8.jsonl"
    if nist.exists():
        rows = [v for v in _nist_verdicts(nist) if v["want"] is not None]
        sets["nist"] = {"passed": sum(int(bool(v["ok"])) for v in rows), "of": len(rows),
                        "false": sum(len(v["extra"]) for v in rows)}
    else:
        missing.append(str(nist))
    for table in sorted(ev.glob("*.int8.md")):
        lines = table.read_text(encoding="utf-8").strip().splitlines()
        m = _SET_SUMMARY.fullmatch(lines[-1].strip()) if lines else None
        if m is None:
            raise ValueError(f"{table}: last line is not a score_real_spectra.py summary")
        sets[table.name[:-len(".int8.md")]] = {"passed": int(m[1]), "of": int(m[2]), "false": int(m[4])}
    return {"sets": sets, "passed": sum(s["passed"] for s in sets.values()), "of": sum(s["of"] for s in sets.values()),
            "false": sum(s["false"] for s in sets.values()), "missing": missing}


def _ceiling_section(data: Path) -> list[str]:
    """What a perfect detector of the detectable lines would score under the paper protocol: the paper labels
    every catalogue line of every element in the sample (sub-keV lines, zero-rate lines, trace elements far
    below the detection limit), so no honest model can exceed these figures."""
    import numpy as np

    from .catalog import load_catalog
    from .data import load_dataset
    from .metrics import evaluate

    cat = load_catalog()
    out = ["## Ceiling of the paper protocol on our labels", "",
           "A perfect detector scored with the paper's labels, read two ways: (a) it predicts exactly the detectable "
           "lines (what our line outputs mean); (b) it predicts every catalogue line of every detectable element (a "
           "perfect element detector broadcast to all its lines, the most generous reading of a line output):", "",
           "| set | (a) sensitivity | (a) Pearson | (a) precision | (a) specificity | (b) sensitivity | (b) Pearson | (b) precision |",
           "|---|---|---|---|---|---|---|---|"]
    for d in sorted(data.glob("test-*")):
        ds = load_dataset(d, cat.sha256).subset(slice(None))

        def paper(line_pred: np.ndarray) -> dict:
            return evaluate(line_pred.astype(np.float32), ds.y_elements.astype(np.float32), ds.y_lines, ds.y_elements,
                            ds.y_lines_paper, ds.y_elements_in_sample, ds.y_elements_ignore, cat.line_element,
                            np.full(556, 0.5), np.full(41, 0.5))["paper_lines"]

        a = paper(ds.y_lines)
        b = paper(ds.y_elements[:, cat.line_element])
        out.append(f"| {d.name} | {_f(a['sensitivity'])} | {_f(a['pearson'])} | {_f(a['precision'])} | "
                   f"{_f(a['specificity'])} | {_f(b['sensitivity'])} | {_f(b['pearson'])} | {_f(b['precision'])} |")
    return out + ["", "Even reading (b) stays below the paper's sensitivity 0.70 target: about half of the elements the "
                  "generator puts in a sample are traces that no line makes detectable at that spectrum's counts.", ""]


def _count_level_section(models: Path, data: Path) -> list[str]:
    """Element F1 of the int8 model by total counts of the spectrum (test-randomized): where errors come from.
    Scores the Decoder's decision (`metrics.reported`: element head AND one reported, excitable line), as every other
    table does; the bare head, scored here until 1.4.0, showed far too many false elements at high counts."""
    import numpy as np
    import onnx

    from .card import INT8_FILE
    from .catalog import load_catalog
    from .data import load_dataset
    from .metrics import binary_scores, not_assessed_mask, reported
    from .pipeline import _onnx_probs, line_edges_kev

    d = data / "test-randomized"
    if not d.is_dir() or not (models / INT8_FILE).exists():
        return []
    cat = load_catalog()
    card = json.loads((models / CARD_FILE).read_text())
    et = np.asarray(card["thresholds"]["elements"] or [0.5] * 41, np.float32)
    lt = np.asarray(card["thresholds"]["lines"] or [0.5] * len(cat.line_element), np.float32)
    ds = load_dataset(d, cat.sha256).subset(slice(None))
    lp, ep = _onnx_probs(onnx.load(str(models / INT8_FILE)), ds.x, cat)
    _, pred = reported(lp, ep, cat.line_element, lt, et, line_edges_kev(cat), ds.tube_kv, not_assessed_mask(cat, len(ds), ds.anode))
    total = ds.x.sum(axis=1)
    ign = ds.y_elements_ignore.astype(bool)
    out = ["## Where the errors are: element scores by total counts (test-randomized, int8, Python)", "",
           "| total counts | spectra | element sensitivity | element precision | element F1 |", "|---|---|---|---|---|"]
    edges = [0, 1e4, 1e5, 1e6, 1e7, np.inf]
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (total >= lo) & (total < hi)
        if not sel.any():
            continue
        r = binary_scores(ep[sel], ds.y_elements[sel], ~ign[sel], et, pred[sel])
        out.append(f"| {lo:.0e} – {hi:.0e} | {int(sel.sum())} | {_f(r['sensitivity'])} | {_f(r['precision'])} | {_f(r['f1'])} |")
    return out + [""]


def _oracle_section(models: Path, per_el: dict[str, Any]) -> list[str]:
    """The background-oracle reference (`xrftrain ceiling` → models/eval/ceiling-oracle.json) next to the model."""
    f = models / "eval" / "ceiling-oracle.json"
    if not f.exists():
        return []
    oracle = json.loads(f.read_text())
    out = ["## How far from a detector that knows the background (`xrftrain ceiling`)", "",
           "A reference, not a bound (training/xrftrain/ceiling.py): window counts drawn from each line's expected net and "
           "background counts, line score (N − B)/√(B + (εB)²) with B known exactly, element score = its best excitable "
           "line, per-element thresholds chosen on validation. Same test spectra (seeds) as the model's rows.", "",
           "| set | oracle el. sens | oracle el. prec | oracle el. F1 | model el. F1 (`xrfedge eval`, int8) |",
           "|---|---|---|---|---|"]
    for name, o in oracle.items():
        ev = models / "eval" / f"{name}.int8.json"
        model_f1 = json.loads(ev.read_text())["element"]["f1"] if ev.exists() else None
        out.append(f"| {name} | {_f(o['element_sensitivity'])} | {_f(o['element_precision'])} | "
                   f"{_f(o['element_f1'])} | {_f(model_f1)} |")
    out.append("")
    rows = []
    for r in per_el.get("test-randomized", []):
        o = oracle.get("test-randomized", {}).get("per_element", {}).get(r["element"])
        if o:
            rows.append(((r["fp"] + r["fn"]) - (o["fp"] + o["fn"]), r, o))
    if rows:
        rows.sort(key=lambda t: -t[0])
        total = sum(t[0] for t in rows)
        out += [f"Where the model loses against the oracle (test-randomized, errors = FP + FN; {total} more errors in "
                "all; the ten elements with the most):", "",
                "| element | support | model FP | model FN | oracle FP | oracle FN | model F1 | oracle F1 |",
                "|---|---|---|---|---|---|---|---|"]
        out += [f"| {r['element']} | {r['support']} | {r['fp']} | {r['fn']} | {o['fp']} | {o['fn']} | {_f(r['f1'])} | "
                f"{_f(o['f1'])} |" for _, r, o in rows[:10]]
        out.append("")
    return out


def _gpu_note(device: str | None) -> str:
    """The training device when it was not the CPU (cards before training.device existed were all trained there, and
    their text stays as it was)."""
    return "" if device in (None, "cpu") else f", the training loop on {device} (not bit-identical to a CPU run)"


def _per_element_of_record(models: Path) -> dict[str, list[dict[str, Any]]]:
    """Per-element rows of each test set from `xrfedge eval` (models/eval/<set>.int8.json, the figures of record), in
    the shape of the Python per-element.json rows: element, support, sensitivity, precision, F1, FP, FN."""
    out: dict[str, list[dict[str, Any]]] = {}
    for f in sorted((models / "eval").glob("test-*.int8.json")) if (models / "eval").is_dir() else []:
        rows = []
        for r in json.loads(f.read_text()).get("per_element", []):
            tp, fp, fn = r["tp"], r["fp"], r["fn"]
            sens = tp / (tp + fn) if tp + fn else float("nan")
            prec = tp / (tp + fp) if tp + fp else float("nan")
            f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else float("nan")
            rows.append({"element": r["symbol"], "support": r["support"], "sensitivity": sens, "precision": prec,
                         "f1": f1, "fp": fp, "fn": fn})
        out[f.name[:-len(".int8.json")]] = rows
    return out


def _confusions_of_record(models: Path, top: int = 15) -> list[str]:
    """The most frequent false element reports on test-randomized from `xrfedge eval`, with the element actually there."""
    f = models / "eval" / "test-randomized.int8.json"
    if not f.exists():
        return []
    conf = json.loads(f.read_text()).get("confusions", [])
    if not conf:
        return []
    out = [f"## Main confusions (test-randomized, {_set_seed(models, 'test-randomized')}, int8, `xrfedge eval`)", "",
           "A false element report and the present element with a line nearest to the false element's strongest reported "
           "line, within the evaluator's overlap window ('(none)': no present element has a line there); the "
           f"{min(top, len(conf))} most frequent of {len(conf)}:", "",
           "| reported (false) | present | count |", "|---|---|---|"]
    out += [f"| {c['reported']} | {c['actual']} | {c['count']} |" for c in conf[:top]]
    return out + [""]


def render(models: Path, eval_json: dict[str, Any] | None = None, data: Path | None = None) -> str:
    card = json.loads((models / CARD_FILE).read_text())
    # The per-element figures of record come from `xrfedge eval` on the eval sets; per-element.json (the training
    # run's Python table, on that run's test sets) only where no eval output exists.
    per_el = _per_element_of_record(models)
    if not per_el and (models / "per-element.json").exists():
        per_el = json.loads((models / "per-element.json").read_text())
    m, t = card["metrics"], card["training"]
    thr_set = t.get("threshold_set") or t["validation_set"]   # rethreshold may choose on a larger set (1.6.0: 100k)
    out: list[str] = ["# Evaluation of the shipped line encoder", ""]
    out += [f"Model `{card['name']}` {card['version']}, catalogue `{card['catalog_hash'][:12]}…`, preprocessing "
            f"`{card['preprocessing']}`. Trained on {t['generator'].get('count')} `{t['generator'].get('profile')}` "
            f"spectra (seed {t['generator'].get('seed')}, generator {t['generator'].get('generator_version')}); "
            f"thresholds chosen on {thr_set.get('count')} validation spectra (seed "
            f"{thr_set.get('seed')}). Training took {_f(t.get('train_minutes'), 1)} min, the whole "
            f"pipeline {_f(t.get('total_minutes'), 1)} min (plus data generation) on {t.get('machine')}"
            f"{_gpu_note(t.get('device'))}.", ""]
    out += ["## How to reproduce", "", "```", "make model            # data → train → ONNX → int8 → card (this file is rendered from the card)",
            "training/eval_models.sh   # the xrfedge eval numbers below, through ONNX Runtime",
            "(cd training && /usr/bin/python3 -m xrftrain requantize --models ../models --data ../.build/train-data)  # int8 again from the fp32 model with the card's quantiser settings, no retraining",
            "```", ""]
    if t.get("quantization", {}).get("requantized_utc"):
        if t.get("rethresholded_from_version"):
            q = t["quantization"]
            why = (f"with the card's quantiser settings (bias correction {'on' if q.get('bias_correction') else 'off'}, "
                   f"{'7' if q.get('reduce_range') else '8'}-bit weights, activation range percentile {q.get('percentile')}), "
                   f"and the thresholds re-chosen on the new int8 outputs by `xrftrain "
                   f"rethreshold` (from version {t['rethresholded_from_version']}")
        else:
            why = "(after the training run, the scoring gained the decoder's reporting rules — docs/inference.md"
        out += [f"The int8 model and the card's Python scores were re-derived from the shipped fp32 model by `xrftrain requantize` at "
                f"{t['quantization']['requantized_utc']} {why}; "
                "`make model` runs the same quantiser, thresholds and scoring, so it reproduces these files).", ""]
    if t.get("regrafted"):
        g = t["regrafted"]
        nodes = ", ".join(f"{name} {n[0]} → {n[1]} ops" for name, n in g.get("nodes", {}).items())
        out += [f"Version {card['version']} is {g.get('from_version')}'s network with its input transform rewritten by `xrftrain regraft` "
                f"at {g.get('utc')} ({nodes}). Weights, quantisation and thresholds are {g.get('from_version')}'s, the outputs were "
                f"checked bit-identical on {g.get('checked_spectra')} validation spectra, and every figure below was measured again "
                "on the rewritten files.", ""]
    if eval_json:
        out += ["## `xrfedge eval` (C#, ONNX Runtime, int8 model)", "", "```json", json.dumps(eval_json, indent=1), "```", ""]
    out += _targets_section(models)
    out += _notes_section(models)
    out += _eval_section(models)
    out += _validation_sets_section(models)
    out += _oracle_section(models, per_el)
    if data is not None and data.is_dir():
        out += _ceiling_section(data)
        out += _count_level_section(models, data)
    out += [f"## Python cross-check — {m.get('source', '')}", "",
            "Computed by the training pipeline when the model was made, on the test sets of that run (seeds below). "
            "Where those are the development sets (3003, 4004–4007) they informed choices; the figures of record are "
            "the `xrfedge eval` tables above. Verdicts: the issue's targets on the randomized set; element F1 ≥ 0.95 "
            "on a profile set (its only target). Cards made before 2026-11-24 (1.6.0 included) scored the paper figures "
            "here with the lines of an in-sample tube anode counted like any element's, which the decoder and `eval` never "
            "report (docs/inference.md, \"Python reference parity\").", ""]
    keys = ["element_f1", "element_top1", "element_sensitivity", "element_precision", "line_sensitivity",
            "line_precision", "line_f1", "paper_pearson", "paper_sensitivity", "paper_specificity", "paper_precision"]
    for name, row in m.items():
        if not name.startswith("test-"):
            continue
        out += [f"### {name} ({row['spectra']} spectra, profile `{row['profile']}`, seed {row['seed']})", "",
                "| metric | int8 | fp32 | target |", "|---|---|---|---|"]
        for k in keys:
            vi, vf = row["int8"]["summary"].get(k), row["fp32"]["summary"].get(k)
            if name == "test-randomized":
                verdict = _verdict(k, vi)
            else:
                verdict = f"≥ 0.95 {_met(vi, 0.95)}" if k == "element_f1" else ""
            out.append(f"| {k} | {_f(vi)} | {_f(vf)} | {verdict} |")
        worst = row.get("int8_minus_fp32_max_abs")
        ok = worst is not None and not math.isnan(worst) and worst <= 0.01
        out += ["", f"Largest |int8 − fp32| over these metrics: {_f(worst)} (target ≤ 0.01: {'met' if ok else '**missed**'}).", ""]
        conf = row.get("confusions_int8")
        if conf:
            out += ["Overlap confusions (int8): `false` = share of spectra with only the first element where the second "
                    "is reported anyway; `recall with` = recall of the second when both are present.", "",
                    "| present | confused with | spectra | false | spectra both | recall with |", "|---|---|---|---|---|---|"]
            out += [f"| {c['present']} | {c['confused']} | {c['spectra_only_present']} | {_f(c['false_rate'])} | "
                    f"{c['spectra_both']} | {_f(c['recall_with'])} |" for c in conf]
            out.append("")
    if "test-randomized" in per_el:
        out += [f"## Per-element (test-randomized, {_set_seed(models, 'test-randomized')}, int8, `xrfedge eval`, detectable protocol)", "",
                "| element | support | sensitivity | precision | F1 | FP | FN |", "|---|---|---|---|---|---|---|"]
        out += [f"| {r['element']} | {r['support']} | {_f(r['sensitivity'])} | {_f(r['precision'])} | {_f(r['f1'])} | "
                f"{r['fp']} | {r['fn']} |" for r in per_el["test-randomized"]]
        out.append("")
    out += _confusions_of_record(models)
    abl = m.get("ablations_validation") or {}
    if abl:
        out += ["## Ablations (validation set; each trained on a subset, same seeds)", "",
                "Scored on the validation spectra their own thresholds were chosen on, so every row is optimistic; they "
                "compare recipes with each other, not with the targets.", "",
                "| ablation | spectra | min | element F1 | top-1 | line sens. | line prec. | paper Pearson | paper sens. |",
                "|---|---|---|---|---|---|---|---|---|"]
        for name, a in abl.items():
            v = a["validation"]
            out.append(f"| {name} | {a['train_spectra']} | {_f(a['minutes'], 1)} | {_f(v['element_f1'])} | "
                       f"{_f(v['element_top1'])} | {_f(v['line_sensitivity'])} | {_f(v['line_precision'])} | "
                       f"{_f(v['paper_pearson'])} | {_f(v['paper_sensitivity'])} |")
        out.append("")
    extra = sorted((models / "eval").glob("ablation-*.json")) if (models / "eval").is_dir() else []
    if extra:
        out += ["### Earlier input-transform ablations (model 1.0.0 era: older generator, ε = 0 labels; validation set, 40,000 training spectra, 3 epochs, 768×2 + element head) — kept for the record; the significance map (above) came after them", "",
                "| transform | element F1 | top-1 | line sens. | line prec. | element F1 by total counts (<1e4, 1e4–1e5, 1e5–1e6, 1e6–1e7, >1e7) |",
                "|---|---|---|---|---|---|"]
        for f in extra:
            for name, v in json.loads(f.read_text()).items():
                by = ", ".join(_f(x, 3) for x in v.get("element_f1_by_counts", {}).values())
                out.append(f"| {name} | {_f(v['element_f1'])} | {_f(v['element_top1'])} | {_f(v['line_sensitivity'])} | "
                           f"{_f(v['line_precision'])} | {by} |")
        out.append("")
    real = m.get("real_spectra_python_dev_check")
    if real:
        from .pipeline import REAL_EXPECTED, REAL_TRACES, real_verdict

        verdicts = {n: real_verdict(n, r["top"], r["reported"]) for n, r in real["spectra"].items() if n in REAL_EXPECTED}
        out += [f"## Real spectra (NIST, Rh 50 kV, vacuum) — {sum(verdicts.values())} of {len(verdicts)} pass",
                "", "Python rebin of the `.msa` files (negative channels clamped to 0), int8 model, the card's "
                "thresholds and the Decoder's rule (element head and one reported line; cards before 1.4.0 recorded "
                "the bare head here). A developer cross-check of the C# table above, not the figure of record. "
                "Rh (tube anode) and Ar are not scored. Pass = the standard's element on top, every "
                "expected element reported, nothing else except traces that ../shared/spectra/README.md documents.", "",
                "| spectrum | expected | documented traces | top element | reported | pass |",
                "|---|---|---|---|---|---|"]
        for n, r in real["spectra"].items():
            out.append(f"| {n} | {', '.join(r['expected'] or []) or 'none'} | {', '.join(sorted(REAL_TRACES.get(n, []))) or '—'} | "
                       f"{r['top']} ({_f(r['top_probability'], 3)}) | {', '.join(r['reported']) or 'none'} | "
                       f"{'yes' if verdicts.get(n) else '**no**'} |")
        out.append("")
    return "\n".join(out) + "\n"
