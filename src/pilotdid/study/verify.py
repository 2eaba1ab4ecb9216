"""Re-run a finished output folder from its manifest and compare, file by file.

A referee's check: same inputs, same study file, same seed and overrides must give the same bytes
in results.json and every table. Figures are compared too but reported separately, since PDF/PNG
bytes may legitimately differ across matplotlib versions.

Before re-running it says, one line each, whether the inputs, pilotdid's code (the source fingerprint of
:mod:`pilotdid.provenance`) and the numerical dependencies match the run's, so a difference can be traced to
the data, the code or the stack even while the package version stays the same.

It lives next to the runner it re-runs; writing the fresh output folder is the report layer's job, so the
writer is handed in (:func:`pilotdid.report.verify.verify_output` binds the standard one).
"""

from __future__ import annotations

import json
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pilotdid.errors import PilotdidInputError
from pilotdid.provenance import NUMERICAL_PACKAGES, code_fingerprint, file_sha256, installed_version, numerical_versions


@dataclass
class VerifyReport:
    changed_inputs: list[str] = field(default_factory=list)
    missing_inputs: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    differing_figures: list[str] = field(default_factory=list)
    compared: int = 0
    #: every package of the manifest's "versions" whose installed version differs: (recorded, now)
    version_changes: dict[str, tuple] = field(default_factory=dict)
    inputs_checked: int = 0
    #: pilotdid's source fingerprint (pilotdid.provenance) when the run was made (None: not recorded) and now
    recorded_code: str | None = None
    current_code: str = ""
    #: the numerical stack (pilotdid.provenance.NUMERICAL_PACKAGES + BLAS) whose version differs: (recorded, now)
    numerical_changes: dict[str, tuple] = field(default_factory=dict)
    #: False for a manifest written before numerical_versions was recorded (then only "versions" is compared)
    numerical_recorded: bool = True
    pilotdid_version: tuple = (None, None)

    @property
    def identical(self) -> bool:
        return not self.differing and not self.changed_inputs and not self.missing_inputs

    @property
    def code_changed(self) -> bool:
        return self.recorded_code is not None and self.recorded_code != self.current_code

    def provenance_lines(self) -> list[str]:
        """One line each for the inputs, pilotdid's code and the numerical dependencies: match or not, and what a
        mismatch means for a difference in the outputs (plus one for other packages when any of them moved)."""
        lines = []
        if self.changed_inputs or self.missing_inputs:
            moved = len(self.changed_inputs) + len(self.missing_inputs)
            lines.append(f"inputs: CHANGED ({moved} of {self.inputs_checked} files, named below) -> a difference comes "
                         "from the data or the study file; not re-run, since other inputs prove nothing")
        else:
            lines.append(f"inputs: match ({self.inputs_checked} files, SHA-256 as recorded)")
        old_version, new_version = self.pilotdid_version
        version = f"pilotdid {old_version}" + (f" -> {new_version}" if new_version != old_version else "")
        if self.recorded_code is None:
            lines.append(f"code: not recorded ({version}; this manifest predates the source fingerprint) -> "
                         "a code change under the same version cannot be ruled out")
        elif self.code_changed:
            lines.append(f"code: CHANGED ({version}, source fingerprint {self.recorded_code[:12]} -> "
                         f"{self.current_code[:12]}) -> pilotdid's code differs from the run's; a difference can come from it")
        else:
            lines.append(f"code: match ({version}, source fingerprint {self.current_code[:12]})")
        source = "" if self.numerical_recorded else " (from the manifest's versions and python; BLAS not recorded)"
        if self.numerical_changes:
            moved = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in self.numerical_changes.items())
            lines.append(f"numerical dependencies: CHANGED{source} ({moved}) -> a difference, typically in the last "
                         "digits, can come from them rather than from the data or pilotdid")
        else:
            lines.append(f"numerical dependencies: match{source}")
        others = {k: v for k, v in self.version_changes.items() if k != "pilotdid" and k not in self.numerical_changes}
        if others:
            moved = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in others.items())
            lines.append(f"other packages: CHANGED ({moved}) -> they do not compute numbers; "
                         "figure and report bytes may differ")
        return lines

    def verdict(self) -> str:
        """The closing line: identical, or what the difference most likely comes from."""
        if self.changed_inputs or self.missing_inputs:
            return "not re-run: the inputs differ from the manifest's (see above)"
        if self.identical:
            return f"identical: {self.compared} files compared (results.json and tables byte for byte)"
        causes = (["pilotdid's code"] if self.code_changed else []) + (["numerical dependencies"] if self.numerical_changes else [])
        if causes:
            return f"differs: {len(self.differing)} file(s); inputs match, so the difference can come from {' or '.join(causes)}"
        if self.recorded_code is None:
            return f"differs: {len(self.differing)} file(s); inputs and dependencies match, the code was not recorded"
        return (f"differs: {len(self.differing)} file(s) although inputs, code and numerical dependencies match -> "
                "a reproducibility bug in pilotdid (please report it with this folder)")


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
            or not isinstance(manifest.get("overrides", {}), dict) or not isinstance(manifest.get("versions", {}), dict)
            or not isinstance(manifest.get("code_sha256", ""), str)
            or not isinstance(manifest.get("numerical_versions", {}), dict)):
        raise PilotdidInputError("manifest.json is not a pilotdid manifest (no study_text / inputs_sha256)",
                                 where=str(manifest_path), fix="give a folder written by pilotdid run/replicate, or re-run the study")
    study_text = manifest["study_text"]
    study_path = Path(manifest["study_file"]) if isinstance(manifest.get("study_file"), str) else None
    base = study_path.parent if study_path is not None else Path.cwd()

    report = VerifyReport(current_code=code_fingerprint())
    for name, digest in manifest.get("inputs_sha256", {}).items():
        path = Path(name) if Path(name).is_absolute() else base / name
        report.inputs_checked += 1
        if not path.is_file():
            report.missing_inputs.append(name)
        elif file_sha256(path) != digest:
            report.changed_inputs.append(name)
    recorded_versions = manifest.get("versions", {})
    for pkg, version in recorded_versions.items():
        now = installed_version(pkg)
        if now != version:
            report.version_changes[pkg] = (version, now)
    report.pilotdid_version = (recorded_versions.get("pilotdid"), installed_version("pilotdid"))
    report.recorded_code = manifest.get("code_sha256")
    if "numerical_versions" in manifest:
        current = numerical_versions()
        report.numerical_changes = {k: (v, current.get(k)) for k, v in manifest["numerical_versions"].items()
                                    if current.get(k) != v}
    else:  # an older manifest: the numerical packages its "versions" happens to hold
        report.numerical_recorded = False
        report.numerical_changes = {k: v for k, v in report.version_changes.items() if k in NUMERICAL_PACKAGES}
        if isinstance(manifest.get("python"), str) and manifest["python"] != platform.python_version():
            report.numerical_changes["python"] = (manifest["python"], platform.python_version())

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
