"""`pilotdid registry ...`: the policy lists, their verification status, and the treatment map.

* ``pilotdid registry list`` - every shipped policy (and low-carbon variant) with its batches and statuses.
* ``pilotdid registry show NAME [--batches 1-5] [--format table|csv|md] [--sources]`` - the entries, each with
  its verification status; the policy's caveats follow the table (on stderr for csv, so stdout stays a clean CSV).
* ``pilotdid registry map NAME [--batches 1-5] --out STEM [--lang en|zh]`` - the treatment map as STEM.png and STEM.pdf.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pilotdid.cli import app
from pilotdid.errors import PilotdidInputError

if TYPE_CHECKING:  # pandas is imported where it is used, so `pilotdid --help` starts fast
    import pandas as pd

registry_app = typer.Typer(
    name="registry", help="Policy lists (pilot batches, approval dates, verification status) and the treatment map.",
    no_args_is_help=True,
)
app.add_typer(registry_app, name="registry")

FORMATS = ("table", "csv", "md")
SHOW_COLUMNS = [
    "batch", "approval_year", "approval_date", "entity_name", "province", "unit_kind", "prefectures", "city_id",
    "city_name", "verification_status", "n_public_sources",
]


def _check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise PilotdidInputError(f"unknown format {fmt!r}", where="--format", fix=f"choose one of {list(FORMATS)}")
    return fmt


def _console():
    from rich.console import Console

    # built per call so that the current sys.stdout (tests capture it) is used; wide enough for Chinese names
    return Console(file=sys.stdout, width=220, highlight=False, soft_wrap=False)


def _rich_table(df: pd.DataFrame, title: str):
    import pandas as pd

    from rich.table import Table as RichTable

    table = RichTable(title=title, show_lines=False, header_style="bold")
    for col in df.columns:
        table.add_column(str(col), overflow="fold")
    for row in df.itertuples(index=False):
        table.add_row(*["" if (v is None or (isinstance(v, float) and v != v) or v is pd.NA) else str(v) for v in row])
    return table


def _with_city_ids(entries: pd.DataFrame) -> pd.DataFrame:
    """Add the resolved city id(s) and canonical name(s) of each entry's prefecture(s) ("" when unresolved)."""
    from pilotdid.data.cities import get_resolver, load_city_table

    resolver = get_resolver()
    names = load_city_table().set_index("city_id")["city_name"].to_dict()
    ids, canon = [], []
    for text in entries["prefectures"].fillna(""):
        row_ids, row_names = [], []
        for name in [n for n in str(text).split(";") if n]:
            match = resolver.resolve(name)
            row_ids.append(match.city_id if match else "UNMATCHED")
            row_names.append(names.get(match.city_id, "") if match else "")
        ids.append(";".join(row_ids))
        canon.append(";".join(row_names))
    return entries.assign(city_id=ids, city_name=canon)


@registry_app.command("list")
def list_command(fmt: str = typer.Option("table", "--format", help="table | csv | md")) -> None:
    """List the shipped policies: batches, entries, verification statuses, caveats."""
    from pilotdid.registry import list_policies

    fmt = _check_format(fmt)
    df = list_policies()
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
        return
    if fmt == "md":
        sys.stdout.write(df.to_markdown(index=False) + "\n")
        return
    shown = df[["name", "title", "batches", "n_entries", "n_verified_2plus", "n_verified_1+structural", "n_verified_1",
                "n_unverified", "n_caveats"]].rename(columns=lambda c: c.replace("n_verified_", "v_").replace("n_", ""))
    console = _console()
    console.print(_rich_table(shown, "pilotdid policy registry (statuses: see `pilotdid registry show NAME`)"))
    console.print("Statuses: v_2plus = two or more independent public sources; v_1+structural = one source plus a count "
                  "or coverage statement; v_1 = one source; unverified = none (refused as treatment by default).")


@registry_app.command("show")
def show_command(
    name: str = typer.Argument(..., help="Policy name (cbec, broadband, lowcarbon[:variant], hsr) or a .csv list."),
    batches: str | None = typer.Option(None, "--batches", help="Batches to show: 1-5, 1,3,5 (default: all)."),
    fmt: str = typer.Option("table", "--format", help="table | csv | md"),
    sources: bool = typer.Option(False, "--sources", help="Add the sources column (always in csv)."),
) -> None:
    """Show a policy's entries, each with its verification status, and the caveats that go with the list."""
    from pilotdid.registry import load_policy

    fmt = _check_format(fmt)
    policy = load_policy(name)
    entries = _with_city_ids(policy.select(batches))
    chosen = sorted(entries["batch"].unique())
    columns = SHOW_COLUMNS + (["sources", "note"] if (sources or fmt == "csv") else [])
    body = entries[columns]
    fam = entries["status_family"].value_counts()
    summary = (
        f"{len(entries)} entries of {policy.name}, {policy.batch_label}{'es' if policy.batch_label == 'batch' else 's'} {', '.join(str(b) for b in chosen)}; "
        + ", ".join(f"{s} {int(fam.get(s, 0))}" for s in ("verified_2plus", "verified_1+structural", "verified_1", "unverified"))
    )
    unmatched = int(entries["city_id"].str.contains("UNMATCHED").sum())
    lines = [summary] + ([f"{unmatched} entries resolve to no city id (UNMATCHED)."] if unmatched else []) + policy.caveats
    if fmt == "csv":
        sys.stdout.write(body.to_csv(index=False))
        for line in lines:
            print(f"# {line}", file=sys.stderr)
        return
    if fmt == "md":
        sys.stdout.write(f"### {policy.title}\n\n" + body.to_markdown(index=False) + "\n\n")
        sys.stdout.write("".join(f"- {line}\n" for line in lines))
        return
    console = _console()
    console.print(_rich_table(body, policy.title))
    for line in lines:
        console.print(f"* {line}")


