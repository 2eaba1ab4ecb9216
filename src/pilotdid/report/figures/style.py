"""One look for every figure: journal-like defaults, a CJK font when Chinese labels are wanted.

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
    font = cjk_font() if lang == "zh" else None
    if font:
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
        rc["axes.unicode_minus"] = False
    with plt.rc_context(rc):
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot(**subplot_kw)
    fig._pilotdid_rc = rc  # re-applied when saving
    return fig, ax


def save_figure(fig: Figure, stem: Path, formats: tuple[str, ...] = FIGURE_FORMATS, dpi: int = 200) -> list[Path]:
    """Save ``fig`` as stem.<format> for each format, with fixed metadata, so reruns give identical files.

    The layout and the tight bounding box are computed once (one draw) and then frozen, so each format
    costs one render; ``bbox_inches="tight"`` per format would draw every figure twice per format.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    stem.parent.mkdir(parents=True, exist_ok=True)
    rc = getattr(fig, "_pilotdid_rc", {"svg.hashsalt": "pilotdid"})
    paths = []
    metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None}, "svg": {"Date": None}}
    with plt.rc_context(rc):
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        fig.set_dpi(dpi)
        canvas.draw()  # the one layout pass
        bbox = fig.get_tightbbox(canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
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
