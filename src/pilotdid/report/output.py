"""Write a finished :class:`~pilotdid.study.runner.StudyRun` to its output folder, atomically.

Everything is written into a hidden sibling temporary folder first; only when every file is there
is it swapped into place. A run that fails leaves no folder, or the previous folder untouched.
results.json carries no timestamps, so the same inputs and seed give byte-identical files;
times, versions and hashes live in manifest.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pilotdid.outdir import KIND_KEY, STUDY_OUTPUT, staged_folder
from pilotdid.parallel import SharedCounter, in_background
from pilotdid.provenance import code_fingerprint, file_sha256, installed_version, numerical_versions
from pilotdid.report.export import normalise_office_zip, write_table
from pilotdid.report.figures.style import save_figure
from pilotdid.results.schema import (
    AGGREGATE_KEYS,
    ESTIMATE_KEYS,
    EVENT_STUDY_KEYS,
    PLACEBO_KEYS,
    clean_json,
    normalise_row,
)

PACKAGES = (
    "pilotdid", "numpy", "pandas", "scipy", "pyfixest", "statsmodels", "scikit-learn", "matplotlib",
    "openpyxl", "python-docx", "typer", "shapely",
)


def results_document(run) -> dict[str, Any]:
    """The results.json content (schema in docs/interface.md)."""
    doc: dict[str, Any] = {
        "study": run.spec.name,
        "estimates": [],
        "event_study": [],
        "placebo": None,
        "aggregates": [],
    }
    for name, out in run.outputs.items():
        doc["estimates"].extend(normalise_row(r, ESTIMATE_KEYS) for r in out.estimates)
        for key, value in out.results.items():
            if key == "event_study":
                doc["event_study"].extend(normalise_row(r, EVENT_STUDY_KEYS) for r in value)
            elif key == "aggregates":
                doc["aggregates"].extend(normalise_row(r, AGGREGATE_KEYS) for r in value)
            elif key == "placebo":
                doc["placebo"] = normalise_row(value, PLACEBO_KEYS) if value is not None else None
            elif isinstance(value, list) and isinstance(doc.get(key), list):
                doc[key].extend(clean_json(value))
            else:
                doc[key] = clean_json(value)
    doc["verdict"] = clean_json(verdict_of(run, doc))
    doc["data"] = clean_json(run.data_summary)
    doc["notes"] = list(dict.fromkeys(run.context.notes))
    doc["analysis_notes"] = {name: out.notes for name, out in run.outputs.items() if out.notes}
    return doc


def verdict_of(run, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The computed verdict against the study's published.toml (None without one); see report/verdict.py."""
    from pilotdid.report.verdict import build_verdict

    maps: dict[str, dict[str, str]] = {}
    comparison = run.spec.analyses.get("paper_comparison") or {}
    for table, mapping in (comparison.get("column_maps") or {}).items():
        maps[str(table)] = {str(k): str(v) for k, v in mapping.items()}
    if "baseline" not in maps:
        maps["baseline"] = {str(k): str(v) for k, v in (run.spec.analyses.get("baseline", {}).get("published_columns") or {}).items()}
    return build_verdict(doc, run.context.extras.get("published"), treatment=run.context.treatment_name, column_maps=maps,
                         lang=run.context.lang, study_labels=run.context.extras.get("labels"))


def manifest_document(run, *, command: list[str] | None = None, outputs: list[str] | None = None) -> dict[str, Any]:
    versions = {pkg: installed_version(pkg) for pkg in PACKAGES}
    inputs = {}
    base = run.spec.path.parent if run.spec.path is not None else None
    for path in run_inputs(run):
        if path.is_file():
            inputs[input_name(path, base)] = file_sha256(path)
    return {
        KIND_KEY: STUDY_OUTPUT.kind,
        "study": run.spec.name,
        "study_file": str(run.spec.path) if run.spec.path else None,
        "inputs_relative_to": "the study file's folder",
        # the top-level names this run wrote: a later run may replace exactly these (see pilotdid.outdir)
        "outputs": outputs or [],
        "study_text": run.spec.text,
        "seed": run.context.seed,
        "overrides": {
            "draws": run.overrides.draws, "seed": run.overrides.seed, "lang": run.overrides.lang, "jobs": run.overrides.jobs,
            "scheduler": run.overrides.scheduler, "figure_formats": run.overrides.figure_formats,
        },
        "lang": run.context.lang,
        "inputs_sha256": inputs,
        "versions": versions,
        # what produced the numbers beyond the inputs (pilotdid.provenance): pure functions of the installation,
        # so the same code on the same stack writes the same bytes here; `pilotdid verify` compares both
        "code_sha256": code_fingerprint(),
        "numerical_versions": numerical_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "command": command or sys.argv,
        "started": datetime.fromtimestamp(run.started, UTC).isoformat(timespec="seconds"),
        "finished": datetime.fromtimestamp(run.finished, UTC).isoformat(timespec="seconds"),
        "seconds": round(run.finished - run.started, 3),
        "analysis_seconds": {k: round(v, 3) for k, v in run.timings.items()},
    }


