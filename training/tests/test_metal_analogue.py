"""scripts/validation/metal_analogue.py (docs/training.md, "Run AI"): real xrfedge synth, the shipped int8 model."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_one_row_per_case_each_reporting_its_main_element_and_never_the_not_assessed():
    out = subprocess.run([sys.executable, str(ROOT / "scripts/validation/metal_analogue.py"), "--count", "2"],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "training")},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| model")]
    assert [r[1] for r in rows] == ["Cu", "Ni", "steel"]
    for r in rows:
        reports = dict(item.rsplit(" ", 1) for item in r[3].removesuffix(" of 2").split(", "))
        assert all(0 < int(k) <= 2 for k in reports.values())
        assert "Ar" not in reports and "Rh" not in reports
    # A pure element's analogue reports that element in both spectra (the shipped model reads them all, 40 of 40).
    assert dict(item.rsplit(" ", 1) for item in rows[0][3].removesuffix(" of 2").split(", "))["Cu"] == "2"
