"""The card's optional trained_full_scale_kev: read from the training profile, validated, carried by build_card."""

import json

import pytest

from xrftrain.card import trained_full_scale, validate_card


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
