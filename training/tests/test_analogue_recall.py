"""scripts/validation/analogue_recall.py (docs/real-spectra.md, "Synthetic analogues"): real xrfedge synth, the
shipped int8 model."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_one_row_per_light_element_with_counts_that_add_up():
    out = subprocess.run([sys.executable, str(ROOT / "scripts/validation/analogue_recall.py"), "--count", "3",
                          "--case", "carbonate-vacuum", "--case", "soil-air-without-K"],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "training")},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| case")]
    # carbonate: Mg, Si; soil without K: Na, Mg, Al, Si (K left out of the case, so no K row).
    assert [(r[0], r[3].split()[0]) for r in rows] == [
        ("carbonate-vacuum", "Mg"), ("carbonate-vacuum", "Si"), ("soil-air-without-K", "Na"),
        ("soil-air-without-K", "Mg"), ("soil-air-without-K", "Al"), ("soil-air-without-K", "Si")]
    for r in rows:
        labelled, of = (int(v) for v in r[4].split(" of "))
        assert of == 3 and 0 <= int(r[5]) <= labelled <= 3
        assert r[6] == "—" if labelled == 0 else 0.0 <= float(r[6]) <= 1.0


def test_false_reports_add_a_row_for_each_light_element_not_in_the_sample():
    out = subprocess.run([sys.executable, str(ROOT / "scripts/validation/analogue_recall.py"), "--count", "3",
                          "--case", "calcite-air", "--false-reports"],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "training")},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| case")]
    # The carbonate without Mg and Si holds none of the five light elements: one false-report row each.
    assert [r[3] for r in rows] == [f"{el} not in sample" for el in ("Na", "Mg", "Al", "Si", "K")]
    for r in rows:
        reported, of = r[5].removesuffix(" (false)").split(" of ")
        assert int(of) == 3 and 0 <= int(reported) <= 3


def test_coupling_controls_leave_out_the_element_the_coupling_row_reads():
    # soil-air-without-K-Mg and bir1g-helium-without-Na are the false-report controls of the soil-without-K Mg and
    # BIR-1G Na rows: each must yield a false-report row for the element left out, and none labelled for it.
    out = subprocess.run([sys.executable, str(ROOT / "scripts/validation/analogue_recall.py"), "--count", "2",
                          "--case", "soil-air-without-K-Mg", "--case", "bir1g-helium-without-Na", "--false-reports"],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "training")},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| case")]
    false_rows = {(r[0], r[3]) for r in rows if r[3].endswith("not in sample")}
    assert ("soil-air-without-K-Mg", "Mg not in sample") in false_rows
    assert ("soil-air-without-K-Mg", "K not in sample") in false_rows
    assert ("bir1g-helium-without-Na", "Na not in sample") in false_rows
    labelled = {(r[0], r[3].split()[0]) for r in rows if not r[3].endswith("not in sample")}
    assert ("soil-air-without-K-Mg", "Mg") not in labelled and ("bir1g-helium-without-Na", "Na") not in labelled


def test_json_holds_the_rows_the_table_prints(tmp_path):
    # make ship-check's rule (f) reads this file (xrftrain/shipcheck.py figures_from): the same rows as the table.
    js = tmp_path / "analogue.json"
    out = subprocess.run([sys.executable, str(ROOT / "scripts/validation/analogue_recall.py"), "--count", "2",
                          "--seed", "11", "--case", "soil-air-without-K", "--false-reports", "--json", str(js)],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "training")},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    import json
    record = json.loads(js.read_text())
    assert (record["count"], record["seed"], record["false_reports"]) == (2, 11, True)
    assert record["cases"] == ["soil-air-without-K"]
    table = [[c.strip() for c in line.strip("|").split("|")] for line in out.stdout.splitlines()
             if line.startswith("| ") and not line.startswith("| case")]
    rows = record["rows"]
    # K is the only light element the case leaves out: one false row, then Na, Mg, Al, Si labelled.
    assert [(r["element"], r["kind"]) for r in rows] == [("K", "false"), ("Na", "labelled"), ("Mg", "labelled"),
                                                         ("Al", "labelled"), ("Si", "labelled")]
    assert len(table) == len(rows)
    for r, t in zip(rows, table):
        assert r["case"] == t[0] and r["of"] == 2
        if r["kind"] == "false":
            assert r["labelled"] is None and t[5] == f"{r['reported']} of 2 (false)"
        else:
            assert t[4] == f"{r['labelled']} of 2" and t[5] == str(r["reported"]) and 0 <= r["reported"] <= r["labelled"]
