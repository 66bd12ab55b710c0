import numpy as np

from xrftrain.metrics import binary_scores, evaluate, not_assessed_mask
from xrftrain.thresholds import choose


def test_binary_scores_hand_counted_confusion():
    # 2 TP, 1 FP, 1 FN, 4 TN counted by hand; one pair masked out (would be an FP).
    prob = np.array([[0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.1, 0.0, 0.99]])
    truth = np.array([[1, 1, 0, 1, 0, 0, 0, 0, 0]])
    mask = np.array([[1, 1, 1, 1, 1, 1, 1, 1, 0]])
    s = binary_scores(prob, truth, mask, 0.5)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 1, 1, 4)
    assert abs(s["sensitivity"] - 2 / 3) < 1e-12 and abs(s["precision"] - 2 / 3) < 1e-12
    assert abs(s["specificity"] - 4 / 5) < 1e-12


def test_evaluate_ignored_elements_are_left_out_and_top1_counts_hits(catalog):
    n, fe, rh = 2, catalog.element_index("Fe"), catalog.element_index("Rh")
    le = catalog.line_element
    y_el = np.zeros((n, 41), np.uint8)
    y_el[:, fe] = 1
    ign = np.zeros((n, 41), np.uint8)
    ign[:, rh] = 1
    ep = np.zeros((n, 41), np.float32)
    ep[:, fe] = 0.9
    ep[:, rh] = 0.99  # the tube anode is the most probable but ignored: top-1 must still be Fe
    lp = np.zeros((n, 556), np.float32)
    fe_ka = catalog.line_names.index("Fe-KL3")
    lp[:, fe_ka] = 0.9  # the one reported Fe line that lets the decoder report Fe
    y_lines = y_el[:, le]
    m = evaluate(lp, ep, y_lines, y_el, y_el[:, le], y_el, ign, le, np.full(556, 0.5), np.full(41, 0.5))
    assert m["elements"]["top1"] == 1.0
    assert m["elements"]["fp"] == 0 and m["elements"]["tp"] == 2
    assert m["lines"]["tp"] == 2 and m["lines"]["fn"] == int(y_lines.sum()) - 2


def _one_fe_spectrum(catalog, head: float, fe_ka: float):
    fe, le = catalog.element_index("Fe"), catalog.line_element
    y_el = np.zeros((1, 41), np.uint8)
    y_el[0, fe] = 1
    ep = np.zeros((1, 41), np.float32)
    ep[0, fe] = head
    lp = np.zeros((1, 556), np.float32)
    lp[0, catalog.line_names.index("Fe-KL3")] = fe_ka
    return lp, ep, y_el, le


def test_evaluate_element_head_without_a_reported_line_is_not_a_detection(catalog):
    # Regression (benchtop eval gap): `xrfedge eval` scores what the C# Decoder reports, and it reports an element only
    # with at least one reported line. Head 0.9 >= 0.5 but no line >= 0.5: not reported, so a miss, as in C#.
    lp, ep, y_el, le = _one_fe_spectrum(catalog, head=0.9, fe_ka=0.2)
    ign = np.zeros_like(y_el)
    m = evaluate(lp, ep, y_el[:, le], y_el, y_el[:, le], y_el, ign, le, np.full(556, 0.5), np.full(41, 0.5))
    assert m["elements"]["tp"] == 0 and m["elements"]["fn"] == 1
    # top-1 (issue 5: the most probable element is truly present) does not depend on reporting: still a hit.
    assert m["elements"]["top1"] == 1.0


def test_evaluate_line_above_the_tube_voltage_is_not_reported(catalog):
    # The Decoder's excitation rule: Fe-KL3 needs the Fe K edge (7.11 keV in the catalogue) below the tube kV.
    lp, ep, y_el, le = _one_fe_spectrum(catalog, head=0.9, fe_ka=0.9)
    ign = np.zeros_like(y_el)
    edges = np.zeros(556)
    edges[catalog.line_names.index("Fe-KL3")] = 7.112
    args = (lp, ep, y_el[:, le], y_el, y_el[:, le], y_el, ign, le, np.full(556, 0.5), np.full(41, 0.5), edges)
    assert evaluate(*args, np.array([5.0]))["elements"]["tp"] == 0  # 5 kV cannot excite Fe K
    assert evaluate(*args, np.array([40.0]))["elements"]["tp"] == 1
    assert evaluate(*args, np.array([0.0]))["elements"]["tp"] == 1  # 0 = voltage unknown: not checked


