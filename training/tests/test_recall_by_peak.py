"""scripts/validation/recall_by_peak.py: the grid counts each labelled line once, in the cell of its P/B and z, and
the script refuses a set whose seed is in use (training, validation, selection, test)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts/validation/recall_by_peak.py"


def _module():
    sys.path.insert(0, str(ROOT / "training"))
    spec = importlib.util.spec_from_file_location("recall_by_peak", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_grid_puts_each_line_in_the_cell_of_its_ratio_and_significance():
    m = _module()
    # (net, background, reported): P/B 0.5 z 5; P/B 0.5 z 50 twice (one reported); P/B 2 z 200; background 0.
    net = np.array([50.0, 5000.0, 5000.0, 40000.0, 10.0])
    bg = np.array([100.0, 10000.0, 10000.0, 20000.0, 0.0])
    hit = np.array([True, True, False, True, True])
    g = m.grid(net, bg, hit)
    pb = {(a, b): i for i, (a, b) in enumerate(zip(m.PB_EDGES[:-1], m.PB_EDGES[1:]))}
    z = {(a, b): i for i, (a, b) in enumerate(zip(m.Z_EDGES[:-1], m.Z_EDGES[1:]))}
    assert g[pb[(0.3, 1.0)]][z[(0.0, 10.0)]] == (1, 1)
    assert g[pb[(0.3, 1.0)]][z[(30.0, 100.0)]] == (2, 1)
    assert g[pb[(1.0, 3.0)]][z[(100.0, 300.0)]] == (1, 1)
    assert g[pb[(10.0, np.inf)]][z[(300.0, np.inf)]] == (1, 1)   # no background: both infinite
    assert sum(n for row in g for n, _ in row) == len(net)


def test_refuses_a_set_whose_seed_a_choice_has_used(tmp_path):
    (tmp_path / "meta.json").write_text(json.dumps({"seed": 2002, "profile": "randomized"}))
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "training")})
    assert out.returncode != 0
    assert "seed 2002" in out.stderr and "fresh" in out.stderr
