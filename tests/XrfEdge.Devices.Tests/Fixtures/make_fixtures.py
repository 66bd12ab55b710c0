#!/usr/bin/python3
"""Writes the small spectrum files the Devices tests read (Fixtures/ and Malformed/).

Every number is synthetic and stated here, so a test can name where its expectation comes from:
- peak(c) = round(1000 * exp(-0.5 * ((c - centre) / 3) ** 2)) + 5: one Gaussian line of height 1000 counts,
  sigma 3 channels, on a flat background of 5 counts per channel.
- The "Fe" fixtures put the centre at the channel whose energy is Fe KL3 = 6.4039 keV (xraylib 4.0).
Run: /usr/bin/python3 tests/XrfEdge.Devices.Tests/Fixtures/make_fixtures.py  (rewrites the files in place)
"""
import json
import math
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
MALFORMED = HERE.parent / "Malformed"
FE_KL3_KEV = 6.4039


def peak(n, centre):
    return [round(1000 * math.exp(-0.5 * ((c - centre) / 3) ** 2)) + 5 for c in range(n)]


def write(path, text, encoding="latin-1", newline="\n"):
    path.write_bytes(text.replace("\n", newline).encode(encoding))


def mca(counts, calibration=((0, 0.0), (255, 10.2)), extra_header="", config="MCAC=256;", data=None, end=True, status=True):
    lines = ["<<PMCA SPECTRUM>>", "TAG - live_data", "DESCRIPTION - XrfEdge test fixture", "GAIN - 0",
             "THRESHOLD - 0", "LIVE_MODE - 0", "PRESET_TIME - 30", "LIVE_TIME - 29.500000", "REAL_TIME - 30.000000",
             "START_TIME - 11/21/2026 07:00:00", "SERIAL_NUMBER - 2666"]
    if extra_header:
        lines.append(extra_header)
    if calibration is not None:
        lines += ["<<CALIBRATION>>", "LABEL - keV"] + [f"{c} {e}" for c, e in calibration]
    lines += ["<<ROI>>", "120 136"]
    lines.append("<<DATA>>")
    lines += data if data is not None else [str(c) for c in counts]
    if end:
        lines.append("<<END>>")
    if config is not None:
        lines += ["<<DP5 CONFIGURATION>>", "RESC=Y;    Reset Configuration", config + "    MCA/MCS Channels",
                  "TPEA=25.600;    Peaking Time", "<<DP5 CONFIGURATION END>>"]
    if status:
        lines += ["<<DPP STATUS>>", "Device Type: DP5", "Serial Number: 2666", "Board Temp: 33\u00b0C",
                  "Fast Count: 52894", "Slow Count: 48123", "<<DPP STATUS END>>"]
    return "\n".join(lines) + "\n"


