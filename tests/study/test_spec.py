import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.study.spec import parse_study



def test_minimal_study_parses(minimal_study):
    spec = parse_study(minimal_study)
    assert spec.name == "synthetic"
    assert spec.treatment_form == "column"
    assert spec.model["controls"] == ["x1"]
    assert spec.analyses == {}


def test_figure_formats_default_to_png_and_pdf_and_follow_the_study(minimal_study):
    assert parse_study(minimal_study).figures["formats"] == ("png", "pdf")
    spec = parse_study(minimal_study + '\n[figures]\nformats = ["svg", "png"]\n')
    assert spec.figures["formats"] == ("svg", "png")


def test_figure_style_and_journal_widths(minimal_study):
    spec = parse_study(minimal_study)
    assert (spec.figures["style"], spec.figures["width_cm"]) == ("color", None)
    assert parse_study(minimal_study + '\n[figures]\nwidth = "single"\nstyle = "grey"\n').figures["width_cm"] == 8.5
    assert parse_study(minimal_study + '\n[figures]\nwidth = "double"\n').figures["width_cm"] == 17.5
    assert parse_study(minimal_study + '\n[figures]\nwidth = 12\n').figures["width_cm"] == 12.0


def test_defaults_for_fixed_effects_and_cluster(minimal_study):
    text = minimal_study.replace('fixed_effects = ["unit", "year"]\ncluster = "unit"\n', "")
    spec = parse_study(text)
    assert spec.model["fixed_effects"] == ["unit", "year"]
    assert spec.model["cluster"] == "unit"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace('[study]\nname = "synthetic"', "[study]\nname = "), "TOML syntax error"),
        (lambda s: s.replace('outcome = "y"', 'outcom = "y"'), "unknown key 'outcom' in [model]"),
        (lambda s: s + "\n[modle]\nx = 1\n", "unknown section [modle]"),
        (lambda s: s.replace('column = "did"', 'column = "did"\nfirst_treat = "first_year"'), "exactly one of"),
        (lambda s: s.replace('column = "did"', ""), "exactly one of"),
        (lambda s: s.replace('controls = ["x1"]', 'controls = "x1"'), "controls must be of type list"),
        (lambda s: s + "\n[analyses.no_such_analysis]\n", "unknown analysis"),
        (lambda s: s.replace('time = "year"', 'time = "year"\nyears = [2015, 2012]'), "years must be"),
        (lambda s: s.replace('column = "did"', 'column = "did"\nbatches = [1]'), "only applies to registry"),
        (lambda s: s.replace('[data]', '[data]\nsheet = "S1"'), "sheet only applies"),
        (lambda s: s.replace('column = "did"', 'registry = "cbec"\nrule = "whenever"'), "unknown rule"),
        (lambda s: s.replace('[study]\nname = "synthetic"', '[study]\nname = "synthetic"\nlang = "fr"'), "lang must be"),
        (lambda s: s.replace('[model]\noutcome = "y"', '[model]'), "missing the key 'outcome'"),
        (lambda s: s + '\n[figures]\nformats = ["png", "jpg"]\n', "figure formats must be distinct values"),
        (lambda s: s + '\n[figures]\nformats = ["png", "png"]\n', "figure formats must be distinct values"),
        (lambda s: s + '\n[figures]\nformats = ["pdf"]\n', "must include png"),
        (lambda s: s + '\n[figures]\nstyle = "sepia"\n', "style must be one of color, grey"),
        (lambda s: s + '\n[figures]\nwidth = "triple"\n', "width must be"),
        (lambda s: s + '\n[figures]\nwidth = 90\n', "width must be"),
    ],
)
def test_bad_study_files_are_one_line_errors(edit, message, minimal_study):
    with pytest.raises(PilotdidInputError) as info:
        parse_study(edit(minimal_study))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
