"""Re-run a finished output folder from its manifest and compare, file by file.

A referee's check: same inputs, same study file, same seed and overrides must give the same bytes
in results.json and every table. Figures are compared too but reported separately, since PDF/PNG
bytes may legitimately differ across matplotlib versions.

It lives next to the runner it re-runs; writing the fresh output folder is the report layer's job, so the
writer is handed in (:func:`pilotdid.report.verify.verify_output` binds the standard one).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pilotdid.errors import PilotdidInputError


@dataclass
class VerifyReport:
    changed_inputs: list[str] = field(default_factory=list)
    missing_inputs: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    differing_figures: list[str] = field(default_factory=list)
    compared: int = 0
    version_changes: dict[str, tuple] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not self.differing and not self.changed_inputs and not self.missing_inputs


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify_output(folder: Path, *, write_output: Callable[..., Path]) -> VerifyReport:
    """Re-run ``folder`` from its manifest; ``write_output(run, out_dir, write_report=False)`` writes the fresh copy."""
    from pilotdid.study.runner import Overrides, run_study
    from pilotdid.study.spec import parse_study

    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise PilotdidInputError("no manifest.json in the folder", where=str(folder), fix="give a folder written by pilotdid run/replicate")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PilotdidInputError(f"manifest.json is not valid JSON ({exc})", where=str(manifest_path), fix="re-run the study") from None
    if (not isinstance(manifest, dict) or not isinstance(manifest.get("study_text"), str)
            or not isinstance(manifest.get("inputs_sha256", {}), dict)
            or not isinstance(manifest.get("overrides", {}), dict) or not isinstance(manifest.get("versions", {}), dict)):
        raise PilotdidInputError("manifest.json is not a pilotdid manifest (no study_text / inputs_sha256)",
                                 where=str(manifest_path), fix="give a folder written by pilotdid run/replicate, or re-run the study")
    study_text = manifest["study_text"]
    study_path = Path(manifest["study_file"]) if isinstance(manifest.get("study_file"), str) else None
    base = study_path.parent if study_path is not None else Path.cwd()

    report = VerifyReport()
    for name, digest in manifest.get("inputs_sha256", {}).items():
        path = Path(name) if Path(name).is_absolute() else base / name
        if not path.is_file():
            report.missing_inputs.append(name)
        elif _sha256(path) != digest:
            report.changed_inputs.append(name)
    from importlib import metadata

    for pkg, version in manifest.get("versions", {}).items():
        try:
            now = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            now = None
        if now != version:
            report.version_changes[pkg] = (version, now)

    if report.changed_inputs or report.missing_inputs:
        return report  # a re-run on other inputs proves nothing; name the inputs instead
    spec = parse_study(study_text, path=study_path)
    ov = manifest.get("overrides", {})
    run = run_study(spec, Overrides(draws=ov.get("draws"), seed=ov.get("seed"), lang=ov.get("lang"), jobs=ov.get("jobs") or 1,
                                  figure_formats=tuple(ov["figure_formats"]) if ov.get("figure_formats") else None))
    with tempfile.TemporaryDirectory() as tmp:
        fresh = write_output(run, Path(tmp) / "rerun", write_report=False)
        for new in sorted(fresh.rglob("*")):
            if not new.is_file() or new.name == "manifest.json":
                continue
            rel = new.relative_to(fresh)
            old = folder / rel
            report.compared += 1
            same = old.exists() and old.read_bytes() == new.read_bytes()
            if not same:
                (report.differing_figures if rel.parts[0] == "figures" else report.differing).append(str(rel))
    return report
