from pilotdid.errors import PilotdidInputError


def test_version_exits_zero(run_cli):
    code, out, _ = run_cli("version")
    assert code == 0
    assert out.startswith("pilotdid ")


def test_unknown_command_is_usage_error(run_cli):
    code, _, err = run_cli("no-such-command")
    assert code == 2
    assert "Traceback" not in err


def test_input_error_is_one_line():
    err = PilotdidInputError("column 'x' not found", where="panel.csv", fix="add the column\nor rename it")
    assert "\n" not in str(err)
    assert str(err).startswith("panel.csv: column 'x' not found")
    assert "fix: add the column or rename it" in str(err)
