from pathlib import Path

import numpy as np

from xrftrain.realspectra import read_msa


def _msa(path, units, per_channel, offset):
    path.write_text(f"#FORMAT : EMSA/MAS\n#XUNITS : {units}\n#XPERCHAN : {per_channel}\n#OFFSET : {offset}\n"
                    "#SPECTRUM :\n1\n2\n3\n#ENDOFDATA :\n")
    return path


def test_read_msa_converts_ev_axes_to_kev(tmp_path):
    # The PIXL files give their axis in eV, the Bruker files in keV: both must come back in keV.
    counts_ev, off_ev, gain_ev = read_msa(_msa(tmp_path / "ev.msa", "eV", 10.0491, -16.66))
    counts_kev, off_kev, gain_kev = read_msa(_msa(tmp_path / "kev.msa", "keV", 0.0100491, -0.01666))
    assert np.array_equal(counts_ev, counts_kev)
    assert abs(gain_ev - gain_kev) < 1e-12 and abs(off_ev - off_kev) < 1e-12


def test_swap_regions_prints_one_row_per_region_with_the_shipped_model(tmp_path):
    # scripts/validation/swap_regions.py (docs/real-spectra.md, "Why BIR-1G loses Mg"): two flat .msa spectra, a
    # region list of two; one row for each spectrum and one per region, each with a probability for each element.
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    body = "\n".join("50" for _ in range(3000))
    for name in ("a", "b"):
        (tmp_path / f"{name}.msa").write_text(f"#XUNITS : eV\n#XPERCHAN : 10.0\n#OFFSET : 0\n#SPECTRUM :\n{body}\n")
    out = subprocess.run([sys.executable, str(root / "scripts/validation/swap_regions.py"), str(tmp_path / "a.msa"),
                          str(tmp_path / "b.msa"), "--elements", "Mg,K", "--regions", "0-1.4,3-3.5"],
                         env={"PYTHONPATH": str(root / "training"), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert [line.split("  ")[0].strip() for line in out] == [
        "target as measured", "donor, scaled at the reference bin", "target with donor's 0-1.4 keV",
        "target with donor's 3-3.5 keV"]
    for line in out:
        probs = [float(t.rstrip("*")) for t in line.split()[-3::2]]
        assert len(probs) == 2 and all(0.0 <= p <= 1.0 for p in probs)


def test_read_msa_takes_the_counts_of_xy_data(tmp_path):
    # The XGT-7200 files (validation/spectra/xgt7200-rh50kv-geo-crms) are #DATATYPE XY: "energy, counts" per line.
    # Until 2026-11-24 the energies were read as counts too, so swap_regions.py on those files probed a spectrum twice
    # as long with every other channel an energy.
    path = tmp_path / "xy.msa"
    path.write_text("#FORMAT : EMSA/MAS\n#DATATYPE : XY\n#XUNITS : keV\n#XPERCHAN : 0.01\n#OFFSET : -0.02\n"
                    "#SPECTRUM :\n-0.02, 5.\n-0.01, 6.\n0.00, 7.\n#ENDOFDATA :\n")
    counts, offset, gain = read_msa(path)
    assert counts.tolist() == [5.0, 6.0, 7.0]
    assert offset == -0.02 and gain == 0.01


def test_read_msa_refuses_a_datatype_it_cannot_read(tmp_path):
    import pytest

    path = tmp_path / "odd.msa"
    path.write_text("#DATATYPE : XYZ\n#XUNITS : keV\n#XPERCHAN : 0.01\n#OFFSET : 0\n#SPECTRUM :\n1, 2, 3\n")
    with pytest.raises(ValueError, match="DATATYPE"):
        read_msa(path)