def test_choose_threshold_separates_classes(rng):
    prob = np.concatenate([rng.uniform(0.0, 0.3, 500), rng.uniform(0.6, 1.0, 500)])[:, None]
    truth = np.concatenate([np.zeros(500), np.ones(500)])[:, None]
    thr = choose(prob, truth, np.ones_like(truth, bool))
    assert 0.3 <= thr[0] <= 0.6


def test_precision_floor_raises_a_threshold_until_precision_reaches_it(rng):
    # Negatives spread over [0, 0.8], positives over [0.5, 1]: max-F1 sits low, a 0.95 floor pushes it up.
    prob = np.concatenate([rng.uniform(0.0, 0.8, 2000), rng.uniform(0.5, 1.0, 1000)])[:, None]
    truth = np.concatenate([np.zeros(2000), np.ones(1000)])[:, None]
    mask = np.ones_like(truth, bool)
    plain, floored = choose(prob, truth, mask)[0], choose(prob, truth, mask, precision_floor=0.95)[0]
    assert floored > plain
    pred = prob[:, 0] >= floored
    assert truth[pred, 0].mean() >= 0.95


def test_precision_floor_out_of_reach_keeps_the_max_f1_threshold(rng):
    # Positives and negatives drawn alike: no threshold reaches 0.95 precision, so the floor changes nothing.
    prob = rng.uniform(0.0, 1.0, (2000, 1))
    truth = (rng.uniform(size=(2000, 1)) < 0.5).astype(np.uint8)
    mask = np.ones_like(truth, bool)
    assert choose(prob, truth, mask, precision_floor=0.95)[0] == choose(prob, truth, mask)[0]


def test_choose_for_decoder_scores_the_reported_decision(catalog):
    from xrftrain.thresholds import choose, choose_for_decoder

    le = catalog.line_element
    fe, ka = catalog.elements.index("Fe"), catalog.line_names.index("Fe-KL3")
    # 100 Fe spectra where the head says 0.9 and 100 where it says 0.5, all with a reported Fe-KL3 line; 1000 spectra
    # without Fe where the head says 0.7 but no Fe line is reported. Scored on the head alone, the best threshold sits
    # above 0.7 and drops the 0.5 group; scored on the reported decision the false alarms never count (no line), so
    # the threshold goes below 0.5 and every Fe spectrum is reported.
    n = 1200
    y_el = np.zeros((n, 41), np.uint8)
    y_el[:200, fe] = 1
    y_lines = y_el[:, le].copy()
    lp = np.zeros((n, 556), np.float32)
    lp[:200, ka] = 0.9
    ep = np.zeros((n, 41), np.float32)
    ep[:100, fe], ep[100:200, fe], ep[200:, fe] = 0.9, 0.5, 0.7
    ign = np.zeros_like(y_el)
    lt, et, info = choose_for_decoder(lp, ep, y_lines, y_el, ign, le, np.zeros(556), np.full(n, 40.0))
    assert info["line_precision_floor"] == 0.0 and info["line_precision_target"] is None
    assert choose(ep, y_el, ~ign.astype(bool))[fe] > 0.7  # what the head-only choice did
    reported = (lp[:, ka] >= lt[ka]) & (ep[:, fe] >= et[fe])
    assert reported[:200].all() and not reported[200:].any()


def test_choose_for_decoder_ignores_lines_the_tube_cannot_excite(catalog):
    from xrftrain.thresholds import choose_for_decoder

    ka, le = catalog.line_names.index("Fe-KL3"), catalog.line_element
    # Fe-KL3 at p = 0.99 everywhere: true in the 200 spectra at 40 kV, absent in the 200 at 5 kV (below the 7.112 keV
    # Fe K edge), where the Decoder can never report it. Counted in, those would halve the line's precision.
    n = 400
    y_el = np.zeros((n, 41), np.uint8)
    y_lines = y_el[:, le].copy()
    y_lines[:200, ka] = 1
    lp = np.zeros((n, 556), np.float32)
    lp[:, ka] = 0.99
    edges = np.zeros(556)
    edges[ka] = 7.112
    kv = np.concatenate([np.full(200, 40.0), np.full(200, 5.0)])
    ep = np.zeros((n, 41), np.float32)
    _, _, info = choose_for_decoder(lp, ep, y_lines, y_el, np.zeros_like(y_el), le, edges, kv)
    assert info["validation_line_precision"] == 1.0 and info["validation_line_sensitivity"] == 1.0
    _, _, unchecked = choose_for_decoder(lp, ep, y_lines, y_el, np.zeros_like(y_el), le, edges, np.zeros(n))
    assert unchecked["validation_line_precision"] == 0.5  # kV unknown: the rule is not applied, the false half counts


