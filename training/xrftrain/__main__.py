"""CLI: `python3 -m xrftrain model --config CONFIG --data DIR --out DIR`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import quantize
from .data import DatasetError
from .device import DEVICE_CHOICES, is_device_spec
from .pipeline import config_from_json, run, with_device

DEVICE_HELP = ("where training runs, for the shipped model and every ablation: auto (CUDA when torch sees a GPU, else "
               "the CPU), cpu, cuda or cuda:N; wins over the config's `device` keys (default: the config's, 'auto' "
               "where it names none)")


def _device_arg(value: str) -> str:
    if not is_device_spec(value):
        raise argparse.ArgumentTypeError(f"'{value}' is not a device (use {DEVICE_CHOICES})")
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="xrftrain", description="Train, export and quantise the XrfEdge line encoder.")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("model", help="ablations + shipped model + thresholds + ONNX fp32/int8 + card")
    m.add_argument("--config", type=Path, required=True, help="pipeline JSON (training/configs/*.json)")
    m.add_argument("--data", type=Path, required=True, help="directory with train/ val/ test-*/ npy sets")
    m.add_argument("--out", type=Path, required=True, help="where the model files and card go")
    m.add_argument("--no-ablations", action="store_true", help="train only the shipped configuration")
    m.add_argument("--device", type=_device_arg, help=DEVICE_HELP)
    r = sub.add_parser("report", help="render models/EVALUATION.md from the card")
    r.add_argument("--models", type=Path, required=True)
    r.add_argument("--eval-json", type=Path, help="xrfedge eval --json output to include")
    r.add_argument("--data", type=Path, help="npy data root: adds the paper-protocol ceiling of the test labels")
    q = sub.add_parser("requantize", help="re-derive the int8 model from the fp32 one (no retraining), re-score, rewrite the card")
    q.add_argument("--models", type=Path, required=True)
    q.add_argument("--data", type=Path, required=True, help="npy data root with val/ and the test sets")
    q.add_argument("--calibration-spectra", type=int, default=quantize.DEFAULT_CALIBRATION_SPECTRA)
    q.add_argument("--bias-correction", action=argparse.BooleanOptionalAction, default=None,
                   help="shift each layer's bias by its mean int8 error on the calibration spectra (quantize.py); "
                        "default: as the card records")
    t = sub.add_parser("rethreshold", help="re-choose the thresholds on validation with the current rule (no retraining), "
                                           "re-score, rewrite the card under a new version")
    t.add_argument("--models", type=Path, required=True)
    t.add_argument("--data", type=Path, required=True, help="npy data root with val/ and the test sets")
    t.add_argument("--line-precision-target", type=float, help="pooled validation line precision to reach")
    t.add_argument("--version", required=True, help="the card's new version (the decisions change)")
    o = sub.add_parser("ceiling", help="background-oracle reference for the element targets (xrftrain/ceiling.py)")
    o.add_argument("--data", type=Path, required=True, help="npy data root with val/ and the test sets, written with "
                                                             "line_net.npy/line_background.npy")
    o.add_argument("--tests", nargs="+", default=["test-randomized", "test-handheld-sdd", "test-handheld-pin",
                                                   "test-benchtop", "test-macro-xrf"])
    o.add_argument("--json", type=Path, help="also write the scores here")
    g = sub.add_parser("regraft", help="rewrite a trained model's input transform into the current export form (fewer "
                                       "ops, bit-identical outputs checked); weights, thresholds and metrics kept")
    g.add_argument("--models", type=Path, required=True)
    g.add_argument("--data", type=Path, required=True, help="npy data root whose val/ spectra the outputs are checked on")
    g.add_argument("--version", required=True, help="the card's new version (the files change, the decisions do not)")
    c = sub.add_parser("count-range", help="write the training set's count range into an existing card (cards made "
                                           "before the field existed); refuses a set the card was not trained on")
    c.add_argument("--models", type=Path, required=True)
    c.add_argument("--data", type=Path, required=True, help="npy data root whose train/ the card was trained on")
    b = sub.add_parser("ablations", help="run a config's ablations and write them into an existing card (a model "
                                         "trained with --no-ablations); refuses a card trained with other hyper-parameters")
    b.add_argument("--config", type=Path, required=True, help="pipeline JSON whose shipped block the card was trained with")
    b.add_argument("--models", type=Path, required=True)
    b.add_argument("--data", type=Path, required=True, help="npy data root whose train/ the card was trained on")
    b.add_argument("--device", type=_device_arg, help=DEVICE_HELP)
    rt = sub.add_parser("real-totals", help="the real-file passes and false elements a ship rule counts, from what "
                                            "eval_models.sh wrote under MODELS/eval")
    rt.add_argument("--models", type=Path, required=True)
    rt.add_argument("--json", action="store_true", help="print the figures as JSON")
    sc = sub.add_parser("ship-check", help="judge a candidate against the shipped model by the ship rules (a)-(f) "
                                           "from what training/ship_check.sh measured under OUT; exit 1 unless all met")
    sc.add_argument("--candidate", type=Path, required=True, help="the candidate's models folder (int8 onnx + card)")
    sc.add_argument("--shipped", type=Path, required=True, help="the shipped models folder")
    sc.add_argument("--out", type=Path, required=True, help="ship_check.sh's OUT (sets.json, candidate/, shipped/)")
    sc.add_argument("--no-analogue", action="store_true", help="rules (a)-(e) only (run AH's rule, before (f) existed)")
    sc.add_argument("--recall-half", action="store_true",
                    help="rule (f) also asks half of the labelled spectra in its two recall rows (run AI's rule)")
    sc.add_argument("--foreign-fraction", type=float, default=0.5,
                    help="rule (c)'s bar as a fraction of the shipped model's false reports on the foreign set "
                         "(default 0.5, run AH's rule; runs AI-r and AJ wrote 1.10)")
    a = p.parse_args(argv)
    if a.cmd == "ship-check":
        from .shipcheck import run as ship_check

        try:
            code, text = ship_check(a.candidate, a.shipped, a.out, not a.no_analogue, a.recall_half,
                                    a.foreign_fraction)
        except (ValueError, OSError, KeyError) as e:
            print(f"xrftrain: {e}", file=sys.stderr)
            return 2
        print(text)
        return code
    if a.cmd == "real-totals":
        from .report import real_totals

        try:
            t = real_totals(a.models)
        except (ValueError, OSError) as e:
            print(f"xrftrain: {e}", file=sys.stderr)
            return 2
        if a.json:
            print(json.dumps(t, indent=1))
        else:
            for name, v in t["sets"].items():
                print(f"{name}: {v['passed']} of {v['of']} pass, {v['false']} false")
            print(f"all: {t['passed']} of {t['of']} pass, {t['false']} false")
        for f in t["missing"]:
            print(f"xrftrain: missing {f} (run training/eval_models.sh)", file=sys.stderr)
        return 1 if t["missing"] else 0
    if a.cmd == "ablations":
        from .pipeline import add_ablations

        try:
            cfg = config_from_json(json.loads(a.config.read_text(encoding="utf-8")))
            if a.device is not None:
                cfg = with_device(cfg, a.device)
            card = add_ablations(a.models, a.data, cfg)
        except (DatasetError, ValueError, OSError) as e:
            print(f"xrftrain: {e}", file=sys.stderr)
            return 2
        for name, m in card["metrics"]["ablations_validation"].items():
            print(f"{name}: validation element F1 {m['validation'].get('element_f1')}")
        return 0
    if a.cmd == "count-range":
        from .pipeline import add_count_range

        try:
            card = add_count_range(a.models, a.data)
        except (DatasetError, ValueError) as e:
            print(f"xrftrain: {e}", file=sys.stderr)
            return 2
        cr = card["count_range"]
        print(f"count range {cr['low_total']:.0f} to {cr['high_total']:.0f} counts ({cr['definition']})")
        return 0
    if a.cmd == "regraft":
        from .pipeline import regraft

        try:
            card = regraft(a.models, a.data, a.version)
        except (DatasetError, ValueError, OSError) as e:
            print(f"xrftrain: {e}", file=sys.stderr)
            return 2
        for name, (n0, n1) in card["training"]["regrafted"]["nodes"].items():
            print(f"{name}: {n0} → {n1} nodes, outputs bit-identical on {card['training']['regrafted']['checked_spectra']} "
                  f"validation spectra")
        print(f"card version {card['version']}")
        return 0
    if a.cmd == "ceiling":
        from .catalog import load_catalog
        from .ceiling import oracle_scores
        from .data import load_dataset
        from .pipeline import line_edges_kev

        try:
            cat = load_catalog()
            tests = {t: load_dataset(a.data / t, cat.sha256) for t in a.tests if (a.data / t).is_dir()}
            scores = oracle_scores(load_dataset(a.data / "val", cat.sha256), tests, cat.line_element,
                                   line_edges_kev(cat), cat.elements)
        except (DatasetError, ValueError) as e:
            print(f"xrftrain: {e}", file=sys.stderr)
            return 2
        for name, s in scores.items():
            print(f"{name}: oracle element sensitivity {s['element_sensitivity']:.4f} precision "
                  f"{s['element_precision']:.4f} F1 {s['element_f1']:.4f} ({s['spectra']} spectra)")
        if a.json:
            a.json.write_text(json.dumps(scores, indent=1) + "\n", encoding="utf-8")
        return 0
    if a.cmd == "rethreshold":
        from .pipeline import rethreshold

        rethreshold(a.models, a.data, a.line_precision_target, a.version)
        return 0
    if a.cmd == "requantize":
        from .pipeline import requantize

        requantize(a.models, a.data, a.calibration_spectra, bias_correction=a.bias_correction)
        return 0
    if a.cmd == "report":
        from .report import render

        ev = json.loads(a.eval_json.read_text()) if a.eval_json and a.eval_json.exists() else None
        (a.models / "EVALUATION.md").write_text(render(a.models, ev, a.data), encoding="utf-8")
        return 0
    try:
        cfg = config_from_json(json.loads(a.config.read_text(encoding="utf-8")))
        if a.no_ablations:
            cfg.ablations = []
        if a.device is not None:
            cfg = with_device(cfg, a.device)
        run(cfg, a.data, a.out)
    except (DatasetError, ValueError, FileNotFoundError) as e:
        print(f"xrftrain: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
