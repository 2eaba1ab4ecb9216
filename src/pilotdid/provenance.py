"""What produced a run, beyond its inputs: a fingerprint of pilotdid's own source and the numerical stack's versions.

The package version stays 0.1.0 across many code changes, so a manifest that records only the version cannot
tell a rerun months later whether a difference comes from pilotdid's code, a dependency or the data. Both
records here are pure functions of the installation (and, for the BLAS kernel, the CPU type) -- no time, no path,
no machine name -- so the same code on the same stack writes the same bytes into every manifest, in every process.

The fingerprint hashes the files themselves, not git: an installed wheel has no repository, and a working tree
with uncommitted edits would otherwise pass for its last commit.
"""

from __future__ import annotations

import hashlib
import importlib
import platform
import warnings
from importlib import metadata
from pathlib import Path

#: The package folder whose source is fingerprinted.
PACKAGE_ROOT = Path(__file__).resolve().parent
#: Source suffixes that make up "the code": modules and the shipped study/option files (data files are inputs,
#: hashed per run in the manifest's ``inputs_sha256``).
CODE_SUFFIXES = (".py", ".toml")

#: Distributions whose version can move a number in results.json: the array/linear-algebra stack, the
#: estimation libraries pilotdid calls, and what they call in turn (formulaic builds pyfixest's model matrices;
#: pyfixest demeans with numba when it is installed). Absent ones are recorded as null, so installing one later
#: shows up as a change.
NUMERICAL_PACKAGES = ("numpy", "scipy", "pandas", "pyfixest", "formulaic", "numba", "statsmodels", "scikit-learn")


def code_files(root: Path = PACKAGE_ROOT) -> list[Path]:
    """The fingerprinted files, sorted by their package-relative POSIX path (the same order on every OS)."""
    files = [p for p in root.rglob("*")
             if p.suffix in CODE_SUFFIXES and p.is_file() and "__pycache__" not in p.relative_to(root).parts]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def code_fingerprint(root: Path = PACKAGE_ROOT) -> str:
    """SHA-256 over every code file's relative path and bytes, in sorted order.

    The path and length go in with the bytes, so renaming or moving a file, or shifting bytes from one file to
    the next, changes the fingerprint too. CRLF is read as LF: a Windows checkout (git autocrlf) of the same commit
    is the same code.
    """
    digest = hashlib.sha256()
    for path in code_files(root):
        data = path.read_bytes().replace(b"\r\n", b"\n")
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def _blas(module: str) -> str | None:
    """The BLAS a compiled package was built against ("scipy-openblas 0.3.31"), from its build config (no paths)."""
    try:
        config = __import__(module).__config__.CONFIG
        blas = config["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']}"
    except (ImportError, AttributeError, KeyError, TypeError):
        return None


def _blas_kernel() -> str | None:
    """The CPU kernel OpenBLAS chose at run time ("Haswell", "SkylakeX" ...; the CPU type, or OPENBLAS_CORETYPE when
    set): another kernel may round the last digits differently, so a rerun on a new computer shows up here. None
    when no BLAS reports one (MKL)."""
    from threadpoolctl import threadpool_info

    for module in ("numpy", "scipy.linalg"):  # load both BLAS libraries, so the answer does not depend on import order
        importlib.import_module(module)

    with warnings.catch_warnings():  # threadpoolctl warns about mixed OpenMP runtimes: not this record's business
        warnings.simplefilter("ignore")
        libraries = threadpool_info()
    kernels = sorted({str(lib["architecture"]) for lib in libraries
                      if lib.get("user_api") == "blas" and lib.get("architecture")})
    return ", ".join(kernels) or None


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (the manifest's inputs, read back by ``pilotdid verify``)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def numerical_versions() -> dict[str, str | None]:
    """Versions of :data:`NUMERICAL_PACKAGES` (None when absent), the BLAS numpy and scipy were built with, the
    kernel it runs and the Python version: everything besides inputs and code that can move a number."""
    versions: dict[str, str | None] = {name: installed_version(name) for name in NUMERICAL_PACKAGES}
    versions["blas (numpy)"] = _blas("numpy")
    versions["blas (scipy)"] = _blas("scipy")
    versions["blas kernel"] = _blas_kernel()
    versions["python"] = platform.python_version()
    return versions
