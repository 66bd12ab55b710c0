import numpy as np

from xrftrain.metrics import binary_scores, evaluate
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