def input_name(path: Path, base: Path | None) -> str:
    """An input's name in the manifest: relative to the study file's folder (so a moved project still verifies)."""
    if base is None:
        return str(path)
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(base).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(path)


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_output(run, out_dir: Path, *, command: list[str] | None = None, write_report: bool = True) -> Path:
    """Write results.json, manifest.json, tables/, figures/ and report.html into ``out_dir`` atomically.

    ``out_dir`` must be absent, empty or an earlier study output (see :mod:`pilotdid.outdir`); the files are
    written into a sibling temporary folder that replaces ``out_dir`` in one swap.
    """
    out_dir = Path(os.path.abspath(out_dir))
    from pilotdid.report.localise import localise_run

    localise_run(run)  # zh: tables and notes from the catalogue, before any file is written
    with staged_folder(out_dir, STUDY_OUTPUT, inputs=run_inputs(run)) as tmp:
        doc = results_document(run)
        (tmp / "results.json").write_text(dump_json(doc), encoding="utf-8")
        tables_dir, figures_dir = tmp / "tables", tmp / "figures"
        tables_dir.mkdir()
        figures_dir.mkdir()
        formats = run.overrides.figure_formats or run.spec.figures["formats"]

        figures = [(stem, fig) for out in run.outputs.values() for stem, fig in out.figures.items()]
        unsaved = SharedCounter(len(figures))
        saved_here: set[int] = set()

        def save(number: int) -> None:
            stem, fig = figures[number]
            save_figure(fig, figures_dir / stem, formats=formats, style=run.spec.figures.get("style", "color"),
                        width_cm=run.spec.figures.get("width_cm"))

        def save_unsaved_figures() -> None:
            while (number := unsaved.take()) is not None:
                save(number)
                saved_here.add(number)

        def save_figures_not_saved_here() -> None:  # the child failed: its figures again, here
            for number in range(len(figures)):
                if number not in saved_here:
                    save(number)

        # figures (matplotlib) in a forked child while the tables are written here, then both save the figures
        # left: the two are independent and each takes seconds in a full replication; each figure is saved once,
        # by either process, and the files are the same as when written one after the other
        with in_background(save_unsaved_figures, rerun=save_figures_not_saved_here):
            for out in run.outputs.values():
                for table in out.tables.values():
                    write_table(table, tables_dir)
            save_unsaved_figures()
        from pilotdid.report.crosscheck import write_crosscheck

        write_crosscheck(run, tmp)
        if write_report:
            from pilotdid.report.html import render_report

            from pilotdid.report.docx_report import render_docx

            (tmp / "report.html").write_text(render_report(run, figures_dir, verdict=doc["verdict"]), encoding="utf-8")
            render_docx(run, figures_dir, tmp / "report.docx", verdict=doc["verdict"])
            normalise_office_zip(tmp / "report.docx")
        written = sorted([p.name for p in tmp.iterdir()] + ["manifest.json"])
        (tmp / "manifest.json").write_text(dump_json(manifest_document(run, command=command, outputs=written)),
                                           encoding="utf-8")
    return out_dir


def run_inputs(run) -> list[Path]:
    """Every file a run read: panel, policy list, study file, published numbers."""
    paths = [Path(p) for p in run.input_files]
    for extra in (run.spec.path, run.spec.published_path):
        if extra is not None:
            paths.append(Path(extra))
    return paths