def test_line_precision_target_picks_the_lowest_floor_that_reaches_it(catalog, rng):
    from xrftrain.thresholds import choose_for_decoder

    n, le = 4000, catalog.line_element
    # Overlapping scores: max-F1 lands near 0.7 at precision ~0.6; only thresholds ≥ ~0.8 are clean.
    y_lines = (rng.uniform(size=(n, 556)) < 0.3).astype(np.uint8)
    lp = np.where(y_lines == 1, rng.uniform(0.3, 1.0, (n, 556)), rng.uniform(0.0, 0.8, (n, 556))).astype(np.float32)
    y_el = np.zeros((n, 41), np.uint8)
    ep = np.zeros((n, 41), np.float32)
    args = (lp, ep, y_lines, y_el, np.zeros_like(y_el), le, np.zeros(556), np.full(n, 40.0))
    _, _, free = choose_for_decoder(*args)
    _, _, held = choose_for_decoder(*args, line_precision_target=0.97)
    assert free["validation_line_precision"] < 0.97 <= held["validation_line_precision"]
    assert held["line_precision_floor"] > 0.0
    assert held["validation_line_sensitivity"] < free["validation_line_sensitivity"]


def test_confusion_table_scores_the_decision_it_is_given(catalog):
    # Pb present, As absent: the head alone says As (0.9 ≥ 0.5), the Decoder's decision (no As line reported) does not.
    from xrftrain.confusions import confusion_table
    pb, as_ = catalog.element_index("Pb"), catalog.element_index("As")
    y_el = np.zeros((1, 41), np.uint8)
    y_el[0, pb] = 1
    ep = np.zeros((1, 41), np.float32)
    ep[0, pb], ep[0, as_] = 0.9, 0.9
    ign = np.zeros((1, 41), np.uint8)
    thr = np.full(41, 0.5, np.float32)
    gated = ep >= thr
    gated[0, as_] = False

    def as_given_pb(rows):
        return next(r for r in rows if (r["present"], r["confused"]) == ("Pb", "As"))

    assert as_given_pb(confusion_table(ep, y_el, ign, thr, catalog.elements))["false_rate"] == 1.0
    assert as_given_pb(confusion_table(ep, y_el, ign, thr, catalog.elements, gated))["false_rate"] == 0.0


def test_real_spectra_check_reports_the_decoders_decision(catalog, tmp_path, monkeypatch):
    # Fe file: Fe and Cu heads both pass their thresholds, but only Fe has a reported line, so only Fe is reported
    # and the standard passes (the bare head would have failed it with a spurious Cu).
    from xrftrain import pipeline
    channels = "\n".join("10" for _ in range(3000))
    (tmp_path / "Fe_50kv_test.msa").write_text(
        f"#FORMAT : EMSA/MAS SPECTRAL DATA FILE\n#XPERCHAN : 0.01\n#OFFSET : 0.0\n#SPECTRUM :\n{channels}\n#ENDOFDATA :\n")
    fe, cu = catalog.element_index("Fe"), catalog.element_index("Cu")
    ep = np.zeros((1, 41), np.float32)
    ep[0, fe], ep[0, cu] = 0.99, 0.9
    lp = np.zeros((1, 556), np.float32)
    lp[0, catalog.line_names.index("Fe-KL3")] = 0.9
    monkeypatch.setattr(pipeline, "_onnx_probs", lambda model, x, cat: (lp, ep))
    r = pipeline.real_spectra_check(None, catalog, np.full(556, 0.5), np.full(41, 0.5), tmp_path)
    assert r["spectra"]["Fe"]["reported"] == ["Fe"]
    assert r["summary"] == {"passed": 1, "of": 1}


def test_binary_scores_no_pairs_every_ratio_is_nan_as_in_eval():
    # `xrfedge eval` (BinaryMetrics.Ratio) writes every ratio with a zero denominator as null; accuracy over no pairs
    # was 0.0 here, a figure that looks like a total failure and differs from eval's.
    prob = np.array([[0.9, 0.1]])
    s = binary_scores(prob, np.array([[1, 0]]), np.zeros((1, 2)), 0.5)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (0, 0, 0, 0)
    for k in ("sensitivity", "specificity", "precision", "f1", "accuracy", "pearson"):
        assert np.isnan(s[k]), k


