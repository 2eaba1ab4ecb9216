"""One look for every figure: journal-like defaults, print fonts, a CJK font when Chinese labels are wanted.

Fonts: Times New Roman for Latin text and 宋体 (SimSun) for Chinese when installed, as Chinese journals ask; else
the closest installed faces, in this order — Latin: Liberation Serif (metric-compatible with Times New Roman;
Debian fonts-liberation2), TeX Gyre Termes, Nimbus Roman, DejaVu Serif; Chinese: Songti SC, Noto Serif CJK SC
(Debian fonts-noto-cjk, installed by CI), AR PL SungtiL GB, then any sans CJK face. matplotlib falls back glyph by
glyph along the list, so mixed Chinese/Latin labels draw each script in its own face.

For print, ``save_figure`` takes the study's ``[figures]`` options: ``width_cm`` (a journal column: 8.5 cm single,
17.5 cm double; the layout is recomputed at that width, fonts keep their point size) and ``style = "grey"``
(every colour becomes the grey of its lightness; figures tell series apart by marker and line style too).

Figure modules build and return matplotlib ``Figure`` objects (``new_figure``); only the runner
saves them (``save_figure``), so computing and drawing never write files by themselves.
"""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen on servers and CI; set before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

FIGURE_FORMATS = ("png", "pdf", "svg")
#: Colours by role, used by every figure so that treated/control and estimators match across plots.
PALETTE = {
    "treated": "#c0392b",
    "control": "#2c3e50",
    "twfe": "#2c3e50",
    "cs": "#c0392b",
    "sa": "#2980b9",
    "bjs": "#27ae60",
    "dcdh": "#8e44ad",
    "etwfe": "#d35400",
    "stacked": "#16a085",
    "paper": "#7f8c8d",
    "ours": "#c0392b",
}
BATCH_COLOURS = ["#8e0152", "#c51b7d", "#de77ae", "#7fbc41", "#4d9221", "#276419", "#1b4f72"]

_CJK_CANDIDATES = (
    "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC", "AR PL UMing CN",
)


_LATIN_PRINT_FONTS = ("Times New Roman", "Liberation Serif", "TeX Gyre Termes", "Nimbus Roman", "DejaVu Serif")
_CJK_PRINT_FONTS = ("SimSun", "Songti SC", "Noto Serif CJK SC", "AR PL SungtiL GB")


