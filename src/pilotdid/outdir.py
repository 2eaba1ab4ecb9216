"""Output folders that are never anything but ours: checked before any work, replaced atomically.

Every command with ``--out`` (run, replicate, index, data build) goes through :func:`check_out_folder` *before*
it reads or computes anything heavy, and writes through :func:`staged_folder`:

* ``--out`` may be absent, an empty folder, or an earlier output of the same command. An earlier output is
  recognised by its ``manifest.json`` (``"pilotdid_output": KIND``; study folders written before that key
  existed are recognised by their ``study_text`` and ``inputs_sha256`` keys) or, for commands whose outputs
  carry no manifest, by holding nothing but that command's own file names; and it may hold no other file.
* Anything else is refused with one line (exit 2): an empty path, a file, the current folder or one above it,
  a folder that is, contains or lies inside an input (study file, panel, raw-data folder), a folder holding
  files pilotdid did not write, and a place that cannot be written.
* The new output is written into a hidden sibling folder ``.NAME.result.tmp-PID-XXXX`` and swapped in with one
  ``renameat2(RENAME_EXCHANGE)`` on Linux (elsewhere two renames): a crash leaves the old output intact.
  Temporary folders left by killed runs (their PID no longer alive) are removed on the next write.
* Folders are created with ``os.mkdir`` and so get the mode the user's umask gives; nothing is chmod-ed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from pilotdid.errors import PilotdidInputError, stop_if_terminated

MANIFEST = "manifest.json"
#: The key of manifest.json naming the command kind that wrote the folder.
KIND_KEY = "pilotdid_output"
TMP_MARK = ".result.tmp-"


class OutputSpec:
    """What one command writes: its kind and the top-level names it may leave in its folder."""

    def __init__(self, kind: str, names: Iterable[str], *, core: Iterable[str] = (), needs_manifest: bool = True):
        self.kind = kind
        self.names = frozenset(names) | {MANIFEST}
        #: without a manifest, a folder is ours only when it holds all of these (and nothing foreign)
        self.core = frozenset(core)
        self.needs_manifest = needs_manifest


STUDY_OUTPUT = OutputSpec(
    "study", ["results.json", "report.html", "report.docx", "tables", "figures", "analysis_panel.csv", "replicate.do",
              "replicate.R"],
)


def out_argument(value: str | os.PathLike | None, option: str = "--out") -> Path:
    """The ``--out`` text as a Path; an empty value is refused (``Path("")`` would silently mean ``.``)."""
    text = os.fspath(value) if value is not None else ""
    if not str(text).strip():
        raise PilotdidInputError("the output folder is empty text", where=f'{option} ""',
                                 fix=f"give a new folder name, e.g. {option} output/run1")
    return Path(text).expanduser()


def check_out_folder(out: str | os.PathLike, spec: OutputSpec, *, inputs: Iterable[str | os.PathLike] = (),
                     option: str = "--out") -> Path:
    """Refuse an ``--out`` that is not ours to replace (see the module doc); returns its absolute path."""
    given = out_argument(out, option)
    where = f"{option} {os.fspath(out)}"
    path = Path(os.path.abspath(given))
    real = path.resolve()
    for item in inputs:
        if item is None or str(item).startswith("builtin:"):
            continue
        source = Path(item).resolve()
        if source == real or real in source.parents:
            raise PilotdidInputError(f"holds the input {item}: writing there would replace it", where=where,
                                     fix="write the output to a new folder outside the inputs' folders")
        if source in real.parents:
            raise PilotdidInputError(f"lies inside the input folder {item}", where=where,
                                     fix="write the output to a new folder outside the inputs' folders")
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        raise PilotdidInputError("is the current folder (or a folder above it): pilotdid would replace it", where=where,
                                 fix=f"give a new folder, e.g. {option} output/run1")
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise PilotdidInputError("exists and is not a folder pilotdid wrote", where=where,
                                 fix="give a new folder name (pilotdid never replaces a file)")
    if path.exists():
        foreign = _foreign_entry(path, spec)
        if foreign is not None:
            raise PilotdidInputError(f"holds {foreign}, which is not an earlier output of this command", where=where,
                                     fix="give a new or empty folder (pilotdid only replaces its own earlier output)")
    _check_writable(path, where)
    return path


def _read_manifest(folder: Path) -> dict | None:
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _foreign_entry(folder: Path, spec: OutputSpec) -> str | None:
    """The first entry that makes ``folder`` not ours (a quoted name), or None when replacing it loses nothing."""
    try:
        entries = sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        return f"unreadable entries ({exc.strerror})"
    if not entries:
        return None
    manifest = _read_manifest(folder) if MANIFEST in entries else None
    ours = manifest is not None and (
        manifest.get(KIND_KEY) == spec.kind
        or (spec.kind == "study" and KIND_KEY not in manifest and {"study_text", "inputs_sha256"} <= manifest.keys())
    )
    if not ours and not spec.needs_manifest and spec.core and spec.core <= set(entries) and MANIFEST not in entries:
        ours = True
    if not ours:
        return f"'{entries[0]}'" if MANIFEST not in entries else "a manifest.json of another kind"
    # an output lists the names it wrote (manifest "outputs"), so a file added by a later version is still ours
    listed = manifest.get("outputs") if manifest is not None else None
    allowed = spec.names | (set(listed) if isinstance(listed, list) and all(isinstance(n, str) for n in listed) else set())
    for name in entries:
        if name not in allowed:
            return f"'{name}'"
    return None


def _check_writable(path: Path, where: str) -> None:
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise PilotdidInputError(f"{existing} is a file, not a folder", where=where, fix="choose another output path")
    # os.access says yes to root on a read-only file system: try it
    try:
        probe = existing / f".pilotdid-probe-{os.getpid()}-{secrets.token_hex(4)}"
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as exc:
        raise PilotdidInputError(f"cannot write in {existing} ({exc.strerror or type(exc).__name__})", where=where,
                                 fix="choose a folder you can write to") from None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(out: Path) -> list[Path]:
    """Remove ``.NAME.result.tmp-PID-*`` folders beside ``out`` whose process is gone. Returns what was removed."""
    removed = []
    prefix = f".{out.name}{TMP_MARK}"
    with contextlib.suppress(OSError):
        for sibling in out.parent.iterdir():
            if not sibling.name.startswith(prefix) or not sibling.is_dir() or sibling.is_symlink():
                continue
            pid_text = sibling.name[len(prefix):].split("-", 1)[0]
            if pid_text.isdigit() and not _pid_alive(int(pid_text)):
                shutil.rmtree(sibling, ignore_errors=True)
                removed.append(sibling)
    return removed


@contextlib.contextmanager
def staged_folder(out: Path, spec: OutputSpec, *, inputs: Iterable[str | os.PathLike] = (),
                  option: str = "--out") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out``; on success it replaces ``out`` atomically.

    ``out`` is checked again just before the swap (a long run gives the user time to put a file there).
    On any failure the temporary folder is removed and ``out`` is left as it was.
    """
    inputs = list(inputs)
    out = check_out_folder(out, spec, inputs=inputs, option=option)
    _mkdirs(out.parent, option)
    clean_stale(out)
    tmp = out.with_name(f".{out.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.mkdir(tmp)  # mode from the umask, like any folder the user makes
    except OSError as exc:
        raise _disk_error(exc, out.parent) from None
    try:
        yield tmp
        stop_if_terminated()  # a SIGTERM whose exception was swallowed must not end in a swapped-in output
        check_out_folder(out, spec, inputs=inputs, option=option)
        _swap(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
            raise _disk_error(exc, out.parent) from None
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class DiskFullError(OSError):
    """Writing the output failed for lack of space (or permission): exit 1 with one line naming the disk."""


def _disk_error(exc: OSError, where: Path) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(exc.errno, f"the disk holding {where} is full ({exc.strerror}); nothing was written -- "
                                        "free some space or choose another --out")
    return PilotdidInputError(f"cannot write in {where} ({exc.strerror or type(exc).__name__})", where=str(where),
                              fix="choose a folder you can write to")


def _mkdirs(folder: Path, option: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(exc, folder) from None


def _swap(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.replace(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # now holds the old output
        return
    old = out.with_name(f".{out.name}{TMP_MARK}{os.getpid()}-old-{secrets.token_hex(4)}")
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one system call (Linux renameat2 RENAME_EXCHANGE); False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False  # the file system cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))