@registry_app.command("map")
def map_command(
    name: str = typer.Argument(..., help="Policy name (cbec, broadband, lowcarbon[:variant], hsr)."),
    out: str = typer.Option(..., "--out", help="Output stem: writes STEM.png and STEM.pdf (replaces only earlier maps)."),
    batches: str | None = typer.Option(None, "--batches", help="Batches to map: 1-5 (default: all)."),
    lang: str = typer.Option("en", "--lang", help="en | zh (zh needs a CJK font)."),
    county_rule: str = typer.Option("parent", "--county-rule", help="parent | ignore: how sub-prefecture zones are drawn."),
    allow_unverified: bool = typer.Option(False, "--allow-unverified", help="Also map unverified entries."),
) -> None:
    """Draw the treatment map (treated cities coloured by batch on census polygons) to STEM.png / STEM.pdf."""
    from pilotdid.outdir import out_argument
    from pilotdid.registry.maps import map_assignment
    from pilotdid.report.figures.style import save_figure
    from pilotdid.report.figures.treatment_map import treatment_map

    out = out_argument(out)
    stem = out.with_suffix("") if out.suffix in (".png", ".pdf") else out
    targets = [stem.with_name(f"{stem.name}.{fmt}") for fmt in ("png", "pdf")]
    for target in targets:  # before drawing: never over a file of the user's
        if (target.exists() or target.is_symlink()) and not _is_earlier_map(target):
            raise PilotdidInputError("exists and is not a map written by pilotdid registry map", where=f"--out {target}",
                                     fix="choose another output stem (pilotdid only replaces its own earlier maps)")
    if not stem.parent.is_dir():
        raise PilotdidInputError("the folder of --out does not exist", where=f"--out {out}", fix="create it first")
    fig = treatment_map(map_assignment(name, batches, county_rule=county_rule, allow_unverified=allow_unverified),
                        lang=lang)
    paths = _save_map(fig, stem, save_figure)
    for path in paths:
        typer.echo(str(path))
    for note in getattr(fig, "_pilotdid_notes", []):
        typer.echo(f"* {note}")


#: Text chunk put into every map PNG, so that a later run knows the file is its own to replace.
MAP_MARK = b"pilotdid registry map"


def _is_earlier_map(path: Path) -> bool:
    """A regular file written by `registry map`: the PNG carries MAP_MARK, the PDF matplotlib's Creator entry."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            fh.seek(max(0, path.stat().st_size - 4096))
            tail = fh.read()
    except OSError:
        return False
    if path.suffix == ".png":
        return head.startswith(b"\x89PNG") and MAP_MARK in head
    return head.startswith(b"%PDF") and b"/Creator (Matplotlib" in tail


def _mark_png(path: Path) -> None:
    """Insert a tEXt chunk (keyword Software) after the PNG header chunk."""
    import struct
    import zlib

    data = path.read_bytes()
    ihdr_end = 8 + 4 + 4 + 13 + 4
    body = b"Software\x00" + MAP_MARK
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    path.write_bytes(data[:ihdr_end] + chunk + data[ihdr_end:])


def _save_map(fig, stem: Path, save_figure) -> list[Path]:
    """Draw into a hidden temporary stem beside ``stem``, then move each file into place (atomic per file)."""
    import os
    import secrets

    tmp_stem = stem.with_name(f".{stem.name}.result.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    written = []
    try:
        tmp_paths = save_figure(fig, tmp_stem, formats=("png", "pdf"))
        for tmp in tmp_paths:
            tmp = Path(tmp)
            if tmp.suffix == ".png":
                _mark_png(tmp)
            final = stem.with_name(f"{stem.name}{tmp.suffix}")
            os.replace(tmp, final)
            written.append(final)
    finally:
        for leftover in stem.parent.glob(f"{tmp_stem.name}.*"):
            leftover.unlink(missing_ok=True)
    return written
