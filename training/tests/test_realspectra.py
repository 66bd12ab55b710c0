from pathlib import Path

import numpy as np

from xrftrain.realspectra import clamp_negatives, read_msa, read_msa_raw


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


def test_swap_regions_without_a_donor_knocks_each_region_out(tmp_path):
    # Knock-out mode (docs/training.md, "Run AI"): no donor row; a sweep of 10-keV windows every 10 keV gives regions
    # 0.5-10.5, 10.5-20.5 (20.5-30.5 would leave the grid); a peak inside a region is replaced by the line under it.
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts/validation"))
    from swap_regions import knock_out

    peak = np.array([1.0, 2.0, 50.0, 60.0, 5.0, 6.0])
    assert knock_out(peak, 2, 4).tolist() == [3.0, 4.0]
    assert knock_out(peak, 4, 6).tolist() == [33.0, 6.0]  # at the grid's end its last bin is the right anchor

    root = Path(__file__).resolve().parents[2]
    body = "\n".join("50" for _ in range(3000))
    (tmp_path / "a.msa").write_text(f"#XUNITS : eV\n#XPERCHAN : 10.0\n#OFFSET : 0\n#SPECTRUM :\n{body}\n")
    out = subprocess.run([sys.executable, str(root / "scripts/validation/swap_regions.py"), str(tmp_path / "a.msa"),
                          "--elements", "Fe", "--sweep", "10,10"],
                         env={"PYTHONPATH": str(root / "training"), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert [line.split("  ")[0].strip() for line in out] == [
        "target as measured", "target without 0.5-10.5 keV", "target without 10.5-20.5 keV"]


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


def test_read_msa_clamps_negative_channels_to_zero_as_the_csharp_reader_does(tmp_path):
    # The NIST Bruker files hold negatives near 0.3 keV where the zero peak was subtracted (Zr: −316 at channel 126).
    # C# MsaReader clamps them to 0 by default and records how many channels and how much
    # (FormatParsing.ClampNegatives); until 2026-11-24 read_msa kept them, so the Python real-spectra check rebinned
    # −1837 counts (Zr) the C# path never saw.
    path = tmp_path / "neg.msa"
    path.write_text("#FORMAT : EMSA/MAS\n#XUNITS : keV\n#XPERCHAN : 0.01\n#OFFSET : 0\n"
                    "#SPECTRUM :\n4\n-316\n7\n-2.0\n#ENDOFDATA :\n")
    counts, _, _ = read_msa(path)
    assert counts.tolist() == [4.0, 0.0, 7.0, 0.0]
    clamped, channels, removed = clamp_negatives(np.array([4.0, -316.0, 7.0, -2.0]))
    assert clamped.tolist() == [4.0, 0.0, 7.0, 0.0] and channels == 2 and removed == -318.0


def test_read_msa_nist_fe_clamps_what_the_csharp_reader_records():
    # tests/XrfEdge.Devices.Tests/Formats/RealSpectraTests.cs pins the C# reader on this file:
    # clamped_negative_channels 1, clamped_negative_sum −2. The same file must give the same count here.
    import pytest

    folder = Path(__file__).resolve().parents[2] / ".." / "shared" / "spectra" / "nist-rh50kv-vacuum"
    path = folder / "Fe_50kv_50_ma_Rh_vac_D1.msa"
    if not path.is_file():
        pytest.skip(f"{path} not present (../shared/spectra)")
    counts, _, _ = read_msa(path)
    assert counts.min() >= 0
    raw, _, _ = read_msa_raw(path)
    _, channels, removed = clamp_negatives(raw)
    assert (channels, removed) == (1, -2.0)
