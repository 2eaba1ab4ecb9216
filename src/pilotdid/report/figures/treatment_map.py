"""The treatment map: treated prefectures coloured by batch on the 2020 census polygons.

Polygons come from the census file's ``coord`` column (WKT; leiii/census, MIT) through
:func:`pilotdid.data.load_census`, parsed with shapely and drawn as matplotlib path patches (holes kept).
Treatment comes from :func:`pilotdid.registry.assign_treatment` on a one-row-per-city pseudo panel, so the
map uses exactly the rules an estimate would (batches, county rule, verification). The South China Sea
islands (三沙) are shown in an inset, as Chinese maps conventionally do. The function returns the Figure;
it never saves (``pilotdid registry map`` and the study runner do).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from pilotdid.errors import PilotdidInputError
from pilotdid.report.figures.style import BATCH_COLOURS, label_language, new_figure

NEVER_COLOUR = "#d9d9d9"
OTHER_COLOUR = "#f2f2f2"  # polygons that are not prefecture-level units of the city table (HK, Macau, county-level)
EDGE_COLOUR = "white"
MAIN_EXTENT = (73.0, 135.5, 17.5, 54.0)  # lon_min, lon_max, lat_min, lat_max
INSET_EXTENT = (106.0, 123.0, 3.0, 24.5)
SIMPLIFY_DEGREES = 0.02


def _census_polygons() -> pd.DataFrame:
    """city_id (None for units outside the city table) and the WKT polygon of every census unit."""
    from pilotdid.data import load_census

    census = load_census()
    if "coord" not in census.columns:
        raise PilotdidInputError(
            "the census table has no 'coord' polygon column", where="pilotdid.data.load_census()",
            fix="rebuild the shipped data (`pilotdid data build`)",
        )
    return census


def _geometry_path(geom) -> MplPath | None:
    """A matplotlib Path (with holes) for a shapely Polygon / MultiPolygon."""
    polygons = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    vertices, codes = [], []
    for poly in polygons:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            if len(xy) < 3:
                continue
            ring_codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
    if not vertices:
        return None
    return MplPath(np.concatenate(vertices), np.concatenate(codes))


def _title_for(title: str, lang: str) -> str:
    """The policy title without its Chinese parts when the figure is labelled in English (no CJK glyphs then)."""
    if lang == "zh":
        return title
    text = re.sub(r"\s*[(（][^()（）]*[\u3000-\u9fff][^()（）]*[)）]", "", title)
    text = re.sub(r"[“”]?[\u3000-\u9fff]+[“”]?", "", text)
    return " ".join(text.split()).strip(" ,:")


def _labels(lang: str) -> dict[str, str]:
    if lang == "zh":
        return {
            "batch": "第{b}批（{y}年）：{n}个",
            "year": "{y}年：{n}个",
            "never": "未纳入所选批次：{n}个",
            "other": "非地级单位 / 无数据",
            "parent": "斜线：以县级试点区计入其所属地级市",
            "inset": "南海诸岛",
        }
    return {
        "batch": "Batch {b} ({y}): {n}",
        "year": "{y}: {n}",
        "never": "Not treated in these batches: {n}",
        "other": "Not a prefecture-level unit / no data",
        "parent": "Hatched: treated through a county-level zone (county rule 'parent')",
        "inset": "South China Sea islands",
    }


def treatment_map(
    policy="cbec",
    batches=None,
    lang: str = "en",
    *,
    county_rule: str = "parent",
    rule: str = "approval_year",
    allow_unverified: bool = False,
    width: float = 7.2,
    height: float = 6.0,
):
    """Map of a policy's treated prefectures, coloured by the batch that first treats them.

    Never-treated prefectures are grey; the legend gives each batch's year and number of prefectures;
    prefectures treated only through a county-level zone are hatched. ``fig._pilotdid_notes`` carries the
    assignment notes (rule, county rule, the policy's caveats) for whoever saves the figure.
    """
    import shapely
    from shapely import wkt

    from pilotdid.data.cities import load_city_table
    from pilotdid.registry import assign_treatment, load_policy

    if county_rule == "drop":
        raise PilotdidInputError(
            "county_rule = drop has no meaning on a map", where="county_rule", fix="use parent or ignore"
        )
    lang = label_language(lang)
    pol = load_policy(policy) if not hasattr(policy, "entries") else policy
    entries = pol.select(batches)
    last_year = int(entries["approval_year"].max()) + 2  # late enough for every rule's shift
    cities = load_city_table()
    panel = pd.DataFrame({"city_id": cities["city_id"], "year": last_year})
    assignment = assign_treatment(
        panel, "city_id", "year", pol, batches=batches, rule=rule, county_rule=county_rule,
        allow_unverified=allow_unverified, allow_unmatched=True,
    )
    first_batch = assignment.first_batch
    via_parent = set(assignment.parent_only_units)

    census = _census_polygons()
    batches_used = assignment.batches
    colour_of = {b: BATCH_COLOURS[i % len(BATCH_COLOURS)] for i, b in enumerate(batches_used)}
    if len(batches_used) > len(BATCH_COLOURS):
        # more cohorts than house colours (e.g. hsr by year): spread a sequential map instead
        from matplotlib import colormaps

        cmap = colormaps["viridis"]
        colour_of = {b: cmap(i / max(len(batches_used) - 1, 1)) for i, b in enumerate(batches_used)}

    patches, faces, hatches = [], [], []
    for row in census.itertuples():
        if not isinstance(row.coord, str) or not row.coord:
            continue
        geom = shapely.simplify(wkt.loads(row.coord), SIMPLIFY_DEGREES, preserve_topology=True)
        path = _geometry_path(geom)
        if path is None:
            continue
        cid = row.city_id if isinstance(row.city_id, str) else None
        if cid is None:
            face = OTHER_COLOUR
        elif cid in first_batch.index:
            face = colour_of[int(first_batch[cid])]
        else:
            face = NEVER_COLOUR
        patches.append(path)
        faces.append(face)
        hatches.append(cid in via_parent)

    fig, ax = new_figure(width, height, lang=lang)
    inset = ax.inset_axes([0.80, 0.0, 0.20, 0.30])
    for axis, extent in ((ax, MAIN_EXTENT), (inset, INSET_EXTENT)):
        # in the inset, small islands would vanish under white edges: outline them in grey instead
        collection = PatchCollection(
            [PathPatch(p) for p in patches], facecolors=faces,
            edgecolors=EDGE_COLOUR if axis is ax else "#8c8c8c", linewidths=0.2 if axis is ax else 0.35,
        )
        axis.add_collection(collection)
        hatched = [PathPatch(p) for p, h in zip(patches, hatches) if h]
        if hatched:
            axis.add_collection(
                PatchCollection(hatched, facecolor="none", edgecolor="#4d4d4d", linewidths=0.0, hatch="////")
            )
        axis.set_xlim(extent[0], extent[1])
        axis.set_ylim(extent[2], extent[3])
        axis.set_aspect(1 / np.cos(np.radians((extent[2] + extent[3]) / 2)))
        axis.set_xticks([])
        axis.set_yticks([])
        for spine in axis.spines.values():
            spine.set_visible(axis is inset)
            spine.set_linewidth(0.6)
            spine.set_color("#666666")
    labels = _labels(lang)
    inset.set_title(labels["inset"], fontsize=6, pad=2)

    from matplotlib.patches import Patch

    handles = []
    counts = first_batch.value_counts()
    batch_years = assignment.treated_by_batch.set_index("batch")["treat_year"]
    for b in batches_used:
        n = int(counts.get(b, 0))
        if pol.batch_label == "year":
            text = labels["year"].format(y=b, n=n)
        else:
            text = labels["batch"].format(b=b, y=batch_years.get(b, "?"), n=n)
        handles.append(Patch(facecolor=colour_of[b], edgecolor="none", label=text))
    n_never = int(sum(1 for c in census["city_id"] if isinstance(c, str) and c not in first_batch.index))
    handles.append(Patch(facecolor=NEVER_COLOUR, edgecolor="none", label=labels["never"].format(n=n_never)))
    if OTHER_COLOUR in faces:
        handles.append(Patch(facecolor=OTHER_COLOUR, edgecolor="#bbbbbb", linewidth=0.4, label=labels["other"]))
    if via_parent:
        handles.append(Patch(facecolor="white", edgecolor="#4d4d4d", hatch="////", linewidth=0.4, label=labels["parent"]))
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, handlelength=1.4, borderaxespad=0.2)

    incomplete = pol.batch_table()
    incomplete = incomplete.loc[incomplete["complete"].eq(False) & incomplete["batch"].isin(batches_used)]
    caveat_lines = [
        f"Note: {pol.batch_label} {r.batch} is incomplete - {r.n_entries} of {r.n_official} official entries confirmed; "
        "the rest are drawn as untreated."
        for r in incomplete.itertuples()
    ]
    if caveat_lines:
        ax.annotate("\n".join(caveat_lines), xy=(0.0, -0.01), xycoords="axes fraction", va="top", ha="left", fontsize=7,
                    color="#7f0000")
    batch_text = f"{batches_used[0]}–{batches_used[-1]}" if len(batches_used) > 1 else str(batches_used[0])
    ax.set_title(f"{_title_for(pol.title, lang)}: {'batches' if pol.batch_label == 'batch' else 'years'} {batch_text}", fontsize=9)
    n_treated = len(first_batch)
    fig._pilotdid_notes = [
        f"{n_treated} prefecture units treated; polygons: 2020 census boundaries (leiii/census, MIT), simplified to "
        f"{SIMPLIFY_DEGREES} degrees; units without census polygons (e.g. Taiwan) are not drawn."
    ] + list(assignment.notes)
    return fig
