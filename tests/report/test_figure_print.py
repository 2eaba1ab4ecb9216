"""Figures for print: journal column widths, black-and-white style, print fonts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba
from PIL import Image

from pilotdid.report.figures.event_study import event_study_figure
from pilotdid.report.figures.style import print_fonts, save_figure


def _coefs() -> pd.DataFrame:
    rel = np.arange(-3, 4)
    coef = 0.01 * rel
    return pd.DataFrame({"rel_time": rel, "coef": coef, "ci_low": coef - 0.01, "ci_high": coef + 0.01,
                         "is_base": rel == -1, "binned": False})


def test_single_column_width_is_8_5_cm(tmp_path):
    fig = event_study_figure(_coefs())
    save_figure(fig, tmp_path / "es", formats=("png",), dpi=200, width_cm=8.5)
    with Image.open(tmp_path / "es.png") as image:
        width_px = image.size[0]
    assert abs(width_px - 8.5 / 2.54 * 200) <= 1, "exactly one journal column at 200 dpi"


def test_grey_style_leaves_no_colour(tmp_path):
    fig = event_study_figure(_coefs())
    save_figure(fig, tmp_path / "es", formats=("png",), style="grey")
    with Image.open(tmp_path / "es.png") as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    spread = pixels.max(axis=2) - pixels.min(axis=2)
    assert spread.max() <= 2, "every pixel is a grey (r = g = b up to antialiasing rounding)"
    colour = event_study_figure(_coefs())
    save_figure(colour, tmp_path / "es_colour", formats=("png",))
    with Image.open(tmp_path / "es_colour.png") as image:
        rgb = np.asarray(image.convert("RGB")).astype(int)
    assert (rgb.max(axis=2) - rgb.min(axis=2)).max() > 30, "the colour style does have colour"


def test_print_fonts_put_a_serif_first_and_a_chinese_face_second():
    fonts = print_fonts()
    assert fonts[0] in ("Times New Roman", "Liberation Serif", "TeX Gyre Termes", "Nimbus Roman", "DejaVu Serif")
    assert to_rgba("white")  # matplotlib importable with the fonts registered