def _argon_in_sample(catalog):
    ar, le = catalog.element_index("Ar"), catalog.line_element
    y_el = np.zeros((1, 41), np.uint8)
    y_el[0, ar] = 1
    ep = np.zeros((1, 41), np.float32)
    ep[0, ar] = 0.9
    lp = np.zeros((1, 556), np.float32)
    lp[0, catalog.line_names.index("Ar-KL3")] = 0.9
    return lp, ep, y_el, le, ar


def test_evaluate_argon_is_never_reported_as_in_the_decoder(catalog):
    # The C# Decoder never reports Ar or its lines (Decoder.AlwaysNotAssessed: unlabelled in every training spectrum),
    # so `xrfedge eval` scores Ar-KL3 at p = 0.9 as a miss wherever Ar is scored (the paper protocol when Ar is in the
    # sample; real labelled sets that do not ignore Ar). The reference counted it as a true positive.
    lp, ep, y_el, le, ar = _argon_in_sample(catalog)
    m = evaluate(lp, ep, y_el[:, le], y_el, y_el[:, le], y_el, np.zeros_like(y_el), le, np.full(556, 0.5),
                 np.full(41, 0.5), not_assessed=not_assessed_mask(catalog, 1))
    assert m["elements"]["tp"] == 0 and m["elements"]["fn"] == 1
    assert m["lines"]["tp"] == 0 and m["paper_lines"]["tp"] == 0


def test_evaluate_named_anode_is_not_reported_as_in_the_decoder(catalog):
    # The Decoder does not report the tube anode when the measurement names it; the paper protocol scores an anode that
    # is also in the sample (only ignores outside the sample are left out), so eval counts its lines as misses.
    rh, le = catalog.element_index("Rh"), catalog.line_element
    in_sample = np.zeros((1, 41), np.uint8)
    in_sample[0, rh] = 1
    ign = in_sample.copy()  # the anode is ignored by the detectable protocol
    ep = np.zeros((1, 41), np.float32)
    ep[0, rh] = 0.9
    lp = np.zeros((1, 556), np.float32)
    lp[0, catalog.line_names.index("Rh-KL3")] = 0.9
    args = (lp, ep, np.zeros((1, 556), np.uint8), np.zeros_like(in_sample), in_sample[:, le], in_sample, ign, le,
            np.full(556, 0.5), np.full(41, 0.5))
    assert evaluate(*args, not_assessed=not_assessed_mask(catalog, 1, np.array([rh])))["paper_lines"]["tp"] == 0
    # Anode unknown (-1): Rh is reported as usual.
    assert evaluate(*args, not_assessed=not_assessed_mask(catalog, 1, np.array([-1])))["paper_lines"]["tp"] == 1


def test_pipeline_score_replays_the_anode_the_set_records(catalog, tmp_path):
    # npy sets written since 2026-11-24 carry anode.npy; the card's Python figures must then leave the named anode out
    # as the Decoder does. Rh in the sample, its K line at 0.9, tube 40 kV (above the Rh K edge).
    from xrftrain.data import load_dataset, random_dataset, save_dataset
    from xrftrain.pipeline import _score

    rh = catalog.element_index("Rh")
    ds = random_dataset(2, 5, catalog.line_element)
    ds.y_elements_in_sample[:] = 0
    ds.y_elements_in_sample[:, rh] = 1
    ds.y_lines_paper = ds.y_elements_in_sample[:, catalog.line_element]
    ds.anode = np.array([rh, -1], np.int8)  # spectrum 1: a W tube, no catalogue element
    ds.meta["catalog_hash"] = catalog.sha256
    save_dataset(tmp_path / "set", ds)
    loaded = load_dataset(tmp_path / "set", catalog.sha256).subset(slice(None))
    assert loaded.anode.tolist() == [rh, -1]
    lp = np.zeros((2, 556), np.float32)
    lp[:, catalog.line_names.index("Rh-KL3")] = 0.9
    ep = np.full((2, 41), 0.9, np.float32)
    m = _score(lp, ep, loaded, catalog, np.full(556, 0.5, np.float32), np.full(41, 0.5, np.float32))
    assert m["paper_lines"]["tp"] == 1  # only spectrum 1's Rh-KL3: spectrum 0 names Rh as its anode
