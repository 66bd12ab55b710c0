"""The card's optional trained_full_scale_kev: read from the training profile, validated, carried by build_card."""

import json

import pytest

from xrftrain.card import trained_full_scale, trained_lower_threshold, validate_card


def test_trained_full_scale_shipped_profile_name_reads_its_mca_full_scale():
    fs = trained_full_scale("randomized")
    assert (fs["min"], fs["max"]) == (20.0, 60.0)


def test_trained_full_scale_profile_path_relative_to_root(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"mca": {"full_scale_kev": {"min": 12, "max": 40}}}))
    fs = trained_full_scale("p.json", root=tmp_path)
    assert (fs["min"], fs["max"]) == (12.0, 40.0)


def test_trained_full_scale_unknown_profile_or_field_is_none(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"mca": {}}))
    assert trained_full_scale("p.json", root=tmp_path) is None
    assert trained_full_scale("no-such-profile", root=tmp_path) is None


def _card(full_scale):
    return {"schema": "xrfedge-model-card/1", "name": "n", "version": "0", "catalog_hash": "h", "preprocessing": "p",
            "input": {"name": "spectrum", "bins": 300, "lower_kev": 0.0, "bin_width_kev": 0.1},
            "outputs": {"lines": "l", "elements": None}, "files": {},
            "thresholds": {"lines": [0.5] * 556, "elements": None}, "novelty": None, "training": {}, "metrics": {},
            "trained_full_scale_kev": full_scale}


def test_validate_card_full_scale_absent_or_ordered_passes():
    validate_card(_card(None))
    validate_card(_card({"min": 20.0, "max": 60.0}))


def test_validate_card_full_scale_inverted_refused():
    with pytest.raises(ValueError, match="trained_full_scale_kev"):
        validate_card(_card({"min": 60.0, "max": 20.0}))


def test_trained_lower_threshold_shipped_profile_spans_its_detectors():
    lt = trained_lower_threshold("randomized")
    assert (lt["min"], lt["max"]) == (0.2, 1.2)


def test_trained_lower_threshold_lowest_min_highest_max_over_detectors(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"detectors": [
        {"lower_threshold_kev": {"min": 0.5, "max": 0.9}}, {"lower_threshold_kev": {"min": 0.3, "max": 0.6}}]}))
    lt = trained_lower_threshold("p.json", root=tmp_path)
    assert (lt["min"], lt["max"]) == (0.3, 0.9)


def test_trained_lower_threshold_unknown_profile_or_field_is_none(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"detectors": [{}]}))
    assert trained_lower_threshold("p.json", root=tmp_path) is None
    assert trained_lower_threshold("no-such-profile", root=tmp_path) is None


def test_validate_card_lower_threshold_checked():
    card = _card(None)
    validate_card(card | {"trained_lower_threshold_kev": {"min": 0.2, "max": 1.2}})
    for bad in ({"min": 1.2, "max": 0.2}, {"min": -0.1, "max": 1.0}, {"min": 0.2, "max": 10.0}, {"max": 1.0}):
        with pytest.raises(ValueError, match="trained_lower_threshold_kev"):
            validate_card(card | {"trained_lower_threshold_kev": bad})


def test_scale_to_count_range_scales_only_spectra_above_the_top():
    # The scripts' reading of a spectrum above the card's count range, as Decoder:AboveTrainedCounts = ScaleDown does.
    import numpy as np

    from xrftrain.card import scale_to_count_range

    x = np.array([[10.0, 30.0], [300.0, 100.0], [0.0, 0.0]])
    got = scale_to_count_range(x, 100.0)
    assert got.tolist() == [[10.0, 30.0], [75.0, 25.0], [0.0, 0.0]]
    assert scale_to_count_range(np.array([300.0, 100.0]), 100.0).tolist() == [75.0, 25.0]  # one spectrum
    assert scale_to_count_range(x, None) is x  # a card without a count range
