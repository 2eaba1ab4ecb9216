"""The command-line face of pilotdid (typer + rich).

Each command group lives in its own module here; this module assembles them and owns the exit-code
contract: 0 success, 2 bad input or usage (one line on stderr, no traceback), 1 internal error.
"""

from __future__ import annotations

import os
import sys

import typer

from pilotdid.errors import TERMINATE, PilotdidInputError, Terminated

app = typer.Typer(
    name="pilotdid",
    help="Staggered difference-in-differences for city-level pilot policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Staggered difference-in-differences for city-level pilot policies.

    Start with `pilotdid replicate` (the CBEC study on the shipped real data) or
    `pilotdid run STUDY.toml` (your own panel and policy).
    """


@app.command()
def version() -> None:
    """Print the pilotdid version."""
    from pilotdid import __version__

    typer.echo(f"pilotdid {__version__}")


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from pilotdid.cli import data_cmd, index_cmd, options_cmd, registry_cmd, study_cmd  # noqa: F401


def _click_exceptions():
    """The exceptions module of the click that typer runs on (recent typer vendors its own)."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point (its wrapper calls ``sys.exit(main())``); returns the exit code."""
    cx = _click_exceptions()
    _register()
    TERMINATE.clear()
    previous = _catch_sigterm()
    previous_show = _warnings_to_stdout()
    try:
        # with standalone_mode=False, click returns the code of a typer.Exit instead of raising it
        returned = app(args=argv, standalone_mode=False, prog_name="pilotdid")
    except PilotdidInputError as exc:
        print(f"pilotdid: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        from pilotdid.outdir import DiskFullError

        if not isinstance(exc, DiskFullError):
            return _internal_error(exc)
        print(f"pilotdid: error: {exc.strerror}", file=sys.stderr)
        return 1
    except Terminated:
        print("pilotdid: terminated (SIGTERM); no unfinished output was left behind", file=sys.stderr)
        return 143
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("pilotdid: aborted", file=sys.stderr)
        return 1
    except cx.ClickException as exc:  # usage errors: exit 2, one line (click's own usage block is 4 lines)
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "pilotdid"
        message = " ".join(exc.format_message().split())
        print(f"pilotdid: error: {message} -- fix: see '{command} --help'", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        return _internal_error(exc)
    finally:
        _restore_sigterm(previous)
        import warnings

        warnings.showwarning = previous_show
    if TERMINATE.is_set():  # the signal's exception was swallowed somewhere, but the output was not swapped in
        print("pilotdid: terminated (SIGTERM); no unfinished output was left behind", file=sys.stderr)
        return 143
    return returned if isinstance(returned, int) else 0


def _warnings_to_stdout():
    """Library warnings go to stdout, one line each and each once: stderr holds only the line of a refusal."""
    import warnings

    previous = warnings.showwarning
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = f"pilotdid: warning: {category.__name__}: {' '.join(str(message).split())}"
        if text not in seen:
            seen.add(text)
            print(text, file=sys.stdout)

    warnings.showwarning = show
    return previous


def _raise_terminated(signum, frame):
    TERMINATE.set()
    raise Terminated()


def _catch_sigterm():
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def _restore_sigterm(previous) -> None:
    import signal

    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("PILOTDID_DEBUG"):
        raise exc
    text = " ".join(str(exc).split())  # one line, always
    print(f"pilotdid: internal error: {type(exc).__name__}: {text} "
          "(set PILOTDID_DEBUG=1 for a traceback, and please report it)", file=sys.stderr)
    return 1