@functools.cache
def print_fonts() -> tuple[str, ...]:
    """Installed font families for figures: the first Latin serif and the first Chinese face found, then DejaVu."""
    cjk_font()  # makes sure system CJK fonts are registered
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed & set(_LATIN_PRINT_FONTS[:-1]):
        # matplotlib's font cache predates a serif installed later (e.g. by CI): look at the system files once
        for path in font_manager.findSystemFonts():
            if any(k in path.lower() for k in ("times", "liberationserif", "texgyretermes", "nimbusroman")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        installed = {f.name for f in font_manager.fontManager.ttflist}
    latin = next((f for f in _LATIN_PRINT_FONTS if f in installed), "DejaVu Serif")
    chinese = next((f for f in (*_CJK_PRINT_FONTS, *_CJK_CANDIDATES) if f in installed), None)
    return tuple(dict.fromkeys(f for f in (latin, chinese, "DejaVu Serif", "DejaVu Sans") if f))


@functools.cache
def cjk_font() -> str | None:
    """Name of an installed font that draws Chinese, or None.

    matplotlib caches its font list on first use; a CJK font installed after that (e.g. by CI) is not
    in the cache, so system font files are scanned once more before giving up.
    """
    for attempt in range(2):
        installed = {f.name for f in font_manager.fontManager.ttflist}
        for name in _CJK_CANDIDATES:
            if name in installed:
                return name
        if attempt == 0:
            for path in font_manager.findSystemFonts():
                lowered = path.lower()
                if "cjk" in lowered or "wqy" in lowered or "wenquanyi" in lowered:
                    try:
                        font_manager.fontManager.addfont(path)
                    except (OSError, RuntimeError, ValueError):
                        continue
    return None


def label_language(lang: str) -> str:
    """The language figures can actually be labelled in: 'zh' only when a CJK font exists."""
    return "zh" if lang == "zh" and cjk_font() else "en"


def new_figure(width: float = 6.4, height: float = 4.0, *, lang: str = "en", **subplot_kw) -> tuple[Figure, object]:
    """A figure with one axes and the house style (no pyplot state is kept)."""
    rc = {
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.frameon": False,
        "savefig.bbox": "tight",
        "svg.hashsalt": "pilotdid",  # deterministic SVG ids
    }
    fonts = list(print_fonts())
    # explicit family names: matplotlib falls back glyph by glyph only along named families (a generic family such
    # as "serif" resolves to one face); texts made outside this context get the list when saved (save_figure)
    rc.update({"font.family": fonts, "font.serif": fonts, "font.sans-serif": fonts})
    if lang == "zh" and cjk_font():
        rc["axes.unicode_minus"] = False
    with plt.rc_context(rc):
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot(**subplot_kw)
    fig._pilotdid_rc = rc  # re-applied when saving
    return fig, ax


def _grey(colour) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(colour)
    lightness = 0.2126 * r + 0.7152 * g + 0.0722 * b  # relative luminance (Rec. 709)
    return (lightness, lightness, lightness, a)


def to_greys(fig: Figure) -> None:
    """Turn every colour of ``fig`` into the grey of its lightness (black-and-white print)."""
    import numpy as np
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    def greys(colours):
        colours = np.asarray(colours)
        return [_grey(c) for c in colours] if colours.size else colours

    for artist in fig.findobj():
        if isinstance(artist, Line2D):
            artist.set_color(_grey(artist.get_color()))
            for getter, setter in (("get_markerfacecolor", "set_markerfacecolor"), ("get_markeredgecolor", "set_markeredgecolor")):
                value = getattr(artist, getter)()
                if not (isinstance(value, str) and value == "none"):
                    getattr(artist, setter)(_grey(value))
        elif isinstance(artist, Collection):
            artist.set_facecolor(greys(artist.get_facecolor()))
            artist.set_edgecolor(greys(artist.get_edgecolor()))
        elif isinstance(artist, Patch):
            artist.set_facecolor(_grey(artist.get_facecolor()))
            artist.set_edgecolor(_grey(artist.get_edgecolor()))
        elif isinstance(artist, Text):
            artist.set_color(_grey(artist.get_color()))


def fit_width(fig: Figure, width_cm: float) -> None:
    """Give ``fig`` a journal column width; the height shrinks less than the width so labels keep their room."""
    width, height = fig.get_size_inches()
    target = width_cm / 2.54
    ratio = target / width
    fig.set_size_inches(target, height * (ratio if ratio >= 1 else ratio ** 0.5))


def save_figure(
    fig: Figure, stem: Path, formats: tuple[str, ...] = FIGURE_FORMATS, dpi: int = 200, *, style: str = "color",
    width_cm: float | None = None,
) -> list[Path]:
    """Save ``fig`` as stem.<format> for each format, with fixed metadata, so reruns give identical files.

    The layout and the tight bounding box are computed once (one draw) and then frozen, so each format
    costs one render; ``bbox_inches="tight"`` per format would draw every figure twice per format.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    stem.parent.mkdir(parents=True, exist_ok=True)
    from matplotlib.text import Text

    for text in fig.findobj(Text):  # the print faces, with glyph fallback, for texts made outside new_figure's rc
        text.set_fontfamily(list(print_fonts()))
    if style == "grey":
        to_greys(fig)
    if width_cm is not None:
        fit_width(fig, width_cm)
    rc = getattr(fig, "_pilotdid_rc", {"svg.hashsalt": "pilotdid"})
    paths = []
    metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None}, "svg": {"Date": None}}
    with plt.rc_context(rc):
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        canvas.draw()  # the one layout pass
        bbox = fig.get_tightbbox(canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
        if width_cm is not None:  # a journal width is the page's: the whole figure, exactly that wide
            bbox = fig.bbox_inches
        engine = fig.get_layout_engine()
        fig.set_layout_engine("none")  # keep the axes where the layout pass put them
        try:
            for fmt in formats:
                path = stem.with_suffix(f".{fmt}")
                fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata.get(fmt), bbox_inches=bbox)
                paths.append(path)
        finally:
            fig.set_layout_engine(engine)
    return paths