def main():
    # Amptek .mca: 256 channels, calibration 0 → 0.0 keV and 255 → 10.2 keV, i.e. 0.04 keV/channel;
    # Fe KL3 at 6.4039 / 0.04 = 160.1 channels.
    write(HERE / "amptek-fe-256.mca", mca(peak(256, 160)), encoding="latin-1", newline="\r\n")
    # Amptek .mca without <<CALIBRATION>>: needs --offset-kev/--gain-kev-per-channel.
    write(MALFORMED / "no-calibration.mca", mca(peak(256, 160), calibration=None), encoding="latin-1")

    # ORTEC .spe: 128 channels, $MCA_CAL c0 = 0.1 keV, c1 = 0.05 keV/ch, c2 = 1e-5 keV/ch²; $ENER_FIT differs on purpose
    # (MCA_CAL wins). Peak at channel 100: E = 0.1 + 5 + 0.1 = 5.2 keV.
    spe = ["$SPEC_ID:", "XrfEdge test fixture", "$SPEC_REM:", "DET# 1", "$DATE_MEA:", "11/21/2026 07:00:00",
           "$MEAS_TIM:", "29 30", "$DATA:", "0 127"] + [f"{c:8d}" for c in peak(128, 100)] + [
           "$ROI:", "1", "95 105", "$ENER_FIT:", "0.0 0.04", "$MCA_CAL:", "3", "1.000000E-001 5.000000E-002 1.000000E-005 keV",
           "$PRESETS:", "Live Time", "30", "0"]
    write(HERE / "ortec-128.spe", "\n".join(spe) + "\n", newline="\r\n")

    # EMSA .msa, Y data in eV: 128 channels, XPERCHAN 50 eV, OFFSET -100 eV, 5 values per line. Peak at channel 80:
    # E = -0.1 + 80 * 0.05 = 3.9 keV.
    values = peak(128, 80)
    rows = [",".join(f"{v:.1f}" for v in values[i:i + 5]) + "," for i in range(0, 128, 5)]
    msa = ["#FORMAT      : EMSA/MAS Spectral Data File", "#VERSION     : 1.0", "#TITLE       : XrfEdge test fixture",
           "#DATE        : 21-NOV-2026", "#TIME        : 07:00", "#OWNER       : XrfEdge", "#NPOINTS     : 128",
           "#NCOLUMNS    : 5", "#XUNITS      : eV", "#YUNITS      : counts", "#DATATYPE    : Y",
           "#XPERCHAN    : 50.0", "#OFFSET      : -100.0", "#SIGNALTYPE  : XRF", "#LIVETIME  -s: 29.5",
           "#REALTIME  -s: 30.0", "#BEAMKV   -kV: 40.0", "#SPECTRUM    :"] + rows + ["#ENDOFDATA   :"]
    write(HERE / "emsa-y-ev.msa", "\n".join(msa) + "\n")

    # EMSA XY in keV: 64 channels, x = 1.0 + 0.02·i keV. Peak at channel 30: 1.6 keV.
    xy = peak(64, 30)
    msa_xy = ["#FORMAT      : EMSA/MAS Spectral Data File", "#VERSION     : 1.0", "#TITLE       : XY fixture",
              "#NPOINTS     : 64", "#NCOLUMNS    : 1", "#XUNITS      : keV", "#YUNITS      : counts", "#DATATYPE    : XY",
              "#XPERCHAN    : 0.02", "#OFFSET      : 1.0", "#SPECTRUM    :"] + [
              f"{1.0 + 0.02 * i:.4f}, {v}" for i, v in enumerate(xy)] + ["#ENDOFDATA   :"]
    write(HERE / "emsa-xy-kev.msa", "\n".join(msa_xy) + "\n")

    # CSV: channel,counts without a header (100 channels); energy_kev,counts with a header (0.03 keV/ch from 0.015,
    # i.e. channel centres of a 0-based 0.03 keV/ch calibration with offset 0.015 keV); TSV counts-only.
    write(HERE / "channel-counts.csv", "\n".join(f"{c},{v}" for c, v in enumerate(peak(100, 50))) + "\n")
    write(HERE / "energy-counts.csv", "energy_kev,counts\n" + "\n".join(
        f"{0.015 + 0.03 * c:.4f},{v}" for c, v in enumerate(peak(200, 150))) + "\n")
    write(HERE / "counts-only.tsv", "# counts only, one per line\n" + "\n".join(str(v) for v in peak(64, 20)) + "\n")

    # .jsonl: two valid spectra (64 channels, 0.1 keV/ch from 0.05) and one bad line between them.
    good = {"id": "j-1", "counts": peak(64, 30), "calibration": {"offset_kev": 0.05, "gain_kev_per_channel": 0.1},
            "live_time_s": 10.0, "excitation": {"anode": "Rh", "kv": 40, "ua": 20}, "elements": ["Fe"],
            "ignore_elements": ["Rh", "Ar"]}
    second = dict(good, id="j-3")
    write(HERE / "two-good-one-bad.jsonl", json.dumps(good) + "\n" + '{"id":"j-2","counts":[1,2,3]}\n' + json.dumps(second) + "\n")

    # ---------------------------------------------------------------- malformed corpus
    base = peak(256, 160)
    write(MALFORMED / "truncated.mca", mca(base, data=[str(c) for c in base[:100]], end=False, config=None, status=False))
    write(MALFORMED / "non-numeric.mca", mca(base, data=[str(c) for c in base[:10]] + ["12a"] + [str(c) for c in base[11:]]))
    write(MALFORMED / "negative-counts.mca", mca(base, data=[str(c) for c in base[:20]] + ["-5"] + [str(c) for c in base[21:]]))
    write(MALFORMED / "zero-channels.mca", mca(base, data=[]))
    text = mca(base)
    write(MALFORMED / "missing-data.mca", text[:text.index("<<DATA>>")] + "<<END>>\n")
    write(MALFORMED / "absurd-calibration.mca", mca(base, calibration=((0, 10.0), (255, 1.0))))
    write(MALFORMED / "wrong-channel-count.mca", mca(base, config="MCAC=1024;").replace("GAIN - 0\n", ""))
    write(MALFORMED / "not-pmca.mca", "Spectrum exported by something else\n" + "\n".join(str(c) for c in base) + "\n")
    write(MALFORMED / "empty.mca", "")

    spe_text = "\n".join(spe) + "\n"
    cut = spe_text.index("$ROI:")
    write(MALFORMED / "truncated.spe", "\n".join(spe_text[:cut].splitlines()[:60]) + "\n")
    write(MALFORMED / "non-numeric.spe", spe_text.replace(f"{peak(128, 100)[3]:8d}", "     x12", 1))
    write(MALFORMED / "missing-data.spe", "$SPEC_ID:\nno data\n$MEAS_TIM:\n29 30\n$MCA_CAL:\n2\n0 0.05\n")
    write(MALFORMED / "absurd-calibration.spe", spe_text.replace("1.000000E-001 5.000000E-002 1.000000E-005 keV", "0 5.0 0"))

    msa_text = "\n".join(msa) + "\n"
    write(MALFORMED / "truncated.msa", "\n".join(msa_text.splitlines()[:25]) + "\n")
    write(MALFORMED / "missing-spectrum.msa", "\n".join(msa[:msa.index("#SPECTRUM    :")]) + "\n")
    write(MALFORMED / "too-many-points.msa", msa_text.replace("#NPOINTS     : 128", "#NPOINTS     : 100"))
    write(MALFORMED / "bad-xunits.msa", msa_text.replace("#XUNITS      : eV", "#XUNITS      : furlongs"))
    write(MALFORMED / "non-integer.msa", msa_text.replace(f"{values[0]:.1f},", "2.5,", 1))

    write(MALFORMED / "negative.csv", "\n".join(f"{c},{-3 if c == 7 else v}" for c, v in enumerate(peak(100, 50))) + "\n")
    write(MALFORMED / "non-numeric.csv", "\n".join(f"{c},{'n/a' if c == 12 else v}" for c, v in enumerate(peak(100, 50))) + "\n")
    write(MALFORMED / "too-few-channels.csv", "\n".join(f"{c},{v}" for c, v in enumerate(peak(10, 5))) + "\n")
    write(MALFORMED / "energies-not-increasing.csv", "energy_kev,counts\n" + "\n".join(
        f"{0.015 + 0.03 * (c if c != 40 else 38):.4f},{v}" for c, v in enumerate(peak(100, 50))) + "\n")
    write(MALFORMED / "ragged-columns.csv", "\n".join(f"{c},{v}" + (",9" if c == 30 else "") for c, v in enumerate(peak(100, 50))) + "\n")
    write(MALFORMED / "header-only.csv", "channel,counts\n")
    write(MALFORMED / "bad-lines.jsonl", json.dumps(good) + "\n" + "{\"id\":\"j-2\",\"counts\":[" + ",".join(["1"] * 64) + "]}\n"
          + "{\"id\":\"j-3\",\"counts\":[" + ",".join(["1"] * 63 + ["-4"]) + "],\"calibration\":{\"offset_kev\":0,\"gain_kev_per_channel\":0.1}}\n")
    write(MALFORMED / "unknown-format.bin", "\u0000\u0001binary junk")


if __name__ == "__main__":
    main()
