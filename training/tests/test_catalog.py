import hashlib

from xrftrain.catalog import default_catalog_path


def test_catalog_shape_matches_model_contract(catalog):
    # 556 line outputs and 41 elements: the contract in the common brief.
    assert len(catalog.line_names) == 556
    assert len(catalog.elements) == 41
    assert catalog.elements[0] == "O" and catalog.elements[-1] == "Bi"  # ordered by Z (8 … 83)


def test_catalog_hash_is_sha256_of_csv_like_linecatalog(catalog):
    assert catalog.sha256 == hashlib.sha256(default_catalog_path().read_bytes()).hexdigest()


def test_catalog_fe_kl3_energy_matches_xraylib_anchor(catalog):
    # Published anchor: Fe KL3 = 6.4039 keV (reference note paper-and-generator.md).
    i = catalog.line_names.index("Fe-KL3")
    assert abs(catalog.line_energy_kev[i] - 6.4039) < 1e-3
    assert catalog.elements[catalog.line_element[i]] == "Fe"
